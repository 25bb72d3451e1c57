#!/usr/bin/python3
"""wsgid-worker on its own through the protocol (issue #3): title, identity,
environ, PEP 3333, errors, connection reuse, cancel, drain, signals, crashes."""

import hashlib
import json
import os
import pwd
import grp
import re
import signal
import socket
import threading
import time
import unittest

from wsgidtest import frames as F
from wsgidtest import StartedPage, group_settings, make_environ, running_as_root
from wsgidtest.testing import APPS, WSGI_APP, WorkerTestCase
from wsgidtest.wait import wait_for


def pattern(n):
    """Byte i is i % 251 (the /download route's body)."""
    return (bytes(range(251)) * (n // 251 + 1))[:n]


def recv_exact(sock, n):
    out = b''
    sock.settimeout(30)
    while len(out) < n:
        d = sock.recv(min(1 << 20, n - len(out)))
        if not d:
            break
        out += d
    return out


def read_proc(pid, name):
    with open('/proc/%d/%s' % (pid, name), 'rb') as f:
        return f.read()


class TitleTest(WorkerTestCase):
    def test_titles(self):
        long_name = 'a-rather-long-group-name-that-apache-would-truncate'
        cases = [
            # (group name, display-name, cmdline, comm)
            ('site1', '%{GROUP}', b'(wsgi:site1)\0', b'(wsgi:site1)\n'),
            (long_name, '%{GROUP}', ('(wsgi:%s)' % long_name).encode() + b'\0', b'(wsgi:a-rather-\n'),
            ('site2', 'app-%{GROUP}-x', b'app-site2-x\0', b'app-site2-x\n'),
            ('site3', None, b'wsgid-worker site3\0', b'wsgid-worker si\n'),
        ]
        for name, display, cmdline, comm in cases:
            with self.subTest(name=name, display=display):
                h = self.worker(group_settings(name, threads=1, display_name=display))
                self.assertEqual(read_proc(h.pid, 'cmdline'), cmdline)
                self.assertEqual(read_proc(h.pid, 'comm'), comm)
                h.close()


class IdentityTest(WorkerTestCase):
    def identity(self, h, **kw):
        r = self.get(h, '/identity', **kw)
        self.assertEqual(r.status, 200, (r, h.log()))
        return json.loads(r.body)

    @unittest.skipUnless(running_as_root(), 'identity changes need root')
    def test_default_user_www_data(self):
        h = self.worker()
        ident = self.identity(h)
        www = pwd.getpwnam('www-data')
        self.assertEqual((ident['uid'], ident['euid'], ident['gid']), (www.pw_uid, www.pw_uid, www.pw_gid))
        expected = sorted({g.gr_gid for g in grp.getgrall() if 'www-data' in g.gr_mem} | {www.pw_gid})
        self.assertEqual(ident['groups'], expected)

    @unittest.skipUnless(running_as_root(), 'identity changes need root')
    def test_user_group_supplementary_umask_home_lang_locale(self):
        nobody = pwd.getpwnam('nobody')
        nogroup = grp.getgrnam('nogroup').gr_gid
        h = self.worker(start=False, group=group_settings(
            threads=1, user='nobody', group='nogroup', supplementary_groups='www-data,#4242',
            umask='0027', lang='C.UTF-8', locale='C.UTF-8'))
        h.group['home'] = h.tmp
        h.start()
        ident = self.identity(h)
        self.assertEqual((ident['uid'], ident['gid']), (nobody.pw_uid, nogroup))
        self.assertEqual(ident['groups'], sorted([grp.getgrnam('www-data').gr_gid, 4242]))
        self.assertEqual(ident['umask'], 0o027)
        self.assertEqual(ident['cwd'], h.tmp)
        self.assertEqual((ident['lang'], ident['lc_all']), ('C.UTF-8', 'C.UTF-8'))

    @unittest.skipUnless(running_as_root(), 'identity changes need root')
    def test_refuses_root(self):
        cases = [
            ({'user': 'root'}, {}, "refusing to run as root: user 'root' is uid 0"),
            ({'user': '#0'}, {}, "refusing to run as root: user '#0' is uid 0"),
            ({}, {'default_user': None, 'default_group': None},
             'refusing to run as root: the group has no user= and there is no User'),
            ({'user': 'no-such-user-xyz'}, {}, "unknown user 'no-such-user-xyz'"),
            ({'group': 'no-such-group-xyz'}, {}, "unknown group 'no-such-group-xyz'"),
        ]
        for opts, top, detail in cases:
            with self.subTest(detail=detail):
                h = self.worker(group_settings(threads=1, **opts), start=False, **top)
                h.start(wait_ready=False)
                self.assertEqual(h.wait_exit(30), 1)
                self.assertEqual(h.exiting(), {'reason': 'startup-failure', 'detail': detail})
                self.assertNotIn('READY', [n for n, _ in h.control_frames])

    def test_stack_size(self):
        for size in (524288, 2 * 1048576):
            with self.subTest(size=size):
                h = self.worker(group_settings(threads=1, stack_size=size))
                self.assertEqual(int(self.get(h, '/stack').body), size)
                h.close()

    def test_python_path_and_home(self):
        h = self.worker(start=False, group=group_settings(threads=1))
        h.write('lib/mymod_for_test.py', 'VALUE = 42\n')
        h.write('lib/extra.pth', os.path.join(h.tmp, 'pth_dir') + '\n')
        h.write('pth_dir/from_pth.py', 'VALUE = 7\n')
        h.write('app.wsgi', 'import mymod_for_test, from_pth\n'
                'def application(e, sr):\n'
                '    sr("200 OK", [])\n'
                '    return [b"%d %d" % (mymod_for_test.VALUE, from_pth.VALUE)]\n')
        h.group['python-path'] = [h.path('lib')]
        h.group['python-home'] = '/usr'
        h.start()
        for group in ('', 'sub'):
            r = self.get(h, '/', script=h.path('app.wsgi'), app_group=group)
            self.assertEqual((r.status, r.body), (200, b'42 7'), h.log())
        ident = self.identity(h)
        self.assertEqual(ident['sys_path'][0], h.path('lib'))
        self.assertEqual(ident['executable'], '/usr/bin/python3')


class EnvironTest(WorkerTestCase):
    def environ(self, h, **kw):
        r = self.get(h, '/environ', **kw)
        self.assertEqual(r.status, 200, (r, h.log()))
        return json.loads(r.body)

    def test_every_key(self):
        h = self.worker()
        sent = make_environ('/environ', query='a=1&b=%20', script=WSGI_APP, headers={'X-Thing': 'v1'},
                            script_name='/mount', app_group='', extra={'HTTP_COOKIE': 'c=\xe9'})
        r = h.request(sent)
        self.assertEqual(r.status, 200, h.log())
        env = json.loads(r.body)
        for k, v in sent:
            if k.startswith('wsgid.'):
                self.assertNotIn(k, env)
            else:
                self.assertEqual(env[k], v, k)
        self.assertEqual(env['HTTP_COOKIE'], 'c=\xe9')  # latin-1 native string
        self.assertEqual(env['wsgi.version'], [1, 0])
        self.assertEqual(env['wsgi.url_scheme'], 'http')
        self.assertIs(env['wsgi.input_terminated'], True)
        self.assertIs(env['wsgi.multithread'], True)
        self.assertIs(env['wsgi.multiprocess'], False)
        self.assertIs(env['wsgi.run_once'], False)
        self.assertEqual(env['input_methods'], ['read', 'readline', 'readlines', '__iter__'])
        self.assertEqual(env['errors_methods'], ['write', 'writelines', 'flush'])
        self.assertIn('wsgi.file_wrapper', env)
        self.assertEqual(env['mod_wsgi.process_group'], 'testgrp')
        self.assertEqual(env['mod_wsgi.application_group'], '')
        for k, t in env['types'].items():
            if k.isupper():
                self.assertEqual(t, 'str', k)
        expected_keys = {k for k, _ in sent if not k.startswith('wsgid.')} | {
            'wsgi.version', 'wsgi.url_scheme', 'wsgi.input', 'wsgi.errors', 'wsgi.multithread',
            'wsgi.multiprocess', 'wsgi.run_once', 'wsgi.input_terminated', 'wsgi.file_wrapper'}
        self.assertEqual(set(env['types']), expected_keys)
        env = self.environ(h, https=True)
        self.assertEqual(env['wsgi.url_scheme'], 'https')

    def test_flags(self):
        # wsgi.multithread / multiprocess / run_once as mod_wsgi sets them per processes/threads.
        cases = [
            (dict(threads=25), False, True, False, False),
            (dict(threads=25), True, True, True, False),
            (dict(threads=25, processes=2), True, True, True, False),
            (dict(threads=1, processes=5), True, False, True, False),
            (dict(threads=1, maximum_requests=1), False, False, False, True),
        ]
        for opts, given, mt, mp, ro in cases:
            with self.subTest(opts=opts, given=given):
                h = self.worker(group_settings(processes_given=given, **opts))
                env = self.environ(h)
                self.assertEqual((env['wsgi.multithread'], env['wsgi.multiprocess'], env['wsgi.run_once']),
                                 (mt, mp, ro))
                h.close()


class Pep3333Test(WorkerTestCase):
    def setUp(self):
        super().setUp()
        self.h = self.worker()

    def test_input(self):
        body = b'line one\nabcdef\nline three\nfour\nfive\n'
        r = self.h.request(make_environ('/echo', method='POST', script=WSGI_APP, body=body), body)
        self.assertEqual((r.status, r.body), (200, body))
        r = self.h.request(make_environ('/read_sized', query='n=7', method='POST', script=WSGI_APP, body=b'x' * 20), b'x' * 20)
        self.assertEqual(json.loads(r.body), [7, 7, 6])
        r = self.h.request(make_environ('/lines', query='hint=1', method='POST', script=WSGI_APP, body=body), body)
        self.assertEqual(json.loads(r.body), {
            'first': 'line one\n', 'limited': 'abc', 'rest_line': 'def\n', 'hinted': ['line three\n'],
            'iterated': ['four\n', 'five\n'], 'after': ''})
        # Body in many frames, and no body at all.
        chunks = [b'ab', b'', b'c\nd', b'e\n']
        r = self.h.request(make_environ('/lines', method='POST', script=WSGI_APP), chunks)
        self.assertEqual(json.loads(r.body)['first'], 'abc\n')
        r = self.h.request(make_environ('/echo', method='POST', script=WSGI_APP))
        self.assertEqual((r.status, r.body), (200, b''))

    def test_environ_keys_reused_issue16(self):
        self.get(self.h, '/key_identity')
        same = json.loads(self.get(self.h, '/key_identity').body)
        for key in ('PATH_INFO', 'REQUEST_METHOD', 'SCRIPT_FILENAME'):
            self.assertIn(key, same)

    def test_input_read_length_and_readinto_issue16(self):
        big = bytes(range(256)) * 900  # 230,400 bytes: several 64 KiB frames in and out
        chunks = [big[i:i + 60000] for i in range(0, len(big), 60000)]
        r = self.h.request(make_environ('/read_length', method='POST', script=WSGI_APP, body=big), chunks)
        self.assertEqual((r.status, len(r.body), r.body == big, r.complete), (200, len(big), True, True))
        cases = [
            # (query, body chunks, counts, body): readinto fills the buffer across frames
            ('n=4', [b'ab', b'cdef', b'g'], [4, 3], 'abcdefg'),
            ('n=10', [b'ab', b'cdef', b'g'], [7], 'abcdefg'),
            ('n=3&skip=2', [b'abcdef'], [3, 1], 'cdef'),
            ('n=3', [], [], ''),
        ]
        for query, body, counts, text in cases:
            with self.subTest(query=query, body=body):
                r = self.h.request(make_environ('/readinto', query=query, method='POST', script=WSGI_APP), body)
                self.assertEqual(json.loads(r.body), {'counts': counts, 'body': text})

    def test_write_and_iterables(self):
        r = self.get(self.h, '/write')
        self.assertEqual((r.status, r.body), (200, b'written then returned'))
        r = self.get(self.h, '/empty')
        self.assertEqual((r.status, r.reason, r.headers, r.body, r.complete), (204, 'No Content', [('X-Empty', '1')], b'', True))
        r = self.get(self.h, '/file_wrapper')
        with open(WSGI_APP, 'rb') as f:
            self.assertEqual(r.body, f.read())
        r = self.get(self.h, '/generate?n=200000&block=70000')
        self.assertEqual((r.status, len(r.body)), (200, 200000))

    def test_exc_info_rules(self):
        r = self.get(self.h, '/exc_info')
        self.assertEqual((r.status, r.body), (503, b'replaced head'))
        r = self.get(self.h, '/exc_info_after_head')
        self.assertEqual(r.status, 200)
        self.assertEqual(r.error, (500, 'Internal Server Error'))
        self.assertIn("KeyError: 'too late'", self.h.log())

    def test_app_errors(self):
        cases = [
            ('/raise', (500, 'Internal Server Error'), None, 'RuntimeError: boom from the test app'),
            ('/raise_after_head', (500, 'Internal Server Error'), 200, 'ValueError: failed in the middle'),
            ('/second_start_response', (500, 'Internal Server Error'), None,
             'AssertionError: start_response() called a second time without exc_info'),
            ('/bad_header', (500, 'Internal Server Error'), None, 'ValueError: header value contains a newline'),
            ('/str_body', (500, 'Internal Server Error'), None, 'TypeError: response data must be bytes, not str'),
        ]
        # The traceback of /second_start_response is expected in the log.
        self.allowed_log_lines.append(cases[2][3])
        for path, error, status, logged in cases:
            with self.subTest(path=path):
                c = self.h.connect()
                r = c.request(make_environ(path, script=WSGI_APP))
                self.assertEqual((r.error, r.status), (error, status))
                rid = c.next_id - 1
                log = wait_for(lambda: logged in self.h.log() and self.h.log(), 5, logged)
                self.assertIn("request %d: Exception occurred processing WSGI script '%s'." % (rid, WSGI_APP), log)
                self.assertIn('request %d: %s' % (rid, logged), log)
                # The connection and the worker keep serving.
                r = c.request(make_environ('/after', script=WSGI_APP))
                self.assertEqual(r.body, b'hello /after')
                c.close()

    def test_missing_callable_and_broken_script(self):
        nc = os.path.join(APPS, 'no_callable.wsgi')
        r = self.get(self.h, '/', script=nc)
        self.assertEqual(r.error, (404, 'Not Found'))
        self.assertIn("Target WSGI script '%s' does not contain WSGI application 'application'." % nc, self.h.log())
        r = self.get(self.h, '/', script=nc, callable_object='app')
        self.assertEqual(r.body, b'unreachable')
        r = self.get(self.h, '/', script=WSGI_APP, callable_object='other')
        self.assertEqual(r.body, b'other callable')
        broken = os.path.join(APPS, 'broken.wsgi')
        r = self.get(self.h, '/', script=broken)
        self.assertEqual(r.error, (500, 'Internal Server Error'))
        log = self.h.log()
        self.assertIn("Failed to exec Python script file '%s'." % broken, log)
        self.assertIn('ImportError: broken on purpose', log)
        r = self.get(self.h, '/', script=os.path.join(APPS, 'does-not-exist.wsgi'))
        self.assertEqual(r.error, (500, 'Internal Server Error'))
        self.assertIn('FileNotFoundError', self.h.log())

    def test_bad_request_head(self):
        c = self.h.connect()
        c.send_request(1, [('REQUEST_METHOD', 'GET')])
        r = c.read_response(1)
        self.assertEqual(r.error, (400, 'request head has no SCRIPT_FILENAME'))
        r = c.request(make_environ('/ok', script=WSGI_APP))
        self.assertEqual(r.body, b'hello /ok')

    def test_errors_stream_logged_with_request_id(self):
        c = self.h.connect()
        r = c.request(make_environ('/errors', script=WSGI_APP))
        self.assertEqual(r.body, b'logged')
        log = self.h.log()
        for line in ('first error line', 'second part', 'unterminated'):
            self.assertIn('[error] [worker testgrp %d] request 1: %s\n' % (self.h.pid, line), log)

    def test_connection_reuse(self):
        c = self.h.connect()
        for i in range(50):
            r = c.request(make_environ('/n%d' % i, script=WSGI_APP))
            self.assertEqual(r.body, b'hello /n%d' % i)
        # A body the app never reads is skipped before the next request.
        r = c.request(make_environ('/unread', method='POST', script=WSGI_APP), b'z' * 300000)
        self.assertEqual(r.body, b'hello /unread')
        r = c.request(make_environ('/next', script=WSGI_APP))
        self.assertEqual(r.body, b'hello /next')
        wait_for(lambda: self.h.state()['requests'] == 52, 5, '52 requests counted')

    def test_started_page_instead_of_started_frame(self):
        # A front end that sends its started page with HELLO (PROTOCOL.md 5.2)
        # finds the request's id there while the application runs, and no
        # STARTED frame; the next request on the connection is marked too.
        page = StartedPage()
        self.addCleanup(page.close)
        c = self.h.connect(page=page)
        c.send_request(7, make_environ('/sleep', query='s=1', script=WSGI_APP))
        wait_for(lambda: page.marked() == 7, 10, 'request 7 marked in the page')
        r = c.read_response(7)
        self.assertEqual((r.status, r.body, r.started), (200, b'slept', False), r.frames)
        self.assertEqual(r.frames[0], 'RESPONSE_HEAD')
        c.send_request(8, make_environ('/n8', script=WSGI_APP))
        r = c.read_response(8)
        self.assertEqual((r.body, r.started, page.marked()), (b'hello /n8', False, 8))
        # A request the worker answers without calling the application (a
        # malformed head) leaves the page alone.
        c.sock.sendall(F.frame(F.REQUEST_HEAD, 9, b'\x00'))
        c.sock.sendall(F.frame(F.REQUEST_END, 9))
        r = c.read_response(9)
        self.assertEqual((r.error[0], page.marked()), (400, 8), r.frames)
        # A page that could shrink under the worker (not sealed) is refused:
        # the worker says why and sends STARTED frames instead.
        loose = StartedPage(seal=False)
        self.addCleanup(loose.close)
        c2 = self.h.connect(page=loose)
        r = c2.request(make_environ('/n1', script=WSGI_APP))
        self.assertEqual((r.body, r.started, loose.marked()), (b'hello /n1', True, 0))
        self.assertIn('front-end connection: started page: not a sealed regular file of at least 4096 bytes; '
                      'sending STARTED frames instead', self.h.log())

    def test_requests_sent_ahead(self):
        # The front end may send requests behind the one the worker serves
        # (PROTOCOL.md 5.7): they are answered in order, one withdrawn before
        # its turn is skipped without a frame, and frames of requests ahead met
        # while the current one looks for a CANCEL (at each write) or for its
        # RESPONSE_SOCKET are kept for their turn.
        page = StartedPage()
        self.addCleanup(page.close)
        c = self.h.connect(page=page)
        marker = os.path.join(self.h.writable_dir(), 'closing-ahead')
        c.send_request(20, make_environ('/closing', method='POST', query='marker=%s&count=4&delay=0.3&read=1' % marker,
                                        script=WSGI_APP, extra={'CONTENT_LENGTH': '5'}), b'hello')
        wait_for(lambda: page.marked() == 20, 10, 'request 20 marked in the page')
        for slot, rid in enumerate((21, 22, 23)):
            page.offer(slot, rid)
            c.send_request(rid, make_environ('/n%d' % rid, script=WSGI_APP))
        self.assertTrue(page.withdraw(1, 22))
        r = c.read_response(20)
        self.assertEqual((r.status, r.complete), (200, True), r.frames)
        r = c.read_response(21)
        self.assertEqual(r.body, b'hello /n21', r.frames)
        r = c.read_response(23)  # nothing for 22 comes between: read_response would raise
        self.assertEqual(r.body, b'hello /n23', r.frames)
        self.assertEqual([page.slot(i) for i in range(3)], [0, 0, 0])  # claimed or skipped: free
        self.assertEqual(page.marked(), 23)
        # Behind a response that asks for the client's socket (refused here):
        # the answer to the ask comes after the request ahead.
        c.send_request(30, make_environ('/download', query='n=200000&block=65536', script=WSGI_APP))
        page.offer(0, 31)
        c.send_request(31, make_environ('/n31', script=WSGI_APP))
        r = c.read_response(30)
        self.assertEqual((r.status, r.asked, len(r.body), r.complete), (200, 200000, 200000, True), r.frames)
        self.assertEqual(c.read_response(31).body, b'hello /n31')
        self.assertEqual(c.request(make_environ('/n32', script=WSGI_APP)).body, b'hello /n32')
        self.assertNotIn('unexpected', self.h.log())

    def client_socket(self):
        """(the end given to the worker, the client's end) of a loopback TCP connection."""
        ls = socket.create_server(('127.0.0.1', 0))
        self.addCleanup(ls.close)
        client = socket.create_connection(ls.getsockname())
        server, _ = ls.accept()
        self.addCleanup(client.close)
        self.addCleanup(server.close)
        return server, client

    def test_body_read_from_the_client_socket(self):
        # BODY_SOCKET (PROTOCOL.md 5.5): the worker reads the rest of the body
        # from the descriptor, exactly its length, says how much in BODY_TAKEN
        # before the response's end, and leaves what follows in the socket.
        c = self.h.connect()
        server, client = self.client_socket()
        rest = bytes(range(256)) * 4096  # 1 MiB
        env = make_environ('/count', method='POST', script=WSGI_APP,
                           extra={'CONTENT_LENGTH': str(5 + len(rest))})
        c.send_request_with_socket(1, env, b'first', server.fileno(), len(rest), 5000)
        sender = threading.Thread(target=client.sendall, args=(rest + b'NEXT',))
        sender.start()
        r = c.read_response(1)
        sender.join(30)
        self.assertEqual((r.status, r.taken), (200, (len(rest), 0)), r.frames)
        self.assertEqual(json.loads(r.body), {'bytes': 5 + len(rest), 'md5': hashlib.md5(b'first' + rest).hexdigest()})
        self.assertLess(r.frames.index('BODY_TAKEN'), r.frames.index('RESPONSE_END'))
        server.settimeout(5)
        self.assertEqual(server.recv(100), b'NEXT')
        # Part of it read: the count says where the client's stream stands.
        client.sendall(b'x' * 300000)
        c.send_request_with_socket(2, make_environ('/read_part', method='POST', query='n=1000', script=WSGI_APP,
                                                   extra={'CONTENT_LENGTH': '300000'}),
                                   b'', server.fileno(), 300000, 5000)
        r = c.read_response(2)
        self.assertEqual((r.status, r.taken, json.loads(r.body)['bytes']), (200, (1000, 0), 1000))
        got = b''
        while len(got) < 299000:
            got += server.recv(65536)
        self.assertEqual(got, b'x' * 299000)
        # Not read at all: no BODY_TAKEN (the front end reads the end first:
        # none was taken), the socket untouched, the connection serves on.
        client.sendall(b'y' * 5000)
        c.send_request_with_socket(3, make_environ('/n3', method='POST', script=WSGI_APP,
                                                   extra={'CONTENT_LENGTH': '5000'}),
                                   b'', server.fileno(), 5000, 5000)
        r = c.read_response(3)
        self.assertEqual((r.body, r.taken), (b'hello /n3', None))
        r = c.request(make_environ('/n4', script=WSGI_APP))
        self.assertEqual(r.body, b'hello /n4')
        got = b''
        while len(got) < 5000:
            got += server.recv(65536)
        self.assertEqual(got, b'y' * 5000)

    def failed_body_read(self, name, timeout_ms, client_leaves):
        """/read_error given a client socket that sent 10 bytes of 100000 and
        then stalls (or leaves) -> (BODY_TAKEN's (bytes, how), what the
        application's failed read wrote)."""
        c = self.h.connect()
        server, client = self.client_socket()
        client.sendall(b'z' * 10)
        if client_leaves:
            client.close()
        mark = os.path.join(self.h.writable_dir(), name)
        c.send_request_with_socket(1, make_environ('/read_error', method='POST', query='marker=' + mark,
                                                   script=WSGI_APP, extra={'CONTENT_LENGTH': '100000'}),
                                   b'', server.fileno(), 100000, timeout_ms)
        r = c.read_response(1)
        wait_for(lambda: os.path.exists(mark), 10, 'the failed read written')
        with open(mark) as f:
            return r.taken, f.read()

    def test_body_socket_timeout_client_gone_and_no_descriptor(self):
        # A client that stalls past the timeout: BODY_TAKEN says so, the
        # application's read raised mod_wsgi's "request data read error".
        self.assertEqual(self.failed_body_read('stalled', 300, False), (
            (10, 1), 'OSError after 0 bytes: request data read error: '
                     'timed out reading the request body (RequestReadTimeout body)'))
        # A client that leaves mid-body.
        self.assertEqual(self.failed_body_read('left', 5000, True), (
            (10, 2), 'OSError after 0 bytes: request data read error: '
                     'the client closed the connection before the end of the request body'))
        # A BODY_SOCKET without its descriptor: a broken front end; the
        # connection is closed with the reason, the worker serves on.
        c = self.h.connect()
        c.send_request_with_socket(1, make_environ('/count', method='POST', script=WSGI_APP,
                                                   extra={'CONTENT_LENGTH': '100'}),
                                   b'', -1, 100, 5000, with_fd=False)
        r = c.read_response(1)
        self.assertTrue(r.eof or r.error, r.frames)
        wait_for(lambda: 'request 1: BODY_SOCKET frame without its descriptor: closing the front-end connection'
                 in self.h.log(), 10, 'the reason logged')
        self.assertEqual(self.get(self.h, '/still').body, b'hello /still')

    def download(self, c, rid, query, grant=None, method='GET', body=b''):
        env = make_environ('/download', query=query, method=method, script=WSGI_APP, body=body)
        c.send_request(rid, env, body)
        return c.read_response(rid, grant=grant)

    def test_response_body_written_to_the_client_socket(self):
        # SOCKET_ASK / RESPONSE_SOCKET / RESPONSE_SENT (PROTOCOL.md 5.6): a
        # response of 128 KiB or more by its Content-Length is asked for right
        # after its head; granted, the worker writes the head the front end
        # gave, then the body, to the descriptor, and counts the body bytes in
        # RESPONSE_SENT before RESPONSE_END; no RESPONSE_BODY frame.
        c = self.h.connect()
        server, client = self.client_socket()
        n = 1 << 20
        head = b'HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n'
        got = []
        reader = threading.Thread(target=lambda: got.append(recv_exact(client, len(head) + n)))
        reader.start()
        r = self.download(c, 1, 'n=%d&block=300000' % n, grant=(server.fileno(), 5000, head))
        reader.join(30)
        self.assertEqual((r.status, r.asked, r.sent, r.body_bytes), (200, n, (n, 0), 0), r.frames)
        self.assertLess(r.frames.index('RESPONSE_SENT'), r.frames.index('RESPONSE_END'))
        self.assertEqual(got, [head + pattern(n)])
        # More than the Content-Length: exactly the declared bytes go out.
        r = self.download(c, 2, 'n=300000&length=200000&block=65536', grant=(server.fileno(), 5000, b''))
        self.assertEqual((r.status, r.asked, r.sent), (200, 200000, (200000, 0)), r.frames)
        self.assertEqual(recv_exact(client, 200000), pattern(200000))
        # The head alone (no body yet the Content-Length): the head still goes.
        r = self.download(c, 3, 'n=0&length=200000', grant=(server.fileno(), 5000, head))
        self.assertEqual((r.status, r.asked, r.sent), (200, 200000, (0, 0)), r.frames)
        self.assertEqual(recv_exact(client, len(head)), head)
        client.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            client.recv(1)  # nothing more was written
        # Refused: the body comes in frames, exact.
        r = self.download(c, 4, 'n=%d&block=100000' % n)
        self.assertEqual((r.status, r.asked, r.sent, r.body), (200, n, None, pattern(n)), r.frames[:8])
        # Below 128 KiB, or a request body still unread: no SOCKET_ASK.
        r = self.download(c, 5, 'n=%d' % (128 * 1024 - 1))
        self.assertEqual((r.asked, r.body), (None, pattern(128 * 1024 - 1)))
        r = self.download(c, 6, 'n=%d' % n, method='POST', body=b'unread')
        self.assertEqual((r.asked, r.body), (None, pattern(n)))
        # A request body read to its end first: asked.
        r = self.download(c, 7, 'n=%d&read=1' % n, method='POST', body=b'x' * 70000)
        self.assertEqual((r.asked, r.body), (n, pattern(n)))

    def failed_download(self, name, timeout_ms, client_leaves):
        """/download of 16 MiB to a client socket that reads nothing (or was
        closed) -> (RESPONSE_SENT's (bytes, how), what the application's failed
        write wrote, whether the front-end connection ended)."""
        c = self.h.connect()
        server, client = self.client_socket()
        if client_leaves:
            client.close()
        mark = os.path.join(self.h.writable_dir(), name)
        r = self.download(c, 1, 'n=%d&block=1048576&marker=%s' % (16 << 20, mark),
                          grant=(server.fileno(), timeout_ms, b''))
        wait_for(lambda: os.path.exists(mark), 10, 'the failed write written')
        with open(mark) as f:
            text = f.read()
        return r.sent[1], re.sub(r'after \d+ bytes', 'after N bytes', text), r.eof and not r.complete

    def test_response_socket_timeout_and_client_gone(self):
        # A client that reads nothing past the timeout: RESPONSE_SENT says so
        # (how 1), the application's write raised, the connection to the front
        # end ends (the front end closes the client).
        self.assertEqual(self.failed_download('stalled', 300, False), (
            1, 'OSError after N bytes: sending the response: timed out after 300 ms '
               'writing the response to the client (Timeout)', True))
        # A client that left: how 2, "the client went away", as when the front
        # end reports it.
        self.assertEqual(self.failed_download('left', 5000, True), (
            2, 'OSError after N bytes: sending the response: the client went away', True))
        self.assertEqual(self.get(self.h, '/still').body, b'hello /still')

    def test_cancel_runs_close(self):
        marker = os.path.join(self.h.writable_dir(), 'closed.marker')
        c = self.h.connect()
        c.send_request(1, make_environ('/closing', query='marker=%s&count=1000&delay=0.02' % marker, script=WSGI_APP))
        self.assertEqual(c.read_frame()[0], F.STARTED)  # before the app runs (PROTOCOL.md 5.2)
        f = c.read_frame()
        self.assertEqual(f[0], F.RESPONSE_HEAD)
        c.cancel(1)
        c.close()
        wait_for(lambda: os.path.exists(marker), 10, 'close() of the iterable')
        # Also when the front end just closes the connection.
        os.unlink(marker)
        c = self.h.connect()
        c.send_request(1, make_environ('/closing', query='marker=%s&count=1000&delay=0.02' % marker, script=WSGI_APP))
        c.read_frame()
        c.close()
        wait_for(lambda: os.path.exists(marker), 10, 'close() after EOF')
        r = self.get(self.h, '/still')
        self.assertEqual(r.body, b'hello /still')

    def test_head_sends_no_body(self):
        # The front end sends no body for HEAD (nor for 1xx, 204, 304): the
        # worker drops the application's bytes itself and asks for no socket.
        c = self.h.connect()
        n = 1 << 20
        r = self.download(c, 1, 'n=%d&block=100000' % n, method='HEAD')
        self.assertEqual((r.status, r.header('Content-Length'), r.asked, r.body_bytes, r.complete),
                         (200, str(n), None, 0, True), r.frames)
        self.assertNotIn('RESPONSE_BODY', r.frames)
        # The head goes at the application's first write, not at its end.
        mark = os.path.join(self.h.writable_dir(), 'head.marker')
        c.send_request(2, make_environ('/closing', query='marker=%s&count=2&delay=1' % mark,
                                       method='HEAD', script=WSGI_APP))
        while c.read_frame()[0] != F.RESPONSE_HEAD:
            pass
        self.assertFalse(os.path.exists(mark))  # the iterable still runs
        r = c.read_response(2)
        self.assertEqual((r.complete, r.body_bytes), (True, 0), r.frames)
        wait_for(lambda: os.path.exists(mark), 10, 'close() after the end')  # it runs after RESPONSE_END
        # The connection then serves a GET with its body.
        self.assertEqual(self.download(c, 3, 'n=1000').body, pattern(1000))
        # A cancel still ends a HEAD answer that goes on (close() is called).
        os.unlink(mark)
        c.send_request(4, make_environ('/closing', query='marker=%s&count=1000&delay=0.02' % mark,
                                       method='HEAD', script=WSGI_APP))
        while c.read_frame()[0] != F.RESPONSE_HEAD:
            pass
        c.cancel(4)
        c.close()
        wait_for(lambda: os.path.exists(mark), 10, 'close() of the iterable')
        self.assertEqual(self.get(self.h, '/still').body, b'hello /still')

    def test_signal_handlers_refused(self):
        r = self.get(self.h, '/signal')
        self.assertEqual(r.body, b'refused: signal only works in main thread of the main interpreter')


class ThreadsTest(WorkerTestCase):
    def test_threads_serve_connections_concurrently(self):
        h = self.worker(group_settings(threads=4))
        self.assertEqual(self.get(h, '/warm').status, 200)  # the script is loaded
        conns = []
        for _ in range(4):
            c = h.connect()
            c.send_request(1, make_environ('/sleep', query='s=4', script=WSGI_APP))
            conns.append(c)
        st = wait_for(lambda: [st for st in [h.state()] if st['busy'] == 4], 30, '4 requests at once')[0]
        self.assertEqual(st['threads'], 4)
        self.assertEqual(len(st['current']), 4)
        # A fifth connection waits in the backlog until a thread is free (its
        # HELLO comes only once a thread accepts it): close one kept connection.
        fifth = []
        t = threading.Thread(target=lambda: fifth.append(h.connect()), daemon=True)
        t.start()
        time.sleep(0.3)
        self.assertEqual(fifth, [])
        for c in conns:
            r = c.read_response(1)
            self.assertEqual(r.body, b'slept')
        conns[0].close()
        t.join(10)
        self.assertEqual(len(fifth), 1)
        r = fifth[0].request(make_environ('/fifth', script=WSGI_APP))
        self.assertEqual(r.body, b'hello /fifth')
        for c in conns[1:]:
            c.close()
        self.assertEqual(len({json.loads(self.get(h, '/environ').body)['pid'] for _ in range(3)}), 1)


class InterpreterTest(WorkerTestCase):
    def test_application_groups_are_separate(self):
        h = self.worker()
        # group a changes os.environ (putenv underneath); b is created afterwards.
        r = self.get(h, '/setenv?name=WSGID_TEST_VAR&value=from-a', app_group='a')
        self.assertEqual(r.body, b'from-a')
        r = self.get(h, '/getenv?names=WSGID_TEST_VAR', app_group='b')
        self.assertEqual(json.loads(r.body), {'WSGID_TEST_VAR': None})
        r = self.get(h, '/setenv?name=WSGID_TEST_VAR&value=from-b', app_group='b')
        self.assertEqual(r.body, b'from-b')
        r = self.get(h, '/getenv?names=WSGID_TEST_VAR', app_group='a')
        self.assertEqual(json.loads(r.body), {'WSGID_TEST_VAR': 'from-a'})
        ids = set()
        for group in ('', 'a', 'b', 'localhost|/x'):
            r = self.get(h, '/identity', app_group=group)
            ident = json.loads(r.body)
            self.assertEqual(len(ident['modules']), 1)
            ids.add(ident['loaded_at'])
        self.assertEqual(len(ids), 4, 'each application group loads its own copy of the script')
        self.assertIn("created interpreter for application group 'localhost|/x'", h.log())


class LifecycleTest(WorkerTestCase):
    def test_drain_finishes_in_flight_and_closes_kept_connections(self):
        h = self.worker()
        kept = h.connect()
        self.assertEqual(kept.request(make_environ('/k', script=WSGI_APP)).body, b'hello /k')
        busy = h.connect()
        busy.send_request(1, make_environ('/sleep', query='s=1.5', script=WSGI_APP))
        st = wait_for(lambda: [st for st in [h.state()] if st['busy'] == 1 and st['current'][0]['uri'] != '/k'],
                      5, 'the request to start')[0]
        self.assertEqual(st['current'][0]['uri'], '/sleep?s=1.5')
        self.assertEqual(st['current'][0]['method'], 'GET')
        h.drain(10)
        f = kept.read_frame(5)
        self.assertEqual((f[0], f[2], F.decode_error(f[3])), (F.ERROR, 0, (503, 'connection closing')))
        self.assertIsNone(kept.read_frame(5))
        r = busy.read_response(1)
        self.assertEqual((r.status, r.body), (200, b'slept'))
        self.assertEqual(h.wait_exit(10), 0)
        self.assertEqual(h.exiting(), {'reason': 'drained', 'detail': ''})

    def test_drain_timeout(self):
        h = self.worker()
        c = h.connect()
        c.send_request(1, make_environ('/sleep', query='s=30', script=WSGI_APP))
        wait_for(lambda: h.state()['busy'] == 1, 5, 'the request to start')
        t0 = time.monotonic()
        h.drain(1)
        self.assertEqual(h.wait_exit(10), 0)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(h.exiting(), {'reason': 'drained',
                                       'detail': '1 request(s) still running when the time to finish ran out'})
        r = c.read_response(1)
        self.assertTrue(r.eof)

    def test_usr1_asks_for_replacement_and_keeps_serving(self):
        h = self.worker()
        h.signal(signal.SIGUSR1)
        self.assertEqual(h.wait_control('REPLACE_ME'), {'reason': 'signal USR1'})
        self.assertEqual(self.get(h, '/after').body, b'hello /after')
        h.signal(signal.SIGUSR1)  # only one request per life
        time.sleep(0.5)
        h.drain(5)
        self.assertEqual(h.wait_exit(10), 0)
        self.assertEqual([n for n, _ in h.control_frames].count('REPLACE_ME'), 1)

    def test_term_stops_accepting_and_finishes_in_flight(self):
        h = self.worker(group_settings(threads=2, shutdown_timeout=10))
        c = h.connect()
        c.send_request(1, make_environ('/sleep', query='s=1', script=WSGI_APP))
        wait_for(lambda: h.state()['busy'] == 1, 5, 'the request to start')
        h.signal(signal.SIGTERM)
        r = c.read_response(1)
        self.assertEqual((r.status, r.body), (200, b'slept'))
        self.assertEqual(h.wait_exit(10), 0)
        self.assertEqual(h.exiting(), {'reason': 'shutdown', 'detail': 'signal TERM'})

    def test_term_past_shutdown_timeout(self):
        h = self.worker(group_settings(threads=1, shutdown_timeout=1))
        c = h.connect()
        c.send_request(1, make_environ('/sleep', query='s=30', script=WSGI_APP))
        wait_for(lambda: h.state()['busy'] == 1, 5, 'the request to start')
        h.signal(signal.SIGINT)
        self.assertEqual(h.wait_exit(10), 0)
        self.assertEqual(h.exiting()['reason'], 'shutdown')

    def test_control_channel_eof_exits(self):
        h = self.worker()
        h.ctrl.close()
        h.ctrl = None
        self.assertEqual(h.wait_exit(10), 0)

    def test_crash_loses_only_that_workers_requests(self):
        # Under ASan the deliberate SEGV must stay a signal, not a sanitizer report.
        env = dict(os.environ)
        env['ASAN_OPTIONS'] = env.get('ASAN_OPTIONS', 'detect_leaks=0') + ':handle_segv=0'

        def worker(name='testgrp', share_with=None):
            h = self.worker(group_settings(name, threads=1), start=False, share_with=share_with)
            return h.start(env=env)
        a = worker()
        b = worker(share_with=a)
        other = worker('other')
        for path, code in (('/exit', 3), ('/segv', -signal.SIGSEGV)):
            with self.subTest(path=path):
                victim = None
                c = a.connect()
                r = c.request(make_environ('/environ', script=WSGI_APP))
                victim_pid = json.loads(r.body)['pid']
                victim = a if victim_pid == a.pid else b
                survivor = b if victim is a else a
                r = c.request(make_environ(path, script=WSGI_APP))
                self.assertTrue(r.eof and r.status is None, r)
                self.assertEqual(victim.wait_exit(10), code)
                for _ in range(5):
                    r = survivor.request(make_environ('/environ', script=WSGI_APP))
                    self.assertEqual(json.loads(r.body)['pid'], survivor.pid)
                self.assertEqual(self.get(other, '/x').body, b'hello /x')
                if path == '/exit':
                    # restart the victim on the same socket for the next case
                    nb = worker(share_with=survivor)
                    a, b = survivor, nb


if __name__ == '__main__':
    unittest.main(verbosity=2)
