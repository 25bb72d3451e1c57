"""unittest helpers: the worker tests' WorkerTestCase, and what every suite
uses to report a case (test_failed, skip, run_unittest)."""

import atexit
import os
import shutil
import sys
import tempfile
import time
import unittest

from .logs import log_problems
from .paths import APPS as _SOURCE_APPS
from .worker import WorkerHarness, group_settings, make_environ


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


class WorkerTestCase(unittest.TestCase):
    """Starts workers through self.worker(...) and always cleans them up; on
    failure prints the worker logs; fails when a log has a line of
    logs.LOG_PROBLEMS (an [alert], a sanitizer report ...)."""

    def setUp(self):
        self.harnesses = []
        self.allowed_log_lines = []  # substrings of problem lines this test provokes

    def tearDown(self):
        for h in self.harnesses:
            text = h.log()
            bad = log_problems(text, self.allowed_log_lines)
            if os.environ.get('WSGID_SHOW_LOGS') == '1':
                print('--- worker log %s ---\n%s' % (h.log_path, text))
            h.close()
            if bad:
                self.fail('worker log has problem lines:\n' + '\n'.join(bad[:20]))

    def worker(self, group=None, start=True, **kw):
        h = WorkerHarness(group or group_settings(threads=2), **kw)
        self.harnesses.append(h)
        if start:
            h.start()
        return h

    def get(self, h, path, script=WSGI_APP, **kw):
        return h.request(make_environ(path.split('?')[0], query=path.partition('?')[2], script=script, **kw))


def test_failed(case):
    """True when this unittest case has failed so far (not an expected failure)."""
    result = getattr(getattr(case, '_outcome', None), 'result', None)
    if result is None:
        return False
    return any(t is case for t, _ in list(result.errors) + list(result.failures))


def skip(reason):
    """Reports the running test as skipped (unittest.SkipTest): a test that
    needs the real worker or the front end must not pass silently without it."""
    raise unittest.SkipTest(reason)


def run_unittest(tests, wsgid):
    """Runs test functions (each takes wsgid) as unittest cases, so that a
    skip() is reported as skipped. Returns the exit status: 0 when none failed
    (skips are listed, not failures), 1 otherwise."""
    class MasterTests(unittest.TestCase):
        pass

    for t in tests:
        def case(self, t=t):
            start = time.time()
            try:
                t(wsgid)
            finally:
                print('   (%s: %.1f s)' % (t.__name__, time.time() - start), flush=True)
        case.__name__ = t.__name__
        case.__doc__ = None
        setattr(MasterTests, t.__name__, case)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(MasterTests)
    order = {t.__name__: i for i, t in enumerate(tests)}
    suite = unittest.TestSuite(sorted(suite, key=lambda c: order[c._testMethodName]))
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    if res.skipped:
        print('skipped: ' + ', '.join('%s (%s)' % (c._testMethodName, why) for c, why in res.skipped))
    return 0 if res.wasSuccessful() else 1
