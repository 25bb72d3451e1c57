#include <doctest/doctest.h>

#include "common/status.h"

using wsgid::Result;
using wsgid::Status;

TEST_CASE("Status::sys names the call, the object and errno") {
  Status s = Status::sys("bind", "127.0.0.1:8080", EADDRINUSE);
  CHECK_FALSE(s.is_ok());
  CHECK(s.message() == "bind(127.0.0.1:8080): Address already in use");
}

TEST_CASE("Result holds a value or a status") {
  Result<int> good(42);
  REQUIRE(good.is_ok());
  CHECK(*good == 42);
  Result<int> bad(Status::error("no"));
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message() == "no");
}
