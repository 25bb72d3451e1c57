// The request phase table's properties: what HttpConn relies on when it moves.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <utility>

#include "supervisor/frontend/request_phase.h"

namespace wsgid::frontend {
namespace {

constexpr Phase kAll[] = {Phase::kIdle, Phase::kHead, Phase::kWaiting, Phase::kStreaming,
                          Phase::kDone};

TEST_CASE("phase moves: no duplicates, no self moves, every move has a reason") {
  std::set<std::pair<Phase, Phase>> seen;
  for (const PhaseMove& m : phase_moves()) {
    INFO(phase_name(m.from) << " -> " << phase_name(m.to));
    CHECK(seen.insert({m.from, m.to}).second);
    CHECK(m.from != m.to);
    CHECK(std::string(m.why).size() > 10);
    CHECK(phase_move_allowed(m.from, m.to));
  }
}

TEST_CASE("a connection may close in any phase: every phase but idle moves to idle directly") {
  for (Phase p : kAll) {
    INFO(phase_name(p));
    CHECK(phase_move_allowed(p, Phase::kIdle) == (p != Phase::kIdle));
  }
}

TEST_CASE("every phase is reached from idle, and a request only begins from idle") {
  std::set<Phase> reached = {Phase::kIdle};
  for (bool grew = true; grew;) {
    grew = false;
    for (const PhaseMove& m : phase_moves())
      if (reached.count(m.from) && reached.insert(m.to).second) grew = true;
  }
  CHECK(reached.size() == std::size(kAll));
  for (Phase p : kAll) {
    INFO(phase_name(p));
    CHECK(phase_move_allowed(p, Phase::kHead) == (p == Phase::kIdle));
  }
}

TEST_CASE("a response is done only after its head was written, and the head only once") {
  for (Phase p : kAll) {
    INFO(phase_name(p));
    CHECK(phase_move_allowed(p, Phase::kDone) == (p == Phase::kStreaming));
    CHECK(phase_move_allowed(p, Phase::kStreaming) == (p == Phase::kHead || p == Phase::kWaiting));
  }
}

TEST_CASE("phase names") {
  CHECK(std::string(phase_name(Phase::kIdle)) == "idle");
  CHECK(std::string(phase_name(Phase::kHead)) == "head");
  CHECK(std::string(phase_name(Phase::kWaiting)) == "waiting");
  CHECK(std::string(phase_name(Phase::kStreaming)) == "streaming");
  CHECK(std::string(phase_name(Phase::kDone)) == "done");
}

}  // namespace
}  // namespace wsgid::frontend
