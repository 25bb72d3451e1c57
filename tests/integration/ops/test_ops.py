#!/usr/bin/python3
"""Operations (#6): the files an operator touches, driven for real.

- the systemd unit: `systemd-analyze verify` on a copy with the build's paths,
  and its ExecStartPre / ExecStart / ExecReload run as systemd would, under a
  test NOTIFY_SOCKET: READY=1 once the groups are up, RELOADING=1 then READY=1
  around the reload, STOPPING=1 on TERM, exit 0;
- the LSB init script against the build (DAEMON, CONFIG, PIDFILE from the
  environment): start, status, reload keeping the pids of unchanged groups,
  restart, stop, the LSB exit codes;
- logrotate with the shipped file (paths moved to a temp dir): the master and
  the front end write to the new files after the rotation;
- the man pages render without warnings; wsgid.8 names every option of
  `wsgid --help`;
- `meson install --destdir`: every file where the layout says, the default
  config never overwritten, and the installed wsgid runs its installed worker
  and front end;
- every example config passes `wsgid --check`.

Every wait is bounded; only processes started here are signalled; temp dirs
are removed (WSGID_KEEP_TMP=1 keeps them). Run by hand:
  WSGID_BUILD_DIR=/path/to/build WSGID_SOURCE_DIR=/path/to/src ... \
  /usr/bin/python3 tests/integration/ops/test_ops.py -v
(meson sets every WSGID_* variable this file reads: see meson.build here).
"""
import glob
import http.client
import grp
import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.procs import pid_alive
from wsgidtest.wait import wait_for

BUILD = os.environ["WSGID_BUILD_DIR"]
SRC = os.environ["WSGID_SOURCE_DIR"]
WSGID = os.path.join(BUILD, "supervisor", "wsgid")
UNIT = os.path.join(BUILD, "etc", "wsgid.service")
INIT = os.path.join(BUILD, "etc", "wsgid.init")
LOGROTATE = os.path.join(SRC, "etc", "logrotate.d", "wsgid")
MAN_DIR = os.path.join(SRC, "docs", "man")
# Install locations, absolute (meson's prefix joined with each option).
PREFIX = os.environ["WSGID_PREFIX"]
SBINDIR = os.environ["WSGID_SBINDIR"]
BINDIR = os.environ["WSGID_BINDIR"]
LIBEXECDIR = os.environ["WSGID_LIBEXECDIR"]
SYSCONFDIR = os.environ["WSGID_SYSCONFDIR"]
MANDIR = os.environ["WSGID_MANDIR"]
DATADIR = os.environ["WSGID_DATADIR"]
MESON = "/usr/bin/meson"

APP = """import os

def application(environ, start_response):
    body = ('%d %s\\n' % (os.getpid(), environ.get('mod_wsgi.process_group'))).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', str(len(body)))])
    return [body]
"""


def proc_table():
    """{pid: (ppid, title)} for every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(") ", 1)[1].split()[1])
            with open("/proc/%s/cmdline" % d, "rb") as f:
                title = f.read().split(b"\0")[0].decode("utf-8", "replace")
        except (OSError, IndexError, ValueError):
            continue
        out[int(d)] = (ppid, title)
    return out


def children(master):
    """{title: sorted pids} of the master's live children."""
    out = {}
    for pid, (ppid, title) in proc_table().items():
        if ppid == master and pid_alive(pid):
            out.setdefault(title, []).append(pid)
    return {t: sorted(p) for t, p in out.items()}


def group_pids(master, group):
    return children(master).get("(wsgi:%s)" % group, [])


def read(path):
    with open(path) as f:
        return f.read()


def read_or_empty(path):
    try:
        return read(path)
    except FileNotFoundError:
        return ""


def read_pidfile(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def http_get(port, path, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def daemon_config(tmp, groups, extra="", listen="127.0.0.1:0"):
    """The config the launchers under test start: TMP/wsgid.conf in the
    Daemon's temp dir, with a PidFile and an ErrorLog. groups: {name: options};
    each gets /NAME -> its own script."""
    lines = [
        "LogLevel info",
        "WSGIControlSocket %s" % tmp.path("control.sock"),
        "WSGISocketPrefix %s" % tmp.path("wsgi"),
        "PidFile %s" % tmp.path("wsgid.pid"),
        "ErrorLog %s" % tmp.path("logs", "error.log"),
        "Listen %s" % listen,
        "WSGIRestrictEmbedded On",
    ]
    os.makedirs(tmp.path("logs"), exist_ok=True)
    os.chmod(tmp.path("logs"), 0o755)
    for name, opts in groups.items():
        # Written once: a rewritten script restarts its group (WSGIScriptReloading).
        script = tmp.path("%s.wsgi" % name)
        if not os.path.exists(script):
            tmp.write("%s.wsgi" % name, APP)
        lines.append("WSGIDaemonProcess %s display-name=%%{GROUP} %s" % (name, opts))
        lines.append("WSGIScriptAlias /%s %s process-group=%s application-group=%%{GLOBAL}"
                     % (name, script, name))
    lines.append(extra)
    return tmp.write("wsgid.conf", "\n".join(lines) + "\n")


def listen_port(log_path, timeout=60):
    def find():
        try:
            with open(log_path) as f:
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", f.read())
            return int(m.group(1)) if m else None
        except OSError:
            return None
    return wait_for(find, timeout, "the listening port in " + log_path)


def clean_env(**extra):
    env = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "WSGID_WORKER", "WSGID_FRONTEND", "DAEMON", "CONFIG", "PIDFILE",
              "DAEMON_ARGS", "STOP_TIMEOUT"):
        env.pop(k, None)
    # On a systemd host Debian's init-functions (40-systemd) would hand the
    # init script's action to systemctl.
    env["SYSTEMCTL_SKIP_REDIRECT"] = "true"
    env.update(extra)
    return env


def unit_copy(tmp, config):
    """The generated unit with the build's wsgid and a test config in place of
    the install paths, as TMP/wsgid.service."""
    with open(UNIT) as f:
        text = f.read()
    installed_wsgid = os.path.join(SBINDIR, "wsgid")
    installed_conf = os.path.join(SYSCONFDIR, "wsgid", "wsgid.conf")
    assert installed_wsgid in text and installed_conf in text, text
    text = text.replace(installed_conf, config).replace(installed_wsgid, WSGID)
    return tmp.write("wsgid.service", text)


def unit_values(path):
    """{key: [values]} of the [Service] section."""
    out = {}
    section = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]" and "=" in line:
                k, v = line.split("=", 1)
                out.setdefault(k, []).append(v)
    return out


def man_pages():
    pages = [os.path.join(MAN_DIR, p) for p in ("wsgid.8", "wsgid.conf.5", "wsgictl.8")]
    return [p for p in pages if os.path.exists(p)]


class UnitTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Daemon(prefix="wsgid-ops-unit-")
        self.proc = None
        self.sock = None

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.tmp.adopt(self.proc.pid)
            self.tmp.stop()
            self.proc.wait(10)
        if self.sock:
            self.sock.close()
        self.tmp.cleanup()

    def test_unit_file_contents(self):
        v = unit_values(UNIT)
        self.assertEqual(v["Type"], ["notify"])
        self.assertEqual(v["ExecStart"], ["%s/wsgid -f %s/wsgid/wsgid.conf" % (SBINDIR, SYSCONFDIR)])
        self.assertEqual(v["ExecStartPre"],
                         ["%s/wsgid --check -f %s/wsgid/wsgid.conf" % (SBINDIR, SYSCONFDIR)])
        self.assertEqual(v["ExecReload"], ["/bin/kill -HUP $MAINPID"])
        self.assertEqual(v["KillMode"], ["mixed"])
        self.assertEqual(v["RuntimeDirectory"], ["wsgid"])
        self.assertEqual(v["LogsDirectory"], ["wsgid"])
        self.assertEqual(v["NoNewPrivileges"], ["yes"])
        # The master switches children to www-data and binds ports < 1024.
        caps = v["CapabilityBoundingSet"][0].split()
        for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_KILL"):
            self.assertIn(cap, caps)
        self.assertEqual(v["Restart"], ["on-failure"])
        # decisions.md 34: the master answers WATCHDOG_USEC from its loop.
        self.assertEqual(v["WatchdogSec"], ["30"])
        # Two drains (front end, then groups) of mod_wsgi's default
        # graceful-timeout 15 + shutdown-timeout 5, plus margin.
        self.assertGreaterEqual(int(v["TimeoutStopSec"][0]), 2 * (15 + 5) + 10)

    def test_systemd_analyze_verify(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze not installed")
        conf = daemon_config(self.tmp, {"v1": "threads=1"})
        unit = unit_copy(self.tmp, conf)
        # Documentation=man:... is checked with man(1): stage the pages.
        for page in man_pages():
            section = page.rsplit(".", 1)[1]
            os.makedirs(self.tmp.path("man", "man" + section), exist_ok=True)
            shutil.copy(page, self.tmp.path("man", "man" + section))
        args = ["systemd-analyze", "verify", unit]
        if not os.path.exists(os.path.join(MAN_DIR, "wsgictl.8")):
            args.insert(2, "--man=no")  # wsgictl.8 not written yet
        r = subprocess.run(args, env=clean_env(MANPATH=self.tmp.path("man")),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))

    def test_notify_sequence(self):
        conf = daemon_config(self.tmp, {"n1": "processes=2 threads=2", "n2": "threads=1"})
        unit = unit_values(unit_copy(self.tmp, conf))
        ns = self.tmp.path("notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(ns)
        self.sock.settimeout(60)
        msgs = []

        def until(text, start=0):
            deadline = time.monotonic() + 90
            while not any(text in m.split("\n") for m in msgs[start:]):
                self.assertLess(time.monotonic(), deadline, "no %s in %r" % (text, msgs))
                msgs.append(self.sock.recv(4096).decode())
            return next(i for i in range(start, len(msgs)) if text in msgs[i].split("\n"))

        env = clean_env()
        # ExecStartPre: the check passes for a good config and fails for a bad one.
        pre = shlex.split(unit["ExecStartPre"][0])
        r = subprocess.run(pre, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        bad = self.tmp.write("bad.conf", "WSGIDaemonProcess x proceses=2\n")
        r = subprocess.run(pre[:-1] + [bad], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("did you mean 'processes'?", r.stderr)

        env["NOTIFY_SOCKET"] = ns
        self.proc = subprocess.Popen(shlex.split(unit["ExecStart"][0]), env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ready = until("READY=1")
        # READY=1 comes once every group's processes and the front end are up.
        kids = children(self.proc.pid)
        self.assertEqual(len(kids.get("(wsgi:n1)", [])), 2, kids)
        self.assertEqual(len(kids.get("(wsgi:n2)", [])), 1, kids)
        self.assertIn("wsgid: frontend", kids)
        self.assertTrue(any("MAINPID=%d" % self.proc.pid in m.split("\n") for m in msgs[:ready + 1]),
                        msgs)
        self.assertTrue(any(l.startswith("STATUS=") for l in msgs[ready].split("\n")), msgs)

        # ExecReload, with $MAINPID as systemd expands it.
        reload_cmd = [a.replace("$MAINPID", str(self.proc.pid))
                      for a in shlex.split(unit["ExecReload"][0])]
        n = len(msgs)
        self.assertEqual(subprocess.run(reload_cmd, timeout=30).returncode, 0)
        reloading = until("RELOADING=1", n)
        until("READY=1", reloading + 1)

        # systemd's stop: KillSignal (TERM) to the main process.
        n = len(msgs)
        self.proc.send_signal(signal.SIGTERM)
        until("STOPPING=1", n)
        self.assertEqual(self.proc.wait(90), 0)


class InitScriptTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Daemon(prefix="wsgid-ops-init-")
        self.pidfile = self.tmp.path("wsgid.pid")
        self.masters = []

    def tearDown(self):
        for m in self.masters:
            self.tmp.adopt(m)
        self.tmp.cleanup()

    def run_init(self, *args, timeout=150):
        env = clean_env(DAEMON=WSGID, CONFIG=self.tmp.path("wsgid.conf"), PIDFILE=self.pidfile,
                        WSGID_DEFAULTS=self.tmp.path("no-defaults"), STOP_TIMEOUT="40")
        r = subprocess.run(["/bin/sh", INIT] + list(args), env=env, capture_output=True,
                           text=True, timeout=timeout)
        return r.returncode, r.stdout + r.stderr

    def master(self):
        pid = read_pidfile(self.pidfile)
        if pid and pid not in self.masters:
            self.masters.append(pid)
        return pid

    def wait_group(self, master, group, n, exclude=()):
        return wait_for(lambda: (lambda p: p if len(p) == n and not set(p) & set(exclude) else None)(
            group_pids(master, group)), 90, "group %s with %d new processes" % (group, n))

    def test_lsb_lifecycle(self):
        daemon_config(self.tmp, {"keep": "processes=2 threads=1", "change": "threads=1"})
        self.assertEqual(self.run_init("status")[0], 3)
        rc, out = self.run_init("start")
        self.assertEqual(rc, 0, out)
        m1 = self.master()
        self.assertTrue(m1 and pid_alive(m1), out)
        with open("/proc/%d/cmdline" % m1, "rb") as f:
            self.assertEqual(f.read().split(b"\0")[0].decode(),
                             "wsgid: master -f %s" % self.tmp.path("wsgid.conf"))
        keep = self.wait_group(m1, "keep", 2)
        change = self.wait_group(m1, "change", 1)
        port = listen_port(self.tmp.path("logs", "error.log"))
        self.assertEqual(http_get(port, "/keep")[0], 200)

        self.assertEqual(self.run_init("status"), (0, "wsgid is running (pid %d)\n" % m1))
        rc, out = self.run_init("start")
        self.assertEqual(rc, 0, out)
        self.assertIn("already running", out)
        self.assertEqual(self.master(), m1)

        # reload: only the changed group restarts; the other keeps its pids.
        daemon_config(self.tmp, {"keep": "processes=2 threads=1", "change": "threads=2"})
        rc, out = self.run_init("reload")
        self.assertEqual(rc, 0, out)
        self.wait_group(m1, "change", 1, exclude=change)
        self.assertEqual(group_pids(m1, "keep"), keep)
        self.assertEqual(http_get(port, "/change")[0], 200)

        # a broken config: reload refuses (the check runs first), nothing changes.
        good = read(self.tmp.path("wsgid.conf"))
        self.tmp.write("wsgid.conf", good + "WSGIDaemonProcess broken thread=2\n")
        rc, out = self.run_init("reload")
        self.assertEqual(rc, 1, out)
        self.assertIn("unknown option 'thread'", out)
        rc, out = self.run_init("restart")
        self.assertEqual(rc, 1, out)
        self.assertIn("not valid; not restarting", out)
        self.assertEqual(self.master(), m1)
        self.assertEqual(group_pids(m1, "keep"), keep)
        self.tmp.write("wsgid.conf", good)

        # force-reload is reload.
        rc, out = self.run_init("force-reload")
        self.assertEqual(rc, 0, out)

        # restart: a new master, new processes.
        old = [p for pids in children(m1).values() for p in pids]
        rc, out = self.run_init("restart")
        self.assertEqual(rc, 0, out)
        m2 = self.master()
        self.assertNotEqual(m2, m1)
        # start-stop-daemon returns once the process is no longer wsgid (its exe
        # is gone); the kernel may need a moment more to finish the exit.
        wait_for(lambda: not pid_alive(m1), 10, "master %d gone" % m1)
        self.assertFalse([p for p in old if pid_alive(p)])
        self.wait_group(m2, "keep", 2)
        self.assertEqual(self.run_init("status")[0], 0)

        # stop: TERM, the drain, no process left, the pid file gone.
        old = [p for pids in children(m2).values() for p in pids]
        self.assertTrue(old)
        rc, out = self.run_init("stop")
        self.assertEqual(rc, 0, out)
        # start-stop-daemon returns once the process is no longer wsgid (its exe
        # is gone); the kernel may need a moment more to finish the exit.
        wait_for(lambda: not pid_alive(m2), 10, "master %d gone" % m2)
        wait_for(lambda: not [p for p in old if pid_alive(p)], 20, "no child left")
        self.assertFalse(os.path.exists(self.pidfile))
        self.assertEqual(self.run_init("status"), (3, "wsgid is not running\n"))
        # LSB: stop when stopped is a success; reload of a stopped daemon is 7.
        self.assertEqual(self.run_init("stop")[0], 0)
        self.assertEqual(self.run_init("reload")[0], 7)
        self.assertEqual(self.run_init("bogus")[0], 3)
        self.assertEqual(self.run_init()[0], 2)

    def test_status_with_a_stale_pid_file(self):
        daemon_config(self.tmp, {"st": "threads=1"})
        p = subprocess.Popen(["/bin/true"])
        p.wait(10)
        with open(self.pidfile, "w") as f:
            f.write("%d\n" % p.pid)
        self.assertEqual(self.run_init("status")[0], 1)
        # start removes the stale file and starts.
        rc, out = self.run_init("start")
        self.assertEqual(rc, 0, out)
        m = self.master()
        self.assertNotEqual(m, p.pid)
        self.assertEqual(self.run_init("stop")[0], 0)
        # start-stop-daemon returns once the process is no longer wsgid (its exe
        # is gone); the kernel may need a moment more to finish the exit.
        wait_for(lambda: not pid_alive(m), 10, "master %d gone" % m)

    def test_missing_daemon_and_config(self):
        env = clean_env(DAEMON=self.tmp.path("nowhere"), WSGID_DEFAULTS="/nonexistent")
        run = lambda a: subprocess.run(["/bin/sh", INIT, a], env=env, capture_output=True,
                                       timeout=30).returncode
        self.assertEqual(run("start"), 5)
        self.assertEqual(run("stop"), 0)
        self.assertEqual(run("status"), 4)
        env = clean_env(DAEMON=WSGID, CONFIG=self.tmp.path("none.conf"),
                        PIDFILE=self.pidfile, WSGID_DEFAULTS="/nonexistent")
        self.assertEqual(subprocess.run(["/bin/sh", INIT, "start"], env=env, capture_output=True,
                                        timeout=30).returncode, 6)


class LogrotateTest(unittest.TestCase):
    def setUp(self):
        if not shutil.which("logrotate"):
            self.skipTest("logrotate is not installed (Debian package logrotate)")
        if os.geteuid() != 0:
            self.skipTest("the shipped file creates logs owned by root:adm: needs root")
        self.tmp = Daemon(prefix="wsgid-ops-logrotate-")
        self.master = 0

    def tearDown(self):
        self.tmp.adopt(self.master)
        self.tmp.cleanup()

    def test_rotate_and_reopen(self):
        logs = self.tmp.path("logs")
        conf = daemon_config(self.tmp, {"lr": "threads=1"},
                             extra="CustomLog %s/access.log \"%%h %%U %%>s\"" % logs)
        r = subprocess.run([WSGID, "-d", "-f", conf], env=clean_env(), capture_output=True,
                           text=True, timeout=150)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.master = read_pidfile(self.tmp.path("wsgid.pid"))
        self.assertTrue(pid_alive(self.master))
        port = listen_port(os.path.join(logs, "error.log"))
        self.assertEqual(http_get(port, "/lr/before")[0], 200)
        access = os.path.join(logs, "access.log")
        wait_for(lambda: "/lr/before 200" in read_or_empty(access), 30, "the first access line")

        # The shipped file, with its paths moved here.
        with open(LOGROTATE) as f:
            text = f.read()
        self.assertIn("/var/log/wsgid/*.log", text)
        self.assertIn("/run/wsgid/wsgid.pid", text)
        text = text.replace("/var/log/wsgid/", logs + "/").replace(
            "/run/wsgid/wsgid.pid", self.tmp.path("wsgid.pid"))
        lr_conf = self.tmp.write("logrotate.conf", text)
        state = self.tmp.path("logrotate.state")

        r = subprocess.run(["logrotate", "--debug", "-s", state, lr_conf], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("rotating pattern: %s/*.log" % logs, r.stdout + r.stderr)
        self.assertFalse(os.path.exists(access + ".1"))  # --debug changes nothing

        r = subprocess.run(["logrotate", "-f", "-s", state, lr_conf], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # delaycompress: the first rotation is not compressed yet.
        self.assertIn("/lr/before 200", read(access + ".1"))
        self.assertTrue(os.path.exists(os.path.join(logs, "error.log.1")))
        # The master reopened its ErrorLog (USR1) and says so in the new file...
        error = os.path.join(logs, "error.log")
        wait_for(lambda: "reopened %s" % error in read_or_empty(error), 30,
                 "the master's 'reopened' line in the new error.log")
        # The new access.log is logrotate's `create 0640 root adm`, as Debian's
        # apache2: the front end (www-data) could not open it; the master does
        # and hands it over...
        st = os.stat(access)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777),
                         (0, grp.getgrnam("adm").gr_gid, 0o640))
        # ... and the front end writes its access lines to the new file.
        self.assertEqual(http_get(port, "/lr/after")[0], 200)
        wait_for(lambda: "/lr/after 200" in read_or_empty(access), 30,
                 "the access line in the new access.log")
        self.assertNotIn("/lr/after", read(access + ".1"))
        self.assertTrue(pid_alive(self.master))

        os.kill(self.master, signal.SIGTERM)
        wait_for(lambda: not pid_alive(self.master), 60, "the master gone")


class ManPageTest(unittest.TestCase):
    def test_pages_render_without_warnings(self):
        pages = man_pages()
        self.assertIn(os.path.join(MAN_DIR, "wsgid.8"), pages)
        self.assertIn(os.path.join(MAN_DIR, "wsgid.conf.5"), pages)
        for page in pages:
            with self.subTest(page=page):
                r = subprocess.run(["man", "--warnings", "-l", page],
                                   env=clean_env(MANWIDTH="80", MAN_KEEP_FORMATTING="",
                                                 LC_ALL="C.UTF-8"),
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0)
                self.assertEqual(r.stderr, "")
                self.assertGreater(len(r.stdout), 1000)

    def test_wsgid_8_names_every_option_of_help(self):
        r = subprocess.run([WSGID, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        options = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", r.stdout))
        self.assertTrue({"-f", "-D", "-d", "--check", "--json"} <= options, options)
        with open(os.path.join(MAN_DIR, "wsgid.8")) as f:
            page = f.read().replace("\\-", "-")
        section = page[page.index(".SH OPTIONS"):page.index(".SH SIGNALS")]
        for opt in sorted(options):
            with self.subTest(option=opt):
                self.assertRegex(section, r"(^|\n)\.[BI]\w* \"?%s\b" % re.escape(opt))
        self.assertIn("--unit", section)


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Daemon(prefix="wsgid-ops-install-")
        self.destdir = self.tmp.path("root")
        self.master = None

    def tearDown(self):
        if self.master and self.master.poll() is None:
            self.tmp.adopt(self.master.pid)
            self.tmp.stop()
            self.master.wait(10)
        self.tmp.cleanup()

    def dest(self, path):
        return self.destdir + path

    def install(self):
        r = subprocess.run([MESON, "install", "-C", BUILD, "--no-rebuild", "--destdir",
                            self.destdir], capture_output=True, text=True, timeout=300,
                           env=clean_env())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout + r.stderr

    def test_layout_and_installed_tree_runs(self):
        self.install()
        mode = lambda p: stat.S_IMODE(os.stat(self.dest(p)).st_mode)
        sysconf = SYSCONFDIR
        examples = os.path.join(DATADIR, "doc", "wsgid", "examples")
        expected = [
            os.path.join(SBINDIR, "wsgid"),
            os.path.join(LIBEXECDIR, "wsgid-worker"),
            os.path.join(LIBEXECDIR, "wsgid", "wsgid-frontend"),
            os.path.join(MANDIR, "man8", "wsgid.8"),
            # Loaded by the front end from its own directory (Python, TLS).
            os.path.join(LIBEXECDIR, "wsgid", "wsgid-frontend-python.so"),
            os.path.join(LIBEXECDIR, "wsgid", "wsgid-tls.so"),
            os.path.join(MANDIR, "man5", "wsgid.conf.5"),
            os.path.join(sysconf, "init.d", "wsgid"),
            os.path.join(sysconf, "logrotate.d", "wsgid"),
            os.path.join(sysconf, "default", "wsgid"),
            os.path.join(sysconf, "wsgid", "wsgid.conf"),
            os.path.join(examples, "README"),
            os.path.join(examples, "demo.conf"),
            os.path.join(examples, "demo", "hello.wsgi"),
        ]
        for src in glob.glob(os.path.join(SRC, "etc", "examples", "*.conf")):
            expected.append(os.path.join(examples, os.path.basename(src)))
        if os.path.exists(os.path.join(MAN_DIR, "wsgictl.8")):
            expected.append(os.path.join(MANDIR, "man8", "wsgictl.8"))
        if os.path.exists(os.path.join(BUILD, "supervisor", "ctl", "wsgictl")):
            expected.append(os.path.join(BINDIR, "wsgictl"))
        for p in expected:
            with self.subTest(path=p):
                self.assertTrue(os.path.isfile(self.dest(p)), p)
        for p in expected[:3] + [os.path.join(sysconf, "init.d", "wsgid")]:
            self.assertEqual(mode(p), 0o755, p)
        self.assertTrue(os.path.isdir(self.dest(os.path.join(sysconf, "wsgid", "conf.d"))))

        # The unit, in systemd's unit dir moved under our prefix.
        units = glob.glob(self.destdir + "/**/systemd/system/wsgid.service", recursive=True)
        self.assertEqual(len(units), 1, units)
        self.assertTrue(units[0].startswith(self.dest(PREFIX)), units)
        v = unit_values(units[0])
        self.assertEqual(v["ExecStart"], ["%s/wsgid -f %s/wsgid/wsgid.conf" % (SBINDIR, sysconf)])
        with open(self.dest(os.path.join(sysconf, "init.d", "wsgid"))) as f:
            init = f.read()
        self.assertIn("DAEMON=${env_DAEMON:-${DAEMON:-%s/wsgid}}" % SBINDIR, init)
        self.assertIn("CONFIG=${env_CONFIG:-${CONFIG:-%s/wsgid/wsgid.conf}}" % sysconf, init)

        # The default config is valid for the installed wsgid (its conf.d is empty).
        installed = self.dest(os.path.join(SBINDIR, "wsgid"))
        conf = self.dest(os.path.join(sysconf, "wsgid", "wsgid.conf"))
        r = subprocess.run([installed, "--check", "-f", conf], capture_output=True, text=True,
                           timeout=60, env=clean_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        # The installed examples check too (demo.conf finds demo/hello.wsgi beside it).
        demo = self.dest(os.path.join(examples, "demo.conf"))
        r = subprocess.run([installed, "--check", "-f", demo], capture_output=True, text=True,
                           timeout=60, env=clean_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("does not exist", r.stderr)

        # `meson install` again keeps an edited config.
        with open(conf, "a") as f:
            f.write("# edited by the operator\n")
        self.install()
        self.assertIn("# edited by the operator", read(conf))
        self.assertEqual(read(conf), read(os.path.join(SRC, "etc", "wsgid.conf")) +
                         "# edited by the operator\n")

        # The installed tree runs: wsgid finds the installed worker and front end.
        hello = self.dest(os.path.join(examples, "demo", "hello.wsgi"))
        run = Daemon(prefix="wsgid-ops-run-")
        self.addCleanup(run.cleanup)
        cfg = run.write("wsgid.conf", "\n".join([
            "LogLevel info",
            "WSGIControlSocket %s" % run.path("control.sock"),
            "WSGISocketPrefix %s" % run.path("wsgi"),
            "ErrorLog %s" % run.path("error.log"),
            "Listen 127.0.0.1:0",
            "WSGIDaemonProcess inst threads=2 display-name=%{GROUP}",
            "WSGIProcessGroup inst",
            "WSGIScriptAlias / %s" % hello,
        ]) + "\n")
        self.master = subprocess.Popen([installed, "-f", cfg], env=clean_env(),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = listen_port(run.path("error.log"))
        status, body = wait_for(lambda: _try_get(port, "/"), 60, "an answer from the demo")
        self.assertEqual(status, 200)
        self.assertIn("Hello from wsgid!", body)
        self.assertIn("process group: inst", body)
        kids = children(self.master.pid)
        exe = {t: os.readlink("/proc/%d/exe" % p[0]) for t, p in kids.items()}
        self.assertEqual(exe.get("(wsgi:inst)"),
                         os.path.realpath(self.dest(os.path.join(LIBEXECDIR, "wsgid-worker"))), exe)
        self.assertEqual(exe.get("wsgid: frontend"),
                         os.path.realpath(self.dest(os.path.join(LIBEXECDIR, "wsgid",
                                                                 "wsgid-frontend"))), exe)
        self.master.send_signal(signal.SIGTERM)
        self.assertEqual(self.master.wait(90), 0)


def _try_get(port, path):
    try:
        return http_get(port, path, timeout=10)
    except OSError:
        return None


class ExamplesTest(unittest.TestCase):
    # Warnings an example may keep on purpose: none (Require all granted is accepted).
    ALLOWED_WARNINGS = []

    def examples(self):
        files = sorted(glob.glob(os.path.join(SRC, "etc", "examples", "*.conf")))
        files.append(os.path.join(SRC, "etc", "demo.conf"))
        files.append(os.path.join(SRC, "etc", "wsgid.conf"))
        self.assertGreaterEqual(len(files), 8, files)
        return files

    def check(self, path, *extra):
        return subprocess.run([WSGID, "--check", "-f", path] + list(extra), capture_output=True,
                              text=True, timeout=60, env=clean_env())

    def test_every_example_passes_check_as_shipped(self):
        for path in self.examples():
            with self.subTest(example=os.path.basename(path)):
                r = self.check(path)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertNotIn("error:", r.stderr)

    def test_every_example_is_clean_with_its_scripts_in_place(self):
        """Each example with /srv and /home moved to a temp dir where its script
        files exist (stubs): no warning but the allowed ones."""
        for path in self.examples():
            with self.subTest(example=os.path.basename(path)):
                tmp = Daemon(prefix="wsgid-ops-example-")
                self.addCleanup(tmp.cleanup)
                with open(path) as f:
                    text = f.read()
                text = re.sub(r"(?<![\w.])/(srv|home)/", tmp.dir + r"/\1/", text)
                staged = tmp.write(os.path.basename(path), text)
                if os.path.basename(path) == "demo.conf":
                    shutil.copytree(os.path.join(SRC, "etc", "demo"), tmp.path("demo"))
                r = subprocess.run([WSGID, "--check", "--json", "-f", staged],
                                   capture_output=True, text=True, timeout=60, env=clean_env())
                self.assertEqual(r.returncode, 0, r.stderr)
                model = json.loads(r.stdout)
                scripts = [m["script"] for m in model["mounts"]] + \
                          [i["script"] for i in model["imports"]]
                for s in scripts:
                    self.assertTrue(s.startswith(tmp.dir) or os.path.exists(s), s)
                    if not os.path.exists(s):
                        tmp.write(os.path.relpath(s, tmp.dir), APP)
                r = self.check(staged)
                self.assertEqual(r.returncode, 0, r.stderr)
                warnings = [l for l in r.stderr.splitlines() if ": warning: " in l]
                for w in warnings:
                    self.assertTrue(any(re.search(a, w) for a in self.ALLOWED_WARNINGS), w)

    def test_unit_timeout_fits_the_examples(self):
        """`wsgid --check --unit` (when this wsgid has it) finds the unit's
        TimeoutStopSec long enough for every example's drain."""
        r = subprocess.run([WSGID, "--help"], capture_output=True, text=True, timeout=30)
        if "--unit" not in r.stdout:
            self.skipTest("this wsgid has no --check --unit yet")
        for path in self.examples():
            with self.subTest(example=os.path.basename(path)):
                r = self.check(path, "--unit", UNIT)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertNotIn("TimeoutStopSec", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
