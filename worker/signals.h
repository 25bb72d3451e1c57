// The worker's signals: one table (like the master's, supervisor/master/signals.h)
// mapping each signal the worker handles to what it means. The main thread blocks
// them all before any other thread starts and reads them from a signalfd in its
// control loop (worker_main.cc); a signal becomes the same Event a request or
// monitor thread posts (worker_state.h), so both go through one path.
//
//   TERM, INT  stop: no new requests, finish in-flight ones within shutdown-timeout
//   USR1       ask the master for a replacement (mod_wsgi's graceful restart)
//   XCPU       the CPU time limit was reached: ask for a replacement
//   USR2, HUP  ignored (logged): the master owns reloads
//
// Pure data and functions: any thread.
#pragma once

#include <signal.h>

#include <optional>
#include <vector>

#include "worker/worker_state.h"

namespace wsgid::worker {

enum class WorkerSignalAction { kStop, kReplace, kIgnore };

struct WorkerSignal {
  int signum;
  const char* name;
  WorkerSignalAction action;
  const char* reason;  // kStop: the kExiting reason; kReplace: the kReplaceMe reason
  const char* detail;  // the log's explanation ("" = none)
};

const std::vector<WorkerSignal>& worker_signals();
// Every signal of the table.
sigset_t worker_signal_mask();
// The event signum stands for; nothing for an ignored or unknown signal.
// shutdown_timeout is kStop's time to finish.
std::optional<Event> signal_event(int signum, double shutdown_timeout);

}  // namespace wsgid::worker
