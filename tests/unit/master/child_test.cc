// The state x event table of child.h and the backoff policy.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "supervisor/master/child.h"

using namespace wsgid::master;
using S = ChildState;
using E = ChildEvent;

namespace {

struct Case {
  S from;
  E event;
  bool want_up;
  bool expected_exit;
  int start_failures;
  bool matches;  // false: the event is ignored in that state
  S to;
  Action action;
  int give_up_after = 0;  // 0: no startup-retries (retry forever)
};

}  // namespace

TEST_CASE("the state table: every documented transition") {
  const Case cases[] = {
      // STARTING
      {S::kStarting, E::kReady, true, false, 0, true, S::kRunning, Action::kNone},
      {S::kStarting, E::kExit, true, false, 1, true, S::kBackoff, Action::kArmBackoff},
      // No limit: a thousand failures in a row still back off (issue 12: forever).
      {S::kStarting, E::kExit, true, false, 1000, true, S::kBackoff, Action::kArmBackoff},
      {S::kStarting, E::kSpawnFailed, true, false, 1000, true, S::kBackoff, Action::kArmBackoff},
      // startup-retries=2: FATAL at the third failure in a row, not before.
      {S::kStarting, E::kExit, true, false, 2, true, S::kBackoff, Action::kArmBackoff, 3},
      {S::kStarting, E::kExit, true, false, 3, true, S::kFatal, Action::kNone, 3},
      {S::kStarting, E::kSpawnFailed, true, false, 2, true, S::kBackoff, Action::kArmBackoff, 3},
      {S::kStarting, E::kSpawnFailed, true, false, 3, true, S::kFatal, Action::kNone, 3},
      // startup-retries=0: the first failure gives up.
      {S::kStarting, E::kExit, true, false, 1, true, S::kFatal, Action::kNone, 1},
      {S::kStarting, E::kExit, false, false, 1, true, S::kExited, Action::kNone},
      {S::kStarting, E::kExit, false, false, 3, true, S::kExited, Action::kNone, 3},
      {S::kStarting, E::kSpawnFailed, true, false, 1, true, S::kBackoff, Action::kArmBackoff},
      {S::kStarting, E::kStop, false, false, 0, true, S::kStopping, Action::kTerminate},
      {S::kStarting, E::kStopNow, false, false, 0, true, S::kStopping, Action::kTerminate},
      {S::kStarting, E::kRestartNow, true, false, 0, true, S::kStopping, Action::kTerminate},
      {S::kStarting, E::kStart, true, false, 0, false, S::kStarting, Action::kNone},
      {S::kStarting, E::kTimer, true, false, 0, false, S::kStarting, Action::kNone},
      // RUNNING
      {S::kRunning, E::kExit, true, true, 0, true, S::kStarting, Action::kSpawn},
      {S::kRunning, E::kExit, true, false, 0, true, S::kBackoff, Action::kArmBackoff},
      {S::kRunning, E::kStop, false, false, 0, true, S::kStopping, Action::kDrain},
      {S::kRunning, E::kStopNow, false, false, 0, true, S::kStopping, Action::kTerminate},
      {S::kRunning, E::kRestartNow, true, false, 0, true, S::kStopping, Action::kTerminate},
      {S::kRunning, E::kReady, true, false, 0, false, S::kRunning, Action::kNone},
      {S::kRunning, E::kStart, true, false, 0, false, S::kRunning, Action::kNone},
      // STOPPING
      {S::kStopping, E::kExit, true, false, 0, true, S::kStarting, Action::kSpawn},
      {S::kStopping, E::kExit, false, false, 0, true, S::kExited, Action::kNone},
      {S::kStopping, E::kStopNow, false, false, 0, true, S::kStopping, Action::kTerminate},
      {S::kStopping, E::kStop, false, false, 0, false, S::kStopping, Action::kNone},
      {S::kStopping, E::kReady, false, false, 0, false, S::kStopping, Action::kNone},
      // EXITED
      {S::kExited, E::kStart, true, false, 0, true, S::kStarting, Action::kSpawn},
      {S::kExited, E::kRestartNow, true, false, 0, true, S::kStarting, Action::kSpawn},
      {S::kExited, E::kStop, false, false, 0, false, S::kExited, Action::kNone},
      {S::kExited, E::kExit, false, false, 0, false, S::kExited, Action::kNone},
      // BACKOFF
      {S::kBackoff, E::kTimer, true, false, 0, true, S::kStarting, Action::kSpawn},
      {S::kBackoff, E::kTimer, false, false, 0, false, S::kBackoff, Action::kNone},
      {S::kBackoff, E::kStart, true, false, 0, true, S::kStarting, Action::kSpawn},
      {S::kBackoff, E::kRestartNow, true, false, 0, true, S::kStarting, Action::kSpawn},
      {S::kBackoff, E::kStop, false, false, 0, true, S::kExited, Action::kCancelTimer},
      {S::kBackoff, E::kStopNow, false, false, 0, true, S::kExited, Action::kCancelTimer},
      // FATAL
      {S::kFatal, E::kStart, true, false, 0, true, S::kStarting, Action::kSpawn},
      {S::kFatal, E::kRestartNow, true, false, 0, true, S::kStarting, Action::kSpawn},
      {S::kFatal, E::kStop, false, false, 0, true, S::kExited, Action::kNone},
      {S::kFatal, E::kStopNow, false, false, 0, true, S::kExited, Action::kNone},
      {S::kFatal, E::kTimer, true, false, 0, false, S::kFatal, Action::kNone},
      {S::kFatal, E::kExit, true, false, 0, false, S::kFatal, Action::kNone},
  };
  for (const Case& c : cases) {
    Facts f;
    f.want_up = c.want_up;
    f.expected_exit = c.expected_exit;
    f.start_failures = c.start_failures;
    f.give_up_after = c.give_up_after;
    const Transition* t = find_transition(c.from, c.event, f);
    CAPTURE(state_name(c.from));
    CAPTURE(event_name(c.event));
    CAPTURE(c.want_up);
    CAPTURE(c.start_failures);
    CAPTURE(c.give_up_after);
    REQUIRE((t != nullptr) == c.matches);
    if (!t) continue;
    CHECK(state_name(t->to) == state_name(c.to));
    CHECK(static_cast<int>(t->action) == static_cast<int>(c.action));
    CHECK(std::string(t->why).size() > 0);
  }
}

TEST_CASE("the state table has no duplicate (state, event, guard) rows") {
  std::set<std::tuple<int, int, int>> seen;
  for (const Transition& t : transitions()) {
    auto key = std::make_tuple(static_cast<int>(t.from), static_cast<int>(t.event),
                               static_cast<int>(t.guard));
    CHECK(seen.insert(key).second);
  }
  CHECK(transitions().size() == 37);
}

TEST_CASE("without startup-retries nothing leads to FATAL (issue 12: retried forever)") {
  for (S s : {S::kStarting, S::kRunning, S::kStopping, S::kExited, S::kBackoff, S::kFatal}) {
    for (const Transition& row : transitions()) {
      if (row.from != s) continue;
      for (int failures : {0, 1, 6, 7, 100, 100000}) {
        for (bool expected : {false, true}) {
          Facts f;
          f.want_up = true;
          f.expected_exit = expected;
          f.start_failures = failures;
          const Transition* t = find_transition(s, row.event, f);
          CAPTURE(state_name(s));
          CAPTURE(event_name(row.event));
          CAPTURE(failures);
          if (t && row.event != E::kSuccessorExit) CHECK(t->to != S::kFatal);
        }
      }
    }
  }
}

TEST_CASE("every state can be left and FATAL only by an explicit start or stop") {
  for (S s : {S::kStarting, S::kRunning, S::kStopping, S::kExited, S::kBackoff, S::kFatal}) {
    bool leaves = false;
    for (const Transition& t : transitions())
      if (t.from == s && t.to != s) leaves = true;
    CAPTURE(state_name(s));
    CHECK(leaves);
  }
  for (const Transition& t : transitions()) {
    if (t.from == S::kFatal) {
      CHECK((t.event == E::kStart || t.event == E::kRestartNow || t.event == E::kStop ||
             t.event == E::kStopNow || t.event == E::kReplace));
    }
  }
}

TEST_CASE("the state table: rolling replacement") {
  struct RCase {
    S from;
    E event;
    bool has_successor;
    int start_failures;  // kSuccessorExit: the successors' failures, this one included
    bool matches;
    S to;
    Action action;
  };
  const RCase cases[] = {
      {S::kRunning, E::kReplace, false, 0, true, S::kRunning, Action::kSpawnSuccessor},
      {S::kRunning, E::kReplace, true, 0, true, S::kRunning, Action::kSpawnSuccessor},
      {S::kRunning, E::kSuccessorReady, true, 0, true, S::kRunning, Action::kPromote},
      {S::kRunning, E::kSuccessorExit, false, 1, true, S::kRunning, Action::kArmSuccessorRetry},
      {S::kRunning, E::kSuccessorExit, false, kMaxSuccessorFailures - 1, true, S::kRunning,
       Action::kArmSuccessorRetry},
      {S::kRunning, E::kSuccessorExit, false, kMaxSuccessorFailures, true, S::kRunning,
       Action::kKeepCurrent},
      {S::kRunning, E::kTimer, false, 0, true, S::kRunning, Action::kSpawnSuccessor},
      {S::kRunning, E::kExit, true, 0, true, S::kStarting, Action::kTakeOver},
      {S::kStarting, E::kReplace, false, 0, true, S::kStopping, Action::kTerminate},
      {S::kBackoff, E::kReplace, false, 0, true, S::kStarting, Action::kSpawn},
      {S::kFatal, E::kReplace, false, 0, true, S::kStarting, Action::kSpawn},
      {S::kStopping, E::kReplace, false, 0, false, S::kStopping, Action::kNone},
      {S::kExited, E::kReplace, false, 0, false, S::kExited, Action::kNone},
      {S::kStarting, E::kSuccessorReady, false, 0, false, S::kStarting, Action::kNone},
      {S::kStopping, E::kSuccessorExit, false, 1, false, S::kStopping, Action::kNone},
  };
  for (const RCase& c : cases) {
    Facts f;
    f.want_up = true;
    f.has_successor = c.has_successor;
    f.start_failures = c.start_failures;
    f.give_up_after = kMaxSuccessorFailures;  // as Child::on_exit sets it for successors
    const Transition* t = find_transition(c.from, c.event, f);
    CAPTURE(state_name(c.from));
    CAPTURE(event_name(c.event));
    CAPTURE(c.has_successor);
    CAPTURE(c.start_failures);
    REQUIRE((t != nullptr) == c.matches);
    if (!t) continue;
    CHECK(state_name(t->to) == state_name(c.to));
    CHECK(static_cast<int>(t->action) == static_cast<int>(c.action));
    CHECK(std::string(t->why).size() > 0);
  }
}

TEST_CASE("a successor lives only in RUNNING") {
  for (const Transition& t : transitions()) {
    CAPTURE(state_name(t.from));
    CAPTURE(event_name(t.event));
    switch (t.action) {
      case Action::kSpawnSuccessor:
      case Action::kPromote:
      case Action::kArmSuccessorRetry:
      case Action::kKeepCurrent:
        // Started, promoted, retried and given up on without leaving RUNNING.
        CHECK(t.from == S::kRunning);
        CHECK(t.to == S::kRunning);
        break;
      case Action::kTakeOver:
        // The old process died: the successor is the one now STARTING.
        CHECK(t.from == S::kRunning);
        CHECK(t.event == E::kExit);
        CHECK(t.to == S::kStarting);
        CHECK(t.guard == Guard::kHasSuccessor);
        break;
      default:
        break;
    }
    if (t.event == E::kSuccessorReady || t.event == E::kSuccessorExit) CHECK(t.from == S::kRunning);
    if (t.guard == Guard::kHasSuccessor) CHECK(t.from == S::kRunning);
  }
  // The takeover row comes before the RUNNING exit rows that would respawn or
  // back off, so a death during a replacement never costs a second process.
  Facts f;
  f.want_up = true;
  f.has_successor = true;
  for (bool expected : {false, true}) {
    f.expected_exit = expected;
    const Transition* t = find_transition(S::kRunning, E::kExit, f);
    REQUIRE(t);
    CHECK(t->action == Action::kTakeOver);
  }
  // A replacement request never stops a child for good: it keeps, restarts or
  // starts it, and means nothing to a child that stops or was stopped.
  for (const Transition& t : transitions()) {
    if (t.event != E::kReplace) continue;
    CAPTURE(state_name(t.from));
    CHECK(t.from != S::kStopping);
    CHECK(t.from != S::kExited);
    CHECK((t.to == S::kRunning || t.to == S::kStarting || t.to == S::kStopping));
  }
}

TEST_CASE("names") {
  CHECK(state_name(S::kStarting) == "STARTING");
  CHECK(state_name(S::kRunning) == "RUNNING");
  CHECK(state_name(S::kStopping) == "STOPPING");
  CHECK(state_name(S::kExited) == "EXITED");
  CHECK(state_name(S::kBackoff) == "BACKOFF");
  CHECK(state_name(S::kFatal) == "FATAL");
  CHECK(event_name(E::kRestartNow) == "restart-now");
  CHECK(event_name(E::kSpawnFailed) == "spawn-failed");
  CHECK(event_name(E::kReplace) == "replace");
  CHECK(event_name(E::kSuccessorReady) == "successor-ready");
  CHECK(event_name(E::kSuccessorExit) == "successor-exit");
}

TEST_CASE("backoff: exponential from base, capped") {
  Backoff b;  // 1 s doubling, cap 60 s (mod_wsgi-like)
  const std::pair<int, double> table[] = {{0, 0},   {1, 1},   {2, 2},   {3, 4},  {4, 8},
                                          {5, 16},  {6, 32},  {7, 60},  {8, 60}, {9, 60},
                                          {50, 60}, {-1, 0}};
  for (auto [n, d] : table) {
    CAPTURE(n);
    CHECK(b.delay(n) == doctest::Approx(d));
  }
  Backoff small{1.0, 3.0};
  CHECK(small.delay(1) == doctest::Approx(1.0));
  CHECK(small.delay(2) == doctest::Approx(2.0));
  CHECK(small.delay(3) == doctest::Approx(3.0));
}

TEST_CASE("backoff: a crash loop starts 4 times in ten seconds, then once a minute") {
  // Starts at t = 0 and after each delay, forever.
  Backoff b;
  auto starts_within = [&](double seconds) {
    double t = 0;
    int starts = 1;
    for (int failures = 1;; ++failures) {
      t += b.delay(failures);
      if (t > seconds) return starts;
      ++starts;
    }
  };
  CHECK(starts_within(10) == 4);   // t = 0, 1, 3, 7
  CHECK(starts_within(60) == 6);   // then 15, 31
  // 63 s of doubling (1 + 2 + ... + 32), then 60 s apart.
  CHECK(starts_within(3600) == 6 + (3600 - 63) / 60 + 1);
}

TEST_CASE("failure reasons") {
  CHECK(is_failure_reason("startup-failure"));
  CHECK(is_failure_reason("startup-timeout"));
  CHECK(is_failure_reason("service-script-exited"));
  for (const char* r : {"drained", "shutdown", "request-timeout", "deadlock-timeout",
                        "memory-limit", "maximum-requests", ""}) {
    CAPTURE(r);
    CHECK_FALSE(is_failure_reason(r));
  }
}
