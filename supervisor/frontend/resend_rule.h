// The resend rule: what the front end does with a request whose connection to a
// worker ended before the worker's response head (protocol/PROTOCOL.md 5.3).
// HttpConn asks once per lost connection, on the loop thread; pure function,
// any thread.
//
// A request the application never saw (the worker's "connection closing"
// notice, or a connection that ended before the worker's STARTED) is sent again
// while the front end holds it whole, up to a bound on attempts. A request the
// application may have run (STARTED came, then the worker died without
// attributing the death to it) is sent again once when its method is idempotent
// (RFC 9110 9.2.2) and the front end holds it whole: a second death of the same
// request is final, so one poisonous request cannot kill a whole group. Deaths
// wsgid attributes to the request itself (request-timeout, deadlock-timeout)
// arrive as an ERROR frame instead and never reach this rule.
#pragma once

namespace wsgid::frontend {

struct LostRequest {
  bool notice = false;      // the worker said "connection closing": it was not run
  bool started = false;     // the worker's STARTED came: the application was called
  bool held_whole = false;  // every byte sent so far is still held (the replay buffer)
  bool idempotent = false;  // GET, HEAD, OPTIONS, TRACE, PUT, DELETE
  int attempts = 0;         // resends so far, for any reason
  int max_attempts = 0;     // the bound on resends (the group's capacity + 1)
  bool resent_after_start = false;  // an earlier worker died after STARTED already
};

enum class ResendVerdict {
  kResend,       // send it again on another connection
  kUnavailable,  // 503 + Retry-After: the notices ran out of attempts
  kBadGateway,   // 502: the worker died and the request may not be sent again
};

ResendVerdict resend_verdict(const LostRequest& r);

// RFC 9110 9.2.2's idempotent methods.
bool idempotent_method(const char* method);

}  // namespace wsgid::frontend
