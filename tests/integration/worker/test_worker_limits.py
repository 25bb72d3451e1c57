#!/usr/bin/python3
"""wsgid-worker's limits (issue #3; mod_wsgi's WSGIDaemonProcess options): each fires and
is logged; plus preloads, service mode and rlimits."""

import json
import os
import signal
import time
import unittest

from wsgidtest import group_settings, make_environ, under_asan
from wsgidtest.testing import APPS, WSGI_APP, WorkerTestCase
from wsgidtest.wait import wait_for


class RecycleTest(WorkerTestCase):
    def test_maximum_requests(self):
        h = self.worker(group_settings(threads=2, maximum_requests=3))
        for i in range(2):
            self.assertEqual(self.get(h, '/r%d' % i).status, 200)
        self.assertIsNone(h.read_control(0.5))  # nothing yet after 2 requests
        self.assertEqual(self.get(h, '/r3').status, 200)
        self.assertEqual(h.wait_control('REPLACE_ME', 5), {'reason': 'maximum-requests'})
        self.assertIn('maximum-requests (3) reached: asking for a replacement', h.log())
        self.assertEqual(self.get(h, '/r4').status, 200)  # serves until DRAIN
        h.drain(5)
        self.assertEqual(h.wait_exit(10), 0)

    def test_restart_interval(self):
        h = self.worker(group_settings(threads=1, restart_interval=1))
        t0 = time.monotonic()
        self.assertEqual(h.wait_control('REPLACE_ME', 10), {'reason': 'restart-interval'})
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)
        self.assertIn('restart-interval (1 s) reached: asking for a replacement', h.log())

    def test_inactivity_timeout(self):
        h = self.worker(group_settings(threads=1, inactivity_timeout=1))
        # Activity postpones it: a 0.5 s request every 0.6 s for ~2 s.
        for _ in range(3):
            self.get(h, '/sleep?s=0.5')
        self.assertNotIn('REPLACE_ME', [n for n, _ in h.control_frames])
        self.assertIsNone(h.read_control(0.3))
        self.assertEqual(h.wait_control('REPLACE_ME', 10), {'reason': 'inactivity-timeout'})
        self.assertIn('inactivity-timeout (1 s) reached: asking for a replacement', h.log())

    def test_inactivity_timeout_not_while_busy(self):
        h = self.worker(group_settings(threads=1, inactivity_timeout=1))
        r = self.get(h, '/sleep?s=2.5')
        self.assertEqual(r.status, 200)
        self.assertNotIn('REPLACE_ME', [n for n, _ in h.control_frames])


class TimeoutTest(WorkerTestCase):
    def test_request_timeout_dumps_stack_and_exits(self):
        h = self.worker(group_settings(threads=1, request_timeout=1, graceful_timeout=30))
        c = h.connect()
        c.send_request(1, make_environ('/busy', query='s=60', script=WSGI_APP))
        self.assertEqual(h.wait_control('REPLACE_ME', 10), {'reason': 'request-timeout'})
        log = wait_for(lambda: 'Python stack of the thread' in h.log() and 'time.sleep(0.05)' in h.log() and h.log(),
                       5, 'the stack dump')
        self.assertIn('request 1 (GET /busy?s=60) has run for', log)
        self.assertIn('past request-timeout (1 s x (1 + ln 1 threads) = 1.0 s): asking for a replacement', log)
        self.assertIn('request 1:   File "%s", line' % WSGI_APP, log)
        self.assertIn('in application', log)
        h.drain(1)
        self.assertEqual(h.wait_exit(10), 1)
        self.assertEqual(h.exiting(), {'reason': 'request-timeout',
                                       'detail': '1 request(s) still running when the time to finish ran out'})
        # The death is the request's own: an ERROR for it first, so the front
        # end answers 502 and does not send it to another worker.
        r = c.read_response(1)
        self.assertTrue(r.started)
        self.assertEqual(r.error, (502, 'request-timeout: the request ran too long; its worker process exits'))

    def test_request_timeout_without_drain_stops_itself(self):
        h = self.worker(group_settings(threads=1, request_timeout=1, graceful_timeout=1, shutdown_timeout=1))
        c = h.connect()
        c.send_request(1, make_environ('/busy', query='s=60', script=WSGI_APP))
        self.assertEqual(h.wait_control('REPLACE_ME', 10), {'reason': 'request-timeout'})
        self.assertEqual(h.wait_exit(15), 1)
        self.assertEqual(h.exiting()['reason'], 'request-timeout')

    def test_request_timeout_scales_with_threads(self):
        # mod_wsgi 6: request-timeout x (1 + ln threads): 1 s x (1 + ln 4) = 2.39 s.
        h = self.worker(group_settings(threads=4, request_timeout=1))
        c = h.connect()
        t0 = time.monotonic()
        c.send_request(1, make_environ('/busy', query='s=60', script=WSGI_APP))
        h.wait_control('REPLACE_ME', 10)
        self.assertGreaterEqual(time.monotonic() - t0, 2.3)
        self.assertIn('(1 s x (1 + ln 4 threads) = 2.4 s)', h.log())

    def test_deadlock_timeout(self):
        h = self.worker(group_settings(threads=2, deadlock_timeout=2))
        c = h.connect()
        c.send_request(1, make_environ('/hold_gil', query='s=30', script=WSGI_APP))
        t0 = time.monotonic()
        self.assertEqual(h.wait_exit(15), 1)
        self.assertLess(time.monotonic() - t0, 10)
        detail = 'the Python GIL was not released for 2 s (deadlock-timeout)'
        self.assertEqual(h.exiting(), {'reason': 'deadlock-timeout', 'detail': detail})
        self.assertIn(detail + ': exiting at once', h.log())

    def test_startup_timeout(self):
        h = self.worker(group_settings(threads=1, startup_timeout=1))
        c = h.connect()
        c.send_request(1, make_environ('/', script=os.path.join(APPS, 'slow_import.wsgi')))
        self.assertEqual(h.wait_exit(15), 1)
        detail = 'the WSGI script did not load within 1 s (startup-timeout)'
        self.assertEqual(h.exiting(), {'reason': 'startup-timeout', 'detail': detail})
        self.assertTrue(c.read_response(1).eof)

    def test_startup_timeout_not_after_load(self):
        h = self.worker(group_settings(threads=1, startup_timeout=1))
        self.assertEqual(self.get(h, '/sleep?s=2').status, 200)
        self.assertEqual(h.proc.poll(), None)

    def test_queue_timeout(self):
        h = self.worker(group_settings(threads=1, queue_timeout=1))
        marker_dir = h.writable_dir()
        marker = os.path.join(marker_dir, 'ran')
        old = int((time.time() - 5) * 1e6)
        c = h.connect()
        r = c.request(make_environ('/closing', query='marker=' + marker, script=WSGI_APP, request_start=old),
                      b'body the app never sees')
        self.assertEqual(r.error, (504, 'Queue timeout expired'))
        self.assertFalse(r.started)  # not run: no STARTED (the front end may resend it)
        self.assertFalse(os.path.exists(marker))
        self.assertIn("request 1: Queue timeout expired for WSGI daemon process 'testgrp': waited 5.", h.log())
        # The connection stays usable; a fresh request runs.
        r = c.request(make_environ('/closing', query='marker=' + marker, script=WSGI_APP))
        self.assertEqual(r.status, 200)
        self.assertTrue(r.started)
        wait_for(lambda: os.path.exists(marker), 5, 'the app to run')


class RlimitTest(WorkerTestCase):
    def identity(self, h):
        return json.loads(self.get(h, '/identity').body)

    @unittest.skipIf(under_asan(), 'AddressSanitizer reserves terabytes of address space: rlimits cannot be tested')
    def test_memory_limits(self):
        gib = 1 << 30
        h = self.worker(group_settings(threads=1, memory_limit=2 * gib, virtual_memory_limit=4 * gib))
        ident = self.identity(h)
        self.assertEqual(ident['rlimit_data'], [2 * gib, 2 * gib])
        self.assertEqual(ident['rlimit_as'], [4 * gib, 4 * gib])
        # The limit fires: the allocation fails, the request gets a 500 with the
        # MemoryError in the log, and the worker keeps serving.
        r = self.get(h, '/alloc?mb=3072')
        self.assertEqual(r.error, (500, 'Internal Server Error'))
        self.assertIn('request 1: MemoryError', h.log())
        self.assertEqual(self.get(h, '/alloc?mb=10').body, b'allocated 10485760')

    def test_cpu_time_limit(self):
        h = self.worker(group_settings(threads=1, cpu_time_limit=1, shutdown_timeout=2))
        self.assertEqual(self.identity(h)['rlimit_cpu'], [1, 4])
        h.write('spin.wsgi', 'import time\n'
                'def application(e, sr):\n'
                '    end = time.process_time() + 1.5\n'
                '    while time.process_time() < end: pass\n'
                '    sr("200 OK", []); return [b"spun"]\n')
        r = h.request(make_environ('/', script=h.path('spin.wsgi')))
        self.assertEqual(r.body, b'spun')
        self.assertEqual(h.wait_control('REPLACE_ME', 10), {'reason': 'cpu-time-limit'})


class PreloadTest(WorkerTestCase):
    def test_preload_before_ready(self):
        h = self.worker(start=False, group=group_settings(threads=1),
                        preload=[{'script': WSGI_APP, 'application_group': 'pre',
                                  'callable_object': 'application', 'kind': 'alias'}])
        t0 = time.time()
        h.start()
        ident = json.loads(self.get(h, '/identity', app_group='pre').body)
        self.assertLess(ident['loaded_at'], t0 + 30)
        r = json.loads(self.get(h, '/identity', app_group='pre').body)
        self.assertEqual(r['loaded_at'], ident['loaded_at'])

    def test_preload_failure_is_logged_and_heals_at_a_request(self):
        """Issue 12 point 3, as mod_wsgi: a failing WSGIImportScript is logged
        with its traceback and the worker serves; each request to the script
        loads it again (500 while it fails), so a fix serves the next one."""
        h = self.worker(start=False, group=group_settings(threads=1),
                        preload=[{'script': None, 'application_group': '', 'callable_object': 'application',
                                  'kind': 'import'}])
        h.writable_dir('heal')
        script = h.write('heal/app.wsgi', "raise ImportError('broken on purpose')\n")
        h.settings['preload'][0]['script'] = script
        h.start()  # READY despite the failed preload
        failed = "Failed to exec Python script file '%s'." % script
        self.assertIn(failed, h.log())
        self.assertIn("preload of '%s' in application group '' failed: ImportError: broken on purpose; "
                      "serving anyway: each request to this script retries it" % script, h.log())
        r = self.get(h, '/', script=script)
        self.assertEqual(r.error, (500, 'Internal Server Error'))
        wait_for(lambda: h.log().count(failed) == 2, 10, 'the request loading the script again')
        h.write('heal/app.wsgi', "def application(environ, start_response):\n"
                                 "    start_response('200 OK', [])\n"
                                 "    return [b'healed']\n")
        r = self.get(h, '/', script=script)
        self.assertEqual(r.body, b'healed')
        self.assertIsNone(h.exiting())

    def test_service_mode(self):
        h = self.worker(start=False, group=group_settings(threads=0),
                        preload=[{'script': None, 'application_group': '', 'callable_object': 'application',
                                  'kind': 'import'}])
        d = h.writable_dir('svc')
        script = os.path.join(d, 'service.py')
        with open(os.path.join(APPS, 'service.py')) as f:
            h.write('svc/service.py', f.read())
        h.write('svc/service.seconds', '1')
        h.settings['preload'][0]['script'] = script
        h.start()
        self.assertEqual(h.wait_exit(15), 0)
        self.assertEqual(h.exiting(), {'reason': 'service-script-exited', 'detail': 'service scripts returned'})
        self.assertTrue(os.path.exists(os.path.join(d, 'service.started')))

    def test_service_mode_term(self):
        h = self.worker(start=False, group=group_settings(threads=0, shutdown_timeout=5),
                        preload=[{'script': None, 'application_group': '', 'callable_object': 'application',
                                  'kind': 'import'}])
        d = h.writable_dir('svc')
        with open(os.path.join(APPS, 'service.py')) as f:
            h.write('svc/service.py', f.read())
        h.write('svc/service.seconds', '60')
        h.settings['preload'][0]['script'] = os.path.join(d, 'service.py')
        h.start()
        wait_for(lambda: os.path.exists(os.path.join(d, 'service.started')), 10, 'the service to start')
        h.signal(signal.SIGTERM)
        self.assertEqual(h.wait_exit(10), 0)
        self.assertEqual(h.exiting(), {'reason': 'shutdown', 'detail': 'signal TERM'})


if __name__ == '__main__':
    unittest.main(verbosity=2)
