"""TLS termination from Apache's SSL directives (issue 13 points 1-3), against
the real wsgid (master, front end, a Python worker), with real clients:
curl (--cacert, --resolve for SNI, --cert), `openssl s_client` (protocol,
ALPN, the certificate served) and Python's ssl/http.client.

Certificates are made here with the openssl CLI: a CA, server certificates
for a.test and b.test, a client certificate; every key 0600 (root's when the
test runs as root, as CI does: the front end then runs as www-data and could
not open them, so it can only serve what the master handed it).

- SNI: a.test and b.test on one TLS Listen, each its certificate; a client
  without SNI gets the first vhost's; 421 when Host picks the other vhost;
- client certificates: SSLVerifyClient optional (with and without one: the
  SSL_CLIENT_* environ, mod_ssl's DN form) and require (no certificate: no
  handshake);
- SSLOptions +StdEnvVars +ExportCertData, HTTPS, wsgi.url_scheme, SERVER_PORT;
- SSLProtocol TLSv1.3 only refuses TLSv1.2; ALPN offers http/1.1;
- keep-alive, pipelining, a large streamed upload and download over TLS; the
  handshake bounded by Timeout;
- SSLRequireSSL: 403 over plain HTTP (also beside Require all granted and
  SSLOptions +StrictRequire), 200 over TLS;
- a PROXY protocol header (RemoteIPProxyProtocol On) before the TLS handshake;
- a renewed certificate swapped in under load, then HUP: no failed request,
  the new certificate served; a broken renewal keeps the old one and says why;
- OpenSSL on demand (docs/decisions.md 51): a plain-HTTP site's master and
  front end map no OpenSSL; a reload that adds a TLS server (and an
  SSLOpenSSLConfCmd line) loads it in both, and the new server answers;
  without the module, `wsgid -t` and the start refuse a TLS configuration
  with the module's path and dlopen()'s reason.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/tls/test_tls.py -v
"""
import hashlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.paths import wsgid_binary
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

OPENSSL = '/usr/bin/openssl'
CURL = '/usr/bin/curl'

APP = r"""
import hashlib, json, os

KEYS = ('HTTPS', 'REQUEST_SCHEME', 'REMOTE_ADDR', 'SERVER_PORT', 'SERVER_NAME', 'SSL_PROTOCOL', 'SSL_CIPHER',
        'SSL_TLS_SNI', 'SSL_SESSION_RESUMED', 'SSL_CLIENT_VERIFY', 'SSL_CLIENT_S_DN',
        'SSL_CLIENT_I_DN', 'SSL_CLIENT_CERT', 'SSL_SERVER_S_DN')

def application(environ, start_response):
    path = environ.get('PATH_INFO', '')
    if path == '/upload':
        h = hashlib.sha256()
        n = 0
        while True:
            chunk = environ['wsgi.input'].read(65536)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
        body = json.dumps({'n': n, 'sha': h.hexdigest()}).encode()
        start_response('200 OK', [('Content-Type', 'application/json')])
        return [body]
    if path.startswith('/download/'):
        n = int(path.split('/')[2])
        headers = [('Content-Type', 'application/octet-stream')]
        if environ.get('QUERY_STRING') == 'length':
            headers.append(('Content-Length', str(n)))
        start_response('200 OK', headers)
        block = bytes(range(256)) * 256
        def gen():
            left = n
            while left > 0:
                yield block[:min(left, len(block))]
                left -= len(block)
        return gen()
    env = {k: environ.get(k) for k in KEYS}
    env['wsgi.url_scheme'] = environ['wsgi.url_scheme']
    env['pid'] = os.getpid()
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [json.dumps(env).encode()]
"""


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(args, **kw):
    return subprocess.run(args, capture_output=True, timeout=60, **kw)


class Certs:
    """A CA, server certificates and a client certificate, made with openssl."""

    def __init__(self, d):
        self.d = d
        self.ca_key, self.ca = self.p('ca.key'), self.p('ca.pem')
        run([OPENSSL, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
             '-nodes', '-keyout', self.ca_key, '-out', self.ca, '-days', '2', '-subj',
             '/O=wsgid test/CN=wsgid test CA'], check=True)
        for name in ('a.test', 'b.test'):
            self.server(name, name)
        self.client('client')

    def p(self, name):
        return os.path.join(self.d, name)

    def sign(self, stem, subj, ext):
        key, csr, pem = self.p(stem + '.key'), self.p(stem + '.csr'), self.p(stem + '.pem')
        run([OPENSSL, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
             '-keyout', key, '-out', csr, '-subj', subj], check=True)
        extfile = self.p(stem + '.ext')
        with open(extfile, 'w') as f:
            f.write(ext)
        run([OPENSSL, 'x509', '-req', '-in', csr, '-CA', self.ca, '-CAkey', self.ca_key,
             '-CAcreateserial', '-out', pem, '-days', '2', '-extfile', extfile], check=True)
        os.chmod(key, 0o600)  # as certbot leaves privkey.pem
        os.chmod(pem, 0o644)
        return pem, key

    def server(self, stem, name):
        return self.sign(stem, '/CN=%s' % name, 'subjectAltName=DNS:%s\n' % name)

    def client(self, stem):
        return self.sign(stem, '/O=wsgid test/CN=client', 'extendedKeyUsage=clientAuth\n')


def serial_of_pem(pem_text):
    r = run([OPENSSL, 'x509', '-noout', '-serial'], input=pem_text.encode())
    return r.stdout.decode().strip()


def served_cert(port, servername=None, extra=()):
    """The certificate `openssl s_client` gets (PEM text) and its output."""
    args = [OPENSSL, 's_client', '-connect', '127.0.0.1:%d' % port, '-showcerts']
    args += ['-servername', servername] if servername else ['-noservername']
    r = run(args + list(extra), input=b'')
    out = r.stdout.decode('utf-8', 'replace')
    start = out.find('-----BEGIN CERTIFICATE-----')
    end = out.find('-----END CERTIFICATE-----')
    pem = out[start:end + 25] + '\n' if start >= 0 else ''
    return pem, out, r.returncode


def subject_of(pem):
    r = run([OPENSSL, 'x509', '-noout', '-subject', '-nameopt', 'RFC2253'], input=pem.encode())
    return r.stdout.decode().strip()


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.port13 = free_port()
        cls.port_req = free_port()
        cls.port_proxy = free_port()
        body = r"""
Timeout 4
RequestReadTimeout header=30 body=30
WSGIDaemonProcess app processes=1 threads=4
WSGIScriptAlias / {dir}/app.wsgi process-group=app application-group=%{{GLOBAL}}
<Location /secure>
    SSLRequireSSL
</Location>
<Location /secure-any>
    SSLRequireSSL
    SSLOptions +StrictRequire
    Require all granted
</Location>
Listen 127.0.0.1:%(port)d https
<VirtualHost 127.0.0.1:%(port)d>
    ServerName a.test
    SSLEngine on
    SSLCertificateFile {dir}/a.test.pem
    SSLCertificateKeyFile {dir}/a.test.key
    SSLCACertificateFile {dir}/ca.pem
    SSLVerifyClient optional
    SSLVerifyDepth 2
    SSLOptions +StdEnvVars +ExportCertData
    WSGITrustedProxyHeaders X-Forwarded-Proto
    WSGITrustedProxies 127.0.0.1
</VirtualHost>
<VirtualHost 127.0.0.1:%(port)d>
    ServerName b.test
    SSLEngine on
    SSLCertificateFile {dir}/b.test.pem
    SSLCertificateKeyFile {dir}/b.test.key
    SSLOptions +StdEnvVars
</VirtualHost>
Listen 127.0.0.1:%(port13)d https
<VirtualHost 127.0.0.1:%(port13)d>
    ServerName a.test
    SSLCertificateFile {dir}/a.test.pem
    SSLCertificateKeyFile {dir}/a.test.key
    SSLProtocol -all +TLSv1.3
</VirtualHost>
Listen 127.0.0.1:%(port_req)d https
<VirtualHost 127.0.0.1:%(port_req)d>
    ServerName a.test
    SSLCertificateFile {dir}/a.test.pem
    SSLCertificateKeyFile {dir}/a.test.key
    SSLCACertificateFile {dir}/ca.pem
    SSLVerifyClient require
    SSLOptions +StdEnvVars
</VirtualHost>
Listen 127.0.0.1:%(port_proxy)d https
<VirtualHost 127.0.0.1:%(port_proxy)d>
    ServerName a.test
    SSLCertificateFile {dir}/a.test.pem
    SSLCertificateKeyFile {dir}/a.test.key
    RemoteIPProxyProtocol On
</VirtualHost>
"""
        for key, value in (('%(port)d', cls.port), ('%(port13)d', cls.port13),
                           ('%(port_req)d', cls.port_req), ('%(port_proxy)d', cls.port_proxy)):
            body = body.replace(key, str(value))
        s = Daemon(body=body, prefix='wsgid-tls-')
        cls.s = s
        s.write('app.wsgi', APP)
        cls.certs = Certs(s.dir)
        s.start()
        cls.plain_port = s.port()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.s.check_log_clean()
        except AssertionError:
            cls.failed = True
            raise
        finally:
            cls.s.cleanup(failed=getattr(cls, 'failed', False))

    def tearDown(self):
        if test_failed(self):
            type(self).failed = True

    # --- helpers ---------------------------------------------------------------
    def curl(self, name, path='/', port=None, extra=()):
        port = port or self.port
        r = run([CURL, '-sS', '--max-time', '20', '--cacert', self.certs.ca, '--resolve',
                 '%s:%d:127.0.0.1' % (name, port), '-w', '\n%{http_code}',
                 'https://%s:%d%s' % (name, port, path)] + list(extra))
        out = r.stdout.decode('utf-8', 'replace')
        body, _, code = out.rpartition('\n')
        return r.returncode, int(code or 0), body, r.stderr.decode()

    def env(self, name='a.test', **kw):
        rc, code, body, err = self.curl(name, **kw)
        self.assertEqual((rc, code), (0, 200), err + body)
        return json.loads(body)

    def context(self, name='a.test'):
        ctx = ssl.create_default_context(cafile=self.certs.ca)
        return ctx

    # --- tests -------------------------------------------------------------------
    def test_sni_picks_each_vhost_certificate_and_the_first_is_the_default(self):
        for name in ('a.test', 'b.test'):
            pem, out, _ = served_cert(self.port, name)
            self.assertIn('CN=%s' % name, subject_of(pem), out)
        pem, out, _ = served_cert(self.port, None)
        self.assertIn('CN=a.test', subject_of(pem), out)
        e = self.env('b.test')
        self.assertEqual(e['SSL_TLS_SNI'], 'b.test')
        self.assertEqual(e['SERVER_NAME'], 'b.test')

    def test_421_when_host_and_sni_pick_different_vhosts(self):
        rc, code, body, err = self.curl('a.test', extra=['-H', 'Host: b.test'])
        self.assertEqual(code, 421, err + body)
        # Same vhost by Host and SNI: served.
        rc, code, body, err = self.curl('a.test', extra=['-H', 'Host: a.test:%d' % self.port])
        self.assertEqual(code, 200, err + body)

    def test_environ_https_scheme_port_and_std_env_vars(self):
        e = self.env('a.test')
        self.assertEqual(e['HTTPS'], 'on')
        self.assertEqual(e['wsgi.url_scheme'], 'https')
        self.assertEqual(e['REQUEST_SCHEME'], 'https')
        self.assertEqual(e['SERVER_PORT'], str(self.port))
        self.assertTrue(e['SSL_PROTOCOL'].startswith('TLSv1.'), e)
        self.assertTrue(e['SSL_CIPHER'], e)
        self.assertEqual(e['SSL_TLS_SNI'], 'a.test')
        self.assertEqual(e['SSL_SESSION_RESUMED'], 'Initial')
        self.assertEqual(e['SSL_CLIENT_VERIFY'], 'NONE')
        self.assertIsNone(e['SSL_CLIENT_S_DN'])
        self.assertEqual(e['SSL_SERVER_S_DN'], 'CN=a.test')
        # The connection's TLS wins over a trusted proxy's X-Forwarded-Proto.
        e = self.env('a.test', extra=['-H', 'X-Forwarded-Proto: http'])
        self.assertEqual((e['HTTPS'], e['wsgi.url_scheme']), ('on', 'https'))

    def test_client_certificate_optional_gives_ssl_client_environ(self):
        e = self.env('a.test', extra=['--cert', self.certs.p('client.pem'),
                                      '--key', self.certs.p('client.key')])
        self.assertEqual(e['SSL_CLIENT_VERIFY'], 'SUCCESS')
        # mod_ssl's form: RFC 2253, most specific first.
        self.assertEqual(e['SSL_CLIENT_S_DN'], 'CN=client,O=wsgid test')
        self.assertEqual(e['SSL_CLIENT_I_DN'], 'CN=wsgid test CA,O=wsgid test')
        with open(self.certs.p('client.pem')) as f:
            self.assertEqual(e['SSL_CLIENT_CERT'].strip(), f.read().strip())

    def test_client_certificate_required(self):
        rc, code, body, err = self.curl('a.test', port=self.port_req)
        self.assertNotEqual(rc, 0, 'no client certificate, yet served: %s' % body)
        e = self.env('a.test', port=self.port_req,
                     extra=['--cert', self.certs.p('client.pem'), '--key',
                            self.certs.p('client.key')])
        self.assertEqual(e['SSL_CLIENT_VERIFY'], 'SUCCESS')

    def test_sslprotocol_tls13_only_refuses_tls12_and_alpn_is_http11(self):
        _, out, rc = served_cert(self.port13, 'a.test', ['-tls1_2'])
        self.assertNotEqual(rc, 0, out)
        _, out, rc = served_cert(self.port13, 'a.test', ['-tls1_3', '-alpn', 'h2,http/1.1'])
        self.assertEqual(rc, 0, out)
        self.assertIn('ALPN protocol: http/1.1', out)
        self.assertIn('TLSv1.3', out)
        # The other listener still speaks TLSv1.2.
        _, out, rc = served_cert(self.port, 'a.test', ['-tls1_2'])
        self.assertEqual(rc, 0, out)

    def test_keep_alive_pipelining_and_large_bodies_both_ways(self):
        ctx = self.context()
        raw = socket.create_connection(('127.0.0.1', self.port), timeout=30)
        s = ctx.wrap_socket(raw, server_hostname='a.test')
        try:
            req = b'GET /one HTTP/1.1\r\nHost: a.test\r\n\r\nGET /two HTTP/1.1\r\nHost: a.test\r\n\r\n'
            s.sendall(req)
            data = b''
            deadline = time.time() + 20
            while data.count(b'HTTP/1.1 200') < 2 and time.time() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            self.assertEqual(data.count(b'HTTP/1.1 200'), 2, data)
        finally:
            s.close()
        # Keep-alive: three requests, one connection, one handshake.
        conn = http.client.HTTPSConnection('a.test', self.port, timeout=60, context=ctx)
        conn.sock = ctx.wrap_socket(socket.create_connection(('127.0.0.1', self.port), timeout=60),
                                    server_hostname='a.test')
        try:
            payload = os.urandom(8 * 1024 * 1024)
            conn.request('POST', '/upload', body=payload)
            r = conn.getresponse()
            got = json.loads(r.read())
            self.assertEqual(got, {'n': len(payload), 'sha': hashlib.sha256(payload).hexdigest()})
            n = 16 * 1024 * 1024
            conn.request('GET', '/download/%d' % n)
            r = conn.getresponse()
            body = r.read()
            self.assertEqual(len(body), n)
            self.assertEqual(body[:512], bytes(range(256)) * 2)
            # With a Content-Length: the front end keeps the client's socket
            # (no worker may write past the TLS layer, PROTOCOL.md 5.6).
            conn.request('GET', '/download/%d?length' % n)
            r = conn.getresponse()
            self.assertEqual(r.getheader('Content-Length'), str(n))
            body = r.read()
            self.assertEqual(body, (bytes(range(256)) * (n // 256 + 1))[:n])
            sock_before = conn.sock
            conn.request('GET', '/x')
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
            self.assertIs(conn.sock, sock_before)  # the same TLS connection
        finally:
            conn.close()

    def test_proxy_protocol_header_before_the_handshake(self):
        # HAProxy's send-proxy in front of a TLS Listen: the PROXY header comes in
        # the clear, then the TLS handshake on the same connection.
        ctx = self.context()
        raw = socket.create_connection(('127.0.0.1', self.port_proxy), timeout=20)
        raw.sendall(b'PROXY TCP4 203.0.113.7 127.0.0.1 40000 %d\r\n' % self.port_proxy)
        s = ctx.wrap_socket(raw, server_hostname='a.test')
        try:
            s.sendall(b'GET /who HTTP/1.0\r\nHost: a.test\r\n\r\n')  # no chunking
            data = b''
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        head, _, body = data.partition(b'\r\n\r\n')
        self.assertTrue(head.startswith(b'HTTP/1.0 200') or head.startswith(b'HTTP/1.1 200'), data)
        env = json.loads(body)
        self.assertEqual(env['REMOTE_ADDR'], '203.0.113.7')
        self.assertEqual(env['wsgi.url_scheme'], 'https')

    def test_handshake_must_end_within_timeout(self):
        # Timeout 4, RequestReadTimeout header=30: a client that never sends its
        # ClientHello is closed by Timeout, as mod_reqtimeout's handshake=0 leaves it.
        raw = socket.create_connection(('127.0.0.1', self.port), timeout=20)
        t0 = time.monotonic()
        try:
            self.assertEqual(raw.recv(1), b'')
        finally:
            raw.close()
        took = time.monotonic() - t0
        self.assertGreater(took, 3.0)
        self.assertLess(took, 10.0)

    def test_sslrequiressl_403_over_plain_http(self):
        c = http.client.HTTPConnection('127.0.0.1', self.plain_port, timeout=20)
        c.request('GET', '/secure/x')
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 403)
        c.request('GET', '/open')
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.read())['wsgi.url_scheme'], 'http')
        c.close()
        # An access rule that lets everyone in never lifts SSLRequireSSL
        # (SSLOptions +StrictRequire is what wsgid always does).
        c = http.client.HTTPConnection('127.0.0.1', self.plain_port, timeout=20)
        c.request('GET', '/secure-any/x')
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 403)
        c.close()
        rc, code, body, err = self.curl('a.test', path='/secure/x')
        self.assertEqual(code, 200, err + body)
        rc, code, body, err = self.curl('a.test', path='/secure-any/x')
        self.assertEqual(code, 200, err + body)

    def test_frontend_runs_unprivileged_and_keys_stay_roots(self):
        if os.geteuid() != 0:
            self.skipTest('needs root: the front end runs as www-data only under root')
        st = os.stat(self.certs.p('a.test.key'))
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o600))
        def cmdline(pid):
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                return f.read()
        fe = [p for p in self.s.child_pids() if b'frontend' in cmdline(p)]
        self.assertTrue(fe)
        with open('/proc/%d/status' % fe[0]) as f:
            uids = [l for l in f if l.startswith('Uid:')][0].split()[1:]
        self.assertNotIn('0', uids)
        # Yet it serves the key's certificate.
        self.env('a.test')

    def test_zz_renewal_under_load_then_broken_renewal(self):
        old_pem, _, _ = served_cert(self.port, 'a.test')
        failures, done = [], []
        stop = threading.Event()
        ctx = self.context()

        def load():
            while not stop.is_set():
                try:
                    c = http.client.HTTPSConnection('a.test', self.port, timeout=20, context=ctx)
                    c.sock = ctx.wrap_socket(
                        socket.create_connection(('127.0.0.1', self.port), timeout=20),
                        server_hostname='a.test')
                    for _ in range(3):  # kept alive across the reload
                        c.request('GET', '/load')
                        r = c.getresponse()
                        r.read()
                        if r.status != 200:
                            failures.append(r.status)
                        done.append(1)
                    c.close()
                except Exception as e:  # noqa: BLE001 - any failure counts
                    failures.append(repr(e))

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            # certbot's renewal: new key and certificate in place, then the deploy hook's reload.
            new = Certs.__new__(Certs)
            new.d, new.ca, new.ca_key = self.s.dir, self.certs.ca, self.certs.ca_key
            new.server('renewed', 'a.test')
            os.replace(self.certs.p('renewed.key'), self.certs.p('a.test.key'))
            os.replace(self.certs.p('renewed.pem'), self.certs.p('a.test.pem'))
            mark = self.s.log_mark()
            self.s.signal(signal.SIGHUP)
            self.s.wait_log('reload: 0 added', since=mark)
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertEqual(failures, [])
        self.assertGreater(len(done), 20)
        with open(self.certs.p('a.test.pem')) as f:
            renewed = f.read()
        wait_for(lambda: serial_of_pem(served_cert(self.port, 'a.test')[0]) == serial_of_pem(renewed),
                 10, 'the renewed certificate served')
        self.assertNotEqual(serial_of_pem(old_pem), serial_of_pem(renewed))
        # A broken renewal: the key of another certificate. The old one keeps serving.
        with open(self.certs.p('b.test.key')) as f:
            other_key = f.read()
        with open(self.certs.p('a.test.key'), 'w') as f:
            f.write(other_key)
        ok, text = self.s.wsgictl('reload')
        self.assertTrue(ok, text)
        self.assertIn('the certificate loaded before keeps serving', text)  # wsgictl says why
        self.assertIn('does not match', self.s.log())
        self.assertIn('the certificate loaded before keeps serving', self.s.log())
        pem, _, _ = served_cert(self.port, 'a.test')
        self.assertEqual(serial_of_pem(pem), serial_of_pem(renewed))
        self.env('a.test')


def maps_openssl(pid):
    """OpenSSL lives in wsgid-tls.so, which a process loads only for a TLS server."""
    with open('/proc/%d/maps' % pid) as f:
        text = f.read()
    return [name for name in ('wsgid-tls.so', 'libssl.so', 'libcrypto.so') if name in text]


class TlsOnDemand(unittest.TestCase):
    PLAIN = """
WSGIDaemonProcess ondemand processes=1 threads=2
WSGIScriptAlias / {dir}/app.wsgi process-group=ondemand application-group=%{{GLOBAL}}
"""
    TLS = """
Listen 127.0.0.1:%(port)d https
<VirtualHost 127.0.0.1:%(port)d>
    ServerName a.test
    SSLEngine on
    SSLCertificateFile {dir}/a.test.pem
    SSLCertificateKeyFile {dir}/a.test.key
    SSLOpenSSLConfCmd Curves X25519:prime256v1
    SSLOptions +StdEnvVars
</VirtualHost>
"""

    def test_openssl_loaded_only_once_a_server_speaks_tls(self):
        port = free_port()
        with Daemon(body=self.PLAIN, prefix='wsgid-tls-ondemand-') as s:
            s.write('app.wsgi', APP)
            certs = Certs(s.dir)
            s.start()
            fe = s.frontend_pid()
            self.assertEqual(s.get('/')[0], 200)
            self.assertEqual(maps_openssl(s.proc.pid), [], 'the master of a plain-HTTP site')
            self.assertEqual(maps_openssl(fe), [], 'the front end of a plain-HTTP site')
            with open('/proc/%d/maps' % fe) as f:  # nor apr-util, with no AuthUserFile
                self.assertNotIn('libaprutil', f.read())
            s.write_body(self.PLAIN + self.TLS.replace('%(port)d', str(port)))
            ok, text = s.wsgictl('reload')
            self.assertTrue(ok, text)
            # A new Listen: a new front end takes the listeners.
            s.wait_frontend(not_pid=fe)
            rc, code, body = None, None, ''
            def served():
                nonlocal rc, code, body
                r = run([CURL, '-sS', '--max-time', '10', '--cacert', certs.ca, '--resolve',
                         'a.test:%d:127.0.0.1' % port, '-w', '\n%{http_code}',
                         'https://a.test:%d/' % port])
                out = r.stdout.decode('utf-8', 'replace')
                body, _, c = out.rpartition('\n')
                rc, code = r.returncode, int(c or 0)
                return (rc, code) == (0, 200)
            wait_for(served, 20, 'the TLS server added by the reload')
            self.assertEqual(json.loads(body)['SSL_TLS_SNI'], 'a.test')
            self.assertIn('wsgid-tls.so', maps_openssl(s.proc.pid))
            self.assertIn('wsgid-tls.so', maps_openssl(s.frontend_pid()))
            s.check_log_clean()

    def test_a_missing_module_is_an_error_naming_it(self):
        """Without wsgid-tls.so a TLS configuration is refused, and says why."""
        with tempfile.TemporaryDirectory(prefix='wsgid-tls-missing-') as d:
            Certs(d)  # a.test.pem and a.test.key
            tls = self.TLS.replace('%(port)d', str(free_port())).format(dir=d)
            with open(os.path.join(d, 'conf.conf'), 'w') as f:
                f.write(tls)
            with open(os.path.join(d, 'files.conf'), 'w') as f:
                f.write(tls.replace('    SSLOpenSSLConfCmd Curves X25519:prime256v1\n', ''))
            env = dict(os.environ, WSGID_TLS_MODULE=os.path.join(d, 'nowhere', 'wsgid-tls.so'))
            dlopen = 'dlopen(%s/nowhere/wsgid-tls.so)' % d
            # The parser's question about SSLOpenSSLConfCmd: file:line:col and the fix.
            r = run([wsgid_binary(), '-t', '-f', os.path.join(d, 'conf.conf')], env=env)
            out = (r.stdout + r.stderr).decode()
            self.assertEqual(r.returncode, 1, out)
            self.assertIn("conf.conf:8:23: error: SSLOpenSSLConfCmd: cannot ask OpenSSL whether "
                          "it knows 'Curves': " + dlopen, out)
            self.assertIn('set WSGID_TLS_MODULE to its path', out)
            # The master's certificate check at start: not starting, and why.
            r = run([wsgid_binary(), '-f', os.path.join(d, 'files.conf')], env=env)
            out = (r.stdout + r.stderr).decode()
            self.assertNotEqual(r.returncode, 0, out)
            self.assertIn('a.test: cannot load OpenSSL: ' + dlopen, out)
            self.assertIn('TLS certificates could not be loaded; not starting', out)


if __name__ == '__main__':
    unittest.main()
