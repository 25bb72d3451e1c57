"""unittest helpers shared by the worker integration tests."""

import os
import time
import unittest

from .harness import WorkerHarness, group_settings, make_environ

APPS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'apps')
WSGI_APP = os.path.join(APPS, 'wsgi_app.wsgi')


def wait_for(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError('timed out after %s s waiting for %s' % (timeout, what))


class WorkerTestCase(unittest.TestCase):
    """Starts workers through self.worker(...) and always cleans them up; on
    failure prints the worker logs; fails when a log has an [alert] line or a
    sanitizer report."""

    def setUp(self):
        self.harnesses = []

    def tearDown(self):
        for h in self.harnesses:
            text = h.log()
            bad = [line for line in text.splitlines()
                   if '[alert]' in line or 'AddressSanitizer' in line or 'runtime error:' in line]
            if os.environ.get('WSGID_SHOW_LOGS') == '1':
                print('--- worker log %s ---\n%s' % (h.log_path, text))
            h.close()
            if bad:
                self.fail('worker log has alert/sanitizer lines:\n' + '\n'.join(bad[:20]))

    def worker(self, group=None, start=True, **kw):
        h = WorkerHarness(group or group_settings(threads=2), **kw)
        self.harnesses.append(h)
        if start:
            h.start()
        return h

    def get(self, h, path, script=WSGI_APP, **kw):
        return h.request(make_environ(path.split('?')[0], query=path.partition('?')[2], script=script, **kw))
