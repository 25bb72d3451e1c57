// FailureReport: when to tell the log about a failure that repeats or lasts (a
// log file at ENOSPC, a process at its RLIMIT_NOFILE): the first failure of a
// run at once, then at most once every `every_ms` while it lasts, and the end
// of the run once, so a full disk or a connection flood yields a few lines, not
// one per write or per connection.
//
// A plain value driven by its owner with a monotonic clock in milliseconds; no
// I/O, no clock of its own. Not thread-safe: an owner shared by threads guards
// it with its own mutex.
#pragma once

#include <cstdint>

namespace wsgid {

class FailureReport {
 public:
  static constexpr int64_t kEveryMs = 60000;

  explicit FailureReport(int64_t every_ms = kEveryMs) : every_ms_(every_ms) {}

  // One failure at now_ms. True when it is to be reported now: the first of a
  // run, or the first once every_ms have passed since the last report.
  bool fail(int64_t now_ms);
  // One success at now_ms. True when it ends a run of failures: report the
  // recovery now (failures() and since_ms() still describe the ended run until
  // the next fail()).
  bool ok(int64_t now_ms);

  bool failing() const { return failing_; }
  // Failures in the current (or last ended) run.
  uint64_t failures() const { return failures_; }
  // Failures since the last reported one, up to and including the latest: at
  // a report, what that report covers (1 for the first of a run).
  uint64_t unreported() const { return unreported_; }
  // When the current (or last ended) run began, and, once ended, how long it lasted.
  int64_t since_ms() const { return since_ms_; }
  int64_t lasted_ms() const { return lasted_ms_; }

 private:
  int64_t every_ms_;
  bool failing_ = false;
  uint64_t failures_ = 0;
  uint64_t unreported_ = 0;
  int64_t since_ms_ = 0;
  int64_t last_report_ms_ = 0;
  int64_t lasted_ms_ = 0;
  bool reported_ = false;  // the last fail() was reported
};

}  // namespace wsgid
