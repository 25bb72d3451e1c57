# The application of the fault-injection suite (tests/integration/faults/):
# one route per fault, plain WSGI. Every answer names the pid that served it.
#   /hello            200, "PID"
#   /sleep?s=N        sleeps N seconds (Python, GIL released), then 200
#   /hang             blocks in Python (time.sleep) for up to 120 s: a hung request
#   /hold_gil?s=N     libc sleep(N) through ctypes.PyDLL, which keeps the GIL
#   /hog?mb=N         allocates N MiB in 1 MiB blocks (touching each): a memory hog
#   /echo             answers the request body's length and its SHA-256
#   /download?kib=N   N KiB (1024 by default) with a Content-Length
#   /leak_fd?n=N      opens /dev/null N times and keeps the files: an app leaking descriptors
#   /print?n=N        writes N lines to stdout and N to stderr (captured by the master)
import ctypes
import hashlib
import os
import sys
import time
from urllib.parse import parse_qs


_leaked = []


def _text(start_response, body, status='200 OK'):
    body = body.encode('utf-8')
    start_response(status, [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]


def application(environ, start_response):
    path = environ.get('PATH_INFO', '')
    q = {k: v[0] for k, v in parse_qs(environ.get('QUERY_STRING', '')).items()}
    pid = os.getpid()
    if path == '/sleep':
        time.sleep(float(q.get('s', '1')))
    elif path == '/hang':
        end = time.time() + 120
        while time.time() < end:
            time.sleep(0.1)
    elif path == '/hold_gil':
        ctypes.PyDLL(None).sleep(int(q.get('s', '30')))
    elif path == '/hog':
        blocks = []
        for _ in range(int(q.get('mb', '1024'))):
            b = bytearray(1 << 20)
            b[::4096] = b'x' * (1 << 8)
            blocks.append(b)
        return _text(start_response, '%d allocated %d MiB' % (pid, len(blocks)))
    elif path == '/echo':
        data = environ['wsgi.input'].read()
        return _text(start_response, '%d %s' % (len(data), hashlib.sha256(data).hexdigest()))
    elif path == '/download':
        body = b'%d ' % pid + b'x' * (int(q.get('kib', '1024')) * 1024)
        start_response('200 OK', [('Content-Type', 'application/octet-stream'), ('Content-Length', str(len(body)))])
        return [body]
    elif path == '/leak_fd':
        for _ in range(int(q.get('n', '1'))):
            _leaked.append(open('/dev/null', 'rb'))
        return _text(start_response, '%d leaked %d' % (pid, len(_leaked)))
    elif path == '/print':
        for i in range(int(q.get('n', '1'))):
            print('stdout line %d from %d' % (i, pid), flush=True)
            print('stderr line %d from %d' % (i, pid), file=sys.stderr, flush=True)
    return _text(start_response, '%d' % pid)
