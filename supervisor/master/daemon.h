// The master daemon: `wsgid -f CONFIG` (docs/architecture.md, "Processes and who owns what").
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
// to the master's. The master also opens the front end's CustomLog files (as
// root, as Apache's parent does) and hands them over at start, after every
// reload and on SIGUSR1 (access_log_files.h). SIGUSR1 reopens all of them.
//
// Settings messages (kSettings, JSON; protocol/PROTOCOL.md specifies both field
// by field): each worker gets model::worker_settings_to_json() of its group at
// spawn (with its index and generation); the front end gets
// model::frontend_settings_to_json() at start, on reload and whenever a group's
// availability changes (a group stopped or without a RUNNING worker is sent as
// "stopped" / "down", so the front end answers 503 at once).
//
// Thread: the caller's, which becomes the loop thread.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config.h"

namespace wsgid::master {

struct DaemonOptions {
  std::string config_path;      // -f
  bool daemonize = false;       // -d: detach, write PidFile, parent exits once up
  std::vector<std::string> defines;  // -D NAME, for <IfDefine> (kept for reloads)
  // For the process title "wsgid: master -f CONFIG" (nullptr: the argv glibc
  // passed to main, captured at start by common/proctitle.cc).
  int argc = 0;
  char** argv = nullptr;
  std::string runtime_dir;      // "" = model::default_runtime_dir()
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
  std::vector<std::string> protocol_changed;  // kept addresses whose Listen protocol changed
  bool listen_changed() const {
    return !added_listen.empty() || !removed_listen.empty() || !protocol_changed.empty();
  }
};
// Groups compare by their typed worker settings (model::WorkerSettings, every
// option of the table in model/group_options.h; log_level excluded: it needs no
// restart) and by socket path.
ConfigDiff diff_configs(const model::Config& old_config, const model::Config& new_config,
                        const std::string& runtime_dir);

// The worker settings message for `group` (model/worker_settings.h), without
// "index" and "generation".
nlohmann::json worker_settings(const model::Config& config, const model::GroupSpec& group);

}  // namespace wsgid::master
