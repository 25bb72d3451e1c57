#!/usr/bin/python3
"""Issue 12, points 1 and 8: request bodies and HTTP parsing as Apache + mod_wsgi
define them, over real HTTP with raw bytes, wsgid-frontend in front of the real
wsgid-worker (tests/integration/wsgidtest harness).

- WSGIChunkedRequest Off (mod_wsgi's default): a chunked body for a script gets
  411 before the application runs; On: it streams, without CONTENT_LENGTH, with
  wsgi.input_terminated, read to EOF; the setting resolves per <Location>.
- LimitRequestBody per scope: a declared length over it gets 413 before the
  application runs; a chunked body passing it while streaming, or malformed
  partway, ends the application's wsgi.input read with an error and the client
  gets 413 / 400; a chunked body far larger than the front end's buffers keeps
  its RSS bounded.
- An application answering without reading the body (Content-Length bodies
  small and large, chunked ones, pipelined or sent after the answer): the rest
  is read and dropped and the connection serves its next request; passing
  LimitRequestBody or the body's read timeout meanwhile cuts the connection,
  with no second response.
- A Content-Length body of 64 KiB or more still in the client's socket
  (protocol/PROTOCOL.md 5.5): the worker reads it from that socket itself,
  exact whatever the size, with a request pipelined behind it, after a
  100-continue; an application reading part of it leaves the rest to be
  dropped, the connection kept; a client that stalls gets 408 and the
  application's read "request data read error: timed out ..."; one that
  leaves mid-body ends the read with an error, and the worker serves on.
- RFC 9110/9112: OWS stripped at both ends of field values, BWS around chunk
  extensions' ';' and '=', an unknown method token gets 501 (a method llhttp
  knows, such as PROPFIND, reaches the application), '#' in the target 400,
  Transfer-Encoding in HTTP/1.0 400.
"""

import hashlib
import json
import os
import socket
import threading
import time
import unittest

from wsgidtest import WorkerHarness, group_settings
from wsgidtest.frontend import FrontendHarness, endpoint, frontend_settings, mount
from wsgidtest.logs import log_problems
from wsgidtest.testing import WSGI_APP
from wsgidtest.wait import wait_for


def block(path, **settings):
    return {'path': path, 'is_regex': False, 'is_files': False, 'settings': settings,
            'rewrite': [], 'access': None}


def chunked_post(path, chunks, head_extra=b'', last=b'0\r\n\r\n'):
    raw = b'POST %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n%sTransfer-Encoding: chunked\r\n\r\n' % (
        path.encode(), head_extra)
    for c in chunks:
        raw += b'%x\r\n%s\r\n' % (len(c), c)
    return raw + last


def status_of(out):
    line = out.split(b'\r\n', 1)[0]
    return int(line.split()[1]) if line.startswith(b'HTTP/1.1 ') else None


def body_of(out):
    return out.split(b'\r\n\r\n', 1)[1] if b'\r\n\r\n' in out else b''


def written(path):
    """What the application wrote to the marker file, once it is there."""
    def text():
        try:
            with open(path) as f:
                return f.read()
        except FileNotFoundError:
            return ''
    wait_for(text, 10, "the application's failed read in %s" % path)
    return text()


class BodiesTestCase(unittest.TestCase):
    def setUp(self):
        self.cleanup = []

    def tearDown(self):
        for h in reversed(self.cleanup):
            log = h.log()
            bad = log_problems(log)
            if os.environ.get('WSGID_SHOW_LOGS') == '1' and log:
                print('--- log ---\n' + log)
            h.close()
            if bad:
                self.fail('log has problem lines:\n' + '\n'.join(bad[:20]))

    def pair(self, server_settings=None, locations=(), limits=None, socket_timeout=60, **group):
        w = WorkerHarness(group_settings('g', threads=4, **group))
        self.cleanup.append(w)
        w.start()
        st = frontend_settings(groups=[endpoint('g', w.sock_path, socket_timeout=socket_timeout)],
                               mounts=[mount('/', WSGI_APP, 'g')],
                               server_settings=server_settings, limits=limits)
        st['server']['locations'] = list(locations)
        fe = FrontendHarness(st)
        self.cleanup.append(fe)
        fe.start()
        self.marks = w.writable_dir('marks')
        return w, fe

    def marker(self, name):
        return os.path.join(self.marks, name)


class ChunkedRequest(BodiesTestCase):
    def test_off_is_411_before_the_app_runs(self):
        _, fe = self.pair()
        mark = self.marker('ran')
        # Only the head and a first chunk: the answer cannot wait for the body.
        raw = (b'POST /read_error?marker=%s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'
               b'5\r\nhello\r\n' % mark.encode())
        out = fe.raw(raw, timeout=5)
        self.assertEqual(status_of(out), 411, out[:200])
        self.assertIn(b'Connection: close\r\n', out)
        self.assertFalse(os.path.exists(mark))
        # The same body with a Content-Length is served.
        out = fe.raw(b'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello')
        self.assertEqual((status_of(out), body_of(out)), (200, b'hello'))

    def test_on_streams_to_eof_without_content_length(self):
        _, fe = self.pair(server_settings={'chunked_request': True})
        out = fe.raw(chunked_post('/environ', [b'abc']), timeout=10)
        self.assertEqual(status_of(out), 200, out[:300])
        env = json.loads(body_of(out))
        self.assertNotIn('CONTENT_LENGTH', env)
        self.assertIs(env['wsgi.input_terminated'], True)
        self.assertEqual(env['HTTP_TRANSFER_ENCODING'], 'chunked')
        # read() to EOF, as Django and Flask do under wsgi.input_terminated.
        out = fe.raw(chunked_post('/echo', [b'hello ', b'chunked ', b'world']), timeout=10)
        self.assertEqual((status_of(out), body_of(out)), (200, b'hello chunked world'))

    def test_resolves_per_location(self):
        # The test app answers by PATH_INFO: the <Location> is one of its paths.
        _, fe = self.pair(locations=[block('/echo', chunked_request=True)])
        self.assertEqual(status_of(fe.raw(chunked_post('/count', [b'x']), timeout=5)), 411)
        out = fe.raw(chunked_post('/echo', [b'x']), timeout=5)
        self.assertEqual((status_of(out), body_of(out)), (200, b'x'))

    def test_large_chunked_body_keeps_memory_bounded(self):
        _, fe = self.pair(server_settings={'chunked_request': True})
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=60)
        s.sendall(b'POST /count HTTP/1.1\r\nHost: a\r\nConnection: close\r\n'
                  b'Transfer-Encoding: chunked\r\n\r\n')
        part = b'q' * (1 << 20)
        peak = 0
        for i in range(64):
            s.sendall(b'100000 ; n=%d\r\n%s\r\n' % (i, part))
            if i % 8 == 0:
                peak = max(peak, fe.rss_kib())
        s.sendall(b'0\r\n\r\n')
        out = b''
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
        s.close()
        self.assertEqual(status_of(out), 200, out[:300])
        self.assertEqual(json.loads(body_of(out))['bytes'], 64 << 20)
        with open(fe.binary, 'rb') as f:
            asan = b'__asan_init' in f.read()
        self.assertLess(peak, (128 if asan else 48) * 1024, 'front end RSS peaked at %d KiB' % peak)


class LimitRequestBody(BodiesTestCase):
    def locations(self):
        # The test app answers by PATH_INFO: the <Location> is one of its paths.
        return [block('/read_error', limit_request_body=100000, chunked_request=True)]

    def test_declared_length_over_the_limit_is_413_before_the_app(self):
        _, fe = self.pair(locations=self.locations())
        mark = self.marker('ran')
        out = fe.raw(b'POST /read_error?marker=%s HTTP/1.1\r\nHost: a\r\nContent-Length: 100001\r\n\r\n'
                     % mark.encode(), timeout=5)
        self.assertEqual(status_of(out), 413, out[:200])
        self.assertFalse(os.path.exists(mark))
        # Outside the <Location>, the server's limit (1 GiB here) applies.
        out = fe.raw(b'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100001\r\nConnection: close\r\n\r\n'
                     + b'x' * 100001, timeout=10)
        self.assertEqual(status_of(out), 200)

    def refused_partway(self, mark, first, rest):
        """Sends the head and first bytes of a chunked body, waits until the
        application runs (it reads wsgi.input), sends the rest; the response."""
        s = socket.create_connection(('127.0.0.1', self.fe.port), timeout=20)
        try:
            s.sendall(b'POST /read_error?marker=%s HTTP/1.1\r\nHost: a\r\n'
                      b'Transfer-Encoding: chunked\r\n\r\n%s' % (mark.encode(), first))
            wait_for(lambda: os.path.exists(mark + '.started'), 15, 'the application to start')
            s.sendall(rest)
            out = b''
            while True:
                d = s.recv(65536)
                if not d:
                    return out
                out += d
        finally:
            s.close()

    def test_chunked_body_passing_the_limit_is_413_and_the_read_raises(self):
        _, self.fe = self.pair(locations=self.locations())
        mark = self.marker('limit')
        out = self.refused_partway(mark, b'ea60\r\n%s\r\n' % (b'a' * 60000),
                                   b'ea60\r\n%s\r\n0\r\n\r\n' % (b'b' * 60000))
        self.assertEqual(status_of(out), 413, out[:200])
        self.assertIn(b'Connection: close\r\n', out)
        # mod_wsgi's words, which applications test for, and the reason.
        self.assertRegex(written(mark), r'^OSError after \d+ bytes: request data read error: '
                                        r'request body exceeds LimitRequestBody$')

    def test_malformed_chunk_partway_is_400_and_the_read_raises(self):
        _, self.fe = self.pair(locations=self.locations())
        mark = self.marker('bad')
        out = self.refused_partway(mark, b'3e8\r\n%s\r\n' % (b'a' * 1000), b'zz\r\n')
        self.assertEqual(status_of(out), 400, out[:200])
        self.assertIn(b'Connection: close\r\n', out)
        self.assertRegex(written(mark), r'^OSError after \d+ bytes: request data read error: '
                                        r'malformed chunked request body: ')


class ResponseReader:
    """Reads responses (each with a Content-Length) from socket s, keeping
    what one recv() brought past a response for the next read(): pipelined
    responses may arrive together."""

    def __init__(self, s, timeout=20):
        self.s = s
        self.s.settimeout(timeout)
        self.buf = b''

    def read(self, count):
        """-> (list of (status, headers bytes, body), True when the server
        closed before count responses came)."""
        out = []
        while len(out) < count:
            while b'\r\n\r\n' not in self.buf:
                if not self.more():
                    return out, True
            head, rest = self.buf.split(b'\r\n\r\n', 1)
            length = int([l.split(b':', 1)[1] for l in head.split(b'\r\n')
                          if l.lower().startswith(b'content-length:')][0])
            while len(rest) < length:
                if not self.more():
                    return out, True
                rest = self.buf.split(b'\r\n\r\n', 1)[1]
            out.append((status_of(head), head, rest[:length]))
            self.buf = rest[length:]
        return out, False

    def more(self):
        d = self.s.recv(65536)
        self.buf += d
        return bool(d)


class UnreadBody(BodiesTestCase):
    """An application that answers without reading the request body: as
    Apache's ap_discard_request_body(), the rest of the body is read and
    dropped and the connection serves its next request (the response said
    nothing of closing it); a client that then passes LimitRequestBody is cut
    off, with no second response."""

    def exchange(self, fe, head, body, pipelined):
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
        try:
            after = b'GET /after HTTP/1.1\r\nHost: a\r\n\r\n'
            # The body is sent from a thread: the answer comes before it is all sent.
            data = head + body + (after if pipelined else b'')
            sender = threading.Thread(target=s.sendall, args=(data,))
            sender.start()
            reader = ResponseReader(s)
            first, closed = reader.read(1)
            self.assertFalse(closed, 'closed before the first response')
            sender.join(30)
            self.assertFalse(sender.is_alive(), 'the body was not read')
            if not pipelined:
                s.sendall(after)
            # Read by the same reader: both responses may come in one recv().
            second, closed = reader.read(1)
            self.assertFalse(closed, 'the connection was closed after the first response')
            return first[0], second[0]
        finally:
            s.close()

    def test_the_rest_is_dropped_and_the_connection_kept(self):
        _, fe = self.pair()
        for size in (1000, 70000, 1 << 20, 8 << 20):
            for pipelined in (True, False):
                with self.subTest(size=size, pipelined=pipelined):
                    head = b'POST /unread HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n' % size
                    first, second = self.exchange(fe, head, b'u' * size, pipelined)
                    self.assertEqual((first[0], first[2]), (200, b'hello /unread'))
                    self.assertNotIn(b'connection: close', first[1].lower())
                    self.assertEqual((second[0], second[2]), (200, b'hello /after'))

    def test_a_chunked_body_too(self):
        _, fe = self.pair(server_settings={'chunked_request': True})
        for pipelined in (True, False):
            with self.subTest(pipelined=pipelined):
                head = b'POST /unread HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'
                body = b''.join(b'10000\r\n%s\r\n' % (b'c' * 0x10000) for _ in range(40)) + b'0\r\n\r\n'
                first, second = self.exchange(fe, head, body, pipelined)
                self.assertEqual((first[0], first[2]), (200, b'hello /unread'))
                self.assertEqual((second[0], second[2]), (200, b'hello /after'))

    def assert_cut(self, s, timeout):
        """The server closes s (or resets it) within timeout, sending nothing more."""
        s.settimeout(timeout)
        rest = b''
        while True:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                break
            if not d:
                break
            rest += d
        self.assertEqual(rest, b'', 'a second response after the first: %r' % rest[:200])

    def test_a_client_that_stops_sending_is_cut_after_the_body_timeout(self):
        _, fe = self.pair(limits={'body_timeout': 1})
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
        try:
            s.sendall(b'POST /unread HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n' + b'u' * 100000)
            first, closed = ResponseReader(s).read(1)
            self.assertEqual((first[0][0], first[0][2]), (200, b'hello /unread'))
            t0 = time.monotonic()
            self.assert_cut(s, 15)
            self.assertLess(time.monotonic() - t0, 10)
        finally:
            s.close()

    def test_past_the_limit_while_dropped_the_connection_is_cut(self):
        _, fe = self.pair(locations=[block('/limited', limit_request_body=100000, chunked_request=True)])
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
        try:
            s.sendall(b'POST /limited HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'
                      b'10\r\n%s\r\n' % (b'a' * 16))
            first, closed = ResponseReader(s).read(1)
            self.assertEqual((first[0][0], first[0][2]), (200, b'hello /limited'))
            try:
                s.sendall(b'ea60\r\n%s\r\n' % (b'b' * 60000) * 2)
            except OSError:
                pass  # cut off already
            self.assert_cut(s, 10)
        finally:
            s.close()


def post_head(path, n, extra=b''):
    return b'POST %s HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n%s\r\n' % (path.encode(), n, extra)


def body_bytes(n):
    """n bytes that are not all one value, so a lost or moved piece shows."""
    block = bytes(range(256)) * 257  # 65792: not a multiple of any read size
    return (block * (n // len(block) + 1))[:n]


def counted(data):
    return {'bytes': len(data), 'md5': hashlib.md5(data).hexdigest()}


class BodyHandover(BodiesTestCase):
    """The client's socket goes to the worker, which reads the rest of the
    body from it (BODY_SOCKET / BODY_TAKEN, protocol/PROTOCOL.md 5.5)."""

    def test_exact_bodies_then_the_pipelined_request(self):
        _, fe = self.pair()
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
        try:
            reader = ResponseReader(s)
            for n in (70000, (1 << 20) + 3, 8 << 20):
                with self.subTest(n=n):
                    data = body_bytes(n)
                    sender = threading.Thread(target=s.sendall, args=(
                        post_head('/count', n) + data + b'GET /after HTTP/1.1\r\nHost: a\r\n\r\n',))
                    sender.start()
                    (first, second), closed = reader.read(2)
                    sender.join(30)
                    self.assertFalse(closed)
                    self.assertEqual((first[0], json.loads(first[2])), (200, counted(data)))
                    self.assertEqual((second[0], second[2]), (200, b'hello /after'))
        finally:
            s.close()

    def test_after_100_continue(self):
        _, fe = self.pair()
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
        try:
            n = 3 << 20
            s.sendall(post_head('/count', n, b'Expect: 100-continue\r\n'))
            got = b''
            while b'\r\n\r\n' not in got:
                got += s.recv(100)
            self.assertTrue(got.startswith(b'HTTP/1.1 100 Continue\r\n\r\n'), got)
            reader = ResponseReader(s)
            reader.buf = got.split(b'\r\n\r\n', 1)[1]
            data = body_bytes(n)
            sender = threading.Thread(target=s.sendall, args=(data,))
            sender.start()
            (r,), closed = reader.read(1)
            sender.join(30)
            self.assertEqual((r[0], json.loads(r[2])), (200, counted(data)))
        finally:
            s.close()

    def test_an_upload_longer_than_socket_timeout_that_keeps_moving(self):
        # socket-timeout bounds the wait for a worker, not an upload in
        # progress: 1 MiB sent over about 3 s with socket-timeout=1 is served.
        # An application that reads nothing of it does not answer: 504 after
        # socket-timeout, as when it does not answer a GET.
        _, fe = self.pair(socket_timeout=1)
        data = body_bytes(1 << 20)
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
        try:
            s.sendall(post_head('/count', len(data)) + data[:100000])
            for i in range(100000, len(data), 65536):
                time.sleep(0.2)
                s.sendall(data[i:i + 65536])
            (r,), closed = ResponseReader(s).read(1)
            self.assertEqual((r[0], json.loads(r[2])), (200, counted(data)))
        finally:
            s.close()
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
        try:
            s.sendall(post_head('/sleep?s=5', 300000) + b'v' * 300000)
            t0 = time.monotonic()
            (r,), closed = ResponseReader(s).read(1)
            self.assertEqual(r[0], 504, r)
            self.assertLess(time.monotonic() - t0, 4.5)
        finally:
            s.close()

    def stalled_upload(self, fe, mark, byte):
        """POSTs /read_error a 2 MB body of which 100 KB come, then nothing ->
        (the one response, seconds it took)."""
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
        try:
            s.sendall(post_head('/read_error?marker=%s' % mark, 2000000) + byte * 100000)
            t0 = time.monotonic()
            (r,), _ = ResponseReader(s).read(1)
            return r, time.monotonic() - t0
        finally:
            s.close()

    def test_a_stalled_upload_past_socket_timeout_ends_the_workers_read_too(self):
        # The client stops sending and the body's read timeout is long: the
        # front end answers 504 at socket-timeout and closes, and the worker's
        # read, waiting on its copy of the socket, ends then too (the front end
        # shuts the connection down), not 30 s later.
        _, fe = self.pair(socket_timeout=1, limits={'body_timeout': 30})
        mark = self.marker('stalled_long')
        r, took = self.stalled_upload(fe, mark, b'w')
        self.assertEqual(r[0], 504, r)
        self.assertEqual(written(mark), 'OSError after 65536 bytes: request data read error: '
                                        'the client closed the connection before the end of the request body')
        self.assertLess(took, 10)

    def test_part_read_the_rest_dropped_and_the_connection_kept(self):
        _, fe = self.pair()
        for pipelined in (True, False):
            with self.subTest(pipelined=pipelined):
                n, part = 2 << 20, 100000
                data = body_bytes(n)
                first, second = UnreadBody.exchange(self, fe, post_head('/read_part?n=%d' % part, n), data, pipelined)
                self.assertEqual((first[0], json.loads(first[2])), (200, counted(data[:part])))
                self.assertNotIn(b'connection: close', first[1].lower())
                self.assertEqual((second[0], second[2]), (200, b'hello /after'))

    def test_a_client_that_stalls_gets_408_and_the_read_raises(self):
        _, fe = self.pair(limits={'body_timeout': 1})
        mark = self.marker('stalled')
        r, took = self.stalled_upload(fe, mark, b'u')
        self.assertEqual(r[0], 408, r)
        self.assertLess(took, 10)
        self.assertIn(b'Connection: close', r[1])
        # read(65536) raises with the bytes of the read that failed unreturned.
        self.assertEqual(written(mark), 'OSError after 65536 bytes: request data read error: '
                                        'timed out reading the request body (RequestReadTimeout body)')

    def test_request_timeout_while_the_worker_reads_it(self):
        # The worker ends the request itself (request-timeout) while its
        # thread waits on the client's socket: where the body stands is
        # unknown, so the answer closes the connection at once rather than
        # wait for a body the client is not sending.
        w, fe = self.pair(request_timeout=1, graceful_timeout=1)
        mark = self.marker('timed_out')
        r, took = self.stalled_upload(fe, mark, b'u')
        self.assertIn(r[0], (502, 504), r)
        self.assertIn(b'Connection: close', r[1])
        self.assertLess(took, 10)

    def test_a_client_that_leaves_mid_body_ends_the_read_the_worker_serves_on(self):
        _, fe = self.pair()
        mark = self.marker('left')
        s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
        s.sendall(post_head('/read_error?marker=%s' % mark, 2000000) + b'u' * 300000)
        wait_for(lambda: os.path.exists(mark + '.started'), 10, 'the application running')
        time.sleep(0.2)
        s.close()
        self.assertEqual(written(mark), 'OSError after 262144 bytes: request data read error: '
                                        'the client closed the connection before the end of the request body')
        for _ in range(6):  # every thread of the worker still serves
            data = body_bytes(200000)
            out = fe.raw(post_head('/count', len(data), b'Connection: close\r\n') + data)
            self.assertEqual((status_of(out), json.loads(body_of(out))), (200, counted(data)))

    def test_body_timeout_0_means_timeout_applies(self):
        # RequestReadTimeout body=0 disables mod_reqtimeout's body limit: a
        # body that pauses is read under Timeout (here 3 s), not cut at once;
        # past Timeout the connection is cut.
        _, fe = self.pair(limits={'body_timeout': 0, 'timeout': 3})
        for path, n in (('/count', 2000), ('/count', 300000)):
            with self.subTest(n=n):
                data = body_bytes(n)
                s = socket.create_connection(('127.0.0.1', fe.port), timeout=30)
                try:
                    s.sendall(post_head(path, n) + data[:n // 2])
                    time.sleep(1.2)
                    s.sendall(data[n // 2:])
                    (r,), closed = ResponseReader(s).read(1)
                    self.assertEqual((r[0], json.loads(r[2])), (200, counted(data)))
                finally:
                    s.close()


class Parsing(BodiesTestCase):
    def test_rfc9110_9112_points(self):
        _, fe = self.pair(server_settings={'chunked_request': True})
        # OWS at both ends of a field value is not part of it.
        out = fe.raw(b'GET /environ HTTP/1.1\r\nHost: a\r\nX-Pad: \t v \t\r\nConnection: close\r\n\r\n')
        self.assertEqual(json.loads(body_of(out))['HTTP_X_PAD'], 'v')
        # BWS around a chunk extension's ';' and '=' (RFC 9112 7.1.1).
        out = fe.raw(chunked_post('/echo', [], last=b'5 ; a=b\r\nhello\r\n3\t;\tc = "d;e"\r\nabc\r\n0 ;z\r\n\r\n'))
        self.assertEqual((status_of(out), body_of(out)), (200, b'helloabc'))
        cases = [
            (b'BREW /environ HTTP/1.1\r\nHost: a\r\n\r\n', 501),
            (b'GET /environ#frag HTTP/1.1\r\nHost: a\r\n\r\n', 400),
            (b'POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 400),
        ]
        for raw, want in cases:
            out = fe.raw(raw, timeout=5)
            self.assertEqual(status_of(out), want, (raw, out[:200]))
            self.assertIn(b'Connection: close\r\n', out)
        # A method llhttp knows that is not GET/POST reaches the application.
        out = fe.raw(b'PROPFIND /environ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
        self.assertEqual(json.loads(body_of(out))['REQUEST_METHOD'], 'PROPFIND')


if __name__ == '__main__':
    unittest.main(verbosity=2)
