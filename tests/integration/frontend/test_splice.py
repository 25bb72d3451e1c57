"""Response bodies spliced from a worker's socket to the client's (body_splice.h,
docs/decisions.md 53), or written by the worker to the client's socket itself
(a Content-Length of 128 KiB or more: protocol/PROTOCOL.md 5.6, decisions 58):
the real wsgid, `WSGIFrontendLoops 2` (each loop thread has its own pipe), real
workers, raw HTTP/1.1 clients.

Every body here is a byte pattern that tells a lost, doubled or misplaced byte
(byte i of a body is i % 251), checked whole by the client.
- large bodies, chunked and with Content-Length, on one keep-alive connection,
  then a small response on it (the frame boundary after a spliced body is
  right); /metrics counts the spliced bytes (most of them);
- a Content-Length shorter than what the application returns: exactly the
  declared bytes, and the connection serves its next request; HEAD: no body;
- a client that stops reading for a while: the body is still exact and the
  front end's memory stays bounded (what the client's socket does not take
  comes back out of the pipe and waits in the connection's buffer); a client
  with a small receive buffer that reads each of 16 keep-alive responses late;
- four clients at once over both loops, each downloading and uploading in
  turn: every body exact;
- a client that goes away in the middle, and a worker that dies in the middle:
  the front end neither hangs nor crashes, the client of the dead worker sees
  its body cut (no final chunk; with a Content-Length, the connection closed
  before its end), and the next request is served.
Bodies the worker writes (class ResponseSocket): exact on a keep-alive
connection with pipelined requests, counted in /metrics and in the access
log's %B / %O; not for chunked bodies, HEAD, or a body shorter than its
Content-Length (the connection then closes after it); a client that closes
once it has the whole body, before the worker says it is done, is logged and
counted whole; with `Timeout 2`, a
client that reads slowly for longer than Timeout gets all of it, one that stops
reading is cut after about Timeout, one that leaves frees the worker.
Request bodies (Content-Length) go the other way, client -> worker:
- bodies of several MiB on one connection, one followed by a pipelined request
  in the same write, each counted and hashed by the application; /metrics
  counts the spliced bytes (most of them);
- an application that reads slowly (the worker's socket fills) and a client
  that sends in pieces with pauses; a client that leaves in the middle.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/frontend/test_splice.py -v
"""
import hashlib
import os
import re
import socket
import threading
import time
import unittest

from wsgidtest import under_asan
from wsgidtest.daemon import Daemon
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

APP = r"""
import os
PAT = bytes(range(251)) * (((1 << 20) // 251) + 2)
def application(environ, start_response):
    q = dict(p.split('=', 1) for p in environ.get('QUERY_STRING', '').split('&') if p)
    if environ.get('PATH_INFO') == '/count':
        import hashlib, time
        h = hashlib.md5()
        n = 0
        while True:
            piece = environ['wsgi.input'].read(65536)
            if not piece:
                break
            h.update(piece)
            n += len(piece)
            if 'slow' in q:
                time.sleep(0.01)
        body = ('%d %s' % (n, h.hexdigest())).encode()
        start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
        return [body]
    if environ.get('PATH_INFO') == '/file':
        # wsgi.file_wrapper of a regular file from `skip` on; noread=1: a file
        # object whose read() fails (only sendfile(2) can send it).
        import io

        class NoRead(io.FileIO):
            def read(self, *args):
                raise AssertionError('read() of the file: the body was not sent by sendfile')
        f = (NoRead if 'noread' in q else io.FileIO)(q['path'], 'rb')
        skip = int(q.get('skip', 0))
        f.seek(skip)
        size = os.path.getsize(q['path']) - skip
        start_response('200 OK', [('Content-Type', 'application/octet-stream'), ('Content-Length', str(size))])
        return environ['wsgi.file_wrapper'](f, 8192)
    if environ.get('PATH_INFO') == '/pipe':
        # wsgi.file_wrapper of a pipe (not a regular file): read in blocks.
        import threading
        n = int(q['n'])
        r, w = os.pipe()

        def feed():
            with os.fdopen(w, 'wb') as out:
                out.write(PAT[:n] if n <= len(PAT) else (PAT[:251] * (n // 251 + 1))[:n])
        threading.Thread(target=feed, daemon=True).start()
        start_response('200 OK', [('Content-Length', str(n))])
        return environ['wsgi.file_wrapper'](os.fdopen(r, 'rb'), 8192)
    if environ.get('PATH_INFO') == '/small':
        start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '5')])
        return [b'small']
    n = int(q.get('n', 1 << 20))
    block = int(q.get('block', 1 << 20))
    exit_after = int(q.get('exit_after', 0))
    headers = [('Content-Type', 'application/octet-stream')]
    if 'length' in q:
        headers.append(('Content-Length', q['length']))
    start_response('200 OK', headers)
    def gen():
        off = 0
        i = 0
        while off < n:
            k = min(block, n - off)
            yield PAT[off % 251:off % 251 + k]
            off += k
            i += 1
            if exit_after and i == exit_after:
                os._exit(3)
        if 'pause' in q:  # after the last block: the response ends later
            import time
            time.sleep(float(q['pause']))
    return gen()
"""

BODY = """
WSGIFrontendLoops 2
Timeout {timeout}
CustomLog {dir}/access.log "%r %>s %B %O"
WSGIDaemonProcess sp_site processes=2 threads=2
WSGIScriptAlias /app {dir}/app.wsgi process-group=sp_site application-group=%{{GLOBAL}}
<Location /metrics>
  SetHandler wsgid-metrics
</Location>
"""

MIB = 1 << 20


def pattern(n):
    pat = bytes(range(251)) * ((n // 251) + 2)
    return pat[:n]


class Client:
    """One raw HTTP/1.1 connection: requests in turn, responses read exactly."""

    def __init__(self, port, timeout=60, rcvbuf=None):
        """rcvbuf: SO_RCVBUF set before connecting (a client that reads late)."""
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.s.connect(('127.0.0.1', port))
        self.buf = b''

    def close(self):
        self.s.close()

    def _more(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise EOFError('connection closed; %d bytes unread' % len(self.buf))
        self.buf += d

    def _line(self):
        while b'\r\n' not in self.buf:
            self._more()
        line, self.buf = self.buf.split(b'\r\n', 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def request(self, path, method='GET', slow=None):
        """-> (status, headers dict, body); slow(received) is called between reads."""
        self.s.sendall(b'%s %s HTTP/1.1\r\nHost: a\r\n\r\n' % (method.encode(), path.encode()))
        return self.read_response(method, slow)

    def read_response(self, method='GET', slow=None):
        status = int(self._line().split()[1])
        headers = {}
        while True:
            line = self._line()
            if not line:
                break
            k, _, v = line.partition(b':')
            headers[k.strip().lower().decode()] = v.strip().decode()
        if method == 'HEAD':
            return status, headers, b''
        parts = []
        got = 0
        if 'content-length' in headers:
            left = int(headers['content-length'])
            while left:
                if not self.buf:
                    self._more()
                piece = self.buf[:left]
                self.buf = self.buf[len(piece):]
                parts.append(piece)
                left -= len(piece)
                got += len(piece)
                if slow:
                    slow(got)
            return status, headers, b''.join(parts)
        assert headers.get('transfer-encoding') == 'chunked', headers
        while True:
            size = int(self._line().split(b';')[0], 16)
            if size == 0:
                self._line()
                return status, headers, b''.join(parts)
            parts.append(self._exact(size))
            got += size
            if slow:
                slow(got)
            self._exact(2)


def metric(daemon, name):
    st, body = daemon.get('/metrics')
    assert st == 200, st
    m = re.search(r'^%s (\d+)$' % re.escape(name), body.decode(), re.M)
    assert m, name
    return int(m.group(1))


def counted(n):
    """What /count answers for pattern(n)."""
    return b'%d %s' % (n, hashlib.md5(pattern(n)).hexdigest().encode())


def post_head(path, n, extra=b''):
    return b'POST %s HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n%s\r\n' % (path.encode(), n, extra)


class DaemonCase(unittest.TestCase):
    """A wsgid of BODY serving APP, with Timeout TIMEOUT."""
    TIMEOUT = 60

    def setUp(self):
        self.d = Daemon(body=BODY.replace('{timeout}', str(self.TIMEOUT)), prefix='wsgid-splice-')
        self.d.write('app.wsgi', APP)
        self.d.start()

    def tearDown(self):
        failed = test_failed(self)
        self.d.stop()
        self.d.cleanup(failed=failed)

    def assertPattern(self, body, n):
        self.assertEqual(len(body), n)
        if body != pattern(n):
            first = next(i for i in range(n) if body[i] != i % 251)
            self.fail('body differs from the pattern first at byte %d of %d' % (first, n))



class Splice(DaemonCase):
    def test_bodies_spliced_exact_then_the_next_request(self):
        before = metric(self.d, 'wsgid_frontend_spliced_bytes_total{direction="response"}')
        c = Client(self.d.port())
        try:
            st, h, body = c.request('/app/big?n=%d' % (8 * MIB))
            self.assertEqual((st, h.get('transfer-encoding')), (200, 'chunked'))
            self.assertPattern(body, 8 * MIB)
            n = 8 * MIB + 12345
            st, h, body = c.request('/app/big?n=%d&length=%d&block=%d' % (n, n, 300000))
            self.assertEqual((st, h.get('content-length')), (200, str(n)))
            self.assertPattern(body, n)
            st, _, body = c.request('/app/small')
            self.assertEqual((st, body), (200, b'small'))
        finally:
            c.close()
        spliced = metric(self.d, 'wsgid_frontend_spliced_bytes_total{direction="response"}') - before
        # The first frame of the chunked body is read as it arrives with the
        # head; the rest goes by splice unless the client's socket is full (it
        # is not: this client reads as fast as it can, and a socket holds
        # megabytes). The worker writes the one with a Content-Length itself.
        self.assertGreater(spliced, 6 * MIB, 'spliced %d of %d bytes' % (spliced, 8 * MIB))
        self.assertLessEqual(spliced, 8 * MIB)
        self.d.check_log_clean()

    def test_declared_length_shorter_and_head(self):
        c = Client(self.d.port())
        try:
            st, h, body = c.request('/app/big?n=%d&length=%d' % (4 * MIB, 3000001))
            self.assertEqual((st, h.get('content-length')), (200, '3000001'))
            self.assertPattern(body, 3000001)
            st, _, body = c.request('/app/small')
            self.assertEqual((st, body), (200, b'small'))
        finally:
            c.close()
        c = Client(self.d.port())
        try:
            st, h, body = c.request('/app/big?n=%d&length=%d' % (4 * MIB, 4 * MIB), method='HEAD')
            self.assertEqual((st, h.get('content-length'), body), (200, str(4 * MIB), b''))
            st, _, body = c.request('/app/small')
            self.assertEqual((st, body), (200, b'small'))
        finally:
            c.close()

    def test_a_client_that_stops_reading(self):
        fe = self.d.frontend_pid()
        peak = [0]

        def rss():
            with open('/proc/%d/status' % fe) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        return int(line.split()[1])
            return 0

        stops = (MIB, 9 * MIB)

        def slow(got):
            # Stops twice for a while: the client's socket fills and splices
            # leave bytes that go back through the connection's buffer.
            if slow.paused < len(stops) and got >= stops[slow.paused]:
                slow.paused += 1
                time.sleep(1.0)
                peak[0] = max(peak[0], rss())
        slow.paused = 0
        c = Client(self.d.port())
        try:
            st, _, body = c.request('/app/big?n=%d' % (24 * MIB), slow=slow)
            self.assertEqual(st, 200)
            self.assertPattern(body, 24 * MIB)
            self.assertEqual(slow.paused, 2)
            st, _, body = c.request('/app/small')
            self.assertEqual((st, body), (200, b'small'))
        finally:
            c.close()
        self.assertLess(peak[0], (160 if under_asan() else 40) * 1024,
                        'front end RSS peaked at %d KiB' % peak[0])
        self.d.check_log_clean()

    def test_keep_alive_responses_to_a_client_that_reads_late(self):
        # A small receive buffer and a pause before each read: the front end's
        # writes to the client stall, splices leave bytes behind and reading the
        # worker stops and starts again. Every response whole, and each worker
        # connection goes back to the pool fit for the next request (read again:
        # a response's end can arrive in the read that paused it).
        c = Client(self.d.port(), timeout=20, rcvbuf=4096)
        try:
            for i in range(16):
                n = 130000 + 4000 * i
                c.s.sendall(b'GET /app/big?n=%d&block=%d HTTP/1.1\r\nHost: a\r\n\r\n' % (n, n))
                time.sleep(0.2)
                st, _, body = c.read_response()
                self.assertEqual(st, 200)
                self.assertPattern(body, n)
        finally:
            c.close()

    def test_request_bodies_spliced_exact_and_pipelined(self):
        # On plain HTTP a group's worker now reads such bodies from the
        # client's socket itself (BODY_SOCKET, docs/decisions.md 57): neither
        # way passes them through the front end's memory.
        def bypassed():
            return (metric(self.d, 'wsgid_frontend_spliced_bytes_total{direction="request"}') +
                    metric(self.d, 'wsgid_frontend_handed_over_bytes_total'))
        before = bypassed()
        handed_before = metric(self.d, 'wsgid_frontend_handed_over_bodies_total')
        c = Client(self.d.port())
        try:
            for n in (8 * MIB + 7, 3 * MIB):
                c.s.sendall(post_head('/app/count', n) + pattern(n))
                st, _, body = c.read_response()
                self.assertEqual((st, body), (200, counted(n)))
            # A body whose next request follows in the same write: the splice
            # stops at the body's end, the next request is parsed.
            n = 2 * MIB + 3
            c.s.sendall(post_head('/app/count', n) + pattern(n) + b'GET /app/small HTTP/1.1\r\nHost: a\r\n\r\n')
            st, _, body = c.read_response()
            self.assertEqual((st, body), (200, counted(n)))
            st, _, body = c.read_response()
            self.assertEqual((st, body), (200, b'small'))
        finally:
            c.close()
        spliced = bypassed() - before
        self.assertEqual(metric(self.d, 'wsgid_frontend_handed_over_bodies_total') - handed_before, 3)
        total = 13 * MIB + 10
        # The head's read takes the body's first bytes, a resend's first 64 KiB
        # are kept (copied), the last 16 KiB go through the parser: most of the
        # rest is spliced.
        self.assertGreater(spliced, total // 2, 'spliced %d of %d bytes' % (spliced, total))
        self.assertLess(spliced, total)
        self.d.check_log_clean()

    def test_request_body_to_a_slow_reader_and_from_a_slow_sender(self):
        # The application reads slowly: the worker's socket fills, what it
        # does not take is queued, reading the client stops and starts.
        c = Client(self.d.port())
        try:
            n = 6 * MIB + 1
            c.s.sendall(post_head('/app/count?slow=1', n) + pattern(n))
            st, _, body = c.read_response()
            self.assertEqual((st, body), (200, counted(n)))
            # The client sends in pieces, with pauses: each arrives to a read
            # of the socket, then the splice takes what waits.
            n = 3 * MIB + 5
            data = post_head('/app/count', n) + pattern(n)
            for at in range(0, len(data), 700001):
                c.s.sendall(data[at:at + 700001])
                time.sleep(0.05)
            st, _, body = c.read_response()
            self.assertEqual((st, body), (200, counted(n)))
        finally:
            c.close()
        self.d.check_log_clean()

    def test_client_leaves_in_the_middle_of_a_request_body(self):
        c = Client(self.d.port())
        n = 64 * MIB
        c.s.sendall(post_head('/app/count', n) + pattern(4 * MIB))
        time.sleep(0.3)
        c.close()
        st, body = self.d.get('/app/small')
        self.assertEqual((st, body), (200, b'small'))
        c = Client(self.d.port())
        try:
            n = 5 * MIB
            c.s.sendall(post_head('/app/count', n) + pattern(n))
            st, _, body = c.read_response()
            self.assertEqual((st, body), (200, counted(n)))
        finally:
            c.close()

    def test_four_clients_at_once_over_both_loops_both_ways(self):
        errors = []

        def one(i):
            try:
                c = Client(self.d.port())
                try:
                    for k in range(3):
                        n = (3 + i) * MIB + i * 1111
                        # Chunked, or with a Content-Length (the worker writes it).
                        length = '&length=%d' % n if (i + k) % 2 else ''
                        st, _, body = c.request('/app/big?n=%d&block=%d%s' % (n, 200000 + i * 70001, length))
                        if st != 200 or body != pattern(n):
                            errors.append('client %d: status %d, %d bytes, exact: %s' % (
                                i, st, len(body), body == pattern(n)))
                        # And a body the other way, on the same connection.
                        n = (2 + i) * MIB + i * 333
                        c.s.sendall(post_head('/app/count', n) + pattern(n))
                        st, _, body = c.read_response()
                        if (st, body) != (200, counted(n)):
                            errors.append('client %d: upload of %d: %d %r' % (i, n, st, body[:80]))
                finally:
                    c.close()
            except Exception as e:  # reported below, with the others
                errors.append('client %d: %r' % (i, e))
        threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.d.check_log_clean()

    def test_client_leaves_then_worker_dies_in_the_middle(self):
        c = Client(self.d.port())
        c.s.sendall(b'GET /app/big?n=%d HTTP/1.1\r\nHost: a\r\n\r\n' % (64 * MIB))
        got = 0
        while got < 2 * MIB:
            got += len(c.s.recv(1 << 20))
        c.close()
        st, body = self.d.get('/app/small')
        self.assertEqual((st, body), (200, b'small'))
        # The worker exits after 3 blocks of 1 MiB of a 16 MiB chunked body: the
        # client's connection ends without the last chunk, soon.
        c = Client(self.d.port(), timeout=30)
        t0 = time.monotonic()
        try:
            with self.assertRaises(EOFError):
                c.request('/app/big?n=%d&exit_after=3' % (16 * MIB))
        finally:
            c.close()
        self.assertLess(time.monotonic() - t0, 25)
        wait_for(lambda: self.d.get('/app/small') == (200, b'small'), 30, 'a request served after the death')
        self.assertEqual(self.d.get('/app/small'), (200, b'small'))
        # The same with a Content-Length: the worker that dies holds the
        # client's socket; the connection ends before the declared end.
        c = Client(self.d.port(), timeout=30)
        t0 = time.monotonic()
        try:
            with self.assertRaises(EOFError):
                c.request('/app/big?n=%d&length=%d&exit_after=3' % (16 * MIB, 16 * MIB))
        finally:
            c.close()
        self.assertLess(time.monotonic() - t0, 25)
        wait_for(lambda: self.d.get('/app/small') == (200, b'small'), 30, 'a request served after the death')


class ResponseSocket(DaemonCase):
    """Bodies with a Content-Length of 128 KiB or more, written by the worker to
    the client's socket (RESPONSE_SOCKET), under `Timeout 2`."""
    TIMEOUT = 2

    def handed(self):
        return (metric(self.d, 'wsgid_frontend_handed_over_responses_total'),
                metric(self.d, 'wsgid_frontend_handed_over_response_bytes_total'))

    def access_lines(self, n):
        """The access log's lines for /app/ (the first n, once there)."""
        path = self.d.path('access.log')

        def lines():
            if not os.path.exists(path):
                return []
            with open(path) as f:
                return [line for line in f.read().splitlines() if ' /app/' in line]
        wait_for(lambda: len(lines()) >= n, 10, 'access log lines')
        return lines()

    def test_exact_pipelined_counted_and_logged(self):
        before = self.handed()
        c = Client(self.d.port())
        try:
            n = 8 * MIB + 12345
            st, h, body = c.request('/app/big?n=%d&length=%d&block=300000' % (n, n))
            self.assertEqual((st, h.get('content-length')), (200, str(n)))
            self.assertPattern(body, n)
            # Two requests in one write: the worker's body, then the front
            # end's own answer on the same connection, in order.
            m = 200 * 1024
            c.s.sendall(b'GET /app/big?n=%d&length=%d HTTP/1.1\r\nHost: a\r\n\r\n'
                        b'GET /app/small HTTP/1.1\r\nHost: a\r\n\r\n' % (m, m))
            st, _, body = c.read_response()
            self.assertEqual(st, 200)
            self.assertPattern(body, m)
            self.assertEqual(c.read_response()[::2], (200, b'small'))
            # Not handed over: a chunked body, a HEAD, a body under 128 KiB.
            st, h, body = c.request('/app/big?n=%d' % (2 * MIB))
            self.assertEqual((st, h.get('transfer-encoding'), len(body)), (200, 'chunked', 2 * MIB))
            st, h, body = c.request('/app/big?n=%d&length=%d' % (MIB, MIB), method='HEAD')
            self.assertEqual((st, h.get('content-length'), body), (200, str(MIB), b''))
            st, _, body = c.request('/app/big?n=%d&length=%d' % (100000, 100000))
            self.assertPattern(body, 100000)
        finally:
            c.close()
        after = self.handed()
        self.assertEqual((after[0] - before[0], after[1] - before[1]), (2, n + m))
        lines = self.access_lines(6)
        self.assertRegex(lines[0], r'^GET /app/big\?n=%d&length=%d&block=300000 HTTP/1.1 200 %d \d+$' % (n, n, n))
        sent = int(lines[0].split()[-1])
        self.assertTrue(n < sent < n + 300, lines[0])  # %O: the head and the body
        self.assertRegex(lines[1], r' 200 %d \d+$' % m)
        self.d.check_log_clean()

    def test_file_wrapper_by_sendfile(self):
        # mod_wsgi sends wsgi.file_wrapper's regular files with sendfile(2):
        # here the worker does, from the file to the client's socket, never
        # reading it (a file object whose read() fails is served whole).
        n = 3 * MIB + 17
        path = self.d.path('data.bin')
        with open(path, 'wb') as f:
            f.write(pattern(n))
        os.chmod(path, 0o644)
        before = self.handed()
        c = Client(self.d.port())
        try:
            st, h, body = c.request('/app/file?path=%s&noread=1' % path)
            self.assertEqual((st, h.get('content-length')), (200, str(n)))
            self.assertPattern(body, n)
            st, _, body = c.request('/app/file?path=%s&skip=%d&noread=1' % (path, 251 * 1000))
            self.assertEqual((st, len(body)), (200, n - 251 * 1000))
            self.assertPattern(body, n - 251 * 1000)
            # Not a regular file: read in blocks, as before.
            st, _, body = c.request('/app/pipe?n=%d' % (2 * MIB))
            self.assertPattern(body, 2 * MIB)
            self.assertEqual(c.request('/app/small')[::2], (200, b'small'))
        finally:
            c.close()
        after = self.handed()
        self.assertEqual((after[0] - before[0], after[1] - before[1]), (3, 2 * n - 251 * 1000 + 2 * MIB))
        self.d.check_log_clean()

    def test_a_body_shorter_than_its_content_length_closes_the_connection(self):
        c = Client(self.d.port())
        try:
            c.s.sendall(b'GET /app/big?n=200000&length=300000 HTTP/1.1\r\nHost: a\r\n\r\n')
            with self.assertRaises(EOFError):
                c.read_response()
            self.assertEqual(len(c.buf), 0)
        finally:
            c.close()
        self.assertRegex(self.access_lines(1)[0], r' 200 200000 \d+$')

    def test_a_client_that_closes_after_the_body_gets_it_logged_whole(self):
        # The client reads the whole body and closes before the worker's
        # RESPONSE_SENT comes (the application pauses after its last block):
        # the response is logged and counted as the worker wrote it, not as
        # a client gone (it was, before the front end waited for the count).
        before = self.handed()
        n = MIB + 7
        c = Client(self.d.port())
        try:
            st, _, body = c.request('/app/big?n=%d&length=%d&pause=1' % (n, n))
            self.assertEqual(st, 200)
            self.assertPattern(body, n)
        finally:
            c.close()
        self.assertRegex(self.access_lines(1)[0], r'^GET /app/big\?n=%d&length=%d&pause=1 HTTP/1.1 200 %d \d+$' % (n, n, n))
        after = self.handed()
        self.assertEqual((after[0] - before[0], after[1] - before[1]), (1, n))
        self.d.check_log_clean()

    def test_a_slow_reader_longer_than_timeout_gets_it_all(self):
        # 24 MiB read at about 4 MiB/s through a 64 KiB receive buffer: the
        # worker's writes wait on a full socket for longer than Timeout in
        # all (the kernel holds 4 MiB at most), never once that long; the
        # front end sees them move and does not cut the connection.
        n = 24 * MIB
        t0 = time.monotonic()

        def slow(got):
            ahead = got / (4 * MIB) - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
        c = Client(self.d.port(), timeout=30, rcvbuf=65536)
        try:
            st, _, body = c.request('/app/big?n=%d&length=%d' % (n, n), slow=slow)
            self.assertEqual(st, 200)
            self.assertPattern(body, n)
            self.assertGreater(time.monotonic() - t0, 5)
            self.assertEqual(c.request('/app/small')[::2], (200, b'small'))
        finally:
            c.close()
        self.d.check_log_clean()

    def test_a_client_that_stops_reading_is_cut_after_timeout(self):
        c = Client(self.d.port(), timeout=30)
        try:
            c.s.sendall(b'GET /app/big?n=%d&length=%d HTTP/1.1\r\nHost: a\r\n\r\n' % (64 * MIB, 64 * MIB))
            time.sleep(5)  # past Timeout: the worker's write gives up, the front end closes
            t0 = time.monotonic()
            got = 0
            with self.assertRaises((EOFError, ConnectionResetError)):
                while True:
                    c._more()
                    got += len(c.buf)
                    c.buf = b''
            self.assertLess(got, 64 * MIB)
            self.assertLess(time.monotonic() - t0, 10)
        finally:
            c.close()
        self.d.wait_log('timed out writing to the client (Timeout)')
        self.assertEqual(self.d.get('/app/small'), (200, b'small'))

    def test_a_client_that_leaves_frees_the_worker(self):
        for _ in range(4):  # more than the group's threads (2 processes x 2)
            c = Client(self.d.port())
            c.s.sendall(b'GET /app/big?n=%d&length=%d HTTP/1.1\r\nHost: a\r\n\r\n' % (64 * MIB, 64 * MIB))
            got = 0
            while got < MIB:
                got += len(c.s.recv(1 << 20))
            c.close()
        self.d.wait_log("client went away before the response of")
        for _ in range(4):
            self.assertEqual(self.d.get('/app/small'), (200, b'small'))


if __name__ == '__main__':
    unittest.main()
