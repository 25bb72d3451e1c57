// Interpreters: embedded CPython for one worker process. The main interpreter
// (application group "" = %{GLOBAL}) and one sub-interpreter per other
// application group, created lazily on first use and kept for the process's life
// (mod_wsgi's model). Each interpreter carries the worker's WSGI runtime (a small
// Python module plus the C functions of wsgi_runtime.h) and an environ template.
//
// Threads: start() runs on the main thread and returns with the GIL released.
// Afterwards any thread may call find()/enter()/leave(); each thread gets one
// PyThreadState per interpreter it uses (PyThreadState_New), switched with
// PyEval_RestoreThread/PyEval_SaveThread; pybind11's gil_scoped_acquire is never
// used (it is bound to the main interpreter). A thread's main-interpreter state
// is created first so that PyGILState_* in C extensions sees the main interpreter.
// Interpreters are never destroyed: the worker exits with _exit after its
// requests are done (like WSGIDestroyInterpreter Off).
#pragma once

#include <Python.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "worker/settings.h"
#include "worker/wsgi_environ.h"

namespace wsgid::worker {

// One application group's interpreter. Fields are set once at creation.
struct Interp {
  std::string name;                 // expanded application group; "" = main
  PyInterpreterState* state = nullptr;
  PyObject* runtime = nullptr;      // the runtime's globals dict
  PyObject* handle = nullptr;       // runtime handle(environ, ctx, rid, script, callable, reload)
  PyObject* environ_template = nullptr;  // dict copied per request
  EnvironKeys environ_keys;              // build_environ()'s key strings
};

class Interpreters {
 public:
  // Starts Python (no signal handlers of its own; python-home; program name),
  // prepares the main interpreter and snapshots the environment every new
  // sub-interpreter's os.environ starts from. Main thread; once.
  static Status start(const WorkerSettings& settings);

  // The interpreter for an application group, created on first use (under a
  // lock, never while the caller holds the GIL). Errors name the group.
  static Result<Interp*> find(const std::string& group);

  // Takes the GIL in interp for the calling thread; leave() releases it. Not
  // reentrant: one enter() at a time per thread.
  static void enter(Interp* interp);
  static void leave();

  // Formats the Python stack of the thread with this ident (PyThread ident), or
  // "" when it is not running Python code. Call with the GIL held in the main
  // interpreter.
  static std::string stack_of(unsigned long thread_ident);

  static Interp* main_interp();
  // Every interpreter created so far, the main one among them (none before
  // start()). Any thread; takes the creation lock, so not with the GIL held.
  static std::vector<Interp*> all();
};

// Holds the GIL in one interpreter for a scope.
class InterpScope {
 public:
  explicit InterpScope(Interp* interp) { Interpreters::enter(interp); }
  ~InterpScope() { Interpreters::leave(); }
  InterpScope(const InterpScope&) = delete;
  InterpScope& operator=(const InterpScope&) = delete;
};

// Formats the current Python exception (and clears it) as traceback lines.
std::vector<std::string> format_exception();

}  // namespace wsgid::worker
