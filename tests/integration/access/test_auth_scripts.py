"""mod_wsgi's Python auth providers (issue #11 point 2, docs/decisions.md 26),
over HTTP against the real wsgid (master, front end, a Python worker), with a
real auth.wsgi (check_password and groups_for_user) and real access scripts:

- `AuthBasicProvider wsgi` + `WSGIAuthUserScript`: 401 with WWW-Authenticate
  without credentials, with a wrong password (False) and for an unknown user
  (None); 200 with good ones, REMOTE_USER and AUTH_TYPE seen by the app, the
  user in the access log;
- the scripts run in the front end's process (where mod_wsgi runs them: the
  Apache child), not in the daemon group, even with WSGIRestrictEmbedded On;
- `Require wsgi-group` + `WSGIAuthGroupScript`: a member gets 200, a
  non-member 403 (AuthzSendForbiddenOnFailure On) or 401 (the default);
- `WSGIAccessScript`: allow_access(environ, host) False gives 403 whatever
  the credentials, None lets the other rules decide;
- auth.wsgi edited while wsgid runs takes effect at the next request;
- check_password raising gives 500 and the traceback in the error log; a
  raising allow_access gives 403 (mod_wsgi's answer) and its traceback.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/access/test_auth_scripts.py -v
"""
import base64
import http.client
import os
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

APP = """
import os
def application(environ, start_response):
    body = 'user=%s type=%s pid=%d' % (environ.get('REMOTE_USER'), environ.get('AUTH_TYPE'),
                                       os.getpid())
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body.encode()]
"""

AUTH = """
import os

PASSWORDS = {{'alice': 'alice-pw', 'bob': '{bob}'}}
GROUPS = {{'alice': [b'staff', 'users'], 'bob': ['users']}}


def check_password(environ, user, password):
    with open(os.path.join({dir!r}, 'run', 'auth.pid'), 'w') as f:
        f.write('%d %s %s' % (os.getpid(), environ['mod_wsgi.process_group'] or '-',
                              'HTTP_AUTHORIZATION' in environ))
    if user == 'boom':
        raise RuntimeError('check_password exploded on purpose')
    if user not in PASSWORDS:
        return None
    return PASSWORDS[user] == password


def groups_for_user(environ, user):
    return GROUPS.get(user, [])
"""

ACCESS = """
def allow_access(environ, host):
    if environ.get('HTTP_X_DENY') == 'yes' or host == '127.0.0.2':
        return False
    return None
"""

BROKEN_ACCESS = """
def allow_access(environ, host):
    raise ValueError('allow_access exploded on purpose')
"""

BODY = r"""
LogFormat "%h %u \"%r\" %>s" withuser
CustomLog {dir}/access.log withuser
WSGIRestrictEmbedded On
WSGIDaemonProcess app processes=1 threads=2
WSGIScriptAlias /app {dir}/app/app.wsgi process-group=app application-group=%{{GLOBAL}}
<Location /app/private>
    AuthType Basic
    AuthName "wsgi scripts"
    AuthBasicProvider wsgi
    WSGIAuthUserScript {dir}/auth/auth.wsgi
    Require valid-user
</Location>
<Location /app/staff>
    AuthType Basic
    AuthName "wsgi scripts"
    AuthBasicProvider wsgi
    WSGIAuthUserScript {dir}/auth/auth.wsgi
    WSGIAuthGroupScript {dir}/auth/auth.wsgi
    AuthzSendForbiddenOnFailure On
    Require wsgi-group staff
</Location>
<Location /app/staff401>
    AuthType Basic
    AuthName "wsgi scripts"
    AuthBasicProvider wsgi
    WSGIAuthUserScript {dir}/auth/auth.wsgi
    WSGIAuthGroupScript {dir}/auth/auth.wsgi application-group=%{{GLOBAL}}
    Require wsgi-group staff
</Location>
<Location /app/gate>
    WSGIAccessScript {dir}/auth/access.wsgi
</Location>
<Location /app/gate/private>
    AuthType Basic
    AuthName "wsgi scripts"
    AuthBasicProvider wsgi
    WSGIAuthUserScript {dir}/auth/auth.wsgi
    Require valid-user
</Location>
<Location /app/broken-gate>
    WSGIAccessScript {dir}/auth/broken.wsgi
</Location>
"""


def request(port, path, headers=None, source='127.0.0.1'):
    """One GET from source -> (status, headers dict, body)."""
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=30, source_address=(source, 0))
    try:
        c.request('GET', path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def basic(user, password, **more):
    h = {'Authorization': 'Basic ' + base64.b64encode(
        ('%s:%s' % (user, password)).encode()).decode()}
    h.update(more)
    return h


class AuthScripts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        s = Daemon(body=BODY, prefix='wsgid-authscripts-')
        cls.s = s
        s.write('app/app.wsgi', APP)
        cls.write_auth('bob-pw')
        s.write('auth/access.wsgi', ACCESS)
        s.write('auth/broken.wsgi', BROKEN_ACCESS)
        s.write('run/.keep', '')
        s.chmod_tree()
        os.chmod(s.path('run'), 0o777)  # auth.wsgi writes auth.pid as the front end's user
        s.start()
        cls.port = s.port()

    @classmethod
    def write_auth(cls, bob):
        path = cls.s.write('auth/auth.wsgi', AUTH.format(bob=bob, dir=cls.s.dir))
        # A new mtime for certain, whatever the file system's resolution.
        t = time.time() + (2 if bob != 'bob-pw' else 0)
        os.utime(path, (t, t))

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup(failed=getattr(cls, 'failed', False))

    def tearDown(self):
        if test_failed(self):
            type(self).failed = True

    def test_check_password_true_false_none(self):
        st, h, _ = request(self.port, '/app/private')
        self.assertEqual(st, 401)
        self.assertEqual(h.get('www-authenticate'), 'Basic realm="wsgi scripts"')
        st, h, _ = request(self.port, '/app/private', basic('alice', 'wrong'))
        self.assertEqual(st, 401, 'False: 401 again')
        self.assertEqual(h.get('www-authenticate'), 'Basic realm="wsgi scripts"')
        st, _, _ = request(self.port, '/app/private', basic('nobody', 'x'))
        self.assertEqual(st, 401, 'None: user unknown, 401')
        st, _, body = request(self.port, '/app/private', basic('alice', 'alice-pw'))
        self.assertEqual(st, 200, body)
        self.assertTrue(body.startswith(b'user=alice type=Basic pid='), body)
        log = self.s.path('access.log')

        def text():
            with open(log) as f:
                return f.read()
        wait_for(lambda: '127.0.0.1 alice "GET /app/private HTTP/1.1" 200' in text(), 10,
                 'the user in the access log')

    def test_scripts_run_in_the_front_end_not_in_the_group(self):
        st, _, body = request(self.port, '/app/private', basic('alice', 'alice-pw'))
        self.assertEqual(st, 200, body)
        app_pid = int(body.split(b'pid=')[1])
        with open(self.s.path('run', 'auth.pid')) as f:
            pid, group, authz = f.read().split()
        self.assertEqual(int(pid), self.s.frontend_pid())
        self.assertNotEqual(int(pid), app_pid)
        self.assertEqual(group, '-', "mod_wsgi.process_group is ''")
        self.assertEqual(authz, 'False', 'the script never sees the Authorization header')

    def test_require_wsgi_group(self):
        st, _, body = request(self.port, '/app/staff', basic('alice', 'alice-pw'))
        self.assertEqual(st, 200, body)
        self.assertTrue(body.startswith(b'user=alice type=Basic'), body)
        st, _, _ = request(self.port, '/app/staff', basic('bob', 'bob-pw'))
        self.assertEqual(st, 403, 'not in the group, AuthzSendForbiddenOnFailure On')
        st, h, _ = request(self.port, '/app/staff401', basic('bob', 'bob-pw'))
        self.assertEqual(st, 401, 'not in the group: 401 by default, as Apache')
        self.assertEqual(h.get('www-authenticate'), 'Basic realm="wsgi scripts"')
        st, _, _ = request(self.port, '/app/staff401', basic('alice', 'alice-pw'))
        self.assertEqual(st, 200)

    def test_allow_access(self):
        st, _, body = request(self.port, '/app/gate/x')
        self.assertEqual(st, 200, 'None: no other rule, granted')
        self.assertTrue(body.startswith(b'user=None'), body)
        st, _, _ = request(self.port, '/app/gate/x', source='127.0.0.2')
        self.assertEqual(st, 403, 'False for this host')
        st, _, _ = request(self.port, '/app/gate/x', {'X-Deny': 'yes'})
        self.assertEqual(st, 403, 'False from the environ')
        # allow_access runs before authentication: good credentials do not help.
        st, _, _ = request(self.port, '/app/gate/private', basic('alice', 'alice-pw', **{'X-Deny': 'yes'}))
        self.assertEqual(st, 403)
        st, _, _ = request(self.port, '/app/gate/private')
        self.assertEqual(st, 401, 'None: Require valid-user decides')
        st, _, _ = request(self.port, '/app/gate/private', basic('alice', 'alice-pw'))
        self.assertEqual(st, 200)

    def test_edited_script_takes_effect(self):
        st, _, _ = request(self.port, '/app/private', basic('bob', 'bob-pw'))
        self.assertEqual(st, 200)
        try:
            self.write_auth('bob-new-pw')
            st, _, _ = request(self.port, '/app/private', basic('bob', 'bob-pw'))
            self.assertEqual(st, 401, 'the old password no longer works')
            st, _, _ = request(self.port, '/app/private', basic('bob', 'bob-new-pw'))
            self.assertEqual(st, 200, 'the new one does')
        finally:
            self.write_auth('bob-pw')
        st, _, _ = request(self.port, '/app/private', basic('bob', 'bob-pw'))
        self.assertEqual(st, 200)

    def test_raising_scripts_log_the_traceback(self):
        mark = self.s.log_mark()
        st, _, _ = request(self.port, '/app/private', basic('boom', 'x'))
        self.assertEqual(st, 500, 'check_password raised: AUTH_GENERAL_ERROR')
        self.s.wait_log('RuntimeError: check_password exploded on purpose', since=mark)
        log = self.s.log_since(mark)
        self.assertIn('Traceback (most recent call last):', log)
        self.assertIn('auth.wsgi", line', log)
        mark = self.s.log_mark()
        st, _, _ = request(self.port, '/app/broken-gate/x')
        self.assertEqual(st, 403, "allow_access raised: mod_wsgi's 403")
        self.s.wait_log('ValueError: allow_access exploded on purpose', since=mark)

    def test_log_has_no_problems(self):
        self.assertEqual(self.s.log_problems(), [])


if __name__ == '__main__':
    unittest.main(verbosity=2)
