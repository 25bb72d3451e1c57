"""End to end (issue #7): the real wsgid (master, front end, Python workers)
over HTTP on loopback, with applications nobody here wrote (two projects made
by Debian's `django-admin startproject`, a Flask app) and every setup of the
seed article (etc/examples/, tests/data/config/), each application
wrapped in wsgiref.validate (a validator assertion or WSGIWarning fails the
test: the daemon's log is checked for them). Clients: curl, Python's
http.client (keep-alive, POST bodies, chunked upload) and wrk.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/e2e/test_e2e.py -v
"""
import hashlib
import http.client
import json
import os
import re
import shutil
import subprocess
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.paths import APPS
from wsgidtest.procs import title_of
from wsgidtest.testing import test_failed

HELLO = os.path.join(APPS, 'e2e_hello.wsgi')
FLASK = os.path.join(APPS, 'flask_app.wsgi')
DJANGO_ADMIN = '/usr/bin/django-admin'

# A WSGI script per Django project: the project's own, unmodified wsgi.py,
# imported from the project dir and wrapped in wsgiref.validate.
DJANGO_WSGI = """import sys, warnings
from wsgiref.validate import WSGIWarning, validator
warnings.simplefilter('error', WSGIWarning)
sys.path.insert(0, %(dir)r)
from %(name)s.wsgi import application as django_application
application = validator(django_application)
"""
# Appended to each project's urls.py: one view answering with the settings
# module, URLconf and a marker that exists only in that project's settings.
URLS_APPEND = """
# Added by wsgid's end-to-end test: which settings does this request see?
import os as _os
from django.conf import settings as _settings
from django.http import HttpResponse as _Response


def _whoami(request):
    return _Response('%s %s %s pid=%d group=%s' % (
        _settings.SETTINGS_MODULE, _settings.ROOT_URLCONF, _settings.WSGID_E2E_MARKER,
        _os.getpid(), request.META.get('mod_wsgi.application_group')))


urlpatterns.append(path('whoami', _whoami))
"""


def curl(url, *args):
    """-> (status, body) through /usr/bin/curl."""
    r = subprocess.run(['curl', '-sS', '--max-time', '30', '-o', '-', '-w', '\n%{http_code}',
                        *args, url], capture_output=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError('curl %s failed: %s' % (url, r.stderr.decode()))
    body, _, code = r.stdout.rpartition(b'\n')
    return int(code), body


def wrk(url, seconds=2, conns=8):
    """A short bounded wrk run -> (requests, non-2xx/3xx, socket errors line or '')."""
    r = subprocess.run(['wrk', '-t2', '-c%d' % conns, '-d%ds' % seconds, '--timeout', '5s', url],
                       capture_output=True, text=True, timeout=seconds + 60)
    out = r.stdout + r.stderr
    m = re.search(r'(\d+) requests in', out)
    if r.returncode != 0 or not m:
        raise AssertionError('wrk failed:\n' + out)
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    errors = re.search(r'Socket errors: .*', out)
    return int(m.group(1)), int(non2xx.group(1)) if non2xx else 0, errors.group(0) if errors else ''


class E2ECase(unittest.TestCase):
    def system(self, body, prefix='wsgid-e2e-'):
        s = Daemon(body=body, prefix=prefix)
        self.addCleanup(self._finish, s)
        return s

    def _finish(self, s):
        failed = test_failed(self)
        s.cleanup(failed=failed)

    def assert_log_clean(self, s):
        self.assertEqual(s.log_problems(), [], 'validator assertions or alerts in the log')

    def json(self, s, path):
        st, body = curl(s.url(path))
        self.assertEqual(st, 200, body[:300])
        return json.loads(body)

    def titles(self, s, group):
        return [title_of(p) for p in s.pids(group)]


@unittest.skipUnless(os.access(DJANGO_ADMIN, os.X_OK), 'needs python3-django')
class TwoDjangoProjectsInOneDaemon(E2ECase):
    """The article's shared `default` daemon: two startproject projects under
    /project1 and /project2, one process, each project in its own
    application group (sub-interpreter) with its own settings."""

    def test_two_django_projects_share_the_default_daemon(self):
        s = self.system('\n'.join([
            'WSGIDaemonProcess default processes=1 threads=1 display-name=%{{GROUP}}',
            'WSGIProcessGroup default',
            'WSGIScriptAlias /project1 "{dir}/project1.wsgi"',
            'WSGIScriptAlias /project2 "{dir}/project2.wsgi"']))
        for name in ('project1', 'project2'):
            subprocess.run([DJANGO_ADMIN, 'startproject', name], cwd=s.dir, check=True)
            proj = s.path(name)
            with open(os.path.join(proj, name, 'settings.py'), 'a') as f:
                f.write("\nWSGID_E2E_MARKER = 'marker-of-%s'\n" % name)
            with open(os.path.join(proj, name, 'urls.py'), 'a') as f:
                f.write(URLS_APPEND)
            s.write('%s.wsgi' % name, DJANGO_WSGI % {'dir': proj, 'name': name})
        s.chmod_tree()
        s.start()
        self.assertEqual(self.titles(s, 'default'), ['(wsgi:default)'])
        pid = s.pids('default')[0]
        # curl, alternating: each project answers with ITS settings.
        for name in ('project1', 'project2', 'project1', 'project2'):
            st, body = curl(s.url('/%s/whoami' % name))
            self.assertEqual(st, 200, body[:500])
            self.assertTrue(body.decode().startswith(
                '%s.settings %s.urls marker-of-%s pid=%d group=' % (name, name, name, pid)), body)
        # Separate application groups (mod_wsgi's %{RESOURCE} default).
        groups = {n: curl(s.url('/%s/whoami' % n))[1].decode().split('group=')[1]
                  for n in ('project1', 'project2')}
        self.assertNotEqual(groups['project1'], groups['project2'])
        self.assertTrue(groups['project1'].endswith('|/project1'), groups)
        # Untouched Django pages: the admin login (its form posts back under
        # the mount point, so SCRIPT_NAME is right) and the debug 404 page
        # naming the project's URLconf.
        for name in ('project1', 'project2'):
            st, body = curl(s.url('/%s/admin/login/' % name))
            self.assertEqual(st, 200, body[:300])
            self.assertIn(b'<title>Log in | Django site admin</title>', body)
            self.assertIn(b'action="/%s/admin/login/"' % name.encode(), body)
            st, body = curl(s.url('/%s/nothing-here' % name))
            self.assertEqual(st, 404)
            self.assertIn(b'defined in <code>%s.urls</code>' % name.encode(), body)
        # http.client on one keep-alive connection, both projects.
        c = http.client.HTTPConnection('127.0.0.1', s.port(), timeout=30)
        try:
            c.connect()
            sock = c.sock
            for i in range(6):
                name = 'project%d' % (i % 2 + 1)
                c.request('GET', '/%s/whoami' % name)
                r = c.getresponse()
                body = r.read()
                self.assertEqual(r.status, 200)
                self.assertTrue(body.startswith(b'%s.settings' % name.encode()), body)
                self.assertFalse(r.will_close)
                self.assertIs(c.sock, sock, 'the connection was not kept alive')
        finally:
            c.close()
        self.assertEqual(s.pids('default'), [pid])
        self.assert_log_clean(s)


@unittest.skipUnless(os.path.exists('/usr/lib/python3/dist-packages/flask'), 'needs python3-flask')
class FlaskApp(E2ECase):
    def test_flask_with_curl_http_client_and_wrk(self):
        s = self.system('\n'.join([
            'WSGIDaemonProcess flask processes=2 threads=4 display-name=%{{GROUP}}',
            # The chunked uploads below need it (mod_wsgi's default, Off, answers 411).
            'WSGIChunkedRequest On',
            'WSGIScriptAlias /flask {dir}/flask_app.wsgi process-group=flask',
            # POSTs go to the unwrapped Flask app: with wsgi.input_terminated
            # true (as mod_wsgi sets it) Werkzeug calls wsgi.input.read() with
            # no size, which wsgiref.validate's InputWrapper refuses.
            'WSGIScriptAlias /flaskraw {dir}/flask_app.wsgi process-group=flask '
            'callable-object=app',
            # Both groups given: preloaded before the workers are READY.
            'WSGIScriptAlias /flaskpre {dir}/flask_app.wsgi process-group=flask '
            'application-group=%{{GLOBAL}}',
            'WSGIScriptAlias /hello {dir}/e2e_hello.wsgi process-group=flask']))
        shutil.copy(FLASK, s.path('flask_app.wsgi'))
        shutil.copy(HELLO, s.path('e2e_hello.wsgi'))
        s.chmod_tree()
        s.start()
        self.assertEqual(self.titles(s, 'flask'), ['(wsgi:flask)'] * 2)
        # curl: GET, a JSON POST, a multipart upload, a streamed response.
        self.assertEqual(curl(s.url('/flask/')), (200, b'Hello from Flask'))
        st, body = curl(s.url('/flaskraw/json?x=1'), '-H', 'Content-Type: application/json',
                        '--data-binary', '{"a": [1, 2, 3]}')
        self.assertEqual((st, json.loads(body)), (200, {'received': {'a': [1, 2, 3]},
                                                        'args': {'x': '1'}}))
        upload = s.write('upload.bin', 'u' * 100000)
        st, body = curl(s.url('/flaskraw/form'), '-F', 'name=wsgid', '-F', 'file=@%s' % upload)
        self.assertEqual((st, json.loads(body)), (200, {'form': {'name': 'wsgid'},
                                                        'files': {'file': 100000}}))
        self.assertEqual(curl(s.url('/flask/stream')),
                         (200, b''.join(b'line %d\n' % i for i in range(5))))
        # http.client: one keep-alive connection, POST bodies of several sizes,
        # chunked uploads, GETs between them.
        c = http.client.HTTPConnection('127.0.0.1', s.port(), timeout=30)
        try:
            c.connect()
            sock = c.sock
            for size in (0, 1, 1000, 65536, 1 << 20):
                data = os.urandom(size)
                c.request('POST', '/hello/echo', body=data,
                          headers={'Content-Type': 'application/octet-stream'})
                r = c.getresponse()
                got = json.loads(r.read())
                self.assertEqual(r.status, 200)
                self.assertEqual((got['length'], got['sha256']),
                                 (size, hashlib.sha256(data).hexdigest()))
                c.request('GET', '/flask/')
                r = c.getresponse()
                self.assertEqual((r.status, r.read()), (200, b'Hello from Flask'))
                self.assertIs(c.sock, sock, 'the connection was not kept alive')
            for size in (1, 5000, 300000):
                data = os.urandom(size)
                chunks = [data[i:i + 4096] for i in range(0, size, 4096)]
                c.request('POST', '/hello/echo', body=iter(chunks), encode_chunked=True,
                          headers={'Transfer-Encoding': 'chunked'})
                r = c.getresponse()
                got = json.loads(r.read())
                self.assertEqual(r.status, 200)
                self.assertEqual((got['length'], got['sha256']),
                                 (size, hashlib.sha256(data).hexdigest()))
                payload = json.dumps({'chunked': size}).encode()
                c.request('POST', '/flaskraw/json', body=iter([payload[:5], payload[5:]]),
                          encode_chunked=True, headers={'Content-Type': 'application/json',
                                                        'Transfer-Encoding': 'chunked'})
                r = c.getresponse()
                self.assertEqual((r.status, json.loads(r.read())),
                                 (200, {'received': {'chunked': size}, 'args': {}}))
                self.assertIs(c.sock, sock, 'the connection was not kept alive')
        finally:
            c.close()
        # wrk: a short bounded run, no error of any kind.
        n, non2xx, errors = wrk(s.url('/flaskpre/'))
        print('wrk /flaskpre/: %d requests, %d non-2xx, %s'
              % (n, non2xx, errors or 'no socket errors'))
        self.assertGreater(n, 0)
        self.assertEqual(non2xx, 0)
        self.assertEqual(errors, '')
        self.assert_log_clean(s)

    # Requests that arrive while a script is being loaded lazily (Flask takes
    # ~100 ms to import) wait for the load, as under mod_wsgi: none may get a
    # 404 "does not contain WSGI application" from a half-loaded module.
    def test_wrk_on_a_script_not_loaded_yet(self):
        s = self.system('\n'.join([
            'WSGIDaemonProcess flasklazy processes=2 threads=4 display-name=%{{GROUP}}',
            'WSGIScriptAlias /flask {dir}/flask_app.wsgi process-group=flasklazy']))
        shutil.copy(FLASK, s.path('flask_app.wsgi'))
        s.chmod_tree()
        s.start()
        n, non2xx, errors = wrk(s.url('/flask/'))
        print('wrk /flask/ (lazy load): %d requests, %d non-2xx, %s; %d "does not contain" lines'
              % (n, non2xx, errors or 'no socket errors', s.log().count('does not contain')))
        self.assertGreater(n, 0)
        self.assertEqual((non2xx, errors), (0, ''))
        self.assert_log_clean(s)


class SeedArticleSetups(E2ECase):
    """Every setup of the seed article, each started for real and answering
    over HTTP (the article's paths, with ASCII quotes)."""

    def hello_system(self, body, scripts=('hello.wsgi',)):
        s = self.system(body)
        for name in scripts:
            shutil.copy(HELLO, s.path(name))
        s.chmod_tree()
        s.start()
        return s

    def test_embedded_mode(self):
        # WSGIScriptAlias /path /path-to-wsgi: no daemon, runs in the front end.
        s = self.hello_system('WSGIScriptAlias /path {dir}/hello.wsgi')
        got = self.json(s, '/path/x')
        self.assertEqual(got['pid'], s.frontend_pid())
        self.assertEqual((got['process_group'], got['multithread'], got['multiprocess']),
                         ('', True, False))
        self.assertEqual((got['script_name'], got['path_info']), ('/path', '/x'))
        self.assert_log_clean(s)

    def test_daemon_mode(self):
        s = self.hello_system('\n'.join([
            'WSGIDaemonProcess site1 processes=1 threads=15 display-name=%{{GROUP}}',
            'WSGIProcessGroup site1',
            'WSGIScriptAlias /path {dir}/hello.wsgi']))
        self.assertEqual(self.titles(s, 'site1'), ['(wsgi:site1)'])
        got = self.json(s, '/path/')
        self.assertEqual((got['pid'], got['process_group'], got['multithread'],
                          got['multiprocess']), (s.pids('site1')[0], 'site1', True, True))
        self.assert_log_clean(s)

    def test_four_modes(self):
        # The article's table; each example is named "example" there: here
        # each has its own name and display-name=%{GROUP}.
        modes = {'winnt': ('threads=25', 1, True, False),
                 'winnt1': ('processes=1 threads=25', 1, True, True),
                 'worker': ('processes=2 threads=25', 2, True, True),
                 'prefork': ('processes=5 threads=1', 5, False, True)}
        lines = []
        for name, (opts, _, _, _) in modes.items():
            lines.append('WSGIDaemonProcess %s %s display-name=%%{{GROUP}}' % (name, opts))
            lines.append('WSGIScriptAlias /%s {dir}/hello.wsgi process-group=%s' % (name, name))
        s = self.hello_system('\n'.join(lines))
        for name, (_, n, mt, mp) in modes.items():
            self.assertEqual(self.titles(s, name), ['(wsgi:%s)' % name] * n)
            pids = set()
            for _ in range(3 * n):
                got = self.json(s, '/%s/' % name)
                self.assertEqual((got['process_group'], got['multithread'], got['multiprocess'],
                                  got['run_once']), (name, mt, mp, False), name)
                pids.add(got['pid'])
            self.assertLessEqual(pids, set(s.pids(name)), name)
        self.assert_log_clean(s)

    def test_site1_site2_with_location(self):
        # Two daemons chosen by <Location> (the article's intent: /project2's
        # block names /project2).
        s = self.hello_system('\n'.join([
            'WSGIDaemonProcess site1 processes=1 threads=1 display-name=%{{GROUP}}',
            'WSGIDaemonProcess site2 processes=1 threads=1 display-name=%{{GROUP}}',
            '<Location "/project1">', 'WSGIProcessGroup site1', '</Location>',
            'WSGIScriptAlias /project1 "{dir}/project1.wsgi"',
            '<Location "/project2">', 'WSGIProcessGroup site2', '</Location>',
            'WSGIScriptAlias /project2 "{dir}/project2.wsgi"']),
            scripts=('project1.wsgi', 'project2.wsgi'))
        for n in ('1', '2'):
            got = self.json(s, '/project%s/' % n)
            self.assertEqual((got['process_group'], got['pid'], got['script']),
                             ('site' + n, s.pids('site' + n)[0], 'project%s.wsgi' % n))
            self.assertEqual(self.titles(s, 'site' + n), ['(wsgi:site%s)' % n])
        self.assert_log_clean(s)

    def test_last_example_as_written(self):
        # The article's last example exactly (both blocks say /project1): the
        # later block wins, so /project1 runs in site2, site1 serves nothing
        # and /project2 (no process group) runs embedded in the front end.
        s = self.hello_system('\n'.join([
            'WSGIDaemonProcess site1 processes=1 threads=1 display-name=%{{GROUP}}',
            'WSGIDaemonProcess site2 processes=1 threads=1 display-name=%{{GROUP}}',
            '<Location "/project1">', 'WSGIProcessGroup site1', '</Location>',
            'WSGIScriptAlias /project1 "{dir}/project1.wsgi"',
            '<Location "/project1">', 'WSGIProcessGroup site2', '</Location>',
            'WSGIScriptAlias /project2 "{dir}/project2.wsgi"']),
            scripts=('project1.wsgi', 'project2.wsgi'))
        got = self.json(s, '/project1/')
        self.assertEqual((got['process_group'], got['pid']), ('site2', s.pids('site2')[0]))
        got = self.json(s, '/project2/')
        self.assertEqual((got['process_group'], got['pid'], got['script']),
                         ('', s.frontend_pid(), 'project2.wsgi'))
        self.assertEqual(s.group('site1')['processes'][0]['requests'] or 0, 0)  # site1 idle
        self.assertEqual([t for t in (self.titles(s, 'site1'), self.titles(s, 'site2'))],
                         [['(wsgi:site1)'], ['(wsgi:site2)']])
        self.assert_log_clean(s)


if __name__ == '__main__':
    unittest.main(verbosity=2)
