"""wsgictl (#6) against the real wsgid, the real wsgid-worker and the real
front end: every command and every exit status, --json parsed, the shell
through a pipe and through a pseudo-terminal, and the man page rendering.

Run by meson (suite 'integration') with WSGID_BUILD_DIR set; the daemon comes
from tests/integration/wsgidtest/daemon.py. Every wait polls against a generous
deadline; processes are cleaned up by pid.

usage: [WSGICTL=path] /usr/bin/python3 test_wsgictl.py [unittest args]
"""
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
from wsgidtest.daemon import Daemon
from wsgidtest.procs import pid_alive
from wsgidtest.paths import version
from wsgidtest.wait import wait_for

VERSION = version()  # meson.build's project() version

BUILD = os.environ.get("WSGID_BUILD_DIR", "")
WSGID = os.path.join(BUILD, "supervisor", "wsgid")
# $WSGICTL: another wsgictl (say a sanitizer build) against these daemon binaries.
WSGICTL = os.environ.get("WSGICTL") or os.path.join(BUILD, "supervisor", "ctl", "wsgictl")
FRONTEND = os.path.join(BUILD, "supervisor", "frontend", "wsgid-frontend")
WORKER = os.environ.get("WSGID_TEST_WORKER") or os.path.join(BUILD, "worker", "wsgid-worker")
MAN_PAGE = os.path.join(SRC, "docs", "man", "wsgictl.8")

# Each request prints a marker to stderr (the master captures it for `tail`).
APP = """import os, sys

def application(environ, start_response):
    uri = environ.get('REQUEST_URI', '')
    if '/say/' in uri:
        print('said %s by %d' % (uri.split('/say/')[1], os.getpid()), file=sys.stderr, flush=True)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('%d %s\\n' % (os.getpid(), environ.get('REQUEST_URI', ''))).encode()]
"""

GROUPS = {"site1": "processes=2 threads=2", "api": "processes=1 threads=2"}
HEADER = ["NAME", "STATE", "PID", "UPTIME", "REQS", "CURRENT", "RSS", "LAST EXIT"]


def ctl(*args, sock=None, env=None, timeout=60, stdin=None, user=None):
    """Runs wsgictl; returns (exit status, stdout, stderr)."""
    cmd = [WSGICTL] + (["-s", sock] if sock else []) + list(args)
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    e = dict(os.environ)
    e.pop("WSGICTL_SOCKET", None)
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e,
                       input=stdin if stdin is not None else "",)
    return p.returncode, p.stdout, p.stderr


def parse_status(out):
    """The status table: checks the alignment, returns {name: {column: value}}."""
    lines = out.rstrip("\n").split("\n")
    header = lines[0]
    assert header.split("  ")[0] == "NAME", out
    starts = [header.index(h) for h in HEADER]
    rows = {}
    for line in lines[1:]:
        for s in starts[1:]:
            # Every column starts where its header starts, after a blank.
            assert line[s - 1] == " " and line[s] != " ", (line, s, out)
        cells = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [len(line)])]
        rows[cells[0]] = dict(zip(HEADER, cells))
    return rows


class CtlDaemon(Daemon):
    """wsgidtest.Daemon with the test app, a front end and an ErrorLog."""

    def __init__(self, groups=None, frontend=True):
        self.groups = dict(groups or GROUPS)
        super().__init__(self.groups, wsgid=WSGID, worker=WORKER,
                         frontend=FRONTEND if frontend else "none")
        self.error_log = os.path.join(self.dir, "error.log")
        for name in self.groups:
            with open(self.script(name), "w") as f:
                f.write(APP)
            os.chmod(self.script(name), 0o644)
        self.rewrite()

    def extra(self):
        return "Listen 127.0.0.1:0\nErrorLog %s" % self.error_log

    def rewrite(self, tail=""):
        self.write_config(self.groups, self.extra() + "\n" + tail)

    def start(self, args=(), wait_ready=True):
        super().start(args, wait_ready)
        # The socket file appears at bind(), before listen(): until then a
        # connect is refused. Wait for an answer.
        if wait_ready:
            wait_for(lambda: self.wctl("pid")[0] == 0, 60, "the control socket answering")
        return self

    def wctl(self, *args, **kw):
        return ctl(*args, sock=self.control, **kw)


class WsgictlTest(unittest.TestCase):
    """One daemon for the ordered tests below (test_NN_...)."""

    @classmethod
    def setUpClass(cls):
        cls.d = CtlDaemon()
        cls.d.start()
        cls.d.wait_running("site1", "api", timeout=60)
        wait_for(lambda: (cls.d.status()["frontend"] or {}).get("state") == "RUNNING",
                 timeout=60, what="the front end RUNNING")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def run_ok(self, *args, code=0):
        rc, out, err = self.d.wctl(*args)
        self.assertEqual(rc, code, (args, out, err))
        return out, err

    def wait_pids_replaced(self, group, old, timeout=60):
        wait_for(lambda: self.d.all_running(group) and self.d.pids(group)
                 and not set(self.d.pids(group)) & set(old), timeout,
                 "%s replaced (old %r)" % (group, old))

    def test_01_status(self):
        out, err = self.run_ok("status")
        self.assertEqual(err, "")
        rows = parse_status(out)
        self.assertEqual(sorted(rows), ["api:0", "frontend", "site1:0", "site1:1"])
        st = self.d.status()
        for g in st["groups"]:
            for p in g["processes"]:
                row = rows["%s:%d" % (g["name"], p["index"])]
                self.assertEqual(row["STATE"], "RUNNING")
                self.assertEqual(row["PID"], str(p["pid"]))
                self.assertRegex(row["UPTIME"], r"^\d+:\d\d:\d\d$")
                self.assertRegex(row["REQS"], r"^\d+$")
                self.assertRegex(row["RSS"], r"^\d+\.\dM$")
        self.assertEqual(rows["frontend"]["PID"], str(st["frontend"]["pid"]))
        # Only the named group, without the front end.
        out, _ = self.run_ok("status", "site1")
        self.assertEqual(sorted(parse_status(out)), ["site1:0", "site1:1"])
        out, _ = self.run_ok("--json", "status", "api")
        j = json.loads(out)
        self.assertTrue(j["ok"])
        self.assertEqual([g["name"] for g in j["groups"]], ["api"])
        self.assertEqual(j["master"]["pid"], self.d.proc.pid)
        # Global options after the command, as people type them (git, systemctl).
        out, _ = self.run_ok("status", "api", "--json")
        self.assertEqual([g["name"] for g in json.loads(out)["groups"]], ["api"])
        rc, out, err = ctl("status", "site1", "-s", self.d.control)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(sorted(parse_status(out)), ["site1:0", "site1:1"])

    def test_02_status_current_request_and_requests(self):
        # A slow request shows in CURRENT; REQS counts served requests.
        for _ in range(3):
            self.d.group_request("api", "/api/x")
        wait_for(lambda: parse_status(self.d.wctl("status", "api")[1])["api:0"]["REQS"] == "3",
                 what="REQS 3")

    def test_03_stop_start(self):
        site1 = self.d.pids("site1")
        api = self.d.pids("api")
        out, _ = self.run_ok("stop", "api")
        self.assertEqual(out, "api: stopping\n")
        wait_for(lambda: parse_status(self.d.wctl("status", "api")[1])["api:0"]["STATE"] == "STOPPED",
                 what="api:0 STOPPED")
        rc, out, _ = self.d.wctl("status")
        self.assertEqual(rc, 3, out)
        self.assertEqual(parse_status(out)["api:0"]["PID"], "-")
        self.assertEqual(self.d.wctl("status", "api")[0], 3)
        self.assertEqual(self.d.wctl("status", "site1")[0], 0)
        self.assertEqual(json.loads(self.d.wctl("--json", "status")[1])["groups"][0]["state"],
                         "STOPPED")
        self.assertEqual(self.d.wctl("--json", "status")[0], 3)
        out, _ = self.run_ok("start", "api")
        self.assertEqual(out, "api: starting\n")
        self.wait_pids_replaced("api", api)
        self.assertEqual(self.d.pids("site1"), site1)
        self.assertEqual(self.d.wctl("status")[0], 0)
        # stop --now, then start all.
        out, _ = self.run_ok("stop", "--now", "api")
        self.assertEqual(out, "api: stopping now (SIGTERM)\n")
        wait_for(lambda: self.d.wctl("status", "api")[0] == 3
                 and parse_status(self.d.wctl("status", "api")[1])["api:0"]["STATE"] == "STOPPED",
                 what="api stopped")
        self.run_ok("start", "all")
        self.d.wait_running("api", timeout=60)
        self.assertEqual(self.d.pids("site1"), site1)
        # The same with --json: the daemon's reply, parsed.
        rc, out, _ = self.d.wctl("--json", "stop", "api")
        self.assertEqual((rc, json.loads(out)), (0, {"ok": True}))
        wait_for(lambda: self.d.group("api")["state"] == "STOPPED", what="api STOPPED")
        rc, out, _ = self.d.wctl("--json", "start", "api")
        self.assertEqual((rc, json.loads(out)), (0, {"ok": True}))
        self.d.wait_running("api", timeout=60)
        self.assertEqual(self.d.pids("site1"), site1)

    def test_04_restart(self):
        site1 = self.d.pids("site1")
        api = self.d.pids("api")
        out, _ = self.run_ok("restart", "site1")
        self.assertEqual(out, "site1: restarting (rolling)\n")
        self.wait_pids_replaced("site1", site1)
        self.assertEqual(self.d.pids("api"), api)
        site1 = self.d.pids("site1")
        out, _ = self.run_ok("restart", "--now", "api")
        self.assertEqual(out, "api: restarting now (SIGTERM, then respawn)\n")
        self.wait_pids_replaced("api", api)
        self.assertEqual(self.d.pids("site1"), site1)
        rc, out, _ = self.d.wctl("--json", "restart", "all")
        self.assertEqual((rc, json.loads(out)), (0, {"ok": True}))
        self.wait_pids_replaced("site1", site1)

    def test_05_pid(self):
        self.d.wait_running("site1", "api", timeout=60)
        out, _ = self.run_ok("pid")
        self.assertEqual(out, "%d\n" % self.d.proc.pid)
        out, _ = self.run_ok("pid", "site1")
        self.assertEqual(sorted(int(x) for x in out.split()), self.d.pids("site1"))
        out, _ = self.run_ok("pid", "all")
        lines = dict(l.split(": ") for l in out.splitlines())
        self.assertEqual(sorted(lines), ["api", "site1"])
        self.assertEqual(sorted(int(x) for x in lines["site1"].split()), self.d.pids("site1"))
        out, _ = self.run_ok("--json", "pid", "site1")
        self.assertEqual(sorted(json.loads(out)["pids"]["site1"]), self.d.pids("site1"))
        self.assertEqual(json.loads(self.run_ok("--json", "pid")[0])["pid"], self.d.proc.pid)

    def test_06_signal_usr1_rolls(self):
        self.d.wait_running("site1", "api", timeout=60)
        site1 = self.d.pids("site1")
        api = self.d.pids("api")
        out, _ = self.run_ok("signal", "USR1", "site1")
        self.assertEqual(out, "site1: sent USR1\n")
        self.wait_pids_replaced("site1", site1)
        self.assertEqual(self.d.pids("api"), api)
        rc, out, _ = self.d.wctl("--json", "signal", "SIGUSR1", "api")
        self.assertEqual((rc, json.loads(out)), (0, {"ok": True}))
        self.wait_pids_replaced("api", api)
        # A signal the daemon does not know: usage (2), said by the daemon.
        rc, out, err = self.d.wctl("signal", "FOO", "site1")
        self.assertEqual((rc, out, err), (2, "", "wsgictl: unknown signal 'FOO'\n"))

    def test_07_tail(self):
        self.d.wait_running("site1", timeout=60)
        self.d.group_request("site1", "/site1/say/first-marker")
        wait_for(lambda: "said first-marker" in self.d.wctl("tail", "site1")[1],
                 what="the marker in tail site1")
        rc, out, _ = self.d.wctl("tail", "-n", "1", "site1")
        self.assertEqual(rc, 0)
        self.assertEqual(len(out.splitlines()), 1)
        rc, out, _ = self.d.wctl("--json", "tail", "site1")
        self.assertEqual(rc, 0)
        self.assertTrue(any("said first-marker" in l for l in json.loads(out)["lines"]))
        self.assertEqual(self.d.wctl("tail", "frontend")[0], 0)
        # The master's ErrorLog.
        rc, out, err = self.d.wctl("tail", "-n", "100000", "master")
        self.assertEqual(rc, 0, err)
        self.assertIn("wsgid %s starting" % VERSION, out)
        rc, out, err = self.d.wctl("tail", "-n", "2", "master")
        self.assertEqual((rc, len(out.splitlines())), (0, 2))

    def follow(self, target, trigger, marker, json_mode=False, timeout=60):
        """Runs `tail -f` on target, calls trigger() once a second until marker
        shows (the subscription takes a moment), then Ctrl-C: exit status 0."""
        args = [WSGICTL, "-s", self.d.control] + (["--json"] if json_mode else []) + [
            "tail", "-f", "-n", "0", target]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            buf = b""
            deadline = time.time() + timeout
            while marker.encode() not in buf:
                self.assertGreater(deadline - time.time(), 0,
                                   "timed out waiting for %r in %r" % (marker, buf))
                trigger()
                end = time.time() + 1.0
                while marker.encode() not in buf and time.time() < end:
                    r, _, _ = select.select([p.stdout], [], [], 0.2)
                    if r:
                        chunk = os.read(p.stdout.fileno(), 65536)
                        self.assertTrue(chunk, "EOF before %r in %r" % (marker, buf))
                        buf += chunk
            got = buf.decode()
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(20), 0)
            return got
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()

    def test_08_tail_follow(self):
        self.d.wait_running("site1", timeout=60)
        got = self.follow("site1", lambda: self.d.group_request("site1", "/site1/say/follow-1"),
                          "said follow-1")
        self.assertNotIn("{", got)  # plain lines, not the JSON objects
        got = self.follow("site1", lambda: self.d.group_request("site1", "/site1/say/follow-2"),
                          "said follow-2", json_mode=True)
        objs = [json.loads(l) for l in got.splitlines() if l]
        self.assertTrue(objs[0]["ok"] and objs[0]["follow"])
        self.assertTrue(any("said follow-2" in o.get("line", "") for o in objs[1:]))

    def test_09_tail_follow_master(self):
        # `tail -f master` streams the master's own log lines (reopen logs one).
        got = self.follow("master", lambda: self.d.wctl("reopen"), "reopened")
        self.assertRegex(got, r"\[master \d+\] reopened ")

    def test_10_reopen(self):
        os.rename(self.d.error_log, self.d.error_log + ".1")
        out, _ = self.run_ok("reopen")
        self.assertEqual(out, "log files reopened\n")
        wait_for(lambda: os.path.exists(self.d.error_log), what="a new ErrorLog")
        rc, out, _ = self.d.wctl("--json", "reopen")
        self.assertEqual((rc, json.loads(out)), (0, {"ok": True}))

    def test_11_check_and_reload(self):
        out, _ = self.run_ok("check")
        self.assertIn("configuration is valid (0 errors", out)
        j = json.loads(self.run_ok("--json", "check")[0])
        self.assertEqual((j["ok"], j["errors"]), (True, 0))
        site1 = self.d.pids("site1")
        # A broken file: check and reload say where, exit 1, nothing changes.
        self.d.rewrite("BogusDirective 1")
        with open(self.d.conf) as f:
            n = f.read().splitlines().index("BogusDirective 1") + 1
        rc, out, err = self.d.wctl("check")
        self.assertEqual(rc, 1)
        self.assertIn("%s:%d:1: error:" % (self.d.conf, n), out)
        self.assertIn("wsgictl: configuration is not valid (1 error", err)
        rc, out, err = self.d.wctl("reload")
        self.assertEqual(rc, 1, (out, err))
        self.assertRegex(err, r"^wsgictl: reload failed: .* has 1 errors")
        self.assertIn("\n%s:%d:1: " % (self.d.conf, n), err)
        rc, out, _ = self.d.wctl("--json", "reload")
        j = json.loads(out)
        self.assertEqual((rc, j["ok"], j["code"]), (1, False, "failed"))
        self.assertTrue(j["errors"][0].startswith("%s:%d:1: " % (self.d.conf, n)))
        self.assertEqual(self.d.wctl("--json", "check")[0], 1)
        # A new group: reload starts it, the others keep their pids.
        self.d.groups["extra"] = "processes=1 threads=1"
        with open(self.d.script("extra"), "w") as f:
            f.write(APP)
        os.chmod(self.d.script("extra"), 0o644)
        self.d.rewrite()
        out, _ = self.run_ok("reload")
        self.assertEqual(out, "configuration reloaded\n")
        self.d.wait_running("extra", timeout=60)
        self.assertEqual(self.d.pids("site1"), site1)
        self.assertIn("extra:0", parse_status(self.run_ok("status")[0]))
        rc, out, _ = self.d.wctl("--json", "reload")
        self.assertEqual((rc, json.loads(out)), (0, {"ok": True}))

    def test_12_version_help(self):
        out, _ = self.run_ok("version")
        self.assertEqual(out, "wsgictl %s\nwsgid %s\n" % (VERSION, VERSION))
        j = json.loads(self.run_ok("--json", "version")[0])
        self.assertEqual(j, {"ok": True, "version": VERSION, "wsgictl": VERSION})
        self.assertEqual(ctl("--version"), (0, "wsgictl %s\n" % VERSION, ""))
        out, _ = self.run_ok("help")
        for name in ("status", "start", "stop", "restart", "reload", "check", "reopen", "pid",
                     "signal", "tail", "shutdown", "version", "help"):
            self.assertRegex(out, r"\n  %s\b" % name)
        out, _ = self.run_ok("help", "tail")
        self.assertTrue(out.startswith("usage: tail [-f] [-n N] GROUP|frontend|master\n"), out)
        self.assertEqual(ctl("restart", "--help", sock="/nonexistent/x.sock")[:2],
                         (0, self.run_ok("help", "restart")[0]))
        j = json.loads(self.run_ok("--json", "help")[0])
        self.assertIn("restart", j["commands"])
        rc, out, err = ctl("--help")
        self.assertEqual(rc, 0)
        self.assertIn("Exit status: 0 ok; 1 failed (also: permission denied); 2 usage error;", out)
        self.assertIn("7 wsgid is not reachable", out)

    def test_13_no_such_group(self):
        cases = [("status", "nope"), ("start", "nope"), ("stop", "nope"), ("restart", "nope"),
                 ("restart", "--now", "site1", "nope"), ("pid", "nope"),
                 ("signal", "USR1", "nope"), ("tail", "nope"), ("tail", "-f", "nope")]
        for args in cases:
            rc, out, err = self.d.wctl(*args)
            self.assertEqual((rc, out, err), (4, "", "wsgictl: no such group 'nope'\n"), args)
            rc, out, err = self.d.wctl("--json", *args)
            j = json.loads(out)
            self.assertEqual((rc, j["code"], j["error"]), (4, "no-such-group", "no such group 'nope'"))

    def test_14_usage_without_the_daemon(self):
        # A socket with nothing behind it: a usage error that reached the daemon
        # would exit 7, not 2.
        nothing = os.path.join(self.d.dir, "nothing.sock")
        cases = [
            (["statsu"], "wsgictl: unknown command 'statsu' (did you mean 'status'?)\n"),
            (["frobnicate"], "wsgictl: unknown command 'frobnicate'\n"),
            (["stop"], "wsgictl: stop needs group names or 'all'\n"),
            (["restart", "--now"], "wsgictl: restart needs group names or 'all'\n"),
            (["signal", "USR1"], "wsgictl: signal needs a signal name and at least one group\n"),
            (["tail"], "wsgictl: tail takes one group name, 'frontend' or 'master'\n"),
            (["tail", "-n", "x", "site1"], "wsgictl: -n must be an integer from 0 to 100000\n"),
            (["reload", "now"], "wsgictl: reload takes no arguments\n"),
            (["status", "--now"], "wsgictl: status: unknown option '--now'\n"),
            (["-x", "status"], "wsgictl: unknown option '-x'\n"),
            (["help", "nope"], "wsgictl: no such command 'nope'\n"),
        ]
        usage = "usage: wsgictl [-s SOCKET | -f CONFIG] [--json] [COMMAND [ARGS...]]\n"
        for args, text in cases:
            rc, out, err = ctl(*args, sock=nothing)
            self.assertEqual((rc, out, err), (2, "", text + usage), args)
            if args[0] == "-x":
                continue
            # --json: the object a daemon's usage error has.
            rc, out, err = ctl("--json", *args, sock=nothing)
            self.assertEqual((rc, json.loads(out), err), (
                2, {"ok": False, "code": "usage", "error": text[len("wsgictl: "):-1]},
                text + usage), args)

    def test_15_daemon_down(self):
        nothing = os.path.join(self.d.dir, "nothing.sock")
        text = ("cannot reach wsgid at %s: connect: No such file or directory "
                "(is wsgid running?)" % nothing)
        for args in (["status"], ["stop", "site1"], ["reload"], ["pid"], ["tail", "-f", "site1"]):
            rc, out, err = ctl(*args, sock=nothing)
            self.assertEqual((rc, out, err), (7, "", "wsgictl: %s\n" % text), args)
            rc, out, err = ctl("--json", *args, sock=nothing)
            self.assertEqual((rc, json.loads(out), err), (
                7, {"ok": False, "code": "unreachable", "error": text}, "wsgictl: %s\n" % text))
        rc, out, err = ctl("version", sock=nothing)
        self.assertEqual((rc, out, err), (7, "wsgictl %s\n" % VERSION, "wsgictl: %s\n" % text))
        rc, out, err = ctl("--json", "version", sock=nothing)
        self.assertEqual((rc, json.loads(out)), (7, {"ok": False, "code": "unreachable",
                                                     "error": text, "wsgictl": VERSION}))
        long_path = "/tmp/" + "x" * 200
        self.assertEqual(ctl("status", sock=long_path), (
            7, "", "wsgictl: cannot reach wsgid at %s: the path is longer than 107 bytes\n"
            % long_path))
        # A socket file nobody listens on: refused.
        dead = os.path.join(self.d.dir, "dead.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(dead)
        s.close()
        rc, out, err = ctl("status", sock=dead)
        self.assertEqual((rc, out, err), (
            7, "", "wsgictl: cannot reach wsgid at %s: connect: Connection refused "
                   "(is wsgid running?)\n" % dead))

    def test_16_socket_discovery(self):
        # -f CONFIG: its WSGIControlSocket.
        rc, out, _ = ctl("-f", self.d.conf, "pid")
        self.assertEqual((rc, out), (0, "%d\n" % self.d.proc.pid))
        # $WSGICTL_SOCKET.
        rc, out, _ = ctl("pid", env={"WSGICTL_SOCKET": self.d.control})
        self.assertEqual((rc, out), (0, "%d\n" % self.d.proc.pid))
        # -s beats $WSGICTL_SOCKET.
        rc, _, _ = ctl("pid", sock="/nonexistent/x.sock", env={"WSGICTL_SOCKET": self.d.control})
        self.assertEqual(rc, 7)
        # A relative WSGIControlSocket, taken relative to the config's directory.
        rel = os.path.join(self.d.dir, "rel.conf")
        with open(rel, "w") as f:
            f.write("WSGIControlSocket control.sock\n")
        p = subprocess.run([WSGICTL, "-f", "rel.conf", "pid"], cwd=self.d.dir,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout), (0, "%d\n" % self.d.proc.pid))
        rc, out, err = ctl("-f", "/nonexistent/w.conf", "status")
        self.assertEqual((rc, out, err), (
            1, "", "wsgictl: cannot read /nonexistent/w.conf: No such file or directory\n"))
        rc, out, err = ctl("--json", "-f", "/nonexistent/w.conf", "status")
        self.assertEqual((rc, json.loads(out)["code"]), (1, "failed"))

    def test_17_permission(self):
        # As www-data: the socket (0600, root's) refuses the connect...
        rc, out, err = ctl("status", sock=self.d.control, user="www-data")
        self.assertEqual((rc, out), (1, ""), err)
        self.assertEqual(err, "wsgictl: permission denied: cannot connect to %s: connect: "
                              "Permission denied (only root and uid 0, the socket's owner, may "
                              "control this wsgid)\n" % self.d.control)
        rc, out, err = ctl("--json", "pid", sock=self.d.control, user="www-data")
        j = json.loads(out)
        self.assertEqual((rc, j["code"]), (1, "permission"))
        self.assertTrue(j["error"].startswith("permission denied: "), j)
        # ...and when the socket lets it in, the daemon refuses it (SO_PEERCRED).
        os.chmod(self.d.control, 0o666)
        try:
            rc, out, err = ctl("status", sock=self.d.control, user="www-data")
            self.assertEqual((rc, out, err), (1, "", "wsgictl: permission denied: uid 33 may not "
                                                     "control this wsgid (only root and uid 0)\n"))
            rc, out, err = ctl("--json", "stop", "all", sock=self.d.control, user="www-data")
            self.assertEqual((rc, json.loads(out)["code"]), (1, "permission"))
        finally:
            os.chmod(self.d.control, 0o600)
        self.assertTrue(self.d.all_running("site1"))

    def test_18_shell_from_a_pipe(self):
        rc, out, err = self.d.wctl(stdin="# a comment\n\npid\nstatus site1\n")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], str(self.d.proc.pid))
        self.assertEqual(lines[1].split()[0], "NAME")
        # The exit status is the last command's.
        rc, out, err = self.d.wctl(stdin="pid\nstatus nope\n")
        self.assertEqual((rc, err), (4, "wsgictl: no such group 'nope'\n"))
        rc, out, err = self.d.wctl(stdin="statsu\n")
        self.assertEqual((rc, err), (2, "wsgictl: unknown command 'statsu' (did you mean "
                                        "'status'?) (help lists the commands)\n"))
        rc, out, err = self.d.wctl(stdin="pid\nquit\nstatus nope\n")
        self.assertEqual((rc, out), (0, "%d\n" % self.d.proc.pid))

    def test_19_shell_on_a_terminal(self):
        home = tempfile.mkdtemp(prefix="wsgictl-home-")
        master, slave = pty.openpty()
        env = dict(os.environ, HOME=home, TERM="xterm")
        env.pop("WSGICTL_SOCKET", None)
        p = subprocess.Popen([WSGICTL, "-s", self.d.control], stdin=slave, stdout=slave,
                             stderr=slave, env=env, close_fds=True, start_new_session=True)
        os.close(slave)
        buf = [b""]

        def read_until(pattern, timeout=30):
            deadline = time.time() + timeout
            while not re.search(pattern, buf[0]):
                left = deadline - time.time()
                self.assertGreater(left, 0, "timed out waiting for %r in %r" % (pattern, buf[0]))
                r, _, _ = select.select([master], [], [], min(left, 0.5))
                if r:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:
                        chunk = b""
                    self.assertTrue(chunk, "EOF waiting for %r in %r" % (pattern, buf[0]))
                    buf[0] += chunk
            got, buf[0] = buf[0], b""
            return got

        try:
            read_until(rb"wsgid> ")
            # "sta" is start or status: a second tab lists both; "t" then
            # completes "status " (libedit echoes only what it adds: "us ").
            os.write(master, b"sta\t\t")
            read_until(rb"start +status")
            os.write(master, b"t\t")
            read_until(rb"us ")
            # A group name, asked of the daemon: "si" -> "site1 ".
            os.write(master, b"si\t")
            read_until(rb"te1 ")
            os.write(master, b"\r")
            got = read_until(rb"wsgid> ")
            self.assertIn(b"site1:0", got)
            self.assertIn(b"site1:1", got)
            self.assertNotIn(b"api:0", got)
            os.write(master, b"help tail\r")
            self.assertIn(b"usage: tail", read_until(rb"wsgid> "))
            # tail -f in the shell: SIGINT (Ctrl-C) ends it and the prompt returns.
            os.write(master, b"tail -f -n 0 site1\r")
            read_until(rb"tail -f -n 0 site1\r\n")
            deadline = time.time() + 60
            while b"said in-the-shell" not in buf[0]:  # until subscribed
                self.assertGreater(deadline - time.time(), 0, buf[0])
                self.d.group_request("site1", "/site1/say/in-the-shell")
                try:
                    read_until(rb"said in-the-shell", timeout=1)
                    break
                except AssertionError:
                    pass
            os.kill(p.pid, signal.SIGINT)
            read_until(rb"wsgid> ")
            self.assertIsNone(p.poll())
            os.write(master, b"pid\r")
            self.assertIn(str(self.d.proc.pid).encode(), read_until(rb"wsgid> "))
            # Ctrl-C at the prompt drops the line and prompts again.
            os.write(master, b"stat")
            read_until(rb"stat")
            os.kill(p.pid, signal.SIGINT)
            read_until(rb"wsgid> ")
            os.write(master, b"pid\r")
            got = read_until(rb"wsgid> ")
            self.assertIn(str(self.d.proc.pid).encode(), got)
            self.assertNotIn(b"statpid", got)
            self.assertIsNone(p.poll())
            os.write(master, b"quit\r")
            self.assertEqual(p.wait(20), 0)
            with open(os.path.join(home, ".wsgictl_history"), "rb") as f:
                hist = f.read().replace(b"\\040", b" ")  # libedit's vis(3) encoding
            self.assertIn(b"status site1", hist)
            self.assertIn(b"help tail", hist)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            os.close(master)
            subprocess.run(["rm", "-rf", home])

    def test_99_shutdown(self):
        pid = self.d.proc.pid
        out, _ = self.run_ok("shutdown")
        self.assertEqual(out, "wsgid is shutting down\n")
        self.assertEqual(self.d.wait_exit(60), 0)
        self.assertFalse(pid_alive(pid))
        rc, _, err = self.d.wctl("status")
        self.assertEqual(rc, 7, err)


class ShutdownNowTest(unittest.TestCase):
    def test_shutdown_now(self):
        d = CtlDaemon({"one": "processes=1 threads=1"}, frontend=False)
        try:
            d.start()
            d.wait_running("one", timeout=60)
            # No front end: status shows only the group's processes.
            rc, out, _ = d.wctl("status")
            self.assertEqual((rc, sorted(parse_status(out))), (0, ["one:0"]))
            rc, out, err = d.wctl("--json", "shutdown", "--now")
            self.assertEqual((rc, json.loads(out)), (0, {"ok": True}), err)
            self.assertEqual(d.wait_exit(60), 0)
        finally:
            d.cleanup()


class ManPageTest(unittest.TestCase):
    def test_renders_without_warnings(self):
        p = subprocess.run(["man", "--warnings", "-l", MAN_PAGE], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80"), timeout=60)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS",
                        "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"):
            self.assertIn("\n%s\n" % section, p.stdout)
        for name in ("status", "start", "stop", "restart", "reload", "check", "reopen", "pid",
                     "signal", "tail", "shutdown", "version", "help"):
            self.assertRegex(p.stdout, r"\n       %s\b" % name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
