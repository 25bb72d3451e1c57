#include "worker/interpreters.h"

#include <pybind11/embed.h>

#include <fmt/core.h>

#include <cstring>
#include <unordered_map>

#include "common/log.h"
#include "worker/wsgi_runtime.h"

extern char** environ;

namespace wsgid::worker {
namespace {

const WorkerSettings* g_settings = nullptr;
std::vector<std::pair<std::string, std::string>> g_start_env;  // the worker's environment at start
std::mutex g_mutex;                                            // guards g_interps (never taken with the GIL)
std::map<std::string, Interp*> g_interps;
Interp* g_main = nullptr;

thread_local std::unordered_map<PyInterpreterState*, PyThreadState*> t_states;

PyThreadState* thread_state(PyInterpreterState* state) {
  auto it = t_states.find(state);
  if (it != t_states.end()) return it->second;
  if (state != g_main->state && t_states.find(g_main->state) == t_states.end())
    t_states[g_main->state] = PyThreadState_New(g_main->state);
  PyThreadState* ts = PyThreadState_New(state);
  t_states[state] = ts;
  return ts;
}

// Runs `code` in a fresh namespace holding `vars`; returns false with the
// Python error set on failure.
bool run_code(const char* code, PyObject* vars) {
  PyObject* ns = PyDict_New();
  if (!ns) return false;
  PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins());
  if (vars) PyDict_Update(ns, vars);
  PyObject* r = PyRun_String(code, Py_file_input, ns, ns);
  Py_DECREF(ns);
  if (!r) return false;
  Py_DECREF(r);
  return true;
}

std::string error_text(std::string_view what) {
  std::vector<std::string> lines = format_exception();
  std::string out(what);
  for (const std::string& l : lines) {
    out += "\n";
    out += l;
  }
  return out;
}

// Prepares an interpreter whose GIL the caller holds. False: the Python error is set.
bool setup_interp(Interp* in, bool sub) {
  PyObject* vars = PyDict_New();
  if (sub) {
    // Python 3.11 built this interpreter's os.environ from the C environment,
    // which earlier interpreters may have changed with putenv. Reset the mapping
    // (not the C environment) to what the worker started with.
    PyObject* env = PyDict_New();
    for (const auto& [k, v] : g_start_env) {
      PyObject* key = PyBytes_FromStringAndSize(k.data(), static_cast<Py_ssize_t>(k.size()));
      PyObject* value = PyBytes_FromStringAndSize(v.data(), static_cast<Py_ssize_t>(v.size()));
      PyDict_SetItem(env, key, value);
      Py_DECREF(key);
      Py_DECREF(value);
    }
    PyDict_SetItemString(vars, "start_env", env);
    Py_DECREF(env);
    if (!run_code("import os\nos.environ._data.clear()\nos.environ._data.update(start_env)\n", vars)) {
      Py_DECREF(vars);
      return false;
    }
  }
  PyObject* paths = PyList_New(0);
  for (const std::string& p : g_settings->python_path) {
    PyObject* s = PyUnicode_DecodeFSDefault(p.c_str());
    PyList_Append(paths, s);
    Py_DECREF(s);
  }
  PyDict_SetItemString(vars, "paths", paths);
  Py_DECREF(paths);
  // python-path entries (and their .pth files) go first on sys.path, as in mod_wsgi.
  bool ok = run_code(
      "import sys, site\n"
      "if paths:\n"
      "    before = list(sys.path)\n"
      "    for p in paths:\n"
      "        site.addsitedir(p)\n"
      "    added = [p for p in sys.path if p not in before]\n"
      "    sys.path[:] = added + before\n",
      vars);
  Py_DECREF(vars);
  if (!ok) return false;
  return install_runtime(in, *g_settings);
}

}  // namespace

Status Interpreters::start(const WorkerSettings& settings) {
  g_settings = &settings;
  for (char** e = environ; *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (!eq || eq == *e) continue;
    g_start_env.emplace_back(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
  }
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;  // signals belong to wsgid
  config.parse_argv = 0;
  config.buffered_stdio = 0;  // print() from an app reaches the log at once
  std::string program = settings.python_home ? *settings.python_home + "/bin/python3" : "/usr/bin/python3";
  PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, program.c_str());
  if (!PyStatus_Exception(st) && settings.python_home)
    st = PyConfig_SetBytesString(&config, &config.home, settings.python_home->c_str());
  if (!PyStatus_Exception(st)) {
    char arg0[] = "mod_wsgi";  // sys.argv as mod_wsgi sets it (mod_wsgi_module.py too)
    char* args[] = {arg0, nullptr};
    st = PyConfig_SetBytesArgv(&config, 1, args);
  }
  if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(st))
    return Status::error(fmt::format("Python initialisation failed: {}", st.err_msg ? st.err_msg : "unknown error"));
  // pybind11 2.10 must see the main interpreter before any sub-interpreter exists.
  // The only pybind11 call in the tree (docs/decisions.md 21 says why it could go).
  pybind11::detail::get_internals();
  g_main = new Interp;
  g_main->state = PyInterpreterState_Main();
  if (settings.switch_interval) {
    PyObject* vars = PyDict_New();
    PyObject* v = PyFloat_FromDouble(*settings.switch_interval);
    PyDict_SetItemString(vars, "interval", v);
    Py_DECREF(v);
    if (!run_code("import sys\nsys.setswitchinterval(interval)\n", vars)) PyErr_Clear();
    Py_DECREF(vars);
  }
  if (!setup_interp(g_main, false)) {
    std::string msg = error_text("cannot prepare the main interpreter:");
    return Status::error(msg);
  }
  g_interps[""] = g_main;
  t_states[g_main->state] = PyEval_SaveThread();
  return Status::ok();
}

Interp* Interpreters::main_interp() { return g_main; }

std::vector<Interp*> Interpreters::all() {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::vector<Interp*> out;
  for (const auto& [name, in] : g_interps) out.push_back(in);
  return out;
}

Result<Interp*> Interpreters::find(const std::string& group) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_interps.find(group);
  if (it != g_interps.end()) return it->second;
  PyEval_RestoreThread(thread_state(g_main->state));
  PyThreadState* sub = Py_NewInterpreter();
  if (sub == nullptr) {
    std::string msg = fmt::format("cannot create the interpreter for application group '{}'", group);
    PyEval_SaveThread();
    return Status::error(msg);
  }
  auto* in = new Interp;
  in->name = group;
  in->state = sub->interp;
  if (!setup_interp(in, true)) {
    std::string msg = error_text(fmt::format("cannot prepare the interpreter for application group '{}':", group));
    PyEval_SaveThread();
    return Status::error(msg);
  }
  t_states[in->state] = sub;
  PyEval_SaveThread();
  g_interps[group] = in;
  log::info("created interpreter for application group '{}'", group);
  return in;
}

void Interpreters::enter(Interp* interp) { PyEval_RestoreThread(thread_state(interp->state)); }

void Interpreters::leave() { PyEval_SaveThread(); }

std::string Interpreters::stack_of(unsigned long ident) {
  std::string out;
  PyObject* sys = PyImport_ImportModule("sys");
  PyObject* tb = PyImport_ImportModule("traceback");
  PyObject* frames = sys ? PyObject_CallMethod(sys, "_current_frames", nullptr) : nullptr;
  PyObject* key = PyLong_FromUnsignedLong(ident);
  PyObject* frame = frames && key ? PyDict_GetItemWithError(frames, key) : nullptr;
  if (frame && tb) {
    PyObject* lines = PyObject_CallMethod(tb, "format_stack", "O", frame);
    if (lines) {
      PyObject* empty = PyUnicode_FromString("");
      PyObject* joined = empty ? PyUnicode_Join(empty, lines) : nullptr;
      Py_XDECREF(empty);
      if (joined) {
        const char* s = PyUnicode_AsUTF8(joined);
        if (s) out = s;
        Py_DECREF(joined);
      }
      Py_DECREF(lines);
    }
  }
  if (PyErr_Occurred()) PyErr_Clear();
  Py_XDECREF(key);
  Py_XDECREF(frames);
  Py_XDECREF(tb);
  Py_XDECREF(sys);
  return out;
}

std::vector<std::string> format_exception() {
  std::vector<std::string> out;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  if (!type) return out;
  PyErr_NormalizeException(&type, &value, &tb);
  PyObject* mod = PyImport_ImportModule("traceback");
  PyObject* list = mod ? PyObject_CallMethod(mod, "format_exception", "OOO", type, value ? value : Py_None,
                                             tb ? tb : Py_None)
                       : nullptr;
  if (list) {
    for (Py_ssize_t i = 0; i < PyList_Size(list); ++i) {
      const char* s = PyUnicode_AsUTF8(PyList_GetItem(list, i));
      if (!s) continue;
      std::string_view text(s);
      size_t pos = 0;
      while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        out.emplace_back(text.substr(pos, nl - pos));
        pos = nl + 1;
      }
    }
  } else {
    // Formatting needs memory and imports; the type's name needs neither
    // (a MemoryError still names itself).
    const char* name = PyType_Check(type) ? reinterpret_cast<PyTypeObject*>(type)->tp_name : "?";
    out.emplace_back(std::string("(the traceback could not be formatted) ") + name);
  }
  if (PyErr_Occurred()) PyErr_Clear();
  Py_XDECREF(list);
  Py_XDECREF(mod);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  return out;
}

}  // namespace wsgid::worker
