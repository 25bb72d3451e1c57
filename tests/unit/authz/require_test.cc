// The Require tree: every provider, every container, <Limit>/<LimitExcept>,
// and every error Apache's mod_authz_core gives while building it. Results are
// Apache's authz_status (modules/aaa/mod_authz_core.c apply_authz_sections;
// the manual's "Authorization Containers" examples).
#include <doctest/doctest.h>

#include "tests/unit/authz/helpers.h"

using namespace authz_test;

namespace {

constexpr AuthzStatus G = AuthzStatus::kGranted;
constexpr AuthzStatus D = AuthzStatus::kDenied;
constexpr AuthzStatus N = AuthzStatus::kNeutral;
constexpr AuthzStatus U = AuthzStatus::kDeniedNoUser;

struct EvalRow {
  const char* why;
  const char* config;
  const char* client;
  const char* method;
  const char* user;  // nullptr: not authenticated yet
  AuthzStatus want;
};

void run(const EvalRow& row) {
  CAPTURE(row.why);
  CAPTURE(row.client);
  CAPTURE(row.method);
  SectionPolicy s = good_section(row.config);
  REQUIRE(s.require.has_value());
  CHECK(to_string(evaluate(*s.require, request(row.client, row.method, row.user))) ==
        to_string(row.want));
}

}  // namespace

TEST_CASE("providers") {
  const EvalRow rows[] = {
      {"all granted", "Require all granted", "192.0.2.1", "GET", nullptr, G},
      {"all denied", "Require all denied", "10.0.0.1", "GET", nullptr, D},
      {"all: case-insensitive argument", "Require all GRANTED", "10.0.0.1", "GET", nullptr, G},
      {"ip in the network", "Require ip 10.0.0.0/8", "10.1.1.1", "GET", nullptr, G},
      {"ip outside", "Require ip 10.0.0.0/8", "192.0.2.1", "GET", nullptr, D},
      {"ip: any of a list", "Require ip 192.0.2.1 10.0.0.0/8", "10.2.2.2", "GET", nullptr, G},
      {"ip: partial address", "Require ip 10.1", "10.1.9.9", "GET", nullptr, G},
      {"ip: IPv6 CIDR", "Require ip 2001:db8::/32", "2001:db8::5", "GET", nullptr, G},
      {"ip: IPv4-mapped client", "Require ip 10.0.0.0/8", "::ffff:10.0.0.9", "GET", nullptr, G},
      {"local: loopback", "Require local", "127.0.0.1", "GET", nullptr, G},
      {"local: the server's own address", "Require local", "192.0.2.100", "GET", nullptr, G},
      {"local: another host", "Require local", "192.0.2.1", "GET", nullptr, D},
      {"method listed", "Require method GET POST", "192.0.2.1", "POST", nullptr, G},
      {"method: HEAD is GET", "Require method GET", "192.0.2.1", "HEAD", nullptr, G},
      {"method not listed", "Require method GET POST", "192.0.2.1", "PUT", nullptr, D},
      {"valid-user, nobody authenticated yet", "Require valid-user", "192.0.2.1", "GET", nullptr, U},
      {"valid-user, authenticated", "Require valid-user", "192.0.2.1", "GET", "bob", G},
      {"user listed", "Require user alice bob", "192.0.2.1", "GET", "alice", G},
      {"user not listed", "Require user alice bob", "192.0.2.1", "GET", "carol", D},
      {"user: names compare with case (strcmp)", "Require user alice", "192.0.2.1", "GET", "Alice", D},
      {"user, nobody authenticated yet", "Require user alice", "192.0.2.1", "GET", nullptr, U},
      {"group: apr tables ignore case", "Require group admins", "192.0.2.1", "GET", "alice", G},
      {"group: user in no group", "Require group admins", "192.0.2.1", "GET", "bob", D},
      {"group: the group file cannot be read", "Require group admins", "192.0.2.1", "GET", "broken", D},
      {"group, nobody authenticated yet", "Require group admins", "192.0.2.1", "GET", nullptr, U},
      {"group: the file's groups, not the script's", "Require group wsgi-admins", "192.0.2.1", "GET", "alice", D},
      {"wsgi-group: from WSGIAuthGroupScript", "Require wsgi-group wsgi-admins", "192.0.2.1", "GET", "alice", G},
      {"wsgi-group: not a member", "Require wsgi-group wsgi-admins", "192.0.2.1", "GET", "bob", D},
      {"wsgi-group, nobody authenticated yet", "Require wsgi-group x", "192.0.2.1", "GET", nullptr, U},
      // Arguments Apache's providers ignore, or an empty list that matches nothing.
      {"local ignores arguments", "Require local anything", "127.0.0.1", "GET", nullptr, G},
      {"valid-user ignores arguments", "Require valid-user anything", "192.0.2.1", "GET", "bob", G},
      {"method with no method", "Require method", "192.0.2.1", "GET", nullptr, D},
      {"user with no name", "Require user", "192.0.2.1", "GET", "bob", D},
  };
  for (const EvalRow& row : rows) run(row);
}

TEST_CASE("group providers without a group source deny (Apache: no group file specified)") {
  SectionPolicy s = good_section("Require group admins");
  Request r = request("192.0.2.1", "GET", "alice");
  r.groups = nullptr;
  CHECK(evaluate(*s.require, r) == D);
}

TEST_CASE("containers") {
  const char* any_implicit = "Require ip 10.0.0.0/8\nRequire valid-user";
  const char* all = "<RequireAll>\nRequire ip 10.0.0.0/8\nRequire valid-user\n</RequireAll>";
  const char* all_not = "<RequireAll>\nRequire all granted\nRequire not ip 10.0.0.0/8\n</RequireAll>";
  const char* none_in_all =
      "<RequireAll>\nRequire all granted\n<RequireNone>\nRequire ip 10.0.0.0/8\n</RequireNone>\n"
      "</RequireAll>";
  const char* narrowed = "<RequireAll>\nRequire ip 10.0.0.0/8\nRequire not ip 10.1.0.0/16\n</RequireAll>";
  const char* nested =
      "<RequireAll>\n<RequireAny>\nRequire ip 10.0.0.0/8\nRequire ip 192.0.2.0/24\n</RequireAny>\n"
      "Require method GET\n</RequireAll>";
  const char* demorgan =
      "<RequireAll>\nRequire ip 10.0.0.0/8\n<RequireNone>\nRequire ip 10.1.0.0/16\n"
      "Require user mallory\n</RequireNone>\n</RequireAll>";
  const EvalRow rows[] = {
      // Several Require lines are an implicit <RequireAny>: one grant is enough.
      {"implicit any: ip grants", any_implicit, "10.0.0.1", "GET", nullptr, G},
      // ...and a denial plus "no user yet" asks for a user (DENIED_NO_USER wins over DENIED in an OR).
      {"implicit any: needs a user", any_implicit, "192.0.2.1", "GET", nullptr, U},
      {"implicit any: user grants", any_implicit, "192.0.2.1", "GET", "bob", G},
      // <RequireAll>: one denial denies; a grant and "no user yet" asks for a user.
      {"all: needs a user", all, "10.0.0.1", "GET", nullptr, U},
      {"all: wrong network denies before any user", all, "192.0.2.1", "GET", nullptr, D},
      {"all: both", all, "10.0.0.1", "GET", "bob", G},
      {"all: wrong network with a user", all, "192.0.2.1", "GET", "bob", D},
      // The manual's "Require all granted + Require not ip" example: everyone but that network.
      {"all with not: the excluded network", all_not, "10.0.0.1", "GET", nullptr, D},
      {"all with not: anyone else", all_not, "192.0.2.1", "GET", nullptr, G},
      // <RequireNone> inside <RequireAll>: refuses what it matches.
      {"none in all: matched", none_in_all, "10.9.9.9", "GET", nullptr, D},
      {"none in all: not matched", none_in_all, "192.0.2.1", "GET", nullptr, G},
      // A negation only narrows: "not" of a denial is neutral, never a grant.
      {"narrowed: inside the hole", narrowed, "10.1.2.3", "GET", nullptr, D},
      {"narrowed: inside the network", narrowed, "10.2.0.1", "GET", nullptr, G},
      {"narrowed: outside", narrowed, "192.0.2.1", "GET", nullptr, D},
      {"nested any in all", nested, "192.0.2.5", "GET", nullptr, G},
      {"nested any in all: method fails", nested, "192.0.2.5", "POST", nullptr, D},
      {"nested any in all: address fails", nested, "198.51.100.1", "GET", nullptr, D},
      // <RequireNone> flattened by De Morgan into its parent <RequireAll>.
      {"de morgan: allowed network, nobody", demorgan, "10.2.0.1", "GET", nullptr, G},
      {"de morgan: the refused network", demorgan, "10.1.0.1", "GET", nullptr, D},
      {"de morgan: the refused user", demorgan, "10.2.0.1", "GET", "mallory", D},
      {"de morgan: another user", demorgan, "10.2.0.1", "GET", "bob", G},
  };
  for (const EvalRow& row : rows) run(row);
}

TEST_CASE("<Limit> and <LimitExcept>: the limited mask") {
  const char* limit_post = "<Limit POST>\nRequire valid-user\n</Limit>";
  const char* except_get = "<LimitExcept GET>\nRequire ip 10.0.0.0/8\n</LimitExcept>";
  const char* mixed = "Require ip 10.0.0.0/8\n<Limit POST>\nRequire valid-user\n</Limit>";
  const char* in_all =
      "<RequireAll>\nRequire ip 10.0.0.0/8\n<Limit POST>\nRequire valid-user\n</Limit>\n</RequireAll>";
  const EvalRow rows[] = {
      // A method no Require line covers is granted at the top (parent AND).
      {"limit: other methods pass", limit_post, "192.0.2.1", "GET", nullptr, G},
      {"limit: POST needs a user", limit_post, "192.0.2.1", "POST", nullptr, U},
      {"limit except: GET passes", except_get, "192.0.2.1", "GET", nullptr, G},
      {"limit except: HEAD is GET", except_get, "192.0.2.1", "HEAD", nullptr, G},
      {"limit except: POST checked", except_get, "192.0.2.1", "POST", nullptr, D},
      {"limit except: unknown methods checked", except_get, "192.0.2.1", "BREW", nullptr, D},
      {"limit except: POST from the network", except_get, "10.0.0.1", "POST", nullptr, G},
      // Under an OR, a line limited to other methods is neutral: the ip line decides GET.
      {"mixed: GET by address", mixed, "192.0.2.1", "GET", nullptr, D},
      {"mixed: POST may also log in", mixed, "192.0.2.1", "POST", nullptr, U},
      // Under an AND, a line limited to other methods is granted.
      {"in all: GET by address only", in_all, "10.0.0.1", "GET", nullptr, G},
      {"in all: POST needs the user too", in_all, "10.0.0.1", "POST", nullptr, U},
  };
  for (const EvalRow& row : rows) run(row);
}

TEST_CASE("tree shape: same-kind containers are spliced, others nest") {
  SectionPolicy any = good_section("<RequireAny>\nRequire ip 10.0.0.1\nRequire ip 10.0.0.2\n</RequireAny>");
  REQUIRE(any.require);
  CHECK(describe(*any.require) == "<RequireAny>");
  REQUIRE(any.require->children.size() == 2);
  CHECK(describe(any.require->children[0]) == "Require ip 10.0.0.1");
  SectionPolicy all = good_section(
      "<RequireAll>\nRequire all granted\n<RequireAll>\nRequire not ip 10.0.0.1\n</RequireAll>\n</RequireAll>");
  REQUIRE(all.require->children.size() == 1);
  const RequireNode& outer = all.require->children[0];
  CHECK(describe(outer) == "<RequireAll>");
  REQUIRE(outer.children.size() == 2);
  CHECK(describe(outer.children[1]) == "Require not ip 10.0.0.1");
  SectionPolicy none = good_section(
      "<RequireAll>\nRequire all granted\n<RequireNone>\nRequire ip 10.0.0.1\nRequire user x\n"
      "</RequireNone>\n</RequireAll>");
  const RequireNode& flat = none.require->children[0];
  REQUIRE(flat.children.size() == 3);  // De Morgan: the None's lines, negated, in the All
  CHECK(describe(flat.children[1]) == "Require not ip 10.0.0.1");
  CHECK(describe(flat.children[2]) == "Require not user x");
  CHECK_FALSE(good_section("AuthType Basic").require.has_value());
}

TEST_CASE("errors while building, in Apache's words") {
  struct Row {
    const char* config;
    const char* error;
  };
  const Row rows[] = {
      {"Require not ip 10.0.0.1", "negative Require directive has no effect in <RequireAny> directive"},
      {"<RequireAny>\nRequire all granted\nRequire not ip 10.0.0.1\n</RequireAny>",
       "negative Require directive has no effect in <RequireAny> directive"},
      {"<RequireAll>\nRequire all granted\n<RequireNone>\nRequire not ip 10.0.0.1\n</RequireNone>\n</RequireAll>",
       "negative Require directive has no effect in <RequireNone> directive"},
      {"<RequireNone>\nRequire ip 10.0.0.1\n</RequireNone>",
       "<RequireNone> directive has no effect in <RequireAny> directive"},
      {"<RequireAny>\n<RequireNone>\nRequire ip 10.0.0.1\n</RequireNone>\n</RequireAny>",
       "<RequireNone> directive has no effect in <RequireAny> directive"},
      {"<RequireAll>\n</RequireAll>", "<RequireAll> directive contains no authorization directives"},
      {"<RequireNone>\n</RequireNone>", "<RequireNone> directive contains no authorization directives"},
      {"<RequireAll>\nRequire not ip 10.0.0.1\n</RequireAll>",
       "<RequireAll> directive contains only negative authorization directives"},
      {"<RequireAll>\nRequire not ip 10.0.0.1\nRequire not user x\n</RequireAll>",
       "<RequireAll> directive contains only negative authorization directives"},
      {"<RequireAll foo>\nRequire all granted\n</RequireAll>",
       "<RequireAll> directive doesn't take additional arguments"},
      {"Require all maybe", "Argument for 'Require all' must be 'granted' or 'denied'"},
      {"Require all granted please", "Argument for 'Require all' must be 'granted' or 'denied'"},
      {"Require ip", "'require ip' requires an argument"},
      {"Require ip 10.0.0.1 10.0.0.300",
       "Require ip: '10.0.0.300' is not an IP address (10.0.0.1), a partial address (10.1), a "
       "CIDR (10.0.0.0/8) or a netmask (10.0.0.0/255.0.0.0)"},
      {"Require method GET FETCH", "Invalid Method 'FETCH'"},
      {"Require", "Unknown Authz provider: "},
      {"Require not", "Unknown Authz provider: "},
      {"Require All granted", "Unknown Authz provider: All (did you mean 'all'?)"},
      {"Require ssl", "Unknown Authz provider: ssl"},
      {"Require ldap-group cn=admins", "Require ldap-group is not supported: wsgid has no LDAP provider"},
      {"Require user %{REMOTE_ADDR}",
       "Require user: '%{REMOTE_ADDR}' is an expression (%{...}), which wsgid does not "
       "evaluate; list the names"},
      {"<RequireAll>\nOrder allow,deny\nRequire all granted\n</RequireAll>", "Order not allowed here"},
      {"<RequireAll>\nAllowMethods GET\nRequire all granted\n</RequireAll>", "AllowMethods not allowed here"},
      {"<RequireAll>\nRequire all granted", "<RequireAll> section not closed"},
      {"</RequireAll>", "</RequireAll> without matching <RequireAll> section"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.config);
    wsgid::Result<SectionPolicy> s = section(row.config);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.status().message() == row.error);
  }
}

TEST_CASE("refused providers say why") {
  const char* refused[] = {"env", "host", "forward-dns", "expr", "file-owner", "file-group",
                           "dbm-group", "dbd-group"};
  for (const char* p : refused) {
    CAPTURE(p);
    wsgid::Result<SectionPolicy> s = section(std::string("Require ") + p + " x");
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.status().message().rfind(std::string("Require ") + p + " is not supported: ", 0) == 0);
    // Negated, the same refusal (never "has no effect", which would hide it).
    wsgid::Result<SectionPolicy> n =
        section(std::string("<RequireAll>\nRequire all granted\nRequire not ") + p + " x\n</RequireAll>");
    REQUIRE_FALSE(n.is_ok());
    CHECK(n.status().message().rfind(std::string("Require ") + p + " is not supported: ", 0) == 0);
  }
}

TEST_CASE("<Limit> errors, as ap_limit_section words them") {
  struct Row {
    const char* config;
    const char* error;
  };
  const Row rows[] = {
      {"<Limit>\nRequire all denied\n</Limit>", "<Limit> directive requires additional arguments"},
      {"<Limit TRACE>\nRequire all denied\n</Limit>", "TRACE cannot be controlled by <Limit>, see TraceEnable"},
      {"<Limit GET>\n<Limit POST>\nRequire all denied\n</Limit>\n</Limit>", "<Limit> directive excludes all methods"},
      {"<Limit GET>\n<Limit GET>\nRequire all denied\n</Limit>\n</Limit>",
       "<Limit> directive specifies methods already excluded"},
      {"<LimitExcept GET>\n<LimitExcept GET>\nRequire all denied\n</LimitExcept>\n</LimitExcept>",
       "<LimitExcept> directive specifies methods already excluded"},
      {"<Limit GET>\nRequire all denied\n</LimitExcept>", "</LimitExcept> without matching <LimitExcept> section"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.config);
    wsgid::Result<SectionPolicy> s = section(row.config);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.status().message() == row.error);
  }
  // Allowed: TRACE in <LimitExcept>, a narrower <Limit> inside a <LimitExcept>.
  CHECK(section("<LimitExcept TRACE GET>\nRequire all denied\n</LimitExcept>").is_ok());
  CHECK(section("<LimitExcept GET>\n<Limit POST>\nRequire all denied\n</Limit>\n</LimitExcept>").is_ok());
}

TEST_CASE("RequireBuilder driven directly, as the section builder drives it") {
  RequireBuilder b;
  CHECK(b.add_require({"ip", "10.0.0.0/8"}, MethodSet::all()).is_ok());
  b.open(Container::kAll);
  CHECK(b.in_container());
  CHECK(b.add_require({"valid-user"}, MethodSet::only({"POST"})).is_ok());
  CHECK(b.add_require({"not", "user", "mallory"}, MethodSet::only({"POST"})).is_ok());
  CHECK(b.close().is_ok());
  CHECK_FALSE(b.in_container());
  CHECK_FALSE(b.close().is_ok());  // nothing open
  wsgid::Result<std::optional<RequireNode>> tree = b.finish();
  REQUIRE(tree.is_ok());
  REQUIRE(tree->has_value());
  const RequireNode& root = **tree;
  CHECK(root.limited == MethodSet::all());
  REQUIRE(root.children.size() == 2);
  CHECK(root.children[1].limited == MethodSet::only({"POST"}));
  CHECK(evaluate(root, request("192.0.2.1", "POST", "bob")) == G);
  CHECK(evaluate(root, request("192.0.2.1", "POST", "mallory")) == D);
  // The <RequireAll> is limited to POST: for GET it is neutral under the implicit OR.
  CHECK(evaluate(root, request("192.0.2.1", "GET", "bob")) == D);
  // finish() left the builder empty.
  wsgid::Result<std::optional<RequireNode>> again = b.finish();
  REQUIRE(again.is_ok());
  CHECK_FALSE(again->has_value());
}

TEST_CASE("the Authorization Containers example of mod_authz_core's manual") {
  // The manual's tree, with its LDAP groups (which wsgid refuses, see below)
  // read from WSGIAuthGroupScript instead: superadmin, or (admins and
  // Administrators and (sales or dept-sales)), and in neither temps nor
  // TemporaryEmployees.
  const char* tree =
      "<RequireAll>\n"
      "<RequireAny>\n"
      "Require user superadmin\n"
      "<RequireAll>\n"
      "Require group admins\n"
      "Require wsgi-group Administrators\n"
      "<RequireAny>\n"
      "Require group sales\n"
      "Require wsgi-group dept-sales\n"
      "</RequireAny>\n"
      "</RequireAll>\n"
      "</RequireAny>\n"
      "<RequireNone>\n"
      "Require group temps\n"
      "Require wsgi-group TemporaryEmployees\n"
      "</RequireNone>\n"
      "</RequireAll>\n";
  SectionPolicy s = good_section(tree, "<Directory /www/mydocs>");
  struct Row {
    const char* user;
    std::vector<std::string> file_groups;
    std::vector<std::string> script_groups;
    AuthzStatus want;
  };
  const Row rows[] = {
      {"superadmin", {}, {}, G},
      {"ann", {"admins", "sales"}, {"Administrators"}, G},
      {"bob", {"admins", "sales"}, {}, D},                      // not an Administrator
      {"cat", {"admins"}, {"Administrators", "dept-sales"}, G}, // sales by the other source
      {"dan", {"admins", "sales", "temps"}, {"Administrators"}, D},
      {"eve", {"admins", "sales"}, {"Administrators", "TemporaryEmployees"}, D},
      {"superadmin", {"temps"}, {}, D},                         // RequireNone binds superadmin too
      {"fay", {"sales"}, {"Administrators"}, D},                // not in admins
  };
  for (const Row& row : rows) {
    CAPTURE(row.user);
    Request r = request("192.0.2.1", "GET", row.user);
    r.groups = [&row](GroupSource source, std::string_view) -> wsgid::Result<std::vector<std::string>> {
      return source == GroupSource::kGroupFile ? row.file_groups : row.script_groups;
    };
    CHECK(to_string(evaluate(*s.require, r)) == to_string(row.want));
  }
  CHECK(evaluate(*s.require, request("192.0.2.1")) == U);
  // The manual's own text names LDAP providers: refused, never ignored.
  wsgid::Result<SectionPolicy> ldap = section(
      "<RequireAll>\nRequire group admins\nRequire ldap-group \"cn=Administrators,o=Airius\"\n</RequireAll>");
  REQUIRE_FALSE(ldap.is_ok());
  CHECK(ldap.status().message() == "Require ldap-group is not supported: wsgid has no LDAP provider");
}
