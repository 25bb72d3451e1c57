// The daemon's stop sequence table (stop_phases.h): its shape and the paths
// every request takes through it.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "supervisor/master/stop_phases.h"

using namespace wsgid::master;

TEST_CASE("stop phases: one row per phase, in order, names unique") {
  const auto& rows = stop_phases();
  REQUIRE(rows.size() == 6);
  std::set<std::string_view> names;
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK(static_cast<size_t>(rows[i].phase) == i);
    CHECK(&stop_phase(rows[i].phase) == &rows[i]);
    CHECK(names.insert(rows[i].name).second);
  }
}

TEST_CASE("stop phases: every stopping phase reaches done through its waits") {
  for (const StopPhaseRow& row : stop_phases()) {
    if (row.phase == StopPhase::kRunning) continue;
    CAPTURE(row.name);
    StopPhase p = row.phase;
    for (int steps = 0; p != StopPhase::kDone; ++steps) {
      REQUIRE(steps < 10);
      StopPhase next = stop_phase(p).next;
      REQUIRE(next != p);
      p = next;
    }
    // done ends it: it waits for nothing.
    CHECK(stop_phase(StopPhase::kDone).waits_for == StopWait::kNothing);
  }
  // Only a request leaves running.
  CHECK(stop_phase(StopPhase::kRunning).waits_for == StopWait::kStopRequest);
  CHECK(stop_phase(StopPhase::kRunning).next == StopPhase::kRunning);
}

TEST_CASE("stop phases: what each request does in each phase") {
  using P = StopPhase;
  using R = StopRequest;
  using S = StopStep;
  struct Case {
    P phase;
    R request;
    S step;
  };
  const Case cases[] = {
      // TERM, the first INT, shutdown: only a running daemon starts a graceful stop.
      {P::kRunning, R::kGraceful, S::kGraceful},
      {P::kFrontendDrain, R::kGraceful, S::kNone},
      {P::kGroupsDrain, R::kGraceful, S::kNone},
      {P::kStopNow, R::kGraceful, S::kNone},
      {P::kFinishing, R::kGraceful, S::kNone},
      {P::kDone, R::kGraceful, S::kNone},
      // shutdown --now: immediate unless already immediate.
      {P::kRunning, R::kNow, S::kNow},
      {P::kFrontendDrain, R::kNow, S::kNow},
      {P::kGroupsDrain, R::kNow, S::kNow},
      {P::kStopNow, R::kNow, S::kNone},
      {P::kFinishing, R::kNow, S::kNone},
      {P::kDone, R::kNow, S::kNone},
      // QUIT, a later INT: immediate, and SIGKILL when already immediate.
      {P::kRunning, R::kEscalate, S::kNow},
      {P::kFrontendDrain, R::kEscalate, S::kNow},
      {P::kGroupsDrain, R::kEscalate, S::kNow},
      {P::kStopNow, R::kEscalate, S::kKill},
      {P::kFinishing, R::kEscalate, S::kNone},
      {P::kDone, R::kEscalate, S::kNone},
  };
  for (const Case& c : cases) {
    CAPTURE(stop_phase(c.phase).name);
    CAPTURE(static_cast<int>(c.request));
    CHECK(stop_step(c.phase, c.request) == c.step);
  }
}

TEST_CASE("stop phases: a graceful stop drains the front end before the groups") {
  CHECK(stop_phase(StopPhase::kFrontendDrain).entry == StopEntry::kStopFrontend);
  CHECK(stop_phase(StopPhase::kFrontendDrain).waits_for == StopWait::kFrontendGone);
  CHECK(stop_phase(StopPhase::kFrontendDrain).next == StopPhase::kGroupsDrain);
  CHECK(stop_phase(StopPhase::kGroupsDrain).entry == StopEntry::kStopGroups);
  CHECK(stop_phase(StopPhase::kGroupsDrain).waits_for == StopWait::kAllIdle);
  CHECK(stop_phase(StopPhase::kStopNow).entry == StopEntry::kStopEverything);
  CHECK(stop_phase(StopPhase::kStopNow).waits_for == StopWait::kAllIdle);
}
