"""Static files as Apache serves them (issue 12, point 6), over real HTTP:
mod_dir's DirectorySlash (On: 301 to the slashed URL, query kept; Off: no
redirect and no index, 403; NotFound: 404) and DirectoryIndex; core's ETag
("<size hex>-<mtime usec hex>" by default, FileETag's other forms) with
If-None-Match and If-Modified-Since -> 304, If-Match and If-Unmodified-Since
-> 412; Accept-Ranges with Range -> 206, an unsatisfiable range -> 416,
If-Range; several ranges -> 206 multipart/byteranges (read by curl), MaxRanges.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/e2e/test_static.py -v
"""
import email
import os
import re
import subprocess
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.testing import test_failed

BODY = """
Alias /static {dir}/static
<Directory {dir}/static/off>
    DirectorySlash Off
</Directory>
<Directory {dir}/static/nf>
    DirectorySlash NotFound
</Directory>
<Directory {dir}/static/noetag>
    FileETag None
</Directory>
<Directory {dir}/static/inode>
    FileETag All
</Directory>
<Directory {dir}/static/minus>
    FileETag -MTime
</Directory>
<Directory {dir}/static/max1>
    MaxRanges 1
</Directory>
<Directory {dir}/static/noranges>
    MaxRanges none
</Directory>
"""

TEXT = '0123456789abcdefghij'
OLD = 1600000000  # mtime of the served files: long ago, so their ETags are strong
LAST_MODIFIED = 'Sun, 13 Sep 2020 12:26:40 GMT'


class StaticFiles(unittest.TestCase):
    def setUp(self):
        self.s = s = Daemon(body=BODY, prefix='wsgid-static-')
        self.addCleanup(lambda: s.cleanup(failed=test_failed(self)))
        for d in ('js', 'off', 'nf', 'noetag', 'inode', 'minus', 'max1', 'noranges'):
            s.write(os.path.join('static', d, 'index.html'), '<p>%s index</p>\n' % d)
            s.write(os.path.join('static', d, 'a.txt'), TEXT)
        s.write('static/a.txt', TEXT)
        s.chmod_tree()
        for root, _, files in os.walk(s.path('static')):
            for f in files:
                os.utime(os.path.join(root, f), ns=(OLD * 10**9 + 123456789,) * 2)
        s.start()

    def req(self, path, method='GET', **headers):
        return self.s.request(method, path, headers={k.replace('_', '-'): v
                                                     for k, v in headers.items()})

    def etag_of(self, rel, inode=False, mtime=True, size=True):
        st = os.stat(self.s.path(rel))
        parts = []
        if inode:
            parts.append('%x' % st.st_ino)
        if size:
            parts.append('%x' % st.st_size)
        if mtime:
            parts.append('%x' % (st.st_mtime_ns // 1000))
        return '"%s"' % '-'.join(parts)

    def test_directory_slash(self):
        cases = [
            # path, status, Location's end ('' = none), body part
            ('/static/js', 301, '/static/js/', b''),
            ('/static/js?a=1&b', 301, '/static/js/?a=1&b', b''),
            ('/static/js/', 200, '', b'js index'),
            ('/static/off', 403, '', b''),      # DirectorySlash Off: no redirect, no index
            ('/static/off/', 200, '', b'off index'),
            ('/static/nf', 404, '', b''),       # DirectorySlash NotFound
            ('/static/nf/', 200, '', b'nf index'),
        ]
        for path, status, location, part in cases:
            with self.subTest(path=path):
                st, h, body = self.req(path)
                self.assertEqual(st, status, body[:200])
                if location:
                    # Absolute, as mod_dir's ap_construct_url makes it, and
                    # Apache's page linking it.
                    url = 'http://127.0.0.1:%d%s' % (self.s.port(), location)
                    self.assertEqual(h.get('location'), url)
                    self.assertIn(b'The document has moved <a href="%s">here</a>'
                                  % url.replace('&', '&amp;').encode(), body)
                else:
                    self.assertNotIn('location', h)
                self.assertIn(part, body)

    def test_etag_forms(self):
        cases = [
            ('/static/a.txt', self.etag_of('static/a.txt')),  # MTime Size, Apache 2.4's default
            ('/static/inode/a.txt', self.etag_of('static/inode/a.txt', inode=True)),
            ('/static/minus/a.txt', self.etag_of('static/minus/a.txt', mtime=False)),
            ('/static/noetag/a.txt', None),
        ]
        for path, etag in cases:
            with self.subTest(path=path):
                st, h, body = self.req(path)
                self.assertEqual(st, 200)
                self.assertEqual(body, TEXT.encode())
                self.assertEqual(h.get('etag'), etag)
                self.assertEqual(h['last-modified'], LAST_MODIFIED)
                self.assertEqual(h['accept-ranges'], 'bytes')

    def test_conditional_requests(self):
        etag = self.etag_of('static/a.txt')
        cases = [
            # headers, status
            ({'If-None-Match': etag}, 304),
            ({'If-None-Match': '"other", ' + etag}, 304),
            ({'If-None-Match': 'W/' + etag}, 304),   # weak comparison
            ({'If-None-Match': '*'}, 304),
            ({'If-None-Match': '"other"'}, 200),
            ({'If-None-Match': '"other"', 'If-Modified-Since': LAST_MODIFIED}, 200),
            ({'If-Modified-Since': LAST_MODIFIED}, 304),
            ({'If-Modified-Since': 'Sun, 13 Sep 2020 12:26:39 GMT'}, 200),
            ({'If-Match': etag}, 200),
            ({'If-Match': '"other"'}, 412),
            ({'If-Unmodified-Since': 'Sun, 13 Sep 2020 12:26:39 GMT'}, 412),
            ({'If-Unmodified-Since': LAST_MODIFIED}, 200),
        ]
        for headers, status in cases:
            with self.subTest(headers=headers):
                st, h, body = self.s.request('GET', '/static/a.txt', headers=headers)
                self.assertEqual(st, status, body[:200])
                if status == 304:
                    self.assertEqual(body, b'')
                    self.assertEqual(h.get('etag'), etag)
                    self.assertEqual(h.get('accept-ranges'), 'bytes')  # as Apache 2.4.71
                if status == 200:
                    self.assertEqual(body, TEXT.encode())

    def test_ranges(self):
        etag = self.etag_of('static/a.txt')
        n = len(TEXT)
        cases = [
            # headers, status, body, Content-Range
            ({'Range': 'bytes=2-5'}, 206, TEXT[2:6], 'bytes 2-5/%d' % n),
            ({'Range': 'bytes=-3'}, 206, TEXT[-3:], 'bytes %d-%d/%d' % (n - 3, n - 1, n)),
            ({'Range': 'bytes=15-'}, 206, TEXT[15:], 'bytes 15-%d/%d' % (n - 1, n)),
            # Apache's 416 page, and RFC 9110's Content-Range (Apache leaves it out).
            ({'Range': 'bytes=%d-' % n}, 416, None, 'bytes */%d' % n),
            ({'Range': 'bytes=0-1,2-5'}, 206, TEXT[0:6], 'bytes 0-5/%d' % n),  # merged: one
            ({'Range': 'bytes=0-1, 4-5'}, 200, TEXT, None),  # a space voids the header (Apache)
            ({'Range': 'bytes=2-5', 'If-Range': etag}, 206, TEXT[2:6], 'bytes 2-5/%d' % n),
            ({'Range': 'bytes=2-5', 'If-Range': '"stale"'}, 200, TEXT, None),
            ({'Range': 'bytes=2-5', 'If-Range': LAST_MODIFIED}, 206, TEXT[2:6], 'bytes 2-5/%d' % n),
        ]
        for headers, status, text, content_range in cases:
            with self.subTest(headers=headers):
                st, h, body = self.s.request('GET', '/static/a.txt', headers=headers)
                self.assertEqual(st, status, body[:200])
                if text is None:
                    self.assertIn(b'<title>416 Requested Range Not Satisfiable</title>', body)
                    self.assertEqual(h.get('content-type'), 'text/html; charset=iso-8859-1')
                else:
                    self.assertEqual(body, text.encode())
                self.assertEqual(h.get('content-range'), content_range)

    def test_multiple_ranges_with_curl(self):
        """Several ranges: 206 multipart/byteranges as Apache's byterange filter
        writes it, read by curl (-r); MaxRanges caps them."""
        url = 'http://127.0.0.1:%d' % self.s.port()
        n = len(TEXT)
        r = subprocess.run(['curl', '-s', '-D', '-', '-r', '0-1,4-5,18-', url + '/static/a.txt'],
                           capture_output=True, timeout=30, check=True)
        head, _, body = r.stdout.partition(b'\r\n\r\n')
        lines = head.decode().split('\r\n')
        self.assertEqual(lines[0], 'HTTP/1.1 206 Partial Content')
        h = {k.lower(): v for k, _, v in (l.partition(': ') for l in lines[1:])}
        m = re.fullmatch(r'multipart/byteranges; boundary=([0-9a-f]{16})', h['content-type'])
        self.assertTrue(m, h)
        b = m.group(1).encode()
        want = b''.join(b'\r\n--%s\r\nContent-type: text/plain\r\n'
                        b'Content-range: bytes %d-%d/%d\r\n\r\n%s'
                        % (b, a, z, n, TEXT[a:z + 1].encode())
                        for a, z in ((0, 1), (4, 5), (18, n - 1)))
        want += b'\r\n--%s--\r\n' % b
        self.assertEqual(body, want)
        self.assertEqual(int(h['content-length']), len(want))
        self.assertEqual(h['accept-ranges'], 'bytes')
        self.assertNotIn('content-range', h)
        # Python's email parser reads it as the multipart it is.
        msg = email.message_from_bytes(b'Content-Type: ' + h['content-type'].encode() +
                                       b'\r\n\r\n' + body)
        self.assertEqual([p.get_payload() for p in msg.get_payload()], ['01', '45', 'ij'])
        cases = [
            # path, Range, status, Accept-Ranges, body
            ('/static/max1/a.txt', 'bytes=0-1,4-5', 200, 'bytes', TEXT),  # over MaxRanges 1
            ('/static/max1/a.txt', 'bytes=0-1', 206, 'bytes', TEXT[0:2]),
            ('/static/noranges/a.txt', 'bytes=0-1', 200, 'none', TEXT),    # MaxRanges none
        ]
        for path, rng, status, accept, text in cases:
            with self.subTest(path=path, range=rng):
                st, h, body = self.req(path, Range=rng)
                self.assertEqual((st, h.get('accept-ranges'), body), (status, accept, text.encode()))


if __name__ == '__main__':
    unittest.main()
