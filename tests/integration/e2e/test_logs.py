"""Access logs (issue 12 point 5) over real HTTP with the real wsgid, workers and
front end.

- Every directive of mod_log_config's table in one LogFormat: two requests on
  one kept-alive connection, sent as raw bytes so that %I and %O (mod_logio) are
  checked against the exact byte counts, and every other field against what the
  request and response were (a Basic user, a status condition, cookies, the
  response's Set-Cookie and Content-Type, the frontend's pid, the request id the
  app saw...); then a client that leaves before its response (%X is X).
- A HUP that adds a <VirtualHost> whose CustomLog sits in a root-owned 0755
  directory: the front end runs as www-data and could not open it; the master
  opens it and passes the descriptor, so the file fills (as root only).
- `wsgid --check` refuses an unknown directive with file:line:col, and piped
  logs.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/e2e/test_logs.py -v
"""
import base64
import os
import re
import signal
import socket
import subprocess
import time
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.paths import wsgid_binary
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

HTPASSWD = '/usr/bin/htpasswd'

APP = """
def application(environ, start_response):
    if environ['PATH_INFO'] == '/sleep':
        import time
        time.sleep(3)
    body = environ['mod_wsgi.request_id'].encode()
    status = '501 Not Implemented' if environ['PATH_INFO'] == '/boom' else '200 OK'
    start_response(status, [('Content-Type', 'text/plain; charset=utf-8'),
                            ('Content-Length', str(len(body))),
                            ('Set-Cookie', 'k=v'), ('Set-Cookie', 'j=w')])
    return [body]
"""

# Every directive, tab-separated as KEY=VALUE (the \\t escape of LogFormat).
FIELDS = [
    ('a', '%a'), ('ca', '%{c}a'), ('A', '%A'), ('b', '%b'), ('B', '%B'), ('D', '%D'),
    ('f', '%f'), ('h', '%h'), ('ch', '%{c}h'), ('H', '%H'), ('I', '%I'), ('k', '%k'),
    ('l', '%l'), ('L', '%L'), ('m', '%m'), ('O', '%O'), ('p', '%p'), ('lp', '%{local}p'),
    ('rp', '%{remote}p'), ('P', '%P'), ('q', '%q'), ('r', '%r'), ('R', '%R'), ('s', '%s'),
    ('S', '%S'), ('t', '%t'), ('tf', '%{%Y-%m-%d}t'), ('te', '%{end:sec}t'), ('T', '%T'),
    ('Tus', '%{us}T'), ('u', '%u'), ('U', '%U'), ('v', '%v'), ('V', '%V'), ('X', '%X'),
    ('e', '%{mod_wsgi.process_group}e'), ('eu', '%{HOME}e'), ('n', '%{error-notes}n'),
    ('i', '%{User-Agent}i'), ('o', '%{Content-Type}o'), ('sc', '%{Set-Cookie}o'),
    ('fs', '%>s'), ('os', '%<s'), ('c', '%400,501{User-Agent}i'),
    ('nc', '%!200,304{Referer}i'), ('C', '%{sid}C'), ('pct', '%%'),
    # The environ the script was given, as mod_wsgi leaves it in subprocess_env.
    ('es', '%{SCRIPT_NAME}e'), ('ep', '%{PATH_INFO}e'), ('eq', '%{QUERY_STRING}e'),
    ('ea', '%{HTTP_USER_AGENT}e'), ('er', '%{REMOTE_USER}e'),
]
FORMAT = '\\t'.join('%s=%s' % f for f in FIELDS)

BODY = """
ServerName logs.example
WSGIDaemonProcess lg processes=1 threads=2
WSGIScriptAlias /app {dir}/app/app.wsgi process-group=lg
<Location /app>
    AuthType Basic
    AuthName "logs"
    AuthUserFile {dir}/htpasswd
    Require valid-user
</Location>
LogFormat "%s" every
CustomLog {dir}/logs/every.log every
""" % FORMAT.replace('{', '{{').replace('}', '}}')


def exchange(sock, raw):
    """Sends raw request bytes, reads one response with a Content-Length ->
    (status, raw response bytes)."""
    sock.sendall(raw)
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        assert chunk, 'connection closed before the response head: %r' % data
        data += chunk
    head, _, rest = data.partition(b'\r\n\r\n')
    length = int(re.search(rb'(?im)^content-length:\s*(\d+)', head).group(1))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk
        rest += chunk
    return int(head.split(b' ')[1]), head + b'\r\n\r\n' + rest


class EveryDirective(unittest.TestCase):
    def test_one_line_with_every_directive(self):
        s = Daemon(body=BODY, prefix='wsgid-logs-')
        self.addCleanup(lambda: s.cleanup(failed=test_failed(self)))
        s.write('app/app.wsgi', APP)
        os.makedirs(s.path('logs'))
        subprocess.run([HTPASSWD, '-c', '-b', '-B', s.path('htpasswd'), 'alice', 'pw'],
                       check=True, capture_output=True)
        s.chmod_tree()
        s.start()
        port = s.port()
        auth = base64.b64encode(b'alice:pw').decode()
        sock = socket.create_connection(('127.0.0.1', port), timeout=30)
        self.addCleanup(sock.close)
        client_port = sock.getsockname()[1]
        first = ('GET /app/x%%20y?q=1 HTTP/1.1\r\nHost: WWW.Example.ORG:%d\r\n'
                 'User-Agent: test-agent/1.0\r\nReferer: http://ref.example/\r\n'
                 'Cookie: a=1; sid=abc; z=2\r\nAuthorization: Basic %s\r\n\r\n'
                 % (port, auth)).encode()
        st1, resp1 = exchange(sock, first)
        self.assertEqual(st1, 200, resp1)
        second = ('GET /app/boom HTTP/1.1\r\nHost: logs.example\r\nUser-Agent: ua-2\r\n'
                  'Referer: http://ref2/\r\nAuthorization: Basic %s\r\nConnection: close\r\n\r\n'
                  % auth).encode()
        st2, resp2 = exchange(sock, second)
        self.assertEqual(st2, 501, resp2)
        log = s.path('logs', 'every.log')
        wait_for(lambda: os.path.exists(log) and open(log).read().count('\n') == 2, 30,
                 'two access lines')
        lines = [dict(f.split('=', 1) for f in line.split('\t'))
                 for line in open(log).read().splitlines()]
        self.assertEqual([list(l) for l in lines], [[k for k, _ in FIELDS]] * 2)
        one, two = lines
        request_id = resp1.partition(b'\r\n\r\n')[2].decode()
        fe = str(s.frontend_pid())
        now = time.time()
        want1 = {
            'a': '127.0.0.1', 'ca': '127.0.0.1', 'A': '127.0.0.1', 'b': str(len(request_id)),
            'B': str(len(request_id)), 'f': s.path('app', 'app.wsgi'), 'h': '127.0.0.1',
            'ch': '127.0.0.1', 'H': 'HTTP/1.1', 'I': str(len(first)), 'k': '0', 'l': '-',
            'L': request_id, 'm': 'GET', 'O': str(len(resp1)), 'p': str(port),
            'lp': str(port), 'rp': str(client_port), 'P': fe, 'q': '?q=1',
            'r': 'GET /app/x%20y?q=1 HTTP/1.1', 'R': 'wsgi-script', 's': '200',
            'S': str(len(first) + len(resp1)), 'T': '0', 'u': 'alice', 'U': '/app/x y',
            'v': 'logs.example', 'V': 'www.example.org', 'X': '+', 'e': 'lg', 'eu': '-',
            'n': '-', 'i': 'test-agent/1.0', 'o': 'text/plain', 'sc': 'k=v, j=w', 'fs': '200',
            'os': '200', 'c': '-', 'nc': '-', 'C': 'abc', 'pct': '%',
            'es': '/app', 'ep': '/x y', 'eq': 'q=1', 'ea': 'test-agent/1.0', 'er': 'alice',
            'tf': time.strftime('%Y-%m-%d', time.localtime(now)),
        }
        for k, v in want1.items():
            self.assertEqual(one[k], v, 'first request, %s: %r' % (k, one))
        self.assertRegex(one['t'], r'^\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]$')
        self.assertLess(abs(int(one['te']) - now), 60)
        self.assertGreater(int(one['D']), 0)
        self.assertEqual(int(one['Tus']) // 1000000, int(one['T']))
        want2 = {
            'k': '1', 'X': '-', 's': '501', 'fs': '501', 'c': 'ua-2', 'nc': 'http://ref2/',
            'I': str(len(second)), 'O': str(len(resp2)), 'V': 'logs.example', 'C': '-',
            'U': '/app/boom', 'q': '', 'r': 'GET /app/boom HTTP/1.1', 'sc': 'k=v, j=w',
            'ep': '/boom', 'eq': '', 'ea': 'ua-2',
        }
        for k, v in want2.items():
            self.assertEqual(two[k], v, 'second request, %s: %r' % (k, two))
        # A client that leaves before its response: logged, with %X "X".
        gone = socket.create_connection(('127.0.0.1', port), timeout=30)
        gone.sendall(('GET /app/sleep HTTP/1.1\r\nHost: logs.example\r\n'
                      'Authorization: Basic %s\r\n\r\n' % auth).encode())
        time.sleep(0.5)
        gone.close()
        wait_for(lambda: open(log).read().count('\n') == 3, 30, 'the third access line')
        three = dict(f.split('=', 1) for f in open(log).read().splitlines()[2].split('\t'))
        self.assertEqual((three['U'], three['X'], three['k']), ('/app/sleep', 'X', '0'), three)
        s.check_log_clean()


class RootOwnedLogAfterReload(unittest.TestCase):
    """Issue 12: a HUP that adds a vhost with a CustomLog in a root-owned directory
    failed with "Permission denied": the front end (www-data) opened it."""

    def test_hup_adds_vhost_with_log_in_root_owned_dir(self):
        if os.geteuid() != 0:
            self.skipTest('needs root: the front end must run as another user')
        s = Daemon(body='ServerName main.example\n'
                        'WSGIDaemonProcess rl processes=1 threads=2\n'
                        'WSGIScriptAlias /app {dir}/app/app.wsgi process-group=rl\n',
                   prefix='wsgid-logs-')
        self.addCleanup(lambda: s.cleanup(failed=test_failed(self)))
        s.write('app/app.wsgi', APP.replace("environ['mod_wsgi.request_id']", "'ok'"))
        s.chmod_tree()
        logs = s.path('rootlogs')
        os.makedirs(logs)
        os.chmod(logs, 0o755)  # root's, as /var/log/apache2: www-data may not create files
        s.start()
        fe_pid = s.frontend_pid()
        fe_uid = int(open('/proc/%d/status' % fe_pid).read().split('Uid:')[1].split()[0])
        self.assertNotEqual(fe_uid, 0)
        self.assertEqual(s.request('GET', '/app/before', headers={'Host': 'site.example'})[0], 200)
        site_log = os.path.join(logs, 'site.log')
        default_log = os.path.join(logs, 'default.log')
        script = s.path('app', 'app.wsgi')
        with open(s.conf, 'a') as f:
            # The first <VirtualHost> answers names no other one has; without a
            # ServerName it has the main server's (%v).
            f.write('<VirtualHost *>\n  WSGIScriptAlias /app %s process-group=rl\n'
                    '  CustomLog %s "%%v %%V %%U %%>s"\n</VirtualHost>\n'
                    '<VirtualHost *>\n  ServerName site.example\n'
                    '  WSGIScriptAlias /app %s process-group=rl\n'
                    '  CustomLog %s "%%V %%U %%>s"\n</VirtualHost>\n'
                    % (script, default_log, script, site_log))
        mark = s.log_mark()
        s.signal(signal.SIGHUP)
        s.wait_log('reload: 0 added, 0 removed', since=mark)
        time.sleep(0.5)  # the new settings reach the front end
        self.assertEqual(s.frontend_pid(), fe_pid)  # same Listen: the same front end
        for i in range(3):
            st, _, _ = s.request('GET', '/app/after-%d' % i, headers={'Host': 'site.example'})
            self.assertEqual(st, 200)
        wait_for(lambda: os.path.exists(site_log) and
                 open(site_log).read().count('\n') == 3, 30, 'three lines in site.log')
        self.assertEqual(open(site_log).read().splitlines(),
                         ['site.example /app/after-%d 200' % i for i in range(3)])
        self.assertEqual(s.request('GET', '/app/other', headers={'Host': 'other.example'})[0], 200)
        wait_for(lambda: os.path.exists(default_log) and open(default_log).read(), 30,
                 'a line in default.log')
        self.assertEqual(open(default_log).read(), 'main.example other.example /app/other 200\n')
        st = os.stat(site_log)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o640))
        self.assertNotIn('Permission denied', s.log())
        s.check_log_clean()


class CheckRefuses(unittest.TestCase):
    def check(self, text):
        d = Daemon(body='', prefix='wsgid-logs-check-')
        self.addCleanup(lambda: d.cleanup())
        conf = d.write('check.conf', text)
        r = subprocess.run([wsgid_binary(), '--check', '-f', conf], capture_output=True,
                           text=True, timeout=60)
        return r.returncode, r.stderr + r.stdout, conf

    def test_unknown_directive_and_piped_logs(self):
        rc, out, conf = self.check('Listen 127.0.0.1:0\nLogFormat "%h %Z %>s" odd\n')
        self.assertNotEqual(rc, 0, out)
        self.assertIn("%s:2:16: error: unknown LogFormat directive '%%Z'" % conf, out)
        rc, out, conf = self.check('Listen 127.0.0.1:0\n'
                                   'CustomLog "|/usr/bin/rotatelogs /tmp/x 86400" combined\n')
        self.assertNotEqual(rc, 0, out)
        self.assertIn('%s:2:11: error: piped logs are refused' % conf, out)


if __name__ == '__main__':
    unittest.main()
