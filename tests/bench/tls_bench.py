#!/usr/bin/python3
"""HTTPS run (#13 point 6): wsgid terminating TLS against Apache (mod_ssl +
mod_wsgi daemon mode, the same hello app, 2 processes x T threads) and nginx
(`return 200` over TLS: the ceiling, no application), all from Debian, with
the same certificate (ECDSA P-256, made here with openssl) and the same
cipher (TLSv1.3, TLS_AES_128_GCM_SHA256), in one run, on loopback:

- kept-alive: `wrk -t1 -cN -dDs https://...` -> requests/s, p50/p99, and the
  server's CPU per request (user + system time of its whole process tree,
  from /proc, over the run, divided by the requests);
- new handshakes: `openssl s_time -new -time D` (one full handshake per
  connection, no resumption) -> handshakes/s and CPU per handshake.

    apt-get install apache2 libapache2-mod-wsgi-py3 nginx wrk openssl
    tests/bench/tls_bench.py --build BUILD [--duration 5] [--conns 16] [--threads 4]
                             [--servers wsgid,apache-mod-ssl,nginx] [--json FILE]

Processes started here are ended by their process-group id (peer_bench.py's
Server); the temp dir is removed. Run as root: servers drop to www-data.
Timings are never asserted by `meson test`.
"""

import argparse
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import peer_bench as pb

CIPHER13 = 'TLS_AES_128_GCM_SHA256'


def make_cert(d):
    key, pem = os.path.join(d, 'key.pem'), os.path.join(d, 'cert.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
                    'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', pem, '-days', '2',
                    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return pem, key


def cpu_ticks(srv):
    """utime + stime (clock ticks) of every live process of the server's trees."""
    total = 0
    for p in srv.procs:
        if p.poll() is not None:
            continue
        for pid in pb.tree_pids(p.pid):
            try:
                with open('/proc/%d/stat' % pid) as f:
                    st = f.read()
                fields = st[st.rindex(')') + 2:].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, ValueError, IndexError):
                pass
    return total


def wait_tls(port, timeout=30):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=2) as raw:
                with ctx.wrap_socket(raw, server_hostname='localhost') as s:
                    s.sendall(b'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
                    if s.recv(100).startswith(b'HTTP/1.1 200'):
                        return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def start_wsgid(build, apps, threads, workdir, pem, key):
    srv = pb.Server('wsgid', workdir)
    conf = os.path.join(workdir, 'wsgid.conf')
    with open(conf, 'w') as f:
        f.write('''Listen 127.0.0.1:%(port)d https
PidFile %(d)s/wsgid.pid
ErrorLog %(d)s/error.log
WSGIControlSocket %(d)s/control.sock
WSGISocketPrefix %(d)s/wsgi
KeepAliveTimeout 5
MaxKeepAliveRequests 0
WSGIRestrictEmbedded On
WSGIDaemonProcess bench processes=2 threads=%(t)d display-name=%%{GROUP}
<VirtualHost 127.0.0.1:%(port)d>
    ServerName localhost
    SSLEngine on
    SSLCertificateFile %(pem)s
    SSLCertificateKeyFile %(key)s
    SSLProtocol -all +TLSv1.3
    SSLCipherSuite TLSv1.3 %(c)s
    WSGIScriptAlias / %(a)s/hello.wsgi process-group=bench application-group=%%{GLOBAL}
</VirtualHost>
''' % {'port': srv.port, 'd': workdir, 't': threads, 'pem': pem, 'key': key, 'c': CIPHER13,
       'a': apps})
    srv.spawn([os.path.join(build, 'supervisor', 'wsgid'), '-f', conf])
    return srv


def start_apache(apps, threads, workdir, pem, key):
    srv = pb.Server('apache-mod-ssl', workdir)
    conf = os.path.join(workdir, 'httpd.conf')
    with open(conf, 'w') as f:
        f.write('''ServerRoot %(d)s
LoadModule mpm_event_module %(m)s/mod_mpm_event.so
LoadModule authz_core_module %(m)s/mod_authz_core.so
LoadModule socache_shmcb_module %(m)s/mod_socache_shmcb.so
LoadModule ssl_module %(m)s/mod_ssl.so
LoadModule wsgi_module %(m)s/mod_wsgi.so
Listen 127.0.0.1:%(port)d https
ServerName localhost
PidFile %(d)s/httpd.pid
ErrorLog %(d)s/apache-error.log
LogLevel warn
User www-data
Group www-data
KeepAlive On
MaxKeepAliveRequests 0
StartServers 2
ServerLimit 4
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 64
MaxSpareThreads 96
SSLSessionCache shmcb:%(d)s/ssl_scache(512000)
WSGISocketPrefix %(d)s/wsgi
WSGIRestrictEmbedded On
WSGIDaemonProcess bench processes=2 threads=%(t)d display-name=%%{GROUP}
<VirtualHost 127.0.0.1:%(port)d>
    SSLEngine on
    SSLCertificateFile %(pem)s
    SSLCertificateKeyFile %(key)s
    SSLProtocol -all +TLSv1.3
    SSLCipherSuite TLSv1.3 %(c)s
    WSGIProcessGroup bench
    WSGIApplicationGroup %%{GLOBAL}
    WSGIScriptAlias / %(a)s/hello.wsgi
</VirtualHost>
<Directory %(a)s>
  Require all granted
</Directory>
''' % {'d': workdir, 'm': '/usr/lib/apache2/modules', 'port': srv.port, 't': threads,
       'pem': pem, 'key': key, 'c': CIPHER13, 'a': apps})
    srv.spawn(['/usr/sbin/apache2', '-f', conf, '-DFOREGROUND'],
              env=dict(os.environ, APACHE_RUN_DIR=workdir, APACHE_LOCK_DIR=workdir,
                       APACHE_LOG_DIR=workdir))
    return srv


def start_nginx(workdir, pem, key):
    srv = pb.Server('nginx', workdir)
    conf = os.path.join(workdir, 'nginx.conf')
    user = 'user www-data;\n' if os.geteuid() == 0 else ''
    with open(conf, 'w') as f:
        f.write('''%(user)sdaemon off;
worker_processes 2;
pid %(d)s/nginx.pid;
error_log %(d)s/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(d)s/nginx-body;
    proxy_temp_path %(d)s/nginx-proxy;
    fastcgi_temp_path %(d)s/nginx-fastcgi;
    uwsgi_temp_path %(d)s/nginx-uwsgi;
    scgi_temp_path %(d)s/nginx-scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:%(port)d ssl;
        server_name localhost;
        ssl_certificate %(pem)s;
        ssl_certificate_key %(key)s;
        ssl_protocols TLSv1.3;
        ssl_conf_command Ciphersuites %(c)s;
        location / { return 200 "Hello, world!"; }
    }
}
''' % {'user': user, 'd': workdir, 'port': srv.port, 'pem': pem, 'key': key, 'c': CIPHER13})
    srv.spawn(['/usr/sbin/nginx', '-c', conf, '-p', workdir])
    return srv


def wrk_tls(port, conns, duration):
    out = subprocess.run(['wrk', '-t1', '-c%d' % conns, '-d%ds' % duration, '--timeout', '2s',
                          '--latency', 'https://127.0.0.1:%d/' % port],
                         capture_output=True, text=True, timeout=duration + 30).stdout

    def lat(label):
        m = re.search(r'^\s+%s\s+([\d.]+)(us|ms|s)\s*$' % label, out, re.M)
        if not m:
            return float('nan')
        v = float(m.group(1))
        return v / 1000 if m.group(2) == 'us' else v * 1000 if m.group(2) == 's' else v
    reqs = re.search(r'(\d+) requests in', out)
    rps = re.search(r'Requests/sec:\s+([\d.]+)', out)
    errs = 0
    m = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', out)
    if m:
        errs += sum(int(x) for x in m.groups())
    m = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    if m:
        errs += int(m.group(1))
    return {'requests': int(reqs.group(1)) if reqs else 0,
            'rps': float(rps.group(1)) if rps else 0.0, 'p50': lat('50%'), 'p99': lat('99%'),
            'errors': errs}


def s_time(port, duration):
    r = subprocess.run(['openssl', 's_time', '-connect', '127.0.0.1:%d' % port, '-new', '-time',
                        str(duration)], capture_output=True, text=True, timeout=duration + 30)
    m = re.search(r'(\d+) connections in ([\d.]+) real seconds', r.stdout)
    if not m:
        return {'handshakes': 0, 'per_s': 0.0}
    n = int(m.group(1))
    return {'handshakes': n, 'per_s': n / max(float(duration), 1e-9)}


def measure(srv, port, args):
    hz = os.sysconf('SC_CLK_TCK')
    before = cpu_ticks(srv)
    w = wrk_tls(port, args.conns, args.duration)
    after = cpu_ticks(srv)
    w['cpu_us_per_req'] = (after - before) * 1e6 / hz / w['requests'] if w['requests'] else None
    before = cpu_ticks(srv)
    h = s_time(port, args.duration)
    after = cpu_ticks(srv)
    h['cpu_us_per_handshake'] = (after - before) * 1e6 / hz / h['handshakes'] if h['handshakes'] else None
    return {'keepalive': w, 'handshake': h}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', required=True)
    ap.add_argument('--duration', type=int, default=5)
    ap.add_argument('--conns', type=int, default=16)
    ap.add_argument('--threads', type=int, default=4)
    ap.add_argument('--servers', default='wsgid,apache-mod-ssl,nginx')
    ap.add_argument('--json')
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix='wsgid-tls-bench-')
    os.chmod(work, 0o755)
    apps = os.path.join(work, 'apps')
    os.makedirs(apps)
    with open(os.path.join(apps, 'hello.wsgi'), 'w') as f:
        f.write(pb.HELLO)
    pem, key = make_cert(work)
    results = {}
    try:
        for name in args.servers.split(','):
            d = os.path.join(work, name)
            os.makedirs(d)
            os.chmod(d, 0o755)
            if name == 'wsgid':
                srv = start_wsgid(os.path.abspath(args.build), apps, args.threads, d, pem, key)
            elif name == 'apache-mod-ssl':
                srv = start_apache(apps, args.threads, d, pem, key)
            elif name == 'nginx':
                srv = start_nginx(d, pem, key)
            else:
                raise SystemExit('unknown server %s' % name)
            try:
                if not wait_tls(srv.port):
                    print('%s did not answer over TLS; see %s' % (name, d), file=sys.stderr)
                    continue
                results[name] = measure(srv, srv.port, args)
            finally:
                srv.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = results.get('wsgid')
    print('| server | keep-alive req/s | x wsgid | p50 ms | p99 ms | CPU us/req | '
          'new handshakes/s | x wsgid | CPU us/handshake | errors |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')

    def ratio(a, b):
        return '%.2fx' % (a / b) if a and b else '-'
    for name, r in results.items():
        k, h = r['keepalive'], r['handshake']
        print('| %s | %.0f | %s | %.2f | %.2f | %s | %.0f | %s | %s | %d |' % (
            name, k['rps'], ratio(k['rps'], base and base['keepalive']['rps']), k['p50'], k['p99'],
            '%.0f' % k['cpu_us_per_req'] if k['cpu_us_per_req'] else '-', h['per_s'],
            ratio(h['per_s'], base and base['handshake']['per_s']),
            '%.0f' % h['cpu_us_per_handshake'] if h['cpu_us_per_handshake'] else '-', k['errors']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'duration': args.duration, 'conns': args.conns, 'threads': args.threads,
                       'cipher': CIPHER13, 'results': results}, f, indent=1)


if __name__ == '__main__':
    main()
