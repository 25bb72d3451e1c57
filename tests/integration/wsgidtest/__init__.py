"""wsgidtest: helpers for wsgid's integration tests.

- frames: the framed protocol (PROTOCOL.md) in Python.
- harness: WorkerHarness, which runs one real wsgid-worker the way the master
  does (fd 3 control channel, fd 4 group socket) and talks to it as the front
  end would; plus FrontConnection, a request-path client for any group socket.
"""

from .frames import *  # noqa: F401,F403
from .harness import (FrontConnection, Response, WorkerHarness, build_dir,  # noqa: F401
                      group_settings, make_environ, running_as_root, under_asan)
