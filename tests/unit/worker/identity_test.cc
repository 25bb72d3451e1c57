#include <doctest/doctest.h>

#include <unistd.h>

#include "worker/identity.h"

using namespace wsgid::worker;

TEST_CASE("resolve_user / resolve_group") {
  gid_t gid = 0;
  std::string home;
  auto root = resolve_user("root", &gid, &home);
  REQUIRE(root.is_ok());
  CHECK(*root == 0);
  CHECK(gid == 0);
  CHECK(home == "/root");
  auto num = resolve_user("#0", &gid, &home);
  REQUIRE(num.is_ok());
  CHECK(*num == 0);
  auto unknown_num = resolve_user("#987654", &gid, &home);  // a bare uid is allowed
  REQUIRE(unknown_num.is_ok());
  CHECK(*unknown_num == 987654);
  CHECK(gid == static_cast<gid_t>(-1));
  auto bad = resolve_user("no-such-user-xyz", &gid, &home);
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message() == "unknown user 'no-such-user-xyz'");
  auto g = resolve_group("root");
  REQUIRE(g.is_ok());
  CHECK(*g == 0);
  CHECK(*resolve_group("#4242") == 4242);
  auto bg = resolve_group("no-such-group-xyz");
  REQUIRE_FALSE(bg.is_ok());
  CHECK(bg.status().message() == "unknown group 'no-such-group-xyz'");
  CHECK(resolve_group("#").status().message() == "unknown group '#'");
}
