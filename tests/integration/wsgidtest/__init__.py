"""wsgidtest: the one harness of wsgid's Python tests (tests/integration/README.md).

- frames: the framed protocol (protocol/PROTOCOL.md) in Python, the one codec.
- paths: the build's binaries and the test apps.
- wait: wait_for, the one way to wait.
- logs: LOG_PROBLEMS, the lines no log may hold.
- procs: /proc readers (pid alive, start time, title), free ports, rlimits.
- http_get: one GET on a loopback port.
- daemon: Daemon, the real wsgid master in a temp dir (master, ctl, e2e, fault tests).
- group_client: one request on a group socket, as the front end sends it.
- load: HTTP load (loadgen or Python) and the proof record.
- worker: WorkerHarness, one real wsgid-worker run as the master does, and
  FrontConnection, a front end's connection to a group socket (with
  StartedPage, the started page its HELLO may carry).
- frontend: FrontendHarness, one wsgid-frontend run as the master does, and a
  fake worker behind it.
- testing: WorkerTestCase, test_failed, skip, run_unittest.
"""

from .frames import *  # noqa: F401,F403
from .paths import build_dir, running_as_root, under_asan  # noqa: F401
from .worker import (FrontConnection, Response, StartedPage, WorkerHarness,  # noqa: F401
                     group_settings, make_environ)
