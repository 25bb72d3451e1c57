"""unittest helpers shared by the worker integration tests."""

import atexit
import os
import shutil
import tempfile
import time
import unittest

from .harness import WorkerHarness, group_settings, make_environ

_SOURCE_APPS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'apps')


def _readable_apps():
    """The test apps, where the workers can read them. As root the workers run as
    www-data, which may not be able to enter the checkout (a clone under /root is
    0700): then the apps are copied to a world-readable temp dir for this run."""
    if os.geteuid() != 0:
        return _SOURCE_APPS
    tmp = tempfile.mkdtemp(prefix='wsgid-apps-')
    os.chmod(tmp, 0o755)
    dst = os.path.join(tmp, 'apps')
    shutil.copytree(_SOURCE_APPS, dst, ignore=shutil.ignore_patterns('__pycache__'))
    for root, dirs, files in os.walk(dst):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    atexit.register(shutil.rmtree, tmp, True)
    return dst


APPS = _readable_apps()
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
