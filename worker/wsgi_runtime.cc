#include "worker/wsgi_runtime.h"

#include <fmt/core.h>

#include <cctype>
#include <string>

#include "common/log.h"
#include "worker/interpreters.h"

namespace wsgid::worker {

std::atomic<int64_t> g_startup_pending_since{0};

namespace {

// The Python half of the runtime, exec'd in every interpreter with `_c` bound to
// that interpreter's "_wsgid" module of C functions (below).
const char kRuntimeSource[] = R"PY(
import hashlib, sys, threading, traceback, types

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


class Input:
    """wsgi.input: the request body as it streams in; never reads past it."""

    __slots__ = ('_ctx', '_buf')

    def __init__(self, ctx):
        self._ctx = ctx
        self._buf = b''

    def read(self, size=-1):
        buf = self._buf
        self._buf = b''
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
        chunks = [buf]
        n = len(buf)
        while n < size:
            chunk = _c.read(self._ctx, size - n)
            if not chunk:
                break
            chunks.append(chunk)
            n += len(chunk)
        return b''.join(chunks)

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
    return '_mod_wsgi_' + hashlib.md5(path.encode('utf-8', 'surrogateescape')).hexdigest()


# Scripts whose code has run to the end. sys.modules holds a script's module
# while its code still runs (so that it can import itself, as Python's import
# does), so another request thread must wait for the lock, as mod_wsgi makes
# it wait, instead of taking a half-loaded module from sys.modules.
_loaded = {}


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
        _loaded[name] = module
        return module


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
    for line in traceback.format_exc().rstrip('\n').split('\n'):
        _c.log(_ERROR, rid, line)


def handle(environ, ctx, rid, script, name):
    errors = Errors(rid)
    environ['wsgi.input'] = Input(ctx)
    environ['wsgi.errors'] = errors
    response = _Response(ctx)
    try:
        try:
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
        result = app(environ, response.start_response)
        try:
            flush = type(result) is not list and type(result) is not tuple
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
        if _c.gone(ctx):
            _c.log(_INFO, rid, "client went away before the response of '%s' was complete" % script)
        else:
            log_exception(rid, script)
        _c.fail(ctx, 500, 'Internal Server Error')
    finally:
        errors.flush()
)PY";

constexpr const char* kCapsule = "wsgid.request";

struct CtxRef {
  RequestIo* io;
};

void capsule_free(PyObject* cap) { delete static_cast<CtxRef*>(PyCapsule_GetPointer(cap, kCapsule)); }

RequestIo* io_of(PyObject* cap) {
  auto* ref = static_cast<CtxRef*>(PyCapsule_GetPointer(cap, kCapsule));
  if (!ref) return nullptr;
  if (!ref->io) {
    PyErr_SetString(PyExc_ValueError, "request is finished");
    return nullptr;
  }
  return ref->io;
}

PyObject* raise_io(RequestIo* io, std::string_view what) {
  std::string msg = io->gone() ? fmt::format("{}: the client went away", what)
                               : fmt::format("{}: {}", what, io->error());
  PyErr_SetString(PyExc_OSError, msg.c_str());
  return nullptr;
}

PyObject* c_read(PyObject*, PyObject* args) {
  PyObject* cap;
  Py_ssize_t n;
  if (!PyArg_ParseTuple(args, "On", &cap, &n)) return nullptr;
  RequestIo* io = io_of(cap);
  if (!io) return nullptr;
  if (n <= 0) return PyBytes_FromStringAndSize(nullptr, 0);
  if (io->pending().empty()) {
    if (io->body_ended()) return PyBytes_FromStringAndSize(nullptr, 0);
    RequestIo::Fetch r;
    Py_BEGIN_ALLOW_THREADS
    r = io->fetch();
    Py_END_ALLOW_THREADS
    if (r == RequestIo::Fetch::kEnd) return PyBytes_FromStringAndSize(nullptr, 0);
    if (r != RequestIo::Fetch::kData) return raise_io(io, "wsgi.input");
  }
  std::string_view p = io->pending();
  size_t take = p.size() < static_cast<size_t>(n) ? p.size() : static_cast<size_t>(n);
  PyObject* b = PyBytes_FromStringAndSize(p.data(), static_cast<Py_ssize_t>(take));
  io->consume(take);
  return b;
}

// Encodes a str as latin-1 into *out; false (TypeError/ValueError set) otherwise.
bool latin1(PyObject* s, const char* what, std::string* out) {
  if (!PyUnicode_Check(s)) {
    PyErr_Format(PyExc_TypeError, "%s must be str, not %s", what, Py_TYPE(s)->tp_name);
    return false;
  }
  PyObject* b = PyUnicode_AsLatin1String(s);
  if (!b) return false;
  out->assign(PyBytes_AS_STRING(b), static_cast<size_t>(PyBytes_GET_SIZE(b)));
  Py_DECREF(b);
  if (out->find_first_of("\r\n") != std::string::npos) {
    PyErr_Format(PyExc_ValueError, "%s contains a newline: %R", what, s);
    return false;
  }
  return true;
}

bool parse_head(PyObject* status, PyObject* headers, proto::ResponseHead* head) {
  std::string line;
  if (!latin1(status, "status", &line)) return false;
  bool ok = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
            std::isdigit(static_cast<unsigned char>(line[1])) &&
            std::isdigit(static_cast<unsigned char>(line[2])) && line[0] != '0' &&
            (line.size() == 3 || line[3] == ' ');
  if (!ok) {
    PyErr_Format(PyExc_ValueError, "invalid status line %R: expected '999 Reason'", status);
    return false;
  }
  head->status = static_cast<uint16_t>((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
  head->reason = line.size() > 4 ? line.substr(4) : "";
  PyObject* seq = PySequence_Fast(headers, "response headers must be a list");
  if (!seq) return false;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  PyObject** items = PySequence_Fast_ITEMS(seq);
  head->headers.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = items[i];
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
      PyErr_Format(PyExc_TypeError, "response header %R is not a (name, value) tuple", item);
      Py_DECREF(seq);
      return false;
    }
    std::string name, value;
    if (!latin1(PyTuple_GET_ITEM(item, 0), "header name", &name) ||
        !latin1(PyTuple_GET_ITEM(item, 1), "header value", &value)) {
      Py_DECREF(seq);
      return false;
    }
    if (name.empty() || name.find_first_of(": \t") != std::string::npos) {
      PyErr_Format(PyExc_ValueError, "invalid response header name %R", PyTuple_GET_ITEM(item, 0));
      Py_DECREF(seq);
      return false;
    }
    head->headers.emplace_back(std::move(name), std::move(value));
  }
  Py_DECREF(seq);
  Status check = proto::check_response_head(*head);
  if (!check) {
    PyErr_SetString(PyExc_ValueError, check.message().c_str());
    return false;
  }
  return true;
}

PyObject* c_send(PyObject*, PyObject* args) {
  PyObject *cap, *status, *headers, *data;
  int flush;
  if (!PyArg_ParseTuple(args, "OOOOp", &cap, &status, &headers, &data, &flush)) return nullptr;
  RequestIo* io = io_of(cap);
  if (!io) return nullptr;
  if (!PyBytes_Check(data)) {
    PyErr_Format(PyExc_TypeError, "response data must be bytes, not %s", Py_TYPE(data)->tp_name);
    return nullptr;
  }
  if (status != Py_None) {
    if (io->head_started()) {
      PyErr_SetString(PyExc_AssertionError, "the response head was already sent");
      return nullptr;
    }
    proto::ResponseHead head;
    if (!parse_head(status, headers, &head)) return nullptr;
    io->set_head(head);
  } else if (!io->head_started()) {
    PyErr_SetString(PyExc_AssertionError, "response data before the response head");
    return nullptr;
  }
  io->append_body(std::string_view(PyBytes_AS_STRING(data), static_cast<size_t>(PyBytes_GET_SIZE(data))));
  if (flush || io->buffered() >= proto::kBodyChunk) {
    Status s;
    Py_BEGIN_ALLOW_THREADS
    s = io->flush();
    Py_END_ALLOW_THREADS
    if (!s) return raise_io(io, "sending the response");
  }
  Py_RETURN_NONE;
}

PyObject* c_finish(PyObject*, PyObject* cap) {
  RequestIo* io = io_of(cap);
  if (!io) return nullptr;
  Status s;
  Py_BEGIN_ALLOW_THREADS
  s = io->finish();
  Py_END_ALLOW_THREADS
  if (!s) return raise_io(io, "sending the response");
  Py_RETURN_NONE;
}

PyObject* c_fail(PyObject*, PyObject* args) {
  PyObject* cap;
  int code;
  const char* message;
  if (!PyArg_ParseTuple(args, "Ois", &cap, &code, &message)) return nullptr;
  RequestIo* io = io_of(cap);
  if (!io) return nullptr;
  std::string msg(message);
  // The frame carries 400..599 only (PROTOCOL.md); anything else from the
  // runtime is a server error, never a reason to abort the worker.
  if (code < 400 || code > 599) code = static_cast<int>(proto::ErrorCode::kAppError);
  Py_BEGIN_ALLOW_THREADS
  io->fail(static_cast<proto::ErrorCode>(code), msg);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

PyObject* c_gone(PyObject*, PyObject* cap) {
  RequestIo* io = io_of(cap);
  if (!io) return nullptr;
  return PyBool_FromLong(io->gone());
}

PyObject* c_log(PyObject*, PyObject* args) {
  int level;
  unsigned long rid;
  const char* message;
  if (!PyArg_ParseTuple(args, "iks", &level, &rid, &message)) return nullptr;
  if (level < 0 || level > static_cast<int>(log::Level::kDebug)) level = static_cast<int>(log::Level::kError);
  if (rid != 0)
    log::emit(static_cast<log::Level>(level), "request {}: {}", rid, message);
  else
    log::emit(static_cast<log::Level>(level), "{}", message);
  Py_RETURN_NONE;
}

PyObject* c_startup(PyObject*, PyObject* flag) {
  if (PyObject_IsTrue(flag)) {
    int64_t expected = 0;
    g_startup_pending_since.compare_exchange_strong(expected, monotonic_ms());
  } else {
    g_startup_pending_since.store(0);
  }
  Py_RETURN_NONE;
}

PyMethodDef kMethods[] = {
    {"read", c_read, METH_VARARGS, "read(ctx, n) -> up to n bytes of the request body; b'' at its end"},
    {"send", c_send, METH_VARARGS, "send(ctx, status|None, headers|None, data, flush)"},
    {"finish", c_finish, METH_O, "finish(ctx): end the response"},
    {"fail", c_fail, METH_VARARGS, "fail(ctx, code, message): answer an error"},
    {"gone", c_gone, METH_O, "gone(ctx) -> True when the client went away"},
    {"log", c_log, METH_VARARGS, "log(level, request_id, message)"},
    {"startup", c_startup, METH_O, "startup(flag): a script load began (1) or succeeded (0)"},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

PyObject* make_context(RequestIo* io) {
  auto* ref = new CtxRef{io};
  PyObject* cap = PyCapsule_New(ref, kCapsule, capsule_free);
  if (!cap) delete ref;
  return cap;
}

void disarm_context(PyObject* cap) {
  auto* ref = static_cast<CtxRef*>(PyCapsule_GetPointer(cap, kCapsule));
  if (ref) ref->io = nullptr;
  else PyErr_Clear();
}

bool install_runtime(Interp* in, const WorkerSettings& s) {
  PyObject* mod = PyModule_New("_wsgid");
  if (!mod) return false;
  if (PyModule_AddFunctions(mod, kMethods) != 0) {
    Py_DECREF(mod);
    return false;
  }
  PyObject* ns = PyDict_New();
  PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins());
  PyObject* name = PyUnicode_FromString("_wsgid_runtime");
  PyDict_SetItemString(ns, "__name__", name);
  Py_XDECREF(name);
  PyDict_SetItemString(ns, "_c", mod);
  Py_DECREF(mod);
  // Named so that tracebacks show "<wsgid runtime>", not "<string>".
  PyObject* code = Py_CompileString(kRuntimeSource, "<wsgid runtime>", Py_file_input);
  PyObject* r = code ? PyEval_EvalCode(code, ns, ns) : nullptr;
  Py_XDECREF(code);
  if (!r) {
    Py_DECREF(ns);
    return false;
  }
  Py_DECREF(r);
  in->runtime = ns;
  in->handle = PyDict_GetItemString(ns, "handle");
  Py_XINCREF(in->handle);
  PyObject* t = PyDict_New();
  PyObject* version = Py_BuildValue("(ii)", 1, 0);
  PyDict_SetItemString(t, "wsgi.version", version);
  Py_DECREF(version);
  PyDict_SetItemString(t, "wsgi.multithread", s.multithread ? Py_True : Py_False);
  PyDict_SetItemString(t, "wsgi.multiprocess", s.multiprocess ? Py_True : Py_False);
  PyDict_SetItemString(t, "wsgi.run_once", s.run_once ? Py_True : Py_False);
  PyDict_SetItemString(t, "wsgi.input_terminated", Py_True);
  PyDict_SetItemString(t, "wsgi.file_wrapper", PyDict_GetItemString(ns, "FileWrapper"));
  in->environ_template = t;
  return in->handle != nullptr;
}

}  // namespace wsgid::worker
