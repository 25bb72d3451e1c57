// The WSGI runtime inside each interpreter: a small Python module (the source is
// worker/wsgi_runtime.py, embedded in the executable at build time) defining
// wsgi.input (Input), wsgi.errors (Errors), start_response/write (_Response),
// wsgi.file_wrapper (FileWrapper), mod_wsgi's script loading (module
// "_mod_wsgi_" + md5(path), one per script path, loaded under a lock) and
// handle(), the per-request driver; the `mod_wsgi` module applications import
// (worker/mod_wsgi_module.py: mod_wsgi 4.9.4's names, events, sys.argv); plus the C functions it
// calls (module "_wsgid"), which bridge to the request's RequestIo.
//
// Everything here is created per interpreter (plain module functions, Python
// classes defined by exec'ing source in that interpreter): no pybind11 class and
// no static type is shared between interpreters. The request context reaches
// Python as a capsule that is disarmed when the request ends, so an app that
// keeps wsgi.input gets "request is finished", never a dangling pointer.
// Called with the GIL held in the interpreter concerned.
#pragma once

#include <Python.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "worker/request_io.h"
#include "worker/settings.h"

namespace wsgid::worker {

struct Interp;

// Defines the runtime in the current interpreter and fills interp->runtime,
// handle and environ_template. False with the Python error set on failure.
bool install_runtime(Interp* interp, const WorkerSettings& settings);

// mod_wsgi's process_stopping event in interp (the subscribe_shutdown and
// subscribe_events callbacks), with mod_wsgi's name for reason where it has one
// (worker/mod_wsgi_module.py). A callback's exception is logged, never raised.
void publish_process_stopping(Interp* interp, const std::string& reason);
// The same in every interpreter created so far (none when Python never
// started: the front end calls it whether or not embedded mode runs). Call
// without the GIL, once no request runs (a request thread holding the GIL
// would make it wait).
void publish_process_stopping_everywhere(const std::string& reason);

// A capsule for io; disarm_context() makes later calls raise "request is finished".
PyObject* make_context(RequestIo* io);
void disarm_context(PyObject* capsule);

// startup-timeout: CLOCK_MONOTONIC ms when a request first found its script not
// yet loaded, 0 when no such load is pending (set by the runtime's _c.startup()).
extern std::atomic<int64_t> g_startup_pending_since;

}  // namespace wsgid::worker
