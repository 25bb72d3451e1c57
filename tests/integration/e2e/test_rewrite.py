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
- A TLS virtual host (SSLEngine on) is refused by `wsgid --check`; a
  <VirtualHost *:443> without it, on a `Listen ... http`, is plain HTTP and valid.

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


class TlsVirtualHost(unittest.TestCase):
    """Point 5: a TLS virtual host is refused, never served in the clear."""

    def check(self, text):
        with tempfile.TemporaryDirectory(prefix='wsgid-rewrite-') as d:
            conf = os.path.join(d, 'wsgid.conf')
            with open(conf, 'w') as f:
                f.write(text)
            r = subprocess.run([wsgid_binary(), '--check', '-f', conf],
                               capture_output=True, text=True, timeout=60)
            return r.returncode, r.stdout + r.stderr

    def test_sslengine_on_is_refused(self):
        rc, out = self.check('Listen 127.0.0.1:8443 http\n<VirtualHost *:8443>\n'
                             'SSLEngine on\nSSLCertificateFile /etc/ssl/certs/x.pem\n'
                             '</VirtualHost>\n')
        self.assertNotEqual(rc, 0, out)
        self.assertIn('SSLEngine is refused: Apache would serve this virtual host over TLS', out)

    def test_listen_443_without_protocol_is_refused(self):
        rc, out = self.check('Listen 443\n')
        self.assertNotEqual(rc, 0, out)

    def test_port_443_vhost_without_sslengine_is_plain_http(self):
        rc, out = self.check('Listen 127.0.0.1:443 http\n<VirtualHost *:443>\n'
                             'Header always set Strict-Transport-Security "%s"\n'
                             '</VirtualHost>\n' % HSTS)
        self.assertNotIn('error', out)


if __name__ == '__main__':
    unittest.main()
