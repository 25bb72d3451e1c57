"""Redirects, rewrites and header rules over HTTP (issue 11 points 4 and 5):
the real wsgid (master, front end, a Python worker) on loopback.

- Debian's openstack-dashboard-ssl-redirect.conf idiom, its mod_rewrite lines
  taken verbatim from tests/data/config/debian/: every request is redirected to
  https://HOST/path?query, and the application never runs.
- `RewriteRule ^/secret - [F]` answers 403 and the application never runs;
  `Redirect permanent /old /new` answers 301 with Apache's Location;
  `Header always set Strict-Transport-Security` is on the application's 200
  and on the front end's own 404; `RequestHeader set X-Forwarded-Proto https`
  reaches the application as HTTP_X_FORWARDED_PROTO.
- `Redirect` inside <Location> and <Directory>, as mod_alias runs it there (each
  case answered the same by Apache 2.4.71): a <Location>'s `Redirect 301 URL`
  before access control, a <Directory>'s and a URL-path form after it.
- `Header` and `RequestHeader` in <Directory>, <Files> and <FilesMatch> edit
  the responses served from their files: a static file and a WSGI script.
- TRACE is answered by the front end as Apache's core does: 200 with the
  request echoed (TraceEnable On, the default), 405 with TraceEnable Off (per
  virtual host), 413 with a body; the application never sees it, even under a
  denied <Location>.
- A TLS virtual host (SSLEngine on) on a plain `Listen` is refused by `wsgid
  --check`, and so is a TLS Listen without a certificate (tests/integration/tls
  serves TLS); a <VirtualHost *:443> on a `Listen ... http` is plain HTTP and valid.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/e2e/test_rewrite.py -v
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.paths import APPS, wsgid_binary
from wsgidtest.testing import test_failed

APP = os.path.join(APPS, 'rewrite_app.wsgi')
DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    'data', 'config', 'debian')
HSTS = 'max-age=63072000'


class RewriteCase(unittest.TestCase):
    def system(self, body):
        s = Daemon(body=body, prefix='wsgid-rewrite-')
        self.addCleanup(lambda: s.cleanup(failed=test_failed(self)))
        shutil.copy(APP, s.path('rewrite_app.wsgi'))
        s.chmod_tree()
        s.start()
        return s

    def ran_for(self, s, path):
        return ('rewrite_app ran for %s' % path) in s.log()

    def test_openstack_dashboard_ssl_redirect_idiom(self):
        with open(os.path.join(DATA, 'openstack-dashboard-ssl-redirect.conf')) as f:
            rules = [line.strip() for line in f if line.strip().startswith('Rewrite')]
        self.assertEqual(len(rules), 3, rules)
        rules = [r.replace('{', '{{').replace('}', '}}') for r in rules]  # Daemon's format()
        s = self.system('\n'.join(rules + [
            'WSGIDaemonProcess rw processes=1 threads=2',
            'WSGIScriptAlias / {dir}/rewrite_app.wsgi process-group=rw']))
        host = 'dashboard.example.org'
        for path in ('/horizon/auth/login/?next=/horizon/', '/', '/a%20b'):
            st, headers, body = s.request('GET', path, headers={'Host': host})
            self.assertEqual(st, 302, body[:300])
            self.assertEqual(headers.get('location'), 'https://%s%s' % (host, path))
        # With a port in Host, %{HTTP_HOST} keeps it.
        st, headers, _ = s.request('GET', '/x?y=1', headers={'Host': 'h:8080'})
        self.assertEqual((st, headers.get('location')), (302, 'https://h:8080/x?y=1'))
        self.assertNotIn('rewrite_app ran', s.log())
        self.assertEqual(s.log_problems(), [])

    def test_forbid_redirect_and_header_rules(self):
        s = self.system('\n'.join([
            'RewriteEngine On',
            'RewriteRule ^/secret - [F]',
            'Redirect permanent /old /new',
            'Header always set Strict-Transport-Security "%s"' % HSTS,
            'RequestHeader set X-Forwarded-Proto https',
            'WSGIDaemonProcess rw processes=1 threads=2',
            'WSGIScriptAlias /app {dir}/rewrite_app.wsgi process-group=rw',
            'WSGIScriptAlias /secret {dir}/rewrite_app.wsgi process-group=rw']))
        # The application's 200: HSTS, and the RequestHeader in its environ.
        st, headers, body = s.request('GET', '/app/page?q=1',
                                      headers={'X-Forwarded-Proto': 'http'})
        self.assertEqual(st, 200, body[:300])
        self.assertEqual(headers.get('strict-transport-security'), HSTS)
        self.assertEqual(json.loads(body), {'path': '/app/page', 'query': 'q=1',
                                            'x_forwarded_proto': 'https'})
        # The front end's own 404 carries the `always` header too.
        st, headers, _ = s.request('GET', '/nothing/here')
        self.assertEqual(st, 404)
        self.assertEqual(headers.get('strict-transport-security'), HSTS)
        # [F]: 403, and the script mounted there never runs.
        for path in ('/secret', '/secret/file', '/secretive'):
            st, headers, body = s.request('GET', path)
            self.assertEqual(st, 403, path)
            self.assertEqual(headers.get('strict-transport-security'), HSTS)
            self.assertIn(b'Forbidden', body)
        self.assertFalse(self.ran_for(s, '/secret'), 'the application ran for a forbidden path')
        # Redirect permanent: 301, the rest of the path and the query kept.
        st, headers, _ = s.request('GET', '/old/page?x=1')
        self.assertEqual(st, 301)
        self.assertEqual(headers.get('location'),
                         'http://127.0.0.1:%d/new/page?x=1' % s.port())
        st, headers, _ = s.request('GET', '/old', headers={'Host': 'www.example.org'})
        self.assertEqual((st, headers.get('location')),
                         (301, 'http://www.example.org:%d/new' % s.port()))
        self.assertTrue(self.ran_for(s, '/app/page'))
        self.assertEqual(s.log_problems(), [])


class SectionHeaders(RewriteCase):
    def test_header_in_directory_and_files(self):
        s = Daemon(body='\n'.join([
            'WSGIDaemonProcess rw processes=1 threads=2',
            'WSGIScriptAlias /app {dir}/wsgi/rewrite_app.wsgi process-group=rw',
            'Alias /static {dir}/static',
            '<Directory {dir}/static>',
            '    Require all granted',
            '    Header set X-Static-Dir yes',
            '    <FilesMatch "\\.css$">',
            '        Header set Cache-Control "max-age=600"',
            '    </FilesMatch>',
            '</Directory>',
            '<Directory {dir}/wsgi>',
            '    Header always set X-Script-Dir yes',
            '    RequestHeader set X-Forwarded-Proto https',
            '</Directory>',
            '<Files other.txt>',
            '    Header set X-Other yes',
            '</Files>']), prefix='wsgid-rewrite-')
        self.addCleanup(lambda: s.cleanup(failed=test_failed(self)))
        os.makedirs(s.path('wsgi'))
        shutil.copy(APP, s.path('wsgi/rewrite_app.wsgi'))
        s.write('static/a.css', 'a {}\n')
        s.write('static/b.txt', 'b\n')
        s.write('static/other.txt', 'o\n')
        s.chmod_tree()
        s.start()
        st, h, _ = s.request('GET', '/static/a.css')
        self.assertEqual((st, h.get('x-static-dir'), h.get('cache-control')), (200, 'yes', 'max-age=600'))
        st, h, _ = s.request('GET', '/static/b.txt')
        self.assertEqual((st, h.get('x-static-dir'), h.get('cache-control')), (200, 'yes', None))
        st, h, _ = s.request('GET', '/static/other.txt')
        self.assertEqual((st, h.get('x-other')), (200, 'yes'))
        self.assertIsNone(h.get('x-script-dir'))
        # The script's directory: its response header, and the request header in its environ.
        st, h, body = s.request('GET', '/app/x')
        self.assertEqual((st, h.get('x-script-dir')), (200, 'yes'), body[:300])
        self.assertEqual(json.loads(body)['x_forwarded_proto'], 'https')
        self.assertIsNone(h.get('x-static-dir'))
        self.assertEqual(s.log_problems(), [])


class SectionRedirects(RewriteCase):
    def test_redirect_in_location_and_directory(self):
        s = Daemon(body='\n'.join([
            'Alias /static {dir}/static',
            '<Directory {dir}/static>',
            '    Require all granted',
            '</Directory>',
            '<Location /static/sub>',
            '    Require all denied',
            '    Redirect 301 https://new.example/',
            '</Location>',
            '<Location /static/d2>',
            '    Require all denied',
            '    Redirect /static/d2 https://list.example/d2',
            '</Location>',
            '<Directory {dir}/static/den>',
            '    Require all denied',
            '    Redirect https://dir.example/x',
            '</Directory>',
            '<Directory {dir}/static/dd>',
            '    Redirect permanent https://dd.example%{{REQUEST_URI}}',
            '</Directory>',
            '<Location /static/dd>',
            '    Redirect /static/dd/f.txt https://loc-list.example/',
            '</Location>',
            '<Location /static/gone>',
            '    Redirect gone',
            '</Location>']), prefix='wsgid-rewrite-')
        self.addCleanup(lambda: s.cleanup(failed=test_failed(self)))
        for name in ('sub/f.txt', 'd2/g.txt', 'den/f.txt', 'dd/f.txt', 'gone/f.txt'):
            s.write('static/' + name, 'x\n')
        s.chmod_tree()
        s.start()
        rows = (('/static/sub/f.txt?q=1', 301, 'https://new.example/?q=1'),
                ('/static/d2/g.txt', 403, None),
                ('/static/den/f.txt', 403, None),
                ('/static/dd/f.txt?a=b', 301, 'https://dd.example/static/dd/f.txt?a=b'),
                ('/static/gone/f.txt', 410, None))
        for path, status, location in rows:
            st, h, body = s.request('GET', path)
            self.assertEqual((st, h.get('location')), (status, location), (path, body[:200]))
        self.assertEqual(s.log_problems(), [])


class Trace(RewriteCase):
    def test_trace_on_by_default_off_per_vhost(self):
        s = self.system('\n'.join([
            'WSGIDaemonProcess rw processes=1 threads=2',
            'WSGIScriptAlias / {dir}/rewrite_app.wsgi process-group=rw',
            '<Location /denied>',
            '    Require all denied',
            '</Location>',
            '<VirtualHost *:*>',
            '    ServerName notrace.example',
            '    TraceEnable Off',
            '    WSGIScriptAlias / {dir}/rewrite_app.wsgi process-group=rw',
            '</VirtualHost>',
            '<VirtualHost *:*>',
            '    ServerName trace.example',
            '    WSGIScriptAlias / {dir}/rewrite_app.wsgi process-group=rw',
            '</VirtualHost>']))
        for path in ('/x', '/denied/x'):
            st, h, body = s.request('TRACE', path, headers={'Host': 'trace.example', 'X-A': '1'})
            self.assertEqual(st, 200, body)
            self.assertEqual(h.get('content-type'), 'message/http')
            self.assertTrue(body.startswith(('TRACE %s HTTP/1.1\r\n' % path).encode()), body)
            self.assertIn(b'\r\nX-A: 1\r\n', body)
            self.assertTrue(body.endswith(b'\r\n\r\n'), body)
        st, _, _ = s.request('TRACE', '/x', headers={'Host': 'notrace.example'})
        self.assertEqual(st, 405)
        st, _, _ = s.request('TRACE', '/x', body=b'abc', headers={'Host': 'trace.example'})
        self.assertEqual(st, 413)
        self.assertNotIn('rewrite_app ran', s.log())
        # Other methods still reach the application.
        st, _, _ = s.request('GET', '/x', headers={'Host': 'notrace.example'})
        self.assertEqual(st, 200)
        self.assertEqual(s.log_problems(), [])


class TlsVirtualHost(unittest.TestCase):
    """Point 5: a TLS virtual host is never served in the clear."""

    def check(self, text):
        with tempfile.TemporaryDirectory(prefix='wsgid-rewrite-') as d:
            conf = os.path.join(d, 'wsgid.conf')
            with open(conf, 'w') as f:
                f.write(text)
            r = subprocess.run([wsgid_binary(), '--check', '-f', conf],
                               capture_output=True, text=True, timeout=60)
            return r.returncode, r.stdout + r.stderr

    def test_sslengine_on_a_plain_listen_is_refused(self):
        rc, out = self.check('Listen 127.0.0.1:8443 http\n<VirtualHost *:8443>\n'
                             'SSLEngine on\nSSLCertificateFile /etc/ssl/certs/x.pem\n'
                             '</VirtualHost>\n')
        self.assertNotEqual(rc, 0, out)
        self.assertIn('SSLEngine on for this <VirtualHost>, but its Listen 127.0.0.1:8443 is '
                      'plain HTTP', out)

    def test_listen_443_without_protocol_is_tls_and_needs_a_certificate(self):
        rc, out = self.check('Listen 443\n')
        self.assertNotEqual(rc, 0, out)
        self.assertIn('the main server should be SSL-aware but has no certificate configured', out)

    def test_port_443_vhost_without_sslengine_is_plain_http(self):
        rc, out = self.check('Listen 127.0.0.1:443 http\n<VirtualHost *:443>\n'
                             'Header always set Strict-Transport-Security "%s"\n'
                             '</VirtualHost>\n' % HSTS)
        self.assertNotIn('error', out)


if __name__ == '__main__':
    unittest.main()
