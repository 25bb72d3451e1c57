"""Fault injection (#7), memory limits: a request allocating 2 GiB past
memory-limit / virtual-memory-limit while a load runs on its group; and what
large bodies leave behind in a worker. Split from test_faults.py because
AddressSanitizer reserves terabytes of address space, so rlimits cannot be
tested under it, and replaces malloc, whose arenas the last case is about:
tests/integration/faults/meson.build registers this file only in builds without
it (no case is ever skipped).

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/faults/test_memory_limits.py -v
"""
import os
import threading
import time
import unittest

from test_faults import LOAD_S, SystemCase, alias, summary
from wsgidtest.load import Load, proof
from wsgidtest.wait import wait_for


class MemoryHog(SystemCase):
    CONFIG = '\n'.join([
        'WSGIDaemonProcess fl_hog processes=2 threads=2 memory-limit=268435456',
        'WSGIDaemonProcess fl_vhog processes=2 threads=2 virtual-memory-limit=1073741824',
        alias('/hog', 'fl_hog'), alias('/vhog', 'fl_vhog')])

    def _memory_hog(self, group, url, limit_name, case=None):
        s = self.system
        self.warm(url + '/hello')
        old = s.pids(group)
        mark = s.log_mark()
        load = Load(s.url(url + '/hello'), concurrency=2, duration=LOAD_S).start()
        time.sleep(0.3)
        st, body = s.get(url + '/hog?mb=2048', timeout=60)
        res = load.wait()
        # The traceback reaches the log line by line through the master: wait
        # for its last line rather than read it half written.
        try:
            wait_for(lambda: 'MemoryError' in s.log_since(mark), 5, 'MemoryError in the log')
        except AssertionError:
            pass  # reported by the assertion below, with the log
        log = s.log_since(mark)
        after = [s.get(url + '/hello')[0] for _ in range(10)]
        replaced = False
        try:
            wait_for(lambda: s.all_running(group, 2) and set(s.pids(group)) != set(old), 3,
                     'the worker that hit %s replaced' % limit_name)
            replaced = True
        except AssertionError:
            pass
        saw = ('the hog (2 GiB past %s): %d; MemoryError logged: %s; the group\'s other '
               'requests: %s; 10 requests after it: %s; worker replaced: %s'
               % (limit_name, st, 'MemoryError' in log, summary(res), sorted(set(after)),
                  replaced))
        proof(case or 'memory hog (%s)' % limit_name, res['requests'], res['failed'],
              res['max_gap_ms'], saw)
        # The allocation fails (RLIMIT_DATA / RLIMIT_AS): the app raises
        # MemoryError and the client gets a 500, as under mod_wsgi.
        self.assertEqual(st, 500, body[:200])
        self.assertIn('MemoryError', log)
        # The whole traceback, though the failing frame held the memory up to
        # the limit (the runtime frees those frames' locals before formatting).
        self.assertIn('Traceback (most recent call last)', log)
        self.assertNotIn('could not be formatted', log)
        self.assertEqual(res['failed'], 0, summary(res))
        self.assertEqual(after, [200] * 10)
        return replaced

    def test_memory_hog_memory_limit(self):
        self._memory_hog('fl_hog', '/hog', 'memory-limit')

    def test_memory_hog_virtual_memory_limit(self):
        self._memory_hog('fl_vhog', '/vhog', 'virtual-memory-limit')

    # A worker whose allocation failed under memory-limit keeps serving with
    # its pid (MemoryError -> 500, then the next requests succeed), as under
    # mod_wsgi, whose memory-limit is an rlimit too (docs/decisions.md).


def private_kib(pid):
    """Private_Clean + Private_Dirty of the process, KiB (smaps_rollup)."""
    total = 0
    with open('/proc/%d/smaps_rollup' % pid) as f:
        for line in f:
            if line.startswith(('Private_Clean:', 'Private_Dirty:')):
                total += int(line.split()[1])
    return total


class BodiesMemory(SystemCase):
    CONFIG = '\n'.join([
        'WSGIDaemonProcess fl_bodies processes=1 threads=4',
        alias('/bodies', 'fl_bodies')])

    def test_large_bodies_on_every_thread_leave_little_behind(self):
        # Each request thread reads 1 MiB bodies whole (wsgi.input.read()):
        # with one malloc arena per thread, as glibc gives by default, every
        # arena kept a few bodies' worth (8.9 MiB more private memory after
        # this load); the worker runs with one arena (1.9-3.4 MiB more;
        # docs/decisions.md 49).
        s = self.system
        self.warm('/bodies/hello')
        [pid] = s.pids('fl_bodies')
        for _ in range(20):
            self.assertEqual(s.get('/bodies/hello')[0], 200)
        before = private_kib(pid)
        body = os.urandom(1 << 20)
        failures = []

        def client():
            for _ in range(12):
                st, _, out = s.request('POST', '/bodies/echo', body=body)
                if st != 200 or not out.startswith(b'%d ' % len(body)):
                    failures.append((st, out[:100]))

        clients = [threading.Thread(target=client) for _ in range(4)]
        for t in clients:
            t.start()
        for t in clients:
            t.join(120)
        self.assertEqual(failures, [])
        self.assertEqual(s.pids('fl_bodies'), [pid])
        grown = private_kib(pid) - before
        proof('1 MiB bodies on 4 threads: the worker\'s private memory', 48, len(failures), 0,
              'grew %d KiB (%d -> %d)' % (grown, before, before + grown))
        self.assertLess(grown, 6144, 'private memory grew %d KiB after 48 bodies of 1 MiB' % grown)


if __name__ == '__main__':
    unittest.main(verbosity=2)
