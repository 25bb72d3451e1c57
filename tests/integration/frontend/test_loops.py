"""The front end's event loops (WSGIFrontendLoops, docs/decisions.md 52): the
real wsgid with `WSGIFrontendLoops 2` (3 for the reload case) in front of real
workers.

- the front end runs one thread per loop ("wsgid: loop 2"), and under load
  from 8 connections both loops do work (CPU time of each thread, /proc);
- the queue stays in the front end and is exact over loops: 7 requests that
  sleep against a group of 2 x 2 threads show 4 busy and a queue of 3 in
  server-status, every one answered 200; counters are sums over loops
  (server-status's Total Accesses, /metrics, wsgictl status, CustomLog lines,
  also after logrotate's rename and USR1);
- a group's capacity is shared: a one-thread group serves requests from both
  loops one at a time, and queue-timeout still answers 504;
- a reload under load loses no request; a reload that changes the loop count
  replaces the front end (new pid, 3 threads), also without a lost request;
- a graceful stop (TERM) finishes the requests in flight on every loop;
- a configuration with embedded mode runs one loop, with a warning.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/frontend/test_loops.py -v
"""
import http.client
import os
import re
import signal
import threading
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.load import Load
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

APP = r"""
import time
def application(environ, start_response):
    if environ.get('PATH_INFO') == '/sleep':
        time.sleep(float(environ.get('QUERY_STRING') or '1'))
    body = b'hello'
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
"""

BODY = """
WSGIFrontendLoops {loops}
WSGIDaemonProcess lp_site processes=2 threads=2
WSGIDaemonProcess lp_one processes=1 threads=1 queue-timeout=1
WSGIScriptAlias /app {dir}/app.wsgi process-group=lp_site application-group=%{{GLOBAL}}
WSGIScriptAlias /one {dir}/app.wsgi process-group=lp_one application-group=%{{GLOBAL}}
CustomLog {dir}/access.log "%h %>s %U"
<Location /server-status>
  SetHandler server-status
</Location>
<Location /metrics>
  SetHandler wsgid-metrics
</Location>
"""


def thread_cpu(pid):
    """{thread name: utime + stime ticks} of every thread of pid."""
    out = {}
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/stat' % (pid, tid)) as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index('(') + 1:stat.rindex(')')]
        fields = stat[stat.rindex(')') + 2:].split()
        out[name] = out.get(name, 0) + int(fields[11]) + int(fields[12])
    return out


def status_auto(daemon):
    st, body = daemon.get('/server-status?auto')
    assert st == 200, (st, body)
    out = {}
    for line in body.decode().splitlines():
        k, _, v = line.partition(': ')
        out[k] = v
    return out


def get_many(daemon, path, n, results):
    """n requests, each on a new connection, into results (a list)."""
    for _ in range(n):
        results.append(daemon.get(path)[0])


def start_clients(daemon, path, clients, n=1):
    """`clients` threads of get_many(n) -> (threads, codes); join_all() waits."""
    codes = []
    threads = [threading.Thread(target=get_many, args=(daemon, path, n, codes)) for _ in range(clients)]
    for t in threads:
        t.start()
    return threads, codes


def join_all(threads):
    for t in threads:
        t.join(60)


def run_clients(daemon, path, clients, n=1):
    """start_clients() and join_all(): the status codes."""
    threads, codes = start_clients(daemon, path, clients, n)
    join_all(threads)
    return codes


class Loops(unittest.TestCase):
    LOOPS = 2

    def setUp(self):
        self.d = Daemon(body=BODY.replace('{loops}', str(self.LOOPS)), prefix='wsgid-loops-')
        self.d.write('app.wsgi', APP)
        self.d.start()

    def tearDown(self):
        failed = test_failed(self)
        self.d.stop()
        self.d.cleanup(failed=failed)

    def frontend_threads(self):
        return sorted(thread_cpu(self.d.frontend_pid()))

    def test_each_loop_is_a_thread_and_both_serve(self):
        d = self.d
        self.assertEqual(self.frontend_threads(), ['wsgid: frontend', 'wsgid: loop 2'])
        before = thread_cpu(d.frontend_pid())
        res = Load(d.url('/app/x'), concurrency=8, duration=2.0).start().wait()
        after = thread_cpu(d.frontend_pid())
        used = {k: after[k] - before.get(k, 0) for k in after}
        saw = 'load: %s; front-end CPU ticks per thread: %s' % (
            {k: res[k] for k in ('requests', 'ok', 'failed')}, used)
        self.assertEqual(res['failed'], 0, saw)
        self.assertGreater(res['ok'], 200, saw)
        # 8 connections, handed 4 and 4: each loop carries a real share.
        total = used['wsgid: frontend'] + used['wsgid: loop 2']
        self.assertGreater(total, 0, saw)
        for name in ('wsgid: frontend', 'wsgid: loop 2'):
            self.assertGreater(used[name], total * 0.2, saw)
        self.assertEqual(d.log_problems(), [])

    def test_queue_is_exact_and_counters_are_sums(self):
        d = self.d
        # 100 requests, each on its own connection: the loops take turns.
        codes = run_clients(d, '/app/x', 4, 25)
        self.assertEqual(codes, [200] * 100)
        # 7 requests that sleep, against 2 processes x 2 threads.
        threads, slept = start_clients(d, '/app/sleep?2', 7, 1)
        def busy_and_queued():
            st = status_auto(d)  # one page: both figures of the same moment
            return (st.get('BusyWorkers'), st.get('QueueDepth')) == ('4', '3')
        wait_for(busy_and_queued, 10, '4 busy and 3 queued')
        s = status_auto(d)
        self.assertEqual(s['Group lp_site BusyWorkers'], '4', s)
        self.assertEqual(s['Group lp_site QueueDepth'], '3', s)
        _, metrics = d.get('/metrics')
        self.assertRegex(metrics.decode(), r'(?m)^wsgid_group_queue_depth\{group="lp_site"\} 3$')
        join_all(threads)
        self.assertEqual(slept, [200] * 7)
        # Every request counted once, whichever loop served it: the 100, the
        # 7, and the status and metrics requests (counted as they end).
        s = status_auto(d)
        self.assertEqual(s['Group lp_site Accesses'], '107', s)
        def lines():
            with open(d.path('access.log')) as f:
                return f.read().splitlines()
        wait_for(lambda: len(lines()) >= 107 + 1, 10, 'the access log lines of every loop')
        logged = lines()
        self.assertEqual(len([l for l in logged if l.endswith(' 200 /app/x')]), 100, logged[-5:])
        self.assertEqual(len([l for l in logged if l.endswith(' 200 /app/sleep')]), 7)
        ok, out = d.wsgictl('status')
        self.assertTrue(ok, out)
        front = [l for l in out.splitlines() if l.startswith('frontend ')][0]
        self.assertGreaterEqual(int(front.split()[4]), 107, out)
        state = d.frontend_status()
        self.assertEqual(state.get('threads'), 2, state)
        # logrotate: the file renamed, USR1 to the master; every loop writes
        # to the new file from then on (each took the master's new descriptors).
        os.rename(d.path('access.log'), d.path('access.log.1'))
        d.signal(signal.SIGUSR1)
        wait_for(lambda: os.path.exists(d.path('access.log')), 10, 'the new access log')
        time.sleep(0.5)  # the descriptors reach every loop
        codes = run_clients(d, '/app/rotated', 2, 10)
        self.assertEqual(codes, [200] * 20)
        wait_for(lambda: len([l for l in lines() if '/app/rotated' in l]) == 20, 10,
                 'the 20 requests of both loops in the new file')
        with open(d.path('access.log.1')) as f:
            self.assertNotIn('/app/rotated', f.read())

    def test_one_thread_group_shared_by_both_loops(self):
        d = self.d
        # One request after another, each on a new connection: the loops take
        # turns (each has none open). A loop keeps its worker connection idle
        # for 2 s (it holds the worker's one thread), unless a request of the
        # other loop waits for the group: then it closes it at once.
        t0 = time.monotonic()
        for i in range(4):
            self.assertEqual(d.get('/one/x'), (200, b'hello'))
        took = time.monotonic() - t0
        self.assertLess(took, 4.0, 'four requests in turn from two loops took %.2f s: a loop '
                                   'waited for the other\'s idle connection to time out' % took)
        # One worker thread: requests from both loops are served one at a
        # time, never two at once, and none is lost or refused.
        t0 = time.monotonic()
        codes = run_clients(d, '/one/sleep?0.3', 3)
        took = time.monotonic() - t0
        self.assertEqual(codes, [200] * 3)
        self.assertGreaterEqual(took, 0.85, 'three 0.3 s requests through one thread: %.2f s' % took)
        # queue-timeout=1: a request still queued after 1 s is answered 504.
        codes = run_clients(d, '/one/sleep?2.5', 2, 1)
        self.assertEqual(sorted(codes), [200, 504], codes)

    def test_reload_under_load_loses_nothing(self):
        d = self.d
        pid = d.frontend_pid()
        load = Load(d.url('/app/x'), concurrency=8, duration=3.0).start()
        time.sleep(0.8)
        d.signal(signal.SIGHUP)
        time.sleep(0.8)
        d.signal(signal.SIGHUP)
        res = load.wait()
        self.assertEqual(res['failed'], 0, res)
        self.assertGreater(res['ok'], 100, res)
        self.assertEqual(d.frontend_pid(), pid, 'a reload with the same loops keeps the front end')

    def test_reload_that_changes_the_loops_replaces_the_front_end(self):
        d = self.d
        pid = d.frontend_pid()
        load = Load(d.url('/app/x'), concurrency=8, duration=3.0).start()
        time.sleep(0.8)
        d.write_body(BODY.replace('{loops}', '3'))
        d.signal(signal.SIGHUP)
        d.wait_frontend(not_pid=pid)
        res = load.wait()
        self.assertEqual(res['failed'], 0, res)
        self.assertIn('WSGIFrontendLoops 2 -> 3', d.log())
        wait_for(lambda: len(self.frontend_threads()) == 3, 10, 'three loops')
        self.assertEqual(self.frontend_threads(), ['wsgid: frontend', 'wsgid: loop 2', 'wsgid: loop 3'])

    def test_graceful_stop_finishes_requests_on_every_loop(self):
        d = self.d
        threads, codes = start_clients(d, '/app/sleep?1.5', 4, 1)
        wait_for(lambda: status_auto(d).get('BusyWorkers') == '4', 10, 'four requests running')
        d.signal(signal.SIGTERM)
        join_all(threads)
        self.assertEqual(codes, [200] * 4)
        self.assertEqual(d.wait_exit(30), 0)


class EmbeddedRunsOneLoop(unittest.TestCase):
    def test_embedded_mode_runs_one_loop(self):
        d = Daemon(body='WSGIFrontendLoops 4\nWSGIScriptAlias /e {dir}/app.wsgi\n', prefix='wsgid-loops-')
        d.write('app.wsgi', APP)
        try:
            d.start()
            self.assertEqual(d.get('/e/x'), (200, b'hello'))
            self.assertEqual(len(os.listdir('/proc/%d/task' % d.frontend_pid())) > 0, True)
            names = sorted(thread_cpu(d.frontend_pid()))
            self.assertNotIn('wsgid: loop 2', names)
            self.assertIn('WSGIFrontendLoops 4: the front end runs one event loop, because Python '
                          'runs in it (embedded mode)', d.log())
        finally:
            failed = test_failed(self)
            d.stop()
            d.cleanup(failed=failed)


if __name__ == '__main__':
    unittest.main()
