// The access phase's wiring (access_check.h): a config as the parser reads it,
// the sections a request's file and URL select (model::Resolver::sections) in
// Apache's merge order, and the answer. Each case names the Apache behaviour it
// mirrors (httpd's server/request.c walks and mod_authz_core's merge).
#include <doctest/doctest.h>

#include <string>

#include "model/resolve.h"
#include "supervisor/config/parser.h"
#include "supervisor/frontend/access_check.h"
#include "tests/unit/authn/temp_dir.h"

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
  int want;            // 0 = allowed, else the status; after the blocking part when
                       // access_begin() asks for it (then a wrong thing happened if no
                       // credentials needed checking: see blocking)
  bool blocking = false;  // access_begin() must hand over to access_blocking()
};

// mod_wsgi's providers, faked: what each script answers, and what was asked.
struct FakeScripts : frontend::ScriptRunner {
  frontend::ScriptVote vote = frontend::ScriptVote::kNone;
  authn::Outcome outcome = authn::Outcome::kNoSuchUser;
  std::string renamed;
  wsgid::Result<std::vector<std::string>> groups = std::vector<std::string>{};
  std::vector<std::string> calls;  // "allow_access /a.wsgi 10.0.0.1", ...

  frontend::ScriptVote allow_access(const frontend::ScriptCall& c, std::string_view host) override {
    calls.push_back("allow_access " + c.script->path + " " + std::string(host));
    return vote;
  }
  authn::Outcome check_password(const frontend::ScriptCall& c, std::string_view user,
                                std::string_view password, std::string* out) override {
    calls.push_back("check_password " + c.script->path + " " + std::string(user) + " " +
                    std::string(password));
    if (!renamed.empty()) *out = renamed;
    return outcome;
  }
  wsgid::Result<std::vector<std::string>> groups_for_user(const frontend::ScriptCall& c,
                                                          std::string_view user) override {
    calls.push_back("groups_for_user " + c.script->path + " " + std::string(user));
    return groups;
  }
};

authz::Request request(const char* client, const char* method) {
  authz::Request r;
  r.client = *authz::Address::parse(client);
  r.server = *authz::Address::parse("127.0.0.1");
  r.method = method;
  return r;
}

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
    {"Require valid-user with Basic credentials: check the password (the file is missing: 500)",
     "<Location /x>\nAuthType Basic\nAuthName r\nAuthUserFile /nonexistent\n"
     "Require valid-user\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "Basic Ym9iOnB3", 500, true},
    {"another scheme than Basic: 401",
     "<Location /x>\nAuthType Basic\nAuthName r\nAuthUserFile /nonexistent\n"
     "Require valid-user\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "Bearer abc", 401},
    {"AuthType Basic without AuthUserFile: 500 (mod_authn_file has no file)",
     "<Location /x>\nAuthType Basic\nAuthName r\nRequire valid-user\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "Basic Ym9iOnB3", 500, true},
    {"AuthBasicProvider wsgi without WSGIAuthUserScript: 500 (mod_wsgi's 'not provided')",
     "<Location /x>\nAuthType Basic\nAuthName r\nAuthBasicProvider wsgi\nRequire valid-user\n"
     "</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "Basic Ym9iOnB3", 500, true},
    {"a WSGIAccessScript is asked before Require: the rest waits for the thread pool",
     "<Location /x>\nWSGIAccessScript /a.wsgi\nRequire all granted\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "GET", "", 0, true},
    {"AllowMethods runs before a WSGIAccessScript (APR_HOOK_REALLY_FIRST): 405 at once",
     "<Location /x>\nAllowMethods GET\nWSGIAccessScript /a.wsgi\n</Location>\n",
     -1, "/x", "", "127.0.0.1", "POST", "", 405},
    {"a WSGIAccessScript in a <Directory> applies to the files below it",
     "<Directory /srv>\nWSGIAccessScript /a.wsgi\n</Directory>\n",
     -1, "/x", "/srv/a.py", "127.0.0.1", "GET", "", 0, true},
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
    CHECK((a.kind == AccessAnswer::Kind::kBlocking) == c.blocking);
    if (a.kind == AccessAnswer::Kind::kBlocking) {
      FakeScripts scripts;
      frontend::BlockingInput in;
      in.authorization = c.authorization;
      in.host = c.client;
      a = frontend::access_blocking(chain, r, in, &scripts);
      CHECK(a.kind != AccessAnswer::Kind::kBlocking);
    }
    int got = a.kind == AccessAnswer::Kind::kAllow ? 0 : a.status;
    INFO(a.reason);
    CHECK(got == c.want);
    if (got == 401) CHECK(a.challenge == "Basic realm=\"r\"");
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

// The blocking part with mod_wsgi's providers (a fake ScriptRunner) and a real
// password file: mod_auth_basic's provider loop, mod_wsgi's answers
// (src/server/wsgi_auth.c), and mod_authz_core's decision after them.
TEST_CASE("mod_wsgi's providers: check_password, groups_for_user, allow_access") {
  wsgid::authn::test::TempDir dir;
  // bob:pw in htpasswd -s form ({SHA} base64 of SHA-1("pw")).
  std::string users = dir.write("users", "bob:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=\n");
  const std::string basic_alice_pw = "Basic YWxpY2U6cHc=";  // alice:pw
  const std::string basic_bob_pw = "Basic Ym9iOnB3";       // bob:pw
  const std::string basic_bob_no = "Basic Ym9iOm5v";       // bob:no
  using SV = frontend::ScriptVote;
  using O = authn::Outcome;
  struct Step {
    const char* apache;
    std::string section;  // the body of <Location /x>
    std::string authorization;
    SV vote;
    O outcome;
    const char* renamed;
    std::vector<std::string> groups;  // groups_for_user(); {"!"} = it failed
    int want;                         // 0 = allowed
    const char* user;                 // the user the answer carries
    std::vector<std::string> calls;   // the scripts asked, in order
  };
  const std::string basic = "AuthType Basic\nAuthName r\n";
  const std::string wsgi = basic + "AuthBasicProvider wsgi\nWSGIAuthUserScript /u.wsgi\n";
  const Step steps[] = {
      {"check_password True: granted", wsgi + "Require valid-user\n", basic_alice_pw, SV::kNone,
       O::kGranted, "", {}, 0, "alice", {"check_password /u.wsgi alice pw"}},
      {"check_password False: 401 again", wsgi + "Require valid-user\n", basic_alice_pw,
       SV::kNone, O::kDenied, "", {}, 401, "alice", {"check_password /u.wsgi alice pw"}},
      {"check_password None (unknown user): 401", wsgi + "Require valid-user\n", basic_alice_pw,
       SV::kNone, O::kNoSuchUser, "", {}, 401, "alice", {"check_password /u.wsgi alice pw"}},
      {"check_password raised: 500 (AUTH_GENERAL_ERROR)", wsgi + "Require valid-user\n",
       basic_alice_pw, SV::kNone, O::kError, "", {}, 500, "alice",
       {"check_password /u.wsgi alice pw"}},
      {"check_password returned a name: that user is r->user", wsgi + "Require user carol\n",
       basic_alice_pw, SV::kNone, O::kGranted, "carol", {}, 0, "carol",
       {"check_password /u.wsgi alice pw"}},
      {"no credentials: 401 before any script", wsgi + "Require valid-user\n", "", SV::kNone,
       O::kGranted, "", {}, 401, "", {}},
      {"AuthBasicProvider file wsgi: a user the file knows is not asked of the script",
       basic + "AuthBasicProvider file wsgi\nAuthUserFile " + users +
           "\nWSGIAuthUserScript /u.wsgi\nRequire valid-user\n",
       basic_bob_pw, SV::kNone, O::kDenied, "", {}, 0, "bob", {}},
      {"AuthBasicProvider file wsgi: a wrong password in the file stops there (AUTH_DENIED)",
       basic + "AuthBasicProvider file wsgi\nAuthUserFile " + users +
           "\nWSGIAuthUserScript /u.wsgi\nRequire valid-user\n",
       basic_bob_no, SV::kNone, O::kGranted, "", {}, 401, "bob", {}},
      {"AuthBasicProvider file wsgi: a user the file does not know goes to the script",
       basic + "AuthBasicProvider file wsgi\nAuthUserFile " + users +
           "\nWSGIAuthUserScript /u.wsgi\nRequire valid-user\n",
       basic_alice_pw, SV::kNone, O::kGranted, "", {}, 0, "alice",
       {"check_password /u.wsgi alice pw"}},
      {"WSGIAuthUserScript without AuthBasicProvider wsgi: only the file decides (Apache)",
       basic + "AuthUserFile " + users + "\nWSGIAuthUserScript /u.wsgi\nRequire valid-user\n",
       basic_alice_pw, SV::kNone, O::kGranted, "", {}, 401, "alice", {}},
      {"Require wsgi-group: a member", wsgi + "WSGIAuthGroupScript /g.wsgi\nRequire wsgi-group staff\n",
       basic_alice_pw, SV::kNone, O::kGranted, "", {"staff", "x"}, 0, "alice",
       {"check_password /u.wsgi alice pw", "groups_for_user /g.wsgi alice"}},
      {"Require wsgi-group: not a member: 401", wsgi + "WSGIAuthGroupScript /g.wsgi\nRequire wsgi-group staff\n",
       basic_alice_pw, SV::kNone, O::kGranted, "", {"x"}, 401, "alice",
       {"check_password /u.wsgi alice pw", "groups_for_user /g.wsgi alice"}},
      {"Require wsgi-group: not a member, AuthzSendForbiddenOnFailure On: 403",
       wsgi + "WSGIAuthGroupScript /g.wsgi\nAuthzSendForbiddenOnFailure On\nRequire wsgi-group staff\n",
       basic_alice_pw, SV::kNone, O::kGranted, "", {}, 403, "alice",
       {"check_password /u.wsgi alice pw", "groups_for_user /g.wsgi alice"}},
      {"Require wsgi-group: groups_for_user failed: denied (AUTHZ_DENIED), 401",
       wsgi + "WSGIAuthGroupScript /g.wsgi\nRequire wsgi-group staff\n", basic_alice_pw,
       SV::kNone, O::kGranted, "", {"!"}, 401, "alice",
       {"check_password /u.wsgi alice pw", "groups_for_user /g.wsgi alice"}},
      {"Require wsgi-group without WSGIAuthGroupScript: denied, 401",
       wsgi + "Require wsgi-group staff\n", basic_alice_pw, SV::kNone, O::kGranted, "", {}, 401,
       "alice", {"check_password /u.wsgi alice pw"}},
      {"allow_access False: 403, before any authentication",
       wsgi + "WSGIAccessScript /a.wsgi\nRequire valid-user\n", basic_alice_pw, SV::kFalse,
       O::kGranted, "", {}, 403, "", {"allow_access /a.wsgi 10.0.0.1"}},
      {"allow_access failed: 403 (mod_wsgi's allow = 0)",
       wsgi + "WSGIAccessScript /a.wsgi\nRequire valid-user\n", basic_alice_pw, SV::kError,
       O::kGranted, "", {}, 403, "", {"allow_access /a.wsgi 10.0.0.1"}},
      {"allow_access None: Require decides (no credentials: 401)",
       wsgi + "WSGIAccessScript /a.wsgi\nRequire valid-user\n", "", SV::kNone, O::kGranted, "", {},
       401, "", {"allow_access /a.wsgi 10.0.0.1"}},
      {"allow_access True does not lift Require (Satisfy All): still authenticated",
       wsgi + "WSGIAccessScript /a.wsgi\nRequire valid-user\n", basic_alice_pw, SV::kTrue,
       O::kGranted, "", {}, 0, "alice",
       {"allow_access /a.wsgi 10.0.0.1", "check_password /u.wsgi alice pw"}},
      {"allow_access True with Require all denied: 403",
       "WSGIAccessScript /a.wsgi\nRequire all denied\n", "", SV::kTrue, O::kGranted, "", {}, 403,
       "", {"allow_access /a.wsgi 10.0.0.1"}},
      {"allow_access alone with no Require: granted", "WSGIAccessScript /a.wsgi\n", "", SV::kTrue,
       O::kGranted, "", {}, 0, "", {"allow_access /a.wsgi 10.0.0.1"}},
  };
  for (const Step& s : steps) {
    INFO(s.apache);
    model::Config cfg = parse("<Location /x>\n" + s.section + "</Location>\n");
    model::Resolver resolver(cfg);
    frontend::AccessPolicies policies(cfg, resolver);
    const frontend::AccessChain& chain = policies.chain(-1, "/x", "");
    FakeScripts scripts;
    scripts.vote = s.vote;
    scripts.outcome = s.outcome;
    scripts.renamed = s.renamed;
    if (s.groups == std::vector<std::string>{"!"})
      scripts.groups = wsgid::Status::error("groups_for_user() raised");
    else
      scripts.groups = s.groups;
    authz::Request r = request("10.0.0.1", "GET");
    AccessAnswer a = frontend::access_begin(chain, r, s.authorization);
    if (a.kind == AccessAnswer::Kind::kBlocking) {
      frontend::BlockingInput in;
      in.authorization = s.authorization;
      in.host = "10.0.0.1";
      a = frontend::access_blocking(chain, r, in, &scripts);
    }
    INFO(a.reason);
    int got = a.kind == AccessAnswer::Kind::kAllow ? 0 : a.status;
    CHECK(got == s.want);
    CHECK(a.user == s.user);
    CHECK(scripts.calls == s.calls);
    if (got == 401) CHECK(a.challenge == "Basic realm=\"r\"");
    if (got == 0 && *s.user) CHECK(a.authenticated);
  }
}

TEST_CASE("mod_wsgi's providers without the front end's Python: 500 and 403, never allowed") {
  struct Case {
    const char* apache;
    const char* section;
    const char* authorization;
    int want;
  } cases[] = {
      {"check_password cannot run: AUTH_GENERAL_ERROR, 500",
       "AuthType Basic\nAuthName r\nAuthBasicProvider wsgi\nWSGIAuthUserScript /u.wsgi\n"
       "Require valid-user\n",
       "Basic YWxpY2U6cHc=", 500},
      {"allow_access cannot run: 403", "WSGIAccessScript /a.wsgi\n", "", 403},
  };
  for (const Case& c : cases) {
    INFO(c.apache);
    model::Config cfg = parse(std::string("<Location /x>\n") + c.section + "</Location>\n");
    model::Resolver resolver(cfg);
    frontend::AccessPolicies policies(cfg, resolver);
    const frontend::AccessChain& chain = policies.chain(-1, "/x", "");
    authz::Request r = request("10.0.0.1", "GET");
    frontend::BlockingInput in;
    in.authorization = c.authorization;
    AccessAnswer a = frontend::access_blocking(chain, r, in, nullptr);
    CHECK(a.kind == AccessAnswer::Kind::kRefuse);
    CHECK(a.status == c.want);
  }
}

TEST_CASE("a section's providers and scripts: the later section's win, as in mod_auth_basic and mod_wsgi") {
  model::Config cfg = parse(
      "<Location /x>\nAuthBasicProvider wsgi\nWSGIAuthUserScript /u1.wsgi application-group=%{GLOBAL}\n"
      "WSGIAccessScript /a.wsgi\n</Location>\n"
      "<Location /x/y>\nAuthBasicProvider file wsgi\nWSGIAuthUserScript /u2.wsgi\n</Location>\n");
  model::Resolver resolver(cfg);
  frontend::AccessPolicies policies(cfg, resolver);
  const frontend::AccessChain& outer = policies.chain(-1, "/x/z", "");
  CHECK(outer.providers == std::vector<std::string>{"wsgi"});
  REQUIRE(outer.auth_user_script);
  CHECK(outer.auth_user_script->path == "/u1.wsgi");
  CHECK(outer.auth_user_script->application_group == "%{GLOBAL}");
  const frontend::AccessChain& inner = policies.chain(-1, "/x/y/z", "");
  CHECK(inner.providers == std::vector<std::string>{"file", "wsgi"});
  REQUIRE(inner.auth_user_script);
  CHECK(inner.auth_user_script->path == "/u2.wsgi");
  CHECK(!inner.auth_user_script->application_group);
  REQUIRE(inner.access_script);  // inherited from <Location /x>
  CHECK(inner.access_script->path == "/a.wsgi");
  CHECK(inner.has_scripts());
  CHECK(policies.chain(-1, "/elsewhere", "").providers == std::vector<std::string>{"file"});
}
