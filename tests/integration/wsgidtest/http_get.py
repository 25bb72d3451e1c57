"""http_get: one GET on a loopback port, for tests that talk to the front end
without the Daemon's own port (a port a reload adds, a kept-alive connection)."""

import http.client


def http_get(port, path, timeout=30.0, conn=None):
    """GET on 127.0.0.1:port (or on the kept-alive conn): (status, body, headers)."""
    c = conn or http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        c.request('GET', path)
        r = c.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        if conn is None:
            c.close()
