#!/usr/bin/python3
"""Peer comparison (#5, #7): wsgid against Apache + mod_wsgi daemon mode, uWSGI's
--http router, uWSGI --http11-socket and gunicorn gthread, all from Debian, on the
same apps with the same processes x threads, under wrk on loopback, in one run;
then what a restart costs under load, memory per process and time to first answer.

    sudo apt-get install apache2 libapache2-mod-wsgi-py3 uwsgi uwsgi-plugin-python3 gunicorn wrk
    tests/bench/peer_bench.py --build BUILD_DIR [--runs 3] [--duration 10] [--threads 4,1]
                              [--servers wsgid,apache-daemon,uwsgi-router,uwsgi-http11,gunicorn-gthread]
                              [--sections throughput,restart,memory,startup]
                              [--restart-runs 3] [--restart-duration 10] [--restart-at 3]
                              [--wsgid-mode auto|master|pieces] [--json FILE] [--quick]
                              [--interleave]

Apps: hello (13-byte text/plain with
Content-Length), sleep (time.sleep 10 ms), echo (reads a 64 KiB POST body and
returns it), upload (reads a 1 MiB POST body in 64 KiB pieces, answers its length),
download (answers 1 MiB). Tests: hello at -c16 and -c64, sleep at -c16, echo at
-c16 (the default set), upload1m, download1m, upload16m, download16m,
download128k and download256k at -c8 (--tests; /download?mib=16 answers 16 MiB,
/download?kib=N N KiB), each
`wrk -t1 -cN -dDs --timeout 2s --latency`, RUNS times; the table shows medians,
p50/p99 and each server's ratio to wsgid in the same run, and the RSS (KiB) of
the server's whole process tree after its load tests. 2 processes everywhere.
With --interleave every server runs at once and each run of a test goes to every
server in turn (the order rotated from run to run): on a shared VM whose speed
drifts from minute to minute, the drift then falls on all servers alike instead
of on one server's block of runs; the servers not under load sit idle, and CPU
is counted per process tree, so they add nothing to another's figures.
Server CPU per request is user + system of the tree's processes over each run,
by role; for wsgid's front end also per event loop (each thread of the front end
sampled from /proc/PID/task: the threads that did a tenth of its work or more
are its loops), with the requests/s one loop can carry at that cost: the front
end's ceiling, whatever the cores the workers have.

wsgid runs as `wsgid -f CONF` (the master; --wsgid-mode=master) or, until the
master can run it, as its pieces started the way the master starts them
(--wsgid-mode=pieces: 2 wsgid-worker processes sharing one group socket, and
wsgid-frontend, each with its control channel on fd 3). auto = master when it
answers within 20 s, else pieces. Processes started here are ended by their
process-group id; temp dirs are removed. Run as root: servers drop to www-data.

Restart under load (#7): for each server and restart method, a fresh server,
`loadgen -c16 -dD --timeout 2` (tests/bench/loadgen) on hello, the restart issued
R s in; failed requests (socket errors + non-2xx + timeouts) and the longest gap
between two consecutive responses, median of --restart-runs runs; plus "new gen"
= ms from the restart until a fresh connection to /pid is answered by a process
that was not a worker before it (-1: not within the run). Methods:
  wsgid      restart (wsgictl restart bench, or the control socket's
             {"command":"restart"} when wsgictl is not built), usr1 (SIGUSR1 to
             each worker of the group), hup (the config changed: deadlock-timeout
             300 <-> 301, then SIGHUP to the master), killone
  apache     graceful (SIGUSR1 to the parent: apachectl -k graceful), killone
  uwsgi      hup (SIGHUP to the master), killone
  gunicorn   hup (SIGHUP to the master), killone
  every      none: the same load without a restart (the baseline: what the server
             and the machine lose and stall anyway; uWSGI --http11-socket serves
             one kept-alive connection per thread, so with 16 connections on 8
             threads 8 of them wait and time out even without a restart)
killone = SIGKILL one worker; "up" = ms until a replacement process exists.
Memory: RSS (VmRSS) and PSS (smaps_rollup) of every process, by role (master,
front end, workers), sampled under load just before the first restart (or after
2 s of load with --sections memory alone). Startup: ms from spawning the server
until GET / answers 200 (polled every 10 ms), median over every fresh start.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

HELLO = '''def application(environ, start_response):
    body = b'Hello, world!'
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
'''
SLEEP = '''import time
def application(environ, start_response):
    time.sleep(0.01)
    body = b'slept'
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
'''
ECHO = '''def application(environ, start_response):
    n = int(environ.get('CONTENT_LENGTH') or 0)
    body = environ['wsgi.input'].read(n)
    start_response('200 OK', [('Content-Type', 'application/octet-stream'), ('Content-Length', str(len(body)))])
    return [body]
'''
# 1 MiB bodies (#16): the upload is read in 64 KiB pieces the way frameworks
# read a file upload, the download is one bytes object made at import.
UPLOAD = '''def application(environ, start_response):
    n = 0
    read = environ['wsgi.input'].read
    while True:
        piece = read(65536)
        if not piece:
            break
        n += len(piece)
    body = str(n).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
'''
DOWNLOAD = '''BODIES = {}
def application(environ, start_response):
    q = environ.get('QUERY_STRING', '')
    kib = 16 << 10 if q == 'mib=16' else int(q[4:]) if q.startswith('kib=') else 1 << 10
    body = BODIES.get(kib) or BODIES.setdefault(kib, b'x' * (kib << 10))
    start_response('200 OK', [('Content-Type', 'application/octet-stream'), ('Content-Length', str(len(body)))])
    return [body]
'''
# /pid: which process answered (restart tests: "new generation serving").
PID = '''import os
def application(environ, start_response):
    body = str(os.getpid()).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
'''
# gunicorn mounts one app: dispatch by path.
DISPATCH = '''import sys, os
sys.path.insert(0, os.path.dirname(__file__))
def _load(name):
    ns = {}
    exec(open(os.path.join(os.path.dirname(__file__), name)).read(), ns)
    return ns['application']
_hello, _sleep, _echo = _load('hello.wsgi'), _load('sleep.wsgi'), _load('echo.wsgi')
_pid = _load('pid.wsgi')
_upload, _download = _load('upload.wsgi'), _load('download.wsgi')
def app(environ, start_response):
    p = environ.get('PATH_INFO', '')
    if p.startswith('/upload'):
        return _upload(environ, start_response)
    if p.startswith('/download'):
        return _download(environ, start_response)
    if p.startswith('/pid'):
        return _pid(environ, start_response)
    if p.startswith('/sleep'):
        return _sleep(environ, start_response)
    if p.startswith('/echo'):
        return _echo(environ, start_response)
    return _hello(environ, start_response)
application = app
'''
ECHO_LUA = '''wrk.method = "POST"
wrk.body = string.rep("x", 65536)
wrk.headers["Content-Type"] = "application/octet-stream"
'''
UPLOAD_LUA = ECHO_LUA.replace('65536', '1048576')
UPLOAD16_LUA = ECHO_LUA.replace('65536', str(16 << 20))

TESTS = [('hello', '/', 16), ('hello', '/', 64), ('sleep', '/sleep', 16), ('echo', '/echo', 16),
         ('upload1m', '/upload', 8), ('download1m', '/download', 8),
         ('upload16m', '/upload', 8), ('download16m', '/download?mib=16', 8),
         ('download128k', '/download?kib=128', 8), ('download256k', '/download?kib=256', 8)]
# The scripts every server mounts, URL -> file ('/' last: a prefix of the others).
MOUNTS = (('/sleep', 'sleep.wsgi'), ('/echo', 'echo.wsgi'), ('/pid', 'pid.wsgi'), ('/upload', 'upload.wsgi'),
          ('/download', 'download.wsgi'), ('/', 'hello.wsgi'))
# MiB moved per request, for the CPU per MiB of the 1 MiB tests.
MIB_PER_REQUEST = {'upload1m': 1.0, 'download1m': 1.0, 'upload16m': 16.0, 'download16m': 16.0,
                   'download128k': 0.125, 'download256k': 0.25}


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_http(port, path='/', timeout=30, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            s = socket.create_connection(('127.0.0.1', port), timeout=2)
            s.sendall(b'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' % path.encode())
            data = s.recv(100)
            s.close()
            if data.startswith(b'HTTP/1.1 200') or data.startswith(b'HTTP/1.0 200'):
                return True
        except OSError:
            pass
        time.sleep(interval)
    return False


def get_body(port, path, timeout=1.0):
    """One GET on a fresh connection: the body of a 200, else None."""
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
        s.sendall(b'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' % path.encode())
        data = b''
        length = None
        while True:  # until the Content-Length is read (uWSGI keeps the connection)
            d = s.recv(4096)
            if not d:
                break
            data += d
            if length is None and b'\r\n\r\n' in data:
                m = re.search(rb'(?im)^content-length:\s*(\d+)', data.split(b'\r\n\r\n', 1)[0])
                length = int(m.group(1)) if m else -1
            if length is not None and length >= 0 and len(data.split(b'\r\n\r\n', 1)[1]) >= length:
                break
        s.close()
        if data.startswith(b'HTTP/1.1 200') or data.startswith(b'HTTP/1.0 200'):
            return data.split(b'\r\n\r\n', 1)[1]
    except OSError:
        pass
    return None


def tree_pids(root):
    """root and all its descendants."""
    children = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                st = f.read()
            ppid = int(st[st.rindex(')') + 2:].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError):
            pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
    except OSError:
        return ''


def pss_kib(pid):
    return smaps_kib(pid)[0]


def smaps_kib(pid):
    """(PSS, private) KiB of pid from /proc/PID/smaps_rollup; private (USS) =
    Private_Clean + Private_Dirty: what the process alone holds."""
    pss = private = 0
    try:
        with open('/proc/%d/smaps_rollup' % pid) as f:
            for line in f:
                if line.startswith('Pss:'):
                    pss = int(line.split()[1])
                elif line.startswith(('Private_Clean:', 'Private_Dirty:')):
                    private += int(line.split()[1])
    except OSError:
        pass
    return pss, private


def stat_ticks(path):
    """(user, system) clock ticks from a /proc stat file (0, 0 when gone)."""
    try:
        with open(path) as f:
            st = f.read()
        fields = st[st.rindex(')') + 2:].split()
        return int(fields[11]), int(fields[12])
    except (OSError, ValueError, IndexError):
        return 0, 0


def cpu_ticks(pid):
    """(user, system) clock ticks of every thread of pid so far (0, 0 when gone)."""
    return stat_ticks('/proc/%d/stat' % pid)


def thread_ticks(pid):
    """{tid: user + system clock ticks} of each thread of pid ({} when gone)."""
    out = {}
    try:
        tids = os.listdir('/proc/%d/task' % pid)
    except OSError:
        return out
    for tid in tids:
        out[int(tid)] = sum(stat_ticks('/proc/%d/task/%s/stat' % (pid, tid)))
    return out


def loop_figures(before, after, requests):
    """The front end's event loops from two Server.frontend_threads() samples: a
    loop is a thread that did at least a tenth of the front end's work (the
    others are libuv's pool and embedded Python's threads, idle here). ->
    (loops, CPU us per request each loop carried, requests/s one loop can carry
    at that cost), the requests taken as shared evenly; None without a front end."""
    deltas = [t - before.get(tid, 0) for tid, t in after.items()]
    total = sum(deltas)
    if not after or total <= 0 or requests <= 0:
        return None
    busy = [d for d in deltas if d >= total / 10]
    tick_us = 1e6 / os.sysconf('SC_CLK_TCK')
    per_request = sum(busy) * tick_us / requests
    return len(busy), per_request, 1e6 / per_request if per_request > 0 else float('inf')


def rss_kib(pid, field='VmRSS'):
    """A /proc/PID/status size in KiB: VmRSS now, VmHWM the peak so far."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    """A server started in its own session (process group), ended by that id."""

    def __init__(self, name, workdir):
        self.name = name
        self.dir = workdir
        self.procs = []
        self.port = free_port()
        self.extra_close = []
        self.kind = name.split('-')[0]  # wsgid, apache, uwsgi, gunicorn (pieces: set by its starter)
        self.control = None  # wsgid: control socket path
        self.conf = None  # wsgid: config path
        self.write_conf = None  # wsgid: write_conf(deadlock_timeout)

    def spawn(self, argv, **kw):
        log = open(os.path.join(self.dir, '%s.%d.log' % (self.name, len(self.procs))), 'ab')
        p = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                             start_new_session=True, **kw)
        log.close()
        self.procs.append(p)
        return p

    def master_pid(self):
        """The process we spawned: Apache's parent, the uWSGI/gunicorn/wsgid master."""
        return self.procs[0].pid if self.procs else None

    def roles(self):
        """{'master': [pid], 'frontend': [pids], 'workers': [pids]} of the live tree."""
        out = {'master': [], 'frontend': [], 'workers': []}
        if not self.procs or self.procs[0].poll() is not None:
            return out
        root = self.procs[0].pid
        for pid in tree_pids(root):
            cl = cmdline(pid)
            if not cl:
                continue
            if pid == root and self.kind != 'pieces':
                out['master'].append(pid)
            elif self.kind in ('wsgid', 'apache', 'pieces'):
                out['workers' if cl.startswith('(wsgi:') else 'frontend'].append(pid)
            elif self.kind == 'uwsgi':
                out['workers' if 'worker' in cl else 'frontend'].append(pid)
            else:  # gunicorn: every child is a worker
                out['workers'].append(pid)
        if self.kind == 'pieces':
            for p in self.procs:
                if p.poll() is None and p.pid not in out['workers'] + out['frontend']:
                    out['workers' if cmdline(p.pid).startswith('(wsgi:') else 'frontend'].append(p.pid)
        return out

    def cpu(self):
        """{pid: (role, user ticks, system ticks)} of the live tree."""
        out = {}
        for role, pids in self.roles().items():
            for pid in pids:
                u, st = cpu_ticks(pid)
                out[pid] = (role, u, st)
        return out

    def frontend_threads(self):
        """{(pid, tid): CPU ticks} of every thread of the front-end processes."""
        out = {}
        for pid in self.roles()['frontend']:
            for tid, t in thread_ticks(pid).items():
                out[(pid, tid)] = t
        return out

    def memory(self):
        """Per-role lists of (pid, RSS KiB, PSS KiB, private KiB) and totals."""
        mem = {}
        total_rss = total_pss = 0
        for role, pids in self.roles().items():
            rows = []
            for pid in sorted(pids):
                r, (ps, priv) = rss_kib(pid), smaps_kib(pid)
                rows.append([pid, r, ps, priv])
                total_rss += r
                total_pss += ps
            mem[role] = rows
        mem['total_rss'] = total_rss
        mem['total_pss'] = total_pss
        return mem

    def frontend_rss(self):
        """(VmRSS, VmHWM) KiB of the front-end processes, None without one (uWSGI
        --http11-socket, gunicorn): does the front end grow with the body size?"""
        pids = self.roles()['frontend']
        if not pids:
            return None
        return sum(rss_kib(p) for p in pids), sum(rss_kib(p, 'VmHWM') for p in pids)

    def rss_total(self):
        pids = set()
        for p in self.procs:
            if p.poll() is None:
                pids.update(tree_pids(p.pid))
        return sum(rss_kib(p) for p in pids)

    def stop(self):
        for fn in self.extra_close:
            fn()
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)


def start_wsgid_pieces(build, apps, threads, workdir):
    """The master's job done here: 2 workers on one group socket + the front end."""
    try:
        from wsgidtest import frames as F
    except ImportError:
        raise SystemExit("peer_bench.py: the 'pieces' mode speaks the frame protocol with the "
                         "tests' codec: run with PYTHONPATH=tests/integration")
    srv = Server('wsgid', workdir)
    srv.kind = 'pieces'
    sock_path = os.path.join(workdir, 'wsgi.bench.sock')
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(sock_path)
    lst.listen(100)
    if os.geteuid() == 0:
        import pwd
        pw = pwd.getpwnam('www-data')
        os.chown(sock_path, pw.pw_uid, pw.pw_gid)
    group = {'name': 'bench', 'processes': 2, 'threads': threads, 'display-name': '%{GROUP}',
             'display_name': '(wsgi:bench)', 'multithread': threads != 1, 'multiprocess': True,
             'run_once': False, 'user': None, 'group': None, 'supplementary-groups': None,
             'umask': None, 'home': None, 'lang': None, 'locale': None, 'stack-size': None,
             'cpu-priority': 0, 'python-home': None, 'python-path': [], 'python-eggs': None,
             'switch-interval': None, 'maximum-requests': 0, 'restart-interval': 0,
             'inactivity-timeout': 0, 'startup-timeout': 0, 'graceful-timeout': 15,
             'eviction-timeout': 0, 'shutdown-timeout': 5, 'cpu-time-limit': 0, 'memory-limit': 0,
             'virtual-memory-limit': 0, 'request-timeout': 0, 'interrupt-timeout': 0,
             'deadlock-timeout': 300, 'listen-backlog': 100, 'connect-timeout': 15,
             'socket-timeout': 60, 'queue-timeout': 0}
    preload = [{'script': os.path.join(apps, n), 'application_group': '', 'callable_object': 'application',
                'kind': 'alias'} for _, n in MOUNTS if n != 'pid.wsgi']
    wsettings = {'role': 'worker', 'index': 0, 'generation': 1, 'group': group,
                 'default_user': 'www-data' if os.geteuid() == 0 else None,
                 'default_group': 'www-data' if os.geteuid() == 0 else None,
                 'python_home': None, 'python_path': [], 'preload': preload, 'log_level': 'warn'}
    ctrls = []

    def child(argv, fd4, settings):
        parent, ch = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        a, b = ch.fileno(), fd4.fileno()

        def pre():
            x, y = os.dup(a), os.dup(b)
            os.dup2(x, 3)
            os.dup2(y, 4)
        p = srv.spawn(argv, pass_fds=(3, 4), preexec_fn=pre)
        ch.close()
        parent.sendall(F.hello() + F.control(F.SETTINGS, settings))
        ctrls.append(parent)
        return p

    worker = os.environ.get('WSGID_WORKER') or os.path.join(build, 'worker', 'wsgid-worker')
    for i in range(2):
        s = dict(wsettings, index=i)
        child([worker, '--control-fd=3', '--listen-fd=4'], lst, s)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(('127.0.0.1', srv.port))
    tcp.listen(1024)
    mounts = [{'url': u, 'script': os.path.join(apps, f), 'is_match': False, 'process_group': None,
               'application_group': None, 'callable_object': None, 'pass_authorization': None}
              for u, f in MOUNTS]
    fsettings = {'role': 'frontend', 'generation': 1,
                 'user': 'www-data' if os.geteuid() == 0 else None,
                 'group': 'www-data' if os.geteuid() == 0 else None, 'log_level': 'warn',
                 'listen': ['127.0.0.1:%d' % srv.port],
                 'limits': {'keep_alive_timeout': 5, 'max_keep_alive_requests': 0},
                 'restrict_embedded': True,
                 'groups': [{'name': 'bench', 'socket': sock_path, 'processes': 2, 'threads': threads,
                             'connect_timeout': 15, 'socket_timeout': 60, 'queue_timeout': 0}],
                 'server': {'settings': {'process_group': 'bench', 'application_group': '%{GLOBAL}'},
                            'mounts': mounts}}
    frontend = os.environ.get('WSGID_FRONTEND') or os.path.join(build, 'supervisor', 'frontend', 'wsgid-frontend')
    child([frontend, '--control-fd=3'], tcp, fsettings)
    lst.close()
    tcp.close()
    srv.extra_close.append(lambda: [c.close() for c in ctrls])
    return srv


def start_wsgid_master(build, apps, threads, workdir, loops=None):
    srv = Server('wsgid', workdir)
    conf = os.path.join(workdir, 'wsgid.conf')
    srv.conf = conf
    srv.control = os.path.join(workdir, 'control.sock')

    def write_conf(deadlock_timeout=300):
        tmp = conf + '.new'
        with open(tmp, 'w') as f:
            f.write(conf_text(deadlock_timeout))
        os.rename(tmp, conf)
    srv.write_conf = write_conf

    def conf_text(deadlock_timeout):
        return ('''Listen 127.0.0.1:%d
PidFile %s/wsgid.pid
ErrorLog %s/error.log
WSGIControlSocket %s/control.sock
WSGISocketPrefix %s/wsgi
KeepAliveTimeout 5
MaxKeepAliveRequests 0
WSGIRestrictEmbedded On
WSGIDaemonProcess bench processes=2 threads=%d display-name=%%{GROUP} deadlock-timeout=%d
WSGIProcessGroup bench
WSGIApplicationGroup %%{GLOBAL}
''' % (srv.port, workdir, workdir, workdir, workdir, threads, deadlock_timeout)
                + ('WSGIFrontendLoops %s\n' % loops if loops else '')
                + ''.join('WSGIScriptAlias %s %s/%s process-group=bench application-group=%%{GLOBAL}\n'
                          % (u, apps, f) for u, f in MOUNTS))
    write_conf()
    wsgid = os.environ.get('WSGID_MASTER') or os.path.join(build, 'supervisor', 'wsgid')
    extra = os.environ.get('WSGID_MASTER_ARGS', '').split()
    srv.spawn([wsgid, '-f', conf] + extra)
    return srv


def start_apache(apps, threads, workdir):
    srv = Server('apache-daemon', workdir)
    conf = os.path.join(workdir, 'httpd.conf')
    mods = '/usr/lib/apache2/modules'
    with open(conf, 'w') as f:
        f.write('''ServerRoot %(d)s
LoadModule mpm_event_module %(m)s/mod_mpm_event.so
LoadModule authz_core_module %(m)s/mod_authz_core.so
LoadModule wsgi_module %(m)s/mod_wsgi.so
Listen 127.0.0.1:%(port)d
ServerName localhost
PidFile %(d)s/httpd.pid
ErrorLog %(d)s/apache-error.log
LogLevel warn
User www-data
Group www-data
KeepAlive On
MaxKeepAliveRequests 0
StartServers 2
ServerLimit 4
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 64
MaxSpareThreads 96
WSGISocketPrefix %(d)s/wsgi
WSGIRestrictEmbedded On
WSGIDaemonProcess bench processes=2 threads=%(t)d display-name=%%{GROUP}
WSGIProcessGroup bench
WSGIApplicationGroup %%{GLOBAL}
%(aliases)s<Directory %(a)s>
  Require all granted
</Directory>
''' % {'d': workdir, 'm': mods, 'port': srv.port, 't': threads, 'a': apps,
       'aliases': ''.join('WSGIScriptAlias %s %s/%s\n' % (u, apps, f) for u, f in MOUNTS)})
    srv.spawn(['/usr/sbin/apache2', '-f', conf, '-DFOREGROUND'],
              env=dict(os.environ, APACHE_RUN_DIR=workdir, APACHE_LOCK_DIR=workdir, APACHE_LOG_DIR=workdir))
    return srv


def uwsgi_common(apps, threads):
    args = ['--plugin', 'python3', '--master', '--processes', '2', '--threads', str(threads),
            '--wsgi-file', os.path.join(apps, 'hello.wsgi'),
            *[a for u, f in MOUNTS if u != '/' for a in ('--mount', '%s=%s' % (u, os.path.join(apps, f)))],
            '--manage-script-name', '--single-interpreter', '--disable-logging',
            '--auto-procname']  # "uWSGI worker N", "uWSGI http 1": tells the roles apart
    if os.geteuid() == 0:
        args += ['--uid', 'www-data', '--gid', 'www-data']
    return args


def start_uwsgi_http11(apps, threads, workdir):
    srv = Server('uwsgi-http11', workdir)
    srv.spawn(['uwsgi', '--http11-socket', '127.0.0.1:%d' % srv.port] + uwsgi_common(apps, threads))
    return srv


def start_uwsgi_router(apps, threads, workdir):
    srv = Server('uwsgi-router', workdir)
    srv.spawn(['uwsgi', '--plugin', 'http', '--http', '127.0.0.1:%d' % srv.port, '--http-keepalive']
              + uwsgi_common(apps, threads))
    return srv


def start_gunicorn(apps, threads, workdir):
    srv = Server('gunicorn-gthread', workdir)
    args = ['gunicorn', '-w', '2', '-k', 'gthread', '--threads', str(threads), '-b',
            '127.0.0.1:%d' % srv.port, '--chdir', apps, 'dispatch:app']
    if os.geteuid() == 0:
        args += ['-u', 'www-data', '-g', 'www-data']
    srv.spawn(args)
    return srv


def wrk(port, path, conns, duration, lua=None):
    argv = ['wrk', '-t1', '-c%d' % conns, '-d%ds' % duration, '--timeout', '2s', '--latency']
    if lua:
        argv += ['-s', lua]
    argv.append('http://127.0.0.1:%d%s' % (port, path))
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30).stdout

    def lat(label):
        m = re.search(r'^\s+%s\s+([\d.]+)(us|ms|s)\s*$' % label, out, re.M)
        if not m:
            return float('nan')
        v = float(m.group(1))
        return v / 1000 if m.group(2) == 'us' else v * 1000 if m.group(2) == 's' else v
    rps = re.search(r'Requests/sec:\s+([\d.]+)', out)
    errs = 0
    m = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', out)
    if m:
        errs += sum(int(x) for x in m.groups())
    m = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    if m:
        errs += int(m.group(1))
    m = re.search(r'(\d+) requests in', out)
    return {'rps': float(rps.group(1)) if rps else 0.0, 'p50': lat('50%'), 'p99': lat('99%'), 'errors': errs,
            'requests': int(m.group(1)) if m else 0}


ROLES = ('frontend', 'workers', 'master')


def cpu_per_request(before, after, requests):
    """Server CPU (user + system) per request in microseconds, by role and in total,
    from two Server.cpu() samples around a load run. A process seen only in `after`
    counts whole; one gone by `after` is lost (no restart happens during these runs)."""
    tick_us = 1e6 / os.sysconf('SC_CLK_TCK')
    out = {r: {'user': 0.0, 'sys': 0.0} for r in ROLES}
    for pid, (role, u1, s1) in after.items():
        _, u0, s0 = before.get(pid, (role, 0, 0))
        out[role]['user'] += (u1 - u0) * tick_us
        out[role]['sys'] += (s1 - s0) * tick_us
    n = max(requests, 1)
    res = {r: (v['user'] + v['sys']) / n for r, v in out.items()}
    res['total'] = sum(res[r] for r in ROLES)
    res['sys_share'] = sum(v['sys'] for v in out.values()) / max(sum(v['user'] + v['sys'] for v in out.values()), 1e-9)
    return res


RESTART_METHODS = {
    'wsgid': ['none', 'restart', 'usr1', 'hup', 'killone'],
    'apache-daemon': ['none', 'graceful', 'killone'],
    'uwsgi-router': ['none', 'hup', 'killone'],
    'uwsgi-http11': ['none', 'hup', 'killone'],
    'gunicorn-gthread': ['none', 'hup', 'killone'],
}
# Each server's group restart, the one compared across servers.
PRIMARY_METHOD = {'wsgid': 'restart', 'apache-daemon': 'graceful', 'uwsgi-router': 'hup',
                  'uwsgi-http11': 'hup', 'gunicorn-gthread': 'hup'}
LABEL = {'wsgid': 'wsgid', 'apache-daemon': 'Apache + mod_wsgi daemon', 'uwsgi-router': 'uWSGI `--http` router',
         'uwsgi-http11': 'uWSGI `--http11-socket`', 'gunicorn-gthread': 'gunicorn gthread'}


def launch(name, args, apps, threads, workdir):
    """Starts a server and waits for its first 200: (server, ms to first answer or None)."""
    t0 = time.monotonic()
    srv = None
    if name == 'wsgid':
        mode = args.wsgid_mode
        if mode in ('auto', 'master'):
            srv = start_wsgid_master(args.build, apps, threads, workdir, args.wsgid_loops)
            if not wait_http(srv.port, timeout=20, interval=0.01):
                srv.stop()
                if mode == 'master':
                    raise RuntimeError('wsgid master did not answer (logs in %s)' % workdir)
                srv = None
            else:
                return srv, (time.monotonic() - t0) * 1000
        srv = start_wsgid_pieces(args.build, apps, threads, workdir)
        srv.name = 'wsgid (pieces)'
        t0 = None
    elif name == 'apache-daemon':
        srv = start_apache(apps, threads, workdir)
    elif name == 'uwsgi-router':
        srv = start_uwsgi_router(apps, threads, workdir)
    elif name == 'uwsgi-http11':
        srv = start_uwsgi_http11(apps, threads, workdir)
    elif name == 'gunicorn-gthread':
        srv = start_gunicorn(apps, threads, workdir)
    else:
        raise RuntimeError('unknown server ' + name)
    if not wait_http(srv.port, timeout=30, interval=0.01):
        srv.stop()
        raise RuntimeError('%s did not answer on port %d (logs in %s)' % (name, srv.port, workdir))
    return srv, ((time.monotonic() - t0) * 1000 if t0 is not None else None)


def control_request(path, request, timeout=10):
    """One request on wsgid's control socket (CONTROL.md): the reply object."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(json.dumps(request).encode() + b'\n')
    data = b''
    while not data.endswith(b'\n'):
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    return json.loads(data.split(b'\n')[0])


def issue_restart(srv, method, build):
    """Does the restart; returns how it was done (for the table)."""
    roles = srv.roles()
    if method == 'killone':
        if not roles['workers']:
            raise RuntimeError('no worker process found to kill')
        pid = min(roles['workers'])
        os.kill(pid, signal.SIGKILL)
        return 'SIGKILL one worker'
    master = srv.master_pid()
    if srv.kind == 'wsgid':
        if method == 'restart':
            ctl = os.path.join(build, 'supervisor', 'ctl', 'wsgictl')
            note = ''
            if os.access(ctl, os.X_OK):
                r = subprocess.run([ctl, '-s', srv.control, 'restart', 'bench'], capture_output=True,
                                   text=True, timeout=30)
                if r.returncode == 0:
                    return 'wsgictl restart bench'
                note = 'wsgictl exited %d, then ' % r.returncode
            reply = control_request(srv.control, {'command': 'restart', 'args': ['bench']})
            if not reply.get('ok'):
                raise RuntimeError('control socket restart: %s' % reply)
            return note + 'control socket {"command":"restart"}'
        if method == 'usr1':
            for pid in roles['workers']:
                os.kill(pid, signal.SIGUSR1)
            return 'SIGUSR1 to the %d workers' % len(roles['workers'])
        if method == 'hup':
            srv.write_conf(301)
            os.kill(master, signal.SIGHUP)
            return 'deadlock-timeout 300 -> 301, SIGHUP to the master'
    if srv.kind == 'apache' and method == 'graceful':
        os.kill(master, signal.SIGUSR1)
        return 'SIGUSR1 to the parent (apachectl -k graceful)'
    if method == 'hup' and srv.kind in ('uwsgi', 'gunicorn'):
        os.kill(master, signal.SIGHUP)
        return 'SIGHUP to the master'
    raise RuntimeError('no restart method %s for %s' % (method, srv.name))


def restart_run(srv, method, args, sample_memory):
    """loadgen -c16 for D s on hello, the restart R s in: loadgen's JSON plus
    new_gen_ms, up_ms, how, memory."""
    d, at = args.restart_duration, args.restart_at
    lg = subprocess.Popen([args.loadgen, '--url', 'http://127.0.0.1:%d/' % srv.port, '-c', '16',
                           '-d', str(d), '--timeout', '2', '--json'],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t_start = time.monotonic()
    out = {'how': None, 'new_gen_ms': None, 'up_ms': None, 'memory': None}
    try:
        time.sleep(at)
        if sample_memory:
            out['memory'] = srv.memory()
        if method != 'none':
            before = set(srv.roles()['workers'])
            t_issue = time.monotonic()
            out['how'] = issue_restart(srv, method, args.build)
            deadline = t_start + d - 0.05
            next_roles = 0.0
            while time.monotonic() < deadline:
                now = time.monotonic()
                if method == 'killone' and out['up_ms'] is None and now >= next_roles:
                    next_roles = now + 0.02
                    if any(w not in before for w in srv.roles()['workers']):
                        out['up_ms'] = (time.monotonic() - t_issue) * 1000
                if out['new_gen_ms'] is None:
                    body = get_body(srv.port, '/pid', timeout=0.5)
                    if body and body.strip().isdigit() and int(body) not in before:
                        out['new_gen_ms'] = (time.monotonic() - t_issue) * 1000
                if out['new_gen_ms'] is not None and (method != 'killone' or out['up_ms'] is not None):
                    break
                time.sleep(0.01)
        stdout, stderr = lg.communicate(timeout=d + 30)
    except BaseException:
        lg.kill()
        lg.wait()
        raise
    if lg.returncode != 0:
        raise RuntimeError('loadgen exited %d: %s' % (lg.returncode, stderr.strip()))
    out.update(json.loads(stdout))
    return out


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_num(v, spec='%.0f'):
    return '-' if v is None or (isinstance(v, float) and v != v) else spec % v


def bars_and_standing(results, restart, threads):
    """#5's bars on hello (wsgid / mod_wsgi daemon >= 3, / uWSGI router >= 2, p99
    lower than both) and #7's restart standing, from this run's numbers."""
    out = {'throughput': {}, 'restart': {}}
    for test in ('hello-c16', 'hello-c64'):
        w = results.get((threads, 'wsgid', test))
        if not w:
            continue
        row = {'wsgid_rps': w['rps'], 'wsgid_p99': w['p99']}
        for peer, key in (('apache-daemon', 'x_mod_wsgi'), ('uwsgi-router', 'x_uwsgi_router'),
                          ('uwsgi-http11', 'x_uwsgi_http11'), ('gunicorn-gthread', 'x_gunicorn')):
            p = results.get((threads, peer, test))
            row[key] = w['rps'] / p['rps'] if p and p['rps'] else None
            row[peer + '_p99'] = p['p99'] if p else None
        row['bar_mod_wsgi_3x'] = row['x_mod_wsgi'] is not None and row['x_mod_wsgi'] >= 3
        row['bar_uwsgi_router_2x'] = row['x_uwsgi_router'] is not None and row['x_uwsgi_router'] >= 2
        peers_p99 = [row[p + '_p99'] for p in ('apache-daemon', 'uwsgi-router') if row.get(p + '_p99') is not None]
        row['bar_lower_p99'] = bool(peers_p99) and all(w['p99'] < x for x in peers_p99)
        out['throughput'][test] = row
    wr = restart.get(('wsgid', 'restart'))
    if wr:
        for peer, method in PRIMARY_METHOD.items():
            if peer == 'wsgid':
                continue
            pr = restart.get((peer, method))
            if not pr:
                continue
            fewer = wr['failed_median'] < pr['failed_median'] or (wr['failed_median'] == 0 and pr['failed_median'] == 0)
            shorter = wr['max_gap_ms_median'] < pr['max_gap_ms_median']
            out['restart'][peer] = {'method': method, 'wsgid_failed': wr['failed_median'],
                                    'peer_failed': pr['failed_median'], 'wsgid_gap_ms': wr['max_gap_ms_median'],
                                    'peer_gap_ms': pr['max_gap_ms_median'], 'ahead': fewer and shorter}
    return out


def one_run(srv, app, path, conns, duration, luas):
    """One wrk run against srv, with the tree's CPU and the front end's loops."""
    before, threads_before = srv.cpu(), srv.frontend_threads()
    r = wrk(srv.port, path, conns, duration, luas.get(app))
    r['cpu'] = cpu_per_request(before, srv.cpu(), r['requests'])
    r['loops'] = loop_figures(threads_before, srv.frontend_threads(), r['requests'])
    return r


def summarize(results, srv, threads, name, app, conns, runs):
    """Medians of runs into results[(threads, name, test)], and the lines printed."""
    key = (threads, name, '%s-c%d' % (app, conns))
    results[key] = {
        'cpu_us': {k: statistics.median(r['cpu'][k] for r in runs)
                   for k in ROLES + ('total', 'sys_share')},
        'rps': statistics.median(r['rps'] for r in runs),
        'p50': statistics.median(r['p50'] for r in runs),
        'p99': statistics.median(r['p99'] for r in runs),
        'errors': [r['errors'] for r in runs],
        'runs': [r['rps'] for r in runs],
        'frontend_rss': srv.frontend_rss(),
    }
    loops = [r['loops'] for r in runs if r['loops']]
    if name == 'wsgid' and loops:
        results[key]['loops'] = (max(n for n, _, _ in loops),
                                 statistics.median(u for _, u, _ in loops),
                                 statistics.median(c for _, _, c in loops))
    c = results[key]['cpu_us']
    print('%-20s %dt %-10s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %s  '
          'CPU us/req %.1f (front end %.1f, workers %.1f, master %.1f; %.0f%% system)' % (
              srv.name, threads, key[2], results[key]['rps'], results[key]['p50'],
              results[key]['p99'], results[key]['errors'], c['total'], c['frontend'],
              c['workers'], c['master'], 100 * c['sys_share']), flush=True)
    if 'loops' in results[key]:
        n, u, ceil = results[key]['loops']
        print('%-20s %dt %-10s front end: %d event loop(s), %.1f us CPU per request '
              'each carried: one loop tops out near %.0f req/s' % (
                  srv.name, threads, key[2], n, u, ceil), flush=True)
    fe = results[key]['frontend_rss']
    if app in MIB_PER_REQUEST:
        print('%-20s %dt %-10s CPU us/MiB %.0f; front end RSS %s KiB (peak %s)' % (
            srv.name, threads, key[2], c['total'] / MIB_PER_REQUEST[app],
            fe[0] if fe else '-', fe[1] if fe else '-'), flush=True)


def throughput_interleaved(args, servers, threads, cases, apps, root, luas, results, startup, notes):
    """--interleave: every server up at once (idle ones cost nothing measured: CPU
    is counted per process tree), and each run of a test goes to every server in
    turn, the order rotated from one run to the next, so that a slow minute of a
    shared VM falls on all of them rather than on one server's block of runs."""
    live = {}
    try:
        for name in servers:
            workdir = tempfile.mkdtemp(prefix=name + '-', dir=root)
            os.chmod(workdir, 0o777)
            try:
                srv, ms = launch(name, args, apps, threads, workdir)
            except Exception as e:  # noqa: BLE001 - report and go on without it
                print('%s (%d threads): FAILED: %s' % (name, threads, e), flush=True)
                notes.append('%s (%d threads) throughput: %s' % (name, threads, e))
                continue
            live[name] = srv
            if ms is not None:
                startup.setdefault(name, []).append(ms)
        order = [n for n in servers if n in live]
        for app, path, conns in cases:
            runs = {name: [] for name in order}
            for i in range(args.runs):
                k = i % len(order) if order else 0
                for name in order[k:] + order[:k]:
                    runs[name].append(one_run(live[name], app, path, conns, args.duration, luas))
            for name in order:
                summarize(results, live[name], threads, name, app, conns, runs[name])
        for name in order:
            results[(threads, name, 'rss')] = live[name].rss_total()
            results[(threads, name, 'pss')] = live[name].memory()['total_pss']
    finally:
        for srv in live.values():
            srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=os.environ.get('WSGID_BUILD_DIR', 'build'))
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--duration', type=int, default=10)
    ap.add_argument('--threads', default='4,1')
    ap.add_argument('--servers', default='wsgid,apache-daemon,uwsgi-router,uwsgi-http11,gunicorn-gthread')
    ap.add_argument('--tests', default='hello-c16,hello-c64,sleep-c16,echo-c16')
    ap.add_argument('--sections', default='throughput,restart,memory,startup')
    ap.add_argument('--restart-runs', type=int, default=None, help='default: --runs')
    ap.add_argument('--restart-duration', type=float, default=10)
    ap.add_argument('--restart-at', type=float, default=3)
    ap.add_argument('--restart-methods', default='', help='only these methods (comma list)')
    ap.add_argument('--loadgen', default=None, help='default: BUILD/tests/bench/loadgen')
    ap.add_argument('--wsgid-mode', default='auto', choices=['auto', 'master', 'pieces'])
    ap.add_argument('--wsgid-loops', default=None,
                    help="WSGIFrontendLoops for wsgid (a count or auto; default: the directive's default)")
    ap.add_argument('--quick', action='store_true',
                    help='1 run of 5 s, 4 threads only, hello and sleep; restart runs of 6 s (restart at 2 s)')
    ap.add_argument('--json', help='write the results and the verdicts here (for tools/proof)')
    ap.add_argument('--markdown', help='also write the tables here')
    ap.add_argument('--interleave', action='store_true',
                    help='throughput: every server up at once, each run of a test going to every server '
                         'in turn (a noisy VM then slows all servers alike)')
    args = ap.parse_args()
    if args.quick:
        args.runs, args.duration, args.threads = 1, 5, args.threads.split(',')[0]
        args.tests = 'hello-c16,hello-c64,sleep-c16'
        args.restart_duration, args.restart_at = 6, 2
        if args.restart_runs is None:
            args.restart_runs = 1
    if args.restart_runs is None:
        args.restart_runs = args.runs
    args.loadgen = args.loadgen or os.path.join(args.build, 'tests', 'bench', 'loadgen')
    sections = set(args.sections.split(','))
    servers = args.servers.split(',')

    if 'throughput' in sections and not shutil.which('wrk'):
        sys.exit('peer_bench: wrk is not installed')
    if sections & {'restart', 'memory'} and not os.access(args.loadgen, os.X_OK):
        sys.exit('peer_bench: %s is not built (meson compile -C BUILD tests/bench/loadgen)' % args.loadgen)
    loadavg_start = os.getloadavg()
    started_at = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    root = tempfile.mkdtemp(prefix='wsgid-bench-')
    os.chmod(root, 0o755)
    apps = os.path.join(root, 'apps')
    os.makedirs(apps)
    os.chmod(apps, 0o755)
    for name, text in (('hello.wsgi', HELLO), ('sleep.wsgi', SLEEP), ('echo.wsgi', ECHO), ('pid.wsgi', PID),
                       ('upload.wsgi', UPLOAD), ('download.wsgi', DOWNLOAD),
                       ('dispatch.py', DISPATCH)):
        with open(os.path.join(apps, name), 'w') as f:
            f.write(text)
    luas = {}
    for app, text in (('echo', ECHO_LUA), ('upload1m', UPLOAD_LUA), ('upload16m', UPLOAD16_LUA)):
        luas[app] = os.path.join(root, app + '.lua')
        with open(luas[app], 'w') as f:
            f.write(text)

    wanted_tests = [t for t in TESTS if '%s-c%d' % (t[0], t[2]) in args.tests.split(',')]
    thread_list = [int(t) for t in args.threads.split(',')]
    results = {}
    restart = {}     # (server, method) -> summary
    memory = {}      # server -> memory()
    startup = {}     # server -> [ms]
    notes = []
    try:
        if 'throughput' in sections:
            for threads in thread_list:
                cases = [(app, path, conns) for app, path, conns in wanted_tests
                         if not (threads == 1 and conns == 64)]
                if args.interleave:
                    throughput_interleaved(args, servers, threads, cases, apps, root, luas,
                                           results, startup, notes)
                    continue
                for name in servers:
                    workdir = tempfile.mkdtemp(prefix=name + '-', dir=root)
                    os.chmod(workdir, 0o777)
                    srv = None
                    try:
                        srv, ms = launch(name, args, apps, threads, workdir)
                        if ms is not None:
                            startup.setdefault(name, []).append(ms)
                        for app, path, conns in cases:
                            runs = [one_run(srv, app, path, conns, args.duration, luas)
                                    for _ in range(args.runs)]
                            summarize(results, srv, threads, name, app, conns, runs)
                        results[(threads, name, 'rss')] = srv.rss_total()
                        results[(threads, name, 'pss')] = srv.memory()['total_pss']
                    except Exception as e:  # noqa: BLE001 - report and go on with the next server
                        print('%s (%d threads): FAILED: %s' % (name, threads, e), flush=True)
                        notes.append('%s (%d threads) throughput: %s' % (name, threads, e))
                    finally:
                        if srv:
                            srv.stop()

        # Restart under load, memory and startup: fresh servers, the first thread count.
        if sections & {'restart', 'memory', 'startup'}:
            threads = thread_list[0]
            only = set(filter(None, args.restart_methods.split(',')))
            for name in servers:
                methods = [m for m in RESTART_METHODS.get(name, []) if not only or m in only]
                if 'restart' not in sections:
                    methods = ['none']
                elif name == 'wsgid' and args.wsgid_mode == 'pieces':
                    notes.append('wsgid restart: needs the master (--wsgid-mode pieces has none)')
                    methods = ['none']
                runs_per = args.restart_runs if 'restart' in sections else 1
                for method in methods:
                    runs = []
                    for _ in range(runs_per):
                        workdir = tempfile.mkdtemp(prefix=name + '-', dir=root)
                        os.chmod(workdir, 0o777)
                        srv = None
                        try:
                            srv, ms = launch(name, args, apps, threads, workdir)
                            if ms is not None:
                                startup.setdefault(name, []).append(ms)
                            want_mem = name not in memory and 'memory' in sections
                            if 'restart' in sections:
                                r = restart_run(srv, method, args, want_mem)
                                runs.append(r)
                                print('%-20s restart %-8s failed %4d (socket %d, timeouts %d, status %s)  '
                                      'gap %7.1f ms at %.2f s  new gen %s ms  up %s ms  [%s]' % (
                                          srv.name, method, r['failed'], r['socket_errors'], r['timeouts'],
                                          r['status'], r['max_gap_ms'], r['max_gap_at_s'],
                                          fmt_num(r['new_gen_ms'], '%.1f'), fmt_num(r['up_ms'], '%.1f'),
                                          r['how'] or 'no restart'), flush=True)
                                if want_mem:
                                    memory[name] = r['memory']
                            elif want_mem:
                                subprocess.run([args.loadgen, '--url', 'http://127.0.0.1:%d/' % srv.port,
                                                '-c', '16', '-d', '2', '--json'], capture_output=True, timeout=40)
                                memory[name] = srv.memory()
                        except Exception as e:  # noqa: BLE001
                            print('%s %s: FAILED: %s' % (name, method, e), flush=True)
                            notes.append('%s %s: %s' % (name, method, e))
                        finally:
                            if srv:
                                srv.stop()
                    if runs and 'restart' in sections:
                        restart[(name, method)] = {
                            'server': name, 'method': method, 'how': runs[0]['how'],
                            'failed': [r['failed'] for r in runs],
                            'socket_errors': [r['socket_errors'] for r in runs],
                            'timeouts': [r['timeouts'] for r in runs],
                            'non2xx': [r['failed'] - r['socket_errors'] - r['timeouts'] for r in runs],
                            'max_gap_ms': [r['max_gap_ms'] for r in runs],
                            'max_gap_at_s': [r['max_gap_at_s'] for r in runs],
                            'new_gen_ms': [r['new_gen_ms'] for r in runs],
                            'up_ms': [r['up_ms'] for r in runs],
                            'requests': [r['requests'] for r in runs],
                            'status_run1': runs[0]['status'],
                            'failed_median': statistics.median(r['failed'] for r in runs),
                            'max_gap_ms_median': statistics.median(r['max_gap_ms'] for r in runs),
                            'new_gen_ms_median': median_or_none(r['new_gen_ms'] for r in runs),
                            'up_ms_median': median_or_none(r['up_ms'] for r in runs),
                        }
    finally:
        shutil.rmtree(root, ignore_errors=True)

    loadavg_end = os.getloadavg()
    md = []
    md.append('Run of %s; load average %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end (%d cores).' % (
        (started_at,) + tuple(loadavg_start) + tuple(loadavg_end) + (os.cpu_count(),)))
    md.append('')
    # The table: medians and ratios to wsgid.
    if results:
        for threads in thread_list:
            md.append('### 2 processes x %d threads (median of %d runs of %d s; x = ratio to wsgid)' % (
                threads, args.runs, args.duration))
            md.append('')
            tests = ['%s-c%d' % (a, c) for a, _, c in wanted_tests if not (threads == 1 and c == 64)]
            md.append('| server | ' + ' | '.join('%s req/s (x) | p50/p99 ms' % t for t in tests) + ' | RSS KiB |')
            md.append('|---|' + '---:|---:|' * len(tests) + '---:|')
            for name in servers:
                cells = []
                for t in tests:
                    r = results.get((threads, name, t))
                    base = results.get((threads, 'wsgid', t))
                    if not r:
                        cells += ['-', '-']
                        continue
                    ratio = r['rps'] / base['rps'] if base and base['rps'] else float('nan')
                    cells.append('%.0f (%.2f)' % (r['rps'], ratio))
                    cells.append('%.2f / %.2f' % (r['p50'], r['p99']))
                rss = results.get((threads, name, 'rss'))
                md.append('| %s | %s | %s |' % (LABEL.get(name, name), ' | '.join(cells),
                                                rss if rss is not None else '-'))
            md.append('')
            md.append('Server CPU per request, microseconds (user + system of the whole process tree / '
                      'requests; front end + workers + master; x = ratio to uWSGI `--http11-socket`), '
                      'and the tree\'s PSS after the load tests:')
            md.append('')
            md.append('| server | ' + ' | '.join('%s us/req (x): fe + workers + master' % t for t in tests) +
                      ' | PSS KiB |')
            md.append('|---|' + '---:|' * len(tests) + '---:|')
            for name in servers:
                cells = []
                for t in tests:
                    r = results.get((threads, name, t))
                    base = results.get((threads, 'uwsgi-http11', t))
                    if not r:
                        cells.append('-')
                        continue
                    c = r['cpu_us']
                    ratio = c['total'] / base['cpu_us']['total'] if base and base['cpu_us']['total'] else float('nan')
                    cells.append('%.1f (%.2f): %.1f + %.1f + %.1f' % (c['total'], ratio, c['frontend'], c['workers'],
                                                                     c['master']))
                pss = results.get((threads, name, 'pss'))
                md.append('| %s | %s | %s |' % (LABEL.get(name, name), ' | '.join(cells),
                                                pss if pss is not None else '-'))
            md.append('')
            loops = [(t, results[(threads, 'wsgid', t)]['loops']) for t in tests
                     if 'loops' in results.get((threads, 'wsgid', t), {})]
            if loops:
                md.append('wsgid\'s front end per event loop (threads that did a tenth of its work or more; '
                          'CPU per request each loop carried, and the requests/s one loop can carry at that '
                          'cost): ' + '; '.join('%s %d loop(s), %.1f us, %.0f req/s' % (t, n, u, c)
                                                for t, (n, u, c) in loops) + '.')
                md.append('')
    body_tests = [t for t in wanted_tests if t[0] in MIB_PER_REQUEST]
    if results and body_tests:
        threads = thread_list[0]
        tests = ['%s-c%d' % (a, c) for a, _, c in wanted_tests]
        md.append('### Bodies (2 x %d): server CPU per MiB moved, and the front end\'s RSS after each test' % threads)
        md.append('')
        md.append('CPU us per MiB = the whole tree\'s user + system / MiB moved (x = ratio to uWSGI '
                  '`--http11-socket`). Front end RSS KiB after each test, in test order (peak in brackets): '
                  'flat means the front end holds no whole body.')
        md.append('')
        md.append('| server | ' + ' | '.join('%s CPU us/MiB (x)' % t for t in
                                             ['%s-c%d' % (a, c) for a, _, c in body_tests]) +
                  ' | front end RSS KiB: ' + ', '.join(tests) + ' |')
        md.append('|---|' + '---:|' * len(body_tests) + '---|')
        for name in servers:
            cells = []
            for a, _, c in body_tests:
                t = '%s-c%d' % (a, c)
                r = results.get((threads, name, t))
                base = results.get((threads, 'uwsgi-http11', t))
                if not r:
                    cells.append('-')
                    continue
                per = r['cpu_us']['total'] / MIB_PER_REQUEST[a]
                ratio = r['cpu_us']['total'] / base['cpu_us']['total'] if base and base['cpu_us']['total'] else float('nan')
                cells.append('%.0f (%.2f)' % (per, ratio))
            fes = [(results.get((threads, name, t)) or {}).get('frontend_rss') for t in tests]
            fe_cell = ', '.join('%d (%d)' % fe if fe else '-' for fe in fes)
            md.append('| %s | %s | %s |' % (LABEL.get(name, name), ' | '.join(cells), fe_cell))
        md.append('')
    verdict = bars_and_standing(results, restart, thread_list[0])
    if verdict['throughput']:
        md.append('### wsgid against the bars of #5 (2 x %d, hello; this run)' % thread_list[0])
        md.append('')
        md.append('| test | wsgid req/s | x mod_wsgi daemon (bar 3x) | x uWSGI router (bar 2x) | '
                  'p99 ms wsgid / mod_wsgi / router (bar: lowest) | x uWSGI `--http11-socket` (how far) |')
        md.append('|---|---:|---|---|---|---:|')
        for test, row in verdict['throughput'].items():
            def mark(ok):
                return 'met' if ok else '**not met**'
            md.append('| %s | %.0f | %s (%s) | %s (%s) | %s / %s / %s (%s) | %s |' % (
                test, row['wsgid_rps'], fmt_num(row['x_mod_wsgi'], '%.2fx'), mark(row['bar_mod_wsgi_3x']),
                fmt_num(row['x_uwsgi_router'], '%.2fx'), mark(row['bar_uwsgi_router_2x']),
                fmt_num(row['wsgid_p99'], '%.2f'), fmt_num(row.get('apache-daemon_p99'), '%.2f'),
                fmt_num(row.get('uwsgi-router_p99'), '%.2f'), mark(row['bar_lower_p99']),
                fmt_num(row['x_uwsgi_http11'], '%.2fx')))
        md.append('')
    if restart:
        md.append('### Restart under load (loadgen -c16 -d%g on hello, the restart %g s in; median of %d runs)' % (
            args.restart_duration, args.restart_at, args.restart_runs))
        md.append('')
        md.append('| server | method | failed (per run) | socket errs / non-2xx / timeouts (per run) | '
                  'longest gap ms (per run) | new gen serving ms | killone: replacement up ms | how |')
        md.append('|---|---|---:|---|---:|---:|---:|---|')
        for (name, method), r in restart.items():
            md.append('| %s | %s | %s (%s) | %s / %s / %s | %.1f (%s) | %s | %s | %s |' % (
                LABEL.get(name, name), method if method != 'none' else 'none (baseline)',
                fmt_num(r['failed_median']), ', '.join(map(str, r['failed'])),
                ','.join(map(str, r['socket_errors'])), ','.join(map(str, r['non2xx'])),
                ','.join(map(str, r['timeouts'])), r['max_gap_ms_median'],
                ', '.join('%.1f' % g for g in r['max_gap_ms']), fmt_num(r['new_gen_ms_median'], '%.1f'),
                fmt_num(r['up_ms_median'], '%.1f') if method == 'killone' else '-', r['how'] or '-'))
        md.append('')
        if verdict['restart']:
            w = restart[('wsgid', 'restart')]
            md.append('wsgid `restart` against each peer\'s restart (failed requests, longest gap ms; medians): ' +
                      '; '.join('%s %s: %s vs %s, %.1f vs %.1f (%s)' % (
                          LABEL[p], v['method'], fmt_num(v['wsgid_failed']), fmt_num(v['peer_failed']),
                          v['wsgid_gap_ms'], v['peer_gap_ms'], 'ahead' if v['ahead'] else '**not ahead**')
                          for p, v in verdict['restart'].items()) +
                      '. Target: 0 failed (wsgid: %s).' % fmt_num(w['failed_median']))
            md.append('')
    if memory:
        md.append('### Memory (KiB; RSS / PSS / private per process, under load before the first restart)')
        md.append('')
        md.append('| server | master | front end | workers | total RSS | total PSS |')
        md.append('|---|---|---|---|---:|---:|')
        for name in servers:
            m = memory.get(name)
            if not m:
                continue

            def cell(rows):
                return ', '.join('%d / %d / %d' % (r[1], r[2], r[3]) for r in rows) or '-'
            md.append('| %s | %s | %s | %s | %d | %d |' % (LABEL.get(name, name), cell(m['master']),
                                                          cell(m['frontend']), cell(m['workers']),
                                                          m['total_rss'], m['total_pss']))
        md.append('')
    if startup:
        md.append('### Time from start to first answer (ms; GET / polled every 10 ms; median of fresh starts)')
        md.append('')
        md.append('| server | median ms | starts |')
        md.append('|---|---:|---:|')
        for name in servers:
            if startup.get(name):
                md.append('| %s | %.0f | %d |' % (LABEL.get(name, name), statistics.median(startup[name]),
                                                 len(startup[name])))
        md.append('')
    for n in notes:
        md.append('- note: ' + n)
    text = '\n'.join(md)
    print()
    print(text)
    if args.markdown:
        with open(args.markdown, 'w') as f:
            f.write(text + '\n')
    if args.json:
        summary = {
            'date': started_at, 'loadavg_start': loadavg_start, 'loadavg_end': loadavg_end,
            'cores': os.cpu_count(),
            'args': {k: v for k, v in vars(args).items()},
            'throughput': {'|'.join(map(str, k)): v for k, v in results.items()},
            'restart': list(restart.values()),
            'memory': memory,
            'startup_ms': {k: {'median': statistics.median(v), 'runs': v} for k, v in startup.items() if v},
            'verdict': verdict,
            'notes': notes,
            'markdown': text,
        }
        with open(args.json, 'w') as f:
            json.dump(summary, f, indent=1)


if __name__ == '__main__':
    main()
