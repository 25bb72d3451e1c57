#!/usr/bin/python3
"""Writes the seed corpus of the frame fuzzer (tests/fuzz/corpus/frame/).

Each seed is a byte stream as one side of a connection would send it: valid
frames of every type (protocol/PROTOCOL.md), whole conversations, and truncated
or malformed ones for every decoder error, all encoded by the tests' one frame
codec (tests/integration/wsgidtest/frames.py). It replaces the files it owns and
leaves others alone; run it from the top of the tree:
  PYTHONPATH=tests/integration /usr/bin/python3 tests/fuzz/make_frame_corpus.py
With --check it writes nothing and fails when a seed file differs from what it
would write (the 'frame-corpus' unit test: the corpus stays the codec's output).
"""
import json
import os
import struct
import sys

from wsgidtest import frames as F
from wsgidtest.frames import (CANCEL, DRAIN, EXITING, HELLO, LISTENERS_CLOSED,
                              LISTENERS_CLOSING, LOG, READY, REPLACE_ME,
                              REQUEST_BODY, REQUEST_END, REQUEST_HEAD, RESPONSE_BODY,
                              RESPONSE_END, RESPONSE_HEAD, SETTINGS, STARTED, STATE,
                              STATE_QUERY, BODY_SOCKET, BODY_TAKEN, RESPONSE_SOCKET,
                              SOCKET_ASK, RESPONSE_SENT,
                              body_socket, body_taken, response_socket, response_sent,
                              socket_ask, error, frame, hello, request_head,
                              response_head)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "frame")


def pairs(kv):
    return F.encode_pairs(kv)


def js(ftype, obj, rid=0):
    """A control frame with compact JSON (the corpus keeps its seeds small)."""
    return frame(ftype, rid, json.dumps(obj, separators=(",", ":")).encode())


GET = [(b"REQUEST_METHOD", b"GET"), (b"SCRIPT_NAME", b""), (b"PATH_INFO", b"/x"),
       (b"QUERY_STRING", b"a=1"), (b"SERVER_PROTOCOL", b"HTTP/1.1"),
       (b"HTTP_HOST", b"localhost"), (b"mod_wsgi.process_group", b"site1"),
       (b"mod_wsgi.application_group", b""), (b"wsgid.request_start", b"1795787700000000")]
POST = [(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/upload"),
        (b"CONTENT_TYPE", b"text/plain"), (b"CONTENT_LENGTH", b"11")]

SEEDS = {
    "hello": hello(),
    "request_get": hello() + request_head(1, GET) + frame(REQUEST_END, 1),
    "request_post_body": request_head(2, POST) + frame(REQUEST_BODY, 2, b"hello ")
    + frame(REQUEST_BODY, 2, b"world") + frame(REQUEST_END, 2),
    "request_body_socket": request_head(7, POST) + frame(REQUEST_BODY, 7, b"first")
    + body_socket(7, 1048576 - 5, 60000) + frame(REQUEST_END, 7),
    "response_body_taken": hello(pid=4242) + body_taken(7, 1048571) + response_head(7, 200, b"OK", [])
    + frame(RESPONSE_END, 7),
    "body_taken_timeout": body_taken(8, 70000, 1),
    "body_taken_client_closed": body_taken(8, 0, 2),
    "body_taken_bad_how": body_taken(8, 5, 3),
    "body_taken_short": frame(BODY_TAKEN, 8, b"\x00" * 8),
    "body_socket_zero_length": body_socket(9, 0),
    "body_socket_long": frame(BODY_SOCKET, 9, b"\x00" * 13),
    "response_socket_asked": hello(pid=4242) + frame(STARTED, 3)
    + response_head(3, 200, b"OK", [(b"Content-Length", b"1048576")]) + socket_ask(3, 1048576)
    + response_sent(3, 1048576) + frame(RESPONSE_END, 3),
    "response_socket_granted": response_socket(3, True, 300000),
    "response_socket_with_head": response_socket(3, True, 300000,
                                                 b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n"),
    "response_socket_refused_with_head": response_socket(3, False, 0, b"HTTP/1.1 200 OK\r\n"),
    "response_socket_refused": response_socket(3, False),
    "response_socket_bad_granted": frame(RESPONSE_SOCKET, 3, b"\x02\x00\x00\x00\x00"),
    "response_socket_short": frame(RESPONSE_SOCKET, 3, b"\x01"),
    "socket_ask_zero": socket_ask(3, 0),
    "socket_ask_long": frame(SOCKET_ASK, 3, b"\x00" * 9),
    "response_sent_timeout": response_sent(3, 65536, 1),
    "response_sent_client_closed": response_sent(3, 0, 2),
    "response_sent_bad_how": response_sent(3, 5, 4),
    "request_cancel": request_head(3, POST) + frame(REQUEST_BODY, 3, b"par") + frame(CANCEL, 3),
    "response_started": hello(pid=4242) + frame(STARTED, 1)
    + response_head(1, 200, b"OK", []) + frame(RESPONSE_END, 1),
    "started_with_payload": frame(STARTED, 1, b"x"),
    "response_ok": hello(pid=4242) + response_head(1, 200, b"OK", [(b"Content-Type", b"text/plain")])
    + frame(RESPONSE_BODY, 1, b"Hello, world") + frame(RESPONSE_END, 1),
    "response_cookies": response_head(4, 302, b"Found", [(b"Set-Cookie", b"a=1"),
                                                        (b"Location", b"/"),
                                                        (b"Set-Cookie", b"b=2")])
    + frame(RESPONSE_END, 4),
    "error_connection_closing": error(0, 503, b"connection closing"),
    "error_queue_timeout": error(5, 504, b"queue-timeout of 10 s passed"),
    "error_after_head": response_head(6, 200, b"OK", []) + frame(RESPONSE_BODY, 6, b"x")
    + error(6, 500, b"Traceback ..."),
    "two_requests_one_connection": request_head(1, GET) + frame(REQUEST_END, 1)
    + request_head(2, GET) + frame(REQUEST_END, 2),
    "control_worker_start": hello()
    + js(SETTINGS, {"role": "worker", "index": 0, "generation": 1,
                    "group": {"name": "site1", "processes": 1, "threads": 15},
                    "default_user": "www-data", "default_group": "www-data",
                    "python_home": None, "python_path": [], "preload": [],
                    "log_level": "warn"})
    + frame(STATE_QUERY, 0) + js(DRAIN, {"timeout": 15}),
    "control_child_reports": hello() + js(READY, {})
    + js(STATE, {"requests": 10, "busy": 1, "threads": 15,
                 "current": [{"id": 9, "age": 0.5, "method": "GET", "uri": "/x"}],
                 "rss": 41943040})
    + js(REPLACE_ME, {"reason": "maximum-requests"})
    + js(LOG, {"level": "warn", "message": "hi"})
    + js(EXITING, {"reason": "drained", "detail": ""}),
    "control_listeners_closing": hello() + frame(LISTENERS_CLOSING, 0)
    + js(LISTENERS_CLOSED, {"refusing": True}),
    # Truncated and malformed streams.
    "truncated_header": request_head(1, GET)[:7],
    "truncated_payload": request_head(1, GET)[:-3],
    "unknown_type": hello() + frame(0x7F, 1, b"x"),
    "reserved_nonzero": frame(REQUEST_BODY, 1, b"abc", reserved=0x0102),
    "length_over_limit": frame(REQUEST_BODY, 1, b"", length=16 * 1024 * 1024 + 1),
    "request_end_with_payload": frame(REQUEST_END, 1, b"oops"),
    "hello_too_long": frame(HELLO, 0, b"WSGD" + b"\x00" * 61),
    "hello_bad_magic": hello(magic=b"GET "),
    "hello_version_1": hello(version=1, pid=None),
    "hello_version_2": hello(version=2),
    "hello_version_3": hello(version=3),
    "hello_version_4": hello(version=4),
    "hello_version_5": hello(version=5, extra=b"more"),
    "hello_version_6": hello(version=6),
    "hello_no_pid": hello(pid=None),
    "http_request_instead": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "request_head_truncated_pair": frame(REQUEST_HEAD, 1, pairs([(b"A", b"1")]) + b"\x00\x01\x00"),
    "request_head_empty_key": frame(REQUEST_HEAD, 1, pairs([(b"A", b"1")]) + struct.pack(">HI", 0, 1) + b"v"),
    "request_head_value_too_long": frame(REQUEST_HEAD, 1, struct.pack(">HI", 1, 0xFFFFFFFF) + b"kv"),
    "response_head_bad_status": response_head(1, 42, b"X", []),
    "response_head_crlf": response_head(1, 200, b"OK", [(b"Location", b"/x\r\nSet-Cookie: e")]),
    "response_head_short": frame(RESPONSE_HEAD, 1, b"\x00\xc8\x00"),
    "error_bad_code": error(1, 200, b"not an error"),
}


def check():
    """Exit status 0 when every seed file holds what SEEDS says, else 1."""
    stale = []
    for name, data in SEEDS.items():
        try:
            with open(os.path.join(OUT, name + ".bin"), "rb") as f:
                if f.read() != data:
                    stale.append(name)
        except FileNotFoundError:
            stale.append(name)
    if stale:
        print("stale or missing seeds in %s (rerun this script): %s" % (OUT, ", ".join(stale)))
        return 1
    print(f"{len(SEEDS)} seeds up to date in {OUT}")
    return 0


def main():
    if sys.argv[1:] == ["--check"]:
        sys.exit(check())
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {OUT}")


if __name__ == "__main__":
    main()
