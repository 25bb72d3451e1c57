"""Container: systemd booted as PID 1 by systemd-nspawn from the host's own
/usr (--volatile=yes: a tmpfs root, nothing of the host written), for the
booted-systemd suite (tests/integration/systemd/test_booted.py).

    c = Container(tmpdir, binds=[build_dir])   # read-only, at their own paths
    c.start()                                  # waits: is-system-running
    c.run('systemctl', 'start', 'x.service')   # nsenter -t PID1 -a ...
    c.write('/etc/x.conf', text)               # through /proc/PID1/root
    c.show('x.service', 'MainPID')             # systemctl show, as a dict
    c.stop()                                   # every exit path; idempotent

`--register=no --keep-unit` let nspawn run where the host has no systemd as
PID 1; the container shares the host's network namespace (tests talk to its
services on 127.0.0.1). Each Container has its own cgroup
(/sys/fs/cgroup/.../wsgid-booted-PID, in the v2 hierarchy or the hybrid
layout's name=systemd and unified ones), made before nspawn starts: stop()
kills the container's PID 1 by pid (which ends every process of its PID
namespace), then anything left in the cgroup, then removes it. A test process
that was SIGKILLed cannot do that: sweep_stale_runs() at the next start ends
what such a run left.
"""

import os
import shutil
import signal
import subprocess
import time

from .procs import live_children, proc_stat
from .wait import wait_for

NSPAWN = shutil.which('systemd-nspawn') or '/usr/bin/systemd-nspawn'


def cgroup_roots():
    """The hierarchies a run's cgroup is made in: cgroup v2 alone, or the
    hybrid layout's name=systemd and unified ones (this kind of machine)."""
    if os.path.exists('/sys/fs/cgroup/cgroup.controllers'):
        return ['/sys/fs/cgroup']
    return [r for r in ('/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified') if os.path.isdir(r)]


def kill_cgroup_tree(cg):
    """SIGKILLs every process in the cgroup cg and below, then removes the
    directories, deepest first. Only called on a cgroup of this test's."""
    for _ in range(50):
        left = []
        for d, _, _ in os.walk(cg):
            try:
                with open(os.path.join(d, 'cgroup.procs')) as f:
                    left += [int(p) for p in f.read().split()]
            except OSError:
                pass
        if not left:
            break
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    for d, _, _ in sorted(os.walk(cg), key=lambda w: -w[0].count('/')):
        try:
            os.rmdir(d)
        except OSError as e:
            print('could not remove cgroup %s: %s' % (d, e))


def sweep_stale_runs():
    """A run that was SIGKILLed left its container's systemd running in its
    cgroup (nothing runs on that path): the next run ends it. A cgroup is
    stale when the test process its name carries is gone."""
    for root in cgroup_roots():
        for name in os.listdir(root):
            if not name.startswith('wsgid-booted-'):
                continue
            try:
                pid = int(name[len('wsgid-booted-'):])
            except ValueError:
                continue
            if pid != os.getpid() and not os.path.exists('/proc/%d' % pid):
                print('removing the cgroup of an earlier run that was killed: %s/%s' % (root, name))
                kill_cgroup_tree(os.path.join(root, name))


class Container:
    """One booted systemd; stop() is safe on every path and idempotent."""

    def __init__(self, tmp, binds=()):
        self.tmp = tmp
        self.binds = list(binds)
        self.log_path = os.path.join(tmp, 'nspawn.log')
        self.cgroups = [os.path.join(r, 'wsgid-booted-%d' % os.getpid()) for r in cgroup_roots()]
        self.proc = None
        self.pid1 = None
        self.pid1_start = None

    def start(self):
        for cg in self.cgroups:
            os.mkdir(cg)
        procs_files = [os.path.join(cg, 'cgroup.procs') for cg in self.cgroups]

        def into_cgroup():  # in the child, before exec: only writes
            for p in procs_files:
                with open(p, 'w') as f:
                    f.write('0')

        cmd = [NSPAWN, '--boot', '--register=no', '--keep-unit', '--volatile=yes', '-D', '/',
               '--console=passive', '--machine=wsgid-booted']
        cmd += ['--bind-ro=%s' % os.path.realpath(b) for b in self.binds]
        cmd += ['systemd.firstboot=off', 'systemd.unit=basic.target']
        self.logf = open(self.log_path, 'wb')
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, preexec_fn=into_cgroup)

        def pid1():
            if self.proc.poll() is not None:
                raise AssertionError('systemd-nspawn exited with %s:\n%s'
                                     % (self.proc.returncode, self.nspawn_log()))
            for pid in live_children(self.proc.pid):
                st = proc_stat(pid)
                with open('/proc/%d/comm' % pid) as f:
                    if f.read().strip() == 'systemd' and st:
                        return pid, st[2]
            return None

        self.pid1, self.pid1_start = wait_for(pid1, 30, "the container's PID 1")

        def booted():
            r = self.run('systemctl', 'is-system-running', check=False)
            if r.stdout.strip() in ('running', 'degraded'):
                return r.stdout.strip()
            if self.proc.poll() is not None:
                raise AssertionError('systemd-nspawn exited:\n' + self.nspawn_log())
            return None

        state = wait_for(booted, 60, 'the container booted', interval=0.2)
        print('booted in %.1f s (%s), PID 1 is %d' % (time.monotonic() - t0, state, self.pid1),
              flush=True)

    def nspawn_log(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def run(self, *cmd, check=True, timeout=60):
        r = subprocess.run(['nsenter', '-t', str(self.pid1), '-a'] + list(cmd),
                           capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise AssertionError('%s: exit %d\n%s%s' % (' '.join(cmd), r.returncode, r.stdout,
                                                         r.stderr))
        return r

    def write(self, path, text):
        """A file in the container's tmpfs root, through /proc/PID1/root."""
        full = '/proc/%d/root%s' % (self.pid1, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as f:
            f.write(text)

    def show(self, unit, *props):
        r = self.run('systemctl', 'show', unit, '-p', ','.join(props))
        return dict(line.split('=', 1) for line in r.stdout.splitlines() if '=' in line)

    def journal(self, unit='wsgid.service'):
        return self.run('journalctl', '--no-pager', '-o', 'short-monotonic', '-u', unit,
                        check=False).stdout

    def stop(self):
        if self.pid1:
            st = proc_stat(self.pid1)
            if st and st[2] == self.pid1_start and st[0] != 'Z':
                # PID 1 of a PID namespace: its death ends every process in it.
                os.kill(self.pid1, signal.SIGKILL)
            self.pid1 = None
        if self.proc:
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None
            self.logf.close()
        # Anything left in this run's cgroup is ours: kill it, then remove the
        # cgroup tree, deepest first.
        for cg in self.cgroups:
            if os.path.isdir(cg):
                kill_cgroup_tree(cg)
