#!/usr/bin/python3
"""Integration tests of the master daemon (issue #4), against the real wsgid.

usage: test_master.py [WSGID [TEST_NAME...]]   (default: $WSGID_BUILD_DIR/supervisor/wsgid)

Workers are fake_worker.py (the child contract without Python WSGI) unless
WSGID_TEST_WORKER names the real wsgid-worker. Exit 0 = all passed, 1 = a
failure (the failing test's log path and tail are printed), 77 = skipped.
"""
import contextlib
import os
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wsgidproto as P  # noqa: E402
from harness import Daemon, pid_alive, run_tests, wait_for  # noqa: E402


@contextlib.contextmanager
def daemon(wsgid, groups, **kw):
    d = Daemon(wsgid, groups, **kw)
    ok = False
    try:
        yield d
        d.check_log_clean()
        ok = True
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
                st, _ = self.d.request(self.group, self.uri, timeout=30)
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
            status, body = d.request(g, "/hello")
            assert status == 200 and body.endswith(b" /hello\n"), (status, body)
        # Status carries requests served (kState).
        wait_for(lambda: sum(p["requests"] or 0 for p in d.group("sk1")["processes"]) >= 1,
                 what="requests counted")
        log = d.log()
        assert "ready: 2 groups up" in log, log
        # Sockets are opened before any child starts: the first "started pid" line
        # comes after the master's startup line.
        assert log.index("wsgid 0.1.0 starting") < log.index("started pid")


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
        wait_for(lambda: d.request("kv1", "/again")[0] == 200, what="kv1 serving")
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
                results.append(d.request("ru1", "/sleep/1.5")[0])
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
        assert d.request("rl_new", "/n")[0] == 200
        assert d.request("rl_keep", "/k")[0] == 200
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
        assert d.request("rb1", "/x")[0] == 200


def test_crash_at_import_backs_off_then_fatal(wsgid):
    with daemon(wsgid, {"bo_crash": "threads=1", "bo_ok": "threads=2"}) as d:
        d.start()
        d.wait_running("bo_ok")
        t0 = time.time()
        time.sleep(10)
        starts = d.log().count("group bo_crash worker 0: started pid")
        assert 2 <= starts <= 12, starts
        assert d.request("bo_ok", "/fine")[0] == 200
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
        t = threading.Thread(target=lambda: res.append(d.request("tg1", "/sleep/2")))
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
            _try(lambda: d.request("qi2", "/sleep/30"))))
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
        assert d.ctl("version")["version"] == "0.1.0"
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
    if not os.environ.get("WSGID_TEST_WORKER"):
        print("   skipped: needs the real worker (WSGID_TEST_WORKER=.../wsgid-worker)")
        return
    groups = {"pk_site1": "processes=2 threads=4 display-name=%{GROUP}",
              "pk_site2": "threads=2 display-name=%{GROUP}"}
    with daemon(wsgid, groups) as d:
        d.start()
        d.wait_running("pk_site1", "pk_site2", timeout=60)
        old, other = d.pids("pk_site1"), d.pids("pk_site2")
        titles = _titles()
        assert [titles.get(p) for p in old] == ["(wsgi:pk_site1)"] * 2, titles
        assert [titles.get(p) for p in other] == ["(wsgi:pk_site2)"], titles
        results = []

        def one():
            results.append(_try(lambda: d.request("pk_site1", "/sleep/1.5")[0]))

        threads = [threading.Thread(target=one) for _ in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        subprocess.run(["pkill", "-USR1", "-f", r"wsgi:pk_site1\)"], check=True)
        load = Load(d, "pk_site1", "/during")
        for t in threads:
            t.join(60)
        wait_for(lambda: d.all_running("pk_site1", 2) and not set(d.pids("pk_site1")) & set(old),
                 60, "pk_site1 replaced")
        load.stop()
        assert results == [200] * 6, results
        assert load.failed == 0, load.errors[:5]
        assert d.pids("pk_site2") == other


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
        if os.environ.get("WSGID_TEST_WORKER"):
            titles = _titles()
            for g, n in counts.items():
                assert [titles.get(p) for p in d.pids(g)] == ["(wsgi:%s)" % g] * n, titles


def test_seed_two_django_projects_in_default(wsgid):
    """Two unmodified `django-admin startproject` projects in one `default`
    daemon (the seed article), through the real front end and worker."""
    fe = _frontend_for(wsgid)
    if not fe or not os.environ.get("WSGID_TEST_WORKER") or not os.path.exists("/usr/bin/django-admin"):
        print("   skipped: needs wsgid-frontend, the real worker and python3-django")
        return
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
        print("   skipped: no wsgid-frontend in the build")
        return
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
        if os.geteuid() == 0:  # DESIGN.md: without User, the front end runs as www-data
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
        print("   skipped: no wsgid-frontend in the build")
        return
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
        print("   skipped: no wsgid-frontend in the build")
        return
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
        print("   skipped: needs wsgid-frontend and the real worker")
        return
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
    return run_tests(tests, wsgid)


if __name__ == "__main__":
    sys.exit(main())
