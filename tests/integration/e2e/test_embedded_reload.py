"""Embedded apps reload like daemon groups (issue 12, point 4): the real wsgid
over HTTP, an app with no WSGIProcessGroup (it runs in the front end's Python,
docs/decisions.md 11), under continuous load while

  - HUP with the configuration unchanged and nothing touched: nothing happens;
  - its script is touched: the next request re-imports it, in the same front
    end process (mod_wsgi's module reloading in embedded mode);
  - HUP after the script changed (touched above; then again with
    WSGIScriptReloading Off, so that only the HUP can bring it in), HUP after
    the configuration changed,
    `wsgictl restart %{GLOBAL}` and USR2: a new front end (a new Python) takes
    over (docs/decisions.md 23);

with zero failed requests, and after each step the response shows the new code.
The app imports a helper module that no script reloading re-imports: only a new
Python shows its new value. `wsgictl status` shows the pool as %{GLOBAL}.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/e2e/test_embedded_reload.py -v
About 40 s.
"""
import os
import re
import signal
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.load import HttpLoad
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

SCRIPT = """import os
import emb_helper
SCRIPT = %r

def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('script=%%s helper=%%s pid=%%d' %% (SCRIPT, emb_helper.VALUE, os.getpid())).encode()]
"""
HELPER = "VALUE = %r\n"

BODY = """
ThreadsPerChild {threads}
WSGIPythonPath {{dir}}/lib
WSGIScriptReloading {reloading}
WSGIScriptAlias /emb {{dir}}/emb.wsgi
"""


class EmbeddedReload(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(body=self.body(), prefix='wsgid-embreload-')
        self.addCleanup(lambda: self.d.cleanup(failed=test_failed(self)))
        self.set_script('s1')
        self.set_helper('h1')
        self.d.chmod_tree()
        self.d.start()
        self.load = None

    def body(self, threads=4, reloading='On'):
        return BODY.format(threads=threads, reloading=reloading)

    def write_file(self, name, text):
        """Replaces a file as a deploy does (a new file renamed over the old
        one: a request never reads a half-written script, here as under
        mod_wsgi) with its mtime a second on, so that a change within the same
        clock tick is still a change."""
        path = self.d.path(name)
        old = os.stat(path).st_mtime_ns if os.path.exists(path) else 0
        tmp = self.d.write(name + '.new', text)
        st = os.stat(tmp)
        os.utime(tmp, ns=(st.st_atime_ns, max(st.st_mtime_ns, old) + 1000000000))
        os.replace(tmp, path)
        return path

    def set_script(self, version):
        self.write_file('emb.wsgi', SCRIPT % version)

    def set_helper(self, value):
        self.write_file(os.path.join('lib', 'emb_helper.py'), HELPER % value)

    def answer(self):
        st, body = self.d.get('/emb/')
        self.assertEqual(st, 200, body[:300])
        m = re.fullmatch(rb'script=(\S+) helper=(\S+) pid=(\d+)', body)
        self.assertTrue(m, body)
        return m.group(1).decode(), m.group(2).decode(), int(m.group(3))

    def wait_answer(self, script, helper, what):
        return wait_for(lambda: self.answer()[:2] == (script, helper) and self.answer(), 60, what)

    def replaced(self, old_pid, what):
        """Waits for a new front end (and the old one's end); checks that the
        answer comes from it. Returns its pid."""
        new = self.d.wait_frontend(not_pid=old_pid)
        wait_for(lambda: not os.path.exists('/proc/%d' % old_pid), 60, 'front end %d gone' % old_pid)
        self.assertEqual(self.answer()[2], new, what)
        return new

    def test_embedded_pool_reloads_under_load(self):
        d = self.d
        fe = d.frontend_pid()
        self.assertEqual(self.answer(), ('s1', 'h1', fe))

        # The pool has a name in status: %{GLOBAL}, the front end's process.
        st = d.status()
        self.assertEqual((st['embedded']['name'], st['embedded']['pid'], st['embedded']['threads']),
                         ('%{GLOBAL}', fe, 4))
        ok, text = d.wsgictl('status')
        self.assertTrue(ok, text)
        row = [line for line in text.splitlines() if line.startswith('%{GLOBAL}')]
        self.assertEqual(len(row), 1, text)
        self.assertEqual(row[0].split()[1:3], ['RUNNING', str(fe)], text)
        ok, text = d.wsgictl('pid', '%{GLOBAL}')
        self.assertTrue(ok and str(fe) in text, text)
        # It is restarted, never started or stopped on its own.
        ok, text = d.wsgictl('stop', '%{GLOBAL}')
        self.assertFalse(ok)
        self.assertIn("`restart %{GLOBAL}` replaces it", text)
        # Nor signalled: that would signal the front end, which serves every site.
        ok, text = d.wsgictl('signal', 'HUP', '%{GLOBAL}')
        self.assertFalse(ok)
        self.assertIn('%{GLOBAL} is the embedded pool: its threads run in the front end', text)
        self.assertEqual(d.frontend_pid(), fe)

        self.load = HttpLoad(d.port(), '/emb/load', clients=3, max_seconds=240)
        wait_for(lambda: self.load.ok >= 50, 60, 'load under way')

        # 1. HUP with nothing changed: the pool stays.
        mark = d.log_mark()
        d.signal(signal.SIGHUP)
        d.wait_log('reload: 0 added, 0 removed, 0 changed, 0 unchanged groups', since=mark)
        time.sleep(1)
        self.assertEqual(d.frontend_pid(), fe)
        self.assertNotIn('embedded pool', d.log_since(mark))

        # 2. A touched script: re-imported at the next request, same process;
        # the helper it imports is not.
        mark = d.log_mark()
        self.set_helper('h2')
        self.set_script('s2')
        self.assertEqual(self.wait_answer('s2', 'h1', 'the touched script re-imported')[2], fe)
        d.wait_log("Reloading WSGI script '%s'." % d.path('emb.wsgi'), since=mark)
        self.assertEqual(d.frontend_pid(), fe)

        # A HUP now: the script changed since the pool started, so a new
        # Python runs it, with the new helper.
        mark = d.log_mark()
        d.signal(signal.SIGHUP)
        d.wait_log("reload: embedded pool %%{GLOBAL}: script %s changed" % d.path('emb.wsgi'),
                   since=mark)
        fe = self.replaced(fe, 'HUP after a touch')
        self.assertEqual(self.answer()[:2], ('s2', 'h2'))

        # 3. HUP after the configuration changed: a new Python, the new helper.
        self.set_helper('h2b')
        time.sleep(0.5)
        self.assertEqual(self.answer()[:2], ('s2', 'h2'))  # not re-imported by anything else
        d.write_body(self.body(threads=5, reloading='Off'))
        mark = d.log_mark()
        d.signal(signal.SIGHUP)
        d.wait_log("reload: embedded pool %{GLOBAL}: the embedded pool's configuration changed",
                   since=mark)
        fe = self.replaced(fe, 'HUP, config changed')
        self.assertEqual(self.answer()[:2], ('s2', 'h2b'))
        self.assertEqual(d.status()['embedded']['threads'], 5)

        # 4. HUP after the script changed (WSGIScriptReloading Off: no
        # re-import by the request): a new Python runs the new script.
        self.set_script('s3')
        time.sleep(0.5)
        self.assertEqual(self.answer()[:2], ('s2', 'h2b'))  # Off: no module reloading
        mark = d.log_mark()
        d.signal(signal.SIGHUP)
        d.wait_log("reload: embedded pool %%{GLOBAL}: script %s changed" % d.path('emb.wsgi'),
                   since=mark)
        fe = self.replaced(fe, 'HUP, script changed')
        self.assertEqual(self.answer()[:2], ('s3', 'h2b'))

        # 5. wsgictl restart %{GLOBAL}.
        self.set_helper('h3')
        ok, text = d.wsgictl('restart', '%{GLOBAL}')
        self.assertTrue(ok, text)
        fe = self.replaced(fe, 'wsgictl restart %{GLOBAL}')
        self.assertEqual(self.answer()[:2], ('s3', 'h3'))

        # 6. USR2: every group and the embedded pool.
        self.set_helper('h4')
        d.signal(signal.SIGUSR2)
        fe = self.replaced(fe, 'USR2')
        self.assertEqual(self.answer()[:2], ('s3', 'h4'))

        # 7. wsgictl restart all.
        self.set_helper('h5')
        ok, text = d.wsgictl('restart', 'all')
        self.assertTrue(ok, text)
        fe = self.replaced(fe, 'wsgictl restart all')
        self.assertEqual(self.answer()[:2], ('s3', 'h5'))

        n = self.load.ok
        wait_for(lambda: self.load.ok >= n + 20, 60, 'load served after the last step')
        self.load.stop()
        print('   %d requests under load, %d failed %s'
              % (self.load.ok, len(self.load.failures), self.load.kinds()))
        self.assertEqual(self.load.failures, [], self.load.kinds())
        d.check_log_clean()

    def tearDown(self):
        if self.load:
            self.load.stop()


if __name__ == '__main__':
    unittest.main()
