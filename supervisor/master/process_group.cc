#include "supervisor/master/process_group.h"

#include <fmt/core.h>

#include <signal.h>

#include <algorithm>

#include "common/log.h"

namespace wsgid::master {

ProcessGroup::ProcessGroup(GroupHost* host, model::GroupSpec spec, nlohmann::json settings,
                           int socket_fd, std::string socket_path)
    : host_(host),
      spec_(std::move(spec)),
      settings_(std::move(settings)),
      socket_fd_(socket_fd),
      socket_path_(std::move(socket_path)) {
  int n = std::max(spec_.processes, 1);
  for (int i = 0; i < n; ++i) children_.push_back(std::make_unique<Child>(this, i));
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::start() {
  for (auto& c : children_) c->handle(ChildEvent::kStart);
}

void ProcessGroup::stop(bool now) {
  for (auto& c : children_) c->handle(now ? ChildEvent::kStopNow : ChildEvent::kStop);
  for (auto& c : leaving_) {
    if (now) c->handle(ChildEvent::kStopNow);
  }
}

void ProcessGroup::restart(bool now, std::string_view reason) {
  log::notice("group {}: {} restart ({})", spec_.name, now ? "immediate" : "rolling", reason);
  for (auto& c : children_) {
    if (now) {
      c->handle(ChildEvent::kRestartNow);
    } else {
      c->replace(reason);
    }
  }
}

void ProcessGroup::update(model::GroupSpec spec, nlohmann::json settings) {
  spec_ = std::move(spec);
  settings_ = std::move(settings);
  ++generation_;
  int want = std::max(spec_.processes, 1);
  int have = static_cast<int>(children_.size());
  bool up = !children_.empty() && children_[0]->want_up();
  for (int i = want; i < have; ++i) {
    children_[static_cast<size_t>(i)]->handle(ChildEvent::kStop);
    leaving_.push_back(std::move(children_[static_cast<size_t>(i)]));
  }
  if (want < have) children_.resize(static_cast<size_t>(want));
  for (int i = 0; i < std::min(want, have); ++i) children_[static_cast<size_t>(i)]->replace("reload");
  for (int i = have; i < want; ++i) {
    children_.push_back(std::make_unique<Child>(this, i));
    if (up) children_.back()->handle(ChildEvent::kStart);
  }
  reap_leaving();
}

void ProcessGroup::signal(int signum) {
  for (Child* c : children()) {
    for (int pid : c->pids()) {
      if (pid > 0) ::kill(pid, signum);
    }
  }
}

void ProcessGroup::kill_all() {
  for (Child* c : children()) c->kill_all();
}

void ProcessGroup::query_state() {
  for (auto& c : children_) c->query_state();
}

bool ProcessGroup::idle() const {
  for (Child* c : children()) {
    if (!c->idle()) return false;
    if (c->state() != ChildState::kExited && c->state() != ChildState::kFatal) return false;
  }
  return true;
}

bool ProcessGroup::settled() const {
  for (auto& c : children_) {
    if (!c->want_up() || c->retrying()) continue;
    if (c->state() != ChildState::kRunning && c->state() != ChildState::kFatal) return false;
  }
  return true;
}

bool ProcessGroup::down() const {
  if (stopped()) return false;
  for (auto& c : children_) {
    ChildState s = c->state();
    if (c->retrying() || s == ChildState::kFatal || s == ChildState::kExited) continue;
    return false;
  }
  return true;
}

bool ProcessGroup::back_within(double seconds) const {
  if (!down()) return false;
  for (auto& c : children_) {
    double left = c->replacement_due_in();
    if (left >= 0 && left <= seconds) return true;
  }
  return false;
}

bool ProcessGroup::stopped() const {
  for (auto& c : children_) {
    if (c->want_up()) return false;
  }
  return true;
}

std::vector<int> ProcessGroup::pids() const {
  std::vector<int> v;
  for (Child* c : children()) {
    auto p = c->pids();
    v.insert(v.end(), p.begin(), p.end());
  }
  return v;
}

std::vector<Child*> ProcessGroup::children() const {
  std::vector<Child*> v;
  for (auto& c : children_) v.push_back(c.get());
  for (auto& c : leaving_) v.push_back(c.get());
  return v;
}

nlohmann::json ProcessGroup::status_json() const {
  nlohmann::json procs = nlohmann::json::array();
  int running = 0, fatal = 0, backoff = 0, starting = 0, stopping = 0;
  bool want = false;
  for (auto& c : children_) {
    procs.push_back(c->status_json());
    want = want || c->want_up();
    switch (c->state()) {
      case ChildState::kRunning: ++running; break;
      case ChildState::kFatal: ++fatal; break;
      case ChildState::kBackoff: ++backoff; break;
      case ChildState::kStarting: ++starting; break;
      case ChildState::kStopping: ++stopping; break;
      case ChildState::kExited: break;
    }
  }
  std::string state;
  int n = static_cast<int>(children_.size());
  if (running == n) state = "RUNNING";
  else if (fatal == n) state = "FATAL";
  else if (!want && stopping == 0) state = "STOPPED";
  else if (stopping > 0 && !want) state = "STOPPING";
  else if (running > 0) state = "DEGRADED";
  else if (backoff > 0) state = "BACKOFF";
  else if (starting > 0) state = "STARTING";
  else state = "DEGRADED";
  return {{"name", spec_.name},
          {"state", state},
          {"socket", socket_path_},
          {"generation", generation_},
          {"title", spec_.title()},
          {"processes", procs}};
}

SpawnSpec ProcessGroup::spawn_spec(const Child& child) {
  SpawnSpec s;
  s.path = host_->worker_path();
  s.argv = {"wsgid-worker", "--control-fd=3", "--listen-fd=4"};
  s.fds = {socket_fd_};
  nlohmann::json j = settings_;
  j["index"] = child.index();
  j["generation"] = generation_;
  s.settings = j.dump();
  s.role = "worker " + spec_.name;
  s.output_fd = host_->output_fd(*this);
  return s;
}

std::string ProcessGroup::child_label(const Child& child) {
  return fmt::format("group {} worker {}", spec_.name, child.index());
}

void ProcessGroup::child_changed(Child&) {
  reap_leaving();
  host_->group_changed(*this);
}

void ProcessGroup::reap_leaving() {
  // A Child may be on the stack (this runs from its callbacks): delete it on the
  // next loop turn.
  for (auto it = leaving_.begin(); it != leaving_.end();) {
    if ((*it)->idle() && (*it)->state() == ChildState::kExited && !(*it)->want_up()) {
      Child* raw = it->release();
      defer(host_->loop(), [raw] { delete raw; });
      it = leaving_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace wsgid::master
