"""Test harness for the master daemon: starts the real `wsgid -f CONFIG` in a
temp dir with a generated config, a control socket and group sockets there,
talks to it over the control socket and the group sockets, and cleans up.

Workers are tests/integration/master/fake_worker.py unless WSGID_TEST_WORKER
names a real wsgid-worker. The front end is off (WSGID_FRONTEND=none) unless a
test turns it on. Every wait polls against a generous deadline; nothing
asserts speed.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wsgidproto as P  # noqa: E402

FAKE_WORKER = os.path.join(HERE, "fake_worker.py")

# The app every group runs (the same answers as fake_worker.py gives).
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


def wait_for(pred, timeout=20.0, what="condition", interval=0.05):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s (last: %r)" % (timeout, what, last))


def skip(reason):
    """Reports the running test as skipped (unittest.SkipTest): a test that
    needs the real worker or the front end must not pass silently without it."""
    raise unittest.SkipTest(reason)


def free_port():
    """A loopback TCP port that was free a moment ago (for configs that need a
    fixed Listen port across a reload)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(port, path, timeout=30.0, conn=None):
    """GET on 127.0.0.1:port (or on the kept-alive conn): (status, body, headers)."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        if conn is None:
            c.close()


class HttpLoad:
    """HTTP load through the front end: `clients` threads, each a keep-alive
    http.client loop on 127.0.0.1:port, until stop(), at most `max_requests`
    requests per thread and `max_seconds`. A failed request (an exception or a
    status other than 200) is recorded with its time and kind and the thread
    reconnects."""

    def __init__(self, port, path, clients=4, max_requests=20000, max_seconds=120.0):
        self.port, self.path = port, path
        self.max_requests, self.max_seconds = max_requests, max_seconds
        self.ok = 0
        self.failures = []  # (time, kind)
        self.lock = threading.Lock()
        self.stop_flag = False
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def _run(self):
        deadline = time.time() + self.max_seconds
        conn = None
        for _ in range(self.max_requests):
            if self.stop_flag or time.time() > deadline:
                break
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("GET", self.path)
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    with self.lock:
                        self.ok += 1
                else:
                    with self.lock:
                        self.failures.append((time.time(), "HTTP %d" % r.status))
                if r.will_close:
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001
                with self.lock:
                    self.failures.append((time.time(), type(e).__name__))
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.01)
        if conn is not None:
            conn.close()

    def stop(self):
        self.stop_flag = True
        for t in self.threads:
            t.join(60)

    def kinds(self):
        out = {}
        for _, k in self.failures:
            out[k] = out.get(k, 0) + 1
        return out


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


class Daemon:
    def __init__(self, wsgid, groups, extra="", worker=None, frontend="none", env=None,
                 scripts=None):
        """groups: {name: "WSGIDaemonProcess options"}; every group gets an alias
        /NAME to its own script file."""
        self.wsgid = wsgid
        self.dir = tempfile.mkdtemp(prefix="wsgid-master-")
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "wsgid.conf")
        self.log_path = os.path.join(self.dir, "wsgid.log")
        self.control = os.path.join(self.dir, "control.sock")
        # WSGISocketPrefix (a test may move it and rewrite the config).
        self.socket_prefix = os.path.join(self.dir, "wsgi")
        self.worker = worker or os.environ.get("WSGID_TEST_WORKER") or FAKE_WORKER
        self.frontend = frontend
        self.env = dict(os.environ)
        self.env["WSGID_WORKER"] = self.worker
        self.env["WSGID_FRONTEND"] = frontend
        self.env.pop("NOTIFY_SOCKET", None)
        if env:
            self.env.update(env)
        self.proc = None
        self.logf = None
        self.write_config(groups, extra)

    def script(self, name):
        return os.path.join(self.dir, "%s.wsgi" % name)

    def write_config(self, groups, extra=""):
        lines = [
            "LogLevel info",
            "WSGIControlSocket %s" % self.control,
            "WSGISocketPrefix %s" % self.socket_prefix,
        ]
        for name, opts in groups.items():
            lines.append("WSGIDaemonProcess %s %s" % (name, opts))
            path = self.script(name)
            if not os.path.exists(path):
                with open(path, "w") as f:
                    f.write(CRASH_APP if "crash" in name else APP)
                os.chmod(path, 0o644)
            lines.append("WSGIScriptAlias /%s %s process-group=%s" % (name, path, name))
            if "crash" in name:
                # Preloaded, so that the real worker dies before READY too.
                lines.append("WSGIImportScript %s process-group=%s application-group=%%{GLOBAL}"
                             % (path, name))
        lines.append(extra)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, args=(), wait_ready=True):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.wsgid, "-f", self.conf] + list(args), env=self.env,
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        if wait_ready:
            wait_for(lambda: os.path.exists(self.control), what="the control socket")
        return self

    def sock(self, group):
        return "%s.%s.sock" % (self.socket_prefix, group)

    def request(self, group, uri, timeout=30.0):
        """One request on the group's socket, as the front end would send it."""
        return P.request(self.sock(group), uri, timeout=timeout, script=self.script(group),
                         group=group)

    def ctl(self, command, args=(), timeout=10.0, **kw):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.control)
        req = {"command": command, "args": list(args)}
        req.update(kw)
        s.sendall((json.dumps(req) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return json.loads(data.decode().splitlines()[0])

    def status(self):
        return self.ctl("status")

    def frontend_status(self):
        """The front end's PROCESS object of the status, or {}."""
        return self.status()["frontend"] or {}

    def wait_frontend(self, not_pid=None, timeout=60.0):
        """Waits for a RUNNING front end (other than not_pid) with no
        successor starting; returns its pid."""
        def up():
            fe = self.frontend_status()
            return (fe.get("state") == "RUNNING" and fe.get("pid") and fe["pid"] != not_pid
                    and not fe.get("successor_pid") and fe["pid"])
        return wait_for(up, timeout, "the front end RUNNING")

    def ports(self):
        """The TCP ports the master listens on, in Listen order."""
        return [int(a.rsplit(":", 1)[1]) for a in self.status()["master"]["listen"]]

    def group(self, name):
        for g in self.status()["groups"]:
            if g["name"] == name:
                return g
        return None

    def pids(self, name):
        g = self.group(name)
        return sorted(p["pid"] for p in g["processes"] if p["pid"]) if g else []

    def all_running(self, name, n=None):
        g = self.group(name)
        if not g:
            return False
        procs = g["processes"]
        if n is not None and len(procs) != n:
            return False
        return all(p["state"] == "RUNNING" and not p["retiring"] and not p["successor_pid"]
                   for p in procs)

    def wait_running(self, *names, timeout=20.0):
        for n in names:
            wait_for(lambda: self.all_running(n), timeout, "group %s RUNNING" % n)

    def log(self):
        if not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, text, timeout=20.0):
        return wait_for(lambda: text in self.log(), timeout, "log line %r" % text)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=30.0):
        return self.proc.wait(timeout)

    def child_pids(self):
        """Every live process whose parent is the master."""
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
                ppid = int(st.rsplit(")", 1)[1].split()[1])
                state = st.rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.proc.pid and state != "Z":
                out.append(int(d))
        return out

    def stop(self):
        """Cleans up: TERM, then KILL the master and its children if needed."""
        if self.proc and self.proc.poll() is None:
            kids = self.child_pids()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.logf:
            self.logf.close()
            self.logf = None

    def cleanup(self, keep=False):
        self.stop()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def check_log_clean(self):
        text = self.log()
        for bad in ("[alert]", "AddressSanitizer", "runtime error:", "LeakSanitizer"):
            assert bad not in text, "log has %r" % bad


def run_tests(tests, wsgid):
    """The old runner (kept for scripts that import it): tests are functions of
    wsgid; unittest.SkipTest counts as skipped. test_master.py runs its tests
    through unittest instead (run_unittest)."""
    failed = []
    for t in tests:
        name = t.__name__
        start = time.time()
        print("== %s" % name, flush=True)
        d = None
        try:
            d = t(wsgid)
        except unittest.SkipTest as e:
            print("skip %s: %s" % (name, e), flush=True)
            continue
        except Exception as e:  # noqa: BLE001
            import traceback
            traceback.print_exc()
            failed.append(name)
            d = getattr(e, "daemon", None)
            print("FAIL %s (%.1f s): %s" % (name, time.time() - start, e), flush=True)
            continue
        print("ok   %s (%.1f s)" % (name, time.time() - start), flush=True)
    print("%d tests, %d failed%s" % (len(tests), len(failed),
                                     (": " + ", ".join(failed)) if failed else ""))
    return 1 if failed else 0


def run_unittest(tests, wsgid):
    """Runs test functions (each takes wsgid) as unittest cases, so that a
    skip() is reported as skipped. Returns the exit status: 0 when none failed
    (skips are listed, not failures), 1 otherwise."""
    class MasterTests(unittest.TestCase):
        pass

    for t in tests:
        def case(self, t=t):
            start = time.time()
            try:
                t(wsgid)
            finally:
                print("   (%s: %.1f s)" % (t.__name__, time.time() - start), flush=True)
        case.__name__ = t.__name__
        case.__doc__ = None
        setattr(MasterTests, t.__name__, case)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(MasterTests)
    order = {t.__name__: i for i, t in enumerate(tests)}
    suite = unittest.TestSuite(sorted(suite, key=lambda c: order[c._testMethodName]))
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    if res.skipped:
        print("skipped: " + ", ".join("%s (%s)" % (c._testMethodName, why) for c, why in res.skipped))
    return 0 if res.wasSuccessful() else 1
