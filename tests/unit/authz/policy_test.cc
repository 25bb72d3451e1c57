// Merging sections and deciding a request, each step with the Apache result it
// mirrors (mod_authz_core's manual: "AuthMerging", "Authorization Containers";
// core's "How the sections are merged"; mod_access_compat; mod_authn_core;
// mod_allowmethods; server/request.c ap_process_request_internal).
#include <doctest/doctest.h>

#include <cctype>
#include <vector>

#include "supervisor/authz/directives.h"
#include "tests/unit/authz/helpers.h"

using namespace authz_test;

namespace {

struct Sec {
  const char* label;
  const char* config;
};

MergedPolicy merged(const std::vector<Sec>& secs) {
  std::vector<SectionPolicy> built;
  for (const Sec& s : secs) built.push_back(good_section(s.config, s.label));
  std::vector<const SectionPolicy*> ptrs;
  for (const SectionPolicy& s : built) ptrs.push_back(&s);
  return merge(ptrs);
}

Decision decide_for(const std::vector<Sec>& secs, const char* client, const char* method = "GET",
                    const char* user = nullptr) {
  return decide(merged(secs), request(client, method, user));
}

const char* name(Verdict v) {
  switch (v) {
    case Verdict::kAllow: return "allow";
    case Verdict::kForbidden: return "403";
    case Verdict::kAuthenticate: return "authenticate";
    case Verdict::kUnauthorized: return "401";
    case Verdict::kServerError: return "500";
    case Verdict::kMethodNotAllowed: return "405";
  }
  return "?";
}

struct Row {
  const char* mirrors;  // the Apache result this row mirrors
  std::vector<Sec> sections;
  const char* client;
  const char* method;
  const char* user;
  Verdict want;
};

void run(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    CAPTURE(row.mirrors);
    CAPTURE(row.client);
    CAPTURE(row.method);
    CHECK(std::string(name(decide_for(row.sections, row.client, row.method, row.user).verdict)) ==
          name(row.want));
  }
}

constexpr Verdict kAllow = Verdict::kAllow;
constexpr Verdict k403 = Verdict::kForbidden;
constexpr Verdict kAuth = Verdict::kAuthenticate;
constexpr Verdict k401 = Verdict::kUnauthorized;
constexpr Verdict k500 = Verdict::kServerError;
constexpr Verdict k405 = Verdict::kMethodNotAllowed;

const Sec kRootDenied = {"<Directory />", "Require all denied"};
const Sec kRootNet = {"<Directory />", "Require ip 10.0.0.0/8"};

}  // namespace

TEST_CASE("merge steps of mod_authz_core (merge_authz_core_dir_config)") {
  run({
      // AuthMerging Off (the default): a later section's Require rules replace the earlier ones.
      {"later Require replaces", {kRootDenied, {"<Directory /srv>", "Require all granted"}},
       "192.0.2.1", "GET", nullptr, kAllow},
      // A later section without authorization directives inherits the earlier ones.
      {"no Require: inherited", {kRootDenied, {"<Directory /srv>", "AuthName x"}},
       "192.0.2.1", "GET", nullptr, k403},
      // AuthMerging And: the request must pass both sections' rules.
      {"And: the earlier ip rule still applies", {kRootNet, {"<Location /a>", "AuthMerging And\nRequire method GET"}},
       "192.0.2.1", "GET", nullptr, k403},
      {"And: both pass", {kRootNet, {"<Location /a>", "AuthMerging And\nRequire method GET"}},
       "10.0.0.1", "GET", nullptr, kAllow},
      {"And: the later rule fails", {kRootNet, {"<Location /a>", "AuthMerging And\nRequire method GET"}},
       "10.0.0.1", "POST", nullptr, k403},
      // AuthMerging Or: either section's rules admit.
      {"Or: the earlier rule admits", {kRootNet, {"<Location /a>", "AuthMerging Or\nRequire method GET"}},
       "10.0.0.1", "POST", nullptr, kAllow},
      {"Or: the later rule admits", {kRootNet, {"<Location /a>", "AuthMerging Or\nRequire method GET"}},
       "192.0.2.1", "GET", nullptr, kAllow},
      {"Or: neither", {kRootNet, {"<Location /a>", "AuthMerging Or\nRequire method GET"}},
       "192.0.2.1", "POST", nullptr, k403},
      // AuthMerging And|Or without Require of its own keeps the earlier rules.
      {"And alone keeps the earlier rules", {kRootDenied, {"<Location /a>", "AuthMerging And"}},
       "10.0.0.1", "GET", nullptr, k403},
      // AuthMerging Off alone is a new, empty authz config: no rule at all grants.
      {"Off alone clears", {kRootDenied, {"<Location /a>", "AuthMerging Off"}},
       "10.0.0.1", "GET", nullptr, kAllow},
      // AuthzSendForbiddenOnFailure alone is not a new authz config.
      {"ForbiddenOnFailure alone keeps the rules", {kRootDenied, {"<Location /a>", "AuthzSendForbiddenOnFailure On"}},
       "10.0.0.1", "GET", nullptr, k403},
      // And over a path with no earlier rules: the section's own rules.
      {"And with nothing earlier", {{"<Directory />", "AuthName x"}, {"<Location /a>", "AuthMerging And\nRequire all denied"}},
       "10.0.0.1", "GET", nullptr, k403},
      // Three sections: / denied, /srv granted (replaces), /srv/a And ip (combines with /srv).
      {"chain: replace then And", {kRootDenied, {"<Directory /srv>", "Require all granted"},
        {"<Directory /srv/a>", "AuthMerging And\nRequire ip 10.0.0.0/8"}},
       "10.0.0.1", "GET", nullptr, kAllow},
      {"chain: replace then And, outside the network", {kRootDenied, {"<Directory /srv>", "Require all granted"},
        {"<Directory /srv/a>", "AuthMerging And\nRequire ip 10.0.0.0/8"}},
       "192.0.2.1", "GET", nullptr, k403},
      // A merged And with a user rule: the network passes, then a user is needed.
      {"And with valid-user asks for a user", {kRootNet, {"<Location /a>", "AuthType Basic\nAuthName r\nAuthMerging And\nRequire valid-user"}},
       "10.0.0.1", "GET", nullptr, kAuth},
      {"And with valid-user: wrong network, no prompt", {kRootNet, {"<Location /a>", "AuthType Basic\nAuthName r\nAuthMerging And\nRequire valid-user"}},
       "192.0.2.1", "GET", nullptr, k403},
      {"Or with valid-user: the network passes without a user", {kRootNet, {"<Location /a>", "AuthType Basic\nAuthName r\nAuthMerging Or\nRequire valid-user"}},
       "10.0.0.1", "GET", nullptr, kAllow},
      {"Or with valid-user: elsewhere a user is asked for", {kRootNet, {"<Location /a>", "AuthType Basic\nAuthName r\nAuthMerging Or\nRequire valid-user"}},
       "192.0.2.1", "GET", nullptr, kAuth},
  });
  MergedPolicy m = merged({kRootNet, {"<Location /a>", "AuthMerging And\nRequire method GET"}});
  REQUIRE(m.require);
  CHECK(describe(*m.require) == "AuthMerging All");
}

TEST_CASE("merge steps of the other modules") {
  run({
      // mod_access_compat has no merger: a later section's Allow replaces the whole
      // earlier config, so the earlier "Deny from all" is gone (Deny,Allow default).
      {"compat: replaced whole", {{"<Directory /a>", "Order deny,allow\nDeny from all"},
        {"<Directory /a/b>", "Allow from 10.0.0.0/8"}},
       "192.0.2.1", "GET", nullptr, kAllow},
      // Even Satisfy All alone makes a new (empty) compat config that replaces the earlier one.
      {"compat: Satisfy All alone replaces", {{"<Directory /a>", "Order deny,allow\nDeny from all"},
        {"<Directory /a/b>", "Satisfy All"}},
       "192.0.2.1", "GET", nullptr, kAllow},
      {"compat: inherited by a section without it", {{"<Directory /a>", "Order deny,allow\nDeny from all"},
        {"<Directory /a/b>", "AuthName x"}},
       "192.0.2.1", "GET", nullptr, k403},
      // mod_authn_core: the later AuthType wins; AuthType None turns authentication off,
      // so an inherited Require valid-user can no longer be satisfied (500, as Apache).
      {"AuthType None over an inherited valid-user", {{"<Directory /srv>", "AuthType Basic\nAuthName r\nRequire valid-user"},
        {"<Directory /srv/pub>", "AuthType None"}},
       "192.0.2.1", "GET", nullptr, k500},
      {"AuthType None with Require all granted", {{"<Directory /srv>", "AuthType Basic\nAuthName r\nRequire valid-user"},
        {"<Directory /srv/pub>", "AuthType None\nRequire all granted"}},
       "192.0.2.1", "GET", nullptr, kAllow},
      {"AuthType inherited", {{"<Directory /srv>", "AuthType Basic\nAuthName r"},
        {"<Location /a>", "Require valid-user"}},
       "192.0.2.1", "GET", nullptr, kAuth},
      // mod_allowmethods: the later AllowMethods wins; reset turns it off.
      {"AllowMethods", {{"<Directory /srv>", "AllowMethods GET POST"}}, "192.0.2.1", "PUT", nullptr, k405},
      {"AllowMethods: HEAD is GET", {{"<Directory /srv>", "AllowMethods GET POST"}}, "192.0.2.1", "HEAD", nullptr, kAllow},
      {"AllowMethods inherited", {{"<Directory /srv>", "AllowMethods GET"}, {"<Location /a>", "Require all granted"}},
       "192.0.2.1", "POST", nullptr, k405},
      {"AllowMethods reset", {{"<Directory /srv>", "AllowMethods GET"}, {"<Location /a>", "AllowMethods reset"}},
       "192.0.2.1", "POST", nullptr, kAllow},
  });
}

TEST_CASE("2.2 and 2.4 rules on one path: both enforced, the 2.2 rules first") {
  // ap_process_request_internal (Satisfy All): mod_access_compat's access
  // checker, then mod_authz_core's Require; each module merges on its own.
  // Every row was run against Apache 2.4.71 (Debian 12's apache2, clients
  // 127.0.0.1 and 127.0.0.2) and gives the answer Apache gave.
  const Sec compat_root = {"<Directory />", "Order deny,allow\nDeny from all"};
  const Sec only_1 = {"<Location /sub>", "Order deny,allow\nDeny from all\nAllow from 127.0.0.1"};
  run({
      // Apache's "Upgrading to 2.4 from 2.2", "NOT WORKING AS EXPECTED": 403.
      {"upgrading example 1: 2.2 deny all under Require local", {compat_root, {"<Location /server-status>", "Require local"}},
       "127.0.0.1", "GET", nullptr, k403},
      // The same page's "WORKING AS EXPECTED" says 200; Apache 2.4.71 answers
      // 403: the Require all denied of <Directory /> still applies.
      {"upgrading example 2: 2.2 allow under Require all denied", {kRootDenied, only_1}, "127.0.0.1", "GET", nullptr, k403},
      {"2.2 allow all, then Require ip: the Require admits", {{"<Directory />", "Order allow,deny\nAllow from all"},
                                                              {"<Location /sub>", "Require ip 127.0.0.1"}},
       "127.0.0.1", "GET", nullptr, kAllow},
      {"2.2 allow all, then Require ip: the Require refuses", {{"<Directory />", "Order allow,deny\nAllow from all"},
                                                               {"<Location /sub>", "Require ip 127.0.0.1"}},
       "127.0.0.2", "GET", nullptr, k403},
      {"one section, 2.2 admits and Require all granted", {{"<Location /sub>", "Order deny,allow\nDeny from all\nAllow from 127.0.0.1\nRequire all granted"}},
       "127.0.0.1", "GET", nullptr, kAllow},
      {"one section, 2.2 refuses despite Require all granted", {{"<Location /sub>", "Order deny,allow\nDeny from all\nAllow from 127.0.0.1\nRequire all granted"}},
       "127.0.0.2", "GET", nullptr, k403},
      {"one section, 2.2 admits all, Require ip refuses", {{"<Location /sub>", "Order allow,deny\nAllow from all\nRequire ip 127.0.0.2"}},
       "127.0.0.1", "GET", nullptr, k403},
      {"one section, 2.2 admits all, Require ip admits", {{"<Location /sub>", "Order allow,deny\nAllow from all\nRequire ip 127.0.0.2"}},
       "127.0.0.2", "GET", nullptr, kAllow},
      {"2.2 admits, then Basic authentication", {{"<Location /sub>", "Order deny,allow\nDeny from all\nAllow from 127.0.0.1\nAuthType Basic\nAuthName x\nRequire valid-user"}},
       "127.0.0.1", "GET", nullptr, kAuth},
      {"2.2 refuses: 403 before any password prompt", {{"<Location /sub>", "Order deny,allow\nDeny from all\nAllow from 127.0.0.1\nAuthType Basic\nAuthName x\nRequire valid-user"}},
       "127.0.0.2", "GET", nullptr, k403},
      {"2.2 refuses an authenticated user too", {{"<Location /sub>", "Order deny,allow\nDeny from all\nAllow from 127.0.0.1\nAuthType Basic\nAuthName x\nRequire valid-user"}},
       "127.0.0.2", "GET", "alice", k403},
      {"Require all granted in <Directory>, Order allow,deny (no Allow) in <Location>",
       {{"<Directory /srv/sub>", "Require all granted"}, {"<Location /sub>", "Order allow,deny"}}, "127.0.0.1", "GET", nullptr, k403},
  });
}

TEST_CASE("decisions (ap_process_request_internal, Satisfy All)") {
  const Sec basic = {"<Location /private>", "AuthType Basic\nAuthName \"Private\"\nRequire valid-user"};
  const Sec alice_only = {"<Location /private>", "AuthType Basic\nAuthName r\nRequire user alice"};
  run({
      {"no access rule at all grants", {{"<Location />", "AuthName unused"}}, "192.0.2.1", "GET", nullptr, kAllow},
      {"nothing merged grants", {}, "192.0.2.1", "GET", nullptr, kAllow},
      {"AuthType without Require: 500", {{"<Location />", "AuthType Basic\nAuthName r"}}, "192.0.2.1", "GET", nullptr, k500},
      {"AuthType None without Require: no authentication, grants", {{"<Location />", "AuthType None"}},
       "192.0.2.1", "GET", nullptr, kAllow},
      {"Require all denied: 403", {kRootDenied}, "192.0.2.1", "GET", nullptr, k403},
      {"valid-user before authentication: authenticate", {basic}, "192.0.2.1", "GET", nullptr, kAuth},
      {"valid-user after authentication", {basic}, "192.0.2.1", "GET", "bob", kAllow},
      {"user refused after authentication: 401 again", {alice_only}, "192.0.2.1", "GET", "bob", k401},
      {"user refused, AuthzSendForbiddenOnFailure On: 403",
       {{"<Location /private>", "AuthType Basic\nAuthName r\nRequire user alice\nAuthzSendForbiddenOnFailure On"}},
       "192.0.2.1", "GET", "bob", k403},
      {"user admitted", {alice_only}, "192.0.2.1", "GET", "alice", kAllow},
      {"valid-user without AuthType: 500 (nothing can authenticate)", {{"<Location />", "Require valid-user"}},
       "192.0.2.1", "GET", nullptr, k500},
      {"AuthType without AuthName: 500 (mod_auth_basic: need AuthName)", {{"<Location />", "AuthType Basic\nRequire valid-user"}},
       "192.0.2.1", "GET", nullptr, k500},
      {"a userless grant needs no authentication, AuthType or not",
       {{"<Location />", "AuthType Basic\nAuthName r\nRequire ip 10.0.0.0/8\nRequire valid-user"}},
       "10.0.0.1", "GET", nullptr, kAllow},
      {"a denial needs no authentication: 403 without a prompt",
       {{"<Location />", "AuthType Basic\nAuthName r\n<RequireAll>\nRequire ip 10.0.0.0/8\nRequire valid-user\n</RequireAll>"}},
       "192.0.2.1", "GET", nullptr, k403},
      {"<Limit POST>: GET passes without a user", {{"<Location />", "AuthType Basic\nAuthName r\n<Limit POST>\nRequire valid-user\n</Limit>"}},
       "192.0.2.1", "GET", nullptr, kAllow},
      {"<Limit POST>: POST authenticates", {{"<Location />", "AuthType Basic\nAuthName r\n<Limit POST>\nRequire valid-user\n</Limit>"}},
       "192.0.2.1", "POST", nullptr, kAuth},
      {"AllowMethods is checked first (405 before 403)", {{"<Location />", "AllowMethods GET\nOrder allow,deny"}},
       "192.0.2.1", "PUT", nullptr, k405},
      {"compat denies: 403", {{"<Location />", "Order allow,deny"}}, "192.0.2.1", "GET", nullptr, k403},
      {"compat admits", {{"<Location />", "Order allow,deny\nAllow from 192.0.2.0/24"}}, "192.0.2.1", "GET", nullptr, kAllow},
  });
  Decision d = decide_for({{"<Location />", "AuthType Basic\nAuthName r"}}, "192.0.2.1");
  CHECK(d.status == 500);
  CHECK(d.reason == "AuthType configured with no corresponding authorization directives");
  d = decide_for({kRootDenied}, "192.0.2.1");
  CHECK(d.status == 403);
  CHECK(d.reason == "client denied by server configuration");
  d = decide_for({{"<Location />", "AllowMethods GET"}}, "192.0.2.1", "DELETE");
  CHECK(d.status == 405);
  d = decide_for({alice_only}, "192.0.2.1", "GET", "bob");
  CHECK(d.status == 401);
  CHECK(d.reason == "user bob: authorization failure");
}

TEST_CASE("section directives: AuthMerging, AuthType, AllowMethods errors") {
  struct Row {
    const char* config;
    const char* error;
  };
  const Row rows[] = {
      {"AuthMerging Maybe", "AuthMerging must be one of: Off | And | Or"},
      {"AuthzSendForbiddenOnFailure yes", "AuthzSendForbiddenOnFailure must be On or Off"},
      {"AuthType", "AuthType takes one argument, Basic | None"},
      {"AuthName a b", "AuthName takes one argument, REALM"},
      {"AllowMethods", "AllowMethods: No method or 'reset' keyword given"},
      {"AllowMethods GET FETCH", "AllowMethods: Invalid Method 'FETCH'"},
      {"AllowMethods +GET",
       "AllowMethods +GET: the +METHOD/-METHOD form is not in Apache 2.4; list every method allowed"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.config);
    wsgid::Result<SectionPolicy> s = section(row.config);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.status().message() == row.error);
  }
}

TEST_CASE("the directive table: every entry is known to the section builder") {
  for (const DirectiveInfo& d : directives()) {
    CAPTURE(d.name);
    CHECK(find_directive(d.name) == &d);
    std::string lower(d.name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK(find_directive(lower) == &d);  // Apache's directive names ignore case
    // Per-directory contexts only: never the server or <VirtualHost> top level.
    CHECK((d.contexts & kPerDirectory) == kPerDirectory);
    SectionBuilder b("<Location />");
    wsgid::Status s = d.section ? b.open(d.name, {"GET"}) : b.directive(d.name, {"x"});
    if (!s) {
      CHECK(s.message().find("is not an access control") == std::string::npos);
    }
  }
  CHECK(find_directive("Alias") == nullptr);
  // The ones Apache walks inside <RequireAll> (OR_AUTHCFG) and the ones it refuses there.
  CHECK((find_directive("Require")->contexts & kRequireContainer) != 0);
  CHECK((find_directive("AuthType")->contexts & kRequireContainer) != 0);
  CHECK((find_directive("Order")->contexts & kRequireContainer) == 0);
  CHECK((find_directive("AllowMethods")->contexts & kRequireContainer) == 0);
}

TEST_CASE("the AuthMerging example of mod_authz_core's manual") {
  // <Directory /www/docs> Require group alpha; <Directory /www/docs/ab>
  // AuthMerging Or + Require group beta; <Directory /www/docs/ab/gamma>
  // Require group gamma. "Only users belonging to group alpha may access
  // /www/docs. Users belonging to either groups alpha or beta may access
  // /www/docs/ab. ... only users belong to the group gamma may access
  // /www/docs/ab/gamma." (AuthBasicProvider and AuthUserFile are authentication's.)
  SectionPolicy docs = good_section("AuthType Basic\nAuthName Documents\nRequire group alpha", "docs");
  SectionPolicy ab = good_section("AuthMerging Or\nRequire group beta", "ab");
  SectionPolicy gamma = good_section("Require group gamma", "gamma");
  auto groups_of = [](GroupSource source, std::string_view user) -> wsgid::Result<std::vector<std::string>> {
    CHECK(source == GroupSource::kGroupFile);
    return std::vector<std::string>{std::string(user == "ann" ? "alpha" : user == "bea" ? "beta" : "gamma")};
  };
  auto verdict = [&](std::vector<const SectionPolicy*> path, const char* user) {
    MergedPolicy m = merge(path);
    Request r = request("192.0.2.1", "GET", user);
    r.groups = groups_of;
    return std::string(name(decide(m, r).verdict));
  };
  struct Row {
    std::vector<const SectionPolicy*> path;
    const char* user;
    const char* want;
  };
  const Row rows[] = {
      {{&docs}, nullptr, "authenticate"},
      {{&docs}, "ann", "allow"},
      {{&docs}, "bea", "401"},
      {{&docs, &ab}, "ann", "allow"},
      {{&docs, &ab}, "bea", "allow"},
      {{&docs, &ab}, "gus", "401"},
      {{&docs, &ab, &gamma}, "gus", "allow"},
      {{&docs, &ab, &gamma}, "ann", "401"},
      {{&docs, &ab, &gamma}, "bea", "401"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.path.size());
    CAPTURE((row.user ? row.user : "(none)"));
    CHECK(verdict(row.path, row.user) == row.want);
  }
}
