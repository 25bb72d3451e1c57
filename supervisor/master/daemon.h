// The master daemon: `wsgid -f CONFIG` (DESIGN.md "Processes and ownership").
//
// run_daemon() parses the configuration, opens every listening socket, starts the
// front end (when the wsgid-frontend binary exists) and each group's workers,
// then runs one uv_loop_t on the calling thread until the daemon stops. It wires
// the modules of this directory: sockets (listeners, group sockets), spawn and
// child (processes and their state table), process_group (restart policy),
// signals, control_server (wsgictl), script_watch (WSGIScriptReloading), notify
// (systemd). It owns the loop, every socket fd, the groups and the front end.
// The implementation is split by responsibility (daemon_impl.h declares the
// Daemon class): daemon.cc (start, stop, signals, sockets, logs, front end),
// reload.cc (worker settings, diff, reload), control_commands.cc (wsgictl's
// commands, tail rings), status.cc (the status reply).
//
// A reload (SIGHUP, `wsgictl reload`) parses the file first; an invalid file
// changes nothing (every error is logged with file:line:col). Otherwise
// diff_configs() decides: new groups start, removed groups drain and stop (their
// socket is closed and unlinked once their last worker exited), changed groups
// restart rolling with their new settings (a new generation), unchanged groups
// keep their processes; new Listen sockets open, removed ones close; the front
// end gets the new settings as another kSettings frame, or is replaced rolling
// when its Listen sockets changed (fds can only be handed down at exec; the old
// front end gets kDrain with "handover": true and keeps its idle keep-alive
// connections for their next request). LogLevel and ErrorLog changes apply to
// the master at once and restart nothing.
//
// Logs: the master's lines go to ErrorLog (stderr without one) and to a ring
// for `wsgictl tail [-f] master`; the workers' captured output goes to the
// ErrorLog of the <VirtualHost> that declares their group when it has one, else
// to the master's. SIGUSR1 reopens all of them and the front end's access logs.
//
// Front-end settings (kSettings, JSON), sent at start, on reload and whenever a
// group's availability changes:
//   {"role": "frontend", "generation": N,
//    "config": <config_to_json(config): groups, mounts, listen, server settings>,
//    "listen": ["127.0.0.1:8080", ...]   (fd 4 + i is listen[i], as configured),
//    "bound": ["127.0.0.1:43567", ...]   (the address each fd is bound to),
//    "groups": {"site1": {"socket": "/run/wsgid/wsgi.site1.sock",
//                          "available": true}},   (false: stopped, or no worker
//                                                  RUNNING: answer 503 at once)
//    "user": "www-data"|null, "group": "www-data"|null, "log_level": "warn"}
//
// Thread: the caller's, which becomes the loop thread.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "supervisor/config/config.h"

namespace wsgid::master {

struct DaemonOptions {
  std::string config_path;      // -f
  bool daemonize = false;       // -d: detach, write PidFile, parent exits once up
  std::vector<std::string> defines;  // -D NAME, for <IfDefine> (kept for reloads)
  // For the process title "wsgid: master -f CONFIG" (nullptr: the argv glibc
  // passed to main, captured at start by title.cc).
  int argc = 0;
  char** argv = nullptr;
  std::string runtime_dir;      // "" = DESIGN.md default (sockets.h)
};

// Runs the master until it stops. Returns the process exit status: 0 after a
// stop by signal or `wsgictl shutdown`, 1 when the configuration is invalid or a
// socket cannot be opened at start (the reason is on stderr / in the log).
int run_daemon(const DaemonOptions& options);

// What a reload changes (names sorted).
struct ConfigDiff {
  std::vector<std::string> added_groups;
  std::vector<std::string> removed_groups;
  std::vector<std::string> changed_groups;    // settings or socket differ
  std::vector<std::string> unchanged_groups;
  std::vector<std::string> added_listen;      // ListenAddr::text()
  std::vector<std::string> removed_listen;
  bool listen_changed() const { return !added_listen.empty() || !removed_listen.empty(); }
};
// Groups compare by worker_settings() (log_level excluded: it needs no restart)
// and by socket path and listen-backlog.
ConfigDiff diff_configs(const config::Config& old_config, const config::Config& new_config,
                        const std::string& runtime_dir);

// The worker settings of BRIEF.md for `group`, without "index" and "generation".
nlohmann::json worker_settings(const config::Config& config, const config::GroupSpec& group);

}  // namespace wsgid::master
