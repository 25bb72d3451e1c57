"""Minimal Python side of protocol/PROTOCOL.md for the master's tests.

Frames: 12-byte header (type u8, flags u8, reserved u16 = 0, request id u32,
payload length u32; big-endian) + payload. Used by fake_worker.py (the child
side of the control channel and the worker side of a group socket) and by the
tests (the front-end side of a group socket).
"""
import socket
import struct
import time

HELLO = 0x01
REQUEST_HEAD, REQUEST_BODY, REQUEST_END = 0x10, 0x11, 0x12
RESPONSE_HEAD, RESPONSE_BODY, RESPONSE_END = 0x20, 0x21, 0x22
ERROR, CANCEL = 0x30, 0x31
SETTINGS, READY, STATE, STATE_QUERY, DRAIN, REPLACE_ME, EXITING, LOG = range(0x40, 0x48)

HEADER = struct.Struct(">BBHII")


def frame(ftype, payload=b"", request_id=0):
    if isinstance(payload, str):
        payload = payload.encode()
    return HEADER.pack(ftype, 0, 0, request_id, len(payload)) + payload


def hello():
    return frame(HELLO, b"WSGD" + struct.pack(">I", 1))


def pairs(kv):
    out = b""
    for k, v in kv:
        k, v = k.encode(), v.encode()
        out += struct.pack(">HI", len(k), len(v)) + k + v
    return out


def parse_pairs(p):
    out, pos = [], 0
    while pos < len(p):
        kl, vl = struct.unpack_from(">HI", p, pos)
        pos += 6
        out.append((p[pos:pos + kl].decode(), p[pos + kl:pos + kl + vl].decode()))
        pos += kl + vl
    return out


def response_head(status, reason, headers):
    r = reason.encode()
    return struct.pack(">HH", status, len(r)) + r + pairs(headers)


class Reader:
    """Reads whole frames from a blocking socket or fd."""

    def __init__(self, recv):
        self.recv = recv
        self.buf = b""

    def next(self):
        """(type, request_id, payload), or None at EOF."""
        while True:
            if len(self.buf) >= 12:
                t, _, _, rid, n = HEADER.unpack_from(self.buf)
                if len(self.buf) >= 12 + n:
                    p = self.buf[12:12 + n]
                    self.buf = self.buf[12 + n:]
                    return t, rid, p
            chunk = self.recv(65536)
            if not chunk:
                return None
            self.buf += chunk


def _request_once(path, uri, timeout, script, group):
    """One attempt; returns (status, body), or CLOSING when the worker answered
    with the "connection closing" notice (ERROR, request id 0) instead of a
    response head: it did not run the request (PROTOCOL.md)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        env = [("REQUEST_METHOD", "GET"), ("PATH_INFO", uri), ("REQUEST_URI", uri),
               ("SCRIPT_NAME", ""), ("QUERY_STRING", ""), ("SERVER_NAME", "localhost"),
               ("SERVER_PORT", "80"), ("SERVER_PROTOCOL", "HTTP/1.1"),
               ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "1"),
               ("SCRIPT_FILENAME", script), ("mod_wsgi.process_group", group),
               ("mod_wsgi.application_group", ""), ("mod_wsgi.callable_object", "application"),
               ("mod_wsgi.script_reloading", "1"), ("mod_wsgi.request_id", "1"),
               ("wsgid.request_start", str(int(time.time() * 1e6)))]
        s.sendall(hello() + frame(REQUEST_HEAD, pairs(env), 1) + frame(REQUEST_END, b"", 1))
        r = Reader(s.recv)
        status, body = None, b""
        while True:
            f = r.next()
            if f is None:
                raise ConnectionError("EOF before the response ended")
            t, rid, p = f
            if t == HELLO:
                continue
            if t == ERROR and rid == 0 and status is None:
                return CLOSING
            if t == RESPONSE_HEAD:
                status = struct.unpack_from(">H", p)[0]
            elif t == RESPONSE_BODY:
                body += p
            elif t == RESPONSE_END:
                return status, body
            elif t == ERROR:
                return struct.unpack_from(">H", p)[0], p[2:]
    finally:
        s.close()


CLOSING = object()


def request(path, uri, timeout=30.0, script="", group="", attempts=8):
    """Sends one request to a group socket as the front end would, resending it
    on a new connection after a "connection closing" notice as the front end
    does (at most `attempts` times); returns (status, body bytes). Raises on a
    broken exchange."""
    for _ in range(attempts):
        result = _request_once(path, uri, timeout, script, group)
        if result is not CLOSING:
            return result
    raise ConnectionError("connection closing notice on %d connections in a row" % attempts)
