"""HTTP load on the front end while a test injects a fault, and the proof record.

Load is the bounded load client of the fault and end-to-end tests:
tests/bench/loadgen from the build dir when it is built (`loadgen --url URL -c N
-d S --timeout T --json`), otherwise a Python stand-in (threads of keep-alive
http.client connections) printing the same JSON keys. HttpLoad is the master
tests' open-ended one: threads that run until stop() and record each failure
with its time. proof() writes one line of tools/proof's fault table.
"""

import http.client
import json
import os
import socket
import subprocess
import threading
import time

from .paths import binary


def loadgen_binary():
    """tests/bench/loadgen from the build dir, or None when it is not built."""
    p = binary('tests', 'bench', 'loadgen')
    return p if os.access(p, os.X_OK) else None


class Load:
    """A bounded load run against one URL, in the background:
        l = Load(url, concurrency=8, duration=3).start(); ...; res = l.wait()
    res has loadgen's --json keys: requests, ok, status, socket_errors,
    timeouts, failed, rps, p50_ms, p90_ms, p99_ms, max_ms, max_gap_ms,
    max_gap_at_s, duration_s; plus "client" (loadgen or python)."""

    def __init__(self, url, concurrency=8, duration=3.0, timeout=2.0, method='GET', body_size=0,
                 use_loadgen=None, new_connections=False, max_requests=0):
        """new_connections: a new connection per request (loadgen --close), as
        clients that do not keep connections alive. max_requests: stop once
        that many requests have ended (loadgen only: none is left in flight,
        so the count is what the client sent)."""
        self.max_requests = max_requests
        self.url, self.c, self.d, self.timeout = url, concurrency, duration, timeout
        self.method, self.body_size = method, body_size
        self.new_connections = new_connections
        self.exe = loadgen_binary() if use_loadgen is None or use_loadgen else None
        self.proc = None
        self.thread = None
        self.result = None
        self.t0 = None

    def start(self):
        self.t0 = time.monotonic()
        if self.exe:
            cmd = [self.exe, '--url', self.url, '-c', str(self.c), '-d', str(self.d),
                   '--timeout', str(self.timeout), '--method', self.method, '--json']
            if self.body_size:
                cmd += ['--body-size', str(self.body_size)]
            if self.new_connections:
                cmd += ['--close']
            if self.max_requests:
                cmd += ['--max-requests', str(self.max_requests)]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True)
        else:
            self.thread = threading.Thread(target=self._python_run, daemon=True)
            self.thread.start()
        return self

    def run(self):
        return self.start().wait()

    def wait(self):
        if self.proc:
            try:
                out, err = self.proc.communicate(timeout=self.d + self.timeout + 60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out, err = self.proc.communicate()
                raise AssertionError('loadgen did not finish: %s' % err)
            if self.proc.returncode not in (0, 1):
                raise AssertionError('loadgen exited %d: %s' % (self.proc.returncode, err))
            self.result = json.loads(out.strip().splitlines()[-1])
            self.result['client'] = 'loadgen'
        else:
            self.thread.join(self.d + self.timeout + 60)
            self.result['client'] = 'python'
        return self.result

    # The Python stand-in: `c` threads, each a keep-alive connection, requests
    # back to back until the deadline; a failed connection is replaced.
    def _python_run(self):
        host_port, _, path = self.url[len('http://'):].partition('/')
        host, _, port = host_port.partition(':')
        path = '/' + path
        body = b'x' * self.body_size if self.body_size else None
        lock = threading.Lock()
        stats = {'requests': 0, 'ok': 0, 'status': {}, 'socket_errors': 0, 'timeouts': 0}
        lat, done_at = [], []
        start = time.monotonic()
        deadline = start + self.d

        def worker():
            conn = None
            while time.monotonic() < deadline:
                t = time.monotonic()
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(host, int(port), timeout=self.timeout)
                    conn.request(self.method, path, body=body,
                                 headers={'Connection': 'close'} if self.new_connections else {})
                    r = conn.getresponse()
                    r.read()
                    code = r.status
                    if r.will_close or self.new_connections:
                        conn.close()
                        conn = None
                    err = None
                except socket.timeout:
                    err = 'timeouts'
                except (OSError, http.client.HTTPException):
                    err = 'socket_errors'
                now = time.monotonic()
                with lock:
                    stats['requests'] += 1
                    if err:
                        stats[err] += 1
                    else:
                        stats['status'][str(code)] = stats['status'].get(str(code), 0) + 1
                        if 200 <= code < 300:
                            stats['ok'] += 1
                        lat.append(now - t)
                        done_at.append(now)
                if err and conn is not None:
                    conn.close()
                    conn = None
            if conn is not None:
                conn.close()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.c)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.d + self.timeout + 30)
        end = time.monotonic()
        lat.sort()
        done_at.sort()
        gap, gap_at, prev = 0.0, 0.0, start
        for t in done_at + [end]:
            if t - prev > gap:
                gap, gap_at = t - prev, prev - start
            prev = t

        def pct(p):
            return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0.0

        stats['failed'] = stats['requests'] - stats['ok']
        stats.update(rps=stats['requests'] / (end - start), p50_ms=pct(0.5), p90_ms=pct(0.9),
                     p99_ms=pct(0.99), max_ms=(lat[-1] * 1000 if lat else 0.0),
                     max_gap_ms=gap * 1000, max_gap_at_s=gap_at, duration_s=end - start)
        self.result = stats


class HttpLoad:
    """HTTP load through the front end: `clients` threads, each a keep-alive
    http.client loop on 127.0.0.1:port, until stop(), at most `max_requests`
    requests per thread and `max_seconds`. A failed request (an exception or a
    status other than 200) is recorded with its time and kind and the thread
    reconnects."""

    def __init__(self, port, path, clients=4, max_requests=20000, max_seconds=120.0):
        self.port, self.path = port, path
        self.max_requests, self.max_seconds = max_requests, max_seconds
        self.ok = 0
        self.failures = []  # (time, kind)
        self.lock = threading.Lock()
        self.stop_flag = False
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def _run(self):
        deadline = time.time() + self.max_seconds
        conn = None
        for _ in range(self.max_requests):
            if self.stop_flag or time.time() > deadline:
                break
            try:
                if conn is None:
                    conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
                conn.request('GET', self.path)
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    with self.lock:
                        self.ok += 1
                else:
                    with self.lock:
                        self.failures.append((time.time(), 'HTTP %d' % r.status))
                if r.will_close:
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001
                with self.lock:
                    self.failures.append((time.time(), type(e).__name__))
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.01)
        if conn is not None:
            conn.close()

    def stop(self):
        self.stop_flag = True
        for t in self.threads:
            t.join(60)

    def kinds(self):
        out = {}
        for _, k in self.failures:
            out[k] = out.get(k, 0) + 1
        return out


def proof(case, requests, failed, max_gap_ms, client_saw, in_flight_limit=0):
    """Appends one JSON line to $WSGID_PROOF_LOG when it is set:
    {"case", "requests", "failed", "max_gap_ms", "client_saw", "in_flight_limit"}.
    in_flight_limit: how many requests the fault itself may take (those in
    flight on a SIGKILLed process: one per client connection at most); 0 for
    every case where nothing may be lost. The test asserts failed <= it."""
    line = {'case': case, 'requests': int(requests), 'failed': int(failed),
            'max_gap_ms': round(float(max_gap_ms), 1), 'client_saw': client_saw,
            'in_flight_limit': int(in_flight_limit)}
    print('PROOF %s' % json.dumps(line), flush=True)
    path = os.environ.get('WSGID_PROOF_LOG')
    if path:
        with open(path, 'a') as f:
            f.write(json.dumps(line) + '\n')
    return line
