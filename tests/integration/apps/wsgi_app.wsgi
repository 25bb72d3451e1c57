# A WSGI application with one route per behaviour the worker tests need
# (tests/integration/test_worker_*.py). Plain WSGI, no framework.
import ctypes
import hashlib
import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs

loaded_at = time.time()


def _q(environ):
    return {k: v[0] for k, v in parse_qs(environ.get('QUERY_STRING', '')).items()}


def _text(start_response, body, status='200 OK', ctype='text/plain'):
    if isinstance(body, str):
        body = body.encode('utf-8')
    start_response(status, [('Content-Type', ctype), ('Content-Length', str(len(body)))])
    return [body]


class ClosingIterable:
    """Yields `count` blocks slowly; writes `marker` when closed."""

    def __init__(self, marker, count, delay):
        self.marker, self.count, self.delay = marker, count, delay

    def __iter__(self):
        for i in range(self.count):
            if i:
                time.sleep(self.delay)
            yield b'block %d\n' % i

    def close(self):
        with open(self.marker, 'w') as f:
            f.write('closed')


def application(environ, start_response):
    path = environ['PATH_INFO']
    q = _q(environ)
    if path == '/environ':
        out = {}
        for k, v in environ.items():
            out[k] = v if isinstance(v, (str, bool, int)) else repr(type(v).__name__) if k != 'wsgi.version' else list(v)
        out['types'] = {k: type(v).__name__ for k, v in environ.items()}
        out['input_methods'] = [m for m in ('read', 'readline', 'readlines', '__iter__') if hasattr(environ['wsgi.input'], m)]
        out['errors_methods'] = [m for m in ('write', 'writelines', 'flush') if hasattr(environ['wsgi.errors'], m)]
        out['pid'] = os.getpid()
        out['thread'] = threading.get_ident()
        return _text(start_response, json.dumps(out, sort_keys=True), ctype='application/json')
    if path == '/echo':
        body = environ['wsgi.input'].read()
        return _text(start_response, body, ctype='application/octet-stream')
    if path == '/read_sized':
        n = int(q.get('n', '7'))
        inp = environ['wsgi.input']
        parts = []
        while True:
            b = inp.read(n)
            if not b:
                break
            parts.append(len(b))
        return _text(start_response, json.dumps(parts))
    if path == '/read_length':
        # read(CONTENT_LENGTH) in one call, answered as [body]: the worker's
        # one-copy input and its uncopied single-block response (issue 16).
        body = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))
        return _text(start_response, body, ctype='application/octet-stream')
    if path == '/key_identity':
        # The worker reuses its environ key strings from request to request
        # (issue 16): the same key object as the previous request's.
        global _last_keys
        prev = globals().get('_last_keys') or {}
        _last_keys = {k: k for k in environ if k.isupper()}
        same = sorted(k for k in _last_keys if k in prev and prev[k] is _last_keys[k])
        return _text(start_response, json.dumps(same))
    if path == '/readinto':
        n = int(q.get('n', '7'))
        inp = environ['wsgi.input']
        inp.read(int(q.get('skip', '0')))
        buf = bytearray(n)
        counts, parts = [], []
        while True:
            k = inp.readinto(buf)
            if not k:
                break
            counts.append(k)
            parts.append(bytes(buf[:k]))
        return _text(start_response, json.dumps({'counts': counts, 'body': b''.join(parts).decode()}))
    if path == '/lines':
        inp = environ['wsgi.input']
        first = inp.readline()
        limited = inp.readline(3)
        rest_line = inp.readline()
        lines = inp.readlines(1) if q.get('hint') else []
        iterated = [line for line in inp]
        after = inp.read()
        out = {'first': first.decode(), 'limited': limited.decode(), 'rest_line': rest_line.decode(),
               'hinted': [x.decode() for x in lines], 'iterated': [x.decode() for x in iterated],
               'after': after.decode()}
        return _text(start_response, json.dumps(out), ctype='application/json')
    if path == '/read_error':
        # Reads the body to its end; a read that raises is written to the marker
        # file (issue 12: a body refused partway ends wsgi.input with an error);
        # MARKER.started says the application runs.
        with open(q['marker'] + '.started', 'w') as f:
            f.write('started')
        inp = environ['wsgi.input']
        n = 0
        try:
            while True:
                b = inp.read(1 << 16)
                if not b:
                    break
                n += len(b)
        except Exception as e:
            with open(q['marker'], 'w') as f:
                f.write('%s after %d bytes: %s' % (type(e).__name__, n, e))
            raise
        return _text(start_response, json.dumps({'bytes': n}))
    if path == '/read_part':
        # Reads the body's first n bytes only, then answers (issue 16: the
        # rest of a body read from the client's socket is dropped by the front
        # end, the connection kept).
        inp = environ['wsgi.input']
        want = int(q['n'])
        h = hashlib.md5()
        n = 0
        while n < want:
            b = inp.read(min(1 << 16, want - n))
            if not b:
                break
            n += len(b)
            h.update(b)
        return _text(start_response, json.dumps({'bytes': n, 'md5': h.hexdigest()}))
    if path == '/count':
        inp = environ['wsgi.input']
        h = hashlib.md5()
        n = 0
        while True:
            b = inp.read(1 << 16)
            if not b:
                break
            n += len(b)
            h.update(b)
        return _text(start_response, json.dumps({'bytes': n, 'md5': h.hexdigest()}))
    if path == '/generate':
        n = int(q['n'])
        block = int(q.get('block', 1 << 16))
        # numbered=1: block i is made of the byte i % 251, so that a client can
        # tell a block lost, doubled or out of order.
        numbered = q.get('numbered') == '1'
        start_response('200 OK', [('Content-Type', 'application/octet-stream')])

        def gen():
            left = n
            chunk = b'x' * block
            i = 0
            while left > 0:
                if numbered:
                    chunk = bytes([i % 251]) * block
                k = min(left, block)
                yield chunk if k == block else chunk[:k]
                left -= k
                i += 1
        return gen()
    if path == '/download':
        # n bytes, byte i being i % 251, with Content-Length `length` (n by
        # default), in blocks of `block` through write() (issue 16: a body the
        # worker writes to the client's socket itself); a write that raises is
        # written to `marker`. n=0: the head alone; read=1 reads the request
        # body first.
        n = int(q['n'])
        block = int(q.get('block', 1 << 20))
        if q.get('read'):
            environ['wsgi.input'].read()
        write = start_response('200 OK', [('Content-Type', 'application/octet-stream'),
                                          ('Content-Length', q.get('length', str(n)))])
        pat = bytes(range(251)) * (block // 251 + 2)
        off = 0
        try:
            while off < n:
                k = min(block, n - off)
                write(pat[off % 251:off % 251 + k])
                off += k
        except Exception as e:
            if 'marker' in q:
                with open(q['marker'], 'w') as f:
                    f.write('%s after %d bytes: %s' % (type(e).__name__, off, e))
            raise
        return []
    if path == '/raise':
        raise RuntimeError('boom from the test app')
    if path == '/raise_after_head':
        start_response('200 OK', [('Content-Type', 'text/plain')])

        def gen():
            yield b'first'
            raise ValueError('failed in the middle')
        return gen()
    if path == '/write':
        write = start_response('200 OK', [('Content-Type', 'text/plain')])
        write(b'written ')
        write(b'then ')
        return [b'returned']
    if path == '/exc_info':
        try:
            raise KeyError('handled')
        except KeyError:
            start_response('200 OK', [('Content-Type', 'text/plain')])
            start_response('503 Service Unavailable', [('Content-Type', 'text/plain')], sys.exc_info())
        return [b'replaced head']
    if path == '/exc_info_after_head':
        write = start_response('200 OK', [('Content-Type', 'text/plain')])
        write(b'head sent')
        try:
            raise KeyError('too late')
        except KeyError:
            start_response('500 Oops', [], sys.exc_info())
        return [b'never']
    if path == '/second_start_response':
        start_response('200 OK', [])
        start_response('200 OK', [])
        return [b'never']
    if path == '/bad_header':
        start_response('200 OK', [('X-Bad', 'a\r\nInjected: yes')])
        return [b'never']
    if path == '/str_body':
        start_response('200 OK', [])
        return ['not bytes']
    if path == '/empty':
        start_response('204 No Content', [('X-Empty', '1')])
        return []
    if path == '/errors':
        environ['wsgi.errors'].write('first error line\nsecond ')
        environ['wsgi.errors'].writelines(['part\n', 'unterminated'])
        environ['wsgi.errors'].flush()
        return _text(start_response, 'logged')
    if path == '/file_wrapper':
        f = open(environ['SCRIPT_FILENAME'], 'rb')
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return environ['wsgi.file_wrapper'](f, 100)
    if path == '/closing':
        if q.get('read'):  # the body to its end: the worker then looks for a CANCEL at each item
            while environ['wsgi.input'].read(1 << 16):
                pass
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return ClosingIterable(q['marker'], int(q.get('count', '3')), float(q.get('delay', '0')))
    if path == '/sleep':
        time.sleep(float(q.get('s', '1')))
        return _text(start_response, 'slept')
    if path == '/busy':
        # Python code that never ends: for request-timeout stack dumps.
        end = time.time() + float(q.get('s', '1'))
        while time.time() < end:
            time.sleep(0.05)
        return _text(start_response, 'done')
    if path == '/hold_gil':
        ctypes.PyDLL(None).sleep(int(q.get('s', '5')))
        return _text(start_response, 'released')
    if path == '/exit':
        os._exit(3)
    if path == '/segv':
        ctypes.string_at(0)
    if path == '/getenv':
        return _text(start_response, json.dumps({k: os.environ.get(k) for k in q.get('names', '').split(',')}))
    if path == '/setenv':
        os.environ.setdefault(q['name'], q['value'])
        return _text(start_response, os.environ[q['name']])
    if path == '/identity':
        out = {'uid': os.getuid(), 'euid': os.geteuid(), 'gid': os.getgid(), 'groups': sorted(os.getgroups()),
               'cwd': os.getcwd(), 'umask': os.umask(0o22), 'lang': os.environ.get('LANG'),
               'lc_all': os.environ.get('LC_ALL'), 'sys_path': sys.path,
               'interp': __name__, 'executable': sys.executable, 'loaded_at': loaded_at,
               'modules': sorted(m for m in sys.modules if m.startswith('_mod_wsgi_'))}
        import resource
        out['rlimit_as'] = resource.getrlimit(resource.RLIMIT_AS)
        out['rlimit_data'] = resource.getrlimit(resource.RLIMIT_DATA)
        out['rlimit_cpu'] = resource.getrlimit(resource.RLIMIT_CPU)
        return _text(start_response, json.dumps(out), ctype='application/json')
    if path == '/alloc':
        block = bytearray(int(q['mb']) << 20)
        return _text(start_response, 'allocated %d' % len(block))
    if path == '/stack':
        libc = ctypes.CDLL(None)
        libc.pthread_self.restype = ctypes.c_ulong
        attr = ctypes.create_string_buffer(128)
        libc.pthread_getattr_np(ctypes.c_ulong(libc.pthread_self()), attr)
        addr, size = ctypes.c_void_p(), ctypes.c_size_t()
        libc.pthread_attr_getstack(attr, ctypes.byref(addr), ctypes.byref(size))
        libc.pthread_attr_destroy(attr)
        return _text(start_response, str(size.value))
    if path == '/signal':
        import signal
        try:
            signal.signal(signal.SIGUSR1, signal.SIG_IGN)
            return _text(start_response, 'installed')
        except ValueError as e:
            return _text(start_response, 'refused: %s' % e)
    return _text(start_response, 'hello ' + path)


def other(environ, start_response):
    return _text(start_response, 'other callable')
