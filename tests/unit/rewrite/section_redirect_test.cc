// section_redirect.h: mod_alias's Redirect* inside <Location>, <Directory> and
// <Files>, as add_redirect_internal() reads them when the directive has a
// section, and as try_redirect()/fixup_redir() answer.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/rewrite/section_redirect.h"

namespace rw = wsgid::rewrite;
using Kind = rw::Outcome::Kind;

namespace {

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

TEST_CASE("Redirect in a section: the form without a URL-path, and the others") {
  struct Case {
    const char* name;
    std::vector<std::string> args;
    const char* error;  // "" = accepted
    bool own;           // the section's own redirect (no URL-path)
  };
  const Case cases[] = {
      {"Redirect", {"https://x.example/new"}, "", true},
      {"Redirect", {"301", "https://x.example/new"}, "", true},
      {"Redirect", {"permanent", "/new"}, "", true},
      {"Redirect", {"gone"}, "", true},
      {"Redirect", {"404"}, "", true},
      {"RedirectMatch", {"301", "https://x.example/"}, "", true},  // as Apache: own form
      {"Redirect", {"https://%{HTTP_HOST}%{REQUEST_URI}"}, "", true},
      {"Redirect", {"/old", "https://x.example/new"}, "", false},
      {"Redirect", {"permanent", "/old", "https://x.example/new"}, "", false},
      {"Redirect", {"gone", "/old"}, "", false},
      {"RedirectMatch", {"^/a/(.*)", "https://x.example/$1"}, "", false},
      {"RedirectPermanent", {"/old", "https://x.example/"}, "", false},
      {"Redirect", {"permanent"}, "URL to redirect to is missing", false},
      {"Redirect", {"200"}, "Redirect: status 200 is not a redirect (3xx) nor an error (4xx, 5xx) status", false},
      {"Redirect", {"https://x/%{HTTP_HOST"},
       "Cannot parse redirect expression 'https://x/%{HTTP_HOST': '%{' without its closing '}'", false},
      {"Redirect", {"https://x/%{req:Host}"},
       "Redirect https://x/%{req:Host}: Apache would evaluate it as an ap_expr string with the "
       "function %{req:Host}, which wsgid does not expand in redirect expressions (fail closed); "
       "write the URL literally or with %{NAME} variables", false},
      {"Redirect", {"301", "https://x/%{SCRIPT_FILENAME}"},
       "Redirect https://x/%{SCRIPT_FILENAME}: Apache would evaluate it as an ap_expr string "
       "with %{SCRIPT_FILENAME}, a variable wsgid does not provide to redirect expressions "
       "(fail closed); write the URL literally or with %{NAME} variables", false},
      {"Redirect", {"https://x/$1"},
       "Redirect https://x/$1: Apache would evaluate it as an ap_expr string with the "
       "back-reference $1, which wsgid does not expand in redirect expressions (fail closed); "
       "write the URL literally or with %{NAME} variables", false},
      {"Redirect", {"/a", "b"}, "Redirect to non-URL", false},
      {"Redirect", {},
       "Redirect takes one, two or three arguments, an optional status, then document to be "
       "redirected and destination URL", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CAPTURE(c.args.size());
    CAPTURE((c.args.empty() ? std::string() : c.args.back()));
    rw::SectionRedirects s;
    wsgid::Status st = s.add(c.name, c.args);
    CHECK(st.message() == c.error);
    if (st.is_ok()) {
      CHECK(s.has_own() == c.own);
      CHECK(s.list().empty() == c.own);
    }
  }
}

TEST_CASE("a section's own redirect: expanded, escaped, made absolute, the query kept") {
  struct Case {
    std::vector<std::string> args;
    const char* path;
    const char* query;
    Kind kind;
    int status;
    const char* location;
  };
  const Case cases[] = {
      {{"https://x.example/new"}, "/old/a", nullptr, Kind::kRedirect, 302, "https://x.example/new"},
      {{"https://x.example/new"}, "/old/a", "q=1", Kind::kRedirect, 302, "https://x.example/new?q=1"},
      {{"https://x.example/new?a=b"}, "/old", "q=1", Kind::kRedirect, 302, "https://x.example/new?a=b"},
      {{"permanent", "/new"}, "/old", nullptr, Kind::kRedirect, 301, "http://www.example.org/new"},
      {{"https://%{SERVER_NAME}%{REQUEST_URI}"}, "/a b", nullptr, Kind::kRedirect, 302,
       "https://www.example.org/a%20b"},
      {{"gone"}, "/old", nullptr, Kind::kGone, 410, ""},
      {{"403"}, "/old", nullptr, Kind::kForbidden, 403, ""},
      {{"404"}, "/old", nullptr, Kind::kStatus, 404, ""},
      {{"seeother", "not a url"}, "/old", nullptr, Kind::kServerError, 500, ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args.back());
    rw::SectionRedirects s;
    REQUIRE(s.add("Redirect", c.args).is_ok());
    rw::Outcome o = s.evaluate_own(request(c.path, c.query));
    CHECK(o.kind == c.kind);
    CHECK(o.status == c.status);
    CHECK(o.location == c.location);
  }
  // The last own redirect of a section wins; a section without one answers nothing.
  rw::SectionRedirects s;
  REQUIRE(s.add("Redirect", {"https://a/"}).is_ok());
  REQUIRE(s.add("Redirect", {"301", "https://b/"}).is_ok());
  rw::Outcome o = s.evaluate_own(request("/x"));
  CHECK((o.status == 301 && o.location == "https://b/"));
  rw::SectionRedirects none;
  REQUIRE(none.add("Redirect", {"/x", "https://c"}).is_ok());
  CHECK(none.evaluate_own(request("/x")).kind == Kind::kNone);
  CHECK(none.list().evaluate(request("/x/y")).location == "https://c/y");
}
