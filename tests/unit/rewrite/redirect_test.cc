#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/rewrite/redirect.h"

namespace rw = wsgid::rewrite;
using Kind = rw::Outcome::Kind;

namespace {

struct Directive {
  const char* name;
  std::vector<std::string> args;
};

rw::RequestView request(const char* path, const char* query = nullptr) {
  rw::RequestView r;
  r.path = path;
  if (query) {
    r.query = query;
    r.has_query = true;
  }
  r.server_name = "www.example.org";
  r.server_port = 80;
  return r;
}

}  // namespace

TEST_CASE("Redirect directives parse as mod_alias does, with Apache's errors") {
  struct Case {
    Directive d;
    const char* error;  // "" for ok
  };
  const Case cases[] = {
      {{"Redirect", {"/old", "http://x/new"}}, ""},
      {{"Redirect", {"permanent", "/old", "http://x/new"}}, ""},
      {{"Redirect", {"temp", "/old", "http://x/new"}}, ""},
      {{"Redirect", {"seeother", "/old", "http://x/new"}}, ""},
      {{"Redirect", {"301", "/old", "http://x/new"}}, ""},
      {{"Redirect", {"308", "/old", "/new"}}, ""},  // a path: made absolute per request
      {{"Redirect", {"gone", "/old"}}, ""},
      {{"Redirect", {"410", "/old"}}, ""},
      {{"Redirect", {"404", "/old"}}, ""},
      {{"RedirectMatch", {"^/(.*)\\.gif$", "http://x/$1.jpg"}}, ""},
      {{"RedirectMatch", {"permanent", "^/a", "http://x/"}}, ""},
      {{"RedirectPermanent", {"/old", "http://x/"}}, ""},
      {{"RedirectTemp", {"/old", "http://x/"}}, ""},
      {{"redirect", {"/old", "http://x/"}}, ""},  // directive names ignore case
      {{"Redirect", {}},
       "Redirect takes one, two or three arguments, an optional status, then document to be "
       "redirected and destination URL"},
      {{"Redirect", {"a", "b", "c", "d"}},
       "Redirect takes one, two or three arguments, an optional status, then document to be "
       "redirected and destination URL"},
      {{"RedirectMatch", {"^/x"}},
       "RedirectMatch takes two or three arguments, an optional status, then a regular "
       "expression and destination URL"},
      {{"RedirectPermanent", {"/x"}},
       "RedirectPermanent takes two arguments, a document to be redirected, then the "
       "destination URL"},
      {{"RedirectTemp", {"/x", "http://y", "z"}},
       "RedirectTemp takes two arguments, a document to be redirected, then the destination "
       "URL"},
      {{"Redirect", {"forever", "/old", "http://x/"}}, "Redirect: invalid first argument (of three)"},
      {{"Redirect", {"301", "/old"}}, "URL to redirect to is missing"},
      {{"Redirect", {"/old"}}, "URL to redirect to is missing"},
      {{"Redirect", {"/old", "new"}}, "Redirect to non-URL"},
      {{"Redirect", {"gone", "/old", "http://x/"}}, "Redirect URL not valid for this status"},
      {{"Redirect", {"404", "/old", "http://x/"}}, "Redirect URL not valid for this status"},
      {{"RedirectMatch", {"^/(x", "http://x/"}},
       "Regular expression could not be compiled. (missing closing parenthesis at offset 4 of "
       "'^/(x')"},
      {{"Redirect", {"gone"}}, "Redirect: a URL-path is needed"},
      {{"Redirect", {"200", "/old"}},
       "Redirect: status 200 is not a redirect (3xx) nor an error (4xx, 5xx) status"},
  };
  for (const Case& c : cases) {
    std::string directive = c.d.name;
    for (const std::string& a : c.d.args) directive += " " + a;
    CAPTURE(directive);
    rw::RedirectList list;
    wsgid::Status s = list.add(c.d.name, c.d.args);
    CHECK(s.message() == c.error);
    CHECK(s.is_ok() == (c.error[0] == '\0'));
    CHECK(list.size() == (s.is_ok() ? 1u : 0u));
  }
}

TEST_CASE("Redirect evaluation: segments, the rest of the path, the query, statuses") {
  struct Case {
    std::vector<Directive> config;
    const char* path;
    const char* query;  // nullptr: no '?'
    Kind kind;
    int status;
    const char* location;
  };
  const Case cases[] = {
      // Prefix match on whole segments; the rest of the path is appended.
      {{{"Redirect", {"/app", "http://new.example/app2"}}}, "/app", nullptr, Kind::kRedirect, 302,
       "http://new.example/app2"},
      {{{"Redirect", {"/app", "http://new.example/app2"}}}, "/app/a/b", nullptr, Kind::kRedirect,
       302, "http://new.example/app2/a/b"},
      {{{"Redirect", {"/app", "http://new.example/app2"}}}, "/apple", nullptr, Kind::kNone, 0, ""},
      {{{"Redirect", {"/app/", "http://n/"}}}, "/app/x", nullptr, Kind::kRedirect, 302, "http://n/x"},
      {{{"Redirect", {"/app/", "http://n/"}}}, "/app", nullptr, Kind::kNone, 0, ""},
      // Runs of '/' match runs of '/'.
      {{{"Redirect", {"/a/b", "http://n/c"}}}, "//a///b/x", nullptr, Kind::kRedirect, 302,
       "http://n/c/x"},
      // The rest is escaped; the query string is appended when the URL has none.
      {{{"Redirect", {"/a", "http://n/b"}}}, "/a/x y", nullptr, Kind::kRedirect, 302,
       "http://n/b/x%20y"},
      {{{"Redirect", {"/a", "http://n/b"}}}, "/a/x", "q=1&r=2", Kind::kRedirect, 302,
       "http://n/b/x?q=1&r=2"},
      {{{"Redirect", {"/a", "http://n/b?fixed=1"}}}, "/a", "q=1", Kind::kRedirect, 302,
       "http://n/b?fixed=1"},
      {{{"Redirect", {"/a", "http://n/b"}}}, "/a", "", Kind::kRedirect, 302, "http://n/b?"},
      // Statuses.
      {{{"Redirect", {"permanent", "/a", "http://n/"}}}, "/a", nullptr, Kind::kRedirect, 301,
       "http://n/"},
      {{{"Redirect", {"seeother", "/a", "http://n/"}}}, "/a", nullptr, Kind::kRedirect, 303,
       "http://n/"},
      {{{"Redirect", {"307", "/a", "http://n/"}}}, "/a", nullptr, Kind::kRedirect, 307, "http://n/"},
      {{{"RedirectPermanent", {"/a", "http://n/"}}}, "/a", nullptr, Kind::kRedirect, 301,
       "http://n/"},
      {{{"RedirectTemp", {"/a", "http://n/"}}}, "/a", nullptr, Kind::kRedirect, 302, "http://n/"},
      {{{"Redirect", {"gone", "/a"}}}, "/a/b", nullptr, Kind::kGone, 410, ""},
      {{{"Redirect", {"403", "/a"}}}, "/a", nullptr, Kind::kForbidden, 403, ""},
      {{{"Redirect", {"404", "/a"}}}, "/a", nullptr, Kind::kStatus, 404, ""},
      // A path target becomes a URL on this server.
      {{{"Redirect", {"/a", "/b"}}}, "/a/x", "q", Kind::kRedirect, 302,
       "http://www.example.org/b/x?q"},
      // RedirectMatch: captures, escaping of all but the query and fragment.
      {{{"RedirectMatch", {"^/(.*)\\.gif$", "http://n/$1.jpg"}}}, "/img/a b.gif", nullptr,
       Kind::kRedirect, 302, "http://n/img/a%20b.jpg"},
      {{{"RedirectMatch", {"^/u/([^/]+)", "http://n/user?name=$1#top"}}}, "/u/bob/x", nullptr,
       Kind::kRedirect, 302, "http://n/user?name=bob#top"},
      {{{"RedirectMatch", {"^/u/(x)?y", "http://n/[$1]\\$2"}}}, "/u/y", nullptr, Kind::kRedirect,
       302, "http://n/%5B%5D$2"},
      {{{"RedirectMatch", {"^/u/", "http://n/"}}}, "/u/", "a=1", Kind::kRedirect, 302,
       "http://n/?a=1"},
      {{{"RedirectMatch", {"gone", "^/old"}}}, "/old/x", nullptr, Kind::kGone, 410, ""},
      {{{"RedirectMatch", {"(?i)^/CASE", "http://n/"}}}, "/case", nullptr, Kind::kRedirect, 302,
       "http://n/"},
      {{{"RedirectMatch", {"^/CASE", "http://n/"}}}, "/case", nullptr, Kind::kNone, 0, ""},
      // A RedirectMatch whose result is not a URL: Apache answers 500.
      {{{"RedirectMatch", {"^/(.*)", "$1"}}}, "/x", nullptr, Kind::kServerError, 500, ""},
      // Config order, first match wins.
      {{{"Redirect", {"/a/b", "http://first/"}}, {"Redirect", {"/a", "http://second/"}}}, "/a/b",
       nullptr, Kind::kRedirect, 302, "http://first/"},
      // The rest ("/b") is appended as is: a URL ending in '/' doubles it, as in Apache.
      {{{"Redirect", {"/a", "http://first/"}}, {"Redirect", {"/a/b", "http://second/"}}}, "/a/b",
       nullptr, Kind::kRedirect, 302, "http://first//b"},
      // "OPTIONS *" and the like are left alone.
      {{{"RedirectMatch", {".*", "http://n/"}}}, "*", nullptr, Kind::kNone, 0, ""},
  };
  for (const Case& c : cases) {
    std::string path = c.path, target = c.config[0].args.back();
    CAPTURE(path);
    CAPTURE(target);
    rw::RedirectList list;
    for (const Directive& d : c.config) REQUIRE(list.add(d.name, d.args).is_ok());
    rw::Outcome o = list.evaluate(request(c.path, c.query));
    CHECK(o.kind == c.kind);
    CHECK(o.status == c.status);
    CHECK(o.location == c.location);
    if (c.kind == Kind::kServerError) {
      CHECK(o.reason == "cannot redirect '/x' to 'x'; target is not a valid absoluteURI or abs_path");
    }
  }
}

TEST_CASE("a path target keeps a non-default port and takes https from the request") {
  rw::RedirectList list;
  REQUIRE(list.add("Redirect", {"/a", "/b"}).is_ok());
  rw::RequestView r = request("/a");
  r.https = true;
  r.server_port = 8443;
  CHECK(list.evaluate(r).location == "https://www.example.org:8443/b");
}
