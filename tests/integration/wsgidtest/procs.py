"""Processes and ports, read from /proc and the kernel: for tests that must stop
only what they started (by pid and start time) and look at titles."""

import os
import resource
import socket


def proc_stat(pid):
    """(state letter, ppid, start time in clock ticks) of a process, or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            rest = f.read().rsplit(')', 1)[1].split()
        return rest[0], int(rest[1]), int(rest[19])
    except (OSError, IndexError, ValueError):
        return None


def pid_alive(pid):
    """True while the process exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] != 'Z'


def title_of(pid):
    """argv[0] as ps shows it (the process title), or None."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().split(b'\0')[0].decode('utf-8', 'replace')
    except OSError:
        return None


def live_children(ppid):
    """{pid: start time} of the live (not zombie) children of ppid."""
    out = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[1] == ppid and st[0] != 'Z':
                out[int(d)] = st[2]
    return out


def free_port():
    """A loopback TCP port that was free a moment ago (for configs that need a
    fixed Listen port across a reload)."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raise_nofile(n):
    """Raises this process's soft RLIMIT_NOFILE to at least n (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        want = n if hard == resource.RLIM_INFINITY else min(n, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
