// The master's private parts, shared by the files that implement it (nothing
// outside supervisor/master includes this header; daemon.h is the interface).
//
// Daemon is the whole master: daemon.cc runs it (start, ErrorLog and -d,
// sockets first, the front end, signals, graceful and immediate stop by the
// phase table of stop_phases.h, the progress checks after every child change); reload.cc turns the config into
// worker settings and reloads by diff; control_commands.cc executes the control
// socket's commands and keeps the `tail` rings; status.cc builds the status
// reply. Loop thread only: every member runs on the thread that called
// run_daemon(). The Daemon owns the loop, every socket fd (listeners, group
// sockets, control socket), the groups, the front end and the log files.
#pragma once

#include <uv.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "common/version.h"
#include "model/config.h"
#include "model/status_report.h"
#include "supervisor/config/parser.h"
#include "supervisor/master/access_log_files.h"
#include "supervisor/master/child.h"
#include "supervisor/master/control_commands.h"
#include "supervisor/master/control_server.h"
#include "supervisor/master/daemon.h"
#include "supervisor/master/embedded_pool.h"
#include "supervisor/master/listen_fds.h"
#include "supervisor/master/notify.h"
#include "supervisor/master/process_group.h"
#include "supervisor/master/script_watch.h"
#include "supervisor/master/signals.h"
#include "supervisor/master/sockets.h"
#include "supervisor/master/stop_phases.h"
#include "supervisor/master/tls_material.h"
#include "supervisor/master/spawn.h"

namespace wsgid::master {

using nlohmann::json;

inline constexpr size_t kTailLines = 1000;  // lines kept per role for `tail`

// Files to watch per group (reload.cc): see its definition.
std::map<std::string, std::set<std::string>> script_files(const model::Config& c);

struct Listener {
  std::string text;   // as configured
  std::string bound;  // as bound (port 0 resolved)
  int fd = -1;
  // The socket systemd passed (listen_fds.h), when this Listen took one: it goes
  // back to the pool, not closed, when a reload drops the Listen.
  std::optional<InheritedSocket> inherited;
};

struct GroupSocket {
  int fd = -1;
  std::string path;
  int backlog = 0;
};

// A group socket a reload moved (WSGISocketPrefix changed): kept open, its
// file in place, while a process that listens on it lives. The front end
// connects to the old path until the new settings reach it, a moment after
// the reload; gone at once, such a connect found no file and answered 503.
struct RetiredSocket {
  std::string group;
  GroupSocket socket;
  std::vector<int> pids;  // the group's processes when it moved
};

struct RemovedGroup {
  std::unique_ptr<ProcessGroup> group;
  GroupSocket socket;
  bool socket_taken = false;  // re-added by a later reload: the new group owns it
};

class Daemon : public GroupHost, public ChildHost {
 public:
  explicit Daemon(const DaemonOptions& o) : opts_(o) {}
  int run();

  // GroupHost + ChildHost (the front end)
  uv_loop_t* loop() override { return &loop_; }
  std::string worker_path() override { return worker_path_; }
  void group_changed(ProcessGroup& g) override;
  int output_fd(const ProcessGroup& g) override;
  SpawnSpec spawn_spec(const Child& child) override;
  std::string child_label(const Child&) override { return "frontend"; }
  double graceful_timeout() override;
  double drain_delay() override { return config_.drain_delay; }
  bool listeners_closing() override;
  double shutdown_timeout() override { return 5; }
  void child_changed(Child&) override;
  void group_restart(ProcessGroup& g, std::string_view cause) override;
  // A captured output line of role ("worker site1", "frontend", "master"): into
  // its ring, and to its `tail -f` followers.
  void tap_line(const std::string& role, const std::string& line);

 private:
  config::ParseResult parse() {
    config::ParseOptions po;
    po.syntax.defines = opts_.defines;
    return config::parse_config_file(opts_.config_path, po);
  }
  int fail_start(const std::string& message);
  Status open_log();
  void reopen_logs();
  Status daemonize();
  void report_ready_to_parent(const std::string& error);
  Status open_listeners(const model::Config& c, std::vector<Listener>* out,
                        const std::vector<Listener>& reuse);
  // Closes l's fd, or returns an inherited socket to inherited_ (systemd keeps
  // its copy: closing ours could not free the port for a later Listen).
  void release_listener(const Listener& l);
  // The start's answer to inherited sockets no Listen took: "" or the error.
  std::string unmatched_inherited_error() const;
  void start_watchdog();
  Result<GroupSocket> open_group_socket(const model::Config& c, const model::GroupSpec& g);
  void close_group_socket(const GroupSocket& s);
  // Closes the retired sockets none of whose processes is left (all of them
  // with `all`); a file that a current socket has taken again stays.
  void close_retired_sockets(bool all);
  void start_frontend();
  json frontend_settings();
  // The front end's event loops for config (model::frontend_loop_count with
  // the CPUs this process may run on, which the front end inherits).
  static int frontend_loops(const model::Config& config);
  void push_frontend_settings(bool force);
  // The status report (model/status_report.h, status_push.cc) to the running
  // front end, when its text changed or the front end is a new process.
  model::StatusReport status_report();
  void push_frontend_status();
  // Sends access_logs_ on the front end's descriptor channel (before a kSettings).
  void send_access_logs();
  void on_signal(const SignalEntry& e);
  // Counts the outcome (reloads_, failed_reloads_) of reload_config().
  Status reload(const std::string& why, json* errors);
  Status reload_config(const std::string& why, json* errors);
  // The stop sequence (stop_phases.h): a request takes its row's step; entering a
  // phase runs its entry, then the phase moves on as soon as its wait is over.
  void request_stop(StopRequest r);
  void enter_phase(StopPhase p);
  bool stop_wait_over(StopWait w);
  void advance_stop();
  void kill_everything();
  void check_progress();
  void finish();
  void check_settled();
  void on_control(const ControlRequest& r, std::shared_ptr<Responder> resp);
  // The handlers of the control command table (control_commands.cc).
  friend const std::vector<ControlCommand>& control_command_table();
  void cmd_status(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_start(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_stop(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_restart(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_reload(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_check(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_reopen(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_pid(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_signal(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_tail(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_shutdown(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_version(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  void cmd_help(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  json status_json(const std::vector<std::string>& only);
  void update_watch();
  std::vector<ProcessGroup*> select_groups(const std::vector<std::string>& names,
                                           std::string* unknown);

  DaemonOptions opts_;
  uv_loop_t loop_{};
  bool loop_open_ = false;
  model::Config config_;
  std::string runtime_dir_;
  Identity fe_id_{0, 0};
  std::string worker_path_, frontend_path_;
  std::vector<Listener> listeners_;
  // Sockets systemd passed that no Listen holds now (listen_fds.h).
  std::vector<InheritedSocket> inherited_;
  uv_timer_t watchdog_{};  // WATCHDOG=1 every half WATCHDOG_USEC (notify.h)
  bool watchdog_open_ = false;
  std::map<std::string, GroupSocket> sockets_;
  std::map<std::string, std::unique_ptr<ProcessGroup>> groups_;
  std::vector<RemovedGroup> removed_;
  std::vector<RetiredSocket> retired_sockets_;
  std::unique_ptr<Child> frontend_;
  EmbeddedPool embedded_;  // the scripts the front end runs embedded
  int frontend_generation_ = 0;
  std::string frontend_sent_;
  // The certificates and keys of the TLS servers, read as root (tls_material.h).
  TlsMaterialStore tls_;
  Signals signals_;
  ControlServer control_;
  ScriptWatch watch_;
  Notifier notify_;
  using Phase = StopPhase;  // the stop sequence: stop_phases.h
  Phase phase_ = Phase::kRunning;
  bool entering_phase_ = false;  // enter_phase() runs: the wait checks hold off
  bool ready_sent_ = false;
  int interrupts_ = 0;
  int ready_fd_ = -1;  // -d: the parent waits on this pipe
  std::string pid_file_;
  std::string log_path_;
  int log_fd_ = -1;
  double started_at_ = 0;
  double unix_at_loop_zero_ = 0;  // the Unix time of loop time 0 (status reports)
  uint64_t reloads_ = 0, failed_reloads_ = 0;
  // Processes replaced, by group name and cause (restart_cause.h): kept across
  // reloads, as the front end's counters are.
  std::map<std::string, std::map<std::string, uint64_t>> restarts_;
  std::string status_sent_;
  int status_sent_pid_ = 0;
  std::map<std::string, std::deque<std::string>> tails_;
  // ErrorLog files of <VirtualHost>s that declare groups: path -> fd (kept open
  // until the end, reopened in place on USR1).
  std::map<std::string, int> vhost_logs_;
  // The front end's CustomLog files, opened here as Apache's parent opens them
  // (access_log_files.h); handed to the front end with every full kSettings.
  AccessLogFiles access_logs_;
  std::map<std::string, std::vector<std::shared_ptr<Responder>>> followers_;
};

}  // namespace wsgid::master
