#include "supervisor/frontend/resend_rule.h"

#include <cstring>
#include <initializer_list>

namespace wsgid::frontend {

ResendVerdict resend_verdict(const LostRequest& r) {
  if (!r.held_whole) return r.notice ? ResendVerdict::kUnavailable : ResendVerdict::kBadGateway;
  if (r.notice || !r.started) {
    if (r.attempts < r.max_attempts) return ResendVerdict::kResend;
    return r.notice ? ResendVerdict::kUnavailable : ResendVerdict::kBadGateway;
  }
  if (r.idempotent && !r.resent_after_start && r.attempts < r.max_attempts) return ResendVerdict::kResend;
  return ResendVerdict::kBadGateway;
}

bool idempotent_method(const char* method) {
  for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
    if (std::strcmp(method, m) == 0) return true;
  return false;
}

}  // namespace wsgid::frontend
