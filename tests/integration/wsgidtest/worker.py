"""WorkerHarness: run one real wsgid-worker as the master would, and talk to it
as the front end would.

    with WorkerHarness(group_settings('site1', threads=2)) as h:
        h.write('app.wsgi', APP_SOURCE)
        h.start()                                  # spawn, HELLO + SETTINGS, wait READY
        r = h.request(make_environ('/x', script=h.path('app.wsgi')))
        assert r.status == 200 and r.body == b'...'
        h.drain(5); assert h.wait_exit(10) == 0

The harness makes a private temp dir (mode 0755 so that a worker running as
www-data can read it), binds and listens on the group's UNIX socket there,
creates the control socketpair, and execs the worker with fd 3 = control, fd 4 =
group socket, stderr (the worker's log) into `log_path`. Every control frame the
worker sends is kept in `control_frames` in arrival order. close() (or leaving
the with block) SIGKILLs a worker still running, waits for it, closes sockets
and removes the temp dir (kept when WSGID_KEEP_TMP=1). Everything waits with
deadlines; nothing blocks forever.
"""

import fcntl
import json
import mmap
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

from . import frames as F

from .paths import harness_worker_binary

# Defaults as `wsgid --check --json` prints a group (mod_wsgi's code defaults).
_GROUP_DEFAULTS = {
    'processes': 1, 'threads': 15, 'display-name': None, 'user': None, 'group': None,
    'supplementary-groups': None, 'umask': None, 'home': None, 'lang': None, 'locale': None,
    'stack-size': None, 'cpu-priority': 0, 'python-home': None, 'python-path': [],
    'python-eggs': None, 'switch-interval': None,
    'maximum-requests': 0, 'restart-interval': 0, 'inactivity-timeout': 0,
    'startup-timeout': 0, 'graceful-timeout': 15, 'eviction-timeout': 0,
    'shutdown-timeout': 5, 'cpu-time-limit': 0, 'memory-limit': 0,
    'virtual-memory-limit': 0, 'request-timeout': 0, 'interrupt-timeout': 0,
    'deadlock-timeout': 300, 'listen-backlog': 100, 'connect-timeout': 15,
    'socket-timeout': 60, 'queue-timeout': 0,
}


def group_settings(name='testgrp', processes_given=False, **options):
    """A group object; options use '_' for '-' (maximum_requests=3)."""
    g = dict(_GROUP_DEFAULTS)
    for k, v in options.items():
        g[k.replace('_', '-')] = v
    g['name'] = name
    threads = g['threads']
    g['multithread'] = threads != 1
    g['multiprocess'] = bool(processes_given)
    g['run_once'] = threads == 1 and g['maximum-requests'] == 1
    dn = g['display-name']
    if dn is None:
        g['display_name'] = 'wsgid-worker %s' % name
    elif dn == '%{GROUP}':
        g['display_name'] = '(wsgi:%s)' % name
    else:
        g['display_name'] = dn.replace('%{GROUP}', name)
    return g


def make_environ(path='/', method='GET', query='', script='', headers=None, body=b'',
                 app_group='', callable_object='application', request_start=None,
                 script_name='', https=False, extra=None):
    """The environ pairs a front end sends for one request (PROTOCOL.md section 6)."""
    env = [
        ('REQUEST_METHOD', method), ('SCRIPT_NAME', script_name), ('PATH_INFO', path),
        ('QUERY_STRING', query),
        ('REQUEST_URI', script_name + path + ('?' + query if query else '')),
        ('SERVER_NAME', 'localhost'), ('SERVER_PORT', '8080'), ('SERVER_ADDR', '127.0.0.1'),
        ('SERVER_PROTOCOL', 'HTTP/1.1'), ('SERVER_SOFTWARE', 'wsgid-test'),
        ('REMOTE_ADDR', '127.0.0.1'), ('REMOTE_PORT', '40000'),
        ('HTTP_HOST', 'localhost:8080'), ('SCRIPT_FILENAME', script),
        ('mod_wsgi.process_group', 'testgrp'), ('mod_wsgi.application_group', app_group),
        ('mod_wsgi.callable_object', callable_object), ('mod_wsgi.script_reloading', '1'),
        ('mod_wsgi.request_id', 'test'),
        ('wsgid.request_start', str(int(time.time() * 1e6) if request_start is None else request_start)),
    ]
    if body is not None and not callable(body) and not hasattr(body, '__next__') and len(body):
        env.append(('CONTENT_LENGTH', str(len(body))))
        env.append(('CONTENT_TYPE', 'application/octet-stream'))
    if https:
        env.append(('HTTPS', 'on'))
    for k, v in (headers or {}).items():
        env.append(('HTTP_' + k.upper().replace('-', '_'), v))
    for k, v in (extra or {}).items():
        env = [(a, b) for a, b in env if a != k] + [(k, v)]
    return env


class Response:
    """What came back for one request. error = (code, message) when an ERROR
    frame arrived (before or after the head); eof = the connection ended early."""

    def __init__(self):
        self.status = None
        self.reason = None
        self.headers = []
        self.body = b''
        self.body_bytes = 0
        self.error = None
        self.eof = False
        self.complete = False
        self.started = False  # a STARTED frame came first: the application was called
        self.taken = None  # BODY_TAKEN's (bytes, how), when one came
        self.asked = None  # SOCKET_ASK's byte count, when one came
        self.sent = None  # RESPONSE_SENT's (bytes, how), when one came
        self.frames = []

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return '<Response status=%r error=%r eof=%r body=%r>' % (
            self.status, self.error, self.eof, self.body[:200])


class StartedPage:
    """The front end's started page (protocol/PROTOCOL.md 5.2): a sealed memfd
    of one page, mapped; marked() is the request id the worker stored."""

    def __init__(self, seal=True, size=4096):
        self.fd = os.memfd_create('test-started', os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(self.fd, size)
        if seal:
            fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
        self.map = mmap.mmap(self.fd, size)

    def marked(self):
        return struct.unpack_from('=I', self.map, 0)[0]

    # Requests sent ahead (PROTOCOL.md 5.7): slot i is 64 bits at 64 + 8 i,
    # the request id in the high half, the state in the low (0 free with the
    # whole slot 0, 1 offered, 2 withdrawn). Not atomic here: a test offers
    # before it sends, and withdraws while the worker is busy elsewhere.
    def slot(self, i):
        return struct.unpack_from('=Q', self.map, 64 + 8 * i)[0]

    def offer(self, i, rid):
        struct.pack_into('=Q', self.map, 64 + 8 * i, (rid << 32) | 1)

    def withdraw(self, i, rid):
        if self.slot(i) != (rid << 32) | 1:
            return False
        struct.pack_into('=Q', self.map, 64 + 8 * i, (rid << 32) | 2)
        return True

    def close(self):
        self.map.close()
        os.close(self.fd)


class FrontConnection:
    """A front end's connection to a group socket: HELLO both ways, then requests."""

    def __init__(self, path, timeout=30, page=None):
        """page: send HELLO with this started page's descriptor (StartedPage)."""
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.reader = F.FrameReader()
        self.next_id = 1
        self.page = page
        if page is not None:
            socket.send_fds(self.sock, [F.hello()], [page.fd])
        else:
            self.sock.sendall(F.hello())
        f = self.read_frame(timeout)
        if f is None or f[0] != F.HELLO:
            raise F.ProtocolError('expected HELLO from the worker, got %r' % (f,))
        F.decode_hello(f[3])

    def read_frame(self, timeout=30):
        """Next frame, or None at EOF; raises socket.timeout."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.reader.next()
            if f is not None:
                return f
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout('no frame within %s s' % timeout)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(256 * 1024)
            except ConnectionResetError:
                return None
            if not data:
                return None
            self.reader.feed(data)

    def send_request(self, rid, environ, body=b''):
        """Head, body chunks (bytes, or an iterable of bytes), END. A small
        body goes in the head's write, as the front end sends a request that
        came whole (a worker sees the REQUEST_END with its head)."""
        if isinstance(body, (bytes, bytearray)) and len(body) <= F.BODY_CHUNK:
            self.sock.sendall(F.request_head(rid, environ) +
                              (F.frame(F.REQUEST_BODY, rid, bytes(body)) if body else b'') +
                              F.frame(F.REQUEST_END, rid))
            return
        self.sock.sendall(F.request_head(rid, environ))
        chunks = [body] if isinstance(body, (bytes, bytearray)) else body
        for chunk in chunks:
            for i in range(0, len(chunk), F.BODY_CHUNK):
                self.sock.sendall(F.frame(F.REQUEST_BODY, rid, bytes(chunk[i:i + F.BODY_CHUNK])))
        self.sock.sendall(F.frame(F.REQUEST_END, rid))

    def send_request_with_socket(self, rid, environ, first, fd, length, timeout_ms=0, with_fd=True):
        """Head, the body's first bytes in frames, then BODY_SOCKET carrying
        descriptor fd (the rest of the body, length bytes, is read from it:
        PROTOCOL.md 5.5), then END. with_fd=False sends the frame bare."""
        self.sock.sendall(F.request_head(rid, environ))
        if first:
            self.sock.sendall(F.frame(F.REQUEST_BODY, rid, first))
        frame = F.body_socket(rid, length, timeout_ms)
        if with_fd:  # alone in its message, as the front end sends it
            socket.send_fds(self.sock, [frame], [fd])
        else:
            self.sock.sendall(frame)
        try:
            self.sock.sendall(F.frame(F.REQUEST_END, rid))
        except BrokenPipeError:
            pass  # a worker already done with the connection (its client left)

    def cancel(self, rid):
        self.sock.sendall(F.frame(F.CANCEL, rid))

    def read_response(self, rid, timeout=30, sink=None, keep_frames=False, grant=None):
        """Reads until RESPONSE_END, ERROR or EOF. sink(chunk) gets body bytes
        instead of Response.body (for big bodies). A SOCKET_ASK is refused,
        unless grant is (descriptor, timeout_ms, head bytes): then RESPONSE_SOCKET
        grants it with that descriptor (PROTOCOL.md 5.6)."""
        r = Response()
        while True:
            f = self.read_frame(timeout)
            if f is None:
                r.eof = True
                return r
            ftype, _, frid, payload = f
            if keep_frames or len(r.frames) < 64:
                r.frames.append(F.NAMES.get(ftype, hex(ftype)))
            if ftype == F.ERROR:
                r.error = F.decode_error(payload)
                r.error_id = frid
                return r
            if frid != rid:
                raise F.ProtocolError('frame for request %d while waiting for %d' % (frid, rid))
            if ftype == F.STARTED:
                if r.started or r.status is not None:
                    raise F.ProtocolError('STARTED out of turn')
                r.started = True
            elif ftype == F.BODY_TAKEN:
                if r.taken is not None:
                    raise F.ProtocolError('a second BODY_TAKEN')
                r.taken = F.decode_body_taken(payload)
            elif ftype == F.RESPONSE_HEAD:
                r.status, r.reason, r.headers = F.decode_response_head(payload)
            elif ftype == F.SOCKET_ASK:
                if r.asked is not None or r.status is None:
                    raise F.ProtocolError('SOCKET_ASK out of turn')
                r.asked, = struct.unpack('>Q', payload)
                if grant is None:
                    self.sock.sendall(F.response_socket(rid, False))
                else:
                    fd, timeout_ms, head = grant
                    socket.send_fds(self.sock, [F.response_socket(rid, True, timeout_ms, head)], [fd])
            elif ftype == F.RESPONSE_SENT:
                if r.sent is not None or r.asked is None:
                    raise F.ProtocolError('RESPONSE_SENT out of turn')
                r.sent = F.decode_response_sent(payload)
            elif ftype == F.RESPONSE_BODY:
                r.body_bytes += len(payload)
                if sink:
                    sink(payload)
                else:
                    r.body += payload
            elif ftype == F.RESPONSE_END:
                r.complete = True
                return r
            else:
                raise F.ProtocolError('unexpected %s frame' % F.NAMES.get(ftype))

    def request(self, environ, body=b'', timeout=30, sink=None):
        """One request; the body is sent from a thread while the response is read."""
        rid = self.next_id
        self.next_id += 1
        errors = []

        def send():
            try:
                self.send_request(rid, environ, body)
            except OSError as e:
                errors.append(e)

        big = not isinstance(body, (bytes, bytearray)) or len(body) > 256 * 1024
        if big:
            t = threading.Thread(target=send, daemon=True)
            t.start()
        else:
            send()
        r = self.read_response(rid, timeout, sink)
        if big:
            t.join(timeout)
        r.send_errors = errors
        return r

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class WorkerHarness:
    def __init__(self, group=None, preload=None, default_user='www-data', default_group='www-data',
                 python_path=None, python_home=None, log_level='info', extra_settings=None,
                 worker=None, share_with=None):
        """share_with: another (started) WorkerHarness whose group socket this
        worker shares, as the processes of one group do."""
        self.group = group or group_settings()
        self.settings = {
            'role': 'worker', 'index': 0, 'generation': 1, 'group': self.group,
            'default_user': default_user, 'default_group': default_group,
            'python_home': python_home, 'python_path': python_path or [],
            'preload': preload or [], 'log_level': log_level,
        }
        self.settings.update(extra_settings or {})
        self.worker = worker or harness_worker_binary()
        self.tmp = tempfile.mkdtemp(prefix='wsgid-worker-test-')
        os.chmod(self.tmp, 0o755)
        self.sock_path = os.path.join(self.tmp, 'group.sock')
        self.log_path = os.path.join(self.tmp, 'worker.log')
        self.proc = None
        self.listener = None
        self.ctrl = None
        self.ctrl_reader = F.FrameReader()
        self.control_frames = []   # (name, json or None) in arrival order
        self._seen = 0
        self.returncode = None
        self.connections = []
        self.share_with = share_with
        if share_with is not None:
            self.sock_path = share_with.sock_path

    # --- files -----------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def write(self, rel, text, mode=0o644):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), mode=0o755, exist_ok=True)
        with open(p, 'w') as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def writable_dir(self, rel='rw'):
        """A directory the worker (www-data when the tests run as root) can write."""
        p = self.path(rel)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, 0o777)
        return p

    def log(self):
        try:
            with open(self.log_path, errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    # --- process ---------------------------------------------------------
    def start(self, wait_ready=True, timeout=60, env=None):
        if self.share_with is not None:
            self.listener = self.share_with.listener.dup()
        else:
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind(self.sock_path)
            self.listener.listen(100)
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ctrl = parent
        lfd, cfd = self.listener.fileno(), child.fileno()
        logf = open(self.log_path, 'ab')

        def preexec():
            # dup first: the originals may sit on 3 or 4 themselves.
            a = os.dup(cfd)
            b = os.dup(lfd)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [self.worker, '--control-fd=3', '--listen-fd=4'],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, pass_fds=(3, 4),
            preexec_fn=preexec, env=env if env is not None else dict(os.environ))
        logf.close()
        child.close()
        self.ctrl.sendall(F.hello() + F.control(F.SETTINGS, self.settings))
        if wait_ready:
            self.wait_control('READY', timeout)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def read_control(self, timeout):
        """Next control frame as (name, json|None), or None on EOF/timeout."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.ctrl_reader.next()
            if f is not None:
                body = None
                if f[3]:
                    try:
                        body = json.loads(f[3])
                    except ValueError:
                        body = f[3]
                item = (F.NAMES.get(f[0], hex(f[0])), body)
                self.control_frames.append(item)
                return item
            left = deadline - time.monotonic()
            if left <= 0 or self.ctrl is None:
                if self.ctrl is None and left > 0:
                    time.sleep(min(left, 0.05))
                return None
            self.ctrl.settimeout(left)
            try:
                data = self.ctrl.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                return None
            if not data:
                return None
            self.ctrl_reader.feed(data)

    def wait_control(self, name, timeout=30):
        """Waits for a control frame by name (already received ones count once);
        returns its JSON. Raises AssertionError with the log on timeout/EOF."""
        deadline = time.monotonic() + timeout
        while True:
            for i in range(self._seen, len(self.control_frames)):
                if self.control_frames[i][0] == name:
                    self._seen = i + 1
                    return self.control_frames[i][1]
            left = deadline - time.monotonic()
            item = self.read_control(max(left, 0)) if left > 0 else None
            if item is None:
                raise AssertionError('no %s from the worker within %s s; control frames %r; log %s:\n%s'
                                     % (name, timeout, self.control_frames, self.log_path, self.log()[-4000:]))

    def send_control(self, ftype, obj=None):
        self.ctrl.sendall(F.control(ftype, obj))

    def state(self, timeout=10):
        self.send_control(F.STATE_QUERY)
        return self.wait_control('STATE', timeout)

    def drain(self, timeout):
        self.send_control(F.DRAIN, {'timeout': timeout})

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def wait_exit(self, timeout=30):
        """Exit status (negative = signal); reads control frames meanwhile."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                while self.read_control(0.05) is not None:
                    pass
                self.returncode = rc
                return rc
            self.read_control(0.05)
        raise AssertionError('worker %d did not exit within %s s; log:\n%s'
                             % (self.proc.pid, timeout, self.log()[-4000:]))

    def exiting(self):
        """The EXITING message, if one arrived."""
        for name, body in self.control_frames:
            if name == 'EXITING':
                return body
        return None

    # --- requests --------------------------------------------------------
    def connect(self, timeout=30, page=None):
        c = FrontConnection(self.sock_path, timeout, page)
        self.connections.append(c)
        return c

    def request(self, environ, body=b'', timeout=30, sink=None):
        """One request on a new connection, which is then closed."""
        c = self.connect(timeout)
        try:
            return c.request(environ, body, timeout, sink)
        finally:
            c.close()

    def rss_kib(self):
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
        return 0

    # --- cleanup ---------------------------------------------------------
    def close(self):
        for c in self.connections:
            c.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        for s in (self.ctrl, self.listener):
            if s is not None:
                s.close()
        if os.environ.get('WSGID_KEEP_TMP') != '1':
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
