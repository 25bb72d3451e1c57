// ProcessGroup: one WSGIDaemonProcess at run time: `processes` Children (child.h)
// running wsgid-worker on the group's listening socket, and the group-level
// operations: start, stop (graceful or now), rolling restart, restart --now,
// update to a changed spec on reload, signal, status.
//
// Restart policy lives in the Children's table (child.cc): respawn at once after
// an expected death, exponential backoff after quick deaths (1 s doubling to
// 60 s, forever, as mod_wsgi restarts its daemons), FATAL only with the group's
// startup-retries=N, after N + 1 failures in a row to reach READY. A rolling restart replaces every
// process through Child::replace(): each slot's new process reaches READY before
// the old one is sent kDrain, so the group never has zero capacity (for a moment
// it runs up to twice its processes). A worker's kReplaceMe (its USR1, maximum-
// requests, ...) replaces that one process the same way.
//
// Loop thread only. The group does not own its socket fd (the daemon does, so
// that the fd survives the group's replacement on reload); it owns its Children.
// Destroy only when idle().
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config.h"
#include "supervisor/master/child.h"

namespace wsgid::master {

class ProcessGroup;

class GroupHost {
 public:
  virtual ~GroupHost() = default;
  virtual uv_loop_t* loop() = 0;
  virtual std::string worker_path() = 0;
  // Any child of the group changed state (readiness tracking, notify).
  virtual void group_changed(ProcessGroup& group) = 0;
  // Where the group's captured worker output goes (SpawnSpec::output_fd); -1 =
  // the master's log. Asked at every spawn.
  virtual int output_fd(const ProcessGroup&) { return -1; }
  // A process of the group was replaced, with its cause (restart_cause.h).
  virtual void group_restart(ProcessGroup&, std::string_view /*cause*/) {}
};

class ProcessGroup : public ChildHost {
 public:
  // settings: the worker settings object (protocol/PROTOCOL.md 7.3) without
  // "index" and "generation" (the group fills those in per spawn).
  ProcessGroup(GroupHost* host, model::GroupSpec spec, nlohmann::json settings, int socket_fd,
               std::string socket_path);
  ~ProcessGroup() override;

  const std::string& name() const { return spec_.name; }
  const model::GroupSpec& spec() const { return spec_; }
  const nlohmann::json& settings() const { return settings_; }
  int socket_fd() const { return socket_fd_; }
  const std::string& socket_path() const { return socket_path_; }
  int generation() const { return generation_; }

  void start();                       // every child kStart (clears FATAL)
  void stop(bool now);                // kStop / kStopNow
  // Rolling (now = false) or immediate (restart --now) restart of every process.
  void restart(bool now, std::string_view reason);
  // Reload with a changed spec: new settings, a new generation, the process count
  // adjusted, then a rolling restart of the processes kept.
  void update(model::GroupSpec spec, nlohmann::json settings);
  // Reload with an unchanged spec (diff_configs found nothing that needs a
  // restart): the settings given to processes spawned from now on (log_level)
  // are replaced; running processes and the generation stay.
  void refresh(model::GroupSpec spec, nlohmann::json settings) {
    spec_ = std::move(spec);
    settings_ = std::move(settings);
  }
  // The socket moved (WSGISocketPrefix changed on reload): processes spawned
  // from now on get the new fd.
  void set_socket(int fd, std::string path) {
    socket_fd_ = fd;
    socket_path_ = std::move(path);
  }
  // Sends signum to every live process of the group.
  void signal(int signum);
  void kill_all();
  void query_state();

  // Every child EXITED and without processes (after stop()).
  bool idle() const;
  // Every wanted child is RUNNING, FATAL or retrying after a failure: the
  // group has come as far as it will for readiness (a crash-looping group does
  // not hold up the daemon's READY, as a failing daemon does not hold up Apache).
  bool settled() const;
  // Wanted up, yet no live worker: every child in BACKOFF, FATAL or EXITED, or
  // STARTING again after a failure (the front end answers 503 at once).
  bool down() const;
  // down(), and a child that crashed after READY gets its replacement within
  // `seconds`: it will soon accept what waits in the socket's backlog
  // (docs/decisions.md 15). A group failing to start is not "back within".
  bool back_within(double seconds) const;
  // No child is wanted up (wsgictl stop).
  bool stopped() const;
  std::vector<int> pids() const;
  // {"name", "state" (aggregate: RUNNING, STARTING, BACKOFF, FATAL, STOPPED ...),
  //  "socket", "generation", "processes": [Child::status_json()...]}
  nlohmann::json status_json() const;
  std::vector<Child*> children() const;

  // ChildHost
  uv_loop_t* loop() override { return host_->loop(); }
  SpawnSpec spawn_spec(const Child& child) override;
  std::string child_label(const Child& child) override;
  double graceful_timeout() override { return spec_.graceful_timeout; }
  double shutdown_timeout() override { return spec_.shutdown_timeout; }
  int give_up_after() override {
    return spec_.startup_retries ? *spec_.startup_retries + 1 : 0;
  }
  void child_changed(Child& child) override;
  void child_replaced(Child&, std::string_view cause) override { host_->group_restart(*this, cause); }

 private:
  void reap_leaving();

  GroupHost* host_;
  model::GroupSpec spec_;
  nlohmann::json settings_;
  int socket_fd_;
  std::string socket_path_;
  int generation_ = 1;
  std::vector<std::unique_ptr<Child>> children_;
  std::vector<std::unique_ptr<Child>> leaving_;  // slots removed by update(), stopping
};

}  // namespace wsgid::master
