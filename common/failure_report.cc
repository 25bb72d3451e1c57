#include "common/failure_report.h"

namespace wsgid {

bool FailureReport::fail(int64_t now_ms) {
  if (!failing_) {
    failing_ = true;
    failures_ = 0;
    since_ms_ = now_ms;
    lasted_ms_ = 0;
    last_report_ms_ = now_ms;
    reported_ = true;
    ++failures_;
    unreported_ = 1;
    return true;
  }
  ++failures_;
  unreported_ = reported_ ? 1 : unreported_ + 1;
  reported_ = now_ms - last_report_ms_ >= every_ms_;
  if (reported_) last_report_ms_ = now_ms;
  return reported_;
}

bool FailureReport::ok(int64_t now_ms) {
  if (!failing_) return false;
  failing_ = false;
  lasted_ms_ = now_ms - since_ms_;
  return true;
}

}  // namespace wsgid
