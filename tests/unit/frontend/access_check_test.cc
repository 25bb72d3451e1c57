// The access phase's wiring (access_check.h): a config as the parser reads it,
// the sections a request's file and URL select (model::Resolver::sections) in
// Apache's merge order, and the answer. Each case names the Apache behaviour it
// mirrors (httpd's server/request.c walks and mod_authz_core's merge).
#include <doctest/doctest.h>

#include <string>

#include "model/resolve.h"
#include "supervisor/config/parser.h"
#include "supervisor/frontend/access_check.h"

using namespace wsgid;
using wsgid::frontend::AccessAnswer;

namespace {

model::Config parse(const std::string& text) {
  config::ParseOptions o;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv/root";
  o.check_files = false;
  config::ParseResult r = config::parse_config_text("t.conf", text, o);
  std::string errors;
  for (const auto& d : r.diags.all())
    if (d.severity == config::Severity::kError) errors += d.message + "\n";
  INFO(errors);
  REQUIRE(r.ok());
  return std::move(r.config);
}

struct Case {
  const char* apache;  // the Apache behaviour mirrored
  const char* config;
  int vhost;           // -1 = main server
  const char* url;
  const char* file;    // "" = none
  const char* client;
  const char* method;
  const char* authorization;
  int want;            // 0 = allowed, 1 = check the password, else the status
};

const Case kCases[] = {
    {"no access rule at all grants", "", -1, "/a", "/srv/a.py", "127.0.0.1", "GET", "", 0},
    {"<Directory> shortest first: /srv/www overrides /", 
     "<Directory />\nRequire all denied\n</Directory>\n"
     "<Directory /srv/www>\nRequire all granted\n</Directory>\n",
     -1, "/x", "/srv/www/a.html", "127.0.0.1", "GET", "", 0},
    {"<Directory /> denies what no deeper section grants",
     "<Directory /srv/www>\nRequire all granted\n</Directory>\n"
     "<Directory />\nRequire all denied\n</Directory>\n",
     -1, "/x", "/etc/passwd", "127.0.0.1", "GET", "", 403},
    {"<Directory> depth, not config order: the deeper one wins though written first",
     "<Directory /srv/www>\nRequire all granted\n</Directory>\n"
     "<Directory />\nRequire all denied\n</Directory>\n",
     -1, "/x", "/srv/www/a.html", "127.0.0.1", "GET", "", 0},
    {"<DirectoryMatch> after every non-regex <Directory>, even a deeper one",
     "<Directory /srv/www/sub>\nRequire all granted\n</Directory>\n"
     "<DirectoryMatch \"^/srv/www\">\nRequire all denied\n</DirectoryMatch>\n",
     -1, "/x", "/srv/www/sub/a.html", "127.0.0.1", "GET", "", 403},
    {"<FilesMatch> after <Directory>: .ht* files denied in a granted directory",
     "<FilesMatch \"^\\.ht\">\nRequire all denied\n</FilesMatch>\n"
     "<Directory /srv>\nRequire all granted\n</Directory>\n",
     -1, "/.htpasswd", "/srv/.htpasswd", "127.0.0.1", "GET", "", 403},
    {"<FilesMatch> does not touch other files",
     "<FilesMatch \"^\\.ht\">\nRequire all denied\n</FilesMatch>\n"
     "<Directory /srv>\nRequire all granted\n</Directory>\n",
     -1, "/index.html", "/srv/index.html", "127.0.0.1", "GET", "", 0},
    {"<Location> after <Directory>, though written first",
     "<Location /admin>\nRequire ip 10.0.0.1\n</Location>\n"
     "<Directory /srv>\nRequire all granted\n</Directory>\n",
     -1, "/admin/x", "/srv/app.wsgi", "127.0.0.1", "GET", "", 403},
    {"Require ip admits the listed client",
     "<Location /admin>\nRequire ip 10.0.0.0/8\n</Location>\n",
     -1, "/admin", "", "10.1.2.3", "GET", "", 0},
    {"a <VirtualHost>'s sections after the server's",
     "<Location /a>\nRequire all granted\n</Location>\n"
     "<VirtualHost *:80>\n<Location /a>\nRequire all denied\n</Location>\n</VirtualHost>\n",
     0, "/a", "", "127.0.0.1", "GET", "", 403},
    {"the main server does not see a <VirtualHost>'s sections",
     "<Location /a>\nRequire all granted\n</Location>\n"
     "<VirtualHost *:80>\n<Location /a>\nRequire all denied\n</Location>\n</VirtualHost>\n",
     -1, "/a", "", "127.0.0.1", "GET", "", 0},
    {"AuthMerging And: earlier AND this",
     "<Directory /srv>\nRequire ip 127.0.0.1\n</Directory>\n"
     "<Location /x>\nAuthMerging And\nRequire ip 10.0.0.0/8\n</Location>\n",
     -1, "/x", "/srv/a.py", "127.0.0.1", "GET", "", 403},
    {"AuthMerging Or: earlier OR this",
     "<Directory /srv>\nRequire ip 127.0.0.1\n</Directory>\n"
     "<Location /x>\nAuthMerging Or\nRequire ip 10.0.0.0/8\n</Location>\n",
     -1, "/x", "/srv/a.py", "127.0.0.1", "GET", "", 0},
    {"AuthMerging Off (the default): the later section replaces the rules",
     "<Directory /srv>\nRequire ip 127.0.0.1\n</Directory>\n"
     "<Location /x>\nRequire ip 10.0.0.0/8\n</Location>\n",
     -1, "/x", "/srv/a.py", "127.0.0.1", "GET", "", 403},
    {"AuthType without Require is a 500",
     "<Location /x>\nAuthType Basic\nAuthName r\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "", 500},
    {"Require valid-user without credentials: 401",
     "<Location /x>\nAuthType Basic\nAuthName r\nAuthUserFile /nonexistent\n"
     "Require valid-user\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "", 401},
    {"Require valid-user with Basic credentials: check the password",
     "<Location /x>\nAuthType Basic\nAuthName r\nAuthUserFile /nonexistent\n"
     "Require valid-user\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "Basic Ym9iOnB3", 1},
    {"another scheme than Basic: 401",
     "<Location /x>\nAuthType Basic\nAuthName r\nAuthUserFile /nonexistent\n"
     "Require valid-user\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "Bearer abc", 401},
    {"AuthType Basic without AuthUserFile: 500 (mod_authn_file has no file)",
     "<Location /x>\nAuthType Basic\nAuthName r\nRequire valid-user\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "Basic Ym9iOnB3", 500},
    {"AllowMethods: 405 for a method not listed",
     "<Location /x>\nAllowMethods GET\n</Location>\n", -1, "/x", "", "127.0.0.1", "POST", "", 405},
    {"AllowMethods: HEAD counts as GET",
     "<Location /x>\nAllowMethods GET\n</Location>\n", -1, "/x", "", "127.0.0.1", "HEAD", "", 0},
    {"<Limit POST>: only POST is denied (GET passes)",
     "<Location /x>\n<Limit POST>\nRequire all denied\n</Limit>\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "", 0},
    {"<Limit POST>: POST is denied",
     "<Location /x>\n<Limit POST>\nRequire all denied\n</Limit>\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "POST", "", 403},
    {"Order Deny,Allow with Deny from all and Allow from a network",
     "<Location /x>\nOrder Deny,Allow\nDeny from all\nAllow from 10.0.0.0/8\n</Location>\n",
     -1, "/x", "", "10.9.9.9", "GET", "", 0},
    {"Order Deny,Allow: a client outside the network is denied",
     "<Location /x>\nOrder Deny,Allow\nDeny from all\nAllow from 10.0.0.0/8\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "", 403},
    {"2.2 and 2.4 rules merged on one path: both enforced, the 2.2 deny wins (Apache: 403)",
     "<Directory /srv>\nOrder deny,allow\nDeny from all\n</Directory>\n"
     "<Location /x>\nRequire all granted\n</Location>\n",
     -1, "/x", "/srv/a.py", "127.0.0.1", "GET", "", 403},
    {"2.2 and 2.4 rules merged on one path: each admits (Apache: 200)",
     "<Directory /srv>\nOrder allow,deny\nAllow from 127.0.0.1\n</Directory>\n"
     "<Location /x>\nRequire ip 127.0.0.0/8\n</Location>\n",
     -1, "/x", "/srv/a.py", "127.0.0.1", "GET", "", 0},
    {"2.2 and 2.4 rules merged on one path: the Require refuses (Apache: 403)",
     "<Directory /srv>\nOrder allow,deny\nAllow from all\n</Directory>\n"
     "<Location /x>\nRequire ip 10.0.0.0/8\n</Location>\n",
     -1, "/x", "/srv/a.py", "127.0.0.1", "GET", "", 403},
    {"<RequireAll> with Require not",
     "<Location /x>\n<RequireAll>\nRequire all granted\nRequire not ip 127.0.0.1\n"
     "</RequireAll>\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "", 403},
};

}  // namespace

TEST_CASE("the access phase merges the sections of a request in Apache's order") {
  for (const Case& c : kCases) {
    INFO(c.apache);
    model::Config cfg = parse(c.config);
    model::Resolver resolver(cfg);
    frontend::AccessPolicies policies(cfg, resolver);
    const frontend::AccessChain& chain = policies.chain(c.vhost, c.url, c.file);
    authz::Request r;
    r.client = *authz::Address::parse(c.client);
    r.server = *authz::Address::parse("127.0.0.1");
    r.method = c.method;
    AccessAnswer a = frontend::access_begin(chain, r, c.authorization);
    int got = a.kind == AccessAnswer::Kind::kAllow           ? 0
              : a.kind == AccessAnswer::Kind::kCheckPassword ? 1
                                                             : a.status;
    INFO(a.reason);
    CHECK(got == c.want);
    if (got == 401) CHECK(a.challenge == "Basic realm=\"r\"");
    if (got == 1) {
      CHECK(a.user == "bob");
      CHECK(a.password == "pw");
    }
  }
}

TEST_CASE("the chain of a request is merged once and kept") {
  model::Config cfg = parse("<Location /x>\nRequire all denied\n</Location>\n");
  model::Resolver resolver(cfg);
  frontend::AccessPolicies policies(cfg, resolver);
  const frontend::AccessChain& a = policies.chain(-1, "/x/1", "");
  const frontend::AccessChain& b = policies.chain(-1, "/x/2", "");
  CHECK(&a == &b);
  CHECK(a.any);
  CHECK(!policies.chain(-1, "/y", "").any);
}

TEST_CASE("after the password check: the user, or 401 with the challenge") {
  model::Config cfg = parse(
      "<Location /x>\nAuthType Basic\nAuthName r\nAuthUserFile /f\nRequire user alice\n</Location>\n");
  model::Resolver resolver(cfg);
  frontend::AccessPolicies policies(cfg, resolver);
  const frontend::AccessChain& chain = policies.chain(-1, "/x", "");
  struct Step {
    const char* apache;
    const char* user;
    authn::Outcome outcome;
    int want;
  } steps[] = {
      {"the right password of a listed user", "alice", authn::Outcome::kGranted, 0},
      {"the right password of a user Require does not list: 401", "bob",
       authn::Outcome::kGranted, 401},
      {"a wrong password: 401", "alice", authn::Outcome::kDenied, 401},
      {"no such user: 401", "carol", authn::Outcome::kNoSuchUser, 401},
      {"an unreadable password file: 500", "alice", authn::Outcome::kError, 500},
  };
  for (const Step& s : steps) {
    INFO(s.apache);
    authz::Request r;
    r.client = *authz::Address::parse("127.0.0.1");
    r.server = r.client;
    r.method = "GET";
    frontend::PasswordResult res;
    res.verdict.outcome = s.outcome;
    res.verdict.error = "cannot read /f";
    AccessAnswer a = frontend::access_finish(chain, r, s.user, res);
    int got = a.kind == AccessAnswer::Kind::kAllow ? 0 : a.status;
    CHECK(got == s.want);
    if (got == 401) CHECK(a.challenge == "Basic realm=\"r\"");
  }
}
