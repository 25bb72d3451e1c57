#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/failure_report.h"

using wsgid::FailureReport;

namespace {

// One event of a run: at ms, a failure ('F') or a success ('S'); what the
// report then answers (true: say it now) and the counters after it.
struct Step {
  int64_t ms;
  char what;
  bool report;
  uint64_t failures;
  uint64_t unreported;
};

struct Case {
  const char* name;
  std::vector<Step> steps;
};

}  // namespace

TEST_CASE("FailureReport: the first failure, then once a minute, then the recovery") {
  const std::vector<Case> cases = {
      {"successes alone say nothing", {{0, 'S', false, 0, 0}, {10, 'S', false, 0, 0}}},
      {"the first failure is reported, the next ones within a minute are counted",
       {{0, 'F', true, 1, 1}, {1, 'F', false, 2, 1}, {59999, 'F', false, 3, 2}}},
      {"a minute after the last report: reported again, with what was held back",
       {{0, 'F', true, 1, 1}, {5, 'F', false, 2, 1}, {60000, 'F', true, 3, 2},
        {60001, 'F', false, 4, 1}, {120000, 'F', true, 5, 2}}},
      {"the first success after failures ends the run, once",
       {{0, 'F', true, 1, 1}, {7, 'F', false, 2, 1}, {9, 'S', true, 2, 1},
        {11, 'S', false, 2, 1}}},
      {"a new run after a recovery is reported at once and counted from one",
       {{0, 'F', true, 1, 1}, {3, 'S', true, 1, 1}, {4, 'F', true, 1, 1}}},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.name));
    FailureReport r;
    for (const Step& s : c.steps) {
      CAPTURE(s.ms);
      bool said = s.what == 'F' ? r.fail(s.ms) : r.ok(s.ms);
      CHECK(said == s.report);
      CHECK(r.failures() == s.failures);
      CHECK(r.unreported() == s.unreported);
    }
  }
}

TEST_CASE("FailureReport: since_ms and lasted_ms describe the run") {
  FailureReport r(1000);
  r.fail(100);
  r.fail(600);
  CHECK(r.failing());
  CHECK(r.since_ms() == 100);
  CHECK(r.ok(2100));
  CHECK_FALSE(r.failing());
  CHECK(r.lasted_ms() == 2000);
  CHECK(r.since_ms() == 100);
}
