#!/usr/bin/python3
"""1 GiB streamed into and out of one wsgid-worker with its memory bounded
(issue #3; protocol/PROTOCOL.md: bodies travel as frames and never sit in memory)."""

import hashlib
import json
import os
import threading
import unittest

from wsgidtest import group_settings, make_environ, under_asan
from wsgidtest.testing import WSGI_APP, WorkerTestCase

GIB = 1 << 30
# The worker's RSS may grow by at most this much while 1 GiB passes through.
RSS_BOUND_KIB = 64 * 1024


class RssSampler:
    def __init__(self, h):
        self.h = h
        self.peak = 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.h.rss_kib())
            except (OSError, ValueError):
                return
            self.stop.wait(0.05)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join(5)


class StreamTest(WorkerTestCase):
    def worker(self, group):
        # AddressSanitizer keeps freed memory in a 256 MiB quarantine by default,
        # which would count as RSS here: keep it small so the bound still means
        # "the body is never held in memory".
        h = super().worker(group, start=False)
        env = dict(os.environ)
        if under_asan():
            env['ASAN_OPTIONS'] = env.get('ASAN_OPTIONS', 'detect_leaks=0') + ':quarantine_size_mb=8'
        return h.start(env=env)

    def test_one_gib_in(self):
        h = self.worker(group_settings(threads=2))
        self.assertEqual(self.get(h, '/warm').status, 200)
        base = h.rss_kib()
        block = bytes(range(256)) * 256  # 64 KiB
        md5 = hashlib.md5()

        def body():
            for _ in range(GIB // len(block)):
                md5.update(block)
                yield block
        env = make_environ('/count', method='POST', script=WSGI_APP, body=None,
                           extra={'CONTENT_LENGTH': str(GIB)})
        with RssSampler(h) as rss:
            r = h.request(env, body(), timeout=300)
        self.assertEqual(r.status, 200, h.log())
        self.assertEqual(json.loads(r.body), {'bytes': GIB, 'md5': md5.hexdigest()})
        self.assertLess(rss.peak - base, RSS_BOUND_KIB, 'worker RSS grew from %d to %d KiB' % (base, rss.peak))

    def test_one_gib_out(self):
        h = self.worker(group_settings(threads=2))
        self.assertEqual(self.get(h, '/warm').status, 200)
        base = h.rss_kib()
        got = [0]

        def sink(chunk):
            got[0] += len(chunk)
        with RssSampler(h) as rss:
            r = h.request(make_environ('/generate', query='n=%d' % GIB, script=WSGI_APP), timeout=300, sink=sink)
        self.assertTrue(r.complete, r)
        self.assertEqual((r.status, got[0]), (200, GIB))
        self.assertLess(rss.peak - base, RSS_BOUND_KIB, 'worker RSS grew from %d to %d KiB' % (base, rss.peak))


if __name__ == '__main__':
    unittest.main(verbosity=2)
