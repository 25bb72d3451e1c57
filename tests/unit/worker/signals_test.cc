// The worker's signal table (worker/signals.h): each signal's event.
#include <doctest/doctest.h>

#include <string>

#include "worker/signals.h"

using namespace wsgid::worker;

TEST_CASE("worker signals: the event each signal stands for") {
  struct Case {
    int sig;
    bool acts;
    Event::Kind kind;
    const char* reason;
    const char* detail;
    double timeout;
  };
  const Case cases[] = {
      {SIGTERM, true, Event::Kind::kStop, "shutdown", "signal TERM", 7.5},
      {SIGINT, true, Event::Kind::kStop, "shutdown", "signal INT", 7.5},
      {SIGUSR1, true, Event::Kind::kReplaceMe, "signal USR1", "", 0},
      {SIGXCPU, true, Event::Kind::kReplaceMe, "cpu-time-limit", "the CPU time limit was reached", 0},
      {SIGUSR2, false, Event::Kind::kStop, "", "", 0},
      {SIGHUP, false, Event::Kind::kStop, "", "", 0},
      {SIGWINCH, false, Event::Kind::kStop, "", "", 0},  // not in the table
  };
  for (const Case& c : cases) {
    CAPTURE(c.sig);
    std::optional<Event> e = signal_event(c.sig, 7.5);
    REQUIRE(e.has_value() == c.acts);
    if (!e) continue;
    CHECK(e->kind == c.kind);
    CHECK(e->reason == c.reason);
    CHECK(e->detail == c.detail);
    CHECK(e->timeout == c.timeout);
  }
}

TEST_CASE("worker signals: the mask holds every row and nothing else") {
  sigset_t mask = worker_signal_mask();
  for (const WorkerSignal& s : worker_signals()) {
    CAPTURE(s.name);
    CHECK(sigismember(&mask, s.signum) == 1);
  }
  CHECK(sigismember(&mask, SIGPIPE) == 0);
  CHECK(sigismember(&mask, SIGWINCH) == 0);
  CHECK(worker_signals().size() == 6);
}
