#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "common/strings.h"

using namespace std::string_literals;
using namespace std::string_view_literals;

TEST_CASE("iequals ignores ASCII case only") {
  struct Case { std::string_view a, b; bool equal; };
  const Case cases[] = {
      {"", "", true},
      {"Dav", "dav", true},
      {"WSGIScriptAliasMatch", "wsgiscriptaliasmatch", true},
      {"content-length", "Content-Length", true},
      {"on", "off", false},
      {"on", "o", false},                       // length differs
      {"a", "b", false},
      {"@", "`", false},                        // 0x40 and 0x60: no folding outside A-Z
      {"[", "{", false},                        // 0x5B and 0x7B
      {"\xc3\x89", "\xc3\xa9", false},          // UTF-8 É and é: bytes, not letters
      {"a\0b"sv, "A\0B"sv, true},                 // NUL compared like any byte
      {"a\0b"sv, "a\0c"sv, false},                // (strncasecmp would stop at the NUL)
  };
  for (const Case& c : cases) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    CHECK(wsgid::iequals(c.a, c.b) == c.equal);
    CHECK(wsgid::iequals(c.b, c.a) == c.equal);
  }
}

TEST_CASE("lower maps A-Z and leaves every other byte") {
  struct Case { std::string_view in; std::string out; };
  const Case cases[] = {
      {"", ""},
      {"ServerRoot", "serverroot"},
      {"HTTP:X-Forwarded-For", "http:x-forwarded-for"},
      {"AZaz09@[`{", "azaz09@[`{"},
      {"\xc3\x89T\xc3\x89", "\xc3\x89t\xc3\x89"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    CHECK(wsgid::lower(c.in) == c.out);
  }
  CHECK(wsgid::lower('Q') == 'q');
  CHECK(wsgid::lower('q') == 'q');
  CHECK(wsgid::lower('-') == '-');
}

TEST_CASE("istarts_with compares the prefix without case") {
  struct Case { std::string_view s, prefix; bool starts; };
  const Case cases[] = {
      {"HTTP://example.org/", "http://", true},
      {"https://example.org/", "HTTPS://", true},
      {"http", "http://", false},               // shorter than the prefix
      {"ftp://x", "http://", false},
      {"anything", "", true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.s);
    CAPTURE(c.prefix);
    CHECK(wsgid::istarts_with(c.s, c.prefix) == c.starts);
  }
}
