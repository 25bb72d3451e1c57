#include "worker/signals.h"

namespace wsgid::worker {
namespace {

using A = WorkerSignalAction;

const std::vector<WorkerSignal> kSignals = {
    // signal   name    action        reason              detail
    {SIGTERM,   "TERM", A::kStop,     "shutdown",         "signal TERM"},
    {SIGINT,    "INT",  A::kStop,     "shutdown",         "signal INT"},
    {SIGUSR1,   "USR1", A::kReplace,  "signal USR1",      ""},
    {SIGXCPU,   "XCPU", A::kReplace,  "cpu-time-limit",   "the CPU time limit was reached"},
    {SIGUSR2,   "USR2", A::kIgnore,   "",                 ""},
    {SIGHUP,    "HUP",  A::kIgnore,   "",                 ""},
};

}  // namespace

const std::vector<WorkerSignal>& worker_signals() { return kSignals; }

sigset_t worker_signal_mask() {
  sigset_t mask;
  sigemptyset(&mask);
  for (const WorkerSignal& s : kSignals) sigaddset(&mask, s.signum);
  return mask;
}

std::optional<Event> signal_event(int signum, double shutdown_timeout) {
  for (const WorkerSignal& s : kSignals) {
    if (s.signum != signum) continue;
    switch (s.action) {
      case A::kStop: return Event{Event::Kind::kStop, s.reason, s.detail, shutdown_timeout};
      case A::kReplace: return Event{Event::Kind::kReplaceMe, s.reason, s.detail, 0};
      case A::kIgnore: return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace wsgid::worker
