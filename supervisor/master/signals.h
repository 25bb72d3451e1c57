// The master's signals: one table (after nginx/unit's nxt_main_process_signals[])
// mapping each signal to its meaning, and the uv_signal_t watchers that deliver
// them to the daemon as callbacks on the loop thread (libuv's self-pipe runs
// underneath; no raw handler exists). SIGPIPE is ignored.
//
//   TERM  graceful stop: stop accepting, drain in-flight requests, exit 0
//   INT   graceful stop; a second INT stops immediately
//   QUIT  immediate stop
//   HUP   reload the configuration (by diff)
//   USR1  reopen log files
//   USR2  rolling restart of every group
//
// Loop thread only. Signals owns its watchers; close() before closing the loop.
#pragma once

#include <uv.h>

#include <functional>
#include <string_view>
#include <vector>

namespace wsgid::master {

enum class SignalAction {
  kGracefulStop,
  kInterrupt,
  kImmediateStop,
  kReload,
  kReopenLogs,
  kRollingRestart,
};

struct SignalEntry {
  int signum;
  const char* name;
  SignalAction action;
  const char* meaning;
};

const std::vector<SignalEntry>& master_signals();
std::string_view signal_action_name(SignalAction a);

class Signals {
 public:
  using Handler = std::function<void(const SignalEntry&)>;
  // Starts one watcher per table row; ignores SIGPIPE. Returns a libuv error
  // code (0 = ok).
  int start(uv_loop_t* loop, Handler handler);
  // Stops and closes every watcher.
  void close();

 private:
  static void on_signal(uv_signal_t* h, int signum);
  std::vector<uv_signal_t*> handles_;
  Handler handler_;
};

}  // namespace wsgid::master
