#include "worker/wsgi_runtime.h"

#include <fmt/core.h>

#include <cctype>
#include <string>

#include "common/log.h"
#include "worker/interpreters.h"
#include "worker/mod_wsgi_module_py.h"
#include "worker/wsgi_runtime_py.h"

namespace wsgid::worker {

std::atomic<int64_t> g_startup_pending_since{0};

namespace {

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

// Releases the GIL around the waits of one call into a RequestIo (and only
// there): a recv() or send() that completes at once keeps the GIL, so a request
// costs no hand-off to a sibling thread unless it really has to wait.
class ReleaseGilWhileWaiting final : public WaitHook {
 public:
  explicit ReleaseGilWhileWaiting(RequestIo* io) : io_(io) { io_->set_wait_hook(this); }
  ~ReleaseGilWhileWaiting() override { io_->set_wait_hook(nullptr); }
  ReleaseGilWhileWaiting(const ReleaseGilWhileWaiting&) = delete;
  ReleaseGilWhileWaiting& operator=(const ReleaseGilWhileWaiting&) = delete;
  void before_wait() override { saved_ = PyEval_SaveThread(); }
  void after_wait() override { PyEval_RestoreThread(saved_); }

 private:
  RequestIo* io_;
  PyThreadState* saved_ = nullptr;
};

PyObject* raise_io(RequestIo* io, std::string_view what) {
  // A body the front end refused reads as mod_wsgi's read error does, which
  // applications test for ("request data read error"), with the reason.
  std::string msg = !io->refusal().empty()
                        ? fmt::format("request data read error: {}", io->refusal())
                        : io->client_write_timed_out() ? fmt::format("{}: {}", what, io->error())
                        : io->gone() ? fmt::format("{}: the client went away", what)
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
    ReleaseGilWhileWaiting hook(io);
    RequestIo::Fetch r = io->fetch();
    if (r == RequestIo::Fetch::kEnd) return PyBytes_FromStringAndSize(nullptr, 0);
    if (r != RequestIo::Fetch::kData) return raise_io(io, "wsgi.input");
  }
  std::string_view p = io->pending();
  size_t take = p.size() < static_cast<size_t>(n) ? p.size() : static_cast<size_t>(n);
  PyObject* b = PyBytes_FromStringAndSize(p.data(), static_cast<Py_ssize_t>(take));
  io->consume(take);
  return b;
}

// The first allocation of read_exact(): a read(n) with a huge n and a small
// body must not allocate n bytes; the bytes object doubles from here as the
// body arrives.
constexpr Py_ssize_t kFirstAllocation = 1 << 20;

// read_exact(ctx, n) -> n bytes of the body, fewer only when it ends first.
// The frames are copied once, straight into the bytes object returned.
PyObject* c_read_exact(PyObject*, PyObject* args) {
  PyObject* cap;
  Py_ssize_t n;
  if (!PyArg_ParseTuple(args, "On", &cap, &n)) return nullptr;
  RequestIo* io = io_of(cap);
  if (!io) return nullptr;
  if (n <= 0) return PyBytes_FromStringAndSize(nullptr, 0);
  Py_ssize_t size = n < kFirstAllocation ? n : kFirstAllocation;
  PyObject* b = PyBytes_FromStringAndSize(nullptr, size);
  if (!b) return nullptr;
  Py_ssize_t got = 0;
  RequestIo::Fetch why = RequestIo::Fetch::kData;
  {
    ReleaseGilWhileWaiting hook(io);
    for (;;) {
      got += static_cast<Py_ssize_t>(io->read_into(PyBytes_AS_STRING(b) + got, static_cast<size_t>(size - got), &why));
      if (why != RequestIo::Fetch::kData || got == n) break;
      size = size > n / 2 ? n : size * 2;
      if (_PyBytes_Resize(&b, size) != 0) return nullptr;  // b is freed on failure
    }
  }
  if (why != RequestIo::Fetch::kData && why != RequestIo::Fetch::kEnd) {
    Py_DECREF(b);
    return raise_io(io, "wsgi.input");
  }
  if (got != size && _PyBytes_Resize(&b, got) != 0) return nullptr;
  return b;
}

// consumed(ctx) -> the body bytes handed to Python so far (wsgi.input's
// read() of a body with a Content-Length asks read_exact() for the rest).
PyObject* c_consumed(PyObject*, PyObject* args) {
  PyObject* cap;
  if (!PyArg_ParseTuple(args, "O", &cap)) return nullptr;
  RequestIo* io = io_of(cap);
  if (!io) return nullptr;
  return PyLong_FromUnsignedLongLong(io->bytes_in() - io->pending().size());
}

// readinto(ctx, buffer) -> bytes copied into the writable buffer: len(buffer),
// fewer only when the body ends first.
PyObject* c_readinto(PyObject*, PyObject* args) {
  PyObject* cap;
  Py_buffer view;
  if (!PyArg_ParseTuple(args, "Ow*", &cap, &view)) return nullptr;
  RequestIo* io = io_of(cap);
  if (!io) {
    PyBuffer_Release(&view);
    return nullptr;
  }
  size_t got = 0;
  RequestIo::Fetch why = RequestIo::Fetch::kData;
  if (view.len > 0) {
    ReleaseGilWhileWaiting hook(io);
    got = io->read_into(static_cast<char*>(view.buf), static_cast<size_t>(view.len), &why);
  }
  PyBuffer_Release(&view);
  if (why != RequestIo::Fetch::kData && why != RequestIo::Fetch::kEnd) return raise_io(io, "wsgi.input");
  return PyLong_FromSize_t(got);
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
  // Two find()s (one memchr each), not find_first_of() (one memchr per byte).
  if (out->find('\r') != std::string::npos || out->find('\n') != std::string::npos) {
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

// The application's status and headers as the response head, once (false:
// a Python error is set).
bool set_head(RequestIo* io, PyObject* status, PyObject* headers) {
  if (io->head_started()) {
    PyErr_SetString(PyExc_AssertionError, "the response head was already sent");
    return false;
  }
  proto::ResponseHead head;
  if (!parse_head(status, headers, &head)) return false;
  io->set_head(head);
  return true;
}

PyObject* c_send(PyObject*, PyObject* args) {
  PyObject *cap, *status, *headers, *data;
  int flush, end = 0;
  if (!PyArg_ParseTuple(args, "OOOOp|p", &cap, &status, &headers, &data, &flush, &end)) return nullptr;
  RequestIo* io = io_of(cap);
  if (!io) return nullptr;
  if (!PyBytes_Check(data)) {
    PyErr_Format(PyExc_TypeError, "response data must be bytes, not %s", Py_TYPE(data)->tp_name);
    return nullptr;
  }
  if (status != Py_None) {
    if (!set_head(io, status, headers)) return nullptr;
  } else if (!io->head_started()) {
    PyErr_SetString(PyExc_AssertionError, "response data before the response head");
    return nullptr;
  }
  // data is an argument of this call: it stays alive, and bytes never change,
  // while the GIL is released around a wait.
  Status s;
  {
    ReleaseGilWhileWaiting hook(io);
    s = io->send_body(std::string_view(PyBytes_AS_STRING(data), static_cast<size_t>(PyBytes_GET_SIZE(data))),
                      flush, end);
  }
  if (!s) return raise_io(io, "sending the response");
  Py_RETURN_NONE;
}

PyObject* c_send_file(PyObject*, PyObject* args) {
  PyObject *cap, *status, *headers;
  int fd;
  long long offset;
  if (!PyArg_ParseTuple(args, "OOOiL", &cap, &status, &headers, &fd, &offset)) return nullptr;
  RequestIo* io = io_of(cap);
  if (!io) return nullptr;
  if (!set_head(io, status, headers)) return nullptr;
  Status s;
  bool used = false;
  {
    ReleaseGilWhileWaiting hook(io);
    s = io->send_file(fd, offset, &used);
  }
  if (!s) return raise_io(io, "sending the response");
  return PyBool_FromLong(used);
}

PyObject* c_finish(PyObject*, PyObject* cap) {
  RequestIo* io = io_of(cap);
  if (!io) return nullptr;
  Status s;
  {
    ReleaseGilWhileWaiting hook(io);
    s = io->finish();
  }
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
  {
    ReleaseGilWhileWaiting hook(io);
    io->fail(static_cast<proto::ErrorCode>(code), msg);
  }
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
    {"read_exact", c_read_exact, METH_VARARGS, "read_exact(ctx, n) -> n bytes of the body, fewer at its end"},
    {"consumed", c_consumed, METH_VARARGS, "consumed(ctx) -> body bytes handed out so far"},
    {"readinto", c_readinto, METH_VARARGS, "readinto(ctx, buffer) -> bytes copied: len(buffer), fewer at the end"},
    {"send", c_send, METH_VARARGS,
     "send(ctx, status|None, headers|None, data, flush[, end]): end also ends the response (no finish())"},
    {"send_file", c_send_file, METH_VARARGS,
     "send_file(ctx, status, headers, fd, offset) -> True when the body went from the file by sendfile "
     "(then finish()); False: the head is set, send the body with send()"},
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
  // kRuntimeSource is worker/wsgi_runtime.py, embedded at build time
  // (tools/embed_text.py). Named so that tracebacks show "<wsgid runtime>", not
  // "<string>"; their line numbers are the .py file's.
  // kModWsgiSource is worker/mod_wsgi_module.py, run after it in the same
  // namespace; install_mod_wsgi() then puts `mod_wsgi` in sys.modules and sets
  // sys.argv = ['mod_wsgi'], as mod_wsgi does in every interpreter.
  const struct {
    const char* source;
    const char* name;
  } parts[] = {{kRuntimeSource, "<wsgid runtime>"}, {kModWsgiSource, "<wsgid mod_wsgi>"}};
  for (const auto& part : parts) {
    PyObject* code = Py_CompileString(part.source, part.name, Py_file_input);
    PyObject* r = code ? PyEval_EvalCode(code, ns, ns) : nullptr;
    Py_XDECREF(code);
    if (!r) {
      Py_DECREF(ns);
      return false;
    }
    Py_DECREF(r);
  }
  PyObject* r = PyObject_CallFunction(PyDict_GetItemString(ns, "install_mod_wsgi"), "ssii",
                                      s.name.c_str(), in->name.c_str(), s.processes, s.threads);
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

void publish_process_stopping(Interp* in, const std::string& reason) {
  PyObject* f = PyDict_GetItemString(in->runtime, "process_stopping");
  PyObject* r = f ? PyObject_CallFunction(f, "s", reason.c_str()) : nullptr;
  if (r) {
    Py_DECREF(r);
    return;
  }
  for (const std::string& line : format_exception()) log::error("{}", line);
}

void publish_process_stopping_everywhere(const std::string& reason) {
  for (Interp* in : Interpreters::all()) {
    InterpScope scope(in);
    publish_process_stopping(in, reason);
  }
}

}  // namespace wsgid::worker
