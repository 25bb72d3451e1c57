// Debian's shipped Apache configurations for mod_wsgi sites, verbatim in
// tests/data/config/debian/ (graphite-web's apache2-graphite.conf, the four site
// files of openstack-dashboard-apache, Keystone's upstream wsgi-keystone.conf),
// and the exact diagnostics each gets: what wsgid implements passes, what it
// refuses (a TLS vhost) is an error naming the line, what changes nothing a
// client can reach is a warning. Users and script files are not checked here
// (check_files = false): they belong to the machine, not the config.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "model/resolve.h"
#include "supervisor/config/parser.h"

using namespace wsgid::config;

namespace {

std::vector<std::string> diagnostics(const std::string& file) {
  ParseOptions o;
  o.check_files = false;
  ParseResult r = parse_config_file("debian/" + file, o);
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diags.all()) {
    std::string sev = d.severity == Severity::kError     ? "error"
                      : d.severity == Severity::kWarning ? "warning"
                                                         : "note";
    out.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + sev +
                  ": " + d.message);
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += "    \"" + x + "\",\n";
  return s;
}

}  // namespace

TEST_CASE("Debian's shipped mod_wsgi site configs get exactly these diagnostics") {
  struct Case {
    const char* file;
    std::vector<std::string> want;
  } cases[] = {
#include "debian_expected.inc"
  };
  for (const Case& c : cases) {
    std::vector<std::string> got = diagnostics(c.file);
    INFO(std::string(c.file) << "\n" << joined(got));
    CHECK(got == c.want);
  }
}

// Issue 12: Keystone's LimitRequestBody inside its <VirtualHost> is the limit
// of its requests, no longer a warning and the server-wide default.
TEST_CASE("Keystone's vhost LimitRequestBody applies to its requests") {
  ParseOptions o;
  o.check_files = false;
  ParseResult r = parse_config_file("debian/keystone-wsgi-keystone.conf", o);
  REQUIRE(r.config.vhosts.size() == 1);
  wsgid::model::Resolver resolver(r.config);
  CHECK(resolver.body_rules(0, "/v3/auth/tokens", "/usr/local/bin/keystone-wsgi-public")
            .limit_request_body == 114688);
  CHECK(resolver.body_rules(-1, "/", "").limit_request_body == 1073741824);
}
