// The front end's signals: one table (like the master's, supervisor/master/signals.h)
// mapping each signal to its meaning, and the uv_signal_t watchers that deliver
// them as callbacks on the loop thread (libuv's self-pipe runs underneath; no raw
// handler exists). SIGPIPE is ignored.
//
//   TERM, INT  graceful stop: stop accepting, drain in-flight requests, exit
//   USR1       reopen the access logs (the master forwards its own USR1)
//   HUP        ignored: the master reloads and sends new settings
//
// Loop thread only. FrontendSignals owns its watchers; close() them before closing
// the loop (wsgid-frontend never does: they live until the process exits).
#pragma once

#include <uv.h>

#include <functional>
#include <vector>

namespace wsgid::frontend {

enum class FrontendSignalAction { kGracefulStop, kReopenLogs, kIgnore };

struct FrontendSignal {
  int signum;
  const char* name;
  FrontendSignalAction action;
  const char* meaning;
};

const std::vector<FrontendSignal>& frontend_signals();

class FrontendSignals {
 public:
  using Handler = std::function<void(const FrontendSignal&)>;
  // Ignores SIGPIPE and starts one watcher per table row (kIgnore rows too, so
  // the signal's default action, termination, never happens). Returns a libuv
  // error code (0 = ok).
  int start(uv_loop_t* loop, Handler handler);
  // Stops and closes every watcher.
  void close();

 private:
  static void on_signal(uv_signal_t* h, int signum);
  std::vector<uv_signal_t*> handles_;
  Handler handler_;
};

}  // namespace wsgid::frontend
