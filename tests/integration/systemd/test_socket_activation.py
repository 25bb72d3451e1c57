"""Socket activation (issue 15 point 3) with Debian's `systemd-socket-activate`,
no booted systemd needed: it binds the sockets, waits for the first connection,
then execs `wsgid -f CONF` with LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES, as a
wsgid.socket unit does (test_booted.py drives the real units).

- a passed socket takes the place of its Listen: the connection that woke
  the daemon was queued before wsgid ran, and is served; another Listen is
  opened by wsgid; no child inherits LISTEN_* or WATCHDOG_*; two passed
  sockets go each to its own Listen, whatever the config's order;
- a reload that drops that Listen keeps the socket (a connection waits in
  its backlog), and the reload that brings the Listen back serves it;
- a passed socket no Listen asks for: wsgid refuses to start, naming it and
  the Listen line to add; `--check` says which Listen comes from systemd;
- WATCHDOG_USEC is answered with WATCHDOG=1 at half the interval.
About 10 s.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.http_get import http_get
from wsgidtest.procs import free_port
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

ACTIVATE = shutil.which('systemd-socket-activate') or '/usr/bin/systemd-socket-activate'

BODY = """Listen 127.0.0.1:{port}
WSGIDaemonProcess sa processes=1 threads=2
WSGIProcessGroup sa
WSGIScriptAlias / {{dir}}/app.wsgi
<Directory {{dir}}>
    Require all granted
</Directory>
"""

# "PID PATH INHERITED": INHERITED lists the systemd variables the worker's
# environment holds ("-": none; /proc/PID/environ cannot tell, since every
# process of wsgid rewrites that area for its title).
APP = """import os

def application(environ, start_response):
    leaked = [k for k in os.environ if k.startswith(('LISTEN_', 'WATCHDOG_', 'NOTIFY_'))]
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('%d %s %s' % (os.getpid(), environ.get('PATH_INFO'), ','.join(leaked) or '-')).encode()]
"""


class GetInThread:
    """A GET started now, answered whenever the daemon gets to it."""

    def __init__(self, port, path):
        self.result = None
        self.error = None
        self.t = threading.Thread(target=self._run, args=(port, path), daemon=True)
        self.t.start()

    def _run(self, port, path):
        try:
            self.result = http_get(port, path, timeout=30)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def wait(self, timeout=30):
        self.t.join(timeout)
        return self.result, self.error


class SocketActivationTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(ACTIVATE):
            self.fail('systemd-socket-activate not found (Debian package systemd): tools/dev installs it')
        self.port = free_port()
        self.d = Daemon(body=BODY.format(port=self.port), prefix='wsgid-sa-')
        self.d.write('app.wsgi', APP)

    def tearDown(self):
        self.d.cleanup(failed=test_failed(self))

    def port_of_head(self):
        return self.d.ports()[0]

    def read_conf(self):
        with open(self.d.conf) as f:
            return f.read()

    def activate(self, args, name='web', more_ports=()):
        """systemd-socket-activate -l 127.0.0.1:PORT [-l ...] --fdname=NAME wsgid
        ARGS: the daemon's Popen is this process (it execs wsgid in place)."""
        self.d.logf = open(self.d.log_path, 'ab')
        more = []
        for p in more_ports:
            more += ['-l', '127.0.0.1:%d' % p]
        cmd = [ACTIVATE, '-l', '127.0.0.1:%d' % self.port] + more + ['--fdname=' + name,
               '-E', 'WSGID_WORKER', '-E', 'WSGID_FRONTEND', self.d.wsgid] + list(args)
        self.d.proc = subprocess.Popen(cmd, env=self.d.env, stdin=subprocess.DEVNULL,
                                       stdout=self.d.logf, stderr=subprocess.STDOUT, cwd=self.d.dir)
        wait_for(lambda: 'Listening on 127.0.0.1:%d' % self.port in self.d.log(), 10,
                 'systemd-socket-activate listening')
        return self.d.proc

    def test_passed_socket_serves_the_connection_that_woke_it(self):
        self.activate(['-f', self.d.conf])
        # The first connection wakes the daemon: it waits in the backlog while
        # wsgid starts, and is answered.
        first = GetInThread(self.port, '/first')
        (status, body, _), err = first.wait(60)
        self.assertIsNone(err, self.d.log())
        self.assertEqual(status, 200)
        # sd_listen_fds(unset_environment=1): the worker sees none of the variables.
        self.assertTrue(body.endswith(b' /first -'), body)
        self.d.wait_frontend()
        self.d.wait_running('sa')
        self.d.note_children()
        log = self.d.log()
        self.assertIn('listening on 127.0.0.1:%d (from systemd: fd 3 (web))' % self.port, log)
        # The head's `Listen 127.0.0.1:0` is opened by wsgid, and serves too.
        other = [p for p in self.d.status()['master']['listen'] if p != '127.0.0.1:%d' % self.port]
        self.assertEqual(len(other), 1, self.d.status()['master']['listen'])
        self.assertEqual(self.d.status()['master']['listen_systemd'], ['127.0.0.1:%d' % self.port])
        self.assertIn('listening on %s\n' % other[0], log)
        self.assertEqual(http_get(int(other[0].rsplit(':', 1)[1]), '/o')[0], 200)

        # A reload that drops the Listen keeps the socket: a connection waits in
        # its backlog (not refused) ...
        conf = self.read_conf()
        self.d.write('wsgid.conf', conf.replace('Listen 127.0.0.1:%d\n' % self.port, ''))
        mark = self.d.log_mark()
        self.d.signal(signal.SIGHUP)
        self.d.wait_log('goes back to the sockets systemd passed', since=mark)
        self.d.wait_log('reload: 0 added', since=mark)
        wait_for(lambda: '127.0.0.1:%d' % self.port not in self.d.status()['master']['listen'], 20,
                 'the Listen gone')
        # A Listen change replaces the front end: the old one serves its
        # listeners until the new one is READY (a handover, decision 17), so the
        # socket is unserved only once the old one has drained.
        self.d.wait_log('(retired) exited', since=mark)
        waiting = GetInThread(self.port, '/waited')
        time.sleep(1.0)
        self.assertEqual((waiting.result, waiting.error), (None, None))
        # ... and the reload that brings it back takes the same socket and serves it.
        mark = self.d.log_mark()
        self.d.write('wsgid.conf', conf)
        self.d.signal(signal.SIGHUP)
        (status, body, _), err = waiting.wait(30)
        self.assertIsNone(err, self.d.log_since(mark))
        self.assertEqual(status, 200)
        self.assertTrue(body.endswith(b' /waited -'), body)
        self.assertIn('reload: listening on 127.0.0.1:%d' % self.port, self.d.log_since(mark))
        self.d.check_log_clean()

    def test_two_passed_sockets(self):
        # fds 3 and 4 from systemd, handed on to the front end as 4 and 5: each
        # Listen gets its own socket, in whatever order the config names them.
        second = free_port()
        self.d.write('wsgid.conf', self.read_conf().replace(
            'Listen 127.0.0.1:%d\n' % self.port,
            'Listen 127.0.0.1:%d\nListen 127.0.0.1:%d\n' % (second, self.port)))
        self.activate(['-f', self.d.conf], name='web:alt', more_ports=[second])
        status, body, _ = GetInThread(second, '/second').wait(60)[0] or (None, None, None)
        self.assertEqual(status, 200, self.d.log())
        self.assertTrue(body.endswith(b' /second -'), body)
        self.assertEqual(http_get(self.port, '/first')[0], 200)
        log = self.d.log()
        self.assertIn('listening on 127.0.0.1:%d (from systemd: fd 3 (web))' % self.port, log)
        self.assertIn('listening on 127.0.0.1:%d (from systemd: fd 4 (alt))' % second, log)
        self.d.wait_frontend()
        self.d.note_children()

    def test_unmatched_socket_refused(self):
        conf = self.read_conf()
        self.d.write('wsgid.conf', conf.replace('Listen 127.0.0.1:%d\n' % self.port, ''))
        proc = self.activate(['-f', self.d.conf], name='http')
        try:
            socket.create_connection(('127.0.0.1', self.port), timeout=5).close()
        except OSError:
            pass
        self.assertEqual(proc.wait(30), 1)
        self.assertIn("socket activation: systemd passed fd 3 (http) bound to 127.0.0.1:%d, and no "
                      "Listen directive of %s asks for it; add 'Listen 127.0.0.1:%d' there"
                      % (self.port, self.d.conf, self.port), self.d.log())

    def test_check_says_which_listen_comes_from_systemd(self):
        proc = self.activate(['--check', '-f', self.d.conf])
        try:
            socket.create_connection(('127.0.0.1', self.port), timeout=5).close()
        except OSError:
            pass  # reset: --check exits at once and closes the socket
        self.assertEqual(proc.wait(30), 0, self.d.log())
        log = self.d.log()
        self.assertIn('Listen 127.0.0.1:%d: from systemd, fd 3 (web)\n' % self.port, log)
        self.assertIn('Listen 127.0.0.1:0: opened by wsgid\n', log)
        # Without LISTEN_FDS --check says nothing of it.
        r = subprocess.run([self.d.wsgid, '--check', '-f', self.d.conf], env=self.d.env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn('opened by wsgid', r.stderr)

    def test_watchdog_answered_at_half_the_interval(self):
        ns = self.d.path('notify.sock')
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(ns)
        sock.settimeout(0.2)
        self.addCleanup(sock.close)
        self.d.env.update(NOTIFY_SOCKET=ns, WATCHDOG_USEC='600000')
        self.d.write('wsgid.conf', self.read_conf().replace(
            'Listen 127.0.0.1:%d\n' % self.port, ''))
        self.d.start()
        pings = []
        deadline = time.monotonic() + 2.2
        while time.monotonic() < deadline:
            try:
                msg = sock.recv(4096).decode()
            except socket.timeout:
                continue
            if 'WATCHDOG=1' in msg.split('\n'):
                pings.append(time.monotonic())
        # 600 ms: every 300 ms, so about 7 in 2.2 s; never as slow as the interval.
        self.assertGreaterEqual(len(pings), 5, pings)
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), 0.55, gaps)
        status, body, _ = http_get(self.port_of_head(), '/w')
        self.assertEqual(status, 200)
        self.assertTrue(body.endswith(b' /w -'), body)


if __name__ == '__main__':
    sys.exit(unittest.main(verbosity=2, exit=False).result.wasSuccessful() is False)
