"""Daemon: the real `wsgid -f CONFIG` in a private temp dir, for every test that
runs the whole master (tests/integration/master, ctl, e2e, faults).

Two ways to write its config, the rest is shared:

    # The master's tests: groups by name, each with /NAME -> its own script
    # (an app that prints "PID URI"; a group whose name holds "crash" gets one
    # that dies at import). Workers are master/fake_worker.py unless
    # WSGID_TEST_WORKER names a real one; the front end is off unless given.
    d = Daemon({'a': 'processes=2 threads=2'}).start()   # waits for the control socket
    d.group_request('a', '/a/x')                            # on the group socket

    # The whole daemon over HTTP: the config body may use {dir} and {apps}
    # (tests/integration/apps); Listen 127.0.0.1:0; the build's worker and front end.
    s = Daemon(body=CONFIG_BODY).start()    # waits: front end and every group RUNNING
    s.get('/a/hello')                        # http.client on the front end's port

Either config starts with LogLevel info, the control socket and WSGISocketPrefix
in the temp dir. The temp dir is 0755 and files are written 0644: as root,
workers and the front end run as www-data. The master's output (its log with
every child's stderr) goes to wsgid.log there; log_problems() lists the lines
that must never appear (logs.LOG_PROBLEMS). stop() sends TERM and SIGKILLs only
processes it saw as children of its own master (pid and start time), never by
name. The temp dir is kept (and its path printed) on failure or when
WSGID_KEEP_TMP=1.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile

from . import group_client
from .logs import log_problems
from .paths import APPS, INTEGRATION_DIR, binary, frontend_binary, worker_binary, wsgid_binary
from .procs import live_children, pid_alive, proc_stat, title_of
from .wait import wait_for

# The master tests' stand-in worker (no Python WSGI; answers "PID URI").
FAKE_WORKER = os.path.join(INTEGRATION_DIR, 'master', 'fake_worker.py')

# The app every group of the master's tests runs (the same answers as
# fake_worker.py gives).
APP = """import os, time

def application(environ, start_response):
    path = environ.get('PATH_INFO', '')
    if path.startswith('/sleep/'):
        time.sleep(float(path.split('/')[2]))
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('%d %s\\n' % (os.getpid(), environ.get('REQUEST_URI', ''))).encode()]
"""
# An app that kills its process at import.
CRASH_APP = "import os\nos._exit(3)\n"


class Daemon:
    def __init__(self, groups=None, extra='', body=None, wsgid=None, worker=None,
                 frontend=None, env=None, prefix=None, listen='127.0.0.1:0'):
        """groups: {name: "WSGIDaemonProcess options"} plus `extra` config lines;
        or body: a config body (with {dir} and {apps}) for the whole daemon.
        worker, frontend: binaries (frontend "none": no front end); env: more
        environment for the master. listen: the whole daemon's first Listen
        (a fixed address when a balancer's config names it)."""
        self.whole = body is not None
        self.listen = listen
        self.dir = tempfile.mkdtemp(prefix=prefix or ('wsgid-sys-' if self.whole else 'wsgid-master-'))
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, 'wsgid.conf')
        self.log_path = os.path.join(self.dir, 'wsgid.log')
        self.control = os.path.join(self.dir, 'control.sock')
        # WSGISocketPrefix (a test may move it and rewrite the config).
        self.socket_prefix = os.path.join(self.dir, 'wsgi')
        self.wsgid = wsgid or wsgid_binary()
        if self.whole:
            self.worker = worker or worker_binary()
            self.frontend = frontend or frontend_binary()
        else:
            self.worker = worker or os.environ.get('WSGID_TEST_WORKER') or FAKE_WORKER
            self.frontend = frontend or 'none'
        self.env = dict(os.environ)
        self.env['WSGID_WORKER'] = self.worker
        self.env['WSGID_FRONTEND'] = self.frontend
        self.env.pop('NOTIFY_SOCKET', None)
        self.env.update(env or {})
        self.proc = None
        self.logf = None
        self.seen_children = {}  # pid -> start time: never kill a reused pid
        self.adopted = {}  # pid -> start time of masters started by others (adopt())
        self._port = None
        if self.whole:
            self.write_body(body)
        else:
            self.write_config(groups or {}, extra)

    # --- files -----------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write(self, name, text, mode=0o644):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), mode=0o755, exist_ok=True)
        with open(p, 'w') as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def chmod_tree(self):
        """Makes everything under the temp dir readable by www-data."""
        subprocess.run(['chmod', '-R', 'a+rX', self.dir], check=True)

    def script(self, name):
        """The script file of group `name` (groups config)."""
        return os.path.join(self.dir, '%s.wsgi' % name)

    def sock(self, group):
        """The group's socket (WSGISocketPrefix.GROUP.sock)."""
        return '%s.%s.sock' % (self.socket_prefix, group)

    # --- config ------------------------------------------------------------------
    def write_config(self, groups, extra=''):
        """The groups config: each group gets /NAME -> its own script, written
        once (a rewritten script restarts its group). `Listen 127.0.0.1:0`
        unless extra has a Listen (wsgid, like Apache, refuses to start
        without one; with the front end off nothing accepts on it)."""
        lines = [
            'LogLevel info',
            'WSGIControlSocket %s' % self.control,
            'WSGISocketPrefix %s' % self.socket_prefix,
        ]
        if 'Listen' not in extra:
            lines.append('Listen 127.0.0.1:0')
        for name, opts in groups.items():
            lines.append('WSGIDaemonProcess %s %s' % (name, opts))
            path = self.script(name)
            if not os.path.exists(path):
                with open(path, 'w') as f:
                    f.write(CRASH_APP if 'crash' in name else APP)
                os.chmod(path, 0o644)
            lines.append('WSGIScriptAlias /%s %s process-group=%s' % (name, path, name))
            if 'crash' in name:
                # Preloaded, so that the real worker dies before READY too.
                lines.append('WSGIImportScript %s process-group=%s application-group=%%{GLOBAL}'
                             % (path, name))
        lines.append(extra)
        with open(self.conf, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def config_text(self, body):
        head = ['LogLevel info',
                'Listen %s' % self.listen,
                'WSGIControlSocket %s' % self.control,
                'WSGISocketPrefix %s/wsgi' % self.dir]
        return '\n'.join(head) + '\n' + body.format(dir=self.dir, apps=APPS) + '\n'

    def write_body(self, body):
        """The whole-daemon config: a fixed head, then body ({dir}, {apps})."""
        with open(self.conf, 'w') as f:
            f.write(self.config_text(body))
        os.chmod(self.conf, 0o644)

    # --- lifetime ------------------------------------------------------------------
    def start(self, args=(), wait_ready=True, groups=None, timeout=60.0):
        """Starts `wsgid -f CONF ARGS` in the temp dir. wait_ready: for a groups
        config, waits for the control socket; for the whole daemon, also for
        the front end and the groups (all, or the names given) RUNNING, and
        fails at once if wsgid exits."""
        self.logf = open(self.log_path, 'ab')
        self.proc = subprocess.Popen([self.wsgid, '-f', self.conf] + list(args), env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        if not wait_ready:
            return self
        if not self.whole:
            wait_for(lambda: os.path.exists(self.control), what='the control socket')
            return self
        wait_for(lambda: os.path.exists(self.control) or self.proc.poll() is not None,
                 timeout, 'the control socket')
        if self.proc.poll() is not None:
            raise AssertionError('wsgid exited with %s at start; log:\n%s'
                                 % (self.proc.returncode, self.log()))
        self.wait_frontend(timeout=timeout)
        names = groups if groups is not None else [g['name'] for g in self.status()['groups']]
        for n in names:
            self.wait_running(n, timeout=timeout)
        self.note_children()
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup(failed=exc[0] is not None)
        return False

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=30.0):
        return self.proc.wait(timeout)

    def child_pids(self):
        """Every live process whose parent is the master."""
        return sorted(live_children(self.proc.pid))

    def note_children(self):
        """Remembers the live children of our master (and of adopted ones)
        while that master is alive: its pid cannot have been reused."""
        if self.proc is not None and self.proc.poll() is None:
            self.seen_children.update(live_children(self.proc.pid))
        for pid, started in self.adopted.items():
            st = proc_stat(pid)
            if st and st[0] != 'Z' and st[2] == started:
                self.seen_children.update(live_children(pid))

    def adopt(self, pid):
        """Takes charge of a master started on this temp dir by something else
        (an init script, `wsgid -d`, a unit's ExecStart): stop() stops it and
        its children by pid, as it stops its own."""
        st = proc_stat(pid) if pid else None
        if st and st[0] != 'Z':
            self.adopted[pid] = st[2]

    def _stop_adopted(self):
        for pid, started in self.adopted.items():
            st = proc_stat(pid)
            if not st or st[0] == 'Z' or st[2] != started:
                continue
            os.kill(pid, signal.SIGTERM)
            try:
                wait_for(lambda: not pid_alive(pid), 40, 'master %d gone' % pid)
            except AssertionError:
                os.kill(pid, signal.SIGKILL)
                wait_for(lambda: not pid_alive(pid), 10, 'master %d gone' % pid)

    def stop(self):
        """TERM, then KILL the master (ours, and any adopted) if it is still
        there after 40 s; then SIGKILL the children it had that are still
        alive (same pid and start time: none should be, they die with their
        master)."""
        self.note_children()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stop_adopted()
        for pid, started in self.seen_children.items():
            st = proc_stat(pid)
            if st and st[0] != 'Z' and st[2] == started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.logf:
            self.logf.close()
            self.logf = None

    def cleanup(self, keep=False, failed=False):
        """stop(), then remove the temp dir unless keep, failed or
        WSGID_KEEP_TMP=1; on failure prints the log's last lines."""
        self.stop()
        keep = keep or failed or os.environ.get('WSGID_KEEP_TMP') == '1'
        if failed:
            print('\n--- last lines of %s ---' % self.log_path)
            print(''.join(self.log().splitlines(True)[-60:]))
        if keep:
            print('kept %s' % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- the log -------------------------------------------------------------------
    def log(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def log_mark(self):
        return len(self.log())

    def log_since(self, mark):
        return self.log()[mark:]

    def wait_log(self, text, timeout=20.0, since=0):
        return wait_for(lambda: text in self.log()[since:], timeout, 'log line %r' % text)

    def log_problems(self, allowed=()):
        """The log's lines that must never appear (logs.LOG_PROBLEMS), but
        those holding one of `allowed`."""
        return log_problems(self.log(), allowed)

    def check_log_clean(self):
        bad = self.log_problems()
        assert not bad, 'log has problems:\n' + '\n'.join(bad[:20])

    # --- control socket ------------------------------------------------------------
    def ctl(self, command, args=(), timeout=10.0, **kw):
        """One request on the control socket (supervisor/master/CONTROL.md) -> the reply."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.control)
            req = {'command': command, 'args': list(args)}
            req.update(kw)
            s.sendall((json.dumps(req) + '\n').encode())
            data = b''
            while not data.endswith(b'\n'):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        return json.loads(data.decode().splitlines()[0])

    def wsgictl(self, *args):
        """Runs the build's wsgictl against this daemon when it is built, else
        sends the equivalent request on the control socket. -> (ok, text)."""
        exe = binary('supervisor', 'ctl', 'wsgictl')
        if os.access(exe, os.X_OK):
            r = subprocess.run([exe, '--socket', self.control] + list(args), capture_output=True,
                               text=True, timeout=60)
            return r.returncode == 0, (r.stdout + r.stderr).strip()
        now = '--now' in args
        rest = [a for a in args if a != '--now']
        rep = self.ctl(rest[0], rest[1:], timeout=60, **({'now': True} if now else {}))
        return rep.get('ok', False), json.dumps(rep)

    def status(self):
        return self.ctl('status')

    def group(self, name):
        for g in self.status()['groups']:
            if g['name'] == name:
                return g
        return None

    def pids(self, name):
        g = self.group(name)
        return sorted(p['pid'] for p in g['processes'] if p['pid']) if g else []

    def all_running(self, name, n=None):
        """Every process of the group RUNNING, none retiring or being replaced
        (and n of them, when given)."""
        g = self.group(name)
        if not g:
            return False
        procs = g['processes']
        if n is not None and len(procs) != n:
            return False
        return all(p['state'] == 'RUNNING' and not p['retiring'] and not p['successor_pid']
                   for p in procs)

    def wait_running(self, *names, n=None, timeout=30.0):
        for name in names:
            wait_for(lambda: self.all_running(name, n), timeout, 'group %s RUNNING' % name)

    def frontend_status(self):
        """The front end's PROCESS object of the status, or {}."""
        return self.status()['frontend'] or {}

    def frontend_pid(self):
        fe = self.frontend_status()
        return fe.get('pid') if fe.get('state') == 'RUNNING' else None

    def wait_frontend(self, not_pid=None, timeout=60.0):
        """Waits for a RUNNING front end (other than not_pid) with no
        successor starting; returns its pid."""
        def up():
            fe = self.frontend_status()
            return (fe.get('state') == 'RUNNING' and fe.get('pid') and fe['pid'] != not_pid
                    and not fe.get('successor_pid') and fe['pid'])
        return wait_for(up, timeout, 'the front end RUNNING')

    def ports(self):
        """The TCP ports the master listens on, in Listen order."""
        return [int(a.rsplit(':', 1)[1]) for a in self.status()['master']['listen']]

    def port(self):
        """The first Listen port (kept: it does not change without a reload)."""
        if self._port is None:
            self._port = self.ports()[0]
        return self._port

    def host(self):
        """The first Listen's address (127.0.0.1 unless `listen` said otherwise)."""
        h = self.listen.rsplit(':', 1)[0]
        return '127.0.0.1' if h in ('', '*') else h

    def url(self, path):
        return 'http://%s:%d%s' % (self.host(), self.port(), path)

    def worker_pids_by_title(self, name):
        """Live children of our master whose title is exactly (wsgi:NAME)."""
        want = '(wsgi:%s)' % name
        return sorted(pid for pid in live_children(self.proc.pid) if title_of(pid) == want)

    # --- requests ------------------------------------------------------------------
    def group_request(self, group, uri, timeout=30.0):
        """One request on the group's socket, as the front end would send it
        (groups config) -> (status, body bytes)."""
        return group_client.request(self.sock(group), uri, timeout=timeout,
                                    script=self.script(group), group=group)

    def request(self, method, path, body=None, headers=None, timeout=30.0):
        """One HTTP request on a new connection -> (status, headers dict, body bytes)."""
        c = http.client.HTTPConnection(self.host(), self.port(), timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def get(self, path, timeout=30.0, headers=None):
        st, _, body = self.request('GET', path, headers=headers, timeout=timeout)
        return st, body
