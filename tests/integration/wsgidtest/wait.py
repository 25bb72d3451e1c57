"""wait_for: the one way the tests wait. Every wait polls against a deadline;
nothing blocks forever and nothing asserts speed."""

import http.client
import time

# Errors a predicate may raise while the thing it polls is still coming up (a
# control socket not yet listening, a half-written JSON reply, a group not yet
# in the status): they count as "not yet", and the last one is reported on timeout.
TRANSIENT = (OSError, http.client.HTTPException, ValueError, KeyError)


def wait_for(pred, timeout=20.0, what='condition', interval=0.05):
    """Calls pred() until it returns something true and returns that; raises
    AssertionError naming `what` and the last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
        except TRANSIENT as e:
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError('timed out after %.1f s waiting for %s (last: %r)' % (timeout, what, last))
