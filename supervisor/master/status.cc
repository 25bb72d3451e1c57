// The status reply (CONTROL.md "status"): the master, the front end and every
// group (or the named ones), each process with the state its worker last
// reported (kState). on_control() asks the workers first and calls this 200 ms
// later.
#include "supervisor/master/daemon_impl.h"

#include <unistd.h>

#include <algorithm>

#include "model/embedded.h"

namespace wsgid::master {

json Daemon::status_json(const std::vector<std::string>& only) {
  json groups = json::array();
  for (auto& [name, g] : groups_) {
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    groups.push_back(g->status_json());
  }
  json listen = json::array(), from_systemd = json::array();
  for (const auto& l : listeners_) {
    listen.push_back(l.bound);
    if (l.inherited) from_systemd.push_back(l.bound);
  }
  std::string phase = phase_ == Phase::kRunning ? "running" : "stopping";
  json fe = nullptr;
  if (frontend_) fe = frontend_->status_json();
  // The embedded pool (embedded_pool.h): the front end's process, by its name.
  json embedded = nullptr;
  bool want_pool = only.empty() || std::find(only.begin(), only.end(), model::kEmbeddedPoolName) != only.end();
  if (embedded_.present() && want_pool) {
    embedded = frontend_ ? frontend_->status_json() : json{{"state", "EXITED"}, {"pid", nullptr}};
    embedded["name"] = std::string(model::kEmbeddedPoolName);
    embedded["threads"] = embedded_.threads();
  }
  return {{"ok", true},
          {"master",
           {{"pid", static_cast<long>(getpid())},
            {"uptime", static_cast<double>(uv_now(&loop_)) / 1000.0 - started_at_},
            {"config", opts_.config_path},
            {"state", phase},
            {"version", kVersion},
            {"listen", listen},
            {"listen_systemd", from_systemd},
            {"control_socket", control_.path()}}},
          {"frontend", fe},
          {"embedded", embedded},
          {"groups", groups}};
}

}  // namespace wsgid::master
