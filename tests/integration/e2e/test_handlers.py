"""Handlers as mod_wsgi uses them (issue 11, part 3): the real wsgid over HTTP
with real workers. `Alias` + `<Location> SetHandler wsgi-script` (Keystone's
upstream layout) and `DocumentRoot` + `<Directory> AddHandler wsgi-script .wsgi`
+ `Options ExecCGI` (mod_wsgi's "Configuration Guidelines") run the script
with mod_wsgi's SCRIPT_NAME and PATH_INFO; the static files next to a script
are served, the script's source never is; `SetHandler None` under a
`WSGIScriptAlias /` serves graphite's static files; directories are never
listed. Debian's graphite-web and Keystone configs from tests/data/config/debian
pass `wsgid --check` once their users and paths are made local.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/e2e/test_handlers.py -v
"""
import json
import os
import re
import subprocess
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.paths import INTEGRATION_DIR, wsgid_binary
from wsgidtest.testing import test_failed

DEBIAN = os.path.join(os.path.dirname(INTEGRATION_DIR), "data", "config",
                      'debian')

# In every script's source, never in a response: the proof it was not sent.
MARKER = 'SOURCE-OF-THE-SCRIPT-4f1c'
APP = """# %s
import json
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'application/json')])
    keys = ('SCRIPT_NAME', 'PATH_INFO', 'SCRIPT_FILENAME', 'mod_wsgi.process_group',
            'mod_wsgi.application_group')
    return [json.dumps({k: environ.get(k) for k in keys}).encode()]
""" % MARKER


class HandlerCase(unittest.TestCase):
    def daemon(self, body, files):
        s = Daemon(body=body, prefix='wsgid-handlers-')
        self.addCleanup(lambda: s.cleanup(failed=test_failed(self)))
        for name, text in files.items():
            s.write(name, text)
        os.makedirs(s.path('www', 'sub'), exist_ok=True)
        s.chmod_tree()
        s.start()
        return s

    def environ(self, s, path):
        st, headers, body = s.request('GET', path)
        self.assertEqual(st, 200, body[:300])
        self.assertEqual(headers['content-type'], 'application/json')
        return json.loads(body)

    def assert_never_source(self, s, paths):
        for p in paths:
            for method in ('GET', 'HEAD'):
                st, _, body = s.request(method, p, headers={'Range': 'bytes=0-'})
                self.assertNotIn(MARKER.encode(), body, '%s %s -> %d' % (method, p, st))


class KeystoneAndDocumentRoot(HandlerCase):
    BODY = """
WSGIDaemonProcess keystone-public processes=1 threads=2
WSGIDaemonProcess site processes=1 threads=2
Alias /identity {dir}/bin/keystone-wsgi-public
<Location /identity>
    SetHandler wsgi-script
    Options +ExecCGI
    WSGIProcessGroup keystone-public
    WSGIApplicationGroup %{{GLOBAL}}
</Location>
DocumentRoot {dir}/www
<Directory {dir}/www>
    AddHandler wsgi-script .wsgi
    Options ExecCGI FollowSymLinks
    WSGIProcessGroup site
</Directory>
<Directory {dir}/www/noexec>
    Options -ExecCGI
</Directory>
"""

    def setUp(self):
        self.s = self.daemon(self.BODY, {
            'bin/keystone-wsgi-public': APP,
            'www/app.wsgi': APP,
            'www/noexec/app.wsgi': APP,
            'www/style.css': 'body { color: red }\n',
            'www/index.html': '<p>home</p>\n',
            'www/docs/index.html': '<p>docs</p>\n',
        })

    def test_alias_and_sethandler_run_the_script(self):
        e = self.environ(self.s, '/identity/v3/x')
        self.assertEqual((e['SCRIPT_NAME'], e['PATH_INFO']), ('/identity', '/v3/x'))
        self.assertEqual(e['SCRIPT_FILENAME'], self.s.path('bin', 'keystone-wsgi-public'))
        self.assertEqual(e['mod_wsgi.process_group'], 'keystone-public')
        self.assertEqual(e['mod_wsgi.application_group'], '')
        e = self.environ(self.s, '/identity')
        self.assertEqual((e['SCRIPT_NAME'], e['PATH_INFO']), ('/identity', ''))

    def test_documentroot_and_addhandler_run_the_script(self):
        e = self.environ(self.s, '/app.wsgi/x')
        self.assertEqual((e['SCRIPT_NAME'], e['PATH_INFO']), ('/app.wsgi', '/x'))
        self.assertEqual(e['mod_wsgi.process_group'], 'site')
        self.assertEqual(e['mod_wsgi.application_group'].split('|')[1], '/app.wsgi')

    def test_static_files_next_to_the_script_are_served(self):
        st, headers, body = self.s.request('GET', '/style.css')
        self.assertEqual((st, body), (200, b'body { color: red }\n'))
        self.assertEqual(headers['content-type'], 'text/css')
        self.assertEqual(self.s.get('/'), (200, b'<p>home</p>\n'))
        self.assertEqual(self.s.get('/docs/'), (200, b'<p>docs</p>\n'))
        self.assertEqual(self.s.get('/style.css/x')[0], 404)

    def test_directories_redirect_and_are_never_listed(self):
        st, headers, _ = self.s.request('GET', '/docs?a=1')
        self.assertEqual(st, 301)
        self.assertEqual(headers['location'], 'http://127.0.0.1:%d/docs/?a=1' % self.s.port())
        st, _, body = self.s.request('GET', '/sub/')
        self.assertEqual(st, 403)
        self.assertNotIn(b'Index of', body)

    def test_no_execcgi_is_403_and_the_source_never_appears(self):
        st, _, _ = self.s.request('GET', '/noexec/app.wsgi')
        self.assertEqual(st, 403)
        self.assert_never_source(self.s, [
            '/app.wsgi', '/app.wsgi/', '/noexec/app.wsgi', '/noexec/', '/noexec',
            '/identity', '/identity/', '/APP.WSGI', '/app.wsgi%00', '/./app.wsgi'])
        self.assertEqual(self.s.log_problems(), [])


class GraphiteLayout(HandlerCase):
    BODY = """
WSGIDaemonProcess graphite processes=1 threads=2
WSGIProcessGroup graphite
WSGIScriptAlias / {dir}/graphite.wsgi
Alias /static/ {dir}/static/
<Location "/static/">
    SetHandler None
</Location>
"""

    def test_sethandler_none_serves_the_static_files(self):
        s = self.daemon(self.BODY, {'graphite.wsgi': APP, 'static/css/graphite.css': 'g {}\n'})
        self.assertEqual(s.get('/static/css/graphite.css'), (200, b'g {}\n'))
        self.assertEqual(s.get('/static/')[0], 403)
        e = self.environ(s, '/render')
        self.assertEqual((e['SCRIPT_NAME'], e['PATH_INFO']), ('', '/render'))
        self.assertEqual(e['mod_wsgi.process_group'], 'graphite')
        self.assert_never_source(s, ['/', '/graphite.wsgi', '/static/../graphite.wsgi'])


class EmbeddedHandler(HandlerCase):
    """No process group: the script runs embedded, in the front end's Python."""
    BODY = """
DocumentRoot {dir}/www
<Directory {dir}/www>
    AddHandler wsgi-script .wsgi
    Options +ExecCGI
</Directory>
"""

    def test_addhandler_without_a_group_runs_embedded(self):
        s = self.daemon(self.BODY, {'www/app.wsgi': APP})
        e = self.environ(s, '/app.wsgi/x')
        self.assertEqual((e['SCRIPT_NAME'], e['PATH_INFO']), ('/app.wsgi', '/x'))
        self.assertEqual(e['mod_wsgi.process_group'], '')


class DebianConfigsCheck(unittest.TestCase):
    """Debian's shipped configs, verbatim but for their users and paths."""

    def check(self, name, subs, tmp):
        with open(os.path.join(DEBIAN, name)) as f:
            text = f.read()
        for old, new in subs:
            self.assertIn(old, text)
            text = text.replace(old, new)
        conf = os.path.join(tmp, name)
        with open(conf, 'w') as f:
            f.write(text)
        r = subprocess.run([wsgid_binary(), '--check', '-f', conf], capture_output=True,
                           text=True, timeout=60)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, out)
        self.assertNotIn(': error:', out)
        return out

    def test_graphite_and_keystone(self):
        import tempfile
        with tempfile.TemporaryDirectory(prefix='wsgid-debian-') as tmp:
            for p in ('graphite.wsgi', 'keystone-wsgi-public'):
                with open(os.path.join(tmp, p), 'w') as f:
                    f.write(APP)
            os.makedirs(os.path.join(tmp, 'static'))
            out = self.check('graphite-web-apache2-graphite.conf', [
                ('user=_graphite group=_graphite', 'user=nobody group=nogroup'),
                ('/usr/share/graphite-web', tmp),
                ('${APACHE_LOG_DIR}', tmp),
            ], tmp)
            self.assertNotIn('SetHandler', out)
            out = self.check('keystone-wsgi-keystone.conf', [
                ('user=keystone group=keystone', 'user=nobody group=nogroup'),
                ('/usr/local/bin', tmp),
                ('/var/log/apache2', tmp),
                ('Listen 5000', 'Listen 127.0.0.1:0'),
            ], tmp)
            self.assertNotIn('SetHandler', out)
            self.assertNotIn('ExecCGI', out)


if __name__ == '__main__':
    unittest.main()
