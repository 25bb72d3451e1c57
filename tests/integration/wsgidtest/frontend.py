"""FrontendHarness: run the real wsgid-frontend as the master would.

    with WorkerHarness(group_settings('g', threads=4)) as w:
        w.start()
        with FrontendHarness(frontend_settings(groups=[endpoint('g', w.sock_path, threads=4)],
                                               mounts=[mount('/', WSGI_APP, 'g')])) as fe:
            fe.start()                               # HELLO + SETTINGS, wait READY
            r = fe.get('/environ')                   # http.client on the listener
            assert r.status == 200

The harness binds a loopback TCP listener (port 0), creates the control
socketpair, and execs wsgid-frontend with fd 3 = control and fd 4 = the listener
(the master's hand-down), stderr into `log_path`. close() SIGKILLs a front end
still running and removes its temp dir. Everything waits with deadlines.
Also here: FakeWorker, which runs tests/bench/fake_worker.cc's binary (a C++
stand-in for wsgid-worker on the request protocol) for tests that need no Python.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from . import frames as F
from .paths import binary as build_file, harness_frontend_binary


def fake_worker_binary():
    return build_file('tests', 'unit', 'frontend', 'fake_worker')


def endpoint(name, socket_path, processes=1, threads=4, connect_timeout=15, socket_timeout=60,
             queue_timeout=0, state='running'):
    return {'name': name, 'socket': socket_path, 'processes': processes, 'threads': threads,
            'connect_timeout': connect_timeout, 'socket_timeout': socket_timeout,
            'queue_timeout': queue_timeout, 'state': state}


def mount(url, script, group=None, application_group='%{GLOBAL}', **kw):
    m = {'url': url, 'script': script, 'is_match': False, 'process_group': group,
         'application_group': application_group, 'callable_object': None,
         'pass_authorization': None}
    m.update(kw)
    return m


def frontend_settings(groups=(), mounts=(), aliases=(), custom_logs=(), limits=None, vhosts=(),
                      server_settings=None, user=None, group=None, log_level='info'):
    lim = {'request_line': 8190, 'field_size': 8190, 'fields': 100, 'body': 1 << 30,
           'timeout': 60, 'keep_alive': True, 'keep_alive_timeout': 5,
           'max_keep_alive_requests': 0, 'header_timeout': 20, 'body_timeout': 20}
    lim.update(limits or {})
    return {'role': 'frontend', 'generation': 1, 'user': user, 'group': group,
            'log_level': log_level, 'listen': ['127.0.0.1:0'], 'limits': lim,
            'restrict_embedded': False, 'groups': list(groups),
            'server': {'addrs': [], 'server_name': 'localhost', 'server_aliases': [],
                       'settings': server_settings or {}, 'mounts': list(mounts),
                       'locations': [], 'directories': [], 'aliases': list(aliases),
                       'custom_logs': list(custom_logs)},
            'vhosts': list(vhosts)}


class FrontendHarness:
    def __init__(self, settings, binary=None):
        self.settings = settings
        self.binary = binary or harness_frontend_binary()
        self.tmp = tempfile.mkdtemp(prefix='wsgid-frontend-test-')
        os.chmod(self.tmp, 0o755)
        self.log_path = os.path.join(self.tmp, 'frontend.log')
        self.proc = None
        self.ctrl = None
        self.listener = None
        self.port = None
        self.reader = F.FrameReader()
        self.control_frames = []

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def log(self):
        try:
            with open(self.log_path, errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def start(self, wait_ready=True, timeout=30):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(1024)
        self.port = self.listener.getsockname()[1]
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ctrl = parent
        lfd, cfd = self.listener.fileno(), child.fileno()
        logf = open(self.log_path, 'ab')

        def preexec():
            a = os.dup(cfd)
            b = os.dup(lfd)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen([self.binary, '--control-fd=3'], stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf, pass_fds=(3, 4), preexec_fn=preexec)
        logf.close()
        child.close()
        self.ctrl.sendall(F.hello() + F.control(F.SETTINGS, self.settings))
        if wait_ready:
            self.wait_control('READY', timeout)
        return self

    def send_settings(self, settings):
        self.settings = settings
        self.ctrl.sendall(F.control(F.SETTINGS, settings))

    def read_control(self, timeout):
        self.ctrl.settimeout(timeout)
        while True:
            fr = self.reader.next()
            if fr is not None:
                ftype, payload = fr[0], fr[3]
                name = F.NAMES.get(ftype, hex(ftype))
                obj = json.loads(payload) if ftype not in (F.HELLO,) and payload else None
                self.control_frames.append((name, obj))
                return name, obj
            data = self.ctrl.recv(65536)
            if not data:
                raise EOFError('control channel closed; log:\n' + self.log())
            self.reader.feed(data)

    def wait_control(self, name, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('no %s from the front end within %s s; log:\n%s' % (name, timeout, self.log()))
            got, obj = self.read_control(left)
            if got == name:
                return obj

    def state(self, timeout=10):
        self.ctrl.sendall(F.frame(F.STATE_QUERY))
        return self.wait_control('STATE', timeout)

    def drain(self, timeout):
        self.ctrl.sendall(F.control(F.DRAIN, {'timeout': timeout}))

    def wait_exit(self, timeout=30):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def connection(self, timeout=30):
        return http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)

    def get(self, path, method='GET', body=None, headers=None, timeout=30):
        c = self.connection(timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            r.data = r.read()
            return r
        finally:
            c.close()

    def raw(self, data, timeout=10):
        """Sends bytes on a new connection; returns everything read until EOF or timeout."""
        s = socket.create_connection(('127.0.0.1', self.port), timeout=timeout)
        try:
            s.sendall(data)
            out = b''
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    d = s.recv(65536)
                except socket.timeout:
                    break
                if not d:
                    break
                out += d
            return out
        finally:
            s.close()

    def rss_kib(self):
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
        return 0

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for s in (self.ctrl, self.listener):
            if s:
                s.close()
        if os.environ.get('WSGID_KEEP_TMP') != '1':
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FakeWorker:
    """tests/bench/fake_worker: THREADS threads on a UNIX socket, no Python."""

    def __init__(self, threads=4):
        self.tmp = tempfile.mkdtemp(prefix='wsgid-fakeworker-')
        os.chmod(self.tmp, 0o755)
        self.sock_path = os.path.join(self.tmp, 'g.sock')
        self.proc = subprocess.Popen([fake_worker_binary(), self.sock_path, str(threads)],
                                     stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline()
        if line.strip() != b'ready':
            raise RuntimeError('fake_worker did not start')

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
