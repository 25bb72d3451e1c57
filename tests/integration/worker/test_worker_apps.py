#!/usr/bin/python3
"""Real applications from Debian's packages in wsgid-worker (issue #3): Flask,
two unmodified `django-admin startproject` projects in one process (the seed
article's `default` daemon), and wsgiref.validate around them."""

import hashlib
import json
import os
import subprocess
import unittest

from wsgidtest import group_settings, make_environ
from wsgidtest.testing import APPS, WorkerTestCase

FLASK_APP = os.path.join(APPS, 'flask_app.wsgi')

VALIDATED_DJANGO = '''\
# wsgiref.validate around an unmodified startproject's application.
import os, sys, warnings
from wsgiref.validate import WSGIWarning, validator
warnings.simplefilter('error', WSGIWarning)
sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from {name}.wsgi import application as _app
application = validator(_app)
'''


class FlaskTest(WorkerTestCase):
    def test_flask_under_validator(self):
        h = self.worker(group_settings('flask', threads=4))
        for group in ('', 'localhost:8080|/flask'):
            with self.subTest(group=group):
                r = h.request(make_environ('/', script=FLASK_APP, app_group=group))
                self.assertEqual((r.status, r.body), (200, b'Hello from Flask'), h.log())
                # POSTs go to the unwrapped app: with wsgi.input_terminated true (as
                # mod_wsgi sets it) Werkzeug calls wsgi.input.read() with no size,
                # which wsgiref.validate's InputWrapper rejects: an app-side check.
                body = json.dumps({'a': [1, 2]}).encode()
                env = make_environ('/json', method='POST', query='x=1', script=FLASK_APP, body=body,
                                   app_group=group, callable_object='app',
                                   extra={'CONTENT_TYPE': 'application/json'})
                r = h.request(env, body)
                self.assertEqual(r.status, 200, h.log())
                self.assertEqual(json.loads(r.body), {'received': {'a': [1, 2]}, 'args': {'x': '1'}})
                boundary = 'XyZ'
                form = ('--XyZ\r\nContent-Disposition: form-data; name="f"\r\n\r\nvalue\r\n'
                        '--XyZ\r\nContent-Disposition: form-data; name="up"; filename="a.bin"\r\n'
                        'Content-Type: application/octet-stream\r\n\r\n' + 'q' * 100000 + '\r\n--XyZ--\r\n').encode()
                env = make_environ('/form', method='POST', script=FLASK_APP, body=form, app_group=group,
                                   callable_object='app',
                                   extra={'CONTENT_TYPE': 'multipart/form-data; boundary=' + boundary})
                r = h.request(env, form)
                self.assertEqual(json.loads(r.body), {'form': {'f': 'value'}, 'files': {'up': 100000}})
                r = h.request(make_environ('/stream', script=FLASK_APP, app_group=group))
                self.assertEqual(r.body, b''.join(b'line %d\n' % i for i in range(5)))
                r = h.request(make_environ('/missing', script=FLASK_APP, app_group=group))
                self.assertEqual(r.status, 404)
        self.assertNotIn('WSGIWarning', h.log())
        self.assertNotIn('AssertionError', h.log())


class DjangoTest(WorkerTestCase):
    def startproject(self, h, name):
        d = h.path(name)
        os.makedirs(d)
        subprocess.run(['/usr/bin/django-admin', 'startproject', name, d], check=True,
                       env={'PATH': '/usr/bin:/bin', 'HOME': h.tmp}, timeout=60)
        subprocess.run(['chmod', '-R', 'a+rX', d], check=True)
        return d

    def test_two_startprojects_in_one_process(self):
        h = self.worker(start=False, group=group_settings('default', threads=4))
        p1 = self.startproject(h, 'project1')
        p2 = self.startproject(h, 'project2')
        validated = h.write('project1/validated/app.wsgi', VALIDATED_DJANGO.format(name='project1'))
        h.group['python-path'] = [p1, p2]
        h.start()
        mounts = [('/project1', os.path.join(p1, 'project1', 'wsgi.py'), 'project1'),
                  ('/project2', os.path.join(p2, 'project2', 'wsgi.py'), 'project2')]
        for _ in range(2):  # both orders of first use are covered by repeating
            for mount, script, name in mounts:
                with self.subTest(mount=mount):
                    env = make_environ('/no-such-page', script=script, script_name=mount,
                                       app_group='localhost:8080|' + mount)
                    r = h.request(env)
                    self.assertEqual(r.status, 404, h.log()[-3000:])
                    self.assertIn(b'Using the URLconf defined in <code>%s.urls</code>' % name.encode(), r.body)
                    env = make_environ('/admin/login/', script=script, script_name=mount,
                                       app_group='localhost:8080|' + mount)
                    r = h.request(env)
                    self.assertEqual(r.status, 200)
                    self.assertIn(b'Django administration', r.body)
        # The generated wsgi.py's os.environ.setdefault() did not leak between them.
        self.assertNotIn('Traceback', h.log())
        # wsgiref.validate around a startproject finds nothing.
        for path in ('/admin/login/', '/no-such-page'):
            r = h.request(make_environ(path, script=validated, script_name='/v', app_group='validated'))
            self.assertIn(r.status, (200, 404), h.log()[-3000:])
        self.assertNotIn('WSGIWarning', h.log())
        self.assertNotIn('AssertionError', h.log())


# C extension modules, from the standard library's lib-dynload and from Debian's
# dist-packages (markupsafe comes with python3-flask): each is a shared object
# that finds the Py* symbols in the process, which wsgid-worker exports
# (docs/decisions.md 48: libpython is linked into the executable).
EXTENSIONS_APP = '''\
import ctypes, decimal, hashlib, json, lzma, bz2, sqlite3, ssl, uuid
import _ctypes, _decimal, _hashlib, _json, _lzma, _bz2, _sqlite3, _ssl, _uuid
import markupsafe, markupsafe._speedups

def application(environ, start_response):
    db = sqlite3.connect(':memory:')
    db.execute('create table t (x)')
    db.execute('insert into t values (?)', (21,))
    out = {
        'files': {m.__name__: m.__file__ for m in (_ctypes, _decimal, _hashlib, _json, _lzma, _bz2,
                                                    _sqlite3, _ssl, _uuid, markupsafe._speedups)},
        'decimal': str(decimal.Decimal('1.1') + decimal.Decimal('2.2')),
        'sha256': hashlib.sha256(b'wsgid').hexdigest(),
        'json': json.loads(json.dumps({'a': [1, 2.5, None]})),
        'sqlite': db.execute('select x * 2 from t').fetchone()[0],
        'strlen': ctypes.CDLL(None).strlen(b'wsgid'),
        'lzma': lzma.decompress(lzma.compress(b'x' * 1000)) == b'x' * 1000,
        'bz2': bz2.decompress(bz2.compress(b'y' * 1000)) == b'y' * 1000,
        'ssl': ssl.create_default_context().check_hostname,
        'uuid': len(str(uuid.uuid4())),
        'escape': str(markupsafe.escape('<a&b>')),
    }
    body = json.dumps(out).encode()
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
'''


class ExtensionModulesTest(WorkerTestCase):
    def test_c_extension_modules_load_and_work(self):
        h = self.worker(start=False, group=group_settings('ext', threads=2))
        script = h.write('ext/app.wsgi', EXTENSIONS_APP)
        h.start()
        for group in ('', 'localhost:8080|/ext'):  # the main interpreter and a sub-interpreter
            with self.subTest(group=group):
                r = h.request(make_environ('/', script=script, app_group=group))
                self.assertEqual(r.status, 200, h.log()[-3000:])
                got = json.loads(r.body)
                for name, path in got['files'].items():
                    self.assertTrue(path.endswith('.cpython-311-x86_64-linux-gnu.so'), (name, path))
                    self.assertTrue(path.startswith(('/usr/lib/python3.11/lib-dynload/',
                                                     '/usr/lib/python3/dist-packages/')), (name, path))
                self.assertEqual(got['decimal'], '3.3')
                self.assertEqual(got['sha256'], hashlib.sha256(b'wsgid').hexdigest())
                self.assertEqual(got['json'], {'a': [1, 2.5, None]})
                self.assertEqual(got['sqlite'], 42)
                self.assertEqual(got['strlen'], 5)
                self.assertTrue(got['lzma'] and got['bz2'] and got['ssl'])
                self.assertEqual(got['uuid'], 36)
                self.assertEqual(got['escape'], '&lt;a&amp;b&gt;')
        self.assertNotIn('Traceback', h.log())


if __name__ == '__main__':
    unittest.main(verbosity=2)
