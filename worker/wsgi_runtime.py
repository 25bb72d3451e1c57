# The Python half of wsgid-worker's WSGI runtime (worker/wsgi_runtime.h), embedded
# in the executable at build time and exec'd in every interpreter with `_c` bound
# to that interpreter's "_wsgid" module of C functions (worker/wsgi_runtime.cc).
# Not importable on its own: `_c` exists only inside the worker. worker/
# mod_wsgi_module.py is exec'd after it in the same namespace (events, request_data).

import os, sys, threading, time, types

# md5 from CPython's own built-in module: hashlib would load OpenSSL's libcrypto
# into every worker (2-4 MiB of memory per process) for one digest per script.
# traceback is imported where an exception is logged, for the same reason.
try:
    from _md5 import md5 as _md5
except ImportError:  # a Python built without it
    from hashlib import md5 as _md5

_ERROR, _WARN, _INFO = 3, 4, 6
_lock = threading.RLock()
_apps = {}
_missing = object()


class FileWrapper:
    """wsgi.file_wrapper: iterates a file-like object in blocks."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, 'close'):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


def _file_position(filelike):
    """(descriptor, offset) of a file object with a real descriptor, else None."""
    try:
        fileno, tell = filelike.fileno, filelike.tell
    except AttributeError:
        return None
    try:
        return fileno(), tell()
    except (OSError, ValueError):
        return None


class Input:
    """wsgi.input: the request body as it streams in; never reads past it."""

    __slots__ = ('_ctx', '_buf', '_length')

    def __init__(self, ctx, length=-1):
        self._ctx = ctx
        self._buf = b''
        self._length = length  # CONTENT_LENGTH, -1 without one (a chunked body)

    def read(self, size=-1):
        buf = self._buf
        self._buf = b''
        if (size is None or size < 0) and self._length >= 0:
            # The rest of a body of known length, in one allocation and one copy.
            size = len(buf) + max(0, self._length - _c.consumed(self._ctx))
        if size is None or size < 0:
            chunks = [buf]
            while True:
                chunk = _c.read(self._ctx, 1 << 20)
                if not chunk:
                    return b''.join(chunks)
                chunks.append(chunk)
        if len(buf) >= size:
            self._buf = buf[size:]
            return buf[:size]
        # One copy: the body frames go straight into the bytes returned.
        rest = _c.read_exact(self._ctx, size - len(buf))
        return buf + rest if buf else rest

    def readinto(self, b):
        """Fills the writable buffer b from the body; returns the count, len(b)
        unless the body ends first (0 at its end), as io.RawIOBase.readinto."""
        view = memoryview(b).cast('B')
        buf = self._buf
        n = min(len(buf), len(view))
        if n:
            view[:n] = buf[:n]
            self._buf = buf[n:]
        if n < len(view):
            n += _c.readinto(self._ctx, view[n:])
        return n

    def readline(self, size=-1):
        if size is None:
            size = -1
        buf = self._buf
        start = 0
        while True:
            i = buf.find(b'\n', start)
            if i >= 0 and (size < 0 or i < size):
                self._buf = buf[i + 1:]
                return buf[:i + 1]
            if 0 <= size <= len(buf):
                self._buf = buf[size:]
                return buf[:size]
            start = len(buf)
            chunk = _c.read(self._ctx, 65536)
            if not chunk:
                self._buf = b''
                return buf
            buf += chunk

    def readlines(self, hint=-1):
        lines = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class Errors:
    """wsgi.errors: lines go to the group's log, tagged with the request id."""

    __slots__ = ('_rid', '_buf')

    def __init__(self, rid):
        self._rid = rid
        self._buf = ''

    def write(self, s):
        if type(s) is not str:
            raise TypeError('wsgi.errors.write() argument must be str, not %s' % type(s).__name__)
        buf = self._buf + s
        if '\n' in buf:
            lines = buf.split('\n')
            buf = lines.pop()
            for line in lines:
                _c.log(_ERROR, self._rid, line)
        self._buf = buf

    def writelines(self, seq):
        for s in seq:
            self.write(s)

    def flush(self):
        if self._buf:
            _c.log(_ERROR, self._rid, self._buf)
            self._buf = ''


class _Response:
    """start_response and write for one request (PEP 3333's exc_info rules)."""

    __slots__ = ('ctx', 'status', 'headers', 'sent')

    def __init__(self, ctx):
        self.ctx = ctx
        self.status = None
        self.headers = None
        self.sent = False

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError('start_response() called a second time without exc_info')
        if type(status) is not str:
            raise TypeError('status must be str, not %s' % type(status).__name__)
        if type(headers) is not list:
            raise TypeError('response headers must be a list, not %s' % type(headers).__name__)
        self.status = status
        self.headers = headers
        if events_wanted():
            publish('response_started', {'response_status': status, 'response_headers': headers,
                                         'exception_info': exc_info, 'request_data': request_data()})
        return self.write

    def write(self, data):
        if self.status is None:
            raise AssertionError('write() called before start_response()')
        if self.sent:
            _c.send(self.ctx, None, None, data, True)
        else:
            self.sent = True
            _c.send(self.ctx, self.status, self.headers, data, True)


def module_name(path):
    return '_mod_wsgi_' + _md5(path.encode('utf-8', 'surrogateescape')).hexdigest()


# Scripts whose code has run to the end. sys.modules holds a script's module
# while its code still runs (so that it can import itself, as Python's import
# does), so another request thread must wait for the lock, as mod_wsgi makes
# it wait, instead of taking a half-loaded module from sys.modules.
_loaded = {}


def exec_script(path, name):
    """Runs the script file at `path` as a new module `name`, as mod_wsgi loads a
    WSGI script: its source compiled on its own (no __future__ of ours), the
    module in sys.modules while its code runs (so that it can import itself, as
    Python's import allows) and taken out again if that code raises. Returns the
    module. The caller holds _lock. Also the front end's loader of mod_wsgi's
    auth scripts (supervisor/frontend/auth_scripts.py)."""
    with open(path, 'rb') as f:
        source = f.read()
    code = compile(source, path, 'exec', dont_inherit=True)
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_script(path):
    name = module_name(path)
    module = _loaded.get(name)
    if module is not None:
        return module
    with _lock:
        module = _loaded.get(name)
        if module is not None:
            return module
        module = sys.modules.get(name)
        if module is not None:
            return module  # this thread is running the script's code right now
        mtime = file_mtime(path)  # before the read: a later change is seen next time
        module = exec_script(path, name)
        module.__mtime__ = mtime
        _loaded[name] = module
        return module


def file_mtime(path):
    """The file's modification time in microseconds (mod_wsgi's __mtime__, an
    apr_time_t), or None when it cannot be read."""
    try:
        return os.stat(path).st_mtime_ns // 1000
    except OSError:
        return None


def reload_if_changed(path, rid):
    """mod_wsgi's module reloading in embedded mode (WSGIScriptReloading On):
    when the script's file no longer has the mtime its module was loaded with
    (or is gone), the module is dropped, and the next find_app() execs the file
    again in a new module of the same name. Only the script's module is
    reloaded, not what it imports, as in mod_wsgi. Requests running the old
    module finish with it."""
    name = module_name(path)
    module = _loaded.get(name)
    if module is None or module.__dict__.get('__mtime__') == file_mtime(path):
        return
    with _lock:
        module = _loaded.get(name)
        if module is None or module.__dict__.get('__mtime__') == file_mtime(path):
            return  # another thread reloaded it meanwhile
        _c.log(_INFO, rid, "Reloading WSGI script '%s'." % path)
        del _loaded[name]
        if sys.modules.get(name) is module:
            del sys.modules[name]
        for key in list(_apps):
            if key[0] == path:
                _apps.pop(key, None)


def find_app(script, name):
    app = _apps.get((script, name))
    if app is None:
        loaded = module_name(script) in _loaded
        if not loaded:
            _c.startup(1)
        module = load_script(script)
        if not loaded:
            _c.startup(0)
        app = getattr(module, name, _missing)
        if app is _missing:
            return None
        _apps[(script, name)] = app
    return app


def log_exception(rid, script):
    _c.log(_ERROR, rid, "Exception occurred processing WSGI script '%s'." % script)
    exc = sys.exc_info()[1]
    if isinstance(exc, MemoryError):
        # The frames of the traceback still hold what the application
        # allocated up to its limit (memory-limit, virtual-memory-limit): free
        # their locals, or importing and running traceback fails in turn.
        tb = exc.__traceback__
        while tb is not None:
            try:
                tb.tb_frame.clear()
            except RuntimeError:  # a frame still running (this one's callers)
                pass
            tb = tb.tb_next
    try:
        import traceback
        lines = traceback.format_exc().rstrip('\n').split('\n')
    except BaseException:
        lines = ['(the traceback could not be formatted) %s: %s' % (type(exc).__name__, exc)]
    for line in lines:
        _c.log(_ERROR, rid, line)


def handle(environ, ctx, rid, script, name, reload=0):
    errors = Errors(rid)
    try:
        length = int(environ.get('CONTENT_LENGTH') or -1)
    except ValueError:
        length = -1
    environ['wsgi.input'] = Input(ctx, length)
    environ['wsgi.errors'] = errors
    response = _Response(ctx)
    start = request_began(rid, environ)
    try:
        try:
            if reload:
                reload_if_changed(script, rid)
            app = find_app(script, name)
        except BaseException:
            _c.log(_ERROR, rid, "Failed to exec Python script file '%s'." % script)
            log_exception(rid, script)
            _c.fail(ctx, 500, 'Internal Server Error')
            return
        if app is None:
            _c.log(_ERROR, rid, "Target WSGI script '%s' does not contain WSGI application '%s'."
                   % (script, name))
            _c.fail(ctx, 404, 'Not Found')
            return
        if events_wanted():
            event = {'request_environ': environ, 'application_object': app,
                     'request_start': start, 'request_data': request_data()}
            publish('request_started', event)
            app = event['application_object']
        result = app(environ, response.start_response)
        try:
            flush = type(result) is not list and type(result) is not tuple
            if (not flush and len(result) == 1 and response.status is not None and not response.sent
                    and result[0]):
                # The common `return [body]`: head, body and end in one call and
                # one write, the body not copied (lists and tuples have no close()).
                response.sent = True
                _c.send(ctx, response.status, response.headers, result[0], False, True)
                return
            if (type(result) is FileWrapper and response.status is not None and not response.sent):
                # mod_wsgi's sendfile for wsgi.file_wrapper: a regular file's
                # rest goes from the file to the client's socket when the
                # front end gives it (a Content-Length of 128 KiB or more).
                where = _file_position(result.filelike)
                if where is not None:
                    response.sent = True
                    if _c.send_file(ctx, response.status, response.headers, where[0], where[1]):
                        _c.finish(ctx)
                        return
            for data in result:
                if response.status is None:
                    raise AssertionError('the application yielded data before calling start_response()')
                if data:
                    if response.sent:
                        _c.send(ctx, None, None, data, flush)
                    else:
                        response.sent = True
                        _c.send(ctx, response.status, response.headers, data, flush)
            if response.status is None:
                raise AssertionError('the application returned without calling start_response()')
            if not response.sent:
                response.sent = True
                _c.send(ctx, response.status, response.headers, b'', False)
            _c.finish(ctx)
        finally:
            close = getattr(result, 'close', None)
            if close is not None:
                close()
    except BaseException:
        if events_wanted():
            publish('request_exception', {'exception_info': sys.exc_info(),
                                          'request_data': request_data()})
        if _c.gone(ctx):
            _c.log(_INFO, rid, "client went away before the response of '%s' was complete" % script)
        else:
            log_exception(rid, script)
        _c.fail(ctx, 500, 'Internal Server Error')
    finally:
        errors.flush()
        if events_wanted():
            finish = time.time()
            publish('request_finished', {'application_finish': finish,
                                         'application_time': finish - start,
                                         'request_data': request_data()})
        request_ended(rid)
