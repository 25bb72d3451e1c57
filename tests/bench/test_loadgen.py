#!/usr/bin/python3
"""loadgen counts right: runs tests/bench/loadgen against a small threaded HTTP/1.1
server here whose answers are known by path (200s, every 4th a 503, every 5th
connection dropped unanswered, truncated and malformed responses, a hung request,
chunked and read-until-close bodies, a response written in pieces, a 300 ms pause)
and checks the counters of its --json output exactly, its exit codes and that it
always ends on time. Usage: test_loadgen.py PATH_TO_LOADGEN (meson passes it).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

LOADGEN = sys.argv[1] if len(sys.argv) > 1 else os.environ.get('LOADGEN', 'loadgen')


class Server:
    """Threaded keep-alive server; counts the requests it reads, per path."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.count = 0
        self.accepted = 0
        self.close_asked = 0
        self.slowfirst_at = 1
        self.stopping = False
        self.conns = []
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping = True
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def accept_loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
                self.accepted += 1
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        buf = b''
        try:
            while True:
                while b'\r\n\r\n' not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b'\r\n\r\n', 1)
                lines = head.decode('latin-1').split('\r\n')
                method, path, _ = lines[0].split(' ')
                length = 0
                for h in lines[1:]:
                    k, v = h.split(':', 1)
                    if k.lower() == 'content-length':
                        length = int(v)
                    if k.lower() == 'connection' and v.strip().lower() == 'close':
                        with self.lock:
                            self.close_asked += 1
                while len(buf) < length:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                body, buf = buf[:length], buf[length:]
                with self.lock:
                    self.count += 1
                    n = self.count
                if not self.answer(c, path, n, method, body):
                    return
        except OSError:
            return
        finally:
            c.close()

    @staticmethod
    def ok(body=b'Hello, world!', status='200 OK', extra=''):
        return ('HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n' % (
            status, len(body), extra)).encode() + body

    def answer(self, c, path, n, method, body):
        """Returns False when the connection is to be closed."""
        if path == '/ok':
            c.sendall(self.ok())
        elif path == '/every4th503':
            c.sendall(self.ok(b'busy', '503 Service Unavailable') if n % 4 == 0 else self.ok())
        elif path == '/drop5':
            if n % 5 == 0:
                return False
            c.sendall(self.ok())
        elif path == '/trunc':
            c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789')
            return False
        elif path == '/bad':
            c.sendall(b'HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok')
        elif path == '/badchunk':
            c.sendall(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n')
        elif path == '/hang':
            while c.recv(65536):
                pass
            return False
        elif path == '/chunked':
            c.sendall(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
                      b'5;ext=1\r\nHello\r\n2\r\n, \r\n6\r\nworld!\r\n0\r\nX-Trailer: 1\r\n\r\n')
        elif path == '/close':
            c.sendall(self.ok(extra='Connection: close\r\n'))
            return False
        elif path == '/untilclose':
            c.sendall(b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until close')
            return False
        elif path == '/pieces':
            r = self.ok(b'x' * 3000)
            for piece in (r[:7], r[7:40], r[40:1000], r[1000:]):
                c.sendall(piece)
                time.sleep(0.002)
        elif path == '/slowfirst':
            if n == self.slowfirst_at:
                time.sleep(0.3)
            c.sendall(self.ok())
        elif path == '/pause':
            if n == 10:
                time.sleep(0.3)
            c.sendall(self.ok())
        elif path == '/echo':
            good = method == 'POST' and body == b'x' * 65536
            c.sendall(self.ok(body) if good else self.ok(b'bad body', '400 Bad Request'))
        else:
            c.sendall(self.ok(b'nope', '404 Not Found'))
        return True


class LoadgenTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()

    def tearDown(self):
        self.server.close()

    def run_loadgen(self, path, *args, port=None, budget=10):
        argv = [LOADGEN, '--url', 'http://127.0.0.1:%d%s' % (port or self.server.port, path), '--json'] + list(args)
        t0 = time.monotonic()
        p = subprocess.run(argv, capture_output=True, text=True, timeout=budget)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        r['wall'] = time.monotonic() - t0
        self.assertEqual(r['requests'], r['ok'] + r['failed'])
        non2xx = sum(v for k, v in r['status'].items() if not k.startswith('2'))
        self.assertEqual(r['failed'], r['socket_errors'] + r['timeouts'] + non2xx)
        return r

    def test_counts_exactly(self):
        # (path, extra args, ok, status counts, socket errors, timeouts)
        cases = [
            ('/ok', ['-c', '4', '--max-requests', '200'], 200, {'200': 200}, 0),
            ('/every4th503', ['-c', '4', '--max-requests', '100'], 75, {'200': 75, '503': 25}, 0),
            ('/drop5', ['-c', '4', '--max-requests', '100'], 80, {'200': 80}, 20),
            ('/trunc', ['-c', '2', '--max-requests', '10'], 0, {}, 10),
            ('/bad', ['-c', '2', '--max-requests', '10'], 0, {}, 10),
            ('/badchunk', ['-c', '2', '--max-requests', '10'], 0, {}, 10),
            ('/chunked', ['-c', '3', '--max-requests', '60'], 60, {'200': 60}, 0),
            ('/close', ['-c', '3', '--max-requests', '60'], 60, {'200': 60}, 0),
            ('/untilclose', ['-c', '3', '--max-requests', '60'], 60, {'200': 60}, 0),
            ('/pieces', ['-c', '2', '--max-requests', '20'], 20, {'200': 20}, 0),
            ('/echo', ['-c', '2', '--body-size', '65536', '--max-requests', '20'], 20, {'200': 20}, 0),
            ('/nowhere', ['-c', '1', '--max-requests', '5'], 0, {'404': 5}, 0),
        ]
        for path, args, ok, status, socket_errors in cases:
            with self.subTest(path=path):
                before = self.server.count
                r = self.run_loadgen(path, *args)
                n = int(args[args.index('--max-requests') + 1])
                self.assertEqual(r['requests'], n)
                self.assertEqual(r['ok'], ok)
                self.assertEqual(r['status'], status)
                self.assertEqual(r['socket_errors'], socket_errors)
                self.assertEqual(r['timeouts'], 0)
                self.assertEqual(self.server.count - before, n)  # nothing sent twice or skipped
                self.assertLess(r['wall'], 5)

    def test_close_opens_a_connection_per_request(self):
        for args in (['-c', '2'], ['-c', '3', '--method', 'POST', '--body-size', '100']):
            with self.subTest(args=args):
                before, asked = self.server.accepted, self.server.close_asked
                r = self.run_loadgen('/ok', '--close', '--max-requests', '30', *args)
                self.assertEqual(r['ok'], 30)
                self.assertEqual(self.server.accepted - before, 30)
                self.assertEqual(self.server.close_asked - asked, 30)
        before = self.server.accepted
        self.run_loadgen('/ok', '-c', '2', '--max-requests', '30')
        self.assertEqual(self.server.accepted - before, 2)  # without --close: kept alive

    def test_error_kinds(self):
        r = self.run_loadgen('/drop5', '-c', '4', '--max-requests', '50')
        self.assertEqual(r['socket_error_kinds'], {'connect': 0, 'eof': 10, 'malformed': 0, 'reset': 0, 'write': 0})
        r = self.run_loadgen('/trunc', '-c', '1', '--max-requests', '3')
        self.assertEqual(r['socket_error_kinds']['malformed'], 3)

    def test_timeouts_end_on_time(self):
        r = self.run_loadgen('/hang', '-c', '2', '-d', '1', '--timeout', '0.3')
        self.assertEqual(r['ok'], 0)
        self.assertEqual(r['socket_errors'], 0)
        self.assertGreaterEqual(r['timeouts'], 4)  # 0.3, 0.6, 0.9 s on each connection
        self.assertLessEqual(r['timeouts'], 6)
        self.assertGreaterEqual(r['duration_s'], 0.99)
        self.assertLess(r['wall'], 3)
        self.assertGreaterEqual(r['max_gap_ms'], 990)  # no response at all: the whole run

    def test_refused_port(self):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]  # bound, not listening: connect is refused
        try:
            r = self.run_loadgen('/', '-c', '2', '-d', '0.5', port=port)
        finally:
            s.close()
        self.assertEqual(r['ok'], 0)
        self.assertGreater(r['socket_errors'], 10)
        self.assertEqual(r['socket_errors'], r['socket_error_kinds']['connect'])
        self.assertLess(r['socket_errors'], 2 * 0.5 / 0.005 + 10)  # the 5 ms back-off per connection
        self.assertLess(r['wall'], 3)

    def test_gap(self):
        r = self.run_loadgen('/pause', '-c', '1', '--max-requests', '20')
        self.assertEqual(r['ok'], 20)
        self.assertGreaterEqual(r['max_gap_ms'], 300)
        self.assertLess(r['max_gap_ms'], 1500)
        self.assertGreaterEqual(r['max_ms'], 300)
        self.assertLess(r['max_gap_at_s'], r['duration_s'])

    def test_time_before_the_first_response_is_no_gap(self):
        self.server.slowfirst_at = self.server.count + 1
        r = self.run_loadgen('/slowfirst', '-c', '1', '--max-requests', '10')
        self.assertEqual(r['ok'], 10)
        self.assertGreaterEqual(r['max_ms'], 300)  # the first request took 300 ms...
        self.assertLess(r['max_gap_ms'], 300)  # ...but no gap between responses did

    def test_duration_and_latency(self):
        r = self.run_loadgen('/ok', '-c', '8', '-d', '1')
        self.assertGreater(r['ok'], 50)
        self.assertEqual(r['failed'], 0)
        self.assertTrue(0 < r['p50_ms'] <= r['p90_ms'] <= r['p99_ms'] <= r['max_ms'])
        self.assertTrue(0.99 <= r['duration_s'] < 2)
        self.assertAlmostEqual(r['rps'], r['ok'] / r['duration_s'], delta=r['rps'] * 0.02 + 1)

    def test_sigterm_ends_with_summary(self):
        p = subprocess.Popen([LOADGEN, '--url', 'http://127.0.0.1:%d/ok' % self.server.port, '-c', '2',
                              '-d', '30', '--json'], stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=5)
        self.assertLess(time.monotonic() - t0, 2)
        self.assertEqual(p.returncode, 0)
        r = json.loads(out)
        self.assertGreater(r['ok'], 0)
        self.assertLess(r['duration_s'], 5)

    def test_human_summary(self):
        p = subprocess.run([LOADGEN, '--url', 'http://127.0.0.1:%d/every4th503' % self.server.port, '-c', '1',
                            '--max-requests', '8'], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn('requests 8: ok 6, failed 2 (socket errors 0', p.stdout)
        self.assertIn('status: 200=6 503=2', p.stdout)
        self.assertIn('longest gap between responses', p.stdout)

    def test_usage_errors(self):
        cases = [
            ([], 'loadgen: --url is required'),
            (['--url', 'ftp://127.0.0.1/'], "loadgen: --url: only http:// URLs: 'ftp://127.0.0.1/'"),
            (['--url', 'http://127.0.0.1:x/'], "loadgen: --url: bad host or port in 'http://127.0.0.1:x/'"),
            (['--url', 'http://127.0.0.1:1/', '-c', '0'], "loadgen: -c: bad value '0'"),
            (['--url', 'http://127.0.0.1:1/', '-d', 'abc'], "loadgen: -d: bad value 'abc'"),
            (['--url', 'http://127.0.0.1:1/', '--method', 'PUT'], "loadgen: --method: GET or POST, not 'PUT'"),
            (['--url', 'http://127.0.0.1:1/', '--frobnicate'], "loadgen: unknown argument '--frobnicate'"),
            (['--url', 'http://127.0.0.1:1/', '--timeout'], 'loadgen: --timeout needs a value'),
        ]
        for argv, message in cases:
            with self.subTest(argv=argv):
                p = subprocess.run([LOADGEN] + argv, capture_output=True, text=True, timeout=10)
                self.assertEqual(p.returncode, 2)
                self.assertEqual(p.stderr.splitlines()[0], message)
                self.assertEqual(p.stdout, '')


if __name__ == '__main__':
    unittest.main(argv=[sys.argv[0], '-v'])
