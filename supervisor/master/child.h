// Child: one supervised slot ("group site1 worker 2", "frontend") and its state x
// event table, after s6-supervise.
//
// A Child keeps one process of one kind running as long as it is wanted up. Its
// whole life is the table kTransitions in child.cc: every (state, event, guard)
// row names the next state and the action the Child performs. The table is the
// documentation; the Child's code only runs the actions. States:
//
//   STARTING  a process was spawned; its kReady has not arrived yet
//   RUNNING   the process reported kReady and serves
//   STOPPING  the process was told to go (kDrain, or SIGTERM for an immediate stop)
//             and has not exited yet
//   EXITED    no process, on purpose (never started, or stopped)
//   BACKOFF   the process died; a timer runs before the next spawn (1 s, doubling,
//             capped at 60 s: retried forever, as mod_wsgi restarts its daemons;
//             the first crash soon after READY waits 0 s)
//   FATAL     only when the host sets a limit (ChildHost::give_up_after, a group's
//             startup-retries=N): it failed to reach READY that many times in a
//             row; no more spawns until a start event (wsgictl start) clears it
//
// Rolling replacement (a new process READY before the old one drains) goes through
// the same table, as RUNNING's events kReplace, kSuccessorReady, kSuccessorExit and
// kTimer: the Child starts a "successor" process beside the current one and swaps
// them when the successor reports kReady. The old process is then "retiring": it
// gets kDrain and is killed past its timeouts; its exit is logged and never causes
// a respawn. A successor exists only in RUNNING: every row that leaves RUNNING
// (but the takeover, which makes the successor current) ends the replacement.
//
// Loop thread only. A Child owns its processes (current, successor, retiring) and
// its backoff timer; its host (ChildHost, a ProcessGroup or the daemon) must
// outlive it. Destroy a Child only when idle() is true.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "supervisor/master/spawn.h"

namespace wsgid::master {

enum class ChildState { kStarting, kRunning, kStopping, kExited, kBackoff, kFatal };
enum class ChildEvent {
  kStart,        // want up (wsgictl start, group configured); clears FATAL
  kStop,         // want down, graceful: kDrain, SIGKILL past the timeouts
  kStopNow,      // want down, immediate: SIGTERM, SIGKILL past shutdown-timeout
  kRestartNow,   // want up, replace the process at once (restart --now)
  kReady,        // the process sent kReady
  kExit,         // the process exited (its cause in ExitInfo)
  kSpawnFailed,  // fork/exec failed
  kTimer,        // the timer fired: the backoff's, or (RUNNING) the successor retry's
  kReplace,      // want a rolling replacement (wsgictl restart, reload, kReplaceMe, USR2)
  kSuccessorReady,  // the successor sent kReady
  kSuccessorExit,   // the successor exited before kReady
};
enum class Guard {
  kAlways,
  kWantUp,      // the Child is wanted up
  kWantDown,
  kExpected,    // the exit was announced (kExiting with a non-failure reason) or the
                // process ran at least kMinUptime after READY: respawn at once
  kUnexpected,  // a crash soon after READY: back off
  kRetry,       // failed to reach READY, and no limit, or fewer times in a row than it
  kGiveUp,      // failed to reach READY as many times in a row as the limit says
  kHasSuccessor,  // wanted up and a successor is starting
};
enum class Action {
  kNone,
  kSpawn,        // spawn a process now
  kDrain,        // send kDrain{graceful-timeout}; SIGKILL past graceful + shutdown + 1 s
  kTerminate,    // SIGTERM; SIGKILL past shutdown-timeout + 1 s
  kArmBackoff,   // start the backoff timer (Backoff::delay)
  kCancelTimer,  // stop the backoff timer
  kSpawnSuccessor,     // spawn a successor beside the current process (one that is
                       // starting is replaced: it may carry old settings)
  kPromote,            // the successor becomes current; the old process drains
  kTakeOver,           // the current process died: the successor becomes current
  kArmSuccessorRetry,  // start the timer for another successor (Backoff::delay)
  kKeepCurrent,        // stop trying successors; the current process serves on
};

struct Transition {
  ChildState from;
  ChildEvent event;
  Guard guard;
  ChildState to;
  Action action;
  const char* why;
};

// The facts the guards test.
struct Facts {
  bool want_up = false;
  bool expected_exit = false;  // see Guard::kExpected
  int start_failures = 0;      // consecutive failures to reach READY, this one included
                               // (for kSuccessorExit: the successors')
  int give_up_after = 0;       // the failures in a row that give up (kGiveUp); 0 = never
  bool has_successor = false;
};

// A rolling replacement whose new process fails to reach READY this many times
// in a row is abandoned; the serving process serves on.
constexpr int kMaxSuccessorFailures = 6;
constexpr double kMinUptime = 5.0;  // seconds after READY that make a death "not quick"

// The table itself (for tests and `wsgid --states`-like docs).
const std::vector<Transition>& transitions();
// The first row matching (from, event) whose guard holds; nullptr when the event
// means nothing in that state (the Child ignores it).
const Transition* find_transition(ChildState from, ChildEvent event, const Facts& facts);

std::string_view state_name(ChildState s);  // "STARTING", ...
std::string_view event_name(ChildEvent e);  // "start", ...

// Exponential backoff with a cap: delay(n) = min(cap, base * 2^(n-1)) for the n-th
// consecutive failure (n >= 1); delay(0) = 0. The defaults are mod_wsgi-like: a
// first retry after about a second, then no more than one start a minute.
struct Backoff {
  double base = 1.0;
  double cap = 60.0;
  double delay(int failures) const;
};

// Exit reasons a child announces (kExiting) that mean "I failed", not "I was
// recycled": they count as failures. Everything else is an expected exit.
bool is_failure_reason(std::string_view reason);

// What the host provides to its children.
class ChildHost {
 public:
  virtual ~ChildHost() = default;
  virtual uv_loop_t* loop() = 0;
  // What to spawn for this child now (settings carry the current generation).
  virtual SpawnSpec spawn_spec(const class Child& child) = 0;
  // "group site1 worker 2" / "frontend": the context of every log line.
  virtual std::string child_label(const class Child& child) = 0;
  virtual double graceful_timeout() = 0;
  virtual double shutdown_timeout() = 0;
  // Seconds a graceful stop (kStop) keeps serving while it reports not-ready,
  // before the drain: the front end's WSGIDrainDelay; 0 for workers.
  virtual double drain_delay() { return 0; }
  // The front end's drain is about to close its TCP listeners
  // (LISTENERS_CLOSING): close the master's copies, first attaching the
  // handshake-refusing filter (common/listener_close.h) to the sockets nobody
  // else keeps -> whether each of those now refuses new handshakes. Only during
  // a stop; otherwise false, and the copies stay for the next front end.
  virtual bool listeners_closing() { return false; }
  // The failures in a row to reach READY after which the child goes FATAL; 0 =
  // never (retry forever with the backoff). Asked at every failure.
  virtual int give_up_after() { return 0; }
  // Called after every state change and whenever a retiring process ends.
  virtual void child_changed(class Child& child) = 0;
  // A process of the child was replaced while it was wanted up: it died
  // (exit_cause) or a rolling replacement retired it (replace_cause); cause
  // is one of restart_cause.h's labels. Called before child_changed().
  virtual void child_replaced(class Child&, std::string_view /*cause*/) {}
};

class Child : public ProcessObserver {
 public:
  Child(ChildHost* host, int index);
  ~Child() override;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Feeds an event through the table (kStart, kStop, kStopNow, kRestartNow from
  // outside; the others arrive from the processes and the timer).
  void handle(ChildEvent event);
  // Rolling replacement: feeds kReplace. RUNNING: spawn a successor now; when it
  // is READY, the current process drains; a replace() while a successor is
  // starting restarts the successor (it may have old settings). STARTING (no
  // READY yet): the current process is replaced at once. BACKOFF, FATAL: start
  // now. STOPPING, EXITED: nothing. reason goes to the log ("signal USR1",
  // "script changed", "reload").
  void replace(std::string_view reason);
  // Sends SIGKILL to every process this Child holds (the second INT).
  void kill_all();
  // Sends one frame to the current process (front-end settings updates).
  void send_to_current(proto::FrameType type, std::string_view payload);
  // Sends descriptors on the current process's descriptor channel (the front
  // end's log files), ahead of any frame sent after it. Errors: no current
  // process, and Process::send_fds()'s.
  Status send_fds_to_current(std::string_view text, const std::vector<int>& fds);
  // Sends kStateQuery to the running process (its answer updates state_json()).
  void query_state();

  ChildState state() const { return state_; }
  int index() const { return index_; }
  bool want_up() const { return want_up_; }
  // After a crash of a process that had reached READY (not a failure to
  // start): seconds until its replacement starts (0 when it is STARTING now,
  // the backoff timer's due time in BACKOFF); else -1.
  double replacement_due_in() const;
  // No process of any kind and no timer armed: safe to destroy.
  bool idle() const;
  // The pid of the current process, 0 when none.
  int pid() const;
  // Pids of every live process (current, successor, retiring).
  std::vector<int> pids() const;
  // {"index", "state", "pid", "uptime", "requests", "busy", "current", "rss",
  //  "last_exit", "start_failures", "next_try_in", "next_try_at",
  //  "successor_pid", "retiring": [pids]}. next_try_*: in BACKOFF, the seconds
  // until the next spawn and its wall-clock time (Unix seconds); else null.
  // last_exit of a process that died before READY reads "exited with status 3
  // during start-up: <its last output line>" (describe_failed_start); of one
  // that could not be started, "not started: fork(worker site1): Resource
  // temporarily unavailable (EAGAIN): ..." (Process::start's error).
  nlohmann::json status_json() const;
  const std::string& last_exit() const { return last_exit_; }
  // When the current process was spawned (loop clock, seconds); 0 when none.
  double current_started_at() const;
  int start_failures() const { return start_failures_; }
  // It died since its last READY (or never reached it) and is being retried:
  // BACKOFF, or STARTING again after BACKOFF (until READY, a stop or FATAL).
  bool retrying() const;

  // ProcessObserver
  void on_frame(Process* p, const proto::Frame& frame) override;
  void on_exit(Process* p, const ExitInfo& info) override;

  // Test hook: the backoff policy.
  void set_backoff(Backoff b) { backoff_ = b; }

 private:
  // The table step with facts already known; false when no row matched.
  bool handle(ChildEvent event, const Facts& facts);
  void run(const Transition& t, ChildEvent event);
  void do_spawn();
  void spawn_successor();
  void promote();
  bool start_process(Process** out);
  void arm_timer(double seconds);
  void retire(Process* p, bool now);
  void log_exit(Process* p, const ExitInfo& info, std::string_view role);
  static void on_timer(uv_timer_t* t);

  ChildHost* host_;
  int index_;
  ChildState state_ = ChildState::kExited;
  bool want_up_ = false;
  Process* current_ = nullptr;
  Process* successor_ = nullptr;
  std::vector<Process*> retiring_;
  uv_timer_t* timer_ = nullptr;  // backoff timer; closed in the destructor
  bool timer_armed_ = false;  // in RUNNING: a successor retry; else: the backoff
  Backoff backoff_;
  int failures_ = 0;        // consecutive unexpected deaths (backoff level)
  int start_failures_ = 0;  // consecutive failures to reach READY
  int successor_failures_ = 0;
  std::string pending_replace_reason_;
  std::string last_exit_;
  double ready_at_ = 0;     // loop time (s) of the current process's kReady
  double next_try_at_ = 0;  // loop time (s) the backoff timer fires
  bool retrying_ = false;   // went through BACKOFF since the last READY (retrying())
  nlohmann::json state_json_;  // the last kState of the current process
};

}  // namespace wsgid::master
