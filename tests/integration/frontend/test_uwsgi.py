"""nginx's uwsgi_pass straight in (issue 15 point 4): Debian's nginx with
`include /etc/nginx/uwsgi_params; uwsgi_pass` in front of a `Listen ... uwsgi`
socket of the real wsgid, all on loopback. 127.0.0.2 and 127.0.0.3 are
clients of nginx, nginx (127.0.0.1) the only peer in WSGIUwsgiTrustedPeers:

- GET with a query string, POST with a 200 KB body, a streamed response
  without Content-Length (read to the close by nginx), 2 MiB with one (written
  by the worker to nginx's connection): what the app sees and
  returns is exact; REMOTE_ADDR/REMOTE_PORT are the client's, SCRIPT_NAME is
  wsgid's mount, UWSGI_* vars nginx sends are not in the environ;
- `uwsgi_param HTTPS on` makes the scheme https;
- `Require ip 127.0.0.3` sees the client from the vars: 403 for 127.0.0.2,
  200 for 127.0.0.3; the access log's %a is the client, %{c}a nginx;
- the virtual host is chosen by the socket's address and HTTP_HOST (else
  SERVER_NAME): other.example's `Require all denied` answers 403;
- LimitRequestFieldSize applies to the vars' fields: 400 through nginx;
- a peer outside the trust list (127.0.0.2 connecting straight) is closed
  with no answer, a log line and the `uwsgi_peer` refusal counter;
- a bad packet (modifier1 5) from a trusted peer gets a 400 and a log line; a
  packet not whole within RequestReadTimeout header= is closed, logged and
  counted as a timeout;
  a raw good packet gets an HTTP/1.1 response, not chunked, Connection: close;
- 300 random or mutated packets are each answered or closed, and the same
  front end serves on;
- `wsgid --check` says whom the uwsgi listener trusts.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/frontend/test_uwsgi.py -v
"""
import hashlib
import http.client
import json
import random
import re
import socket
import struct
import subprocess
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

NGINX = '/usr/sbin/nginx'

APP = """import hashlib, json

def application(environ, start_response):
    if environ['PATH_INFO'] == '/stream':
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return (('line %d\\n' % i).encode() for i in range(2000))
    if environ['PATH_INFO'] == '/big':
        data = bytes(range(256)) * 8192
        start_response('200 OK', [('Content-Type', 'application/octet-stream'), ('Content-Length', str(len(data)))])
        return [data]
    body = environ['wsgi.input'].read()
    keys = ('REQUEST_METHOD', 'QUERY_STRING', 'REQUEST_URI', 'SCRIPT_NAME', 'PATH_INFO',
            'SERVER_PROTOCOL', 'SERVER_NAME', 'SERVER_PORT', 'REMOTE_ADDR', 'REMOTE_PORT',
            'HTTP_HOST', 'HTTP_X_TEST', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'HTTPS',
            'REQUEST_SCHEME', 'wsgi.url_scheme')
    out = {k: environ.get(k) for k in keys}
    out['uwsgi_vars'] = sorted(k for k in environ if k.startswith('UWSGI_'))
    out['body_len'] = len(body)
    out['body_sha'] = hashlib.sha256(body).hexdigest()
    data = json.dumps(out).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(data)))])
    return [data]
"""

# The head's Listen 127.0.0.1:0 (HTTP) serves /metrics; {uw} is nginx's upstream.
BODY = r"""
LogFormat "%a %{{c}}a \"%r\" %>s" uw
CustomLog {dir}/access.log uw
Listen 127.0.0.1:{uw} uwsgi
WSGIUwsgiTrustedPeers 127.0.0.1
LimitRequestFieldSize 1000
RequestReadTimeout header=2 body=20
WSGIDaemonProcess app processes=1 threads=4
WSGIScriptAlias /app {dir}/app.wsgi process-group=app application-group=%{{GLOBAL}}
<Location /app/only3>
    Require ip 127.0.0.3
</Location>
<Location /metrics>
    SetHandler wsgid-metrics
</Location>
<VirtualHost 127.0.0.1:{uw}>
    ServerName default.example
</VirtualHost>
<VirtualHost 127.0.0.1:{uw}>
    ServerName other.example
    <Location /app>
        Require all denied
    </Location>
</VirtualHost>
"""

# The README's nginx example, with the test's ports and files.
NGINX_CONF = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/nginx-body;
    proxy_temp_path {dir}/nginx-proxy;
    fastcgi_temp_path {dir}/nginx-fastcgi;
    uwsgi_temp_path {dir}/nginx-uwsgi;
    scgi_temp_path {dir}/nginx-scgi;
    client_max_body_size 10m;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            include /etc/nginx/uwsgi_params;
            uwsgi_param UWSGI_SCRIPT evil:app;
            uwsgi_pass 127.0.0.1:{uw};
        }}
        location /app/secure {{
            include /etc/nginx/uwsgi_params;
            uwsgi_param HTTPS on;
            uwsgi_pass 127.0.0.1:{uw};
        }}
    }}
}}
"""


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def accepts(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
        return True
    except OSError:
        return False


def packet(pairs, modifier1=0):
    block = b''
    for k, v in pairs:
        block += struct.pack('<H', len(k)) + k + struct.pack('<H', len(v)) + v
    return struct.pack('<BHB', modifier1, len(block), 0) + block


class BehindNginxUwsgiPass(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.nginx = None
        uw, port = free_ports(2)
        cls.uw, cls.port = uw, port
        s = Daemon(body=BODY.replace('{uw}', str(uw)), prefix='wsgid-uwsgi-')
        cls.s = s
        s.write('app.wsgi', APP)
        s.chmod_tree()
        s.start()
        s.write('nginx.conf', NGINX_CONF.format(dir=s.dir, port=port, uw=uw))
        cls.nginx_log = open(s.path('nginx.out'), 'ab')
        cls.nginx = subprocess.Popen([NGINX, '-p', s.dir, '-c', s.path('nginx.conf')],
                                     stdin=subprocess.DEVNULL, stdout=cls.nginx_log,
                                     stderr=subprocess.STDOUT, cwd=s.dir)
        wait_for(lambda: accepts(port), 20, 'nginx listening')

    @classmethod
    def tearDownClass(cls):
        if cls.nginx:  # only the process this test started, by pid
            cls.nginx.terminate()
            try:
                cls.nginx.wait(10)
            except subprocess.TimeoutExpired:
                cls.nginx.kill()
                cls.nginx.wait()
            cls.nginx_log.close()
        cls.s.cleanup(failed=getattr(cls, 'failed', False))

    def tearDown(self):
        if test_failed(self):
            type(self).failed = True

    def request(self, method, path, body=None, headers=None, source='127.0.0.2'):
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=20,
                                       source_address=(source, 0))
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def env(self, method='GET', path='/app/env', **kw):
        st, _, body = self.request(method, path, **kw)
        self.assertEqual(st, 200, body[:300])
        return json.loads(body)

    def raw(self, data, source='127.0.0.1', half_close=False):
        """data on a new connection to the uwsgi socket -> all that comes back.
        half_close: end our side after data (a request still waiting for body
        bytes is then given up by the front end instead of timing out)."""
        c = socket.create_connection(('127.0.0.1', self.uw), timeout=10,
                                     source_address=(source, 0))
        try:
            c.sendall(data)
            if half_close:
                c.shutdown(socket.SHUT_WR)
            out = b''
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    return out
                out += chunk
        except ConnectionResetError:
            return out
        finally:
            c.close()

    def metric(self, reason):
        st, _, body = self.s.request('GET', '/metrics')
        self.assertEqual(st, 200)
        m = re.search((r'^wsgid_frontend_connections_refused_total\{reason="%s"\} (\d+)$'
                       % reason).encode(), body, re.M)
        self.assertIsNotNone(m, body[:500])
        return int(m.group(1))

    def access_log(self):
        with open(self.s.path('access.log')) as f:
            return f.read()

    # --- through nginx ---------------------------------------------------------
    def test_get_with_a_query_string(self):
        e = self.env(path='/app/env/x?a=1&b=%20two', headers={'X-Test': 'yes'})
        self.assertEqual(e['REQUEST_METHOD'], 'GET')
        self.assertEqual(e['QUERY_STRING'], 'a=1&b=%20two')
        self.assertEqual(e['REQUEST_URI'], '/app/env/x?a=1&b=%20two')
        self.assertEqual(e['SCRIPT_NAME'], '/app')
        self.assertEqual(e['PATH_INFO'], '/env/x')
        self.assertEqual(e['SERVER_PROTOCOL'], 'HTTP/1.1')
        self.assertEqual(e['REMOTE_ADDR'], '127.0.0.2')
        self.assertNotIn(e['REMOTE_PORT'], (None, '0'))
        self.assertEqual(e['SERVER_PORT'], str(self.port))  # nginx's, not the uwsgi socket's
        self.assertEqual(e['HTTP_HOST'], '127.0.0.1')
        self.assertEqual(e['HTTP_X_TEST'], 'yes')
        self.assertEqual(e['wsgi.url_scheme'], 'http')
        self.assertIsNone(e['HTTPS'])
        self.assertEqual(e['uwsgi_vars'], [])  # nginx's UWSGI_SCRIPT is ignored
        self.assertEqual(e['body_len'], 0)

    def test_post_body(self):
        body = bytes(range(256)) * 800  # 200 KB
        e = self.env('POST', '/app/post', body=body,
                     headers={'Content-Type': 'application/octet-stream'})
        self.assertEqual(e['REQUEST_METHOD'], 'POST')
        self.assertEqual(e['CONTENT_LENGTH'], str(len(body)))
        self.assertEqual(e['CONTENT_TYPE'], 'application/octet-stream')
        self.assertEqual(e['body_len'], len(body))
        self.assertEqual(e['body_sha'], hashlib.sha256(body).hexdigest())

    def test_streamed_response_without_content_length(self):
        st, _, body = self.request('GET', '/app/stream')
        self.assertEqual(st, 200)
        self.assertEqual(body, b''.join(('line %d\n' % i).encode() for i in range(2000)))

    def test_large_response_with_content_length(self):
        # 2 MiB with a Content-Length: the worker writes it to nginx's
        # connection itself (PROTOCOL.md 5.6); nginx gets it exact. nginx
        # closes as soon as it has the body, often before the worker's
        # RESPONSE_SENT has come: the front end waits for that count.
        def handed():
            st, _, text = self.s.request('GET', '/metrics')
            m = re.search(rb'^wsgid_frontend_handed_over_response_bytes_total (\d+)$', text, re.M)
            self.assertIsNotNone(m, text[:500])
            return int(m.group(1))
        before = handed()
        st, _, body = self.request('GET', '/app/big')
        self.assertEqual((st, body), (200, bytes(range(256)) * 8192))
        # Counted when the worker's RESPONSE_SENT is read, which may come after
        # nginx has passed the whole body on.
        wait_for(lambda: handed() - before == len(body), 10, 'the bytes counted')

    def test_https_var_gives_the_scheme(self):
        e = self.env(path='/app/secure')
        self.assertEqual(e['wsgi.url_scheme'], 'https')
        self.assertEqual(e['HTTPS'], 'on')
        self.assertEqual(e['REQUEST_SCHEME'], 'https')

    def test_require_ip_sees_the_client_from_the_vars(self):
        st, _, _ = self.request('GET', '/app/only3')
        self.assertEqual(st, 403)
        st, _, _ = self.request('GET', '/app/only3', source='127.0.0.3')
        self.assertEqual(st, 200)
        # Each line is written once its response is sent: wait for both.
        want = ('127.0.0.2 127.0.0.1 "GET /app/only3 HTTP/1.1" 403',
                '127.0.0.3 127.0.0.1 "GET /app/only3 HTTP/1.1" 200')
        wait_for(lambda: all(w in self.access_log() for w in want),
                 10, 'the client (%a) and nginx (%{c}a) in the access log')

    def test_the_vhost_is_chosen_from_http_host_or_server_name(self):
        st, _, _ = self.request('GET', '/app/env', headers={'Host': 'other.example'})
        self.assertEqual(st, 403)
        st, _, _ = self.request('GET', '/app/env', headers={'Host': 'default.example'})
        self.assertEqual(st, 200)
        base = [(b'REQUEST_METHOD', b'GET'), (b'REQUEST_URI', b'/app/env'),
                (b'SERVER_PROTOCOL', b'HTTP/1.0')]
        for name, want in ((b'other.example', b'403'), (b'default.example', b'200')):
            out = self.raw(packet(base + [(b'SERVER_NAME', name)]))
            self.assertTrue(out.startswith(b'HTTP/1.1 ' + want), (name, out[:100]))

    def test_limits_apply_to_the_vars(self):
        st, _, _ = self.request('GET', '/app/env', headers={'X-Test': 'x' * 2000})
        self.assertEqual(st, 400)

    # --- straight to the uwsgi socket ------------------------------------------
    def test_an_untrusted_peer_is_closed(self):
        before = self.metric('uwsgi_peer')
        mark = self.s.log_mark()
        out = self.raw(packet([(b'REQUEST_METHOD', b'GET'), (b'REQUEST_URI', b'/app/env')]),
                       source='127.0.0.2')
        self.assertEqual(out, b'')
        self.s.wait_log('connection closed: the peer is not in WSGIUwsgiTrustedPeers', since=mark)
        self.assertEqual(self.metric('uwsgi_peer'), before + 1)

    def test_a_bad_packet_gets_400(self):
        mark = self.s.log_mark()
        out = self.raw(packet([(b'REQUEST_METHOD', b'GET'), (b'REQUEST_URI', b'/app/env')],
                              modifier1=5))
        self.assertTrue(out.startswith(b'HTTP/1.1 400 '), out[:200])
        self.s.wait_log('bad uwsgi packet: modifier1 is 5', since=mark)
        out = self.raw(packet([(b'REQUEST_METHOD', b'GET'), (b'REQUEST_URI', b'/a b')]))
        self.assertTrue(out.startswith(b'HTTP/1.1 400 '), out[:200])

    def test_a_packet_not_whole_in_time_is_closed(self):
        before = self.metric('timeout')
        mark = self.s.log_mark()
        c = socket.create_connection(('127.0.0.1', self.uw), timeout=10)
        try:
            start = time.monotonic()
            c.sendall(struct.pack('<BHB', 0, 100, 0) + b'\x0e\x00REQUEST')  # 100 declared
            self.assertEqual(c.recv(100), b'')
            took = time.monotonic() - start
        finally:
            c.close()
        self.assertTrue(1.5 < took < 5, took)
        self.s.wait_log('no complete uwsgi packet within 2 s (RequestReadTimeout header; '
                        '13 bytes received)', since=mark)
        self.assertEqual(self.metric('timeout'), before + 1)

    def test_a_raw_packet_gets_a_close_delimited_response(self):
        out = self.raw(packet([(b'REQUEST_METHOD', b'GET'), (b'REQUEST_URI', b'/app/stream'),
                               (b'SERVER_PROTOCOL', b'HTTP/1.1'), (b'HTTP_HOST', b'x'),
                               (b'REMOTE_ADDR', b'192.0.2.9'), (b'REMOTE_PORT', b'4000')]))
        head, _, body = out.partition(b'\r\n\r\n')
        self.assertTrue(head.startswith(b'HTTP/1.1 200 OK\r\n'), head)
        self.assertIn(b'\r\nConnection: close', head)
        self.assertNotIn(b'chunked', head.lower())
        self.assertEqual(body, b''.join(('line %d\n' % i).encode() for i in range(2000)))

    def test_random_packets_never_break_the_front_end(self):
        """300 packets with a well-formed header and random vars (some mutated
        from a good one): each is answered with an HTTP head or closed, and the
        same front end serves a good request afterwards."""
        rng = random.Random(15)
        pid = self.s.frontend_pid()
        good = [(b'REQUEST_METHOD', b'POST'), (b'REQUEST_URI', b'/app/env?x=1'),
                (b'CONTENT_LENGTH', b'3'), (b'HTTP_HOST', b'h'), (b'REMOTE_ADDR', b'10.0.0.1')]
        for i in range(300):
            if i % 2:
                block = bytes(rng.randrange(256) for _ in range(rng.randrange(80)))
            else:
                block = bytearray(packet(good)[4:])
                for _ in range(rng.randrange(1, 4)):
                    block[rng.randrange(len(block))] = rng.randrange(256)
                block = bytes(block)
            out = self.raw(struct.pack('<BHB', 0, len(block), 0) + block + b'abc',
                           half_close=True)
            self.assertTrue(out == b'' or out.startswith(b'HTTP/1.1 '), (i, block, out[:100]))
        self.assertEqual(self.s.frontend_pid(), pid)
        self.assertEqual(self.env()['REMOTE_ADDR'], '127.0.0.2')

    def test_check_says_whom_the_listener_trusts(self):
        r = subprocess.run([self.s.wsgid, '--check', '-f', self.s.conf], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('Listen 127.0.0.1:%d uwsgi: accepts connections only from 127.0.0.1 '
                      '(WSGIUwsgiTrustedPeers) and trusts their REMOTE_ADDR, REMOTE_PORT and '
                      'scheme (HTTPS, REQUEST_SCHEME) as the client\'s' % self.uw, r.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
