#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/rewrite/rewrite.h"

namespace rw = wsgid::rewrite;
using Kind = rw::Outcome::Kind;

namespace {

struct Directive {
  const char* name;
  std::vector<std::string> args;
};

std::string text(const Directive& d) {
  std::string s = d.name;
  for (const std::string& a : d.args) s += " " + a;
  return s;
}

struct Req {
  const char* path = "/";
  const char* query = nullptr;  // nullptr: no '?'
  bool https = false;
  const char* host = "www.example.org";  // Host header and SERVER_NAME
  unsigned port = 80;
  const char* method = "GET";
};

rw::RequestView view(const Req& q, const rw::HeaderList* headers) {
  rw::RequestView r;
  r.path = q.path;
  if (q.query) {
    r.query = q.query;
    r.has_query = true;
  }
  r.https = q.https;
  r.server_name = q.host;
  r.server_port = q.port;
  r.method = q.method;
  r.remote_addr = "192.0.2.7";
  r.headers = headers;
  return r;
}

rw::RewriteRules load(const std::vector<Directive>& config) {
  rw::RewriteRules rules;
  int tag = 0;
  for (const Directive& d : config) {
    wsgid::Status s = rules.add(d.name, d.args, ++tag);
    std::string line = text(d) + ": " + s.message();
    CAPTURE(line);
    REQUIRE(s.is_ok());
  }
  return rules;
}

}  // namespace

TEST_CASE("mod_rewrite directives: Apache's errors") {
  struct Case {
    Directive d;
    const char* error;
  };
  const Case cases[] = {
      {{"RewriteEngine", {"on"}}, ""},
      {{"RewriteEngine", {"Off"}}, ""},
      {{"RewriteEngine", {"yes"}}, "RewriteEngine must be On or Off"},
      {{"RewriteEngine", {}}, "RewriteEngine must be On or Off"},
      {{"RewriteCond", {"%{HTTPS}"}}, "RewriteCond: bad argument line: at least two arguments required"},
      {{"RewriteRule", {"^/x"}}, "RewriteRule: bad argument line: at least two arguments required"},
      {{"RewriteCond", {"%{HTTPS}", "off", "NC"}}, "RewriteCond: bad flag delimiters"},
      {{"RewriteRule", {"^/x", "-", "[F"}}, "RewriteRule: bad flag delimiters"},
      {{"RewriteCond", {"%{HTTPS}", "off", "[NC,XX]"}}, "RewriteCond: unknown flag 'XX'"},
      {{"RewriteRule", {"^/x", "-", "[F,Q]"}}, "RewriteRule: unknown flag 'Q'"},
      {{"RewriteRule", {"^/x", "http://y/", "[R=299]"}},
       "RewriteRule: invalid HTTP response code '299' for flag 'R'"},
      {{"RewriteRule", {"^/x", "http://y/", "[R=sometimes]"}},
       "RewriteRule: invalid HTTP response code 'sometimes' for flag 'R'"},
      {{"RewriteCond", {"%{HTTP_HOST}", "^(www"}},
       "RewriteCond: cannot compile regular expression '^(www' (missing closing parenthesis at "
       "offset 5 of '^(www')"},
      {{"RewriteRule", {"^/(x", "http://y/", "[R]"}},
       "RewriteRule: cannot compile regular expression '^/(x' (missing closing parenthesis at "
       "offset 4 of '^/(x')"},
      {{"RewriteOptions", {"Inherit"}}, ""},
      {{"RewriteOptions", {"Sideways"}}, "RewriteOptions: unknown option 'Sideways'"},
      {{"RewriteOptions", {}}, "RewriteOptions requires at least one argument"},
      {{"RewriteBase", {"/app"}}, "RewriteBase: only valid in per-directory config files"},
  };
  for (const Case& c : cases) {
    std::string line = text(c.d);
    CAPTURE(line);
    rw::RewriteRules rules;
    CHECK(rules.add(c.d.name, c.d.args).message() == c.error);
  }
  CHECK(rw::RewriteRules::per_directory_refusal("RewriteRule", "Directory") ==
        "RewriteRule in <Directory>: Apache would apply it in per-directory context, after the "
        "URL is mapped to a file, matching the path relative to the directory; wsgid implements "
        "mod_rewrite only at server and <VirtualHost> level");
  CHECK(rw::RewriteRules::handles("rewriterule"));
  CHECK(rw::RewriteRules::handles("RewriteMap"));
  CHECK_FALSE(rw::RewriteRules::handles("Redirect"));
}

TEST_CASE("what wsgid refuses under RewriteEngine On, with what Apache would have done") {
  struct Case {
    std::vector<Directive> config;  // RewriteEngine On is added first
    const char* refusal;
  };
  const Case cases[] = {
      {{{"RewriteRule", {"^/old$", "/new"}}},
       "RewriteRule ^/old$ /new: Apache would rewrite the request internally to '/new'; wsgid "
       "only redirects ([R] or an absolute URL) or answers [F]/[G]"},
      {{{"RewriteRule", {"^/(.*)$", "/index.php?q=$1", "[L,QSA]"}}},
       "RewriteRule ^/(.*)$ /index.php?q=$1 [L,QSA]: Apache would rewrite the request "
       "internally to '/index.php?q=$1'; wsgid only redirects ([R] or an absolute URL) or "
       "answers [F]/[G]"},
      {{{"RewriteRule", {"^/api/(.*)", "http://backend:8000/$1", "[P]"}}},
       "RewriteRule ^/api/(.*) http://backend:8000/$1 [P]: Apache would proxy the request "
       "through mod_proxy ([P]); wsgid does not implement that"},
      {{{"RewriteRule", {"^/a", "/b", "[PT]"}}},
       "RewriteRule ^/a /b [PT]: Apache would pass the rewritten URL on to Alias and the other "
       "URL mappers ([PT], an internal rewrite); and would rewrite the request internally to "
       "'/b'; wsgid only redirects ([R] or an absolute URL) or answers [F]/[G]"},
      {{{"RewriteRule", {"^/a", "-", "[E=FOO:1]"}}},
       "RewriteRule ^/a - [E=FOO:1]: Apache would set the environment variable FOO:1 ([E]); "
       "wsgid does not implement that"},
      {{{"RewriteRule", {"^/a", "-", "[CO=c:v:.example.org]"}}},
       "RewriteRule ^/a - [CO=c:v:.example.org]: Apache would set the cookie c:v:.example.org "
       "([CO]); wsgid does not implement that"},
      {{{"RewriteRule", {"\\.php$", "-", "[T=application/x-httpd-php]"}}},
       "RewriteRule \\.php$ - [T=application/x-httpd-php]: Apache would force the MIME type "
       "application/x-httpd-php ([T]); wsgid does not implement that"},
      {{{"RewriteRule", {"^/a", "-", "[H=wsgi-script]"}}},
       "RewriteRule ^/a - [H=wsgi-script]: Apache would force the handler wsgi-script ([H]); "
       "wsgid does not implement that"},
      {{{"RewriteRule", {"^/a", "-", "[S=2]"}}},
       "RewriteRule ^/a - [S=2]: Apache would skip the next 2 rule(s) ([S]); wsgid does not "
       "implement that"},
      {{{"RewriteRule", {"^/a", "-", "[N]"}}},
       "RewriteRule ^/a - [N]: Apache would run the rule set again on the rewritten URL ([N]); "
       "wsgid does not implement that"},
      {{{"RewriteRule", {"^/a", "-", "[C]"}}},
       "RewriteRule ^/a - [C]: Apache would chain this rule to the next one ([C]); wsgid does "
       "not implement that"},
      {{{"RewriteRule", {"^/(.*)", "http://x/$1", "[B,R]"}}},
       "RewriteRule ^/(.*) http://x/$1 [B,R]: Apache would escape the back-references ([B]); "
       "wsgid does not implement that"},
      {{{"RewriteMap", {"lc", "int:tolower"}}},
       "RewriteMap lc int:tolower: Apache would define a lookup map for ${map:key} in rules; "
       "wsgid does not implement RewriteMap"},
      {{{"RewriteRule", {"^/(.*)", "http://x/${lc:$1}", "[R]"}}},
       "RewriteRule ^/(.*) http://x/${lc:$1} [R]: Apache would look up ${lc:$1} in a "
       "RewriteMap, which wsgid does not implement"},
      {{{"RewriteRule", {"^/(.*)", "http://x/%{ENV:HOME}", "[R]"}}},
       "RewriteRule ^/(.*) http://x/%{ENV:HOME} [R]: Apache would expand %{ENV:HOME}, a "
       "variable wsgid does not provide to rewrite rules"},
      {{{"RewriteCond", {"%{REQUEST_FILENAME}", "!-f"}}, {"RewriteRule", {"^", "http://x/", "[R]"}}},
       "RewriteCond %{REQUEST_FILENAME} !-f: Apache would test the file system or run a "
       "sub-request (-f); wsgid does not implement file tests in RewriteCond"},
      {{{"RewriteCond", {"%{REQUEST_URI}", "-d"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       "RewriteCond %{REQUEST_URI} -d: Apache would test the file system or run a sub-request "
       "(-d); wsgid does not implement file tests in RewriteCond"},
      {{{"RewriteCond", {"expr", "%{HTTPS} == 'on'"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       "RewriteCond expr %{HTTPS} == 'on': Apache would evaluate an ap_expr expression; wsgid "
       "does not implement expr conditions"},
      {{{"RewriteCond", {"%{TIME_HOUR}", "<06"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       "RewriteCond %{TIME_HOUR} <06: Apache would expand %{TIME_HOUR}, a variable wsgid does "
       "not provide to rewrite rules"},
      {{{"RewriteOptions", {"AllowAnyURI"}}},
       "RewriteOptions AllowAnyURI: Apache would change how rules are inherited or matched; "
       "wsgid implements only RewriteOptions Inherit and InheritBefore"},
  };
  for (const Case& c : cases) {
    std::vector<Directive> config = {{"RewriteEngine", {"On"}}};
    config.insert(config.end(), c.config.begin(), c.config.end());
    std::string first = text(c.config[0]);
    CAPTURE(first);
    rw::RewriteRules rules = load(config);
    std::vector<rw::Refusal> refusals = rules.refusals();
    REQUIRE(refusals.size() == 1);
    CHECK(refusals[0].message == c.refusal);
    CHECK(refusals[0].tag == 2);  // the line after RewriteEngine
    CHECK(rules.rule_count() == 0);  // a refused rule is never run

    // With the engine off, Apache runs none of it: nothing to refuse.
    config[0].args = {"Off"};
    CHECK(load(config).refusals().empty());
  }
}

TEST_CASE("RewriteRule flags, back-references, conditions: the outcome per request") {
  struct Case {
    const char* what;
    std::vector<Directive> config;  // RewriteEngine On is added first
    Req req;
    Kind kind;
    int status;
    const char* location;
  };
  const Case cases[] = {
      // The stock "http to https" idioms.
      {"https idiom 1 on http",
       {{"RewriteCond", {"%{HTTPS}", "off"}},
        {"RewriteRule", {"(.*)", "https://%{HTTP_HOST}%{REQUEST_URI}", "[R=301,L]"}}},
       {.path = "/shop/cart", .query = "id=3"}, Kind::kRedirect, 301,
       "https://www.example.org/shop/cart?id=3"},
      {"https idiom 1 on https",
       {{"RewriteCond", {"%{HTTPS}", "off"}},
        {"RewriteRule", {"(.*)", "https://%{HTTP_HOST}%{REQUEST_URI}", "[R=301,L]"}}},
       {.path = "/shop/cart", .https = true, .port = 443}, Kind::kNone, 0, ""},
      {"https idiom 2 on http",
       {{"RewriteCond", {"%{HTTPS}", "!=on"}},
        {"RewriteRule", {"^/?(.*)", "https://%{SERVER_NAME}/$1", "[R,L]"}}},
       {.path = "/a/b"}, Kind::kRedirect, 302, "https://www.example.org/a/b"},
      {"https idiom 2 on https",
       {{"RewriteCond", {"%{HTTPS}", "!=on"}},
        {"RewriteRule", {"^/?(.*)", "https://%{SERVER_NAME}/$1", "[R,L]"}}},
       {.path = "/a/b", .https = true, .port = 443}, Kind::kNone, 0, ""},
      {"forbid", {{"RewriteRule", {"^/secret", "-", "[F]"}}}, {.path = "/secret/key.pem"},
       Kind::kForbidden, 403, ""},
      {"forbid misses", {{"RewriteRule", {"^/secret", "-", "[F]"}}}, {.path = "/public/secret"},
       Kind::kNone, 0, ""},
      {"gone", {{"RewriteRule", {"^/old/", "-", "[G]"}}}, {.path = "/old/x"}, Kind::kGone, 410, ""},
      {"gone, long forms", {{"RewriteRule", {"^/old/", "-", "[gone,last]"}}}, {.path = "/old/x"},
       Kind::kGone, 410, ""},
      {"forbidden, long form", {{"RewriteRule", {"^/x", "-", "[forbidden]"}}}, {.path = "/x"},
       Kind::kForbidden, 403, ""},
      {"R=404 is a status rule", {{"RewriteRule", {"^/x", "-", "[R=404]"}}}, {.path = "/x"},
       Kind::kStatus, 404, ""},
      // R statuses and spellings.
      {"R=permanent", {{"RewriteRule", {"^/a$", "/b", "[R=permanent]"}}}, {.path = "/a"},
       Kind::kRedirect, 301, "http://www.example.org/b"},
      {"R=temp", {{"RewriteRule", {"^/a$", "/b", "[redirect=temp]"}}}, {.path = "/a"},
       Kind::kRedirect, 302, "http://www.example.org/b"},
      {"R=seeother", {{"RewriteRule", {"^/a$", "/b", "[R=seeother]"}}}, {.path = "/a"},
       Kind::kRedirect, 303, "http://www.example.org/b"},
      {"R=308", {{"RewriteRule", {"^/a$", "/b", "[R=308]"}}}, {.path = "/a"}, Kind::kRedirect,
       308, "http://www.example.org/b"},
      {"R, relative substitution, non-default port",
       {{"RewriteRule", {"^/a$", "b", "[R]"}}}, {.path = "/a", .port = 8080}, Kind::kRedirect,
       302, "http://www.example.org:8080/b"},
      {"absolute URL without R is a 302",
       {{"RewriteRule", {"^/(.*)$", "http://other.example/$1"}}}, {.path = "/x"},
       Kind::kRedirect, 302, "http://other.example/x"},
      {"absolute URL naming this server: Apache would rewrite internally",
       {{"RewriteRule", {"^/(.*)$", "http://www.example.org/new/$1"}}}, {.path = "/x"},
       Kind::kServerError, 500, ""},
      {"absolute https URL from an http request is not this server",
       {{"RewriteRule", {"^/(.*)$", "https://www.example.org/$1"}}}, {.path = "/x"},
       Kind::kRedirect, 302, "https://www.example.org/x"},
      // NC.
      {"NC", {{"RewriteRule", {"^/ADMIN", "-", "[NC,F]"}}}, {.path = "/admin/x"},
       Kind::kForbidden, 403, ""},
      {"nocase", {{"RewriteRule", {"^/ADMIN", "-", "[nocase,F]"}}}, {.path = "/Admin"},
       Kind::kForbidden, 403, ""},
      {"without NC", {{"RewriteRule", {"^/ADMIN", "-", "[F]"}}}, {.path = "/admin"}, Kind::kNone,
       0, ""},
      {"negated pattern", {{"RewriteRule", {"!^/public/", "-", "[F]"}}}, {.path = "/private"},
       Kind::kForbidden, 403, ""},
      // Back-references: $N from the rule, %N from the last matched condition.
      {"$N and %N",
       {{"RewriteCond", {"%{HTTP_HOST}", "^(www\\.)?(.+)$"}},
        {"RewriteRule", {"^/user/([a-z]+)/(\\d+)$", "https://%2/u/$1?id=$2", "[R=301]"}}},
       {.path = "/user/bob/42"}, Kind::kRedirect, 301, "https://example.org/u/bob?id=42"},
      {"$0 and an unset group",
       {{"RewriteRule", {"^/(x)?y(.*)$", "http://n/[$1]$0", "[R]"}}}, {.path = "/y1"},
       Kind::kRedirect, 302, "http://n/%5B%5D/y1"},
      {"escaped $ and %",
       {{"RewriteRule", {"^/(a)$", "http://n/\\$1\\%1", "[R,NE]"}}}, {.path = "/a"},
       Kind::kRedirect, 302, "http://n/$1%1"},
      // Query strings: kept, replaced, QSA, QSD, a trailing '?'.
      {"query kept", {{"RewriteRule", {"^/a$", "http://n/b", "[R]"}}},
       {.path = "/a", .query = "x=1"}, Kind::kRedirect, 302, "http://n/b?x=1"},
      {"query replaced", {{"RewriteRule", {"^/a$", "http://n/b?y=2", "[R]"}}},
       {.path = "/a", .query = "x=1"}, Kind::kRedirect, 302, "http://n/b?y=2"},
      {"QSA", {{"RewriteRule", {"^/a$", "http://n/b?y=2", "[R,QSA]"}}},
       {.path = "/a", .query = "x=1"}, Kind::kRedirect, 302, "http://n/b?y=2&x=1"},
      {"qsappend without a query", {{"RewriteRule", {"^/a$", "http://n/b?y=2", "[R,qsappend]"}}},
       {.path = "/a"}, Kind::kRedirect, 302, "http://n/b?y=2"},
      {"QSD", {{"RewriteRule", {"^/a$", "http://n/b", "[R,QSD]"}}},
       {.path = "/a", .query = "x=1"}, Kind::kRedirect, 302, "http://n/b"},
      {"qsdiscard", {{"RewriteRule", {"^/a$", "http://n/b", "[R,qsdiscard]"}}},
       {.path = "/a", .query = "x=1"}, Kind::kRedirect, 302, "http://n/b"},
      {"QSD with a new query", {{"RewriteRule", {"^/a$", "http://n/b?y=2", "[R,QSD,QSA]"}}},
       {.path = "/a", .query = "x=1"}, Kind::kRedirect, 302, "http://n/b?y=2"},
      {"QSL splits at the last '?', a '?' from $1 stays in the path",
       {{"RewriteRule", {"^/a/(.*)$", "http://n/$1?z", "[R,QSL]"}}}, {.path = "/a/p?q"},
       Kind::kRedirect, 302, "http://n/p%3Fq?z"},
      {"qslast", {{"RewriteRule", {"^/a/(.*)$", "http://n/$1?z", "[R,qslast]"}}},
       {.path = "/a/p?q"}, Kind::kRedirect, 302, "http://n/p%3Fq?z"},
      {"trailing ? with QSA keeps the query",
       {{"RewriteRule", {"^/a$", "http://n/b?", "[R,QSA]"}}}, {.path = "/a", .query = "x=1"},
       Kind::kRedirect, 302, "http://n/b?x=1"},
      {"flags with no effect in server context",
       {{"RewriteCond", {"%{HTTP_HOST}", "example", "[NV]"}},
        {"RewriteRule", {"^/a$", "http://n/", "[R,NS,nosubreq,DPI,discardpath,UNC,UnsafePrefixStat]"}}},
       {.path = "/a"}, Kind::kRedirect, 302, "http://n/"},
      {"novary", {{"RewriteCond", {"%{HTTP_HOST}", "example", "[novary,NC]"}},
                  {"RewriteRule", {"^/a$", "-", "[F]"}}},
       {.path = "/a"}, Kind::kForbidden, 403, ""},
      {"trailing ? drops the query", {{"RewriteRule", {"^/a$", "http://n/b?", "[R]"}}},
       {.path = "/a", .query = "x=1"}, Kind::kRedirect, 302, "http://n/b"},
      {"%{QUERY_STRING} in a condition",
       {{"RewriteCond", {"%{QUERY_STRING}", "(^|&)id=(\\d+)"}},
        {"RewriteRule", {"^/item$", "http://n/items/%2?", "[R=301,L]"}}},
       {.path = "/item", .query = "a=b&id=9"}, Kind::kRedirect, 301, "http://n/items/9"},
      // Escaping, and NE.
      {"escaped", {{"RewriteRule", {"^/a/(.*)$", "http://n/b/$1", "[R]"}}},
       {.path = "/a/x y#z"}, Kind::kRedirect, 302, "http://n/b/x%20y%23z"},
      {"NE", {{"RewriteRule", {"^/a$", "http://n/b#frag", "[R,NE]"}}}, {.path = "/a"},
       Kind::kRedirect, 302, "http://n/b#frag"},
      {"without NE '#' is escaped", {{"RewriteRule", {"^/a$", "http://n/b#frag", "[R]"}}},
       {.path = "/a"}, Kind::kRedirect, 302, "http://n/b%23frag"},
      {"noescape, %-escapes kept", {{"RewriteRule", {"^/a$", "http://n/%C3%A9", "[R,noescape]"}}},
       {.path = "/a"}, Kind::kRedirect, 302, "http://n/%C3%A9"},
      {"a new query is escaped", {{"RewriteRule", {"^/a/(.*)$", "http://n/?q=$1", "[R]"}}},
       {.path = "/a/x y"}, Kind::kRedirect, 302, "http://n/?q=x%20y"},
      {"the original query is copied", {{"RewriteRule", {"^/a$", "http://n/", "[R]"}}},
       {.path = "/a", .query = "q=%20"}, Kind::kRedirect, 302, "http://n/?q=%20"},
      {"a '?' from a back-reference: 403",
       {{"RewriteRule", {"^/a/(.*)$", "http://n/$1", "[R]"}}}, {.path = "/a/x?y"},
       Kind::kForbidden, 403, ""},
      {"UnsafeAllow3F", {{"RewriteRule", {"^/a/(.*)$", "http://n/$1", "[R,UnsafeAllow3F]"}}},
       {.path = "/a/x?y"}, Kind::kRedirect, 302, "http://n/x?y"},
      {"a literal '?' first makes it safe",
       {{"RewriteRule", {"^/a/(.*)$", "http://n/?p=$1", "[R]"}}}, {.path = "/a/x?y"},
       Kind::kRedirect, 302, "http://n/?p=x%3Fy"},
      // Condition operators.
      {"=str", {{"RewriteCond", {"%{REQUEST_METHOD}", "=POST"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/", .method = "POST"}, Kind::kForbidden, 403, ""},
      {"=str, no match",
       {{"RewriteCond", {"%{REQUEST_METHOD}", "=POST"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/"}, Kind::kNone, 0, ""},
      {"=str NC",
       {{"RewriteCond", {"%{REQUEST_METHOD}", "=post", "[NC]"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/", .method = "POST"}, Kind::kForbidden, 403, ""},
      {"=\"\" is the empty string",
       {{"RewriteCond", {"%{QUERY_STRING}", "=\"\""}}, {"RewriteRule", {"^/a$", "-", "[F]"}}},
       {.path = "/a"}, Kind::kForbidden, 403, ""},
      {"!=on", {{"RewriteCond", {"%{HTTPS}", "!=on"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/", .https = true}, Kind::kNone, 0, ""},
      {"<: the shorter string is less",
       {{"RewriteCond", {"%{HTTP:X-Level}", "<abc"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/"}, Kind::kForbidden, 403, ""},  // "zz" < "abc" by length, as in Apache
      {">", {{"RewriteCond", {"%{HTTP:X-Level}", ">zy"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/"}, Kind::kForbidden, 403, ""},
      {">=", {{"RewriteCond", {"%{HTTP:X-Level}", ">=zz"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/"}, Kind::kForbidden, 403, ""},
      {"<=", {{"RewriteCond", {"%{HTTP:X-Level}", "<=zy"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/"}, Kind::kNone, 0, ""},
      {"-lt", {{"RewriteCond", {"%{SERVER_PORT}", "-lt1024"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/", .port = 80}, Kind::kForbidden, 403, ""},
      {"-ge", {{"RewriteCond", {"%{SERVER_PORT}", "-ge1024"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/", .port = 80}, Kind::kNone, 0, ""},
      {"-ne", {{"RewriteCond", {"%{SERVER_PORT}", "-ne443"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/", .port = 80}, Kind::kForbidden, 403, ""},
      {"-eq", {{"RewriteCond", {"%{SERVER_PORT}", "-eq80"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/", .port = 80}, Kind::kForbidden, 403, ""},
      {"-gt/-le", {{"RewriteCond", {"%{SERVER_PORT}", "-gt80"}}, {"RewriteCond", {"%{SERVER_PORT}", "-le8080"}},
        {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/", .port = 8080}, Kind::kForbidden, 403, ""},
      {"regex cond NC",
       {{"RewriteCond", {"%{HTTP_USER_AGENT}", "badbot", "[NC]"}}, {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/"}, Kind::kForbidden, 403, ""},
      {"negated regex cond",
       {{"RewriteCond", {"%{HTTP_HOST}", "!^www\\."}}, {"RewriteRule", {"^/(.*)", "http://www.%{HTTP_HOST}/$1", "[R=301]"}}},
       {.path = "/x", .host = "example.org"}, Kind::kRedirect, 301, "http://www.example.org/x"},
      // OR chains.
      {"OR: first true",
       {{"RewriteCond", {"%{HTTP_HOST}", "^www\\.example\\.org$", "[OR]"}},
        {"RewriteCond", {"%{HTTP_HOST}", "^example\\.org$"}},
        {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/"}, Kind::kForbidden, 403, ""},
      {"OR: second true",
       {{"RewriteCond", {"%{HTTP_HOST}", "^nope$", "[OR]"}},
        {"RewriteCond", {"%{HTTP_HOST}", "example\\.org$"}},
        {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/"}, Kind::kForbidden, 403, ""},
      {"OR: none true",
       {{"RewriteCond", {"%{HTTP_HOST}", "^nope$", "[ornext]"}},
        {"RewriteCond", {"%{HTTP_HOST}", "^neither$"}},
        {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/"}, Kind::kNone, 0, ""},
      {"OR chain then AND: AND false",
       {{"RewriteCond", {"%{HTTP_HOST}", "example", "[NC,OR]"}},
        {"RewriteCond", {"%{HTTP_HOST}", "^nope$"}},
        {"RewriteCond", {"%{REQUEST_METHOD}", "=POST"}},
        {"RewriteRule", {"^", "-", "[F]"}}},
       {.path = "/"}, Kind::kNone, 0, ""},
      // Rule order, L, and rules after a redirect without L.
      {"first F wins",
       {{"RewriteRule", {"^/a", "-", "[F]"}}, {"RewriteRule", {"^/a", "http://n/", "[R]"}}},
       {.path = "/a"}, Kind::kForbidden, 403, ""},
      {"L stops",
       {{"RewriteRule", {"^/a", "http://n/one", "[R,L]"}}, {"RewriteRule", {".*", "-", "[F]"}}},
       {.path = "/a"}, Kind::kRedirect, 302, "http://n/one"},
      {"without L the next rule sees the new URL",
       {{"RewriteRule", {"^/a", "http://n/one", "[R]"}},
        {"RewriteRule", {"^http://n/(.*)$", "http://m/$1", "[R=301]"}}},
       {.path = "/a"}, Kind::kRedirect, 301, "http://m/one"},
      {"without L a later F still answers",
       {{"RewriteRule", {"^/a", "http://n/one", "[R]"}}, {"RewriteRule", {"one", "-", "[F]"}}},
       {.path = "/a"}, Kind::kForbidden, 403, ""},
      {"- with no flag changes nothing, the next rule runs",
       {{"RewriteRule", {"^/a", "-"}}, {"RewriteRule", {"^/a", "http://n/", "[R]"}}},
       {.path = "/a"}, Kind::kRedirect, 302, "http://n/"},
      {"- [L] stops",
       {{"RewriteRule", {"^/a", "-", "[L]"}}, {"RewriteRule", {"^/a", "http://n/", "[R]"}}},
       {.path = "/a"}, Kind::kNone, 0, ""},
      {"END is L",
       {{"RewriteRule", {"^/a", "http://n/", "[R,END]"}}, {"RewriteRule", {".", "-", "[F]"}}},
       {.path = "/a"}, Kind::kRedirect, 302, "http://n/"},
      // Variables.
      {"%{HTTP:Header}",
       {{"RewriteCond", {"%{HTTP:X-Forwarded-Proto}", "^http$"}},
        {"RewriteRule", {"^/(.*)", "https://%{SERVER_NAME}/$1", "[R=301,L]"}}},
       {.path = "/p"}, Kind::kRedirect, 301, "https://www.example.org/p"},
      {"%{SERVER_PORT}, %{REQUEST_SCHEME}, %{REMOTE_ADDR}, %{SERVER_PROTOCOL}",
       {{"RewriteRule", {"^/v$", "http://n/%{SERVER_PORT}/%{REQUEST_SCHEME}/%{REMOTE_ADDR}/%{SERVER_PROTOCOL}", "[R]"}}},
       {.path = "/v", .port = 8000}, Kind::kRedirect, 302, "http://n/8000/http/192.0.2.7/HTTP/1.1"},
      {"REQUEST_URI is the decoded path, without the query",
       {{"RewriteRule", {"^", "https://n%{REQUEST_URI}", "[R]"}}},
       {.path = "/a b", .query = "q=1"}, Kind::kRedirect, 302, "https://n/a%20b?q=1"},
      // Not a URL path: left alone.
      {"OPTIONS *", {{"RewriteRule", {".*", "-", "[F]"}}}, {.path = "*"}, Kind::kNone, 0, ""},
  };
  const rw::HeaderList headers = {{"Host", "www.example.org"},
                                  {"User-Agent", "Mozilla/5.0 (BadBot)"},
                                  {"X-Forwarded-Proto", "http"},
                                  {"X-Level", "zz"}};
  for (const Case& c : cases) {
    std::string what = c.what;
    CAPTURE(what);
    std::vector<Directive> config = {{"RewriteEngine", {"On"}}};
    config.insert(config.end(), c.config.begin(), c.config.end());
    rw::RewriteRules rules = load(config);
    REQUIRE(rules.refusals().empty());
    rw::HeaderList h = headers;
    h[0].second = c.req.host;
    rw::Outcome o = rules.evaluate(view(c.req, &h));
    CHECK(o.kind == c.kind);
    CHECK(o.status == c.status);
    CHECK(o.location == c.location);
  }
}

TEST_CASE("the run-time refusals and 403s carry a reason") {
  const rw::HeaderList headers = {{"Host", "www.example.org"}};
  struct Case {
    Directive rule;
    Req req;
    const char* reason;
  };
  const Case cases[] = {
      {{"RewriteRule", {"^/(.*)$", "http://www.example.org/new/$1"}}, {.path = "/x"},
       "RewriteRule ^/(.*)$ http://www.example.org/new/$1: 'http://www.example.org/new/x' names "
       "this server, so Apache would rewrite the request internally to '/new/x' (add [R] to "
       "redirect); wsgid does not rewrite internally"},
      {{"RewriteRule", {"^/a/(.*)$", "http://n/$1", "[R]"}}, {.path = "/a/x?y"},
       "Unsafe URL with %3f URL rewritten without UnsafeAllow3F"},
      {{"RewriteRule", {"^/a$", "http://n/", "[R,NE]"}}, {.path = "/a", .query = "a b"},
       "Rewritten query string contains control characters or spaces"},
  };
  for (const Case& c : cases) {
    std::string line = text(c.rule);
    CAPTURE(line);
    rw::RewriteRules rules = load({{"RewriteEngine", {"On"}}, c.rule});
    CHECK(rules.evaluate(view(c.req, &headers)).reason == c.reason);
  }
}

TEST_CASE("engine off, conditions without a rule, inheritance") {
  const rw::HeaderList headers = {{"Host", "www.example.org"}};
  Req req{.path = "/a"};

  rw::RewriteRules off = load({{"RewriteEngine", {"Off"}}, {"RewriteRule", {"^/a", "-", "[F]"}}});
  CHECK(off.evaluate(view(req, &headers)).kind == Kind::kNone);
  rw::RewriteRules unset = load({{"RewriteRule", {"^/a", "-", "[F]"}}});
  CHECK(unset.evaluate(view(req, &headers)).kind == Kind::kNone);

  // A RewriteCond belongs to the next RewriteRule only.
  rw::RewriteRules conds = load({{"RewriteEngine", {"On"}},
                                 {"RewriteCond", {"%{HTTPS}", "=on"}},
                                 {"RewriteRule", {"^/b", "-", "[F]"}},
                                 {"RewriteRule", {"^/a", "-", "[G]"}}});
  CHECK(conds.evaluate(view(req, &headers)).kind == Kind::kGone);

  rw::RewriteRules server = load({{"RewriteEngine", {"On"}}, {"RewriteRule", {"^/a", "-", "[F]"}}});
  {
    // A vhost inherits the engine state, not the rules.
    rw::RewriteRules vhost = load({{"RewriteRule", {"^/a", "http://n/", "[R]"}}});
    vhost.inherit_from(server);
    CHECK(vhost.engine_on());
    CHECK(vhost.evaluate(view(req, &headers)).kind == Kind::kRedirect);
    CHECK(vhost.rule_count() == 1);
  }
  {
    // Inherit: the server's rules after the vhost's.
    rw::RewriteRules vhost = load({{"RewriteOptions", {"Inherit"}}, {"RewriteRule", {"^/a", "http://n/", "[R,L]"}}});
    vhost.inherit_from(server);
    CHECK(vhost.rule_count() == 2);
    CHECK(vhost.evaluate(view(req, &headers)).kind == Kind::kRedirect);
  }
  {
    // InheritBefore: the server's rules first.
    rw::RewriteRules vhost = load({{"RewriteOptions", {"InheritBefore"}}, {"RewriteRule", {"^/a", "http://n/", "[R,L]"}}});
    vhost.inherit_from(server);
    CHECK(vhost.evaluate(view(req, &headers)).kind == Kind::kForbidden);
  }
  {
    // Inherited refusals: reported by the vhost only when the server's engine is off.
    rw::RewriteRules refused_on = load({{"RewriteEngine", {"On"}}, {"RewriteRule", {"^/a", "/b"}}});
    rw::RewriteRules refused_off = load({{"RewriteEngine", {"Off"}}, {"RewriteRule", {"^/a", "/b"}}});
    rw::RewriteRules v1 = load({{"RewriteEngine", {"On"}}, {"RewriteOptions", {"Inherit"}}});
    v1.inherit_from(refused_on);
    CHECK(v1.refusals().empty());
    CHECK(refused_on.refusals().size() == 1);
    rw::RewriteRules v2 = load({{"RewriteEngine", {"On"}}, {"RewriteOptions", {"Inherit"}}});
    v2.inherit_from(refused_off);
    CHECK(v2.refusals().size() == 1);
    CHECK(refused_off.refusals().empty());
    rw::RewriteRules v3 = load({{"RewriteEngine", {"On"}}});
    v3.inherit_from(refused_off);  // no Inherit: the server's rules do not come
    CHECK(v3.refusals().empty());
  }
  {
    // A vhost's own RewriteEngine Off wins over the server's On.
    rw::RewriteRules vhost = load({{"RewriteEngine", {"Off"}}, {"RewriteRule", {"^/a", "/internal"}}});
    vhost.inherit_from(server);
    CHECK_FALSE(vhost.engine_on());
    CHECK(vhost.refusals().empty());
  }
}
