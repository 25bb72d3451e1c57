"""The fleet test (issue 15): two wsgid hosts behind nginx and HAProxy.

Two whole daemons, one on 127.0.0.2 and one on 127.0.0.3 (loopback
addresses: Linux routes all of 127/8 to lo), each with its own config and temp
dir (control socket, group sockets, access log), each with an HTTP listener and
a `haproxy-agent` listener, a `uwsgi` listener, WSGIDrainDelay 2 and one group
`app` (2 processes x 4 threads). In front of them, one balancer at a time, from
Debian:

  - nginx with proxy_pass to the HTTP listeners (proxy_next_upstream error
    timeout http_502 http_503: a refused connect or a 502/503 goes to the other
    host);
  - nginx with uwsgi_pass to the uwsgi listeners (uwsgi_next_upstream error
    timeout http_503: the uwsgi module knows no http_502; issue 15 point 4);
  - HAProxy with an httpchk on an application path (/health: the readiness
    handler is another branch's) and agent-check on the agent listeners,
    retry-on all-retryable-errors and redispatch.

Under a bounded load through the balancer (tests/bench/loadgen), each of:
one host stopped with TERM and started again (a POST load; its listeners
refuse new handshakes before they close, so none it accepted is reset); a rolling restart
of the group on both hosts (USR2); a HUP on both; one host's group
crash-looping (its script dies at import; the group goes to BACKOFF and
answers 503 at once). The client must see zero failed requests in every case.
While no host restarts, the two hosts' access logs add up to exactly what the
client sent. Behind HAProxy, its stats socket must show the agent at work:
host a DRAIN while it stops, MAINT while its group crash-loops, and a weight
below 100% while the groups are busy.

The balancers run in the foreground in the test's temp dir (nginx -p DIR -c
CONF with `daemon off`, HAProxy -db) and are stopped by their pid. About 3
minutes. Not run under the sanitizers (suite `fleet`, once per CI).
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.load import Load, loadgen_binary
from wsgidtest.paths import APPS
from wsgidtest.procs import pid_alive
from wsgidtest.wait import wait_for

HOSTS = ('127.0.0.2', '127.0.0.3')
DRAIN_DELAY = 2

CRASH_APP = "import os\nos._exit(3)\n"

BODY = """
Listen {agent} haproxy-agent
Listen {uwsgi} uwsgi
WSGIDrainDelay %d
WSGIScriptReloading Off
LogLevel info
LogFormat "%%h %%>s %%U" fleet
CustomLog {dir}/access.log fleet
WSGIDaemonProcess app processes=2 threads=4 display-name=%%{{GROUP}} graceful-timeout=10
WSGIImportScript {dir}/app.wsgi process-group=app application-group=%%{{GLOBAL}}
WSGIScriptAlias / {dir}/app.wsgi process-group=app application-group=%%{{GLOBAL}}
""" % DRAIN_DELAY


def free_port(host):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Host:
    """One wsgid host: a Daemon on a fixed HTTP port and agent port."""

    def __init__(self, addr):
        self.addr = addr
        self.http_port = free_port(addr)
        self.agent_port = free_port(addr)
        self.uwsgi_port = free_port(addr)
        body = BODY.replace('{agent}', '%s:%d' % (addr, self.agent_port)).replace(
            '{uwsgi}', '%s:%d' % (addr, self.uwsgi_port))
        self.d = Daemon(body=body, listen='%s:%d' % (addr, self.http_port), prefix='wsgid-fleet-')
        self.script = self.d.path('app.wsgi')
        self.write_app(good=True)

    def write_app(self, good):
        with open(os.path.join(APPS, 'fleet_app.wsgi')) as f:
            text = f.read() if good else CRASH_APP
        self.d.write('app.wsgi', text)

    def start(self):
        self.d.start()
        return self

    def access_count(self, path):
        try:
            with open(self.d.path('access.log')) as f:
                return sum(1 for line in f if line.rstrip().endswith(' ' + path))
        except FileNotFoundError:
            return 0


class Balancer:
    """nginx or HAProxy in the foreground, stopped by its pid."""

    def __init__(self, tmp, kind, hosts):
        self.tmp = os.path.join(tmp, kind)
        os.makedirs(self.tmp)
        os.chmod(self.tmp, 0o755)
        self.kind = kind
        self.port = free_port('127.0.0.1')
        self.conf = os.path.join(self.tmp, kind + '.conf')
        self.stats = os.path.join(self.tmp, 'haproxy.sock')
        with open(self.conf, 'w') as f:
            if kind == 'nginx':
                f.write(nginx_conf(self.tmp, self.port, hosts))
            elif kind == 'nginx-uwsgi':
                f.write(nginx_uwsgi_conf(self.tmp, self.port, hosts))
            else:
                f.write(haproxy_conf(self.tmp, self.port, hosts))
        self.log = open(os.path.join(self.tmp, 'output.log'), 'wb')
        if kind.startswith('nginx'):
            cmd = ['/usr/sbin/nginx', '-p', self.tmp, '-c', self.conf,
                   '-e', os.path.join(self.tmp, 'error.log')]
        else:
            cmd = ['/usr/sbin/haproxy', '-f', self.conf, '-db']
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=self.tmp)
        wait_for(lambda: self.listening() or self.proc.poll() is not None, 20, kind + ' listening')
        if self.proc.poll() is not None:
            raise AssertionError('%s exited %s: %s' % (kind, self.proc.returncode, self.output()))

    def listening(self):
        try:
            socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def output(self):
        self.log.flush()
        with open(self.log.name, 'rb') as f:
            out = f.read().decode('utf-8', 'replace')
        err = os.path.join(self.tmp, 'error.log')
        if os.path.exists(err):
            with open(err) as f:
                out += f.read()
        return out

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.port, path)

    def stat(self):
        """HAProxy's `show stat` -> {server name: row dict} for backend wsgid."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(self.stats)
        s.sendall(b'show stat\n')
        data = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        lines = data.decode().splitlines()
        head = lines[0].lstrip('# ').split(',')
        rows = {}
        for line in lines[1:]:
            if not line:
                continue
            row = dict(zip(head, line.split(',')))
            if row.get('pxname') == 'wsgid' and row.get('svname') not in ('BACKEND', 'FRONTEND'):
                rows[row['svname']] = row
        return rows

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM if self.kind == 'haproxy' else signal.SIGQUIT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # nginx's workers are children of its master: gone with it (they
        # exit when the master's channel closes); make sure, by the pid file.
        pid_file = os.path.join(self.tmp, 'nginx.pid')
        if os.path.exists(pid_file):
            with open(pid_file) as f:
                pid = int(f.read().strip() or 0)
            if pid and pid_alive(pid) and pid == self.proc.pid:
                os.kill(pid, signal.SIGKILL)
        self.log.close()


def nginx_conf(tmp, port, hosts):
    """The nginx configuration the README shows (temp paths aside)."""
    servers = ''.join('        server %s:%d;\n' % (h.addr, h.http_port) for h in hosts)
    return """daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream wsgid {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://wsgid;
            proxy_set_header Host $host;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 2s;
        }}
    }}
}}
""".format(tmp=tmp, port=port, servers=servers)


def nginx_uwsgi_conf(tmp, port, hosts):
    """The README's nginx uwsgi_pass configuration (temp paths aside)."""
    servers = ''.join('        server %s:%d;\n' % (h.addr, h.uwsgi_port) for h in hosts)
    return """daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream wsgid {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            include /etc/nginx/uwsgi_params;
            uwsgi_pass wsgid;
            uwsgi_next_upstream error timeout http_503;
            uwsgi_next_upstream_tries 3;
            uwsgi_connect_timeout 2s;
        }}
    }}
}}
""".format(tmp=tmp, port=port, servers=servers)


def haproxy_conf(tmp, port, hosts):
    """The HAProxy configuration the README shows (temp paths aside)."""
    servers = ''.join(
        '    server %s %s:%d check agent-check agent-addr %s agent-port %d\n'
        % ('ab'[i], h.addr, h.http_port, h.addr, h.agent_port) for i, h in enumerate(hosts))
    return """global
    stats socket {tmp}/haproxy.sock mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch 1
    retry-on all-retryable-errors
frontend web
    bind 127.0.0.1:{port}
    default_backend wsgid
backend wsgid
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    default-server inter 500ms fall 2 rise 1 agent-inter 500ms weight 100
{servers}""".format(tmp=tmp, port=port, servers=servers)


class Watch:
    """Polls HAProxy's stats every 100 ms in the background: per server, the
    statuses seen and the lowest weight."""

    def __init__(self, balancer):
        self.b = balancer
        self.status = {'a': set(), 'b': set()}
        self.min_weight = {'a': 1000, 'b': 1000}
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        self.t.join(10)

    def run(self):
        while not self.stop_ev.is_set():
            try:
                for name, row in self.b.stat().items():
                    self.status[name].add(row.get('status', ''))
                    if row.get('weight', '').isdigit() and row.get('status', '').startswith('UP'):
                        self.min_weight[name] = min(self.min_weight[name], int(row['weight']))
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(0.1)


@unittest.skipUnless(loadgen_binary(), 'tests/bench/loadgen is not built')
class FleetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for exe in ('/usr/sbin/nginx', '/usr/sbin/haproxy'):
            if not os.access(exe, os.X_OK):
                raise AssertionError('%s is missing: tools/dev installs nginx and haproxy' % exe)
        cls.tmp = tempfile.mkdtemp(prefix='wsgid-fleet-lb-')
        os.chmod(cls.tmp, 0o755)
        cls.hosts = [Host(a) for a in HOSTS]
        try:
            for h in cls.hosts:
                h.start()
        except Exception:
            cls.tearDownClass(failed=True)
            raise

    failed = False  # set by a failing test: tearDownClass then keeps every temp dir

    @classmethod
    def tearDownClass(cls, failed=False):
        failed = failed or cls.failed
        for h in cls.hosts:
            h.d.cleanup(failed=failed)
        if not failed and os.environ.get('WSGID_KEEP_TMP') != '1':
            shutil.rmtree(cls.tmp, ignore_errors=True)
        else:
            print('kept %s' % cls.tmp)

    def setUp(self):
        for h in self.hosts:
            h.d.wait_running('app')

    # --- the cases -------------------------------------------------------------
    def counters_add_up(self, lb):
        """No restart: the hosts' access logs hold exactly what the client sent."""
        path = '/count-%s' % lb.kind
        res = Load(lb.url(path), concurrency=4, duration=30, max_requests=400).run()
        self.assertEqual(res['requests'], 400, res)
        self.assertEqual(res['ok'], 400, res)

        def total():
            return sum(h.access_count(path) for h in self.hosts)
        # The access log is written once the response is sent: allow a moment.
        wait_for(lambda: total() >= 400, 10, 'the access logs to hold 400 lines')
        counts = [h.access_count(path) for h in self.hosts]
        self.assertEqual(sum(counts), 400, counts)
        self.assertTrue(all(c > 0 for c in counts), counts)

    def loaded(self, lb, path, duration, event, method='GET', body_size=0):
        """Runs event() under a load of `duration` s through lb; requires zero
        failures at the client."""
        load = Load(lb.url(path), concurrency=8, duration=duration, timeout=10,
                    method=method, body_size=body_size).start()
        time.sleep(1)
        event()
        res = load.wait()
        print('%s %s: %d requests, %d ok, %.0f req/s, max gap %.0f ms'
              % (lb.kind, path, res['requests'], res['ok'], res['rps'], res['max_gap_ms']))
        self.assertGreater(res['ok'], 0, res)
        self.assertEqual(res['failed'], 0, res)
        self.assertEqual(res['ok'], res['requests'], res)
        return res

    def term_and_start_again(self, lb):
        a = self.hosts[0]

        def event():
            mark = a.d.log_mark()
            a.d.stop()  # TERM; returns once the master has exited
            self.assertEqual(a.d.proc.returncode, 0, a.d.log()[-2000:])
            # The listeners refused new handshakes before they closed (the
            # front end's own filter, or the master's where the kernel lets
            # only root attach one): common/listener_close.h.
            log = a.d.log()[mark:]
            self.assertIn('frontend: draining: new handshakes refused', log)
            self.assertNotIn('the listeners close at once', log)
            a.d.start()
        return self.loaded(lb, '/post', 14, event, method='POST', body_size=2000)

    def rolling_restart_both(self, lb):
        before = {h.addr: h.d.pids('app') for h in self.hosts}

        def event():
            for h in self.hosts:
                h.d.signal(signal.SIGUSR2)
            for h in self.hosts:
                wait_for(lambda: h.d.all_running('app', 2)
                         and not set(h.d.pids('app')) & set(before[h.addr]),
                         40, 'a rolling restart on %s' % h.addr)
        return self.loaded(lb, '/rolling', 10, event)

    def hup_both(self, lb):
        def event():
            marks = [h.d.log_mark() for h in self.hosts]
            for h in self.hosts:
                h.d.signal(signal.SIGHUP)
            for h, m in zip(self.hosts, marks):
                h.d.wait_log('reloading', since=m)
        return self.loaded(lb, '/hup', 5, event)

    def crash_loop_one(self, lb):
        a = self.hosts[0]

        def event():
            a.write_app(good=False)
            for pid in a.d.pids('app'):
                os.kill(pid, signal.SIGKILL)
            wait_for(lambda: any(p['state'] == 'BACKOFF' for p in a.d.group('app')['processes']),
                     20, 'the group crash-looping (BACKOFF)')
            time.sleep(3)  # crash-looping, under load
            a.write_app(good=True)
        res = self.loaded(lb, '/crash', 9, event)
        a.d.wait_running('app', timeout=90)  # the backoff's next try starts the good script
        return res

    def run_cases(self, lb):
        self.counters_add_up(lb)
        self.term_and_start_again(lb)
        self.rolling_restart_both(lb)
        self.hup_both(lb)
        self.crash_loop_one(lb)

    # --- the balancers ---------------------------------------------------------
    def test_nginx_proxy_pass(self):
        lb = Balancer(self.tmp, 'nginx', self.hosts)
        try:
            self.run_cases(lb)
        except Exception:
            type(self).failed = True
            print(lb.output()[-3000:])
            raise
        finally:
            lb.stop()

    def test_nginx_uwsgi_pass(self):
        lb = Balancer(self.tmp, 'nginx-uwsgi', self.hosts)
        try:
            self.run_cases(lb)
        except Exception:
            type(self).failed = True
            print(lb.output()[-3000:])
            raise
        finally:
            lb.stop()

    def test_haproxy_httpchk_and_agent(self):
        lb = Balancer(self.tmp, 'haproxy', self.hosts)
        try:
            wait_for(lambda: all(r['status'] == 'UP' for r in lb.stat().values())
                     and len(lb.stat()) == 2, 20, 'both servers UP in HAProxy')
            # The agent's weight falls while the groups are busy.
            with Watch(lb) as w:
                Load(lb.url('/sleep/0.2'), concurrency=12, duration=3, timeout=10).run()
            self.assertLess(min(w.min_weight.values()), 100, w.min_weight)
            self.counters_add_up(lb)
            with Watch(lb) as w:
                self.term_and_start_again(lb)
            # "DRAIN (agent)": the agent's drain, during WSGIDrainDelay.
            self.assertTrue(any(st.startswith('DRAIN') for st in w.status['a']), w.status)
            self.rolling_restart_both(lb)
            self.hup_both(lb)
            with Watch(lb) as w:
                self.crash_loop_one(lb)
            self.assertTrue(any(st.startswith('MAINT') for st in w.status['a']), w.status)
        except Exception:
            type(self).failed = True
            print(lb.output()[-3000:])
            raise
        finally:
            lb.stop()


if __name__ == '__main__':
    unittest.main(verbosity=2)
