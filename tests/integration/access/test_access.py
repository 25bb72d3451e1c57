"""Access control and Basic authentication (issue #11 points 1 and 2), over
HTTP against the real wsgid (master, front end, a Python worker):

- a denied <Directory>, a <FilesMatch> and a <Location> answer 403, and the
  file's bytes never appear in any response;
- `Require ip 127.0.0.2` lets a client bound to 127.0.0.2 in and keeps
  127.0.0.1 out;
- Basic auth with an htpasswd file made here by Debian's htpasswd, with a
  bcrypt (-B) and an MD5 (-m) user: 401 with WWW-Authenticate without
  credentials and with a wrong password, 200 with each right one, REMOTE_USER
  and AUTH_TYPE seen by the app, `%u` in the access log, and Authorization not
  passed to the app (WSGIPassAuthorization Off);
- Apache 2.2 rules (Order/Allow/Deny) and 2.4 rules (Require) on one path are
  both enforced, 2.2 first, as Apache 2.4.71 does (it answered each case below
  the same way): no 500.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/access/test_access.py -v
"""
import base64
import http.client
import os
import shutil
import socket
import subprocess
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

HTPASSWD = '/usr/bin/htpasswd'
SECRET = b'TOP-SECRET-7f3a9c-bytes-that-must-never-be-served'

APP = """
def application(environ, start_response):
    body = 'user=%s type=%s authz=%s' % (environ.get('REMOTE_USER'), environ.get('AUTH_TYPE'),
                                         'HTTP_AUTHORIZATION' in environ)
    if environ['REQUEST_METHOD'] == 'POST':
        n = int(environ.get('CONTENT_LENGTH') or 0)
        body += ' body=%s' % environ['wsgi.input'].read(n).decode()
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body.encode()]
"""

BODY = r"""
LogFormat "%h %u \"%r\" %>s" withuser
CustomLog {dir}/access.log withuser
WSGIDaemonProcess app processes=1 threads=2
WSGIScriptAlias /app {dir}/app/app.wsgi process-group=app application-group=%{{GLOBAL}}
Alias /static {dir}/static
<Directory {dir}/static/secret>
    Require all denied
</Directory>
<FilesMatch "\.key$">
    Require all denied
</FilesMatch>
<Location /static/loc>
    Require all denied
</Location>
<Location /app/only2>
    Require ip 127.0.0.2
</Location>
<Location /app/mixed-one>
    Order deny,allow
    Deny from all
    Allow from 127.0.0.1
    Require all granted
</Location>
<Location /app/mixed-two>
    Order allow,deny
    Allow from all
</Location>
<Location /app/mixed-two/in>
    Require ip 127.0.0.2
</Location>
<Location /app/mixed-auth>
    Order deny,allow
    Deny from all
    Allow from 127.0.0.1
    AuthType Basic
    AuthName "wsgid test"
    AuthUserFile {dir}/htpasswd
    Require valid-user
</Location>
<Location /app/private>
    AuthType Basic
    AuthName "wsgid test"
    AuthUserFile {dir}/htpasswd
    Require valid-user
</Location>
"""


def request(port, path, headers=None, source='127.0.0.1'):
    """One GET from source -> (status, headers dict, body)."""
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=30,
                                   source_address=(source, 0))
    try:
        c.request('GET', path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def basic(user, password):
    return {'Authorization': 'Basic ' + base64.b64encode(
        ('%s:%s' % (user, password)).encode()).decode()}


class AccessControl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        s = Daemon(body=BODY, prefix='wsgid-access-')
        cls.s = s
        s.write('app/app.wsgi', APP)
        for name in ('static/secret/data.txt', 'static/open/cert.key', 'static/loc/data.txt'):
            s.write(name, SECRET.decode())
        s.write('static/open/hello.txt', 'hello\n')
        htp = s.path('htpasswd')
        subprocess.run([HTPASSWD, '-c', '-b', '-B', htp, 'bcryptuser', 'bcrypt-pw'], check=True,
                       capture_output=True)
        subprocess.run([HTPASSWD, '-b', '-m', htp, 'md5user', 'md5-pw'], check=True,
                       capture_output=True)
        s.chmod_tree()
        s.start()
        cls.port = s.port()

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup(failed=getattr(cls, 'failed', False))

    def tearDown(self):
        if test_failed(self):
            type(self).failed = True

    def test_denied_sections_answer_403_and_never_the_bytes(self):
        st, _, body = request(self.port, '/static/open/hello.txt')
        self.assertEqual((st, body), (200, b'hello\n'))
        for path, why in (('/static/secret/data.txt', '<Directory>'),
                          ('/static/open/cert.key', '<FilesMatch>'),
                          ('/static/loc/data.txt', '<Location>'),
                          ('/static//secret/./data.txt', '<Directory> after normalization'),
                          ('/static/%73ecret/data.txt', '<Directory> after decoding'),
                          # Apache checks access before its 404 and mod_dir's 301: a
                          # missing file or the directory itself says nothing more.
                          ('/static/secret/missing.txt', '<Directory>, a missing file'),
                          ('/static/secret/no/such/dir', '<Directory>, a missing path'),
                          ('/static/secret', '<Directory>, the directory without its slash'),
                          ('/static/secret/', '<Directory>, the directory')):
            st, _, body = request(self.port, path)
            self.assertEqual(st, 403, why)
            self.assertNotIn(SECRET, body, why)

    def test_require_ip_by_source_address(self):
        st, _, body = request(self.port, '/app/only2', source='127.0.0.2')
        self.assertEqual(st, 200, body)
        st, _, body = request(self.port, '/app/only2', source='127.0.0.1')
        self.assertEqual(st, 403, body)
        # The rest of the app is open to 127.0.0.1.
        st, _, body = request(self.port, '/app/other')
        self.assertEqual((st, body), (200, b'user=None type=None authz=False'))

    def test_mixed_2_2_and_2_4_rules_are_both_enforced(self):
        # (path, source, credentials, Apache 2.4.71's status for the same config)
        rows = (('/app/mixed-one', '127.0.0.1', None, 200),
                ('/app/mixed-one', '127.0.0.2', None, 403),
                ('/app/mixed-two/in', '127.0.0.2', None, 200),
                ('/app/mixed-two/in', '127.0.0.1', None, 403),
                ('/app/mixed-two/other', '127.0.0.1', None, 200),
                ('/app/mixed-auth', '127.0.0.1', None, 401),
                ('/app/mixed-auth', '127.0.0.1', ('md5user', 'md5-pw'), 200),
                ('/app/mixed-auth', '127.0.0.2', None, 403),
                ('/app/mixed-auth', '127.0.0.2', ('md5user', 'md5-pw'), 403))
        for path, source, creds, want in rows:
            st, _, body = request(self.port, path, basic(*creds) if creds else None, source)
            self.assertEqual(st, want, (path, source, creds, body))

    def test_basic_auth_with_htpasswd_bcrypt_and_md5(self):
        st, h, _ = request(self.port, '/app/private')
        self.assertEqual(st, 401)
        self.assertEqual(h.get('www-authenticate'), 'Basic realm="wsgid test"')
        st, h, _ = request(self.port, '/app/private', basic('bcryptuser', 'wrong'))
        self.assertEqual(st, 401)
        self.assertEqual(h.get('www-authenticate'), 'Basic realm="wsgid test"')
        st, _, _ = request(self.port, '/app/private', basic('nobody', 'bcrypt-pw'))
        self.assertEqual(st, 401)
        for user, pw in (('bcryptuser', 'bcrypt-pw'), ('md5user', 'md5-pw')):
            st, _, body = request(self.port, '/app/private', basic(user, pw))
            self.assertEqual((st, body), (200, ('user=%s type=Basic authz=False' % user).encode()))
        log = self.s.path('access.log')

        def text():
            with open(log) as f:
                return f.read()
        wait_for(lambda: 'md5user "GET /app/private' in text(), 10, 'the user in the access log')
        self.assertIn('127.0.0.1 bcryptuser "GET /app/private HTTP/1.1" 200', text())
        self.assertIn('127.0.0.1 - "GET /app/private HTTP/1.1" 401', text())
        # As Apache's r->user: the user a wrong password was sent for is logged.
        self.assertIn('127.0.0.1 bcryptuser "GET /app/private HTTP/1.1" 401', text())
        # apr-util checked the hashes: the front end loaded it for AuthUserFile
        # (supervisor/authn/htpasswd.cc; a site without one never maps it).
        with open('/proc/%d/maps' % self.s.frontend_pid()) as f:
            self.assertIn('libaprutil-1.so', f.read())

    def test_body_and_keep_alive_survive_the_password_check(self):
        # The parser waits while the thread pool checks the password: the body
        # sent with the head, and a second request on the same connection, are
        # parsed afterwards.
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
        try:
            payload = 'x' * 100000
            c.request('POST', '/app/private', body=payload, headers=basic('md5user', 'md5-pw'))
            r = c.getresponse()
            self.assertEqual((r.status, r.read()),
                             (200, ('user=md5user type=Basic authz=False body=' + payload).encode()))
            c.request('POST', '/app/private', body='abc', headers=basic('md5user', 'bad'))
            r = c.getresponse()
            self.assertEqual(r.status, 401)
            r.read()
            c.request('GET', '/app/private', headers=basic('bcryptuser', 'bcrypt-pw'))
            r = c.getresponse()
            self.assertEqual((r.status, r.read()), (200, b'user=bcryptuser type=Basic authz=False'))
        finally:
            c.close()

    def test_log_has_no_problems(self):
        self.assertEqual(self.s.log_problems(), [])


if __name__ == '__main__':
    unittest.main(verbosity=2)
