"""Listening (issue 12, point 2). A config without any Listen: the master
refuses to start with Apache's words and starts no child; `wsgid --check`
only warns (a site file checked on its own stays checkable); a reload to such
a config is refused and the running one keeps serving. A <VirtualHost> whose
address no Listen covers gets a warning naming both, at file:line.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/e2e/test_listen.py -v
"""
import os
import signal
import subprocess
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.paths import wsgid_binary
from wsgidtest.testing import test_failed
from wsgidtest.wait import wait_for

APP = """def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'listening']
"""


class Listening(unittest.TestCase):
    def daemon(self, body):
        s = Daemon(body=body, prefix='wsgid-listen-')
        self.addCleanup(lambda: s.cleanup(failed=test_failed(self)))
        s.write('app.wsgi', APP)
        s.chmod_tree()
        return s

    def without_listen(self, s):
        with open(s.conf) as f:
            text = f.read()
        self.assertIn('Listen 127.0.0.1:0\n', text)
        with open(s.conf, 'w') as f:
            f.write(text.replace('Listen 127.0.0.1:0\n', ''))

    def check(self, path):
        return subprocess.run([wsgid_binary(), '--check', '-f', path], capture_output=True,
                              text=True, timeout=60)

    def test_start_without_listen_fails_with_apaches_words(self):
        s = self.daemon('WSGIDaemonProcess nl threads=1\n'
                        'WSGIScriptAlias / {dir}/app.wsgi process-group=nl\n')
        self.without_listen(s)
        s.start(wait_ready=False)
        self.assertEqual(s.wait_exit(30), 1)
        log = s.log()
        self.assertIn('no listening sockets available, shutting down\n'
                      'AH00015: Unable to open logs\n', log)
        self.assertIn("wsgid: %s: no Listen directive; add one, such as 'Listen 80'" % s.conf, log)
        self.assertFalse(os.path.exists(s.sock('nl')), 'a group socket was opened')

    def test_check_without_listen_warns(self):
        s = self.daemon('WSGIScriptAlias / {dir}/app.wsgi\n')
        self.without_listen(s)
        r = self.check(s.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('%s: warning: no Listen directive: wsgid would not start with this file '
                      'as its main configuration' % s.conf, r.stderr)

    def test_vhost_no_listen_covers_is_named_with_the_listens(self):
        s = self.daemon('Listen 127.0.0.1:8089\n'
                        '<VirtualHost *:8089>\n</VirtualHost>\n'
                        '<VirtualHost 127.0.0.1:9099>\n</VirtualHost>\n')
        self.without_listen(s)  # the harness's port 0 would cover every port
        with open(s.conf) as f:
            lines = f.read().split('\n')
        listen_line = lines.index('Listen 127.0.0.1:8089') + 1
        vhost_line = lines.index('<VirtualHost 127.0.0.1:9099>') + 1
        r = self.check(s.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('%s:%d:14: warning: no Listen covers <VirtualHost 127.0.0.1:9099>: no '
                      'request reaches it on this address; the server listens on Listen '
                      '127.0.0.1:8089 (%s:%d)' % (s.conf, vhost_line, s.conf, listen_line),
                      r.stderr)
        self.assertIn("note: add 'Listen 127.0.0.1:9099'", r.stderr)
        self.assertNotIn('<VirtualHost *:8089>', r.stderr)  # covered: no warning

    def test_reload_without_listen_is_refused(self):
        s = self.daemon('WSGIDaemonProcess rl threads=1\n'
                        'WSGIScriptAlias / {dir}/app.wsgi process-group=rl\n')
        s.start()
        mark = s.log_mark()
        self.without_listen(s)
        s.signal(signal.SIGHUP)
        wait_for(lambda: 'has no Listen directive' in s.log_since(mark), 30, 'the refusal')
        self.assertIn('keeping the running configuration', s.log_since(mark))
        self.assertEqual(s.get('/'), (200, b'listening'))


if __name__ == '__main__':
    unittest.main()
