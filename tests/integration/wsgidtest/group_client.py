"""One request on a group socket, sent as the front end sends it: for tests that
drive a group without the front end (the master's tests run it off).

A worker that is draining answers a new connection with the "connection
closing" notice (ERROR on request id 0, protocol/PROTOCOL.md) instead of a
response head, without running the request; the front end then resends it on a
new connection, and so does request().
"""

import socket
import time

from . import frames as F

CLOSING = object()


def _request_once(path, uri, timeout, script, group):
    """One attempt: (status, body), or CLOSING."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        env = [('REQUEST_METHOD', 'GET'), ('PATH_INFO', uri), ('REQUEST_URI', uri),
               ('SCRIPT_NAME', ''), ('QUERY_STRING', ''), ('SERVER_NAME', 'localhost'),
               ('SERVER_PORT', '80'), ('SERVER_PROTOCOL', 'HTTP/1.1'),
               ('REMOTE_ADDR', '127.0.0.1'), ('REMOTE_PORT', '1'),
               ('SCRIPT_FILENAME', script), ('mod_wsgi.process_group', group),
               ('mod_wsgi.application_group', ''), ('mod_wsgi.callable_object', 'application'),
               ('mod_wsgi.script_reloading', '1'), ('mod_wsgi.request_id', '1'),
               ('wsgid.request_start', str(int(time.time() * 1e6)))]
        s.sendall(F.hello() + F.request_head(1, env) + F.frame(F.REQUEST_END, 1))
        status, body = None, b''
        for t, _, rid, p in F.read_frames(s.recv):
            if t in (F.HELLO, F.STARTED):
                continue
            if t == F.ERROR and rid == 0 and status is None:
                return CLOSING
            if t == F.RESPONSE_HEAD:
                status = F.decode_response_head(p)[0]
            elif t == F.SOCKET_ASK:  # the body comes in frames (PROTOCOL.md 5.6)
                s.sendall(F.response_socket(1, False))
            elif t == F.RESPONSE_BODY:
                body += p
            elif t == F.RESPONSE_END:
                return status, body
            elif t == F.ERROR:
                code, _ = F.decode_error(p)
                return code, p[2:]
        raise ConnectionError('EOF before the response ended')
    finally:
        s.close()


def request(path, uri, timeout=30.0, script='', group='', attempts=8):
    """Sends one GET for uri to the group socket at path, resending it after a
    "connection closing" notice (at most `attempts` times); returns (status,
    body bytes) or, for an ERROR frame, (its code, its message bytes). Raises on
    a broken exchange."""
    for _ in range(attempts):
        result = _request_once(path, uri, timeout, script, group)
        if result is not CLOSING:
            return result
    raise ConnectionError('connection closing notice on %d connections in a row' % attempts)
