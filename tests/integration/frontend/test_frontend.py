#!/usr/bin/python3
"""Integration tests of wsgid-frontend (#5), started as the master starts it
(control channel on fd 3, listener on fd 4), in front of the real wsgid-worker
(tests/integration/wsgidtest harness) or of the C++ fake worker.

Covers: the control channel (HELLO, SETTINGS, READY, STATE, DRAIN -> EXITING
"drained", exit on EOF), HTTP through to a Python app (environ, keep-alive,
chunked both ways), streaming with bounded front-end memory (64 MiB up, 256 MiB
down through a slow reader), the failure mapping (500 app raise, 502 worker
killed before the head, 503 stopped group with Retry-After, 504 queue-timeout),
a client going away closing the app's iterable, 1000 idle keep-alive
connections, the access log, and raw malformed requests.
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import unittest

from wsgidtest import WorkerHarness, group_settings
from wsgidtest import frames as F
from wsgidtest.frontend import (FakeWorker, FrontendHarness, endpoint,
                                frontend_settings, mount)
from wsgidtest.logs import log_problems
from wsgidtest.paths import harness_frontend_binary
from wsgidtest.testing import WSGI_APP
from wsgidtest.wait import wait_for


def stop(pid):
    """SIGSTOP, then waits until every thread of pid is stopped: kill() returns
    before a thread busy on another CPU has stopped, and one that has not yet
    stopped may still take the next request."""
    os.kill(pid, signal.SIGSTOP)

    def all_stopped():
        for t in os.listdir('/proc/%d/task' % pid):
            with open('/proc/%d/task/%s/stat' % (pid, t)) as f:
                if f.read().rsplit(')', 1)[1].split()[0] != 'T':
                    return False
        return True
    wait_for(all_stopped, 10, 'every thread of %d stopped' % pid)


def read_to_eof(s):
    out = []
    while True:
        d = s.recv(65536)
        if not d:
            return b''.join(out)
        out.append(d)


class FrontendTestCase(unittest.TestCase):
    def setUp(self):
        self.cleanup = []

    def tearDown(self):
        for h in reversed(self.cleanup):
            log = h.log() if hasattr(h, 'log') else ''
            bad = log_problems(log)
            if os.environ.get('WSGID_SHOW_LOGS') == '1' and log:
                print('--- log ---\n' + log)
            h.close()
            if bad:
                self.fail('log has problem lines:\n' + '\n'.join(bad[:20]))

    def worker(self, threads=4, **opts):
        w = WorkerHarness(group_settings('g', threads=threads, **opts))
        self.cleanup.append(w)
        w.start()
        return w

    def frontend(self, settings):
        fe = FrontendHarness(settings)
        self.cleanup.append(fe)
        fe.start()
        return fe

    def python_pair(self, threads=4, ep=None, server_settings=None, **worker_opts):
        w = self.worker(threads, **worker_opts)
        fe = self.frontend(frontend_settings(
            groups=[ep or endpoint('g', w.sock_path, threads=threads)],
            mounts=[mount('/', WSGI_APP, 'g')], server_settings=server_settings))
        return w, fe


class ControlChannel(FrontendTestCase):
    def test_ready_state_drain(self):
        with FakeWorker() as fw:
            fe = self.frontend(frontend_settings(groups=[endpoint('g', fw.sock_path)],
                                                 mounts=[mount('/', '/nonexistent/app.wsgi', 'g')]))
            self.assertEqual(fe.get('/').status, 200)
            st = fe.state()
            self.assertGreaterEqual(st['requests'], 1)
            self.assertIn('rss', st)
            self.assertEqual(st['busy'], 0)
            fe.drain(5)
            obj = fe.wait_control('EXITING', 10)
            self.assertEqual(obj['reason'], 'drained')
            self.assertEqual(fe.wait_exit(10), 0)

    def test_exits_on_control_eof(self):
        with FakeWorker() as fw:
            fe = self.frontend(frontend_settings(groups=[endpoint('g', fw.sock_path)],
                                                 mounts=[mount('/', '/x.wsgi', 'g')]))
            fe.ctrl.close()
            fe.ctrl = None
            self.assertEqual(fe.wait_exit(10), 0)

    def test_title(self):
        with FakeWorker() as fw:
            fe = self.frontend(frontend_settings(groups=[endpoint('g', fw.sock_path)],
                                                 mounts=[mount('/', '/x.wsgi', 'g')]))
            with open('/proc/%d/cmdline' % fe.proc.pid, 'rb') as f:
                self.assertEqual(f.read().rstrip(b'\0'), b'wsgid: frontend')

    def test_reload_switches_routes_without_dropping_connections(self):
        with FakeWorker() as fw:
            st = frontend_settings(groups=[endpoint('g', fw.sock_path)],
                                   mounts=[mount('/app', '/x.wsgi', 'g')])
            fe = self.frontend(st)
            c = fe.connection()
            c.request('GET', '/app/x')
            self.assertEqual(c.getresponse().read(), b'Hello, world!')
            self.assertEqual(fe.get('/other').status, 404)
            fe.send_settings(frontend_settings(groups=[endpoint('g', fw.sock_path)],
                                               mounts=[mount('/other', '/x.wsgi', 'g')]))
            wait_for(lambda: fe.get('/other').status == 200, 5, 'the new routes')
            self.assertEqual(fe.get('/app/x').status, 404)
            # The kept-alive connection opened before the reload still works.
            c.request('GET', '/other')
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            c.close()
            # A reopen-only SETTINGS changes nothing else.
            fe.ctrl.sendall(F.control(F.SETTINGS, {'reopen_logs': True}))
            self.assertEqual(fe.get('/other').status, 200)

    def test_bad_settings_is_a_startup_failure(self):
        fe = FrontendHarness({'listen': 'nope'})
        self.cleanup.append(fe)
        fe.start(wait_ready=False)
        obj = fe.wait_control('EXITING', 10)
        self.assertEqual(obj['reason'], 'startup-failure')
        self.assertEqual(obj['detail'], "settings: 'listen' must be an array")
        self.assertEqual(fe.wait_exit(10), 1)


class PythonApp(FrontendTestCase):
    def test_environ_through_the_front_end(self):
        _, fe = self.python_pair()
        r = fe.get('/environ?x=1', headers={'X-Test': 'yes', 'Host': 'Example.com:8123'})
        self.assertEqual(r.status, 200)
        env = json.loads(r.data)
        self.assertEqual(env['PATH_INFO'], '/environ')
        self.assertEqual(env['SCRIPT_NAME'], '')
        self.assertEqual(env['QUERY_STRING'], 'x=1')
        self.assertEqual(env['HTTP_X_TEST'], 'yes')
        self.assertEqual(env['SERVER_NAME'], 'example.com')
        self.assertEqual(env['SERVER_PORT'], '8123')
        self.assertEqual(env['mod_wsgi.process_group'], 'g')
        self.assertNotIn('wsgid.request_start', env)

    def test_keep_alive_and_chunked_both_ways(self):
        _, fe = self.python_pair(server_settings={'chunked_request': True})
        c = fe.connection()
        for i in range(20):
            c.request('POST', '/echo', body=b'x' * i)
            r = c.getresponse()
            self.assertEqual(r.read(), b'x' * i)
        # A generator without Content-Length comes back chunked.
        c.request('GET', '/generate?n=100000&block=7000')
        r = c.getresponse()
        self.assertEqual(r.getheader('Transfer-Encoding'), 'chunked')
        self.assertEqual(len(r.read()), 100000)
        # A chunked upload reaches the app whole.
        c.putrequest('POST', '/count')
        c.putheader('Transfer-Encoding', 'chunked')
        c.endheaders()
        for part in (b'a' * 1000, b'b' * 50000, b'c'):
            c.send(b'%x\r\n%s\r\n' % (len(part), part))
        c.send(b'0\r\n\r\n')
        r = c.getresponse()
        self.assertEqual(json.loads(r.read())['bytes'], 51001)
        c.close()

    def test_app_raise_is_500(self):
        _, fe = self.python_pair()
        self.assertEqual(fe.get('/raise').status, 500)
        self.assertIn('worker: ', fe.log())

    def first_worker_stopped(self):
        """A front end with a kept connection to worker w1, a second worker w2
        on the same socket, w1 stopped -> (w1, w2, fe)."""
        w1, fe = self.python_pair(threads=2)
        self.assertEqual(fe.get('/sleep?s=0').status, 200)  # a kept connection to w1
        w2 = WorkerHarness(group_settings('g', threads=2), share_with=w1)
        self.cleanup.append(w2)
        w2.start()
        stop(w1.pid)
        return w1, w2, fe

    def test_worker_killed_before_start_post_resent(self):
        # A request whose worker died before calling the application (its
        # started page unmarked: PROTOCOL.md 5.2) goes to another worker, a
        # POST too. The kept connection's worker is stopped before the request
        # reaches it, so it cannot have marked the page.
        w1, w2, fe = self.first_worker_stopped()
        got = {}
        t = threading.Thread(target=lambda: got.setdefault('post', fe.get('/sleep?s=0', method='POST',
                                                                          body=b'x' * 100, timeout=30)))
        t.start()
        wait_for(lambda: fe.state().get('busy', 0) >= 1 or 'post' in got, 10, 'the POST sent to the stopped worker')
        time.sleep(0.3)
        os.kill(w1.pid, signal.SIGKILL)
        t.join(30)
        self.assertEqual(got['post'].status, 200)
        self.assertEqual(got['post'].data, b'slept')
        self.assertNotIn('resent after its worker died', fe.log())
        wait_for(lambda: w2.state()['requests'] == 1, 10, 'the POST served by the second worker')

    def test_worker_killed_before_start_large_body_resent_from_the_client_socket(self):
        # A 1 MiB POST after 100-continue: the front end holds only its head,
        # the body waits in the client's socket, which the stopped worker was
        # given (BODY_SOCKET, PROTOCOL.md 5.5) and never read. Killed, the
        # request and the socket go to a second worker, which reads the body.
        w1, w2, fe = self.first_worker_stopped()
        n = 1 << 20
        data = bytes(range(256)) * (n // 256)
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
        try:
            s.sendall(b'POST /count HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n'
                      b'Expect: 100-continue\r\nConnection: close\r\n\r\n' % n)
            got = b''
            while b'\r\n\r\n' not in got:
                got += s.recv(100)
            self.assertTrue(got.startswith(b'HTTP/1.1 100 Continue'), got)
            sender = threading.Thread(target=s.sendall, args=(data,))
            sender.start()
            time.sleep(0.3)
            os.kill(w1.pid, signal.SIGKILL)
            out = got.split(b'\r\n\r\n', 1)[1] + read_to_eof(s)
            sender.join(30)
        finally:
            s.close()
        head, body = out.split(b'\r\n\r\n', 1)
        self.assertTrue(head.startswith(b'HTTP/1.1 200 '), head)
        self.assertEqual(json.loads(body), {'bytes': n, 'md5': hashlib.md5(data).hexdigest()})
        wait_for(lambda: w2.state()['requests'] == 1, 10, 'the POST served by the second worker')

    def test_worker_killed_while_reading_a_handed_over_body_502_and_closed(self):
        # The worker had begun reading the body from the client's socket: how
        # much of it is gone is unknown, so the request cannot be sent again
        # and the client's connection cannot carry another request.
        w1, fe = self.python_pair(threads=2)
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
        try:
            s.sendall(b'POST /count HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n' % (1 << 20)
                      + b'x' * 300000)
            wait_for(lambda: w1.state()['busy'] == 1, 10, 'the application reading the body')
            time.sleep(0.3)
            os.kill(w1.pid, signal.SIGKILL)
            out = read_to_eof(s)
        finally:
            s.close()
        self.assertTrue(out.startswith(b'HTTP/1.1 502 '), out[:200])
        self.assertIn(b'Connection: close\r\n', out)

    def test_worker_killed_after_start_get_resent_once_post_502(self):
        # The resend rule (PROTOCOL.md 5.3): a GET whose worker died after
        # STARTED goes once to another worker; a POST gets 502; a GET whose
        # second worker dies too gets 502 (one poisonous request cannot kill a
        # whole group).
        w1, fe = self.python_pair(threads=2)
        got = {}

        def ask(key, method, body=None):
            got[key] = fe.get('/sleep?s=2', method=method, body=body, timeout=30)

        threads = [threading.Thread(target=ask, args=('get', 'GET')),
                   threading.Thread(target=ask, args=('post', 'POST', b'x' * 100))]
        for t in threads:
            t.start()
        wait_for(lambda: w1.state()['busy'] == 2, 10, 'both requests running on the first worker')
        w2 = WorkerHarness(group_settings('g', threads=2), share_with=w1)
        self.cleanup.append(w2)
        w2.start()
        os.kill(w1.pid, signal.SIGKILL)
        for t in threads:
            t.join(30)
        self.assertEqual(got['get'].status, 200)
        self.assertEqual(got['post'].status, 502)
        log = fe.log()
        self.assertIn('POST /sleep?s=2 -> 502: worker died before sending the response head', log)
        self.assertEqual(log.count('resent after its worker died'), 1, log)

        t = threading.Thread(target=ask, args=('again', 'GET'))
        t.start()
        wait_for(lambda: w2.state()['busy'] == 1, 10, 'the request running on the second worker')
        w3 = WorkerHarness(group_settings('g', threads=2), share_with=w1)
        self.cleanup.append(w3)
        w3.start()
        os.kill(w2.pid, signal.SIGKILL)
        wait_for(lambda: w3.state()['busy'] == 1, 10, 'the request resent to the third worker')
        os.kill(w3.pid, signal.SIGKILL)
        t.join(30)
        self.assertEqual(got['again'].status, 502)
        self.assertEqual(fe.log().count('resent after its worker died'), 2)

    def test_queue_timeout_is_504(self):
        w = self.worker(threads=1, queue_timeout=1)
        fe = self.frontend(frontend_settings(
            groups=[endpoint('g', w.sock_path, threads=1, queue_timeout=1)],
            mounts=[mount('/', WSGI_APP, 'g')]))
        holder = {}

        def slow():
            holder['r'] = fe.get('/sleep?s=3', timeout=20)

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.3)
        r = fe.get('/environ', timeout=20)
        t.join(20)
        self.assertEqual(holder['r'].status, 200)
        self.assertEqual(r.status, 504)

    def test_client_going_away_closes_the_iterable(self):
        w, fe = self.python_pair()
        marker = w.writable_dir('marks') + '/closed'
        s = socket.create_connection(('127.0.0.1', fe.port))
        s.sendall(b'GET /closing?marker=%s&count=100&delay=0.1 HTTP/1.1\r\nHost: a\r\n\r\n' % marker.encode())
        s.recv(100)
        s.close()
        wait_for(lambda: os.path.exists(marker), 15, 'the iterable close() after the client left')


class Failures(FrontendTestCase):
    def test_stopped_group_503_at_once(self):
        fe = self.frontend(frontend_settings(groups=[endpoint('g', '/nonexistent.sock', state='stopped')],
                                             mounts=[mount('/', '/x.wsgi', 'g')]))
        t0 = time.monotonic()
        r = fe.get('/')
        self.assertLess(time.monotonic() - t0, 1)
        self.assertEqual(r.status, 503)
        self.assertEqual(r.getheader('Retry-After'), '5')

    def test_connect_timeout_503(self):
        # A socket file with no listener: ECONNREFUSED, retried until connect-timeout.
        d = tempfile.mkdtemp()
        path = os.path.join(d, 'dead.sock')
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.close()
        try:
            fe = self.frontend(frontend_settings(groups=[endpoint('g', path, connect_timeout=1)],
                                                 mounts=[mount('/', '/x.wsgi', 'g')]))
            t0 = time.monotonic()
            r = fe.get('/')
            took = time.monotonic() - t0
            self.assertEqual(r.status, 503)
            self.assertGreaterEqual(took, 0.9)
            self.assertLess(took, 3)
            self.assertIn('gave up after connect-timeout 1 s', fe.log())
        finally:
            os.unlink(path)
            os.rmdir(d)

    def test_malformed_requests(self):
        with FakeWorker() as fw:
            # WSGIChunkedRequest On: the chunked case is judged on its body, not 411.
            fe = self.frontend(frontend_settings(groups=[endpoint('g', fw.sock_path)],
                                                 mounts=[mount('/', '/x.wsgi', 'g')],
                                                 server_settings={'chunked_request': True}))
            cases = [
                b'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n',
                b'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx',
                b'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
                b'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n',
                b'GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n',
            ]
            for raw in cases:
                out = fe.raw(raw, timeout=5)
                self.assertTrue(out.startswith(b'HTTP/1.1 400 '), (raw, out[:80]))
                self.assertIn(b'Connection: close\r\n', out)


class Capacity(FrontendTestCase):
    def test_thousand_idle_keep_alive_connections(self):
        with FakeWorker() as fw:
            fe = self.frontend(frontend_settings(groups=[endpoint('g', fw.sock_path)],
                                                 mounts=[mount('/', '/x.wsgi', 'g')],
                                                 limits={'keep_alive_timeout': 60}))
            base = fe.rss_kib()
            socks = []
            try:
                for _ in range(1000):
                    s = socket.create_connection(('127.0.0.1', fe.port), timeout=10)
                    s.sendall(b'GET / HTTP/1.1\r\nHost: a\r\n\r\n')
                    socks.append(s)
                for s in socks:
                    data = b''
                    while b'Hello, world!' not in data:
                        d = s.recv(4096)
                        self.assertTrue(d)
                        data += d
                grown = fe.rss_kib() - base
                self.assertEqual(fe.get('/').status, 200)
                self.assertEqual(fe.state()['connections'], 1000)
                # Well under 10 KiB per idle connection.
                self.assertLess(grown, 10 * 1000, 'RSS grew %d KiB for 1000 idle connections' % grown)
            finally:
                for s in socks:
                    s.close()

    def test_streaming_keeps_memory_bounded(self):
        w, fe = self.python_pair()
        # 64 MiB up.
        c = fe.connection(timeout=120)
        total = 64 << 20
        c.putrequest('POST', '/count')
        c.putheader('Content-Length', str(total))
        c.endheaders()
        block = b'z' * (1 << 20)
        peak = 0
        for i in range(64):
            c.send(block)
            if i % 8 == 0:
                peak = max(peak, fe.rss_kib())
        r = c.getresponse()
        self.assertEqual(json.loads(r.read())['bytes'], total)
        # 256 MiB down through a slow reader.
        c.request('GET', '/generate?n=%d' % (256 << 20))
        r = c.getresponse()
        got = 0
        while True:
            d = r.read(1 << 20)
            if not d:
                break
            got += len(d)
            if got % (16 << 20) < (1 << 20):
                peak = max(peak, fe.rss_kib())
                time.sleep(0.01)
        c.close()
        self.assertEqual(got, 256 << 20)
        # ASan's shadow memory and quarantine inflate RSS; the bound still shows
        # that 256 MiB never sat in the front end.
        with open(fe.binary, 'rb') as f:
            asan = b'__asan_init' in f.read()
        self.assertLess(peak, (128 if asan else 48) * 1024, 'front end RSS peaked at %d KiB' % peak)


    def test_large_download_through_a_slow_reader_arrives_whole_and_in_order(self):
        # Body pieces reach the client written straight from the worker
        # connection's buffer, gathered behind a write in flight, or queued from
        # an offset (stream_write.h): every byte must arrive once, in order,
        # whatever the client's pauses.
        w, fe = self.python_pair()
        n, block = 24 << 20, 100000
        expected = hashlib.md5()
        left, i = n, 0
        while left > 0:
            k = min(left, block)
            expected.update(bytes([i % 251]) * k)
            left -= k
            i += 1
        c = fe.connection(timeout=60)
        for _ in range(2):  # twice on one connection: the conn goes back to the pool clean
            c.request('GET', '/generate?n=%d&block=%d&numbered=1' % (n, block))
            r = c.getresponse()
            got = hashlib.md5()
            size = 0
            while True:
                d = r.read(300000)
                if not d:
                    break
                got.update(d)
                size += len(d)
                if size % (4 << 20) < 300000:
                    time.sleep(0.02)
            self.assertEqual(size, n)
            self.assertEqual(got.hexdigest(), expected.hexdigest())
        c.close()


class AccessLog(FrontendTestCase):
    def test_combined_plus_ours(self):
        with FakeWorker() as fw:
            d = tempfile.mkdtemp()
            os.chmod(d, 0o777)
            path = os.path.join(d, 'access.log')
            fmt = ('%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D '
                   '%{mod_wsgi.process_group}e %{wsgid.worker_pid}e %L')
            fe = self.frontend(frontend_settings(groups=[endpoint('g', fw.sock_path)],
                                                 mounts=[mount('/', '/x.wsgi', 'g')],
                                                 custom_logs=[{'path': path, 'format': fmt}]))
            fe.get('/hello?x=1', headers={'User-Agent': 'ua/1', 'Referer': 'http://r/'})
            wait_for(lambda: os.path.exists(path) and open(path).read().strip(), 5, 'the access log line')
            line = open(path).read().strip()
            parts = line.split('"')
            self.assertTrue(line.startswith('127.0.0.1 - - ['), line)
            self.assertEqual(parts[1], 'GET /hello?x=1 HTTP/1.1')
            self.assertEqual(parts[2].split()[:2], ['200', '13'])
            self.assertEqual(parts[3], 'http://r/')
            self.assertEqual(parts[5], 'ua/1')
            tail = parts[6].split()
            self.assertTrue(tail[0].isdigit())
            self.assertEqual(tail[1], 'g')
            self.assertEqual(int(tail[2]), fw.proc.pid)
            self.assertTrue(tail[3].endswith('.1'))
            fe.proc.send_signal(signal.SIGUSR1)  # reopen: the file keeps working
            os.rename(path, path + '.1')
            time.sleep(0.2)
            fe.proc.send_signal(signal.SIGUSR1)
            wait_for(lambda: os.path.exists(path), 5, 'the reopened access log')
            fe.get('/again')
            wait_for(lambda: 'GET /again' in open(path).read(), 5, 'a line in the new file')
            fe.close()
            for p in (path, path + '.1'):
                os.unlink(p)
            os.rmdir(d)


def embedded_settings(threads=None, **kw):
    s = frontend_settings(mounts=[mount('/', WSGI_APP, None)], **kw)
    if threads is not None:
        s['embedded'] = {'threads': threads, 'python_home': None, 'python_path': []}
    return s


def thread_count(pid):
    with open('/proc/%d/status' % pid) as f:
        return int(f.read().split('Threads:')[1].split()[0])


def python_started(fe):
    """Python is started when the embedded pool's threads exist."""
    return 'starting embedded Python' in fe.log()


def maps_libpython(pid):
    """The front end loads its Python module, and libpython with it, only when
    the settings need it (docs/decisions.md 50)."""
    with open('/proc/%d/maps' % pid) as f:
        return 'libpython' in f.read()


class Embedded(FrontendTestCase):
    """A script alias with no process group runs in the front end (embedded.h)."""

    def setUp(self):
        super().setUp()
        # The private socket's directory goes under $TMPDIR: a front end that
        # close() SIGKILLs cannot remove it, so each test gets its own TMPDIR.
        self.old_tmpdir = os.environ.get('TMPDIR')
        self.tmpdir = tempfile.mkdtemp(prefix='wsgid-embedded-test-')
        os.environ['TMPDIR'] = self.tmpdir

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            if self.old_tmpdir is None:
                os.environ.pop('TMPDIR', None)
            else:
                os.environ['TMPDIR'] = self.old_tmpdir
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def test_environ_flags_and_pid(self):
        fe = self.frontend(embedded_settings(threads=5))
        self.assertTrue(python_started(fe))
        self.assertTrue(maps_libpython(fe.proc.pid))
        self.assertGreaterEqual(thread_count(fe.proc.pid), 6)  # loop + ThreadsPerChild
        r = fe.get('/environ')
        self.assertEqual(r.status, 200)
        env = json.loads(r.data)
        self.assertIs(env['wsgi.multithread'], True)
        self.assertIs(env['wsgi.multiprocess'], False)
        self.assertIs(env['wsgi.run_once'], False)
        self.assertEqual(env['mod_wsgi.process_group'], '')
        self.assertEqual(env['pid'], fe.proc.pid)
        self.assertNotIn('wsgid.request_start', env)

    def test_python_path_applies(self):
        s = embedded_settings(threads=2)
        s['embedded']['python_path'] = ['/nonexistent/wsgid-emb-path']
        fe = self.frontend(s)
        out = json.loads(fe.get('/identity').data)
        self.assertIn('/nonexistent/wsgid-emb-path', out['sys_path'])
        self.assertEqual(out['executable'], '/usr/bin/python3')

    def test_one_thread_is_not_multithread(self):
        fe = self.frontend(embedded_settings(threads=1))
        env = json.loads(fe.get('/environ').data)
        self.assertIs(env['wsgi.multithread'], False)
        self.assertIs(env['wsgi.multiprocess'], False)

    def test_python_not_started_without_embedded_mounts(self):
        with FakeWorker() as fw:
            fe = self.frontend(frontend_settings(groups=[endpoint('g', fw.sock_path)],
                                                 mounts=[mount('/', WSGI_APP, 'g')]))
            self.assertEqual(fe.get('/x').status, 200)
            self.assertFalse(python_started(fe))
            self.assertFalse(maps_libpython(fe.proc.pid))
            base = thread_count(fe.proc.pid)
            self.assertLess(base, 5)
            # A reload that adds an embedded alias starts Python then.
            s = frontend_settings(groups=[endpoint('g', fw.sock_path)],
                                  mounts=[mount('/emb', WSGI_APP, None), mount('/', WSGI_APP, 'g')])
            fe.send_settings(s)
            wait_for(lambda: python_started(fe), 10, 'Python started after the reload')
            self.assertTrue(maps_libpython(fe.proc.pid))
            wait_for(lambda: thread_count(fe.proc.pid) >= base + 25, 10, 'ThreadsPerChild (25) threads')
            env = json.loads(fe.get('/emb/environ').data)
            self.assertEqual(env['pid'], fe.proc.pid)
            self.assertEqual(env['SCRIPT_NAME'], '/emb')
            # Removing it again keeps Python (it cannot be unloaded) and routes to the group.
            fe.send_settings(frontend_settings(groups=[endpoint('g', fw.sock_path)],
                                               mounts=[mount('/', WSGI_APP, 'g')]))
            wait_for(lambda: fe.get('/emb/environ').status == 200 and
                     fe.get('/emb/environ').data[:1] != b'{', 10, 'the route back to the group')
            self.assertGreaterEqual(thread_count(fe.proc.pid), base + 25)

    def test_reload_loads_python_from_a_directory_only_root_can_enter(self):
        """A reload that first needs Python loads the module after the privilege
        drop, from a directory the final user cannot enter (a build under /root,
        mode 0700): the front end opened the file as root (common/module_file.h)."""
        if os.geteuid() != 0:
            self.skipTest('needs root: the front end drops to www-data only as root')
        os.chmod(self.tmpdir, 0o1777)  # www-data makes the embedded socket's directory there
        sealed = tempfile.mkdtemp(prefix='wsgid-sealed-')  # mode 0700, root's
        self.addCleanup(shutil.rmtree, sealed, True)
        built = os.path.dirname(harness_frontend_binary())
        for name in ('wsgid-frontend', 'wsgid-frontend-python.so'):
            shutil.copy2(os.path.join(built, name), sealed)
        as_www = dict(user='www-data', group='www-data')
        fe = FrontendHarness(frontend_settings(**as_www), binary=os.path.join(sealed, 'wsgid-frontend'))
        self.cleanup.append(fe)
        fe.start()
        self.assertEqual(fe.get('/emb/environ').status, 404)
        self.assertFalse(maps_libpython(fe.proc.pid))
        fe.send_settings(frontend_settings(mounts=[mount('/emb', WSGI_APP, None)], **as_www))
        wait_for(lambda: python_started(fe) or 'cannot load Python' in fe.log(), 10,
                 'Python started after the reload')
        r = fe.get('/emb/environ')
        self.assertEqual(r.status, 200, r.data[:300])
        self.assertEqual(json.loads(r.data)['pid'], fe.proc.pid)
        self.assertTrue(maps_libpython(fe.proc.pid))

    def test_restrict_embedded_refuses(self):
        s = embedded_settings()
        s['restrict_embedded'] = True
        fe = self.frontend(s)
        r = fe.get('/environ')
        self.assertEqual(r.status, 500)
        wait_for(lambda: 'embedded mode of mod_wsgi disabled by runtime configuration '
                         '(WSGIRestrictEmbedded On)' in fe.log(), 5, 'the refusal in the log')
        self.assertFalse(python_started(fe))
        self.assertLess(thread_count(fe.proc.pid), 5)
        # Refused before Python is needed: the module was never loaded.
        self.assertFalse(maps_libpython(fe.proc.pid))

    def test_concurrency_up_to_threads_per_child(self):
        threads = 6
        fe = self.frontend(embedded_settings(threads=threads))
        fe.get('/environ')  # warm up: the script is loaded
        results = []
        lock = threading.Lock()

        def one():
            r = fe.get('/sleep?s=1', timeout=30)
            with lock:
                results.append((r.status, time.monotonic()))

        # threads requests at once finish together in about one second.
        start = time.monotonic()
        ts = [threading.Thread(target=one) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        self.assertEqual([st for st, _ in results], [200] * threads)
        self.assertLess(max(t for _, t in results) - start, 1.9)
        # One more than that: the last one waits for a free thread.
        results.clear()
        start = time.monotonic()
        ts = [threading.Thread(target=one) for _ in range(threads + 1)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        self.assertEqual([st for st, _ in results], [200] * (threads + 1))
        self.assertGreater(max(t for _, t in results) - start, 1.9)

    def test_app_raise_is_500(self):
        fe = self.frontend(embedded_settings(threads=2))
        self.assertEqual(fe.get('/raise').status, 500)
        self.assertEqual(fe.get('/environ').status, 200)

    def test_streaming_both_ways(self):
        fe = self.frontend(embedded_settings(threads=2, server_settings={'chunked_request': True}))
        c = fe.connection()
        for i in (0, 1, 70000):
            c.request('POST', '/echo', body=b'y' * i)
            r = c.getresponse()
            self.assertEqual(r.read(), b'y' * i)
        c.request('GET', '/generate?n=300000&block=7000')
        r = c.getresponse()
        self.assertEqual(r.getheader('Transfer-Encoding'), 'chunked')
        self.assertEqual(len(r.read()), 300000)
        c.putrequest('POST', '/count')
        c.putheader('Transfer-Encoding', 'chunked')
        c.endheaders()
        for part in (b'a' * 1000, b'b' * 200000, b'c'):
            c.send(b'%x\r\n%s\r\n' % (len(part), part))
        c.send(b'0\r\n\r\n')
        r = c.getresponse()
        self.assertEqual(json.loads(r.read())['bytes'], 201001)
        c.close()

    def test_drain_removes_the_private_socket(self):
        fe = self.frontend(embedded_settings(threads=2))
        self.assertEqual(fe.get('/environ').status, 200)
        m = [line for line in fe.log().splitlines() if 'starting embedded Python' in line]
        self.assertEqual(len(m), 1, fe.log())
        sock = m[0].rsplit(' on ', 1)[1].strip()
        self.assertTrue(os.path.exists(sock))
        fe.drain(5)
        fe.wait_exit(10)
        self.assertFalse(os.path.exists(sock))
        self.assertFalse(os.path.exists(os.path.dirname(sock)))


if __name__ == '__main__':
    unittest.main(verbosity=2)
