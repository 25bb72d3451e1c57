#!/usr/bin/python3
"""Peer comparison (#5): wsgid against Apache + mod_wsgi daemon mode, uWSGI's
--http router, uWSGI --http11-socket and gunicorn gthread, all from Debian, on the
same apps with the same processes x threads, under wrk on loopback, in one run.

    sudo apt-get install apache2 libapache2-mod-wsgi-py3 uwsgi uwsgi-plugin-python3 gunicorn wrk
    tests/bench/peer_bench.py --build BUILD_DIR [--runs 3] [--duration 10] [--threads 4,1]
                              [--servers wsgid,apache-daemon,uwsgi-router,uwsgi-http11,gunicorn-gthread]
                              [--wsgid-mode auto|master|pieces] [--markdown]

Apps (as reference/anchor-bench.md): hello (13-byte text/plain with
Content-Length), sleep (time.sleep 10 ms), echo (reads a 64 KiB POST body and
returns it). Tests: hello at -c16 and -c64, sleep at -c16, echo at -c16, each
`wrk -t1 -cN -dDs --timeout 2s --latency`, RUNS times; the table shows medians,
p50/p99 and each server's ratio to wsgid in the same run, and the RSS (KiB) of
the server's whole process tree after its load tests. 2 processes everywhere.

wsgid runs as `wsgid -f CONF` (the master; --wsgid-mode=master) or, until the
master can run it, as its pieces started the way the master starts them
(--wsgid-mode=pieces: 2 wsgid-worker processes sharing one group socket, and
wsgid-frontend, each with its control channel on fd 3). auto = master when it
answers within 20 s, else pieces. Processes started here are ended by their
process-group id; temp dirs are removed. Run as root: servers drop to www-data.
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
# gunicorn and uwsgi --http11-socket mount one app: dispatch by path.
DISPATCH = '''import sys, os
sys.path.insert(0, os.path.dirname(__file__))
def _load(name):
    ns = {}
    exec(open(os.path.join(os.path.dirname(__file__), name)).read(), ns)
    return ns['application']
_hello, _sleep, _echo = _load('hello.wsgi'), _load('sleep.wsgi'), _load('echo.wsgi')
def app(environ, start_response):
    p = environ.get('PATH_INFO', '')
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

TESTS = [('hello', '/', 16), ('hello', '/', 64), ('sleep', '/sleep', 16), ('echo', '/echo', 16)]


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_http(port, path='/', timeout=30):
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
        time.sleep(0.1)
    return False


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


def rss_kib(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
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

    def spawn(self, argv, **kw):
        log = open(os.path.join(self.dir, '%s.%d.log' % (self.name, len(self.procs))), 'ab')
        p = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                             start_new_session=True, **kw)
        log.close()
        self.procs.append(p)
        return p

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
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'integration'))
    from wsgidtest import frames as F  # noqa: E402
    srv = Server('wsgid', workdir)
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
                'kind': 'alias'} for n in ('hello.wsgi', 'sleep.wsgi', 'echo.wsgi')]
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
              for u, f in (('/sleep', 'sleep.wsgi'), ('/echo', 'echo.wsgi'), ('/', 'hello.wsgi'))]
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


def start_wsgid_master(build, apps, threads, workdir):
    srv = Server('wsgid', workdir)
    conf = os.path.join(workdir, 'wsgid.conf')
    with open(conf, 'w') as f:
        f.write('''Listen 127.0.0.1:%d
PidFile %s/wsgid.pid
ErrorLog %s/error.log
WSGIControlSocket %s/control.sock
WSGISocketPrefix %s/wsgi
KeepAliveTimeout 5
MaxKeepAliveRequests 0
WSGIRestrictEmbedded On
WSGIDaemonProcess bench processes=2 threads=%d display-name=%%{GROUP}
WSGIProcessGroup bench
WSGIApplicationGroup %%{GLOBAL}
WSGIScriptAlias /sleep %s/sleep.wsgi process-group=bench application-group=%%{GLOBAL}
WSGIScriptAlias /echo %s/echo.wsgi process-group=bench application-group=%%{GLOBAL}
WSGIScriptAlias / %s/hello.wsgi process-group=bench application-group=%%{GLOBAL}
''' % (srv.port, workdir, workdir, workdir, workdir, threads, apps, apps, apps))
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
WSGIScriptAlias /sleep %(a)s/sleep.wsgi
WSGIScriptAlias /echo %(a)s/echo.wsgi
WSGIScriptAlias / %(a)s/hello.wsgi
<Directory %(a)s>
  Require all granted
</Directory>
''' % {'d': workdir, 'm': mods, 'port': srv.port, 't': threads, 'a': apps})
    srv.spawn(['/usr/sbin/apache2', '-f', conf, '-DFOREGROUND'],
              env=dict(os.environ, APACHE_RUN_DIR=workdir, APACHE_LOCK_DIR=workdir, APACHE_LOG_DIR=workdir))
    return srv


def uwsgi_common(apps, threads):
    args = ['--plugin', 'python3', '--master', '--processes', '2', '--threads', str(threads),
            '--wsgi-file', os.path.join(apps, 'hello.wsgi'),
            '--mount', '/sleep=%s' % os.path.join(apps, 'sleep.wsgi'),
            '--mount', '/echo=%s' % os.path.join(apps, 'echo.wsgi'),
            '--manage-script-name', '--single-interpreter', '--disable-logging']
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
    return {'rps': float(rps.group(1)) if rps else 0.0, 'p50': lat('50%'), 'p99': lat('99%'), 'errors': errs}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=os.environ.get('WSGID_BUILD_DIR', 'build'))
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--duration', type=int, default=10)
    ap.add_argument('--threads', default='4,1')
    ap.add_argument('--servers', default='wsgid,apache-daemon,uwsgi-router,uwsgi-http11,gunicorn-gthread')
    ap.add_argument('--tests', default='hello-c16,hello-c64,sleep-c16,echo-c16')
    ap.add_argument('--wsgid-mode', default='auto', choices=['auto', 'master', 'pieces'])
    ap.add_argument('--json', help='also write the raw results here')
    args = ap.parse_args()

    for tool in ('wrk',):
        if not shutil.which(tool):
            sys.exit('peer_bench: %s is not installed' % tool)
    root = tempfile.mkdtemp(prefix='wsgid-bench-')
    os.chmod(root, 0o755)
    apps = os.path.join(root, 'apps')
    os.makedirs(apps)
    os.chmod(apps, 0o755)
    for name, text in (('hello.wsgi', HELLO), ('sleep.wsgi', SLEEP), ('echo.wsgi', ECHO), ('dispatch.py', DISPATCH)):
        with open(os.path.join(apps, name), 'w') as f:
            f.write(text)
    lua = os.path.join(root, 'echo.lua')
    with open(lua, 'w') as f:
        f.write(ECHO_LUA)

    wanted_tests = [t for t in TESTS if '%s-c%d' % (t[0], t[2]) in args.tests.split(',')]
    results = {}
    try:
        for threads in [int(t) for t in args.threads.split(',')]:
            for name in args.servers.split(','):
                workdir = tempfile.mkdtemp(prefix=name + '-', dir=root)
                os.chmod(workdir, 0o777)
                srv = None
                try:
                    if name == 'wsgid':
                        mode = args.wsgid_mode
                        if mode in ('auto', 'master'):
                            srv = start_wsgid_master(args.build, apps, threads, workdir)
                            if not wait_http(srv.port, timeout=20):
                                srv.stop()
                                if mode == 'master':
                                    raise RuntimeError('wsgid master did not answer')
                                srv = None
                        if srv is None:
                            srv = start_wsgid_pieces(args.build, apps, threads, workdir)
                            srv.name = 'wsgid (pieces)'
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
                    if not wait_http(srv.port, timeout=30):
                        raise RuntimeError('%s did not answer on port %d (logs in %s)' % (name, srv.port, workdir))
                    for app, path, conns in wanted_tests:
                        if threads == 1 and conns == 64:
                            continue
                        key = (threads, name, '%s-c%d' % (app, conns))
                        runs = []
                        for _ in range(args.runs):
                            runs.append(wrk(srv.port, path, conns, args.duration, lua if app == 'echo' else None))
                        results[key] = {
                            'rps': statistics.median(r['rps'] for r in runs),
                            'p50': statistics.median(r['p50'] for r in runs),
                            'p99': statistics.median(r['p99'] for r in runs),
                            'errors': [r['errors'] for r in runs],
                            'runs': [r['rps'] for r in runs],
                        }
                        print('%-20s %dt %-10s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %s' % (
                            srv.name, threads, key[2], results[key]['rps'], results[key]['p50'],
                            results[key]['p99'], results[key]['errors']), flush=True)
                    results[(threads, name, 'rss')] = srv.rss_total()
                except Exception as e:  # noqa: BLE001 - report and go on with the next server
                    print('%s (%d threads): FAILED: %s' % (name, threads, e), flush=True)
                finally:
                    if srv:
                        srv.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    # The table: medians and ratios to wsgid.
    print()
    for threads in [int(t) for t in args.threads.split(',')]:
        print('### 2 processes x %d threads (median of %d runs of %d s; x = ratio to wsgid)' % (
            threads, args.runs, args.duration))
        tests = ['%s-c%d' % (a, c) for a, _, c in wanted_tests if not (threads == 1 and c == 64)]
        print('| server | ' + ' | '.join('%s req/s (x) | p50/p99 ms' % t for t in tests) + ' | RSS KiB |')
        print('|---|' + '---:|---:|' * len(tests) + '---:|')
        for name in args.servers.split(','):
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
            print('| %s | %s | %s |' % (name, ' | '.join(cells), rss if rss is not None else '-'))
        print()
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'|'.join(map(str, k)): v for k, v in results.items()}, f, indent=1)


if __name__ == '__main__':
    main()
