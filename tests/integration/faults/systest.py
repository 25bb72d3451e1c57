"""systest: the whole wsgid (master + front end + workers) in a temp dir, for
the end-to-end suite (tests/integration/e2e/) and the fault-injection suite
(tests/integration/faults/).

    with System(CONFIG_BODY) as s:         # CONFIG_BODY may use {dir} and {apps}
        s.start()                          # waits: control socket, front end and groups RUNNING
        st, body = s.get('/a/hello')       # http.client on the front end's port
        res = Load(s.url('/a/hello'), concurrency=8, duration=3).run()

System writes wsgid.conf (LogLevel info, Listen 127.0.0.1:0, the control
socket and group sockets in the temp dir, then CONFIG_BODY), runs the real
`wsgid -f wsgid.conf` from WSGID_BUILD_DIR with WSGID_WORKER / WSGID_FRONTEND
naming the build's binaries, and captures its output (the master's log with
every worker's and the front end's stderr) in wsgid.log. The temp dir is 0755
and files are written 0644: as root, workers and the front end run as www-data.
WSGID_TEST_WORKER / WSGID_TEST_FRONTEND name other worker / front-end binaries
(an ASan build's, say). stop() sends TERM and SIGKILLs only pids it saw as
children of its own master.
The temp dir is kept (and its path printed) when WSGID_KEEP_TMP=1.

Load is the bounded HTTP load client: tests/bench/loadgen from the build dir
when it is built (`loadgen --url URL -c N -d S --timeout T --json`), otherwise
a Python stand-in (threads of keep-alive http.client connections) printing the
same JSON keys. Every wait polls against a deadline; nothing asserts speed
except where a test says so.
"""
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.normpath(os.path.join(HERE, '..', 'apps'))


def build_dir():
    d = os.environ.get('WSGID_BUILD_DIR')
    if not d:
        raise RuntimeError('WSGID_BUILD_DIR is not set (meson test sets it)')
    return d


def binary(*rel):
    return os.path.join(build_dir(), *rel)


def worker_binary():
    return os.environ.get('WSGID_TEST_WORKER') or binary('worker', 'wsgid-worker')


_asan = None


def worker_under_asan():
    """True when the worker binary is built with AddressSanitizer."""
    global _asan
    if _asan is None:
        with open(worker_binary(), 'rb') as f:
            _asan = b'__asan_init' in f.read()
    return _asan


def wait_for(pred, timeout=20.0, what='condition', interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
        except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError('timed out after %.1f s waiting for %s (last: %r)' % (timeout, what, last))


def proc_stat(pid):
    """(state letter, ppid, start time in clock ticks) of a process, or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            rest = f.read().rsplit(')', 1)[1].split()
        return rest[0], int(rest[1]), int(rest[19])
    except (OSError, IndexError, ValueError):
        return None


def pid_alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] != 'Z'


def title_of(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().split(b'\0')[0].decode('utf-8', 'replace')
    except OSError:
        return None


def raise_nofile(n):
    """Raises this process's soft RLIMIT_NOFILE to at least n (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        want = n if hard == resource.RLIM_INFINITY else min(n, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class System:
    def __init__(self, body, prefix='wsgid-sys-', env=None):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, 'wsgid.conf')
        self.log_path = os.path.join(self.dir, 'wsgid.log')
        self.control = os.path.join(self.dir, 'control.sock')
        self.wsgid = binary('supervisor', 'wsgid')
        self.env = dict(os.environ)
        # WSGID_TEST_WORKER / WSGID_TEST_FRONTEND: other binaries (e.g. ASan builds).
        self.env['WSGID_WORKER'] = worker_binary()
        self.env['WSGID_FRONTEND'] = (os.environ.get('WSGID_TEST_FRONTEND')
                                      or binary('supervisor', 'frontend', 'wsgid-frontend'))
        self.env.pop('NOTIFY_SOCKET', None)
        self.env.update(env or {})
        self.proc = None
        self.logf = None
        self.seen_children = {}  # pid -> start time: never kill a reused pid
        self._port = None
        self.write_config(body)

    # --- files ---------------------------------------------------------------
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

    def config_text(self, body):
        head = ['LogLevel info',
                'Listen 127.0.0.1:0',
                'WSGIControlSocket %s' % self.control,
                'WSGISocketPrefix %s/wsgi' % self.dir]
        return '\n'.join(head) + '\n' + body.format(dir=self.dir, apps=APPS) + '\n'

    def write_config(self, body):
        with open(self.conf, 'w') as f:
            f.write(self.config_text(body))
        os.chmod(self.conf, 0o644)

    # --- lifetime ------------------------------------------------------------
    def start(self, groups=None, timeout=60.0):
        """Starts the master; waits for the front end and the groups (all, or
        the names given) to be RUNNING."""
        self.logf = open(self.log_path, 'ab')
        self.proc = subprocess.Popen([self.wsgid, '-f', self.conf], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        wait_for(lambda: os.path.exists(self.control) or self.proc.poll() is not None,
                 timeout, 'the control socket')
        if self.proc.poll() is not None:
            raise AssertionError('wsgid exited with %s at start; log:\n%s'
                                 % (self.proc.returncode, self.log()))
        self.wait_frontend(timeout)
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

    def note_children(self):
        if self.proc is None:
            return
        for d in os.listdir('/proc'):
            if d.isdigit():
                st = proc_stat(int(d))
                if st and st[1] == self.proc.pid:
                    self.seen_children[int(d)] = st[2]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.note_children()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid, started in self.seen_children.items():
            st = proc_stat(pid)
            # Only processes that were our master's children (same pid and
            # start time; none should be left: PR_SET_PDEATHSIG).
            if st and st[0] != 'Z' and st[2] == started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.logf:
            self.logf.close()
            self.logf = None

    def cleanup(self, failed=False):
        self.stop()
        keep = failed or os.environ.get('WSGID_KEEP_TMP') == '1'
        if failed:
            print('\n--- last lines of %s ---' % self.log_path)
            print(''.join(self.log().splitlines(True)[-60:]))
        if keep:
            print('kept %s' % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- the log -------------------------------------------------------------
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

    def log_problems(self):
        """Lines that must never appear: alerts, sanitizer reports, validator
        assertions, unclosed iterables."""
        bad = ('[alert]', 'AddressSanitizer', 'runtime error:', 'LeakSanitizer',
               'AssertionError', 'WSGIWarning', 'Exception ignored')
        return [l for l in self.log().splitlines() if any(b in l for b in bad)]

    # --- control socket ------------------------------------------------------
    def ctl(self, command, args=(), timeout=10.0, **kw):
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
        g = self.group(name)
        if not g:
            return False
        procs = g['processes']
        if n is not None and len(procs) != n:
            return False
        return all(p['state'] == 'RUNNING' and not p['retiring'] and not p['successor_pid']
                   for p in procs)

    def wait_running(self, name, n=None, timeout=30.0):
        wait_for(lambda: self.all_running(name, n), timeout, 'group %s RUNNING' % name)

    def frontend_pid(self):
        fe = self.status().get('frontend') or {}
        return fe.get('pid') if fe.get('state') == 'RUNNING' else None

    def wait_frontend(self, timeout=30.0):
        return wait_for(self.frontend_pid, timeout, 'the front end RUNNING')

    def port(self):
        if self._port is None:
            self._port = int(self.status()['master']['listen'][0].rsplit(':', 1)[1])
        return self._port

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.port(), path)

    def worker_pids_by_title(self, name):
        """Live children of our master whose title is exactly (wsgi:NAME)."""
        want = '(wsgi:%s)' % name
        out = []
        for d in os.listdir('/proc'):
            if not d.isdigit():
                continue
            st = proc_stat(int(d))
            if st and st[0] != 'Z' and st[1] == self.proc.pid and title_of(int(d)) == want:
                out.append(int(d))
        return sorted(out)

    # --- HTTP ----------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=30.0):
        """One request on a new connection -> (status, headers dict, body bytes)."""
        c = http.client.HTTPConnection('127.0.0.1', self.port(), timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def get(self, path, timeout=30.0, headers=None):
        st, _, body = self.request('GET', path, headers=headers, timeout=timeout)
        return st, body


# --- load --------------------------------------------------------------------

def loadgen_binary():
    p = binary('tests', 'bench', 'loadgen')
    return p if os.access(p, os.X_OK) else None


class Load:
    """A bounded load run against one URL, in the background:
        l = Load(url, concurrency=8, duration=3).start(); ...; res = l.wait()
    res has loadgen's --json keys: requests, ok, status, socket_errors,
    timeouts, failed, rps, p50_ms, p90_ms, p99_ms, max_ms, max_gap_ms,
    max_gap_at_s, duration_s; plus "client" (loadgen or python)."""

    def __init__(self, url, concurrency=8, duration=3.0, timeout=2.0, method='GET', body_size=0,
                 use_loadgen=None):
        self.url, self.c, self.d, self.timeout = url, concurrency, duration, timeout
        self.method, self.body_size = method, body_size
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
                    conn.request(self.method, path, body=body)
                    r = conn.getresponse()
                    r.read()
                    code = r.status
                    if r.will_close:
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


def test_failed(case):
    """True when this unittest case has failed so far (not an expected failure)."""
    result = getattr(getattr(case, '_outcome', None), 'result', None)
    if result is None:
        return False
    return any(t is case for t, _ in list(result.errors) + list(result.failures))


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
