#include "supervisor/master/child.h"

#include "supervisor/master/restart_cause.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <algorithm>
#include <cmath>

#include "common/log.h"

namespace wsgid::master {
namespace {

using S = ChildState;
using E = ChildEvent;
using G = Guard;
using A = Action;

// The life of one supervised child. First matching row wins; no row = ignored.
const std::vector<Transition> kTransitions = {
    // from        event            guard           to           action
    {S::kStarting, E::kReady,       G::kAlways,     S::kRunning,  A::kNone,      "READY seen: serving"},
    {S::kStarting, E::kExit,        G::kWantDown,   S::kExited,   A::kNone,      "stopped before READY"},
    {S::kStarting, E::kExit,        G::kRetry,      S::kBackoff,  A::kArmBackoff,"died before READY: retry later"},
    {S::kStarting, E::kExit,        G::kGiveUp,     S::kFatal,    A::kNone,      "never reached READY startup-retries + 1 times: give up"},
    {S::kStarting, E::kSpawnFailed, G::kRetry,      S::kBackoff,  A::kArmBackoff,"exec failed: retry later"},
    {S::kStarting, E::kSpawnFailed, G::kGiveUp,     S::kFatal,    A::kNone,      "exec keeps failing: give up"},
    {S::kStarting, E::kStop,        G::kAlways,     S::kStopping, A::kTerminate, "not serving yet: no drain needed"},
    {S::kStarting, E::kStopNow,     G::kAlways,     S::kStopping, A::kTerminate, "immediate stop"},
    {S::kStarting, E::kRestartNow,  G::kAlways,     S::kStopping, A::kTerminate, "restart: stop, then spawn on exit"},

    {S::kStarting, E::kReplace,     G::kAlways,     S::kStopping, A::kTerminate, "not READY yet: replace at once (stop, then spawn on exit)"},

    {S::kRunning,  E::kExit,        G::kHasSuccessor,S::kStarting,A::kTakeOver,  "died while its successor starts: the successor takes over"},
    {S::kRunning,  E::kExit,        G::kExpected,   S::kStarting, A::kSpawn,     "recycled or long-lived: respawn at once"},
    {S::kRunning,  E::kExit,        G::kUnexpected, S::kBackoff,  A::kArmBackoff,"crashed soon after READY: back off"},
    {S::kRunning,  E::kStop,        G::kAlways,     S::kStopping, A::kDrain,     "graceful stop: finish in-flight requests"},
    {S::kRunning,  E::kStopNow,     G::kAlways,     S::kStopping, A::kTerminate, "immediate stop"},
    {S::kRunning,  E::kRestartNow,  G::kAlways,     S::kStopping, A::kTerminate, "restart --now: stop, then spawn on exit"},
    {S::kRunning,  E::kReplace,     G::kAlways,     S::kRunning,  A::kSpawnSuccessor, "rolling: a successor starts beside the serving process"},
    {S::kRunning,  E::kSuccessorReady, G::kAlways,  S::kRunning,  A::kPromote,   "successor READY: it serves, the old process drains"},
    {S::kRunning,  E::kSuccessorExit, G::kRetry,    S::kRunning,  A::kArmSuccessorRetry, "successor died before READY: try another later"},
    {S::kRunning,  E::kSuccessorExit, G::kGiveUp,   S::kRunning,  A::kKeepCurrent, "successors keep failing: keep the serving process"},
    {S::kRunning,  E::kTimer,       G::kAlways,     S::kRunning,  A::kSpawnSuccessor, "retry time over: another successor"},

    {S::kStopping, E::kExit,        G::kWantUp,     S::kStarting, A::kSpawn,     "restart: spawn the new process"},
    {S::kStopping, E::kExit,        G::kWantDown,   S::kExited,   A::kNone,      "stopped"},
    {S::kStopping, E::kStopNow,     G::kAlways,     S::kStopping, A::kTerminate, "escalate a drain to SIGTERM"},

    {S::kExited,   E::kStart,       G::kAlways,     S::kStarting, A::kSpawn,     "start"},
    {S::kExited,   E::kRestartNow,  G::kAlways,     S::kStarting, A::kSpawn,     "start"},

    {S::kBackoff,  E::kTimer,       G::kWantUp,     S::kStarting, A::kSpawn,     "backoff over: spawn"},
    {S::kBackoff,  E::kStart,       G::kAlways,     S::kStarting, A::kSpawn,     "explicit start skips the wait"},
    {S::kBackoff,  E::kRestartNow,  G::kAlways,     S::kStarting, A::kSpawn,     "explicit restart skips the wait"},
    {S::kBackoff,  E::kReplace,     G::kAlways,     S::kStarting, A::kSpawn,     "replacement asked: skip the wait"},
    {S::kBackoff,  E::kStop,        G::kAlways,     S::kExited,   A::kCancelTimer,"stopped while waiting"},
    {S::kBackoff,  E::kStopNow,     G::kAlways,     S::kExited,   A::kCancelTimer,"stopped while waiting"},

    {S::kFatal,    E::kStart,       G::kAlways,     S::kStarting, A::kSpawn,     "explicit start clears FATAL"},
    {S::kFatal,    E::kRestartNow,  G::kAlways,     S::kStarting, A::kSpawn,     "explicit restart clears FATAL"},
    {S::kFatal,    E::kReplace,     G::kAlways,     S::kStarting, A::kSpawn,     "replacement asked (restart, reload): clears FATAL"},
    {S::kFatal,    E::kStop,        G::kAlways,     S::kExited,   A::kNone,      "stopped"},
    {S::kFatal,    E::kStopNow,     G::kAlways,     S::kExited,   A::kNone,      "stopped"},
};

bool guard_holds(Guard g, const Facts& f) {
  switch (g) {
    case G::kAlways: return true;
    case G::kWantUp: return f.want_up;
    case G::kWantDown: return !f.want_up;
    case G::kExpected: return f.want_up && f.expected_exit;
    case G::kUnexpected: return f.want_up && !f.expected_exit;
    case G::kRetry:
      return f.want_up && (f.give_up_after <= 0 || f.start_failures < f.give_up_after);
    case G::kGiveUp:
      return f.want_up && f.give_up_after > 0 && f.start_failures >= f.give_up_after;
    case G::kHasSuccessor: return f.want_up && f.has_successor;
  }
  return false;
}

double now_s(uv_loop_t* loop) { return static_cast<double>(uv_now(loop)) / 1000.0; }

}  // namespace

const std::vector<Transition>& transitions() { return kTransitions; }

const Transition* find_transition(ChildState from, ChildEvent event, const Facts& facts) {
  for (const Transition& t : kTransitions) {
    if (t.from == from && t.event == event && guard_holds(t.guard, facts)) return &t;
  }
  return nullptr;
}

std::string_view state_name(ChildState s) {
  switch (s) {
    case S::kStarting: return "STARTING";
    case S::kRunning: return "RUNNING";
    case S::kStopping: return "STOPPING";
    case S::kExited: return "EXITED";
    case S::kBackoff: return "BACKOFF";
    case S::kFatal: return "FATAL";
  }
  return "?";
}

std::string_view event_name(ChildEvent e) {
  switch (e) {
    case E::kStart: return "start";
    case E::kStop: return "stop";
    case E::kStopNow: return "stop-now";
    case E::kRestartNow: return "restart-now";
    case E::kReady: return "ready";
    case E::kExit: return "exit";
    case E::kSpawnFailed: return "spawn-failed";
    case E::kTimer: return "timer";
    case E::kReplace: return "replace";
    case E::kSuccessorReady: return "successor-ready";
    case E::kSuccessorExit: return "successor-exit";
  }
  return "?";
}

double Child::replacement_due_in() const {
  if (start_failures_ > 0) return -1;  // failing to start: not due back
  if (state_ == S::kStarting && retrying_) return 0;  // the replacement is starting now
  if (state_ != S::kBackoff || !timer_armed_) return -1;
  return static_cast<double>(uv_timer_get_due_in(timer_)) / 1000.0;
}

double Backoff::delay(int failures) const {
  if (failures <= 0) return 0;
  double d = base * std::pow(2.0, std::min(failures - 1, 30));
  return std::min(d, cap);
}

bool is_failure_reason(std::string_view reason) {
  return reason == "startup-failure" || reason == "startup-timeout" ||
         reason == "service-script-exited";
}

// --- Child ---

Child::Child(ChildHost* host, int index) : host_(host), index_(index) {
  timer_ = new uv_timer_t;
  uv_timer_init(host_->loop(), timer_);
  timer_->data = this;
}

Child::~Child() {
  uv_timer_stop(timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  for (Process* p : {current_, successor_}) {
    if (p) {
      p->signal(SIGKILL);
      p->destroy();
    }
  }
  for (Process* p : retiring_) {
    p->signal(SIGKILL);
    p->destroy();
  }
}

bool Child::retrying() const {
  return retrying_ && (state_ == S::kBackoff || state_ == S::kStarting);
}

bool Child::idle() const {
  return !current_ && !successor_ && retiring_.empty() && !timer_armed_;
}

int Child::pid() const { return current_ ? current_->pid() : 0; }

std::vector<int> Child::pids() const {
  std::vector<int> v;
  if (current_) v.push_back(current_->pid());
  if (successor_) v.push_back(successor_->pid());
  for (Process* p : retiring_) v.push_back(p->pid());
  return v;
}

void Child::handle(ChildEvent event) {
  if (event == E::kStart || event == E::kRestartNow) want_up_ = true;
  if (event == E::kStop || event == E::kStopNow) want_up_ = false;
  Facts f;
  f.want_up = want_up_;
  f.start_failures = start_failures_;
  f.has_successor = successor_ != nullptr;
  f.give_up_after = host_->give_up_after();
  if (state_ == S::kStarting && (event == E::kExit || event == E::kSpawnFailed))
    f.start_failures = start_failures_ + 1;
  if (event == E::kSuccessorExit) {
    f.start_failures = successor_failures_ + 1;
    f.give_up_after = kMaxSuccessorFailures;
  }
  handle(event, f);
}

bool Child::handle(ChildEvent event, const Facts& f) {
  const Transition* t = find_transition(state_, event, f);
  if (!t) return false;
  if (state_ == S::kStarting && (event == E::kExit || event == E::kSpawnFailed) && want_up_)
    ++start_failures_;
  if (event == E::kSuccessorExit) ++successor_failures_;
  if ((state_ == S::kFatal || state_ == S::kExited || state_ == S::kBackoff) &&
      (event == E::kStart || event == E::kRestartNow || event == E::kReplace)) {
    want_up_ = true;
    start_failures_ = 0;
    failures_ = 0;
  }
  run(*t, event);
  return true;
}

void Child::run(const Transition& t, ChildEvent event) {
  std::string label = host_->child_label(*this);
  ChildState from = state_;
  if (event == E::kReplace && t.action == A::kTerminate) {
    log::notice("{}: replacing pid {} at once ({}; it is not READY yet)", label, pid(),
                pending_replace_reason_);
  } else if (event == E::kReplace && t.action == A::kSpawn) {
    log::notice("{}: starting ({})", label, pending_replace_reason_);
  }
  state_ = t.to;
  if (t.to == S::kBackoff) retrying_ = true;
  if (t.to == S::kRunning || t.to == S::kExited || t.to == S::kFatal) retrying_ = false;
  if (from != t.to) {
    log::info("{}: {} -> {} on {} ({})", label, state_name(from), state_name(t.to),
              event_name(event), t.why);
  }
  if (t.to == S::kFatal) {
    log::error("{}: FATAL: failed to reach READY {} times in a row; not restarting until "
               "`wsgictl start` or a reload", label, start_failures_);
  }
  // A successor lives only in RUNNING: leaving it ends a replacement in progress
  // (the takeover makes the successor current instead), and the timer, if armed,
  // was the successor retry's.
  if (from == S::kRunning && t.to != S::kRunning && t.action != A::kTakeOver) {
    if (successor_) {
      retire(successor_, true);
      successor_ = nullptr;
    }
    if (timer_armed_) {
      uv_timer_stop(timer_);
      timer_armed_ = false;
    }
  }
  switch (t.action) {
    case A::kNone:
      break;
    case A::kSpawn:
      do_spawn();
      break;
    case A::kDrain:
      if (current_)
        current_->drain(host_->graceful_timeout(), host_->shutdown_timeout(), false,
                        host_->drain_delay());
      break;
    case A::kTerminate:
      if (current_) current_->terminate(host_->shutdown_timeout());
      break;
    case A::kArmBackoff: {
      // A failed start waits delay(1) = 1 s first. A crash soon after READY is
      // respawned at once the first time, as mod_wsgi restarts a dead daemon
      // process; only a second one in a row waits (1 s, then doubling).
      int n = std::max(from == S::kStarting ? start_failures_ : failures_, 1);
      double d = backoff_.delay(from == S::kStarting ? n : n - 1);
      log::notice("{}: restarting in {:.2f} s ({} failure{} in a row)", label, d, n,
                  n == 1 ? "" : "s");
      arm_timer(d);
      next_try_at_ = now_s(host_->loop()) + d;
      break;
    }
    case A::kCancelTimer:
      uv_timer_stop(timer_);
      timer_armed_ = false;
      break;
    case A::kSpawnSuccessor:
      spawn_successor();
      break;
    case A::kPromote:
      promote();
      break;
    case A::kTakeOver:
      current_ = successor_;
      successor_ = nullptr;
      if (current_) log::notice("{}: pid {} takes over", label, current_->pid());
      break;
    case A::kArmSuccessorRetry: {
      double d = backoff_.delay(successor_failures_);
      log::notice("{}: trying the replacement again in {:.2f} s", label, d);
      arm_timer(d);
      break;
    }
    case A::kKeepCurrent:
      log::error("{}: the replacement failed to reach READY {} times; keeping pid {}", label,
                 successor_failures_, pid());
      successor_failures_ = 0;
      break;
  }
  host_->child_changed(*this);
}

bool Child::start_process(Process** out) {
  SpawnSpec spec = host_->spawn_spec(*this);
  auto r = Process::start(host_->loop(), spec, this);
  if (!r.is_ok()) {
    log::error("{}: {}", host_->child_label(*this), r.status().message());
    // What `wsgictl status` shows in LAST EXIT while the slot backs off.
    last_exit_ = "not started: " + r.status().message();
    return false;
  }
  *out = r.value();
  log::notice("{}: started pid {}", host_->child_label(*this), (*out)->pid());
  return true;
}

void Child::do_spawn() {
  uv_timer_stop(timer_);
  timer_armed_ = false;
  state_json_ = nlohmann::json();
  Process* p = nullptr;
  if (!start_process(&p)) {
    handle(E::kSpawnFailed);
    return;
  }
  current_ = p;
}

void Child::arm_timer(double seconds) {
  timer_armed_ = true;
  uv_timer_start(timer_, on_timer, static_cast<uint64_t>(seconds * 1000.0), 0);
}

void Child::on_timer(uv_timer_t* t) {
  auto* c = static_cast<Child*>(t->data);
  c->timer_armed_ = false;
  c->handle(E::kTimer);
}

void Child::replace(std::string_view reason) {
  pending_replace_reason_ = std::string(reason);
  handle(E::kReplace);
}

void Child::spawn_successor() {
  std::string label = host_->child_label(*this);
  if (successor_) {
    // The successor may carry old settings: start over.
    retire(successor_, true);
    successor_ = nullptr;
  }
  if (timer_armed_) {  // a successor retry: this spawn is it
    uv_timer_stop(timer_);
    timer_armed_ = false;
  }
  Process* p = nullptr;
  if (!start_process(&p)) {
    log::error("{}: could not start a replacement for pid {}; keeping it", label, pid());
    return;
  }
  log::notice("{}: pid {} will replace pid {} once READY ({})", label, p->pid(), pid(),
              pending_replace_reason_);
  successor_ = p;
}

void Child::promote() {
  Process* old = current_;
  current_ = successor_;
  successor_ = nullptr;
  ready_at_ = now_s(host_->loop());
  start_failures_ = 0;
  successor_failures_ = 0;
  state_json_ = nlohmann::json();
  if (old) {
    host_->child_replaced(*this, replace_cause(pending_replace_reason_));
    log::notice("{}: pid {} is READY; draining pid {}", host_->child_label(*this),
                current_->pid(), old->pid());
    retire(old, false);
  }
}

void Child::retire(Process* p, bool now) {
  if (now) {
    p->terminate(host_->shutdown_timeout());
  } else {
    p->drain(host_->graceful_timeout(), host_->shutdown_timeout(), true);
  }
  retiring_.push_back(p);
}

void Child::kill_all() {
  for (Process* p : {current_, successor_}) {
    if (p) p->signal(SIGKILL);
  }
  for (Process* p : retiring_) p->signal(SIGKILL);
}

void Child::send_to_current(proto::FrameType type, std::string_view payload) {
  if (current_) current_->send(type, payload);
}

Status Child::send_fds_to_current(std::string_view text, const std::vector<int>& fds) {
  if (!current_) return Status::error("no current process");
  return current_->send_fds(text, fds);
}

void Child::query_state() {
  if (current_ && state_ == S::kRunning) current_->send(proto::FrameType::kStateQuery, "");
}

void Child::on_frame(Process* p, const proto::Frame& frame) {
  std::string label = host_->child_label(*this);
  switch (frame.type) {
    case proto::FrameType::kReady:
      if (p == current_) {
        ready_at_ = now_s(host_->loop());
        start_failures_ = 0;
        handle(E::kReady);
      } else if (p == successor_) {
        handle(E::kSuccessorReady);
      }
      break;
    case proto::FrameType::kState:
      if (p == current_) {
        auto j = nlohmann::json::parse(frame.payload, nullptr, false);
        if (j.is_object()) state_json_ = std::move(j);
        host_->child_changed(*this);
      }
      break;
    case proto::FrameType::kListenersClosing: {
      bool refusing = p == current_ && host_->listeners_closing();
      p->send(proto::FrameType::kListenersClosed, nlohmann::json{{"refusing", refusing}}.dump());
      break;
    }
    case proto::FrameType::kReplaceMe: {
      std::string reason = "replace-me";
      auto j = nlohmann::json::parse(frame.payload, nullptr, false);
      if (j.is_object() && j.contains("reason") && j["reason"].is_string()) reason = j["reason"];
      if (p == current_ && state_ == S::kRunning && !successor_) {
        log::notice("{}: pid {} asks to be replaced ({})", label, p->pid(), reason);
        replace(reason);
      }
      break;
    }
    case proto::FrameType::kLog: {
      auto j = nlohmann::json::parse(frame.payload, nullptr, false);
      if (j.is_object() && j.contains("message") && j["message"].is_string()) {
        log::Level lv = log::Level::kNotice;
        if (j.contains("level") && j["level"].is_string()) {
          std::string w = j["level"];
          log::parse_level(w, &lv);
        }
        std::string m = j["message"];
        log::emit(lv, "{} pid {}: {}", label, p->pid(), m);
      }
      break;
    }
    default:
      log::warn("{} pid {}: unexpected {} frame on the control channel", label, p->pid(),
                proto::type_name(frame.type));
      break;
  }
}

void Child::log_exit(Process* p, const ExitInfo& info, std::string_view role) {
  std::string label = host_->child_label(*this);
  // A death before READY that nobody asked for says what the process said last.
  std::string what =
      info.ready || p->stopping() ? describe_exit(info) : describe_failed_start(info);
  std::string line = role.empty() ? fmt::format("{} pid {} {}", label, p->pid(), what)
                                  : fmt::format("{} pid {} ({}) {}", label, p->pid(), role, what);
  last_exit_ = what;
  bool clean = WIFEXITED(info.wait_status) && WEXITSTATUS(info.wait_status) == 0;
  if (clean || p->stopping()) {
    log::notice("{}", line);
  } else {
    log::warn("{}", line);
  }
}

void Child::on_exit(Process* p, const ExitInfo& info) {
  auto it = std::find(retiring_.begin(), retiring_.end(), p);
  if (it != retiring_.end()) {
    log_exit(p, info, "retired");
    retiring_.erase(it);
    p->destroy();
    host_->child_changed(*this);
    return;
  }
  if (p == successor_) {
    log_exit(p, info, "replacement");
    successor_ = nullptr;
    p->destroy();
    Facts f;
    f.want_up = want_up_;
    f.start_failures = successor_failures_ + 1;
    f.give_up_after = kMaxSuccessorFailures;
    if (!handle(E::kSuccessorExit, f)) host_->child_changed(*this);
    return;
  }
  if (p != current_) {
    p->destroy();
    return;
  }
  log_exit(p, info, "");
  if (want_up_) host_->child_replaced(*this, exit_cause(info, p->stopping()));
  current_ = nullptr;
  p->destroy();
  state_json_ = nlohmann::json();
  double ran = state_ == S::kRunning ? now_s(host_->loop()) - ready_at_ : 0;
  bool announced = !info.reason.empty() && !is_failure_reason(info.reason);
  bool expected = announced || ran >= kMinUptime;
  // Feed the table (a hand-made Facts: expected_exit is known only here).
  Facts f;
  f.want_up = want_up_;
  f.expected_exit = expected;
  f.start_failures = state_ == S::kStarting ? start_failures_ + 1 : start_failures_;
  f.give_up_after = host_->give_up_after();
  f.has_successor = successor_ != nullptr;
  // A death while a successor starts is a takeover, not a failure of the slot.
  if (state_ == S::kRunning && !(f.want_up && f.has_successor)) {
    failures_ = expected ? 0 : failures_ + 1;
  }
  if (!handle(E::kExit, f)) host_->child_changed(*this);
}

double Child::current_started_at() const { return current_ ? current_->started_at() : 0; }

nlohmann::json Child::status_json() const {
  nlohmann::json j;
  j["index"] = index_;
  j["state"] = std::string(state_name(state_));
  j["pid"] = current_ ? nlohmann::json(current_->pid()) : nlohmann::json(nullptr);
  j["uptime"] = current_ ? nlohmann::json(now_s(host_->loop()) - current_->started_at())
                         : nlohmann::json(nullptr);
  auto from_state = [&](const char* key) {
    return state_json_.is_object() && state_json_.contains(key) ? state_json_[key]
                                                                 : nlohmann::json(nullptr);
  };
  j["requests"] = from_state("requests");
  j["busy"] = from_state("busy");
  j["threads"] = from_state("threads");
  j["current"] = from_state("current");
  j["rss"] = from_state("rss");
  if ((j["rss"].is_null() || j["rss"] == 0) && current_) {
    // The worker did not say: read it from /proc.
    if (FILE* f = std::fopen(fmt::format("/proc/{}/statm", current_->pid()).c_str(), "r")) {
      long size = 0, resident = 0;
      if (std::fscanf(f, "%ld %ld", &size, &resident) == 2)
        j["rss"] = static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
      std::fclose(f);
    }
  }
  j["last_exit"] = last_exit_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_exit_);
  j["start_failures"] = start_failures_;
  j["next_try_in"] = nullptr;
  j["next_try_at"] = nullptr;
  if (state_ == S::kBackoff && timer_armed_) {
    double in = std::max(0.0, next_try_at_ - now_s(host_->loop()));
    j["next_try_in"] = std::round(in * 10) / 10;
    j["next_try_at"] = std::round((static_cast<double>(std::time(nullptr)) + in) * 10) / 10;
  }
  j["successor_pid"] = successor_ ? nlohmann::json(successor_->pid()) : nlohmann::json(nullptr);
  nlohmann::json r = nlohmann::json::array();
  for (Process* p : retiring_) r.push_back(p->pid());
  j["retiring"] = r;
  return j;
}

}  // namespace wsgid::master
