// The resend rule (supervisor/frontend/resend_rule.h), case by case.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/frontend/resend_rule.h"

namespace wsgid::frontend {
namespace {

using V = ResendVerdict;

TEST_CASE("resend_verdict: not run is resent, run is resent once when idempotent") {
  struct Case {
    const char* what;
    LostRequest r;
    V want;
  };
  //                                notice started whole  idem  att max  after
  const std::vector<Case> cases = {
      {"notice, held whole",        {true,  false, true,  false, 0, 5, false}, V::kResend},
      {"notice on a POST",          {true,  false, true,  false, 4, 5, false}, V::kResend},
      {"notices ran out",           {true,  false, true,  true,  5, 5, false}, V::kUnavailable},
      {"notice, body not held",     {true,  false, false, true,  0, 5, false}, V::kUnavailable},
      {"died before STARTED, POST", {false, false, true,  false, 0, 5, false}, V::kResend},
      {"died before STARTED again", {false, false, true,  false, 3, 5, true},  V::kResend},
      {"died before STARTED, out",  {false, false, true,  true,  5, 5, false}, V::kBadGateway},
      {"died before STARTED, big",  {false, false, false, true,  0, 5, false}, V::kBadGateway},
      {"died after STARTED, GET",   {false, true,  true,  true,  0, 5, false}, V::kResend},
      {"died after STARTED, GET after notices", {false, true, true, true, 3, 5, false}, V::kResend},
      {"second death after STARTED", {false, true, true,  true,  1, 5, true},  V::kBadGateway},
      {"died after STARTED, POST",  {false, true,  true,  false, 0, 5, false}, V::kBadGateway},
      {"died after STARTED, big PUT", {false, true, false, true, 0, 5, false}, V::kBadGateway},
      {"died after STARTED, out",   {false, true,  true,  true,  5, 5, false}, V::kBadGateway},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    CHECK(resend_verdict(c.r) == c.want);
  }
}

TEST_CASE("idempotent_method: RFC 9110 9.2.2") {
  for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    INFO(m);
    CHECK(idempotent_method(m));
  }
  for (const char* m : {"POST", "PATCH", "CONNECT", "get", "PROPFIND", ""}) {
    INFO(m);
    CHECK_FALSE(idempotent_method(m));
  }
}

}  // namespace
}  // namespace wsgid::frontend
