// mod_wsgi's Python providers in the front end; see auth_scripts.h.
#include "supervisor/frontend/auth_scripts.h"

#include <Python.h>

#include <map>
#include <mutex>

#include "common/log.h"
#include "protocol/messages.h"
#include "supervisor/frontend/auth_scripts_py.h"
#include "worker/interpreters.h"
#include "worker/wsgi_environ.h"

namespace wsgid::frontend {

namespace {

// auth_scripts.py's globals in one interpreter, made on first use. Guarded by
// its own mutex: the caller holds the GIL of the interpreter concerned, which is
// not one lock for all interpreters in every Python.
std::mutex g_namespaces_mu;
std::map<worker::Interp*, PyObject*> g_namespaces;

// Call with the GIL held in in. New reference to the `call` function, or
// nullptr with a Python error set.
PyObject* call_function(worker::Interp* in) {
  PyObject* ns = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_namespaces_mu);
    auto it = g_namespaces.find(in);
    if (it != g_namespaces.end()) ns = it->second;
  }
  if (!ns) {
    ns = PyDict_New();
    if (!ns) return nullptr;
    PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins());
    PyDict_SetItemString(ns, "_runtime", in->runtime);
    // kAuthScriptsSource is auth_scripts.py (tools/embed_text.py); tracebacks
    // name it "<wsgid auth scripts>" with the .py file's line numbers.
    PyObject* code = Py_CompileString(kAuthScriptsSource, "<wsgid auth scripts>", Py_file_input);
    PyObject* r = code ? PyEval_EvalCode(code, ns, ns) : nullptr;
    Py_XDECREF(code);
    if (!r) {
      Py_DECREF(ns);
      return nullptr;
    }
    Py_DECREF(r);
    std::lock_guard<std::mutex> lock(g_namespaces_mu);
    auto [it, fresh] = g_namespaces.emplace(in, ns);
    if (!fresh) {  // another thread of this interpreter won the race
      Py_DECREF(ns);
      ns = it->second;
    }
  }
  PyObject* f = PyDict_GetItemString(ns, "call");
  if (!f) PyErr_SetString(PyExc_RuntimeError, "auth_scripts.py defines no call()");
  Py_XINCREF(f);
  return f;
}

PyObject* latin1(std::string_view s) {
  return PyUnicode_DecodeLatin1(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
}

}  // namespace

AuthScripts::Answer AuthScripts::call(const char* kind, const ScriptCall& c,
                                      const std::vector<std::string_view>& args) {
  Answer answer{"error", {}, {}};
  std::string_view server_name, server_port;
  Status scan = proto::for_each_pair(c.environ, [&](std::string_view k, std::string_view v) {
    if (k == "SERVER_NAME") server_name = v;
    else if (k == "SERVER_PORT") server_port = v;
  });
  if (!scan) {
    log::error("request {}: {} of {}: bad environ: {}", c.request_id, kind, c.script->path,
               scan.message());
    return answer;
  }
  std::string group = auth_script_group(*c.script, server_name, server_port);
  Result<worker::Interp*> in = worker::Interpreters::find(group);
  if (!in) {
    log::error("request {}: Unable to acquire interpreter '{}' for {}: {}", c.request_id, group,
               kind, in.status().message());
    return answer;
  }
  worker::InterpScope scope(*in);
  PyObject* f = call_function(*in);
  PyObject* environ = f ? worker::build_environ((*in)->environ_template, c.environ, false) : nullptr;
  PyObject* tuple = environ ? PyTuple_New(static_cast<Py_ssize_t>(args.size())) : nullptr;
  bool ok = tuple != nullptr;
  for (size_t i = 0; ok && i < args.size(); ++i) {
    PyObject* a = latin1(args[i]);
    if (!a) ok = false;
    else PyTuple_SET_ITEM(tuple, static_cast<Py_ssize_t>(i), a);
  }
  PyObject* r = nullptr;
  if (ok)
    r = PyObject_CallFunction(f, "ssOsOkO", kind, c.script->path.c_str(),
                              reloading_.load() ? Py_True : Py_False, group.c_str(), environ,
                              static_cast<unsigned long>(c.request_id), tuple);
  PyObject* status = r && PyTuple_Check(r) && PyTuple_GET_SIZE(r) == 2 ? PyTuple_GET_ITEM(r, 0) : nullptr;
  PyObject* value = status ? PyTuple_GET_ITEM(r, 1) : nullptr;
  const char* st = status ? PyUnicode_AsUTF8(status) : nullptr;
  if (st) {
    answer.status = st;
    if (answer.status == "user") {
      const char* u = PyUnicode_AsUTF8(value);  // mod_wsgi: the name as UTF-8
      if (u) answer.user = u;
      else answer.status = "error";
    } else if (answer.status == "groups") {
      for (Py_ssize_t i = 0; PyList_Check(value) && i < PyList_GET_SIZE(value); ++i) {
        PyObject* item = PyList_GET_ITEM(value, i);
        char* data = nullptr;
        Py_ssize_t n = 0;
        if (PyBytes_AsStringAndSize(item, &data, &n) == 0)
          answer.groups.emplace_back(data, static_cast<size_t>(n));
      }
    }
  }
  if (PyErr_Occurred()) {  // a failure of wsgid's own code, not of the script
    answer.status = "error";
    std::vector<std::string> lines = worker::format_exception();
    log::error("request {}: {} of {} failed in wsgid's runtime", c.request_id, kind,
               c.script->path);
    for (const std::string& l : lines) log::error("request {}: {}", c.request_id, l);
  }
  Py_XDECREF(r);
  Py_XDECREF(tuple);
  Py_XDECREF(environ);
  Py_XDECREF(f);
  return answer;
}

ScriptVote AuthScripts::allow_access(const ScriptCall& c, std::string_view host) {
  Answer a = call("allow_access", c, {host});
  if (a.status == "true") return ScriptVote::kTrue;
  if (a.status == "false") return ScriptVote::kFalse;
  if (a.status == "none") return ScriptVote::kNone;
  return ScriptVote::kError;
}

authn::Outcome AuthScripts::check_password(const ScriptCall& c, std::string_view user,
                                           std::string_view password, std::string* renamed) {
  Answer a = call("check_password", c, {user, password});
  if (a.status == "true") return authn::Outcome::kGranted;
  if (a.status == "false") return authn::Outcome::kDenied;
  if (a.status == "none") return authn::Outcome::kNoSuchUser;
  if (a.status == "user") {
    *renamed = a.user;
    return authn::Outcome::kGranted;
  }
  return authn::Outcome::kError;
}

Result<std::vector<std::string>> AuthScripts::groups_for_user(const ScriptCall& c,
                                                              std::string_view user) {
  Answer a = call("groups_for_user", c, {user});
  if (a.status == "groups") return a.groups;
  return Status::error("groups_for_user() of " + c.script->path +
                       " failed (the traceback is in the log)");
}

}  // namespace wsgid::frontend
