#include <doctest/doctest.h>

#include "supervisor/rewrite/url.h"

namespace rw = wsgid::rewrite;

TEST_CASE("escape_uri escapes as ap_escape_uri does") {
  struct Case { const char* in; const char* out; };
  const Case cases[] = {
      {"/a/b.html", "/a/b.html"},
      {"/a b", "/a%20b"},
      {"/100%", "/100%25"},
      {"/%20", "/%2520"},  // Apache escapes '%' too
      {"$-_.+!*'(),:;@&=/~", "$-_.+!*'(),:;@&=/~"},
      {"?#\"<>", "%3F%23%22%3C%3E"},
      {"\xc3\xa9", "%C3%A9"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    CHECK(rw::escape_uri(c.in) == c.out);
  }
}

TEST_CASE("absolute_url_prefix knows mod_rewrite's schemes") {
  struct Case { const char* url; size_t len; bool query; };
  const Case cases[] = {
      {"http://h/", 7, true},      {"HTTPS://h/", 8, true},  {"ftp://h/x", 6, false},
      {"mailto:a@b", 7, true},     {"news:comp", 5, false},  {"ldap://h/x", 7, false},
      {"/http://x", 0, false},     {"http:", 0, false},      {"gopher://h", 9, false},
      {"unix:/run/x", 5, true},    {"unix:///x", 7, true},   {"relative/path", 0, false},
      {"wss://h/x", 6, true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.url);
    bool q = !c.query;
    CHECK(rw::absolute_url_prefix(c.url, &q) == c.len);
    if (c.len) CHECK(q == c.query);
  }
}

TEST_CASE("is_url and own_origin") {
  CHECK(rw::is_url("https://x"));
  CHECK(rw::is_url("mailto:x"));
  CHECK_FALSE(rw::is_url("/path"));
  CHECK_FALSE(rw::is_url(":x"));
  CHECK_FALSE(rw::is_url("no colon"));

  struct Case { bool https; const char* name; unsigned port; const char* out; };
  const Case cases[] = {
      {false, "example.org", 80, "http://example.org"},
      {false, "example.org", 8080, "http://example.org:8080"},
      {true, "example.org", 443, "https://example.org"},
      {true, "example.org", 80, "https://example.org:80"},
      {false, "::1", 80, "http://[::1]"},
  };
  for (const Case& c : cases) {
    rw::RequestView r;
    r.https = c.https;
    r.server_name = c.name;
    r.server_port = c.port;
    CHECK(rw::own_origin(r) == c.out);
  }
}
