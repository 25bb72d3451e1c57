"""Where the tests find wsgid: the build's binaries and the source tree's test apps.

meson test sets WSGID_BUILD_DIR (tests/integration/meson.build). Other binaries
(an AddressSanitizer build's, say): WSGID_TEST_WORKER and WSGID_TEST_FRONTEND for
the whole-daemon tests (Daemon), WSGID_WORKER and WSGID_FRONTEND for the tests
that run one worker or one front end themselves (WorkerHarness, FrontendHarness).
"""

import os

INTEGRATION_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APPS = os.path.join(INTEGRATION_DIR, 'apps')


def version():
    """wsgid's version as meson.build's project() gives it: $WSGID_VERSION."""
    v = os.environ.get('WSGID_VERSION')
    if not v:
        raise RuntimeError('WSGID_VERSION is not set (run through meson test, or export it)')
    return v


def build_dir():
    """The meson build dir: $WSGID_BUILD_DIR (set by meson test)."""
    d = os.environ.get('WSGID_BUILD_DIR')
    if not d:
        raise RuntimeError('WSGID_BUILD_DIR is not set (run through meson test, or export it)')
    return d


def binary(*rel):
    """A file of the build dir: binary('supervisor', 'wsgid')."""
    return os.path.join(build_dir(), *rel)


def wsgid_binary():
    return binary('supervisor', 'wsgid')


def worker_binary():
    """The wsgid-worker the whole-daemon tests run: $WSGID_TEST_WORKER or the build's."""
    return os.environ.get('WSGID_TEST_WORKER') or binary('worker', 'wsgid-worker')


def frontend_binary():
    """The wsgid-frontend the whole-daemon tests run: $WSGID_TEST_FRONTEND or the build's."""
    return os.environ.get('WSGID_TEST_FRONTEND') or binary('supervisor', 'frontend', 'wsgid-frontend')


def harness_worker_binary():
    """The worker WorkerHarness runs: $WSGID_WORKER or the build's."""
    return os.environ.get('WSGID_WORKER') or binary('worker', 'wsgid-worker')


def harness_frontend_binary():
    """The front end FrontendHarness runs: $WSGID_FRONTEND or the build's."""
    return os.environ.get('WSGID_FRONTEND') or binary('supervisor', 'frontend', 'wsgid-frontend')


def running_as_root():
    return os.geteuid() == 0


_asan = {}


def under_asan(path=None):
    """True when the binary (default: the worker the worker tests run) is built
    with AddressSanitizer."""
    if path is None:
        path = harness_worker_binary()
    if path not in _asan:
        with open(path, 'rb') as f:
            _asan[path] = b'__asan_init' in f.read()
    return _asan[path]
