"""Observability (issue 14): the real wsgid over HTTP with real workers.
`SetHandler wsgid-metrics` is scraped and checked with `promtool check metrics`
(Debian's prometheus) and by value: N requests move the counters by N, a
SIGKILLed worker shows in the restart counter with its cause, a request held
by a one-thread group shows in the queue gauge and then in the queue-wait
histogram; `Require` guards /metrics; `server-status?auto` is parsed with
mod_status's keys and the HTML page escapes what it shows; `wsgid-ready`
flips to 503 when a group is stopped (`wsgictl stop`) and back when started.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/observe/test_observe.py -v
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

APP = r"""
import time
def application(environ, start_response):
    if environ.get('SCRIPT_NAME') == '/slow':
        time.sleep(float(environ.get('QUERY_STRING') or '1'))
    body = b'hello'
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
"""

BODY = """
WSGIDaemonProcess site processes=2 threads=2
WSGIDaemonProcess slow processes=1 threads=1
WSGIScriptAlias /app {dir}/app.wsgi process-group=site application-group=%{{GLOBAL}}
WSGIScriptAlias /slow {dir}/app.wsgi process-group=slow application-group=%{{GLOBAL}}
<Location /metrics>
  SetHandler wsgid-metrics
  Require local
</Location>
<Location /metrics-denied>
  SetHandler wsgid-metrics
  Require ip 192.0.2.1
</Location>
<Location /server-status>
  SetHandler server-status
  Require local
</Location>
<Location /ready>
  SetHandler wsgid-ready
</Location>
# The shipped etc/wsgid.conf's layout: the later, longer <Location> takes the
# handler, the first one's Require applies to both.
<Location /server-status2>
  SetHandler server-status
  Require local
</Location>
<Location /server-status2/metrics>
  SetHandler wsgid-metrics
</Location>
"""

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset(labels.items())): float}"""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        m = SAMPLE.match(line)
        assert m, 'not a sample line: %r' % line
        labels = frozenset(LABEL.findall(m.group(3) or ''))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())), 0.0)


class ObserveCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(body=BODY, prefix='wsgid-observe-')
        cls.d.write('app.wsgi', APP)
        cls.d.chmod_tree()
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup(failed=getattr(cls, 'failed', False))

    def tearDown(self):
        if test_failed(self):
            type(self).failed = True

    def get(self, path, **kw):
        return self.d.request('GET', path, **kw)

    def scrape(self):
        st, headers, body = self.get('/metrics')
        self.assertEqual(st, 200, body[:300])
        self.assertTrue(headers['content-type'].startswith('text/plain; version=0.0.4'))
        return body.decode()

    def test_promtool_accepts_the_page(self):
        promtool = shutil.which('promtool')
        if not promtool:
            self.skipTest('promtool (Debian package prometheus) is not installed')
        self.get('/app/x')
        text = self.scrape()
        r = subprocess.run([promtool, 'check', 'metrics'], input=text, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('wsgid_build_info{version="', text)

    def test_n_requests_move_the_counters_by_n(self):
        before = parse_metrics(self.scrape())
        n = 7
        for i in range(n):
            st, _, body = self.get('/app/n%d' % i)
            self.assertEqual((st, body), (200, b'hello'))
        st, _, _ = self.d.request('PUT', '/app/put', body=b'x')
        self.assertEqual(st, 200)
        st, _, _ = self.d.request('PATCH', '/app/patch', body=b'x')
        self.assertEqual(st, 200)
        after = parse_metrics(self.scrape())
        d = lambda name, **l: value(after, name, **l) - value(before, name, **l)
        self.assertEqual(d('wsgid_group_requests_total', group='site', code='2xx'), n + 2)
        self.assertEqual(d('wsgid_group_requests_by_method_total', group='site', method='GET'), n)
        self.assertEqual(d('wsgid_group_requests_by_method_total', group='site', method='PUT'), 1)
        # PATCH is not one of RFC 9110's methods.
        self.assertEqual(d('wsgid_group_requests_by_method_total', group='site', method='OTHER'), 1)
        self.assertEqual(d('wsgid_group_request_duration_seconds_count', group='site'), n + 2)
        self.assertEqual(d('wsgid_group_first_byte_seconds_count', group='site'), n + 2)
        self.assertEqual(d('wsgid_group_queue_wait_seconds_count', group='site'), n + 2)
        # Every /metrics scrape and every request counts in the front end's total.
        self.assertEqual(d('wsgid_frontend_requests_total'), n + 2 + 1)
        self.assertGreater(d('wsgid_frontend_sent_bytes_total'), 0)
        self.assertGreater(d('wsgid_frontend_received_bytes_total'), 0)
        # The per-process counters add up to the group's.
        procs = sum(v for (name, labels), v in after.items()
                    if name == 'wsgid_process_requests_total' and ('group', 'site') in labels)
        procs_before = sum(v for (name, labels), v in before.items()
                           if name == 'wsgid_process_requests_total' and ('group', 'site') in labels)
        self.assertEqual(procs - procs_before, n + 2)
        for (name, labels), v in after.items():
            if name == 'wsgid_process_resident_memory_bytes':
                self.assertGreater(v, 1 << 20, labels)

    def test_a_sigkilled_worker_counts_as_a_signal_restart(self):
        before = parse_metrics(self.scrape())
        pids = self.d.pids('site')
        os.kill(pids[0], signal.SIGKILL)
        wait_for(lambda: value(parse_metrics(self.scrape()), 'wsgid_group_restarts_total',
                               group='site', cause='signal')
                 == value(before, 'wsgid_group_restarts_total', group='site', cause='signal') + 1,
                 timeout=20, what='the restart counter to count the SIGKILL')
        wait_for(lambda: value(parse_metrics(self.scrape()), 'wsgid_group_processes',
                               group='site', state='RUNNING') == 2,
                 timeout=30, what='the group to be whole again')
        m = parse_metrics(self.scrape())
        self.assertEqual(value(m, 'wsgid_group_restarts_total', group='slow', cause='signal'),
                         value(before, 'wsgid_group_restarts_total', group='slow', cause='signal'))

    def test_a_rolling_restart_counts_each_process_with_its_cause(self):
        key = dict(name='wsgid_group_restarts_total', group='slow', cause='restart')
        before = value(parse_metrics(self.scrape()), **key)
        ok, text = self.d.wsgictl('restart', 'slow')
        self.assertTrue(ok, text)
        wait_for(lambda: value(parse_metrics(self.scrape()), **key) == before + 1, timeout=30,
                 what='the rolling restart counted once (one process)')
        wait_for(lambda: self.d.all_running('slow', n=1), timeout=30, what='slow whole again')
        m = parse_metrics(self.scrape())
        self.assertEqual(value(m, 'wsgid_group_restarts_total', group='slow', cause='signal'), 0)

    def test_a_queued_request_shows_in_the_queue_gauge(self):
        before = parse_metrics(self.scrape())
        results = []
        held = threading.Thread(target=lambda: results.append(self.get('/slow/a?3')))
        held.start()
        wait_for(lambda: value(parse_metrics(self.scrape()), 'wsgid_group_threads_busy',
                               group='slow') == 1, timeout=10, what='the first request running')
        queued = threading.Thread(target=lambda: results.append(self.get('/slow/b?0')))
        queued.start()
        wait_for(lambda: value(parse_metrics(self.scrape()), 'wsgid_group_queue_depth',
                               group='slow') == 1, timeout=10, what='the second request queued')
        m = parse_metrics(self.scrape())
        self.assertEqual(value(m, 'wsgid_group_threads_idle', group='slow'), 0)
        ages = [v for (name, labels), v in m.items()
                if name == 'wsgid_process_current_request_age_seconds' and ('group', 'slow') in labels]
        self.assertEqual(len(ages), 1)
        self.assertGreater(ages[0], 0)
        held.join(30)
        queued.join(30)
        self.assertEqual([r[0] for r in results], [200, 200])
        after = parse_metrics(self.scrape())
        self.assertEqual(value(after, 'wsgid_group_queue_depth', group='slow'), 0)
        # The queued request waited about as long as the first one ran (>= 1 s).
        waited_1s = (value(after, 'wsgid_group_queue_wait_seconds_count', group='slow')
                     - value(after, 'wsgid_group_queue_wait_seconds_bucket', group='slow', le='1'))
        waited_1s_before = (value(before, 'wsgid_group_queue_wait_seconds_count', group='slow')
                            - value(before, 'wsgid_group_queue_wait_seconds_bucket', group='slow', le='1'))
        self.assertEqual(waited_1s - waited_1s_before, 1)

    def test_the_shipped_layout_nests_the_metrics_under_server_status(self):
        st, headers, body = self.get('/server-status2/metrics')
        self.assertEqual(st, 200)
        self.assertIn(b'# TYPE wsgid_build_info gauge', body)
        st, headers, body = self.get('/server-status2?auto')
        self.assertEqual(st, 200)
        self.assertIn(b'Total Accesses: ', body)

    def test_refusals_and_reloads_are_counted(self):
        before = parse_metrics(self.scrape())
        s = socket.create_connection(('127.0.0.1', self.d.port()), timeout=10)
        s.sendall(b'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')  # two Hosts: 400
        self.assertTrue(s.recv(100).startswith(b'HTTP/1.1 400'))
        s.close()
        ok, text = self.d.wsgictl('reload')
        self.assertTrue(ok, text)
        with open(self.d.conf) as f:
            good = f.read()
        with open(self.d.conf, 'a') as f:
            f.write('\nNoSuchDirective here\n')
        try:
            ok, text = self.d.wsgictl('reload')
            self.assertFalse(ok, text)
        finally:
            with open(self.d.conf, 'w') as f:
                f.write(good)
        d = lambda m, name, **l: value(m, name, **l) - value(before, name, **l)
        wait_for(lambda: d(parse_metrics(self.scrape()), 'wsgid_master_failed_reloads_total') == 1,
                 timeout=10, what='the failed reload counted')
        after = parse_metrics(self.scrape())
        self.assertEqual(d(after, 'wsgid_master_reloads_total'), 1)
        self.assertEqual(d(after, 'wsgid_frontend_connections_refused_total', reason='bad_request'), 1)
        self.assertGreaterEqual(d(after, 'wsgid_frontend_connections_accepted_total'), 1)

    def test_require_guards_the_metrics(self):
        st, _, body = self.get('/metrics-denied')
        self.assertEqual(st, 403)
        self.assertNotIn(b'wsgid_build_info', body)

    def test_server_status_auto_has_mod_status_keys(self):
        self.get('/app/status')
        st, headers, body = self.get('/server-status?auto')
        self.assertEqual(st, 200)
        lines = body.decode().splitlines()
        keys = {}
        for line in lines[1:]:
            k, sep, v = line.partition(': ')
            self.assertTrue(sep, 'no "key: value" in %r' % line)
            keys[k] = v
        for k in ('ServerVersion', 'ServerMPM', 'CurrentTime', 'RestartTime', 'ServerUptimeSeconds',
                  'Total Accesses', 'Total kBytes', 'Total Duration', 'Uptime', 'ReqPerSec',
                  'BytesPerSec', 'BytesPerReq', 'DurationPerReq', 'BusyWorkers', 'IdleWorkers',
                  'Processes', 'ConnsTotal', 'Scoreboard', 'QueueDepth', 'Group site Accesses'):
            self.assertIn(k, keys)
        self.assertGreaterEqual(int(keys['Total Accesses']), 1)
        self.assertEqual(int(keys['Processes']), 3)
        self.assertEqual(len(keys['Scoreboard']), 2 * 2 + 1)
        # mod_status's order: its keys first, wsgid's after.
        order = [line.partition(': ')[0] for line in lines[1:]]
        self.assertLess(order.index('Total Accesses'), order.index('BusyWorkers'))
        self.assertLess(order.index('Scoreboard'), order.index('QueueDepth'))

    def test_server_status_html_escapes_what_it_shows(self):
        st, _, _ = self.get('/app/%3Cscript%3Ealert(1)%3C/script%3E')
        self.assertEqual(st, 200)
        results = []
        # The request line as received: '&' is a plain URL character.
        t = threading.Thread(target=lambda: results.append(self.get('/slow/a&b=<i>?2')))
        t.start()
        wait_for(lambda: b'/slow/a&amp;b=&lt;i&gt;?2' in self.get('/server-status')[2], timeout=10,
                 what='the current request on the page')
        st, headers, body = self.get('/server-status?refresh=5')
        t.join(30)
        self.assertEqual(st, 200)
        self.assertTrue(headers['content-type'].startswith('text/html'))
        self.assertNotIn(b'<i>', body)
        self.assertIn(b'<meta http-equiv="refresh" content="5">', body)
        self.assertIn(b'name="viewport"', body)
        for word in (b'Group site', b'Group slow', b'RUNNING', b'Last exit'):
            self.assertIn(word, body)

    def test_ready_flips_when_a_group_stops_and_starts(self):
        st, _, body = self.get('/ready')
        self.assertEqual((st, body), (200, b'ready\n'))
        before = parse_metrics(self.scrape())
        ok, text = self.d.wsgictl('stop', 'slow')
        self.assertTrue(ok, text)
        try:
            wait_for(lambda: self.get('/ready')[0] == 503, timeout=20, what='503 from /ready')
            st, _, body = self.get('/ready')
            self.assertIn(b'group slow', body)
            # The stopped group's requests get 503 at once, counted with their cause.
            self.assertEqual(self.get('/slow/x?0')[0], 503)
            after = parse_metrics(self.scrape())
            key = dict(name='wsgid_group_gateway_errors_total', group='slow', code='503',
                       cause='group_stopped')
            self.assertEqual(value(after, **key) - value(before, **key), 1)
        finally:
            ok, text = self.d.wsgictl('start', 'slow')
            self.assertTrue(ok, text)
        wait_for(lambda: self.get('/ready')[0] == 200, timeout=30, what='200 from /ready again')


if __name__ == '__main__':
    unittest.main()
