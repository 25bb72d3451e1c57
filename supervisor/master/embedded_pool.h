// EmbeddedPool: the master's view of mod_wsgi's embedded mode, the scripts that
// run in the front end's own Python (docs/decisions.md 11), as one more pool
// that reloads like a daemon group (docs/decisions.md 23).
//
// The pool lives inside the front end process, so the master replaces it by a
// rolling replacement of the front end (Child::replace(): the new front end
// takes the same listening sockets and starts a fresh Python; the old one
// finishes its requests and answers one more request on each kept-alive
// connection with "Connection: close"), never by a re-import inside the running
// Python. The Daemon asks it three things: whether the running configuration
// has an embedded pool (configure(), present()); whether a reload must replace
// it (replace_reason(), against the scripts' mtimes remembered at the front
// end's last spawn, spawned()); and what a control command's names mean
// (names_pool(), without_pool()). `wsgictl status` shows the pool as a row
// named model::kEmbeddedPoolName (mod_wsgi's "%{GLOBAL}") with the front end's
// process. A touched script is re-imported by the pool itself at its next
// request, as mod_wsgi does in embedded mode (worker/wsgi_runtime.py); the
// master does not watch embedded scripts.
//
// Loop thread only (the Daemon's); holds no handle and no process.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/config.h"

namespace wsgid::master {

class EmbeddedPool {
 public:
  // The configuration the master runs from now on (at start, after each reload).
  // A script the reload added is compared from now on with its mtime now; one it
  // removed is no longer compared.
  void configure(const model::Config& config);
  // The running configuration has a script alias (or wsgi-script handler) that
  // runs embedded (model::config_has_embedded).
  bool present() const { return present_; }
  // ThreadsPerChild of the running configuration (the pool's threads).
  int threads() const { return threads_; }

  // A front end process is being spawned with the running configuration: its
  // pool will run the embedded scripts as they are now (their mtimes are kept).
  void spawned();

  // Why a reload from the running configuration (`current`, the one last given
  // to configure()) to `next` must replace the pool, or "" when it need not:
  //   "the embedded pool's configuration changed"  (ThreadsPerChild,
  //     WSGIPythonHome, WSGIPythonPath, WSGIRestrictEmbedded, User, Group, or
  //     any server or <VirtualHost> setting: aliases, locations, directories,
  //     logs; what the front end's routes and Python are built from)
  //   "script /srv/app.wsgi changed"  (an embedded script's mtime differs from
  //     the one seen at the front end's last spawn, or the file is gone)
  // Always "" when the running configuration has no pool: a new embedded alias
  // starts Python in the running front end.
  std::string replace_reason(const model::Config& current, const model::Config& next) const;

  // Whether names (a control command's arguments) name the pool: "all" when
  // present(), or kEmbeddedPoolName.
  bool names_pool(const std::vector<std::string>& names) const;
  // names without kEmbeddedPoolName (for the lookup of daemon groups).
  static std::vector<std::string> without_pool(const std::vector<std::string>& names);

 private:
  bool present_ = false;
  int threads_ = 0;
  std::vector<std::string> scripts_;          // embedded scripts of the running config
  std::map<std::string, int64_t> spawned_;    // script -> mtime (ns; -1 missing) at spawn
};

}  // namespace wsgid::master
