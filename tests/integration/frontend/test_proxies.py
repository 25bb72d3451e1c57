"""Behind a balancer (issue 13 points 4 and 5), with Debian's own nginx and
HAProxy in front of the real wsgid, all on loopback; 127.0.0.2 is the client,
127.0.0.1 the proxies:

- mod_wsgi's WSGITrustedProxyHeaders + WSGITrustedProxies 127.0.0.1 behind nginx
  (TLS, `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`,
  `X-Forwarded-Proto $scheme`): the app's REMOTE_ADDR is the client's and its
  wsgi.url_scheme https; the same headers sent straight from 127.0.0.2 are
  removed and change nothing; `Require ip 127.0.0.2` still sees the peer
  (127.0.0.1): 403;
- mod_remoteip's RemoteIPHeader + RemoteIPInternalProxy behind nginx: the
  client's address reaches `Require ip` (200), the app and the access log
  (%a the client, %{c}a the proxy);
- RemoteIPProxyProtocol On behind HAProxy's `send-proxy-v2` and `send-proxy`:
  the same, per connection; a connection without a PROXY header is closed with
  no answer and the reason in the log.

nginx and HAProxy run from configs written into the temp dir (nginx -p DIR -c
CONF with `daemon off;`, haproxy -f CONF -db), and are stopped by their pids.
Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/frontend/test_proxies.py -v
"""
import http.client
import json
import os
import socket
import ssl
import subprocess
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

NGINX = '/usr/sbin/nginx'
HAPROXY = '/usr/sbin/haproxy'
OPENSSL = '/usr/bin/openssl'

APP = """import json

def application(environ, start_response):
    keys = ('REMOTE_ADDR', 'REMOTE_PORT', 'HTTP_X_FORWARDED_FOR', 'HTTP_X_FORWARDED_PROTO',
            'HTTP_HOST', 'HTTP_X_FORWARDED_BY', 'wsgi.url_scheme')
    body = json.dumps({k: environ.get(k) for k in keys}).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
"""

# {pp}: the PROXY protocol listener, {rip}: the RemoteIPHeader listener; the
# head's Listen 127.0.0.1:0 is the WSGITrustedProxyHeaders one.
BODY = r"""
LogFormat "%a %{{c}}a \"%r\" %>s" proxied
CustomLog {dir}/access.log proxied
Listen 127.0.0.1:{pp}
Listen 127.0.0.1:{rip}
WSGIDaemonProcess app processes=1 threads=4
WSGIScriptAlias / {dir}/app.wsgi process-group=app application-group=%{{GLOBAL}}
WSGITrustedProxyHeaders X-Forwarded-For X-Forwarded-Proto
WSGITrustedProxies 127.0.0.1
<Location /only2>
    Require ip 127.0.0.2
</Location>
<VirtualHost 127.0.0.1:{pp}>
    RemoteIPProxyProtocol On
</VirtualHost>
RemoteIPProxyProtocolExceptions 127.0.0.4
<VirtualHost 127.0.0.1:{rip}>
    RemoteIPHeader X-Forwarded-For
    RemoteIPInternalProxy 127.0.0.1
    RemoteIPProxiesHeader X-Forwarded-By
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
    server {{
        listen 127.0.0.1:{tls} ssl;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
        location / {{
            proxy_pass http://127.0.0.1:{wsgi};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
    server {{
        listen 127.0.0.1:{plain};
        location / {{
            proxy_pass http://127.0.0.1:{rip};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""

# The README's HAProxy example: TCP mode, the PROXY header first.
HAPROXY_CONF = """global
    maxconn 64
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend v2
    bind 127.0.0.1:{v2}
    default_backend wsgid_v2
backend wsgid_v2
    server wsgid 127.0.0.1:{pp} send-proxy-v2
frontend v1
    bind 127.0.0.1:{v1}
    default_backend wsgid_v1
backend wsgid_v1
    server wsgid 127.0.0.1:{pp} send-proxy
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


def get(port, path, headers=None, source='127.0.0.2', tls=False):
    """One GET from source -> (status, body)."""
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection('127.0.0.1', port, timeout=20, context=ctx,
                                        source_address=(source, 0))
    else:
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=20, source_address=(source, 0))
    try:
        c.request('GET', path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def seen(port, path='/env', **kw):
    st, body = get(port, path, **kw)
    assert st == 200, (st, body)
    return json.loads(body)


def accepts(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
        return True
    except OSError:
        return False


class BehindABalancer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.procs = []
        pp, rip, tls, plain, v2, v1 = free_ports(6)
        cls.pp, cls.rip, cls.tls, cls.plain, cls.v2, cls.v1 = pp, rip, tls, plain, v2, v1
        s = Daemon(body=BODY.replace('{pp}', str(pp)).replace('{rip}', str(rip)),
                   prefix='wsgid-proxies-')
        cls.s = s
        s.write('app.wsgi', APP)
        subprocess.run([OPENSSL, 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
                        'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj',
                        '/CN=localhost', '-keyout', s.path('key.pem'), '-out',
                        s.path('cert.pem')], check=True, capture_output=True)
        s.chmod_tree()
        s.start()
        cls.wsgi = s.port()
        s.write('nginx.conf', NGINX_CONF.format(dir=s.dir, tls=tls, plain=plain, wsgi=cls.wsgi,
                                                rip=rip))
        s.write('haproxy.cfg', HAPROXY_CONF.format(v2=v2, v1=v1, pp=pp))
        for argv in ([NGINX, '-p', s.dir, '-c', s.path('nginx.conf')],
                     [HAPROXY, '-f', s.path('haproxy.cfg'), '-db']):
            log = open(s.path(os.path.basename(argv[0]) + '.out'), 'ab')
            cls.procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                              stderr=subprocess.STDOUT, cwd=s.dir))
        for port in (tls, plain, v2, v1):
            wait_for(lambda: accepts(port), 20, 'a proxy listening on %d' % port)

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:  # only the processes this test started, by pid
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        cls.s.cleanup(failed=getattr(cls, 'failed', False))

    def tearDown(self):
        if test_failed(self):
            type(self).failed = True

    def access_log(self):
        with open(self.s.path('access.log')) as f:
            return f.read()

    # --- mod_wsgi's trusted proxy headers --------------------------------------
    def test_trusted_headers_from_nginx_give_the_client_and_https(self):
        env = seen(self.tls, tls=True)
        self.assertEqual(env['REMOTE_ADDR'], '127.0.0.2')
        self.assertEqual(env['wsgi.url_scheme'], 'https')
        self.assertEqual(env['HTTP_X_FORWARDED_FOR'], '127.0.0.2')
        # A client's own X-Forwarded-For in front of nginx's: the walk stops at
        # the first untrusted item from the right, the client nginx saw.
        env = seen(self.tls, tls=True, headers={'X-Forwarded-For': '9.9.9.9'})
        self.assertEqual(env['REMOTE_ADDR'], '127.0.0.2')
        self.assertEqual(env['HTTP_X_FORWARDED_FOR'], '127.0.0.2')

    def test_trusted_headers_from_an_untrusted_peer_are_removed(self):
        env = seen(self.wsgi, headers={'X-Forwarded-For': '9.9.9.9',
                                       'X-Forwarded-Proto': 'https'})
        self.assertEqual(env['REMOTE_ADDR'], '127.0.0.2')
        self.assertEqual(env['wsgi.url_scheme'], 'http')
        self.assertIsNone(env['HTTP_X_FORWARDED_FOR'])
        self.assertIsNone(env['HTTP_X_FORWARDED_PROTO'])

    def test_require_ip_sees_the_peer_under_trusted_headers(self):
        st, _ = get(self.tls, '/only2', tls=True)
        self.assertEqual(st, 403)  # the peer is nginx at 127.0.0.1
        # ... and so is what the access log's %a says (mod_wsgi changes the environ only).
        wait_for(lambda: '127.0.0.1 127.0.0.1 "GET /only2 HTTP/1.0" 403' in self.access_log(),
                 10, 'the peer as %a under WSGITrustedProxyHeaders')
        st, _ = get(self.wsgi, '/only2')
        self.assertEqual(st, 200)  # straight from 127.0.0.2

    # --- mod_remoteip: RemoteIPHeader ---------------------------------------
    def test_remoteip_header_from_nginx_reaches_require_ip_and_the_log(self):
        env = seen(self.plain)
        self.assertEqual(env['REMOTE_ADDR'], '127.0.0.2')
        self.assertEqual(env['REMOTE_PORT'], '0')  # mod_remoteip: not known
        self.assertIsNone(env['HTTP_X_FORWARDED_FOR'])  # consumed whole
        self.assertIsNone(env['HTTP_X_FORWARDED_BY'])  # an internal proxy is not listed
        st, _ = get(self.plain, '/only2')
        self.assertEqual(st, 200)
        st, _ = get(self.plain, '/only2', source='127.0.0.3')
        self.assertEqual(st, 403)
        wait_for(lambda: '127.0.0.3 127.0.0.1 "GET /only2 HTTP/1.0" 403' in self.access_log(),
                 10, 'the client and the peer in the access log')
        self.assertIn('127.0.0.2 127.0.0.1 "GET /only2 HTTP/1.0" 200', self.access_log())

    def test_remoteip_header_from_an_unlisted_peer_is_not_believed(self):
        st, _ = get(self.rip, '/only2', source='127.0.0.3',
                    headers={'X-Forwarded-For': '127.0.0.2'})
        self.assertEqual(st, 403)
        env = seen(self.rip, source='127.0.0.3', headers={'X-Forwarded-For': '127.0.0.2'})
        self.assertEqual(env['REMOTE_ADDR'], '127.0.0.3')

    # --- mod_remoteip: the PROXY protocol -------------------------------------
    def test_proxy_protocol_v2_and_v1_from_haproxy(self):
        for port, version in ((self.v2, 'v2'), (self.v1, 'v1')):
            env = seen(port)
            self.assertEqual(env['REMOTE_ADDR'], '127.0.0.2', version)
            self.assertNotEqual(env['REMOTE_PORT'], '0', version)
            st, _ = get(port, '/only2')
            self.assertEqual(st, 200, version)
            st, _ = get(port, '/only2', source='127.0.0.3')
            self.assertEqual(st, 403, version)
        wait_for(lambda: '127.0.0.3 127.0.0.1 "GET /only2 HTTP/1.1" 403' in self.access_log(),
                 10, 'the PROXY client in the access log')

    def raw(self, data, source='127.0.0.2'):
        """data sent on a new connection to the PROXY listener -> the whole answer."""
        c = socket.create_connection(('127.0.0.1', self.pp), timeout=10,
                                     source_address=(source, 0))
        try:
            c.sendall(data)
            out = b''
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    return out
                out += chunk
        finally:
            c.close()

    def test_local_and_unknown_headers_keep_the_peer_and_exceptions_need_none(self):
        req = b'GET /env HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
        sig = b'\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a'
        for what, head in (('v2 LOCAL', sig + b'\x20\x00\x00\x00'),
                           ('v1 UNKNOWN', b'PROXY UNKNOWN\r\n')):
            out = self.raw(head + req)
            self.assertTrue(out.startswith(b'HTTP/1.1 200'), (what, out))
            self.assertEqual(json.loads(out.split(b'\r\n\r\n', 1)[1])['REMOTE_ADDR'],
                             '127.0.0.2', what)
        out = self.raw(req, source='127.0.0.4')  # RemoteIPProxyProtocolExceptions
        self.assertTrue(out.startswith(b'HTTP/1.1 200'), out)
        self.assertEqual(self.raw(req, source='127.0.0.5'), b'')  # not an exception: closed

    def test_a_connection_without_a_proxy_header_is_closed(self):
        mark = self.s.log_mark()
        c = socket.create_connection(('127.0.0.1', self.pp), timeout=10)
        try:
            c.sendall(b'GET /env HTTP/1.1\r\nHost: x\r\n\r\n')
            self.assertEqual(c.recv(4096), b'')  # closed, no answer
        finally:
            c.close()
        self.s.wait_log('connection closed: not a PROXY protocol header: the connection began '
                        "with 'GET /env HTTP/1.1", since=mark)
        # A header that never completes: closed after the short deadline.
        mark = self.s.log_mark()
        start = time.monotonic()
        c = socket.create_connection(('127.0.0.1', self.pp), timeout=20)
        try:
            c.sendall(b'PROXY TCP4 ')
            self.assertEqual(c.recv(4096), b'')
        finally:
            c.close()
        self.assertLess(time.monotonic() - start, 15)
        self.s.wait_log('no complete PROXY protocol header within', since=mark)

    def test_log_is_clean(self):
        self.assertEqual(self.s.log_problems(), [])


if __name__ == '__main__':
    unittest.main()
