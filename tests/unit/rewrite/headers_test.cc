#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/rewrite/headers.h"

namespace rw = wsgid::rewrite;
using Origin = rw::HeaderRules::Origin;

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

std::string show(const rw::HeaderList& h) {
  std::string s;
  for (const auto& [k, v] : h) s += k + ": " + v + "\n";
  return s;
}

rw::HeaderRules load(const std::vector<Directive>& config) {
  rw::HeaderRules rules;
  for (const Directive& d : config) {
    wsgid::Status s = rules.add(d.name, d.args);
    std::string line = text(d) + ": " + s.message();
    CAPTURE(line);
    REQUIRE(s.is_ok());
  }
  return rules;
}

}  // namespace

TEST_CASE("Header and RequestHeader: Apache's errors and wsgid's refusals") {
  struct Case {
    Directive d;
    const char* error;
  };
  const Case cases[] = {
      {{"Header", {"set", "X-A", "1"}}, ""},
      {{"Header", {"always", "set", "Strict-Transport-Security", "max-age=63072000; includeSubDomains"}}, ""},
      {{"Header", {"onsuccess", "unset", "Server"}}, ""},
      {{"Header", {"edit", "Location", "^http:", "https:"}}, ""},
      {{"Header", {"edit*", "Set-Cookie", "(?i);\\s*secure", ""}}, ""},
      {{"Header", {"setifempty", "X-A", "1"}}, ""},
      {{"Header", {"set", "X-A:", "100%%"}}, ""},
      {{"RequestHeader", {"unset", "Proxy"}}, ""},
      {{"RequestHeader", {"set", "X-Forwarded-Proto", "https"}}, ""},
      {{"Header", {"replace", "X-A", "1"}},
       "first argument must be 'add', 'set', 'setifempty', 'append', 'merge', 'unset', 'echo', "
       "'note', 'edit', or 'edit*'."},
      {{"RequestHeader", {"always", "set", "X-A", "1"}},
       "first argument must be 'add', 'set', 'setifempty', 'append', 'merge', 'unset', 'echo', "
       "'note', 'edit', or 'edit*'."},
      {{"Header", {}},
       "first argument must be 'add', 'set', 'setifempty', 'append', 'merge', 'unset', 'echo', "
       "'note', 'edit', or 'edit*'."},
      {{"Header", {"edit", "Location", "^http:"}}, "Header edit requires a match and a substitution"},
      {{"Header", {"edit", "Location", "^(http:", "x"}},
       "Header edit regex could not be compiled (missing closing parenthesis at offset 7 of "
       "'^(http:')"},
      {{"Header", {"set", "X-A", "1", "2", "3"}}, "Too many arguments to directive"},
      {{"Header", {"unset", "X-A", "env=FOO", "x"}}, "header unset takes two arguments"},
      {{"Header", {"set", "X-A"}}, "Header requires three arguments"},
      {{"Header", {"always", "edit", "a", "b", "c", "d", "e"}}, "Header has too many arguments"},
      {{"RequestHeader", {"edit", "a", "b", "c", "d", "e"}}, "RequestHeader has too many arguments"},
      {{"Header", {"set", "X-A", "1", "sometimes"}}, "Unknown parameter: sometimes"},
      {{"Header", {"set", "X-A", "%z"}}, "Unrecognized header format %z"},
      {{"Header", {"set", "X-A", "%{FOO}q"}}, "Unrecognized header format %q"},
      {{"Header", {"set", "X-A", "%t"}},
       "the header format %t would have Apache insert request data (time, duration, load, an "
       "environment or SSL variable); wsgid does not implement header formats"},
      {{"Header", {"set", "X-A", "%{HOME}e"}},
       "the header format %e would have Apache insert request data (time, duration, load, an "
       "environment or SSL variable); wsgid does not implement header formats"},
      {{"Header", {"set", "X-A", "a\\nb"}},
       "a header value with a line break would split the header; wsgid refuses it"},
      {{"Header", {"set", "X-A", "1", "env=HTTPS"}},
       "Header ... env=HTTPS: Apache would apply the rule only when the condition holds; wsgid "
       "does not implement env= and expr= conditions"},
      {{"Header", {"always", "set", "X-A", "1", "expr=%{HTTPS} == 'on'"}},
       "Header ... expr=%{HTTPS} == 'on': Apache would apply the rule only when the condition "
       "holds; wsgid does not implement env= and expr= conditions"},
      {{"Header", {"unset", "X-A", "env=!FOO"}},
       "Header ... env=!FOO: Apache would apply the rule only when the condition holds; wsgid "
       "does not implement env= and expr= conditions"},
      {{"RequestHeader", {"set", "X-A", "1", "early"}},
       "RequestHeader ... early: Apache would apply it before the request is mapped; wsgid does "
       "not implement early headers"},
      {{"Header", {"set", "X-A", "expr=%{REMOTE_ADDR}"}},
       "Header X-A expr=...: Apache would compute the value from an expression; wsgid does not "
       "implement value expressions"},
      {{"Header", {"echo", "^X-"}},
       "Header echo: Apache would copy matching request headers into the response; wsgid does "
       "not implement echo"},
      {{"Header", {"note", "X-A", "n"}},
       "Header note: Apache would copy the header into a request note; wsgid does not implement "
       "note"},
  };
  for (const Case& c : cases) {
    std::string line = text(c.d);
    CAPTURE(line);
    rw::HeaderRules rules;
    wsgid::Status s = rules.add(c.d.name, c.d.args);
    CHECK(s.message() == c.error);
    CHECK(rules.empty() == !s.is_ok());
  }
}

TEST_CASE("every action on a handler's response, in order, names without case") {
  struct Case {
    const char* what;
    std::vector<Directive> config;
    rw::HeaderList in;
    rw::HeaderList out;
  };
  const Case cases[] = {
      {"set adds", {{"Header", {"set", "X-Frame-Options", "DENY"}}}, {{"A", "1"}},
       {{"A", "1"}, {"X-Frame-Options", "DENY"}}},
      {"set replaces the first, drops the others",
       {{"Header", {"set", "x-a", "new"}}}, {{"X-A", "1"}, {"B", "2"}, {"x-A", "3"}},
       {{"X-A", "new"}, {"B", "2"}}},
      {"setifempty leaves a present header", {{"Header", {"setifempty", "X-A", "new"}}},
       {{"X-A", "1"}}, {{"X-A", "1"}}},
      {"setifempty sets an absent one", {{"Header", {"setifempty", "X-A", "new"}}}, {},
       {{"X-A", "new"}}},
      {"add always adds", {{"Header", {"add", "Set-Cookie", "b=2"}}}, {{"Set-Cookie", "a=1"}},
       {{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}}},
      {"append joins with a comma", {{"Header", {"append", "Vary", "Accept"}}},
       {{"Vary", "Cookie"}}, {{"Vary", "Cookie, Accept"}}},
      {"append to nothing adds", {{"Header", {"append", "Vary", "Accept"}}}, {},
       {{"Vary", "Accept"}}},
      {"merge skips a present token", {{"Header", {"merge", "Cache-Control", "no-cache"}}},
       {{"Cache-Control", "private, no-cache"}}, {{"Cache-Control", "private, no-cache"}}},
      {"merge adds a missing token", {{"Header", {"merge", "Cache-Control", "no-store"}}},
       {{"Cache-Control", "private"}}, {{"Cache-Control", "private, no-store"}}},
      {"merge compares tokens whole, quotes kept",
       {{"Header", {"merge", "X-L", "\"a,b\""}}}, {{"X-L", "\"a,b\", c"}}, {{"X-L", "\"a,b\", c"}}},
      {"unset removes every one", {{"Header", {"unset", "server"}}},
       {{"Server", "x"}, {"A", "1"}, {"SERVER", "y"}}, {{"A", "1"}}},
      {"edit: first match, $N", {{"Header", {"edit", "Location", "^http://([^/]+)/", "https://$1/"}}},
       {{"Location", "http://h/a/http://h/"}}, {{"Location", "https://h/a/http://h/"}}},
      {"edit*: every match", {{"Header", {"edit*", "X-L", "a", "b"}}}, {{"X-L", "banana"}},
       {{"X-L", "bbnbnb"}}},
      // Empty matches as in pcre2_substitute, but none at the very end: Apache's
      // loop stops when the value is consumed.
      {"edit*: empty matches", {{"Header", {"edit*", "X-L", "x*", "-"}}},
       {{"X-L", "abc"}}, {{"X-L", "-a-b-c"}}},
      {"edit moves the edited headers last", {{"Header", {"edit", "X-L", "1", "one"}}},
       {{"X-L", "1"}, {"A", "a"}, {"X-L", "21"}}, {{"A", "a"}, {"X-L", "one"}, {"X-L", "2one"}}},
      {"edit of an absent header does nothing", {{"Header", {"edit", "X-L", "1", "one"}}},
       {{"A", "a"}}, {{"A", "a"}}},
      {"escapes and %%", {{"Header", {"set", "X-A", "50%% \\t\\\\ \\q"}}}, {},
       {{"X-A", "50% \t\\ \\q"}}},
      {"a final % is a %", {{"Header", {"set", "X-A", "100%"}}}, {}, {{"X-A", "100%"}}},
      {"Name: is Name", {{"Header", {"set", "X-A:", "1"}}}, {}, {{"X-A", "1"}}},
      {"in order: append then unset", {{"Header", {"append", "X-A", "1"}}, {"Header", {"unset", "X-A"}}},
       {}, {}},
      {"in order: unset then append", {{"Header", {"unset", "X-A"}}, {"Header", {"append", "X-A", "1"}}},
       {{"X-A", "0"}}, {{"X-A", "1"}}},
  };
  for (const Case& c : cases) {
    std::string what = c.what;
    CAPTURE(what);
    rw::HeaderRules rules = load(c.config);
    rw::HeaderList got = rules.apply_response(c.in, Origin::kHandler);
    CHECK(show(got) == show(c.out));
  }
}

TEST_CASE("always vs onsuccess, on handler responses and on wsgid's own") {
  rw::HeaderRules rules = load({
      {"Header", {"always", "set", "Strict-Transport-Security", "max-age=31536000"}},
      {"Header", {"set", "X-Content-Type-Options", "nosniff"}},
      {"Header", {"always", "unset", "X-Powered-By"}},
      {"Header", {"always", "set", "X-Frame-Options", "DENY"}},
  });
  struct Case {
    const char* what;
    Origin origin;
    rw::HeaderList in;
    rw::HeaderList out;
  };
  const Case cases[] = {
      // The always list comes first; onsuccess rules act on the handler's own headers.
      {"application response", Origin::kHandler, {{"Content-Type", "text/html"}},
       {{"Strict-Transport-Security", "max-age=31536000"},
        {"X-Frame-Options", "DENY"},
        {"Content-Type", "text/html"},
        {"X-Content-Type-Options", "nosniff"}}},
      // always rules cannot touch the application's headers: both X-Frame-Options
      // go out, and X-Powered-By stays (Apache's err_headers_out vs headers_out).
      {"application sets the same headers", Origin::kHandler,
       {{"X-Frame-Options", "SAMEORIGIN"}, {"X-Powered-By", "Django"}},
       {{"Strict-Transport-Security", "max-age=31536000"},
        {"X-Frame-Options", "DENY"},
        {"X-Frame-Options", "SAMEORIGIN"},
        {"X-Powered-By", "Django"},
        {"X-Content-Type-Options", "nosniff"}}},
      // wsgid's own responses (errors, redirects) get the always list only.
      {"a redirect wsgid generated", Origin::kError, {{"Location", "https://h/"}},
       {{"Strict-Transport-Security", "max-age=31536000"},
        {"X-Frame-Options", "DENY"},
        {"Location", "https://h/"}}},
      {"a 403", Origin::kError, {},
       {{"Strict-Transport-Security", "max-age=31536000"}, {"X-Frame-Options", "DENY"}}},
  };
  for (const Case& c : cases) {
    std::string what = c.what;
    CAPTURE(what);
    CHECK(show(rules.apply_response(c.in, c.origin)) == show(c.out));
  }
}

TEST_CASE("RequestHeader acts on the request; merge() appends a later context's rules") {
  rw::HeaderRules server = load({{"RequestHeader", {"unset", "Proxy"}},
                                 {"RequestHeader", {"set", "X-Forwarded-Proto", "https"}},
                                 {"Header", {"set", "X-A", "server"}}});
  rw::HeaderRules location = load({{"RequestHeader", {"append", "X-Forwarded-Proto", "again"}},
                                   {"Header", {"set", "X-A", "location"}}});
  rw::HeaderList req = {{"Host", "h"}, {"Proxy", "http://evil/"}};
  server.apply_request(&req);
  CHECK(show(req) == "Host: h\nX-Forwarded-Proto: https\n");

  rw::HeaderRules merged = server;
  merged.merge(location);
  rw::HeaderList req2 = {{"Host", "h"}};
  merged.apply_request(&req2);
  CHECK(show(req2) == "Host: h\nX-Forwarded-Proto: https, again\n");
  CHECK(show(merged.apply_response({}, Origin::kHandler)) == "X-A: location\n");
  // Request rules never touch responses, nor response rules requests.
  CHECK(show(load({{"RequestHeader", {"set", "X-B", "1"}}}).apply_response({}, Origin::kHandler)) == "");
  rw::HeaderList req3;
  load({{"Header", {"set", "X-B", "1"}}}).apply_request(&req3);
  CHECK(req3.empty());
}
