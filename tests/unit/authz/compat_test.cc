// Apache 2.2's Order/Allow/Deny as mod_access_compat evaluates them
// (modules/aaa/mod_access_compat.c check_dir_access; the manual's Order table).
#include <doctest/doctest.h>

#include "tests/unit/authz/helpers.h"

using namespace authz_test;

namespace {

bool admits(const SectionPolicy& s, const char* client, const char* method = "GET") {
  REQUIRE(s.compat.has_value());
  return s.compat->admits(*Address::parse(client), method);
}

}  // namespace

TEST_CASE("the Order table of mod_access_compat's manual") {
  // Allow matches 10.0.0.0/8; Deny matches 10.1.0.0/16 and 192.0.2.0/24.
  const char* rules = "Allow from 10.0.0.0/8\nDeny from 10.1.0.0/16 192.0.2.0/24\n";
  const char* allow_only = "10.2.0.1";
  const char* both = "10.1.0.1";
  const char* deny_only = "192.0.2.1";
  const char* neither = "198.51.100.1";
  struct Row {
    const char* order;
    const char* client;
    bool admitted;
    const char* manual;  // the manual's "Result" column
  };
  const Row rows[] = {
      {"Order Allow,Deny", allow_only, true, "Match Allow only: request allowed"},
      {"Order Allow,Deny", deny_only, false, "Match Deny only: request denied"},
      {"Order Allow,Deny", neither, false, "No match: default to second directive: denied"},
      {"Order Allow,Deny", both, false, "Match both Allow & Deny: final match controls: denied"},
      {"Order Deny,Allow", allow_only, true, "Match Allow only: request allowed"},
      {"Order Deny,Allow", deny_only, false, "Match Deny only: request denied"},
      {"Order Deny,Allow", neither, true, "No match: default to second directive: allowed"},
      {"Order Deny,Allow", both, true, "Match both Allow & Deny: final match controls: allowed"},
      {"", neither, true, "Deny,Allow is the default Order"},
      {"", both, true, "Deny,Allow is the default Order"},
      {"Order Mutual-failure", allow_only, true, "allowed only when Allow matches and Deny does not"},
      {"Order Mutual-failure", both, false, "Deny matches too"},
      {"Order Mutual-failure", deny_only, false, "Allow does not match"},
      {"Order Mutual-failure", neither, false, "Allow does not match"},
      {"order allow,deny", allow_only, true, "the argument ignores case"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.order);
    CAPTURE(row.client);
    CAPTURE(row.manual);
    SectionPolicy s = good_section(std::string(row.order) + "\n" + rules);
    CHECK(admits(s, row.client) == row.admitted);
  }
}

TEST_CASE("Allow and Deny arguments") {
  struct Row {
    const char* config;
    const char* client;
    bool admitted;
  };
  const Row rows[] = {
      {"Order allow,deny\nAllow from all", "198.51.100.1", true},
      {"Order deny,allow\nDeny from all", "198.51.100.1", false},
      {"Order deny,allow\nDeny from all\nAllow from 10.0.0.0/8", "10.9.9.9", true},
      {"Order deny,allow\nDeny from all\nAllow from 10.0.0.0/8", "11.0.0.1", false},
      {"Order allow,deny\nAllow from 10.1", "10.1.7.7", true},                // partial address
      {"Order allow,deny\nAllow from 10.1", "10.2.7.7", false},
      {"Order allow,deny\nAllow from 192.0.2.0/255.255.255.0", "192.0.2.9", true},  // netmask
      {"Order allow,deny\nAllow from 2001:db8::/32", "2001:db8::9", true},
      {"Order allow,deny\nAllow from 2001:db8::/32", "2001:db9::9", false},
      {"Order allow,deny\nAllow from 127.0.0.1 ::1", "::1", true},
      {"Order allow,deny\nAllow from 10.0.0.0/8", "::ffff:10.0.0.3", true},   // IPv4-mapped client
      {"Order allow,deny", "10.0.0.1", false},  // Allow,Deny with no Allow: nobody
      {"Order allow,deny\nAllow from all\nDeny from 192.0.2.1", "192.0.2.1", false},
  };
  for (const Row& row : rows) {
    CAPTURE(row.config);
    CAPTURE(row.client);
    CHECK(admits(good_section(row.config), row.client) == row.admitted);
  }
}

TEST_CASE("<Limit> applies Order, Allow and Deny to its methods only") {
  SectionPolicy deny_post = good_section("<Limit POST PUT>\nDeny from all\n</Limit>");
  CHECK(admits(deny_post, "10.0.0.1", "GET"));
  CHECK_FALSE(admits(deny_post, "10.0.0.1", "POST"));
  CHECK_FALSE(admits(deny_post, "10.0.0.1", "PUT"));
  // Order inside <Limit POST> changes POST's order only: GET keeps Deny,Allow.
  SectionPolicy order_post = good_section("<Limit POST>\nOrder allow,deny\n</Limit>");
  CHECK(admits(order_post, "10.0.0.1", "GET"));
  CHECK_FALSE(admits(order_post, "10.0.0.1", "POST"));
  SectionPolicy except_get =
      good_section("Order allow,deny\nAllow from all\n<LimitExcept GET>\nDeny from all\n</LimitExcept>");
  CHECK(admits(except_get, "10.0.0.1", "HEAD"));
  CHECK_FALSE(admits(except_get, "10.0.0.1", "DELETE"));
  // A later Order for the same method wins.
  SectionPolicy twice = good_section("Order allow,deny\nOrder deny,allow");
  CHECK(admits(twice, "10.0.0.1"));
}

TEST_CASE("compat errors and refusals") {
  struct Row {
    const char* config;
    const char* error;
  };
  const Row rows[] = {
      {"Order allow, deny", "Order takes one argument, 'allow,deny', 'deny,allow', or 'mutual-failure'"},
      {"Order first",
       "Order first: unknown order (write 'allow,deny', 'deny,allow' or 'mutual-failure', without spaces)"},
      {"Allow 10.0.0.1",
       "Allow requires at least two arguments, 'from' followed by hostnames or IP-address wildcards"},
      {"Deny to 10.0.0.1", "allow and deny must be followed by 'from'"},
      {"Allow from 10.0.0.300", "Allow from 10.0.0.300: The specified IP address is invalid."},
      {"Deny from 10.0.0.0/33", "Deny from 10.0.0.0/33: The specified network mask is invalid."},
      {"Allow from foo/8", "Allow from foo/8: An IP address was expected"},
      {"Allow from #nobody", "Allow from #nobody: No comments are allowed here"},
      {"Allow from example.com",
       "Allow from example.com: host names are not supported: Apache admits the clients whose "
       "double-reverse DNS name is in that domain, and wsgid does no DNS lookups; write the "
       "clients' addresses"},
      {"Deny from .example.com",
       "Deny from .example.com: host names are not supported: Apache refuses the clients whose "
       "double-reverse DNS name is in that domain, and wsgid does no DNS lookups; write the "
       "clients' addresses"},
      {"Allow from env=LET_IN",
       "Allow from env=LET_IN: env= is not supported: wsgid sets no variables from requests (no "
       "SetEnvIf), so it cannot admit whom Apache would by the variable; write the addresses"},
      {"Deny from env=!GOOD",
       "Deny from env=!GOOD: env= is not supported: wsgid sets no variables from requests (no "
       "SetEnvIf), so it cannot refuse whom Apache would by the variable; write the addresses"},
      {"Satisfy Any",
       "Satisfy Any is not supported: with it Apache admits a client that passes either the host "
       "rules or the user rules; write the rule as <RequireAny> with Require ip and Require valid-user"},
      {"Satisfy some", "Satisfy either 'any' or 'all'."},
  };
  for (const Row& row : rows) {
    CAPTURE(row.config);
    wsgid::Result<SectionPolicy> s = section(row.config);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.status().message() == row.error);
  }
  // One bad address refuses the whole line: nothing of it is kept.
  CHECK_FALSE(section("Allow from 10.0.0.1 example.com").is_ok());
  // Satisfy All is Apache's default and changes nothing.
  SectionPolicy all = good_section("Satisfy All");
  REQUIRE(all.compat);
  CHECK_FALSE(all.compat->has_rules());
}
