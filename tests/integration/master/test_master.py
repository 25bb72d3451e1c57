#!/usr/bin/python3
"""Integration tests of the master daemon (issue #4), against the real wsgid.

usage: test_master.py [WSGID [TEST_NAME...]]   (default: $WSGID_BUILD_DIR/supervisor/wsgid)

Workers are fake_worker.py (the child contract without Python WSGI) unless
WSGID_TEST_WORKER names the real wsgid-worker. Exit 0 = all passed, 1 = a
failure (the failing test's log path and tail are printed), 77 = skipped.
"""
import contextlib
import http.client
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.http_get import http_get
from wsgidtest.load import HttpLoad
from wsgidtest.procs import free_port, pid_alive
from wsgidtest.testing import run_unittest, skip
from wsgidtest.paths import version
from wsgidtest.wait import wait_for

VERSION = version()  # meson.build's project() version

HERE = os.path.dirname(os.path.abspath(__file__))


@contextlib.contextmanager
def daemon(wsgid, groups, **kw):
    d = Daemon(groups, wsgid=wsgid, **kw)
    ok = False
    try:
        yield d
        d.check_log_clean()
        ok = True
    except unittest.SkipTest:
        ok = True
        raise
    finally:
        if not ok:
            print("log: %s" % d.log_path)
            try:
                print("".join(d.log().splitlines(True)[-40:]))
            except OSError:
                pass
        d.cleanup(keep=not ok)


class Load:
    """Sequential requests to one group socket on a thread; counts failures."""

    def __init__(self, d, group, uri="/load"):
        self.d, self.group, self.uri = d, group, uri
        self.ok = self.failed = 0
        self.errors = []
        self.stop_flag = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop_flag:
            try:
                st, _ = self.d.group_request(self.group, self.uri, timeout=30)
                if st == 200:
                    self.ok += 1
                else:
                    self.failed += 1
                    self.errors.append(st)
            except Exception as e:  # noqa: BLE001
                self.failed += 1
                self.errors.append(repr(e))

    def stop(self):
        self.stop_flag = True
        self.t.join(60)


# --- tests -----------------------------------------------------------------

def test_sockets_before_children_and_start(wsgid):
    with daemon(wsgid, {"sk1": "processes=2 threads=2 listen-backlog=7", "sk2": "threads=1"}) as d:
        d.start()
        d.wait_running("sk1", "sk2")
        assert len(d.pids("sk1")) == 2 and len(d.pids("sk2")) == 1
        for g in ("sk1", "sk2"):
            st = os.stat(d.sock(g))
            assert oct(st.st_mode & 0o777) == "0o600", oct(st.st_mode)
            if os.geteuid() == 0:
                assert st.st_uid == pwd.getpwnam("www-data").pw_uid
            status, body = d.group_request(g, "/hello")
            assert status == 200 and body.endswith(b" /hello\n"), (status, body)
        # Status carries requests served (kState).
        wait_for(lambda: sum(p["requests"] or 0 for p in d.group("sk1")["processes"]) >= 1,
                 what="requests counted")
        log = d.log()
        assert "ready: 2 groups up" in log, log
        # Sockets are opened before any child starts: the first "started pid" line
        # comes after the master's startup line.
        assert log.index("wsgid %s starting" % VERSION) < log.index("started pid")


def test_sigkill_one_worker_other_group_undisturbed(wsgid):
    with daemon(wsgid, {"kv1": "threads=2", "kv2": "processes=2 threads=2"}) as d:
        d.start()
        d.wait_running("kv1", "kv2")
        other = d.pids("kv2")
        victim = d.pids("kv1")[0]
        load = Load(d, "kv2")
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
        t0 = time.time()
        wait_for(lambda: d.pids("kv1") and d.pids("kv1") != [victim] and d.all_running("kv1"),
                 what="kv1 replaced")
        # Serving again (poll: a deadline, not a speed assertion).
        wait_for(lambda: d.group_request("kv1", "/again")[0] == 200, what="kv1 serving")
        print("   kv1 replaced and serving after %.2f s" % (time.time() - t0))
        time.sleep(0.3)
        load.stop()
        assert load.failed == 0, load.errors[:5]
        assert load.ok > 0
        assert d.pids("kv2") == other
        d.wait_log("group kv1 worker 0 pid %d exited on signal 9" % victim)


def test_worker_usr1_rolling_no_failed_request(wsgid):
    with daemon(wsgid, {"ru1": "processes=2 threads=4", "ru2": "threads=2"}) as d:
        d.start()
        d.wait_running("ru1", "ru2")
        old, other = d.pids("ru1"), d.pids("ru2")
        results = []

        def one(i):
            try:
                results.append(d.group_request("ru1", "/sleep/1.5")[0])
            except Exception as e:  # noqa: BLE001
                results.append(repr(e))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.4)  # let them be accepted
        for p in old:
            os.kill(p, signal.SIGUSR1)
        load = Load(d, "ru1", "/during")
        for t in threads:
            t.join(60)
        wait_for(lambda: d.all_running("ru1", 2) and not set(d.pids("ru1")) & set(old),
                 what="ru1 fully replaced")
        load.stop()
        assert results == [200] * 6, results
        assert load.failed == 0, load.errors[:5]
        assert d.pids("ru2") == other
        for p in old:
            wait_for(lambda: not pid_alive(p), what="old pid %d gone" % p)
        d.wait_log("asks to be replaced (signal USR1)")
        d.wait_log("(retired) exited with status 0: drained")


def test_reload_add_remove_change_keep(wsgid):
    with daemon(wsgid, {"rl_keep": "threads=2", "rl_change": "threads=2",
                        "rl_gone": "threads=2"}) as d:
        d.start()
        d.wait_running("rl_keep", "rl_change", "rl_gone")
        keep, change, gone = d.pids("rl_keep"), d.pids("rl_change"), d.pids("rl_gone")
        d.write_config({"rl_keep": "threads=2", "rl_change": "threads=3 processes=2",
                        "rl_new": "threads=1"})
        d.signal(signal.SIGHUP)
        d.wait_log("reload: 1 added, 1 removed, 1 changed, 1 unchanged groups")
        wait_for(lambda: d.group("rl_new") and d.all_running("rl_new"), what="rl_new up")
        wait_for(lambda: d.all_running("rl_change", 2) and not set(d.pids("rl_change")) & set(change),
                 what="rl_change restarted")
        wait_for(lambda: d.group("rl_gone") is None, what="rl_gone removed")
        for p in gone:
            wait_for(lambda: not pid_alive(p), what="rl_gone pid gone")
        wait_for(lambda: not os.path.exists(d.sock("rl_gone")), what="rl_gone socket unlinked")
        assert d.pids("rl_keep") == keep
        assert d.group_request("rl_new", "/n")[0] == 200
        assert d.group_request("rl_keep", "/k")[0] == 200
        gen = d.group("rl_change")["generation"]
        assert gen == 2, gen


def test_reload_broken_config_changes_nothing(wsgid):
    with daemon(wsgid, {"rb1": "threads=2"}) as d:
        d.start()
        d.wait_running("rb1")
        before = d.pids("rb1")
        with open(d.conf, "a") as f:
            f.write("WSGIDaemonProcess rb2 proceses=2\n")
        d.signal(signal.SIGHUP)
        d.wait_log("keeping the running configuration")
        log = d.log()
        assert "%s:" % d.conf in log and "proceses" in log, log[-2000:]
        r = d.ctl("reload")
        assert r["ok"] is False and r["code"] == "failed" and r["errors"], r
        assert d.pids("rb1") == before
        assert d.group("rb2") is None
        assert d.group_request("rb1", "/x")[0] == 200


def test_crash_at_import_backs_off_then_fatal(wsgid):
    with daemon(wsgid, {"bo_crash": "threads=1", "bo_ok": "threads=2"}) as d:
        d.start()
        d.wait_running("bo_ok")
        t0 = time.time()
        time.sleep(10)
        starts = d.log().count("group bo_crash worker 0: started pid")
        assert 2 <= starts <= 12, starts
        assert d.group_request("bo_ok", "/fine")[0] == 200
        wait_for(lambda: d.group("bo_crash")["processes"][0]["state"] == "FATAL", 30,
                 "bo_crash FATAL")
        print("   %d starts in 10 s; FATAL after %.1f s" % (starts, time.time() - t0))
        d.wait_log("group bo_crash worker 0 pid")
        assert "exited with status 3" in d.log()
        assert d.group("bo_crash")["state"] == "FATAL"
        # A later start clears FATAL (it fails again, but it was tried).
        n = d.log().count("group bo_crash worker 0: started pid")
        assert d.ctl("start", ["bo_crash"])["ok"]
        wait_for(lambda: d.log().count("group bo_crash worker 0: started pid") > n,
                 what="restart after start")


def test_term_graceful_with_request_in_flight(wsgid):
    with daemon(wsgid, {"tg1": "threads=2 graceful-timeout=20", "tg2": "threads=1"}) as d:
        d.start()
        d.wait_running("tg1", "tg2")
        kids = d.child_pids()
        assert len(kids) == 2, kids
        res = []
        t = threading.Thread(target=lambda: res.append(d.group_request("tg1", "/sleep/2")))
        t.start()
        time.sleep(0.5)
        d.signal(signal.SIGTERM)
        assert d.wait_exit(60) == 0
        t.join(30)
        assert res and res[0][0] == 200, res
        for k in kids:
            assert not pid_alive(k), k
        assert not os.path.exists(d.sock("tg1"))
        assert not os.path.exists(d.control)


def test_quit_immediate_and_second_int(wsgid):
    with daemon(wsgid, {"qi1": "threads=2"}) as d:
        d.start()
        d.wait_running("qi1")
        kids = d.child_pids()
        d.signal(signal.SIGQUIT)
        assert d.wait_exit(30) == 0
        for k in kids:
            assert not pid_alive(k)
    with daemon(wsgid, {"qi2": "threads=2 graceful-timeout=60"}) as d:
        d.start()
        d.wait_running("qi2")
        kids = d.child_pids()
        res = []
        t = threading.Thread(target=lambda: res.append(
            _try(lambda: d.group_request("qi2", "/sleep/30"))))
        t.start()
        time.sleep(0.5)
        d.signal(signal.SIGINT)
        d.wait_log("graceful stop")
        time.sleep(0.3)
        assert d.proc.poll() is None  # still draining the 30 s request
        d.signal(signal.SIGINT)
        assert d.wait_exit(30) == 0
        t.join(30)
        for k in kids:
            assert not pid_alive(k)


def _try(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001
        return repr(e)


def test_usr2_rolling_restart_all(wsgid):
    with daemon(wsgid, {"u2a": "processes=2 threads=1", "u2b": "threads=1"}) as d:
        d.start()
        d.wait_running("u2a", "u2b")
        a, b = d.pids("u2a"), d.pids("u2b")
        d.signal(signal.SIGUSR2)
        wait_for(lambda: d.all_running("u2a", 2) and not set(d.pids("u2a")) & set(a), what="u2a new")
        wait_for(lambda: d.all_running("u2b", 1) and not set(d.pids("u2b")) & set(b), what="u2b new")


def test_control_commands(wsgid):
    with daemon(wsgid, {"cc1": "threads=1", "cc2": "threads=1"}) as d:
        d.start()
        d.wait_running("cc1", "cc2")
        st = d.status()
        assert st["ok"] and st["master"]["pid"] == d.proc.pid, st
        assert d.ctl("pid")["pid"] == d.proc.pid
        assert d.ctl("pid", ["cc1"])["pids"]["cc1"] == d.pids("cc1")
        assert d.ctl("version")["version"] == VERSION
        r = d.ctl("bogus")
        assert r == {"ok": False, "code": "usage", "error": "unknown command 'bogus'"}, r
        r = d.ctl("statu")
        assert r["error"] == "unknown command 'statu' (did you mean 'status'?)", r
        r = d.ctl("stop", ["nope"])
        assert r == {"ok": False, "code": "no-such-group", "error": "no such group 'nope'"}, r
        r = d.ctl("stop")
        assert r["code"] == "usage" and r["error"] == "stop needs group names or 'all'", r
        # stop: the socket stays; start brings it back.
        old = d.pids("cc1")
        assert d.ctl("stop", ["cc1"])["ok"]
        wait_for(lambda: d.group("cc1")["state"] == "STOPPED", what="cc1 STOPPED")
        assert os.path.exists(d.sock("cc1"))
        assert d.pids("cc2")
        assert d.ctl("start", ["cc1"])["ok"]
        d.wait_running("cc1")
        assert d.pids("cc1") != old
        # restart --now replaces at once; rolling restart too.
        old = d.pids("cc1")
        assert d.ctl("restart", ["cc1"], now=True)["ok"]
        wait_for(lambda: d.all_running("cc1") and d.pids("cc1") != old, what="restart --now")
        old2 = d.pids("cc2")
        assert d.ctl("restart", ["cc2"])["ok"]
        wait_for(lambda: d.all_running("cc2") and d.pids("cc2") != old2, what="rolling restart")
        # signal: TERM to a worker = it exits (kExiting shutdown) and is replaced.
        old = d.pids("cc1")
        assert d.ctl("signal", ["TERM", "cc1"])["ok"]
        wait_for(lambda: d.all_running("cc1") and d.pids("cc1") != old, what="replaced after TERM")
        d.wait_log("exited with status 0: shutdown (signal TERM)")
        # tail: captured worker output.
        r = d.ctl("tail", ["cc1"], lines=5)
        assert r["ok"] and isinstance(r["lines"], list), r
        assert d.ctl("check")["ok"] is True
        assert d.ctl("reopen")["ok"]
        r = d.ctl("shutdown")
        assert r["ok"]
        assert d.wait_exit(30) == 0


def test_control_socket_mode_and_peer(wsgid):
    with daemon(wsgid, {"cp1": "threads=1"}) as d:
        d.start()
        d.wait_running("cp1")
        st = os.stat(d.control)
        assert oct(st.st_mode & 0o777) == "0o600"
        if os.geteuid() == 0:
            # A client of another uid is refused by SO_PEERCRED even with access.
            os.chmod(d.control, 0o666)
            code = ("import socket,json;s=socket.socket(socket.AF_UNIX);s.connect(%r);"
                    "s.sendall(b'{\"command\":\"status\"}\\n');print(s.makefile().readline())"
                    % d.control)
            out = subprocess.run(["setpriv", "--reuid=33", "--regid=33", "--clear-groups",
                                  "/usr/bin/python3", "-c", code],
                                 capture_output=True, text=True, timeout=30)
            assert '"code": "permission"' in out.stdout or '"code":"permission"' in out.stdout, out


def test_script_touch_restarts_group(wsgid):
    with daemon(wsgid, {"st1": "threads=1", "st2": "threads=1"}) as d:
        d.start()
        d.wait_running("st1", "st2")
        a, b = d.pids("st1"), d.pids("st2")
        time.sleep(0.2)
        os.utime(d.script("st1"))
        wait_for(lambda: d.all_running("st1") and d.pids("st1") != a, what="st1 restarted")
        d.wait_log("script changed: %s" % d.script("st1"))
        assert d.pids("st2") == b


def test_systemd_notify(wsgid):
    ns = "/tmp/wsgid-notify-%d.sock" % os.getpid()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(ns)
    s.bind(ns)
    s.settimeout(30)
    try:
        with daemon(wsgid, {"sn1": "threads=1"}, env={"NOTIFY_SOCKET": ns}) as d:
            d.start()
            msgs = []

            def until(text):
                while not any(text in m for m in msgs):
                    msgs.append(s.recv(4096).decode())

            until("READY=1")
            d.wait_running("sn1")
            d.signal(signal.SIGHUP)
            until("RELOADING=1")
            n = len(msgs)
            while not any("READY=1" in m for m in msgs[n:]):
                msgs.append(s.recv(4096).decode())
            d.signal(signal.SIGTERM)
            until("STOPPING=1")
            assert d.wait_exit(30) == 0
            assert any(m.startswith("MAINPID=") for m in msgs), msgs
            assert any("STATUS=" in m for m in msgs), msgs
    finally:
        s.close()
        os.unlink(ns)


def test_daemonize_and_pidfile(wsgid):
    with daemon(wsgid, {"dz1": "threads=1"}) as d:
        pidfile = os.path.join(d.dir, "wsgid.pid")
        d.write_config({"dz1": "threads=1"}, "PidFile %s\nErrorLog %s/error.log" % (pidfile, d.dir))
        rc = subprocess.run([wsgid, "-d", "-f", d.conf], env=d.env, timeout=60).returncode
        assert rc == 0, rc
        pid = int(open(pidfile).read())
        assert pid_alive(pid)
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            title = f.read().rstrip(b"\0").decode()
        assert title == "wsgid: master -f %s" % d.conf, title
        wait_for(lambda: d.all_running("dz1"), what="dz1 up")
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not pid_alive(pid), 40, "daemon gone")
        assert not os.path.exists(pidfile)
        assert "wsgid stopped" in open(os.path.join(d.dir, "error.log")).read()


def test_invalid_config_at_start_exits_1(wsgid):
    with daemon(wsgid, {"ic1": "threads=1"}) as d:
        with open(d.conf, "a") as f:
            f.write("WSGIDaemonProcess ic2 thread=2\n")
        d.start(wait_ready=False)
        assert d.wait_exit(30) == 1
        assert "thread" in d.log()


def test_exec_failure_is_reported(wsgid):
    with daemon(wsgid, {"ef1": "threads=1"}, worker="/nonexistent/wsgid-worker") as d:
        d.start(wait_ready=False)
        assert d.wait_exit(30) == 1
        assert "wsgid-worker not found" in d.log()


def _titles():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    out[int(d)] = f.read().split(b"\0")[0].decode("utf-8", "replace")
            except OSError:
                pass
    return out


def test_pkill_usr1_by_title_real_worker(wsgid):
    """`pkill -USR1 -f 'wsgi:NAME\\)'` hits every process of one group at once,
    with requests in flight through the front end: every request gets 200, the
    group is replaced rolling, the other group keeps its pids."""
    fe = _need_frontend(wsgid, real_worker=True)
    # Names unique to this run: pkill must not reach another run's workers.
    g1, g2 = "pk%d_site1" % os.getpid(), "pk%d_site2" % os.getpid()
    groups = {g1: "processes=2 threads=4 display-name=%{GROUP}",
              g2: "threads=2 display-name=%{GROUP}"}
    with daemon(wsgid, groups, frontend=fe) as d:
        d.write_config(groups, "Listen 127.0.0.1:0")
        d.start()
        d.wait_running(g1, g2, timeout=60)
        d.wait_frontend()
        port = _port(d)
        old, other = d.pids(g1), d.pids(g2)
        titles = _titles()
        assert [titles.get(p) for p in old] == ["(wsgi:%s)" % g1] * 2, titles
        assert [titles.get(p) for p in other] == ["(wsgi:%s)" % g2], titles
        ps = _ps(old + other)
        assert [ps.get(p) for p in old + other] == ["(wsgi:%s)" % g1] * 2 + ["(wsgi:%s)" % g2], ps
        results = []

        def one(i):
            r = _try(lambda: http_get(port, "/%s/sleep/1.5?%d" % (g1, i), timeout=60))
            results.append(r[0] if isinstance(r, tuple) else r)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        wait_for(lambda: sum(len(p.get("current") or []) for p in d.group(g1)["processes"]) >= 6,
                 30, "6 requests in flight in %s" % g1)
        # The status shows them: per process, the current requests with their
        # age, method and URI, requests served, busy threads and RSS.
        procs = d.group(g1)["processes"]
        cur = [c for p in procs for c in p["current"]]
        assert all(c["method"] == "GET" and c["uri"].startswith("/%s/sleep/1.5?" % g1)
                   and c["age"] >= 0 for c in cur), cur
        assert len(cur) == 6 and sum(p["busy"] for p in procs) == 6, procs
        assert all(p["rss"] > 0 and p["threads"] == 4 and p["busy"] == len(p["current"])
                   for p in procs), procs
        load = HttpLoad(port, "/%s/during" % g1, clients=3, max_seconds=120)
        subprocess.run(["pkill", "-USR1", "-f", r"wsgi:%s\)" % g1], check=True)
        t0 = time.time()
        for t in threads:
            t.join(60)
        wait_for(lambda: d.all_running(g1, 2) and not set(d.pids(g1)) & set(old),
                 60, "%s replaced" % g1)
        replaced = time.time() - t0
        n = load.ok
        wait_for(lambda: load.ok >= n + 50, 60, "load served by the new processes")
        load.stop()
        print("   %s replaced after %.2f s; in flight: %s; load: %d ok, %d failed %s"
              % (g1, replaced, results, load.ok, len(load.failures), load.kinds()))
        assert results == [200] * 6, results
        assert load.failures == [], load.kinds()
        assert d.pids(g2) == other
        for p in old:
            d.wait_log(": pid %d asks to be replaced (signal USR1)" % p)
            assert not pid_alive(p)


def _ps(pids):
    """{pid: args} for these pids, as `ps` prints them."""
    out = subprocess.run(["ps", "-o", "pid=,args=", "-p", ",".join(str(p) for p in pids)],
                         capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) == 2:
            res[int(parts[0])] = parts[1]
    return res


def test_seed_four_modes(wsgid):
    """The seed article's four modes, each its own name (tests/data/config/good)."""
    src = os.path.join(HERE, "..", "..", "data", "config", "good", "four-modes.conf")
    counts = {"winnt": 1, "winnt1": 1, "worker": 2, "prefork": 5}
    with daemon(wsgid, {}) as d:
        text = open(src).read().replace("apps/hello.wsgi", d.script("hello"))
        with open(d.script("hello"), "w") as f:
            f.write("def application(environ, start_response):\n"
                    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                    "    return [b'hello']\n")
        os.chmod(d.script("hello"), 0o644)
        with open(d.conf, "a") as f:
            f.write(text)
        d.start()
        for g, n in counts.items():
            wait_for(lambda: d.all_running(g, n), 60, "%s with %d processes" % (g, n))
        for g, n in counts.items():
            assert len(d.pids(g)) == n, (g, d.pids(g))
        if not os.environ.get("WSGID_TEST_WORKER"):
            skip("process counts checked; the titles need the real worker")
        titles = _titles()
        for g, n in counts.items():
            assert [titles.get(p) for p in d.pids(g)] == ["(wsgi:%s)" % g] * n, titles
        # `ps` shows each worker by its display-name, as many as configured.
        ps = _ps(sum((d.pids(g) for g in counts), []))
        for g, n in counts.items():
            assert sum(1 for p in d.pids(g) if ps.get(p) == "(wsgi:%s)" % g) == n, (g, ps)


def test_seed_two_django_projects_in_default(wsgid):
    """Two unmodified `django-admin startproject` projects in one `default`
    daemon (the seed article), through the real front end and worker."""
    fe = _frontend_for(wsgid)
    if not fe or not os.environ.get("WSGID_TEST_WORKER") or not os.path.exists("/usr/bin/django-admin"):
        skip("needs wsgid-frontend, the real worker and python3-django")
    with daemon(wsgid, {}, frontend=fe) as d:
        for p in ("site1", "site2"):
            subprocess.run(["/usr/bin/django-admin", "startproject", p], cwd=d.dir, check=True)
        subprocess.run(["chmod", "-R", "a+rX", d.dir], check=True)
        with open(d.conf, "a") as f:
            f.write("Listen 127.0.0.1:0\n"
                    "WSGIDaemonProcess default processes=2 threads=2 display-name=%%{GROUP} "
                    "python-path=%(d)s/site1:%(d)s/site2\n"
                    "WSGIScriptAlias /site1 %(d)s/site1/site1/wsgi.py process-group=default\n"
                    "WSGIScriptAlias /site2 %(d)s/site2/site2/wsgi.py process-group=default\n"
                    % {"d": d.dir})
        d.start()
        d.wait_running("default", timeout=60)
        wait_for(lambda: (d.status()["frontend"] or {}).get("state") == "RUNNING", what="frontend up")
        port = _port(d)
        # Django's debug 404 page names the URLconf in use: each project runs with
        # its own settings in its own sub-interpreter of the one daemon group.
        for p in ("site1", "site2", "site1", "site2"):
            st, body = _http(port, "/%s/nothing-here" % p, timeout=60)
            assert st == 404 and (b"defined in <code>%s.urls</code>" % p.encode()) in body, (
                p, st, body[:300])
        titles = _titles()
        assert [titles.get(p) for p in d.pids("default")] == ["(wsgi:default)"] * 2, titles
        ps = _ps(d.pids("default"))
        assert sorted(ps.values()) == ["(wsgi:default)"] * 2, ps


def _frontend_for(wsgid):
    p = os.path.join(os.path.dirname(wsgid), "frontend", "wsgid-frontend")
    return p if os.access(p, os.X_OK) else None


def _http(port, path, timeout=30):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def _port(d):
    return int(d.status()["master"]["listen"][0].rsplit(":", 1)[1])


def test_frontend_serves_and_is_replaced_alone(wsgid):
    fe = _frontend_for(wsgid)
    if not fe:
        skip("no wsgid-frontend in the build")
    with daemon(wsgid, {"fs1": "processes=2 threads=2"}, frontend=fe) as d:
        d.write_config({"fs1": "processes=2 threads=2"}, "Listen 127.0.0.1:0")
        d.start()
        d.wait_running("fs1")
        wait_for(lambda: (d.status()["frontend"] or {}).get("state") == "RUNNING", what="frontend up")
        port = _port(d)
        st, body = _http(port, "/fs1/hello")
        assert st == 200 and body.endswith(b" /fs1/hello\n"), (st, body)
        workers = d.pids("fs1")
        fe_pid = d.status()["frontend"]["pid"]
        with open("/proc/%d/cmdline" % fe_pid, "rb") as f:
            assert f.read().startswith(b"wsgid: frontend")
        if os.geteuid() == 0:  # README.md: without User, the front end runs as www-data
            with open("/proc/%d/status" % fe_pid) as f:
                uids = [line.split()[1:] for line in f if line.startswith("Uid:")][0]
            assert all(int(u) == pwd.getpwnam("www-data").pw_uid for u in uids), uids
        os.kill(fe_pid, signal.SIGKILL)
        wait_for(lambda: (d.status()["frontend"] or {}).get("state") == "RUNNING"
                 and d.status()["frontend"]["pid"] != fe_pid, what="frontend replaced")
        wait_for(lambda: _try(lambda: _http(port, "/fs1/again"))[0] == 200, what="serving again")
        assert d.pids("fs1") == workers
        d.wait_log("frontend pid %d exited on signal 9" % fe_pid)


def test_frontend_503_for_a_stopped_group(wsgid):
    fe = _frontend_for(wsgid)
    if not fe:
        skip("no wsgid-frontend in the build")
    with daemon(wsgid, {"f5a": "threads=2", "f5b": "threads=2"}, frontend=fe) as d:
        d.write_config({"f5a": "threads=2", "f5b": "threads=2"}, "Listen 127.0.0.1:0")
        d.start()
        d.wait_running("f5a", "f5b")
        wait_for(lambda: (d.status()["frontend"] or {}).get("state") == "RUNNING", what="frontend up")
        port = _port(d)
        assert _http(port, "/f5a/x")[0] == 200
        assert d.ctl("stop", ["f5a"])["ok"]
        wait_for(lambda: d.group("f5a")["state"] == "STOPPED", what="f5a stopped")
        wait_for(lambda: _http(port, "/f5a/x", timeout=60)[0] == 503, what="503 for f5a")
        assert _http(port, "/f5b/x")[0] == 200
        assert d.ctl("start", ["f5a"])["ok"]
        wait_for(lambda: _http(port, "/f5a/x", timeout=60)[0] == 200, what="f5a back")


def test_frontend_term_with_request_in_flight(wsgid):
    fe = _frontend_for(wsgid)
    if not fe:
        skip("no wsgid-frontend in the build")
    with daemon(wsgid, {"ft1": "threads=2"}, frontend=fe) as d:
        d.write_config({"ft1": "threads=2"}, "Listen 127.0.0.1:0")
        d.start()
        d.wait_running("ft1")
        wait_for(lambda: (d.status()["frontend"] or {}).get("state") == "RUNNING", what="frontend up")
        port = _port(d)
        kids = d.child_pids()
        res = []
        t = threading.Thread(target=lambda: res.append(_try(lambda: _http(port, "/ft1/sleep/2"))))
        t.start()
        time.sleep(0.5)
        d.signal(signal.SIGTERM)
        assert d.wait_exit(60) == 0
        t.join(30)
        assert res and res[0][0] == 200, res
        for k in kids:
            assert not pid_alive(k), k


PG_APP = (
    "import json, os\n"
    "def application(environ, start_response):\n"
    "    start_response('200 OK', [('Content-Type', 'application/json')])\n"
    "    return [json.dumps({'group': environ['mod_wsgi.process_group'], 'pid': os.getpid(),\n"
    "                        'multithread': environ['wsgi.multithread'],\n"
    "                        'multiprocess': environ['wsgi.multiprocess']}).encode()]\n")


def test_seed_separate_groups_last_example_embedded(wsgid):
    """The seed article's last example (ASCII quotes; tests/data/config/bad/
    separate-groups-ascii.conf): the later <Location /project1> wins, so site2
    serves /project1, site1 runs and serves nothing, and /project2 (no
    Location) runs embedded in the front end."""
    import json
    fe = _frontend_for(wsgid)
    if not fe or not os.environ.get("WSGID_TEST_WORKER"):
        skip("needs wsgid-frontend and the real worker")
    src = os.path.join(HERE, "..", "..", "data", "config", "bad", "separate-groups-ascii.conf")
    with daemon(wsgid, {}, frontend=fe) as d:
        text = open(src).read()
        for p in ("project1", "project2"):
            path = os.path.join(d.dir, p + ".wsgi")
            with open(path, "w") as f:
                f.write(PG_APP)
            os.chmod(path, 0o644)
            text = text.replace("/home/website/%s.wsgi" % p, path)
        with open(d.conf, "a") as f:
            f.write("Listen 127.0.0.1:0\n" + text)
        d.start()
        d.wait_running("site1", "site2", timeout=60)
        wait_for(lambda: (d.status()["frontend"] or {}).get("state") == "RUNNING", what="frontend up")
        port = _port(d)
        fe_pid = d.status()["frontend"]["pid"]
        site1, site2 = d.pids("site1"), d.pids("site2")
        assert len(site1) == 1 and len(site2) == 1, (site1, site2)
        for _ in range(3):
            st, body = _http(port, "/project1/x", timeout=60)
            assert st == 200, (st, body[:300])
            r = json.loads(body)
            assert r["group"] == "site2" and r["pid"] == site2[0], r
            st, body = _http(port, "/project2/x", timeout=60)
            assert st == 200, (st, body[:300])
            r = json.loads(body)
            assert r["group"] == "" and r["pid"] == fe_pid, (r, fe_pid)
            assert r["multithread"] is True and r["multiprocess"] is False, r
        assert d.pids("site1") == site1 and pid_alive(site1[0])
        titles = _titles()
        assert titles.get(site1[0]) == "(wsgi:site1)", titles.get(site1[0])
        assert titles.get(site2[0]) == "(wsgi:site2)", titles.get(site2[0])
        ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
        for g, pid in (("site1", site1[0]), ("site2", site2[0])):
            assert any(line.split(None, 1) == [str(pid), "(wsgi:%s)" % g] for line in ps.splitlines()), ps
        # site1 serves nothing: its worker reports 0 requests served, once the
        # master's view of site2 shows its 3.
        wait_for(lambda: (d.group("site2")["processes"][0].get("requests") or 0) >= 3, 30,
                 "site2's served count in the status")
        g1 = d.group("site1")
        assert [p.get("requests") for p in g1["processes"]] == [0], g1


# --- through the front end, on the real worker ------------------------------

def _need_frontend(wsgid, real_worker=False):
    fe = _frontend_for(wsgid)
    if not fe:
        skip("no wsgid-frontend in the build")
    if real_worker and not os.environ.get("WSGID_TEST_WORKER"):
        skip("needs the real worker (runs in master_real_worker)")
    return fe


def _served_by(body):
    """The pid the test app (wsgidtest.daemon.APP) reports."""
    return int(body.split()[0])


def test_http_sigkill_worker_while_other_group_under_load(wsgid):
    """SIGKILL of one group's worker while another group is under HTTP load:
    zero failed requests there, the killed group serving again."""
    fe = _need_frontend(wsgid, real_worker=True)
    groups = {"hk_victim": "threads=2", "hk_busy": "processes=2 threads=4"}
    with daemon(wsgid, groups, frontend=fe) as d:
        d.write_config(groups, "Listen 127.0.0.1:0")
        d.start()
        d.wait_running(*groups, timeout=60)
        fe_pid = d.wait_frontend()
        port = _port(d)
        busy = d.pids("hk_busy")
        victim = d.pids("hk_victim")[0]
        st, body, _ = http_get(port, "/hk_victim/before")
        assert st == 200 and _served_by(body) == victim, (st, body)
        load = HttpLoad(port, "/hk_busy/load", clients=4, max_seconds=120)
        wait_for(lambda: load.ok >= 100, 60, "load under way")
        # A worker that served past kMinUptime (5 s, child.h) is respawned at
        # once; one that dies sooner is backed off (0.25 s first).
        wait_for(lambda: (d.group("hk_victim")["processes"][0]["uptime"] or 0) >= 5.5, 30,
                 "the victim up for 5.5 s")
        before = load.ok
        os.kill(victim, signal.SIGKILL)
        t0 = time.time()
        wait_for(lambda: d.pids("hk_victim") and victim not in d.pids("hk_victim")
                 and d.all_running("hk_victim", 1), 30, "hk_victim replaced")
        t_running = time.time() - t0

        def serving():
            r = _try(lambda: http_get(port, "/hk_victim/again", timeout=30))
            return isinstance(r, tuple) and r[0] == 200 and _served_by(r[1]) != victim

        wait_for(serving, 30, "hk_victim serving from a new pid", interval=0.01)
        t_serving = time.time() - t0
        wait_for(lambda: load.ok >= before + 200, 60, "more load after the kill")
        load.stop()
        print("   replacement RUNNING after %.3f s, serving HTTP after %.3f s; "
              "other group: %d requests, %d failed %s"
              % (t_running, t_serving, load.ok, len(load.failures), load.kinds()))
        assert load.failures == [], load.kinds()
        assert d.pids("hk_busy") == busy
        assert d.frontend_status()["pid"] == fe_pid
        d.wait_log("group hk_victim worker 0 pid %d exited on signal 9" % victim)


def test_http_frontend_sigkill_under_load_workers_keep_pids(wsgid):
    """The front end SIGKILLed and replaced while a group is under HTTP load:
    every worker keeps its pid; clients lose at most the request in flight on
    each connection the dead front end held, then reconnect and are served."""
    fe = _need_frontend(wsgid, real_worker=True)
    groups = {"hf_busy": "processes=2 threads=4", "hf_other": "threads=2"}
    clients = 4
    with daemon(wsgid, groups, frontend=fe) as d:
        d.write_config(groups, "Listen 127.0.0.1:0")
        d.start()
        d.wait_running(*groups, timeout=60)
        fe_pid = d.wait_frontend()
        port = _port(d)
        pids = {g: d.pids(g) for g in groups}
        load = HttpLoad(port, "/hf_busy/load", clients=clients, max_seconds=120)
        wait_for(lambda: load.ok >= 100, 60, "load under way")
        os.kill(fe_pid, signal.SIGKILL)
        t0 = time.time()
        new_fe = d.wait_frontend(not_pid=fe_pid)
        t_replaced = time.time() - t0
        after = load.ok
        wait_for(lambda: load.ok >= after + 200, 60, "load served by the new front end")
        t_serving = time.time() - t0
        st, _, _ = http_get(port, "/hf_other/x")
        load.stop()
        print("   front end %d -> %d RUNNING after %.3f s; load: %d ok, clients saw %d "
              "failures %s (all within %.3f s of the kill)"
              % (fe_pid, new_fe, t_replaced, load.ok, len(load.failures), load.kinds(),
                 max([t - t0 for t, _ in load.failures] or [0])))
        assert st == 200
        assert {g: d.pids(g) for g in groups} == pids
        # What clients see: a connection the dead front end held fails once
        # (reset / closed without a response); the listening sockets belong to
        # the master, so new connections wait in the backlog and are served.
        assert len(load.failures) <= clients, load.failures
        assert all(not k.startswith("HTTP ") for _, k in load.failures), load.kinds()
        d.wait_log("frontend pid %d exited on signal 9" % fe_pid)


def test_http_crash_at_import_backs_off_while_others_serve(wsgid):
    """A group whose app kills its process at import backs off (at most 12
    starts in 10 s) while another group serves HTTP without a failure; once
    FATAL, its requests get 503 at once."""
    fe = _need_frontend(wsgid, real_worker=True)
    groups = {"hb_crash": "threads=1", "hb_ok": "processes=2 threads=2"}
    with daemon(wsgid, groups, frontend=fe) as d:
        d.write_config(groups, "Listen 127.0.0.1:0")
        t_start = time.time()
        d.start()
        d.wait_running("hb_ok", timeout=60)
        d.wait_frontend()
        port = _port(d)
        ok_pids = d.pids("hb_ok")
        load = HttpLoad(port, "/hb_ok/load", clients=3,
                        max_seconds=max(1.0, 10.0 - (time.time() - t_start)))
        for t in load.threads:
            t.join(60)
        starts = d.log().count("group hb_crash worker 0: started pid")
        print("   %d starts of hb_crash in the first 10 s; hb_ok served %d, %d failed"
              % (starts, load.ok, len(load.failures)))
        assert 2 <= starts <= 12, starts
        assert load.ok > 0 and load.failures == [], load.kinds()
        assert d.pids("hb_ok") == ok_pids
        assert "exited with status 3" in d.log()
        wait_for(lambda: d.group("hb_crash")["state"] == "FATAL", 60, "hb_crash FATAL")
        t0 = time.time()
        st, _, _ = http_get(port, "/hb_crash/x", timeout=60)
        print("   FATAL group answered %d after %.3f s" % (st, time.time() - t0))
        assert st == 503, st
        assert http_get(port, "/hb_ok/x")[0] == 200


# --- reloads and logs ----------------------------------------------------------

def test_reload_changes_listen(wsgid):
    """A reload that changes Listen: the new port answers, the removed one is
    closed, and a client's kept-alive connection on an unchanged port carries
    its next request."""
    fe = _need_frontend(wsgid)
    groups = {"rli": "processes=2 threads=2"}
    pa, pb, pc = free_port(), free_port(), free_port()
    with daemon(wsgid, groups, frontend=fe) as d:
        d.write_config(groups, "Listen 127.0.0.1:%d\nListen 127.0.0.1:%d" % (pa, pb))
        d.start()
        d.wait_running("rli")
        fe1 = d.wait_frontend()
        workers = d.pids("rli")
        assert d.ports() == [pa, pb]
        kept = http.client.HTTPConnection("127.0.0.1", pa, timeout=30)
        assert http_get(pa, "/rli/a", conn=kept)[0] == 200
        assert http_get(pb, "/rli/b")[0] == 200
        d.write_config(groups, "Listen 127.0.0.1:%d\nListen 127.0.0.1:%d" % (pa, pc))
        r = d.ctl("reload")
        assert r["ok"], r
        d.wait_log("reload: closing listener 127.0.0.1:%d" % pb)
        fe2 = d.wait_frontend(not_pid=fe1)
        assert d.ports() == [pa, pc]
        # The kept connection (accepted by the old front end) still works.
        st, body, hdrs = http_get(pa, "/rli/kept", conn=kept)
        print("   kept-alive connection after the reload: %d, Connection: %s"
              % (st, hdrs.get("Connection", "keep-alive")))
        assert st == 200 and body.endswith(b" /rli/kept\n"), (st, body)
        kept.close()
        assert http_get(pc, "/rli/c")[0] == 200
        assert http_get(pa, "/rli/a2")[0] == 200

        def refused():
            try:
                socket.create_connection(("127.0.0.1", pb), timeout=5).close()
                return False
            except ConnectionRefusedError:
                return True
        wait_for(refused, 30, "port %d closed" % pb)
        assert d.pids("rli") == workers
        wait_for(lambda: not pid_alive(fe1), 30, "old front end gone")
        print("   front end %d -> %d" % (fe1, fe2))


def test_reload_changes_socket_prefix(wsgid):
    """A reload that moves WSGISocketPrefix: the group socket moves (rolling
    restart onto the new socket), HTTP requests keep being served throughout,
    and the old socket file is removed."""
    fe = _need_frontend(wsgid)
    groups = {"rsp": "processes=2 threads=2"}
    with daemon(wsgid, groups, frontend=fe) as d:
        d.write_config(groups, "Listen 127.0.0.1:0")
        d.start()
        d.wait_running("rsp")
        d.wait_frontend()
        port = _port(d)
        old_sock, old_pids = d.sock("rsp"), d.pids("rsp")
        assert os.path.exists(old_sock)
        load = HttpLoad(port, "/rsp/load", clients=4, max_seconds=120)
        wait_for(lambda: load.ok >= 50, 60, "load under way")
        sub = os.path.join(d.dir, "sockets")
        os.mkdir(sub)
        os.chmod(sub, 0o755)
        d.socket_prefix = os.path.join(sub, "moved")
        d.write_config(groups, "Listen 127.0.0.1:0")
        r = d.ctl("reload")
        assert r["ok"], r
        d.wait_log("reload: 0 added, 0 removed, 1 changed, 0 unchanged groups")
        new_sock = d.sock("rsp")
        wait_for(lambda: d.all_running("rsp", 2) and not set(d.pids("rsp")) & set(old_pids),
                 60, "rsp restarted on the new socket")
        wait_for(lambda: not os.path.exists(old_sock), 30, "old socket file removed")
        assert os.path.exists(new_sock)
        assert d.group("rsp")["socket"] == new_sock
        n = load.ok
        wait_for(lambda: load.ok >= n + 100, 60, "load served after the move")
        load.stop()
        print("   %d requests during the move, %d failed %s"
              % (load.ok, len(load.failures), load.kinds()))
        assert load.failures == [], load.kinds()
        assert d.group_request("rsp", "/direct")[0] == 200


def test_usr1_reopens_logs_after_rotation(wsgid):
    """logrotate's way: rename ErrorLog and the access log, create the new files
    (logrotate's `create`), USR1 to the master: new lines land in the new files,
    none is lost."""
    fe = _need_frontend(wsgid)
    groups = {"rot": "threads=2"}
    with daemon(wsgid, groups, frontend=fe) as d:
        err, acc = os.path.join(d.dir, "error.log"), os.path.join(d.dir, "access.log")
        d.write_config(groups, 'Listen 127.0.0.1:0\nErrorLog %s\n'
                               'LogFormat "%%h %%r %%>s" short\nCustomLog %s short' % (err, acc))
        if os.geteuid() == 0:  # the front end (www-data) opens its access log
            open(acc, "a").close()
            www = pwd.getpwnam("www-data")
            os.chown(acc, www.pw_uid, www.pw_gid)
        d.start()
        d.wait_running("rot")
        d.wait_frontend()
        port = _port(d)
        for i in range(5):
            assert http_get(port, "/rot/before-%d" % i)[0] == 200
        wait_for(lambda: open(acc).read().count("/rot/before-") == 5, 30, "5 access lines")
        os.rename(err, err + ".1")
        os.rename(acc, acc + ".1")
        open(acc, "a").close()
        if os.geteuid() == 0:
            os.chown(acc, www.pw_uid, www.pw_gid)
        d.signal(signal.SIGUSR1)
        wait_for(lambda: os.path.exists(err) and "reopened %s" % err in open(err).read(), 30,
                 "the master's line in the new error log")
        # The front end reopens on the master's word; requests racing the reopen
        # may still land in the old file: count them across both files.
        for i in range(7):
            assert http_get(port, "/rot/after-%d" % i)[0] == 200

        def count(path, what):
            return open(path).read().count(what) if os.path.exists(path) else 0

        wait_for(lambda: count(acc, "/rot/after-") + count(acc + ".1", "/rot/after-") == 7, 30,
                 "7 access lines")
        wait_for(lambda: count(acc, "/rot/after-6") == 1, 30, "the last request in the new file")
        assert count(acc + ".1", "/rot/before-") == 5 and count(acc, "/rot/before-") == 0
        assert "signal USR1 received" in open(err + ".1").read()
        assert "signal USR1 received" not in open(err).read()
        # Worker output and master lines after the reopen go to the new file too.
        assert d.ctl("restart", ["rot"])["ok"]
        wait_for(lambda: "wsgictl restart" in open(err).read(), 30, "restart logged in the new file")
        assert "wsgictl restart" not in open(err + ".1").read()


def test_reload_only_loglevel_and_errorlog(wsgid):
    """A reload that changes only LogLevel and ErrorLog restarts nothing; the
    master's lines go to the new file at the new level."""
    groups = {"rll": "threads=1"}
    with daemon(wsgid, groups) as d:
        e1, e2 = os.path.join(d.dir, "e1.log"), os.path.join(d.dir, "e2.log")
        d.write_config(groups, "ErrorLog %s" % e1)
        d.start()
        d.wait_running("rll")
        pids = d.pids("rll")
        d.write_config(groups, "ErrorLog %s\nLogLevel warn" % e2)
        r = d.ctl("reload")
        assert r["ok"], r
        assert "reloading %s (wsgictl reload)" % d.conf in open(e1).read()
        # At warn, a failed reload's errors are logged, its notice is not.
        with open(d.conf, "a") as f:
            f.write("WSGIDaemonProcess broken proceses=2\n")
        assert d.ctl("reload")["code"] == "failed"
        wait_for(lambda: os.path.exists(e2) and "keeping the running configuration" in open(e2).read(),
                 30, "the failed reload in e2.log")
        text2 = open(e2).read()
        assert "reloading %s" % d.conf not in text2, text2
        assert "keeping the running configuration" not in open(e1).read()
        # A worker spawned now gets the new level too (the running one keeps
        # its own): its notices ("ready: ...") are not logged at warn.
        assert d.ctl("restart", ["rll"])["ok"]
        wait_for(lambda: d.all_running("rll") and d.pids("rll") != pids, 30, "rll restarted at warn")
        at_warn = d.pids("rll")
        # Back to info in the same file: notices again, the master's and the
        # next worker's.
        d.write_config(groups, "ErrorLog %s\nLogLevel info" % e2)
        assert d.ctl("reload")["ok"]
        assert d.ctl("restart", ["rll"])["ok"]
        wait_for(lambda: "wsgictl restart" in open(e2).read(), 30, "notice at info in e2.log")
        assert "reload: 0 added, 0 removed, 0 changed, 1 unchanged groups" in open(e2).read()
        wait_for(lambda: d.all_running("rll") and d.pids("rll") != at_warn, 30, "rll restarted at info")
        at_info = d.pids("rll")
        if os.environ.get("WSGID_TEST_WORKER"):  # the fake worker does not log
            wait_for(lambda: "[worker rll %d] ready:" % at_info[0] in open(e2).read(), 30,
                     "the worker's notice at info")
            text2 = open(e2).read()
            assert "[worker rll %d] ready:" % at_warn[0] not in text2, text2
        assert d.group("rll")["generation"] == 1


def _follow(d, who, lines=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(d.control)
    s.sendall((json.dumps({"command": "tail", "args": [who], "follow": True, "lines": lines})
               + "\n").encode())
    return s, s.makefile("r")


def test_tail_follow_master(wsgid):
    """`tail master`: the master's own lines from a ring (logging to stderr) or
    the ErrorLog file; `tail -f master` streams new lines."""
    groups = {"tfm": "threads=1"}
    for with_file in (False, True):
        with daemon(wsgid, groups) as d:
            if with_file:
                d.write_config(groups, "ErrorLog %s/error.log" % d.dir)
            d.start()
            d.wait_running("tfm")
            r = d.ctl("tail", ["master"], lines=200)
            assert r["ok"], r
            assert any("wsgid %s starting" % VERSION in line for line in r["lines"]), r["lines"]
            assert len(d.ctl("tail", ["master"], lines=2)["lines"]) == 2
            s, f = _follow(d, "master", lines=3)
            first = json.loads(f.readline())
            assert first["ok"] and first["follow"] is True and len(first["lines"]) == 3, first
            assert d.ctl("restart", ["tfm"])["ok"]
            got = []
            deadline = time.time() + 30
            while time.time() < deadline and not any("wsgictl restart" in g for g in got):
                got.append(json.loads(f.readline())["line"])
            assert any("group tfm" in g and "wsgictl restart" in g for g in got), got
            assert all("[master %d]" % d.proc.pid in g for g in got), got
            s.close()
            # A follower that went away is dropped; the master keeps going.
            assert d.ctl("restart", ["tfm"])["ok"]
            d.wait_running("tfm")
            assert d.status()["ok"]


def test_script_reloading_per_scope(wsgid):
    """WSGIScriptReloading per scope: Off at server level with a <Location>
    turning it On for one alias; the other group ignores its touched script."""
    groups = {"sr_on": "threads=1", "sr_off": "threads=1"}
    with daemon(wsgid, groups) as d:
        d.write_config(groups, "WSGIScriptReloading Off\n"
                               "<Location /sr_on>\nWSGIScriptReloading On\n</Location>")
        d.start()
        d.wait_running(*groups)
        on, off = d.pids("sr_on"), d.pids("sr_off")
        time.sleep(0.2)
        # The Off script first: the watcher handles events in order, so once
        # the On group restarted, a restart of the Off group would have begun.
        os.utime(d.script("sr_off"))
        os.utime(d.script("sr_on"))
        wait_for(lambda: d.all_running("sr_on") and d.pids("sr_on") != on, 30, "sr_on restarted")
        d.wait_log("script changed: %s" % d.script("sr_on"))
        time.sleep(0.5)
        assert "script changed: %s" % d.script("sr_off") not in d.log()
        assert d.pids("sr_off") == off


def test_vhost_errorlog_gets_its_groups_output(wsgid):
    """mod_wsgi: a group declared inside a <VirtualHost> with an ErrorLog
    writes its workers' output there; other groups' output stays in the main
    log. USR1 reopens that file too."""
    if not os.environ.get("WSGID_TEST_WORKER"):
        skip("needs the real worker (its Python prints at import)")
    with daemon(wsgid, {}) as d:
        vlog = os.path.join(d.dir, "vhost-error.log")
        for name in ("vhg", "plain"):
            with open(d.script(name), "w") as f:
                f.write("import sys\nprint('%s-output-marker', file=sys.stderr, flush=True)\n"
                        "def application(e, sr):\n"
                        "    sr('200 OK', [('Content-Type', 'text/plain')])\n"
                        "    return [b'ok']\n" % name)
            os.chmod(d.script(name), 0o644)
        with open(d.conf, "a") as f:
            f.write("<VirtualHost *:80>\nServerName vh.example\nErrorLog %(v)s\n"
                    "WSGIDaemonProcess vhg threads=1\n"
                    "WSGIScriptAlias /vhg %(d)s/vhg.wsgi process-group=vhg\n"
                    "WSGIImportScript %(d)s/vhg.wsgi process-group=vhg application-group=%%{GLOBAL}\n"
                    "</VirtualHost>\n"
                    "WSGIDaemonProcess plain threads=1\n"
                    "WSGIScriptAlias /plain %(d)s/plain.wsgi process-group=plain\n"
                    "WSGIImportScript %(d)s/plain.wsgi process-group=plain application-group=%%{GLOBAL}\n"
                    % {"v": vlog, "d": d.dir})
        d.start()
        d.wait_running("vhg", "plain", timeout=60)

        def text(path):
            return open(path).read() if os.path.exists(path) else ""

        wait_for(lambda: "vhg-output-marker" in text(vlog), 30, "vhg's output in the vhost log")
        d.wait_log("plain-output-marker")
        assert "vhg-output-marker" not in d.log()
        assert "plain-output-marker" not in text(vlog)
        # Rotation: rename, USR1, a new worker's output lands in the new file.
        os.rename(vlog, vlog + ".1")
        d.signal(signal.SIGUSR1)
        wait_for(lambda: os.path.exists(vlog), 30, "the vhost log reopened")
        old = d.pids("vhg")
        assert d.ctl("restart", ["vhg"])["ok"]
        wait_for(lambda: d.all_running("vhg") and d.pids("vhg") != old, 60, "vhg restarted")
        wait_for(lambda: "vhg-output-marker" in text(vlog), 30, "output in the new vhost log")
        assert text(vlog + ".1").count("vhg-output-marker") == 1


def test_master_sigkill_leaves_no_orphans(wsgid):
    """A dead master leaves no orphans: every child sees its control channel
    close (and PR_SET_PDEATHSIG) and exits."""
    fe = _frontend_for(wsgid)
    groups = {"or1": "processes=2 threads=1", "or2": "threads=1"}
    with daemon(wsgid, groups, frontend=fe or "none") as d:
        d.write_config(groups, "Listen 127.0.0.1:0" if fe else "")
        d.start()
        d.wait_running(*groups)
        if fe:
            d.wait_frontend()
        kids = d.child_pids()
        assert len(kids) == (4 if fe else 3), kids
        d.proc.kill()
        d.proc.wait(30)
        t0 = time.time()
        for k in kids:
            wait_for(lambda: not pid_alive(k), 30, "child %d gone" % k)
        print("   %d children gone %.2f s after the master's SIGKILL" % (len(kids), time.time() - t0))


def test_reload_new_routes_through_frontend(wsgid):
    """A reload that adds a group and its alias: the running front end takes the
    new routes (same pid) and a client's kept-alive connection carries requests
    to the new group; removing it again gives 404."""
    fe = _need_frontend(wsgid)
    one = {"rf_a": "threads=2"}
    two = {"rf_a": "threads=2", "rf_b": "threads=2"}
    with daemon(wsgid, one, frontend=fe) as d:
        d.write_config(one, "Listen 127.0.0.1:0")
        d.start()
        d.wait_running("rf_a")
        fe_pid = d.wait_frontend()
        port = _port(d)
        kept = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        assert http_get(port, "/rf_a/1", conn=kept)[0] == 200
        sock = kept.sock
        assert http_get(port, "/rf_b/1", conn=kept)[0] == 404
        d.write_config(two, "Listen 127.0.0.1:0")
        assert d.ctl("reload")["ok"]
        d.wait_running("rf_b")
        wait_for(lambda: http_get(port, "/rf_b/2", conn=kept)[0] == 200, 30, "/rf_b routed")
        assert http_get(port, "/rf_a/2", conn=kept)[0] == 200
        assert kept.sock is sock, "the kept-alive connection was reopened"
        d.write_config(one, "Listen 127.0.0.1:0")
        assert d.ctl("reload")["ok"]
        wait_for(lambda: http_get(port, "/rf_b/3", conn=kept)[0] == 404, 30, "/rf_b gone")
        assert kept.sock is sock, "the kept-alive connection was reopened"
        kept.close()
        assert d.frontend_status()["pid"] == fe_pid


def test_exit_causes_logged_real_worker(wsgid):
    """Exit causes in the log: maximum-requests and request-timeout, each a
    rolling replacement asked for by the worker, with its cause."""
    if not os.environ.get("WSGID_TEST_WORKER"):
        skip("needs the real worker (its limits)")
    groups = {"ec_max": "threads=1 maximum-requests=2", "ec_rt": "threads=1 request-timeout=1"}
    with daemon(wsgid, groups) as d:
        d.start()
        d.wait_running(*groups, timeout=60)
        mx, rt = d.pids("ec_max")[0], d.pids("ec_rt")[0]
        for i in range(2):
            assert d.group_request("ec_max", "/m%d" % i)[0] == 200
        d.wait_log("group ec_max worker 0: pid %d asks to be replaced (maximum-requests)" % mx)
        d.wait_log("group ec_max worker 0 pid %d (retired) exited with status 0: drained" % mx)
        wait_for(lambda: d.all_running("ec_max") and d.pids("ec_max") != [mx], 30, "ec_max replaced")
        r = _try(lambda: d.group_request("ec_rt", "/sleep/5", timeout=60))
        # The worker asks to be replaced (rolling), logs the stuck request's
        # Python stack, and drains.
        d.wait_log("will replace pid %d once READY (request-timeout)" % rt)
        d.wait_log("[worker ec_rt %d] request 1: Python stack of the thread:" % rt)
        d.wait_log("group ec_rt worker 0 pid %d (retired) exited with status 0: drained" % rt)
        wait_for(lambda: d.all_running("ec_rt") and d.pids("ec_rt") != [rt], 30, "ec_rt replaced")
        print("   the timed-out request got: %r" % (r[0] if isinstance(r, tuple) else r,))
        assert d.group_request("ec_rt", "/fine")[0] == 200


TESTS = [v for k, v in sorted(globals().items()) if k.startswith("test_")]


def main():
    if len(sys.argv) < 2 and not os.environ.get("WSGID_BUILD_DIR"):
        print(__doc__)
        return 2
    wsgid = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                            os.path.join(os.environ["WSGID_BUILD_DIR"], "supervisor", "wsgid"))
    tests = TESTS
    if len(sys.argv) > 2:
        tests = [t for t in TESTS if t.__name__ in sys.argv[2:]]
    return run_unittest(tests, wsgid)


if __name__ == "__main__":
    sys.exit(main())
