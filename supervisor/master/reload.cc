// Configuration to worker settings (model/worker_settings.h), what a reload
// changes (diff_configs: groups compare by their typed worker settings and
// socket path), the files script reloading watches, and
// Daemon::reload(): parse first, open every new socket, then commit (listeners,
// log level and files, removed / changed / added groups, the front end).
#include "supervisor/master/daemon_impl.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include <fmt/core.h>

#include "common/log.h"
#include "model/embedded.h"
#include "model/paths.h"
#include "model/resolve.h"
#include "model/worker_settings.h"
#include "supervisor/master/sockets.h"

namespace wsgid::master {

namespace {

// Groups restart when what their workers get changes, or their socket moves.
// LogLevel needs no restart (refresh() hands it to later processes), nor
// startup-retries (the master's own: refresh() hands it to the children, which
// read it at their next failure).
bool same_group(const model::Config& a, const model::Config& b, const model::GroupSpec& ga,
                const model::GroupSpec& gb, const std::string& runtime_dir) {
  bool root = geteuid() == 0;
  model::WorkerSettings wa = model::worker_settings_for(a, ga, root);
  model::WorkerSettings wb = model::worker_settings_for(b, gb, root);
  wb.log_level = wa.log_level;
  wb.group.startup_retries = wa.group.startup_retries;
  return wa == wb && model::group_socket_path(a, runtime_dir, ga.name) ==
                         model::group_socket_path(b, runtime_dir, gb.name);
}

}  // namespace

// Files to watch per group: its scripts (aliases routed to it) where
// WSGIScriptReloading is On for the alias (resolved per scope: server,
// <VirtualHost>, <Directory>, <Location>, as mod_wsgi merges it), and its
// WSGIImportScript files when it is On at server level.
std::map<std::string, std::set<std::string>> script_files(const model::Config& c) {
  std::map<std::string, std::set<std::string>> files;
  model::Resolver resolver(c);
  auto add_mounts = [&](const model::VirtualHost& vh, int index) {
    for (const model::Mount& m : vh.mounts) {
      // As `--check --json` resolves a mount: a regex alias with no URL.
      model::Route r = resolver.resolve(index, m, m.is_match ? std::string() : m.url, m.script);
      if (!r.process_group || !r.script_reloading) continue;
      if (m.script.find('$') != std::string::npos || !c.find_group(*r.process_group)) continue;
      files[model::from_server_root(c, m.script)].insert(*r.process_group);
    }
  };
  add_mounts(c.server, -1);
  for (size_t i = 0; i < c.vhosts.size(); ++i) add_mounts(c.vhosts[i], static_cast<int>(i));
  for (const auto& imp : c.imports) {
    if (c.script_reloading && c.find_group(imp.process_group))
      files[model::from_server_root(c, imp.script)].insert(imp.process_group);
  }
  return files;
}

json worker_settings(const model::Config& c, const model::GroupSpec& g) {
  return model::worker_settings_to_json(model::worker_settings_for(c, g, geteuid() == 0));
}

ConfigDiff diff_configs(const model::Config& a, const model::Config& b,
                        const std::string& runtime_dir) {
  ConfigDiff d;
  std::map<std::string, const model::GroupSpec*> ga, gb;
  for (const auto& g : a.groups) ga[g.name] = &g;
  for (const auto& g : b.groups) gb[g.name] = &g;
  for (auto& [name, g] : gb) {
    auto it = ga.find(name);
    if (it == ga.end()) {
      d.added_groups.push_back(name);
    } else if (!same_group(a, b, *it->second, *g, runtime_dir)) {
      d.changed_groups.push_back(name);
    } else {
      d.unchanged_groups.push_back(name);
    }
  }
  for (auto& [name, g] : ga) {
    if (!gb.count(name)) d.removed_groups.push_back(name);
  }
  std::set<std::string> la, lb;
  for (const auto& l : a.listen) la.insert(l.text());
  for (const auto& l : b.listen) lb.insert(l.text());
  for (const auto& t : lb)
    if (!la.count(t)) d.added_listen.push_back(t);
  for (const auto& t : la)
    if (!lb.count(t)) d.removed_listen.push_back(t);
  // The same address with another protocol: the front end is replaced too.
  for (const auto& x : a.listen)
    for (const auto& y : b.listen)
      if (x.text() == y.text() && x.protocol != y.protocol) d.protocol_changed.push_back(y.text());
  return d;
}

// --- reload ---

Status Daemon::reload(const std::string& why, json* errors) {
  Status s = reload_config(why, errors);
  if (phase_ == Phase::kRunning) ++(s ? reloads_ : failed_reloads_);
  push_frontend_status();
  return s;
}

Status Daemon::reload_config(const std::string& why, json* errors) {
  if (phase_ != Phase::kRunning) return Status::error("the daemon is stopping");
  log::notice("reloading {} ({})", opts_.config_path, why);
  auto pr = parse();
  *errors = json::array();
  for (const auto& d : pr.diags.all()) {
    std::string where = fmt::format("{}:{}:{}", d.loc.file, d.loc.line, d.loc.col);
    if (d.severity == config::Severity::kError) {
      log::error("reload: {}: {}", where, d.message);
      errors->push_back(where + ": " + d.message);
    } else if (d.severity == config::Severity::kWarning) {
      log::warn("reload: {}: {}", where, d.message);
    }
  }
  if (!pr.ok()) {
    std::string m = fmt::format("reload failed: {} has {} errors; keeping the running configuration",
                                opts_.config_path, pr.diags.error_count());
    log::error("{}", m);
    return Status::error(m);
  }
  if (pr.config.listen.empty()) {
    std::string m = fmt::format("reload failed: {} has no Listen directive (no listening sockets "
                                "available); keeping the running configuration",
                                opts_.config_path);
    log::error("{}", m);
    errors->push_back(opts_.config_path + ": no Listen directive");
    return Status::error(m);
  }
  model::Config next = std::move(pr.config);
  if (next.file.empty()) next.file = opts_.config_path;
  notify_.send("RELOADING=1\nSTATUS=reloading");
  ConfigDiff d = diff_configs(config_, next, runtime_dir_);
  std::string embedded_changed = embedded_.replace_reason(config_, next);

  // 1. Every new socket first; on any failure nothing changes.
  std::vector<Listener> new_listeners;
  if (Status s = open_listeners(next, &new_listeners, listeners_); !s) {
    log::error("reload failed: {}; keeping the running configuration", s.message());
    notify_.send("READY=1\nSTATUS=reload failed");
    return s;
  }
  std::map<std::string, GroupSocket> new_sockets;
  auto rollback = [&](const Status& s) {
    for (auto& l : new_listeners) {
      bool old = std::any_of(listeners_.begin(), listeners_.end(),
                             [&](const Listener& x) { return x.fd == l.fd; });
      if (!old) release_listener(l);
    }
    for (auto& [n, gs] : new_sockets) close_group_socket(gs);
    log::error("reload failed: {}; keeping the running configuration", s.message());
    notify_.send("READY=1\nSTATUS=reload failed");
    return s;
  };
  std::vector<std::string> need_socket = d.added_groups;
  for (const auto& name : d.changed_groups) {
    if (model::group_socket_path(next, runtime_dir_, name) != sockets_[name].path) need_socket.push_back(name);
  }
  for (const auto& name : need_socket) {
    // A group removed earlier and still draining keeps its socket: take it over.
    auto rit = std::find_if(removed_.begin(), removed_.end(), [&](const RemovedGroup& r) {
      return r.group && r.group->name() == name && !r.socket_taken &&
             r.socket.path == model::group_socket_path(next, runtime_dir_, name);
    });
    if (rit != removed_.end()) {
      new_sockets[name] = rit->socket;
      continue;
    }
    auto gs = open_group_socket(next, *next.find_group(name));
    if (!gs.is_ok()) return rollback(gs.status());
    new_sockets[name] = gs.value();
  }
  // The access logs, as root (Apache reopens them on every restart); a file that
  // cannot be opened fails the reload, as a missing socket does.
  AccessLogFiles new_access_logs;
  if (Status s = new_access_logs.open(next); !s) return rollback(s);
  for (auto& r : removed_) {
    auto it = new_sockets.find(r.group ? r.group->name() : "");
    if (it != new_sockets.end() && it->second.fd == r.socket.fd) r.socket_taken = true;
  }

  // 2. Commit.
  std::vector<Listener> old_listeners = listeners_;
  listeners_ = new_listeners;
  for (const auto& l : old_listeners) {
    if (std::none_of(listeners_.begin(), listeners_.end(), [&](const Listener& x) { return x.fd == l.fd; })) {
      log::notice("reload: closing listener {}", l.bound);
      release_listener(l);
    }
  }
  for (const auto& l : listeners_) {
    if (std::none_of(old_listeners.begin(), old_listeners.end(), [&](const Listener& x) { return x.fd == l.fd; }))
      log::notice("reload: listening on {}", l.bound);
  }
  model::Config old = std::move(config_);
  config_ = std::move(next);
  // Renewed certificates (a certbot deploy hook runs `wsgictl reload`): a
  // server whose new files fail keeps serving the ones loaded before.
  for (const std::string& e : tls_.load(config_)) {
    log::error("reload: TLS: {}", e);
    errors->push_back("TLS: " + e);
  }
  access_logs_ = std::move(new_access_logs);
  embedded_.configure(config_);
  log::Level lv;
  if (log::parse_level(config_.log_level, &lv)) log::set_level(lv);
  auto log_file = [](const model::Config& c) {
    return c.server.error_log ? model::from_server_root(c, c.server.error_log->path) : std::string();
  };
  if (log_file(old) != log_file(config_)) {
    if (Status s = open_log(); !s) log::error("reload: ErrorLog: {}", s.message());
  }

  for (const auto& name : d.removed_groups) {
    auto it = groups_.find(name);
    if (it == groups_.end()) continue;
    log::notice("reload: group {} removed: draining", name);
    RemovedGroup r;
    r.group = std::move(it->second);
    r.socket = sockets_[name];
    groups_.erase(it);
    sockets_.erase(name);
    r.group->stop(false);
    removed_.push_back(std::move(r));
  }
  for (const auto& name : d.changed_groups) {
    const model::GroupSpec& spec = *config_.find_group(name);
    ProcessGroup* g = groups_[name].get();
    auto ns = new_sockets.find(name);
    if (ns != new_sockets.end()) {
      retired_sockets_.push_back({name, sockets_[name], g->pids()});
      sockets_[name] = ns->second;
      g->set_socket(ns->second.fd, ns->second.path);
    } else if (sockets_[name].backlog != spec.listen_backlog) {
      if (Status s = relisten(sockets_[name].fd, spec.listen_backlog); !s) {
        log::warn("reload: group {}: {}", name, s.message());
      }
      sockets_[name].backlog = spec.listen_backlog;
    }
    log::notice("reload: group {} changed: rolling restart", name);
    g->update(spec, worker_settings(config_, spec));
  }
  for (const auto& name : d.added_groups) {
    const model::GroupSpec& spec = *config_.find_group(name);
    sockets_[name] = new_sockets[name];
    log::notice("reload: group {} added", name);
    auto pg = std::make_unique<ProcessGroup>(this, spec, worker_settings(config_, spec),
                                             sockets_[name].fd, sockets_[name].path);
    ProcessGroup* raw = pg.get();
    groups_[name] = std::move(pg);
    raw->start();
  }
  for (const auto& name : d.unchanged_groups) {
    // Nothing that needs a restart changed, but what does not (LogLevel, where
    // the directive is written) reaches the processes spawned from now on.
    const model::GroupSpec& spec = *config_.find_group(name);
    groups_[name]->refresh(spec, worker_settings(config_, spec));
  }
  if (!d.unchanged_groups.empty())
    log::notice("reload: {} groups unchanged", d.unchanged_groups.size());
  if (config_.control_socket != old.control_socket)
    log::warn("reload: WSGIControlSocket changes take effect at the next start");

  // 3. The front end: new fds need a new process, and so does an embedded pool
  // whose configuration or scripts changed (a new Python); otherwise new settings.
  if (frontend_) {
    int loops = frontend_loops(config_), old_loops = frontend_loops(old);
    if (d.listen_changed()) {
      frontend_->replace("reload: Listen changed");
    } else if (loops != old_loops) {
      // Its threads are started once, with its listeners.
      log::notice("reload: the front end's event loops: {} -> {}: replacing the front end", old_loops,
                  loops);
      frontend_->replace(fmt::format("reload: WSGIFrontendLoops {} -> {}", old_loops, loops));
    } else if (!embedded_changed.empty()) {
      // The embedded pool runs in the front end: a new one, with a new Python.
      log::notice("reload: embedded pool {}: {}: replacing the front end", model::kEmbeddedPoolName,
                  embedded_changed);
      frontend_->replace("reload: " + embedded_changed);
    } else {
      push_frontend_settings(true);
    }
  } else {
    start_frontend();
  }
  update_watch();
  ready_sent_ = false;
  log::notice("reload: {} added, {} removed, {} changed, {} unchanged groups",
              d.added_groups.size(), d.removed_groups.size(), d.changed_groups.size(),
              d.unchanged_groups.size());
  check_progress();
  return Status::ok();
}

void Daemon::update_watch() { watch_.set(script_files(config_)); }

}  // namespace wsgid::master
