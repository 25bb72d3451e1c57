"""Resources run out, wsgid stays up (issue #17 point 4): each exhaustion is
created for real on the running daemon, and each case checks what a user
would want (README, "Faults"; docs/decisions.md):

- descriptors: the front end at its RLIMIT_NOFILE (lowered with prlimit on its
  pid) under a connection flood keeps serving the connections it has, does
  not spin, says once what happened, and recovers when connections close; a
  worker at its limit (an application leaking files) answers, never hangs.

Every case passes or fails; none is skipped. Suite 'faults' only (not under
the sanitizers: load and timing). Run by hand:
WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/faults/test_exhaustion.py -v
"""
import os
import socket
import subprocess
import time
import unittest

from test_faults import SystemCase, alias, http_get_raw, summary
from wsgidtest.load import Load, proof
from wsgidtest.wait import wait_for


def open_fds(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open('/proc/%d/stat' % pid) as f:
        rest = f.read().rsplit(')', 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf('SC_CLK_TCK')


def ids_of(pid):
    """(real uid, real gid) of a process."""
    uid = gid = None
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('Uid:'):
                uid = int(line.split()[1])
            elif line.startswith('Gid:'):
                gid = int(line.split()[1])
    return uid, gid


def set_nofile(pid, soft):
    """Sets the soft RLIMIT_NOFILE of pid (its hard limit stays) -> the previous
    soft limit. prlimit(1) runs as the process's own user: root without
    CAP_SYS_RESOURCE (a container) may not change another user's limits, the
    owner may always lower its soft limit and raise it back up to the hard one."""
    with open('/proc/%d/limits' % pid) as f:
        line = next(l for l in f if l.startswith('Max open files'))
    before_soft, hard = line.split()[3:5]
    uid, gid = ids_of(pid)
    subprocess.run(['prlimit', '--pid', str(pid), '--nofile=%d:%s' % (soft, hard)],
                   user=uid, group=gid, extra_groups=[], check=True)
    return int(before_soft)


class Descriptors(SystemCase):
    CONFIG = '\n'.join([
        'MaxKeepAliveRequests 0',
        'WSGIDaemonProcess fd_a processes=1 threads=4',
        'WSGIDaemonProcess fd_leak processes=1 threads=2',
        alias('/a', 'fd_a'), alias('/leak', 'fd_leak')])
    FLOOD = 300

    def test_frontend_at_its_descriptor_limit(self):
        s = self.system
        self.warm('/a/hello')
        fe = s.frontend_pid()
        port = s.port()
        keep = socket.create_connection(('127.0.0.1', port), timeout=10)
        self.addCleanup(keep.close)
        self.assertEqual(http_get_raw(keep, '/a/hello')[0], 200)
        # Room for the load's 4 connections and a few flood connections, no more.
        limit = open_fds(fe) + 12
        old = set_nofile(fe, limit)
        mark = s.log_mark()
        load = Load(s.url('/a/hello'), concurrency=4, duration=3.0, timeout=5.0).start()
        time.sleep(0.5)
        flood, refused = [], 0
        try:
            for _ in range(self.FLOOD):
                try:
                    flood.append(socket.create_connection(('127.0.0.1', port), timeout=5))
                except OSError:
                    refused += 1
            wait_for(lambda: open_fds(fe) >= limit - 1, 5, 'front end at its limit')
            kept = http_get_raw(keep, '/a/hello')[0]
            res = load.wait()
            # The load's connections closed: fill their places again.
            for _ in range(20):
                flood.append(socket.create_connection(('127.0.0.1', port), timeout=5))
            wait_for(lambda: open_fds(fe) >= limit - 1, 5, 'front end at its limit again')
            # With the load over, connections keep coming while it is at its
            # limit: each is closed at once, and the front end does not spin.
            c0 = cpu_seconds(fe)
            t0 = time.monotonic()
            turned_away = 0
            while time.monotonic() - t0 < 2.0:
                try:
                    c = socket.create_connection(('127.0.0.1', port), timeout=5)
                    try:
                        c.sendall(b'GET /a/hello HTTP/1.1\r\nHost: t\r\n\r\n')
                        c.settimeout(5)
                        if not c.recv(100):
                            turned_away += 1
                    finally:
                        c.close()
                except OSError:
                    turned_away += 1
                time.sleep(0.05)
            cpu = (cpu_seconds(fe) - c0) / (time.monotonic() - t0)
        finally:
            for c in flood:
                c.close()
        # Recovered: a new connection is served once descriptors are free.
        t = time.monotonic()
        wait_for(lambda: self.try_get(port) == 200, 10, 'a new connection served again')
        recovered_ms = (time.monotonic() - t) * 1000
        set_nofile(fe, old)
        log = s.log_since(mark)
        reports = [l for l in log.splitlines() if 'accept' in l and 'Too many open files' in l]
        saw = ('front end limited to %d descriptors, %d connections flooded (%d refused); '
               'meanwhile %d new connections closed unanswered, CPU %.0f%% of a core, the '
               'kept-alive connection answered %d, the load: %s; a new connection served %.0f ms '
               'after the flood closed; %d log line(s) about it'
               % (limit, self.FLOOD, refused, turned_away, cpu * 100, kept, summary(res),
                  recovered_ms, len(reports)))
        proof('front end out of descriptors: existing connections', res['requests'],
              res['failed'], res['max_gap_ms'], saw)
        self.assertEqual(kept, 200, saw)
        self.assertEqual(res['failed'], 0, saw)
        self.assertLess(cpu, 0.2, saw)
        self.assertGreater(turned_away, 10, saw)
        self.assertEqual(len(reports), 1, '%s\n%s' % (saw, '\n'.join(reports[:5])))
        self.assertIn('RLIMIT_NOFILE', reports[0])

    def try_get(self, port):
        try:
            c = socket.create_connection(('127.0.0.1', port), timeout=2)
            try:
                return http_get_raw(c, '/a/hello')[0]
            finally:
                c.close()
        except OSError:
            return None

    def test_worker_at_its_descriptor_limit(self):
        # An application leaking files: its own open() fails (500, as any
        # exception); the process then cannot accept the front end's new
        # connections: the waiting one is taken with its spare descriptor, and
        # the process asks to be replaced (docs/decisions.md). No request hangs.
        s = self.system
        self.warm('/leak/hello')
        pid = s.pids('fd_leak')[0]
        set_nofile(pid, open_fds(pid) + 16)
        mark = s.log_mark()
        t = time.monotonic()
        st, body = s.get('/leak/leak_fd?n=100', timeout=10)
        took = time.monotonic() - t
        # The front end closes idle worker connections after 2 s: every request
        # from now on needs the worker to accept a new one.
        time.sleep(2.5)
        res = Load(s.url('/leak/hello'), concurrency=6, duration=3.0, timeout=5.0).run()
        s.wait_running('fd_leak', n=1)
        after = s.pids('fd_leak')
        log = s.log_since(mark)
        reports = [l for l in log.splitlines() if 'accept4' in l and 'RLIMIT_NOFILE' in l]
        saw = ('the leaking request: %d after %.2f s; then %s; the process asked to be '
               'replaced: pid %d -> %s; %d log line(s) about it'
               % (st, took, summary(res), pid, after, len(reports)))
        proof('worker out of descriptors (an app leaking files)', res['requests'],
              res['failed'], res['max_gap_ms'], saw)
        self.assertEqual(st, 500, body)
        self.assertLess(took, 5.0)
        self.assertEqual(res['timeouts'], 0, saw)
        self.assertEqual(res['failed'], 0, saw)
        self.assertGreater(res['ok'], 0, saw)
        self.assertNotIn(pid, after, saw)
        self.assertEqual(len(reports), 1, '%s\n%s' % (saw, '\n'.join(reports[:5])))
        self.assertIn('Too many open files (RLIMIT_NOFILE', reports[0])
        self.assertEqual(s.get('/leak/hello')[0], 200)

if __name__ == '__main__':
    unittest.main(verbosity=2)
