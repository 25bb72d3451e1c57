"""Python compatibility (issue 12, point 7): `sys.argv` is ['mod_wsgi'] and
`import mod_wsgi` gives mod_wsgi 4.9.4's module, over HTTP, in a daemon
group's main interpreter (%{GLOBAL}), in a sub-interpreter (another
application group) and in embedded mode (the front end's Python); the
callbacks given to mod_wsgi.subscribe_shutdown run at a graceful stop, in the
workers and in the front end (each writes a file the test reads), and subscribe_events sees request_started and
request_finished.

Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/e2e/test_mod_wsgi_module.py -v
"""
import glob
import json
import os
import unittest

from wsgidtest.daemon import Daemon
from wsgidtest.testing import test_failed

APP = """import json, os, sys
import mod_wsgi

STOP_DIR = %r
events = []

def on_shutdown(name, **event):
    if not mod_wsgi.process_group:
        where = 'embedded'
    else:
        where = mod_wsgi.application_group or 'GLOBAL'
    path = os.path.join(STOP_DIR, 'stopped-%%d-%%s' %% (os.getpid(), where))
    with open(path, 'w') as f:
        json.dump({'name': name, 'event': event}, f)

def on_event(name, **event):
    if name in ('request_started', 'request_finished'):
        events.append((name, sorted(k for k in event if k != 'request_data')))
        mod_wsgi.request_data()['seen'] = name

mod_wsgi.subscribe_shutdown(on_shutdown)
mod_wsgi.subscribe_events(on_event)

def application(environ, start_response):
    names = ('version', 'process_group', 'application_group', 'maximum_processes',
             'threads_per_process')
    out = {n: getattr(mod_wsgi, n) for n in names}
    out['argv'] = sys.argv
    out['server_metrics'] = mod_wsgi.server_metrics()
    out['pid'] = mod_wsgi.process_metrics()['pid'] == os.getpid()
    out['request_data'] = mod_wsgi.request_data()
    out['events'] = events[-2:]
    out['callables'] = sorted(n for n in ('subscribe_shutdown', 'subscribe_events', 'request_data',
                                          'process_metrics', 'server_metrics', 'request_metrics')
                              if callable(getattr(mod_wsgi, n, None)))
    out['file_wrapper'] = mod_wsgi.FileWrapper is environ['wsgi.file_wrapper']
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [json.dumps(out).encode()]
"""

BODY = """
WSGIDaemonProcess site processes=2 threads=3
WSGIScriptAlias /global {dir}/app.wsgi process-group=site application-group=%{{GLOBAL}}
WSGIScriptAlias /sub {dir}/app.wsgi process-group=site application-group=other
WSGIScriptAlias /embedded {dir}/app.wsgi
ThreadsPerChild 4
"""


class ModWsgiModule(unittest.TestCase):
    def setUp(self):
        self.s = Daemon(body=BODY, prefix='wsgid-modwsgi-')
        self.addCleanup(lambda: self.s.cleanup(failed=test_failed(self)))
        self.stop_dir = self.s.path('stops')
        os.makedirs(self.stop_dir)
        os.chmod(self.stop_dir, 0o777)
        self.s.write('app.wsgi', APP % self.stop_dir)
        self.s.chmod_tree()
        self.s.start()

    def answer(self, path):
        st, body = self.s.get(path)
        self.assertEqual(st, 200, body[:500])
        return json.loads(body)

    def test_module_in_each_interpreter(self):
        cases = [
            # path, process_group, application_group, processes, threads
            ('/global', 'site', '', 2, 3),
            ('/sub', 'site', 'other', 2, 3),
            # No application-group: mod_wsgi's default %{RESOURCE}, "host:port|/embedded".
            ('/embedded', '', '|/embedded', 1, 4),
        ]
        for path, group, app_group, processes, threads in cases:
            with self.subTest(path=path):
                self.answer(path)  # the second answer has seen one whole request
                a = self.answer(path)
                self.assertEqual(a['argv'], ['mod_wsgi'])
                self.assertEqual(a['version'], [4, 9, 4])
                self.assertEqual(a['process_group'], group)
                if app_group.startswith('|'):
                    self.assertTrue(a['application_group'].endswith(app_group), a)
                else:
                    self.assertEqual(a['application_group'], app_group)
                self.assertEqual(a['maximum_processes'], processes)
                self.assertEqual(a['threads_per_process'], threads)
                self.assertIsNone(a['server_metrics'])
                self.assertTrue(a['pid'])
                self.assertTrue(a['file_wrapper'])
                self.assertEqual(a['callables'], ['process_metrics', 'request_data',
                                                  'request_metrics', 'server_metrics',
                                                  'subscribe_events', 'subscribe_shutdown'])
                # request_started ran before the app, with mod_wsgi's keys, and
                # wrote into this request's request_data().
                self.assertEqual(a['request_data'], {'seen': 'request_started'})
                names = [e[0] for e in a['events']]
                self.assertIn('request_started', names)
                self.assertIn('request_finished', names)
                started = [e[1] for e in a['events'] if e[0] == 'request_started'][0]
                self.assertEqual(started, ['application_object', 'request_environ',
                                           'request_start'])

    def test_subscribe_shutdown_at_graceful_stop(self):
        # Reach both interpreters of both workers (connections spread over them).
        for _ in range(20):
            for path in ('/global', '/sub', '/embedded'):
                st, _ = self.s.get(path)
                self.assertEqual(st, 200)
        pids = set(self.s.pids('site'))
        frontend = self.s.frontend_pid()
        self.s.stop()
        self.assertEqual(self.s.proc.returncode, 0, self.s.log())
        found = {}
        for path in glob.glob(os.path.join(self.stop_dir, 'stopped-*')):
            with open(path) as f:
                found[os.path.basename(path)] = json.load(f)
        self.assertTrue(found, 'no shutdown callback ran; log:\n' + self.s.log())
        for name, rec in found.items():
            self.assertEqual(rec['name'], 'process_stopping', name)
            self.assertEqual(rec['event'], {'shutdown_reason': ''}, name)
        # One file per interpreter of each worker that served it (a stop of the
        # whole server has mod_wsgi's reason "").
        seen = {(int(n.split('-')[1]), n.split('-')[2]) for n in found}
        self.assertTrue({p for p, g in seen if g != 'embedded'} <= pids, (seen, pids))
        self.assertIn('GLOBAL', {g for _, g in seen})
        self.assertIn('other', {g for _, g in seen})
        self.assertIn((frontend, 'embedded'), seen)

if __name__ == '__main__':
    unittest.main()
