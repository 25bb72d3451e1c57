// Access control and authentication directives (access_directives.cc): where
// Apache allows them, the lines a section keeps for the front end, and every
// error with its exact text.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/config/parser.h"

using namespace wsgid::config;

namespace {

ParseResult parse(const std::string& text) {
  ParseOptions o;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv/root";
  o.check_files = false;
  return parse_config_text("t.conf", text, o);
}

std::vector<std::string> errors(const ParseResult& r) {
  std::vector<std::string> v;
  for (const Diagnostic& d : r.diags.all())
    if (d.severity == Severity::kError) v.push_back(std::to_string(d.loc.line) + ": " + d.message);
  return v;
}

std::string lines_of(const Block& b) {
  std::string s;
  for (const AccessLine& l : b.access.lines) {
    s += l.name;
    for (const std::string& a : l.args) s += " " + a;
    s += "|";
  }
  return s;
}

}  // namespace

TEST_CASE("a section keeps its access lines as written, nested sections included") {
  struct Case {
    const char* text;
    const char* lines;
  } cases[] = {
      {"<Location /a>\nRequire ip 10.0.0.0/8\n</Location>\n", "Require ip 10.0.0.0/8|"},
      {"<Location /a>\n<RequireAll>\nRequire all granted\nRequire not ip 10.0.0.1\n</RequireAll>\n"
       "</Location>\n",
       "<RequireAll|Require all granted|Require not ip 10.0.0.1|</RequireAll|"},
      {"<Location /a>\n<Limit POST PUT>\nRequire all denied\n</Limit>\n</Location>\n",
       "<Limit POST PUT|Require all denied|</Limit|"},
      {"<Location /a>\norder deny,allow\ndeny from all\nallow from 10.1\n</Location>\n",
       "Order deny,allow|Deny from all|Allow from 10.1|"},
      {"<Location /a>\nAuthType Basic\nAuthName \"Staff only\"\nRequire valid-user\n</Location>\n",
       "AuthType Basic|AuthName Staff only|Require valid-user|"},
      {"<Location /a>\nWSGIApplicationGroup %{GLOBAL}\n</Location>\n", ""},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    ParseResult r = parse(c.text);
    CHECK(errors(r).empty());
    REQUIRE(r.config.server.locations.size() == 1);
    CHECK(lines_of(r.config.server.locations[0]) == c.lines);
  }
}

TEST_CASE("AuthUserFile and AuthGroupFile resolve against ServerRoot") {
  ParseResult r = parse("<Directory /srv>\nAuthUserFile users\nAuthGroupFile /etc/groups\n"
                        "</Directory>\n<Files x.py>\nRequire all denied\n</Files>\n");
  CHECK(errors(r).empty());
  REQUIRE(r.config.server.directories.size() == 2);
  const Block& d = r.config.server.directories[0];
  CHECK(d.access.user_file == "/srv/root/users");
  CHECK(d.access.group_file == "/etc/groups");
  CHECK(d.access.lines.empty());
  CHECK(!d.access.empty());
  CHECK(r.config.server.directories[1].is_files);
  CHECK(lines_of(r.config.server.directories[1]) == "Require all denied|");
}

TEST_CASE("access directives: Apache's errors and wsgid's refusals, exact text") {
  struct Case {
    const char* text;
    std::vector<std::string> want;
  } cases[] = {
      {"Require all denied\n",
       {"1: Require cannot appear at server level; it belongs in <Location>, <Directory> or "
        "<Files>"}},
      {"<VirtualHost *:80>\nAuthType Basic\n</VirtualHost>\n",
       {"2: AuthType cannot appear inside <VirtualHost>; it belongs in <Location>, <Directory> or "
        "<Files>"}},
      {"<RequireAll>\n</RequireAll>\n",
       {"1: <RequireAll> cannot appear at server level; it belongs in <Location>, <Directory> or "
        "<Files>"}},
      {"<Location /a>\nRequire not ip 10.0.0.1\n</Location>\n",
       {"2: negative Require directive has no effect in <RequireAny> directive",
        "1: <Directory>, <Location>, or similar directive contains only negative authorization "
        "directives"}},
      {"<Location /a>\nAuthType Digest\nRequire valid-user\n</Location>\n",
       {"2: AuthType Digest is refused: Apache would ask the clients of this path to "
        "authenticate that way, and wsgid implements only AuthType Basic (fail closed)"}},
      {"<Location /a>\nAuthBasicProvider ldap\n</Location>\n",
       {"2: AuthBasicProvider ldap is refused: Apache would check the passwords of this path "
        "with the 'ldap' provider, and wsgid implements only 'file' and mod_wsgi's 'wsgi' (fail "
        "closed)"}},
      {"<Location /a>\nAuthBasicProvider file wsgi\nWSGIAuthUserScript /a.wsgi\n"
       "Require wsgi-group staff\nWSGIAuthGroupScript /g.wsgi\n</Location>\n",
       {}},
      {"<Location /a>\nWSGIAuthUserScript /a.wsgi process-group=site1\n</Location>\n",
       {"2: unknown option 'process-group' to WSGIAuthUserScript"}},
      {"<Location /a>\nWSGIAccessScript /a.wsgi application-grup=x\n</Location>\n",
       {"2: unknown option 'application-grup' to WSGIAccessScript"}},
      {"<Location /a>\nWSGIAuthGroupScript /a.wsgi application-group=\n</Location>\n",
       {"2: WSGIAuthGroupScript application-group= needs a name"}},
      {"<Location /a>\nWSGIAuthUserScript\n</Location>\n",
       {"2: WSGIAuthUserScript takes at least one argument, not 0"}},
      {"WSGIAuthUserScript /a.wsgi\n",
       {"1: WSGIAuthUserScript cannot appear at server level; it belongs in <Location>, "
        "<Directory> or <Files>"}},
      {"<Location /a>\nAuthUserFile\n</Location>\n",
       {"2: AuthUserFile takes one argument, not 0"}},
      {"<Location /a>\n<Limit GET>\nOrder allow,deny\n</Limit>\n<RequireAll>\nAllow from all\n"
       "Require all granted\n</RequireAll>\n</Location>\n",
       {"6: Allow not allowed here"}},
  };
  for (const Case& c : cases) {
    ParseResult r = parse(c.text);
    INFO(c.text);
    std::vector<std::string> got = errors(r);
    REQUIRE(got.size() == c.want.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == c.want[i]);
  }
}

// mod_wsgi's provider scripts: what a section keeps (paths resolved against
// ServerRoot, the option as written), and an error's file:line:col, line and
// caret, with what to write instead.
TEST_CASE("WSGIAuthUserScript, WSGIAuthGroupScript, WSGIAccessScript and AuthBasicProvider kept") {
  ParseResult r = parse(
      "<Location /a>\n"
      "AuthBasicProvider File WSGI\n"
      "WSGIAuthUserScript auth.wsgi application-group=%{SERVER}\n"
      "WSGIAuthGroupScript /srv/groups.wsgi\n"
      "WSGIAccessScript /srv/access.wsgi application-group=site\n"
      "</Location>\n"
      "<Location /b>\nRequire all granted\n</Location>\n");
  REQUIRE(errors(r).empty());
  REQUIRE(r.config.server.locations.size() == 2);
  const BlockAccess& a = r.config.server.locations[0].access;
  CHECK(a.basic_providers == std::vector<std::string>{"file", "wsgi"});
  REQUIRE(a.auth_user_script);
  CHECK(a.auth_user_script->path == "/srv/root/auth.wsgi");
  CHECK(a.auth_user_script->application_group == "%{SERVER}");
  REQUIRE(a.auth_group_script);
  CHECK(a.auth_group_script->path == "/srv/groups.wsgi");
  CHECK(!a.auth_group_script->application_group);
  REQUIRE(a.access_script);
  CHECK(a.access_script->application_group == "site");
  const BlockAccess& b = r.config.server.locations[1].access;
  CHECK(!b.basic_providers);
  CHECK(!b.auth_user_script);
  // A refused provider leaves the section's providers unset, never "file" alone.
  ParseResult bad = parse("<Location /a>\nAuthBasicProvider file ldap\n</Location>\n");
  REQUIRE(errors(bad).size() == 1);
  CHECK(!bad.config.server.locations[0].access.basic_providers);
}

TEST_CASE("a script option error names file:line:col, shows the line and says what to write") {
  ParseResult r = parse("<Location /a>\n  WSGIAuthUserScript /a.wsgi process-group=site1\n</Location>\n");
  REQUIRE(r.diags.all().size() == 1);
  const Diagnostic& d = r.diags.all()[0];
  CHECK(d.loc.file == "t.conf");
  CHECK(d.loc.line == 2);
  CHECK(d.loc.col == 30);
  std::string text = r.diags.render(d);
  INFO(text);
  CHECK(text.find("t.conf:2:30: error: unknown option 'process-group' to WSGIAuthUserScript") !=
        std::string::npos);
  CHECK(text.find("  WSGIAuthUserScript /a.wsgi process-group=site1") != std::string::npos);
  CHECK(text.find("takes only application-group=") != std::string::npos);
}
