#!/usr/bin/python3
"""Failures that heal (issue 12 point 3): the real wsgid, worker and front end
over HTTP, as mod_wsgi behaves.

- A script whose import fails (in WSGIImportScript and at each request) leaves
  the worker up: 500 and the traceback while the cause lasts, 200 from the same
  process at the first request after the cause is fixed, with no command.
- A group whose process dies before READY (os._exit at import) is retried with
  a backoff (1 s, doubling): `wsgictl status` shows BACKOFF, the cause with the
  process's last log line and the next try; its requests get 503 at once; once
  the cause is gone it comes back with no command.
- startup-retries=N (ours) gives up: FATAL after N retries, no start after
  that, even once the cause is gone, until `wsgictl start`.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/master/test_heal.py -v
(about 15 s).
"""
import os
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

# Reads a setting at import, as graphite's WSGI script does: until the file
# exists the import raises.
IMPORT_APP = """import os
with open(os.path.join(os.path.dirname(__file__), 'imp.cfg')) as f:
    GREETING = f.read().strip()


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('%d %s' % (os.getpid(), GREETING)).encode()]
"""

# Kills its process at import (no exception to catch) until MARKER exists.
CRASH_APP = """import os, sys
if not os.path.exists(os.path.join(os.path.dirname(__file__), '{marker}')):
    sys.stderr.write('{name}: {marker} is missing, exiting\\n')
    sys.stderr.flush()
    os._exit(3)


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('%d fixed' % os.getpid()).encode()]
"""

OK_APP = """import os
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [str(os.getpid()).encode()]
"""

CONFIG = '\n'.join([
    'WSGIDaemonProcess heal_imp processes=1 threads=2',
    'WSGIScriptAlias /imp {dir}/imp.wsgi process-group=heal_imp application-group=%{{GLOBAL}}',
    'WSGIImportScript {dir}/imp.wsgi process-group=heal_imp application-group=%{{GLOBAL}}',
    'WSGIDaemonProcess heal_ok threads=2',
    'WSGIScriptAlias /ok {dir}/ok.wsgi process-group=heal_ok application-group=%{{GLOBAL}}',
    'WSGIDaemonProcess heal_crash threads=2',
    'WSGIScriptAlias /crash {dir}/crash.wsgi process-group=heal_crash '
    'application-group=%{{GLOBAL}}',
    'WSGIDaemonProcess heal_fatal threads=2 startup-retries=1',
    'WSGIScriptAlias /fatal {dir}/fatal.wsgi process-group=heal_fatal '
    'application-group=%{{GLOBAL}}',
])


def process(s, group):
    return s.group(group)['processes'][0]


def starts(s, group):
    return s.log().count('group %s worker 0: started pid' % group)


class Heal(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        s = cls.s = Daemon(body=CONFIG, prefix='wsgid-heal-')
        s.write('imp.wsgi', IMPORT_APP)
        s.write('ok.wsgi', OK_APP)
        s.write('crash.wsgi', CRASH_APP.format(name='heal_crash', marker='crash.ok'))
        s.write('fatal.wsgi', CRASH_APP.format(name='heal_fatal', marker='fatal.ok'))
        cls.failed = False
        # The failing import does not keep heal_imp from RUNNING; the crashing
        # groups never get there until fixed.
        s.start(groups=['heal_imp', 'heal_ok'])

    @classmethod
    def tearDownClass(cls):
        bad = cls.s.log_problems()
        cls.s.cleanup(failed=cls.failed or bool(bad))
        assert not bad, 'log has problems:\n' + '\n'.join(bad[:20])

    def tearDown(self):
        if test_failed(self):
            type(self).failed = True

    def test_failing_import_heals_at_the_next_request(self):
        s = self.s
        script = s.path('imp.wsgi')
        pid = process(s, 'heal_imp')['pid']
        # The preload failed, was logged with its traceback, and the worker serves.
        s.wait_log("Failed to exec Python script file '%s'." % script)
        s.wait_log('serving anyway: each request to this script retries it')
        self.assertIn("FileNotFoundError: [Errno 2] No such file or directory: '%s'"
                      % s.path('imp.cfg'), s.log())
        # Each request gets 500, and loads the script again (the log says why).
        for _ in range(2):
            mark = s.log_mark()
            st, body = s.get('/imp/x')
            self.assertEqual(st, 500, body)
            s.wait_log("Failed to exec Python script file '%s'." % script, since=mark)
            s.wait_log('FileNotFoundError', since=mark)
        # The cause is fixed; no command: the next request is served by the same process.
        s.write('imp.cfg', 'healed\n')
        st, body = s.get('/imp/x')
        self.assertEqual(st, 200, body)
        self.assertEqual(body.decode(), '%d healed' % pid)
        self.assertEqual(process(s, 'heal_imp')['pid'], pid)
        self.assertEqual(process(s, 'heal_imp')['state'], 'RUNNING')
        self.assertEqual(starts(s, 'heal_imp'), 1)

    def test_crash_loop_backs_off_shows_why_and_heals(self):
        s = self.s
        # Second failure in a row: the backoff is 2 s (1 s after the first).
        wait_for(lambda: process(s, 'heal_crash')['state'] == 'BACKOFF'
                 and process(s, 'heal_crash')['start_failures'] >= 2, 20,
                 'heal_crash in BACKOFF after two failures')
        p = process(s, 'heal_crash')
        self.assertEqual(s.group('heal_crash')['state'], 'BACKOFF')
        self.assertEqual(p['last_exit'], 'exited with status 3 during start-up: '
                         'heal_crash: crash.ok is missing, exiting')
        self.assertGreater(p['next_try_in'], 0)
        self.assertLessEqual(p['next_try_in'], 2 ** (p['start_failures'] - 1))
        self.assertAlmostEqual(p['next_try_at'], time.time() + p['next_try_in'], delta=1.5)
        ok, text = s.wsgictl('status', 'heal_crash')
        self.assertFalse(ok, text)  # exit 3: not running
        self.assertIn('BACKOFF', text)
        self.assertIn('during start-up: heal_crash: crash.ok is missing', text)
        self.assertIn('next try in ', text)
        # Its requests: 503 at once, with Retry-After; the other groups serve.
        t0 = time.monotonic()
        st, headers, _ = s.request('GET', '/crash/x', timeout=10)
        self.assertEqual(st, 503)
        self.assertIn('retry-after', headers)
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(s.get('/ok/x')[0], 200)
        s.wait_log('group heal_crash worker 0: restarting in 2.00 s (2 failures in a row)')
        # The cause goes away; no command: the next try brings the group back.
        s.write('crash.ok', '')
        wait_for(lambda: process(s, 'heal_crash')['state'] == 'RUNNING', 20,
                 'heal_crash RUNNING again')
        st, body = s.get('/crash/x')
        self.assertEqual(st, 200, body)
        p = process(s, 'heal_crash')
        self.assertEqual(body.decode(), '%d fixed' % p['pid'])
        self.assertIsNone(p['next_try_in'])
        self.assertEqual([l for l in s.log().splitlines() if 'heal_crash' in l and 'FATAL' in l],
                         [])
        # A backoff, not a busy loop: a handful of starts.
        self.assertLessEqual(starts(s, 'heal_crash'), 6)

    def test_startup_retries_gives_fatal_after_n(self):
        s = self.s
        # startup-retries=1: the first start and one retry, then FATAL.
        wait_for(lambda: process(s, 'heal_fatal')['state'] == 'FATAL', 20, 'heal_fatal FATAL')
        s.wait_log('group heal_fatal worker 0: FATAL: failed to reach READY 2 times in a row')
        self.assertEqual(s.group('heal_fatal')['state'], 'FATAL')
        p = process(s, 'heal_fatal')
        self.assertIsNone(p['next_try_in'])
        self.assertTrue(p['last_exit'].startswith('exited with status 3 during start-up'),
                        p['last_exit'])
        st, headers, _ = s.request('GET', '/fatal/x', timeout=10)
        self.assertEqual(st, 503)
        # Given up for good: the fixed cause is not noticed...
        s.write('fatal.ok', '')
        time.sleep(2.5)
        self.assertEqual(process(s, 'heal_fatal')['state'], 'FATAL')
        self.assertEqual(starts(s, 'heal_fatal'), 2)
        # ... until an explicit start.
        ok, text = s.wsgictl('start', 'heal_fatal')
        self.assertTrue(ok, text)
        wait_for(lambda: process(s, 'heal_fatal')['state'] == 'RUNNING', 20,
                 'heal_fatal RUNNING after start')
        self.assertEqual(s.get('/fatal/x')[0], 200)


if __name__ == '__main__':
    unittest.main()
