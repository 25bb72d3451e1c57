// EmbeddedPython: mod_wsgi's embedded mode in the front end (docs/decisions.md
// 11: a script alias with no process group runs in the front-end process on
// ThreadsPerChild threads).
//
// It reuses the worker's code (worker_lib) instead of a second WSGI
// implementation: start() creates a private listening UNIX socket (in a fresh
// 0700 directory under $TMPDIR, else /tmp), starts Python in this process with
// the worker's Interpreters (WSGIPythonHome / WSGIPythonPath apply; Python
// installs no signal handlers: signals stay the front end's), and starts the
// worker's request loop on ThreadsPerChild threads accepting on that socket, as a
// worker group named "" (processes not given: wsgi.multiprocess false;
// wsgi.multithread = threads != 1). The front end then sends embedded requests to
// that socket through an ordinary UpstreamPool (mod_wsgi.process_group "").
//
// Driven by the Server on the loop thread: start() once, when the settings first
// hold an embedded alias (at start or on a reload) and after the process dropped
// its privileges. Python cannot be unloaded, so once started the pool stays for
// the process's life, also when a reload removes every embedded alias; a new
// pool is a new front end process (the master's supervisor/master/embedded_pool.h),
// and a touched script is re-imported by the pool itself (worker/wsgi_runtime.py). It owns
// the socket, its directory and the request threads; cleanup() removes the
// socket and the directory just before the process exits.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "model/config.h"
#include "model/embedded.h"  // config_has_embedded(): when start() is called

namespace wsgid::frontend {

class EmbeddedPython {
 public:
  // Starts the socket, Python and the threads from config's ThreadsPerChild,
  // WSGIPythonHome, WSGIPythonPath and LogLevel. Once: a later call returns the
  // first call's status. Errors name the call and the object, e.g.
  // "bind(/tmp/wsgid-embedded.XXXX/embedded.sock): ...", or Python's startup error.
  Status start(const model::Config& config);
  bool started() const { return started_; }
  // The status of the first start(), ok before it.
  const Status& status() const { return status_; }
  const std::string& socket_path() const { return socket_path_; }
  int threads() const { return threads_; }
  // Unlinks the socket and removes its directory (the threads keep running).
  void cleanup();

 private:
  bool attempted_ = false;
  bool started_ = false;
  Status status_ = Status::ok();
  std::string dir_;
  std::string socket_path_;
  int threads_ = 0;
};

}  // namespace wsgid::frontend
