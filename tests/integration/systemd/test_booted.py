"""wsgid.service and wsgid.socket under a real systemd (issue 17 point 3, issue 15
point 3): systemd boots as PID 1 in a container made by systemd-nspawn (Debian's
systemd-container) from the host's own /usr (--volatile=yes: a tmpfs root,
nothing of the host written), and the test drives the units through it with
`nsenter -t <container's PID 1> -a systemctl ...`.

The units are the build's (etc/wsgid.service as meson configured it, etc/
wsgid.socket as shipped), installed in the container's /etc/systemd/system; a
drop-in points ExecStartPre=/ExecStart= at the build's wsgid (bind-mounted
read-only at its own path) and the config, as an operator's drop-in would.
Steps, each asserted, in one boot:

  start    Type=notify: `systemctl start` returns once READY=1 came, and then
           both groups answer at once; StatusText and MainPID in `show`/`status`
  watchdog WatchdogSec= (2 s in the drop-in): pinged, never killed
  reload   HUP: RELOADING=1 then READY=1 (systemd 252's reload returns before
           READY=1, so StatusText is polled); the unchanged group keeps its
           pids, the changed one gets new ones; MainPID unchanged
  stop     KillMode=mixed: a slow request in flight finishes with 200, the
           master exits 0, systemd SIGKILLs nothing
  Restart= the master SIGKILLed: systemd kills the rest of the cgroup and starts
           a new master (NRestarts=1) that serves
  socket   wsgid.socket holds the port: the service takes the socket, and a
           client connecting all through `systemctl restart wsgid` gets only
           200s (queued in the backlog, not refused)

The container (wsgidtest/nspawn.py) has a cgroup of its own, removed on every
exit path, on TERM too (meson's timeout); a run that was SIGKILLed has its
cgroup, and the container in it, ended by the next run. Skipped (exit 77)
only when nspawn cannot run at all: not root, or no systemd-nspawn. About 15 s
(the boot takes 1-2 s).
"""

import http.client
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback

from wsgidtest.nspawn import NSPAWN, Container, cgroup_roots, sweep_stale_runs
from wsgidtest.paths import build_dir
from wsgidtest.procs import free_port
from wsgidtest.wait import wait_for

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
CONF = '/etc/wsgid/wsgid.conf'
APP_DIR = '/srv/wsgid-test'  # not under /tmp: the unit has PrivateTmp=yes

APP = """import os, time

def application(environ, start_response):
    path = environ.get('PATH_INFO', '')
    if path.startswith('/sleep/'):
        time.sleep(float(path.split('/')[2]))
    body = '%d %s %s' % (os.getpid(), environ.get('mod_wsgi.process_group'), path)
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', str(len(body)))])
    return [body.encode()]
"""

CONFIG = """Listen 127.0.0.1:{port}
LogLevel info
WSGIDaemonProcess a processes=2 threads=2 graceful-timeout=15
WSGIDaemonProcess b processes={b_processes} threads=2
WSGIScriptAlias /a {app}/app.wsgi process-group=a application-group=%{{GLOBAL}}
WSGIScriptAlias /b {app}/app.wsgi process-group=b application-group=%{{GLOBAL}}
<Directory {app}>
    Require all granted
</Directory>
"""

DROP_IN = """# The test's: the build's wsgid, the test's config. The unit's PrivateTmp=yes
# would hide a build under /tmp (CI's clean clone may be there): bound back in.
[Service]
BindReadOnlyPaths={build}
ExecStartPre=
ExecStartPre={build}/supervisor/wsgid --check -f {conf}
ExecStart=
ExecStart={build}/supervisor/wsgid -f {conf}
WatchdogSec=2
"""

SOCKET_DROP_IN = """[Socket]
ListenStream=
ListenStream=127.0.0.1:{port}
"""


def skip(reason):
    print('SKIP: ' + reason, flush=True)
    sys.exit(77)


def get(port, path, timeout=30.0):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        c.request('GET', path)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


class Client:
    """Three threads, each opening a new connection per request one after
    another, from start() to stop() (60 s at most): every request is recorded
    as (started, result); anything but a 200 is a failure."""

    def __init__(self, port, threads=3):
        self.port = port
        self.done = []  # (monotonic start, status or error text)
        self.lock = threading.Lock()
        self.running = True
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _run(self):
        deadline = time.monotonic() + 60
        while self.running and time.monotonic() < deadline:
            t = time.monotonic()
            try:
                result = get(self.port, '/a/c', timeout=20)[0]
            except Exception as e:  # noqa: BLE001 - counted, reported by the test
                result = repr(e)
            with self.lock:
                self.done.append((t, result))
            time.sleep(0.01)

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(30)
        return self.done


def group_pids(c, name):
    """The group's worker pids in the container, from `wsgictl status --json`."""
    import json
    r = c.run('%s/supervisor/ctl/wsgictl' % os.path.realpath(build_dir()), '-s',
              '/run/wsgid/control.sock', 'status', '--json')
    for g in json.loads(r.stdout)['groups']:
        if g['name'] == name:
            return sorted(p['pid'] for p in g['processes'] if p['pid'] and p['state'] == 'RUNNING')
    return []


def check(cond, what, c=None):
    if not cond:
        raise AssertionError(what + ('\n--- journal:\n' + c.journal()[-6000:] if c else ''))


def run(c, port):
    build = os.path.realpath(build_dir())
    t_all = time.monotonic()
    # Install: the units, a drop-in for the build's paths, the config and app.
    with open(os.path.join(build, 'etc', 'wsgid.service')) as f:
        c.write('/etc/systemd/system/wsgid.service', f.read())
    with open(os.path.join(SOURCE_DIR, 'etc', 'wsgid.socket')) as f:
        c.write('/etc/systemd/system/wsgid.socket', f.read())
    c.write('/etc/systemd/system/wsgid.service.d/test.conf', DROP_IN.format(build=build, conf=CONF))
    c.write('/etc/systemd/system/wsgid.socket.d/test.conf', SOCKET_DROP_IN.format(port=port))
    c.write(CONF, CONFIG.format(port=port, b_processes=1, app=APP_DIR))
    c.write(APP_DIR + '/app.wsgi', APP)
    c.run('systemctl', 'daemon-reload')
    r = c.run('systemd-analyze', 'verify', '--man=no', 'wsgid.service', 'wsgid.socket', check=False)
    check(r.returncode == 0, 'systemd-analyze verify in the container:\n' + r.stdout + r.stderr)

    # --- start: Type=notify, active only after READY=1 --------------------------
    t = time.monotonic()
    c.run('systemctl', 'start', 'wsgid.service', timeout=90)
    print('start: %.2f s' % (time.monotonic() - t), flush=True)
    s = c.show('wsgid.service', 'ActiveState', 'SubState', 'MainPID', 'StatusText', 'NRestarts',
               'WatchdogUSec', 'Type', 'NotifyAccess')
    check(s['ActiveState'] == 'active' and s['SubState'] == 'running', repr(s), c)
    check(s['StatusText'] == '2 groups up', 'StatusText after start: %r' % s, c)
    main1 = int(s['MainPID'])
    check(main1 > 0, repr(s), c)
    # READY=1 came after every worker and the front end were up: both groups
    # answer at once, with no wait.
    for g in ('a', 'b'):
        status, body = get(port, '/%s/now' % g, timeout=5)
        check(status == 200 and body.split()[1:] == [g, '/now'], '%s: %r %r' % (g, status, body), c)
    st = c.run('systemctl', 'status', '--no-pager', 'wsgid.service', check=False).stdout
    check('Status: "2 groups up"' in st and 'Main PID: %d' % main1 in st, st, c)
    j = c.journal()
    check('(from systemd' not in j, 'no socket unit yet, yet a passed socket', c)
    # The order of lines in the journal cannot show that "Started" waited for
    # READY=1: the master's stdout and systemd's own messages reach journald by
    # two streams, either first. What shows it is above: `systemctl start`
    # returned (it waits for READY=1 with Type=notify) with the master's STATUS=
    # already set and both groups answering at once.
    check('ready: 2 groups up' in j, 'no ready line in the journal', c)

    # --- watchdog: WatchdogSec=2 in the drop-in; pinged, never killed ------------
    check(s['WatchdogUSec'] == '2s', repr(s), c)
    w0 = int(c.show('wsgid.service', 'WatchdogTimestampMonotonic')['WatchdogTimestampMonotonic'])

    # --- reload: unchanged group a keeps its pids, b (processes 1 -> 2) is new --
    a_before, b_before = group_pids(c, 'a'), group_pids(c, 'b')
    check(len(a_before) == 2 and len(b_before) == 1, '%r %r' % (a_before, b_before), c)
    c.write(CONF, CONFIG.format(port=port, b_processes=2, app=APP_DIR))
    t = time.monotonic()
    c.run('systemctl', 'reload', 'wsgid.service', timeout=60)
    # systemd 252: reload returns once `kill -HUP` has; READY=1 comes later.
    texts = []

    def reloaded():
        st = c.show('wsgid.service', 'StatusText', 'ActiveState', 'SubState')
        if not texts or texts[-1] != st['StatusText']:
            texts.append(st['StatusText'])
        return (st['StatusText'] == '2 groups up' and st['SubState'] == 'running'
                and len(group_pids(c, 'b')) == 2 and group_pids(c, 'b'))

    wait_for(reloaded, 30, 'the reload applied', interval=0.02)
    print('reload: %.2f s, StatusText seen: %r' % (time.monotonic() - t, texts), flush=True)
    check(group_pids(c, 'a') == a_before, 'group a changed pids on reload: %r -> %r'
          % (a_before, group_pids(c, 'a')), c)
    b_after = group_pids(c, 'b')
    check(not set(b_after) & set(b_before), 'group b kept %r: %r' % (b_before, b_after), c)
    s = c.show('wsgid.service', 'MainPID', 'NRestarts')
    check(int(s['MainPID']) == main1 and s['NRestarts'] == '0', repr(s), c)
    j = c.journal()
    check('reloading %s (SIGHUP)' % CONF in j and 'ready: 2 groups up' in j.split('reloading')[-1],
          'the master logged no reload then ready', c)

    # The watchdog was pinged all along (a missed one would have restarted it).
    wait_for(lambda: int(c.show('wsgid.service', 'WatchdogTimestampMonotonic')
                         ['WatchdogTimestampMonotonic']) > w0, 5, 'a WATCHDOG=1 (every 1 s)')
    check(c.show('wsgid.service', 'NRestarts')['NRestarts'] == '0', 'the watchdog fired', c)

    # --- stop: KillMode=mixed, the drain completes, nothing SIGKILLed -----------
    slow = {}

    def slow_request():
        try:
            slow['r'] = get(port, '/a/sleep/3', timeout=30)
        except Exception as e:  # noqa: BLE001
            slow['e'] = repr(e)

    th = threading.Thread(target=slow_request, daemon=True)
    th.start()
    time.sleep(0.8)  # in the app by now
    t = time.monotonic()
    c.run('systemctl', 'stop', 'wsgid.service', timeout=90)
    stop_s = time.monotonic() - t
    th.join(30)
    print('stop: %.2f s with a 3 s request in flight' % stop_s, flush=True)
    check(slow.get('r', (None,))[0] == 200 and slow['r'][1].endswith('/sleep/3'),
          'the slow request: %r' % slow, c)
    check(stop_s > 1.5, 'stop took %.2f s: it did not wait for the request' % stop_s, c)
    s = c.show('wsgid.service', 'ActiveState', 'Result', 'ExecMainCode', 'ExecMainStatus')
    check(s['ActiveState'] == 'inactive' and s['Result'] == 'success'
          and s['ExecMainStatus'] == '0', 'after stop: %r' % s, c)
    j = c.journal()
    check('with signal SIGKILL' not in j and 'killing every child' not in j,
          'something was SIGKILLed at stop', c)

    # --- Restart=on-failure: the master SIGKILLed comes back -------------------
    c.run('systemctl', 'start', 'wsgid.service', timeout=90)
    main2 = int(c.show('wsgid.service', 'MainPID')['MainPID'])
    c.run('kill', '-KILL', str(main2))
    t = time.monotonic()

    def restarted():
        s = c.show('wsgid.service', 'ActiveState', 'SubState', 'MainPID', 'NRestarts',
                   'StatusText')
        return (s['NRestarts'] == '1' and s['SubState'] == 'running' and s['MainPID'] != '0'
                and int(s['MainPID']) != main2 and s['StatusText'] == '2 groups up' and s)

    s = wait_for(restarted, 30, 'the master restarted by Restart=', interval=0.1)
    print('restart after SIGKILL: %.2f s (RestartSec=2)' % (time.monotonic() - t), flush=True)
    status, body = get(port, '/b/back', timeout=10)
    check(status == 200, 'after Restart=: %r %r' % (status, body), c)

    # --- wsgid.socket: the socket outlives the service -------------------------
    c.run('systemctl', 'stop', 'wsgid.service', timeout=90)
    c.run('systemctl', 'start', 'wsgid.socket')
    check(c.show('wsgid.service', 'ActiveState')['ActiveState'] == 'inactive', 'service up early', c)
    # A connection starts the service (Accept=no: the socket's trigger), and is
    # answered by it.
    t = time.monotonic()
    status, body = get(port, '/a/woke', timeout=60)
    print('socket-activated start, first answer: %.2f s' % (time.monotonic() - t), flush=True)
    check(status == 200, 'through the socket unit: %r %r' % (status, body), c)
    # (The front end may answer before the last worker is up and READY=1 comes.)
    wait_for(lambda: c.show('wsgid.service', 'ActiveState')['ActiveState'] == 'active', 30,
             'wsgid.service active after the socket woke it')
    j = c.journal()
    check('listening on 127.0.0.1:%d (from systemd: fd 3 (http))' % port in j,
          'the master did not take the passed socket', c)
    # A full restart of the daemon: a client connecting all the while gets no
    # refusal and no error.
    client = Client(port).start()
    time.sleep(0.5)
    t = time.monotonic()
    c.run('systemctl', 'restart', 'wsgid.service', timeout=90)
    t_end = time.monotonic()
    wait_for(lambda: c.show('wsgid.service', 'StatusText')['StatusText'] == '2 groups up', 30,
             'the restarted service ready')
    time.sleep(0.5)
    done = client.stop()
    failed = [r for _, r in done if r != 200]
    during = [r for s, r in done if t <= s <= t_end]
    print('systemctl restart with wsgid.socket: %.2f s; client: %d requests, %d of them '
          'connected during the restart, %d failed %r'
          % (t_end - t, len(done), len(during), len(failed), failed[:5]), flush=True)
    check(not failed, 'requests across the restart: %d, failed %r' % (len(done), failed), c)
    check(during, 'no request connected during the restart', c)
    s = c.show('wsgid.service', 'MainPID', 'NRestarts')
    check(s['MainPID'] not in ('0', str(main2)), repr(s), c)
    print('all steps: %.1f s' % (time.monotonic() - t_all), flush=True)


def main():
    if os.geteuid() != 0:
        skip('not root: systemd-nspawn needs root')
    if not os.path.exists(NSPAWN):
        skip('systemd-nspawn not installed (Debian package systemd-container; tools/dev installs it)')
    if not cgroup_roots():
        skip('no cgroup hierarchy under /sys/fs/cgroup')
    # meson's timeout sends TERM: leave through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sweep_stale_runs()
    tmp = tempfile.mkdtemp(prefix='wsgid-booted-')
    c = Container(tmp, binds=[build_dir(), SOURCE_DIR])
    port = free_port()
    t0 = time.monotonic()
    failed = False
    try:
        c.start()
        run(c, port)
    except BaseException:
        failed = True
        traceback.print_exc()
        if c.pid1:
            print('--- journal of wsgid.service ---\n' + c.journal()[-8000:])
            print('--- journal of wsgid.socket ---\n' + c.journal('wsgid.socket')[-2000:])
        if os.path.exists(c.log_path):
            print('--- nspawn ---\n' + c.nspawn_log()[-3000:])
    finally:
        c.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print('%s in %.1f s' % ('FAILED' if failed else 'passed', time.monotonic() - t0))
    print('1 passed, 0 failed' if not failed else '0 passed, 1 failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
