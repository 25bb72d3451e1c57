#!/usr/bin/python3
"""A stand-in for wsgid-worker in the master's tests: speaks the child contract
of protocol/PROTOCOL.md (fd 3 control channel, fd 4 the group's listening socket) without
Python WSGI. Its behaviour depends on the group's name:
  *crash*   exits with status 3 before READY (an app that dies at import)
  *slowup*  waits 1 s before READY
otherwise it serves requests: the body is "PID URI\n"; a PATH_INFO of
/sleep/N sleeps N seconds first. kDrain: stop accepting, finish in-flight
requests, kExiting{"reason":"drained"}, exit 0. SIGUSR1 -> kReplaceMe.
SIGTERM -> kExiting{"reason":"shutdown"}, exit 0. Control EOF -> exit.
"""
import ctypes
import json
import os
import select
import signal
import socket
import sys
import threading
import time

# wsgid runs this with the test's environment: PYTHONPATH holds tests/integration.
from wsgidtest import frames as F

ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL

control = socket.socket(fileno=3)
control.setblocking(True)
listener = socket.socket(fileno=4)
send_lock = threading.Lock()


def send(t, payload=b""):
    with send_lock:
        control.sendall(F.frame(t, 0, payload))


send_frame = send
with send_lock:
    control.sendall(F.hello())
reader = F.read_frames(control.recv)
t, _, _, p = next(reader)
assert t == F.HELLO, t
t, _, _, p = next(reader)
assert t == F.SETTINGS, t
settings = json.loads(p)
name = settings["group"]["name"]
threads_n = 4
served = 0
busy = 0
lock = threading.Lock()
accepting = True
wake_r, wake_w = os.pipe()

if "crash" in name:
    sys.stderr.write("fake worker %s: dying at import\n" % name)
    sys.exit(3)
if "slowup" in name:
    time.sleep(1)


def on_usr1(signum, frame):
    threading.Thread(target=send, args=(F.REPLACE_ME, json.dumps({"reason": "signal USR1"}))).start()


def on_term(signum, frame):
    try:
        send(F.EXITING, json.dumps({"reason": "shutdown", "detail": "signal TERM"}))
    finally:
        os._exit(0)


signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)


def serve_conn(conn):
    global served, busy
    conn.setblocking(True)
    conn.sendall(F.hello(pid=os.getpid()))
    uri = path_info = "/"
    for t, _, rid, p in F.read_frames(conn.recv):
        if t == F.REQUEST_HEAD:
            env = dict(F.decode_pairs(p))
            uri = env.get("REQUEST_URI", "/")
            path_info = env.get("PATH_INFO", uri)
            with lock:
                busy += 1
        elif t == F.REQUEST_END:
            if path_info.startswith("/sleep/"):
                time.sleep(float(path_info.split("/")[2]))
            body = ("%d %s\n" % (os.getpid(), uri)).encode()
            conn.sendall(F.response_head(rid, 200, "OK", [("Content-Type", "text/plain")])
                         + F.frame(F.RESPONSE_BODY, rid, body) + F.frame(F.RESPONSE_END, rid))
            with lock:
                busy -= 1
                served += 1
    conn.close()


def accept_loop():
    while accepting:
        rl, _, _ = select.select([listener, wake_r], [], [])
        if not accepting:
            return
        if listener in rl:
            try:
                conn, _ = listener.accept()
            except BlockingIOError:
                continue
            serve_conn(conn)


workers = [threading.Thread(target=accept_loop, daemon=True) for _ in range(threads_n)]
for w in workers:
    w.start()
send(F.READY, b"{}")

for t, _, _, p in reader:
    if t == F.STATE_QUERY:
        with lock:
            st = {"requests": served, "busy": busy, "threads": threads_n, "current": [], "rss": 0}
        send(F.STATE, json.dumps(st))
    elif t == F.DRAIN:
        accepting = False
        os.write(wake_w, b"x" * threads_n)
        deadline = time.time() + json.loads(p).get("timeout", 15)
        for w in workers:
            w.join(max(0.0, deadline - time.time()))
        send(F.EXITING, json.dumps({"reason": "drained", "detail": ""}))
        os._exit(0)
    elif t == F.SETTINGS:
        settings = json.loads(p)
os._exit(0)
