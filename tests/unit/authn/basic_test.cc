// Basic credentials and challenges, each case against what mod_auth_basic does
// (or why wsgid refuses what Apache would have decoded).
#include <doctest/doctest.h>

#include <string>

#include "supervisor/authn/basic.h"

using namespace wsgid::authn;

TEST_CASE("parse_basic_credentials") {
  struct Case {
    std::string header;
    bool ok;
    std::string user_or_error;
    std::string password;
  } cases[] = {
      // RFC 7617 section 2's example.
      {"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", true, "Aladdin", "open sesame"},
      // The scheme is case-insensitive (ap_cstr_casecmp); spaces and tabs after it
      // and around the value are skipped.
      {"basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", true, "Aladdin", "open sesame"},
      {"BASIC \t QWxhZGRpbjpvcGVuIHNlc2FtZQ==  ", true, "Aladdin", "open sesame"},
      {"\tBasic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", true, "Aladdin", "open sesame"},
      // Split at the first colon: the password may hold more.
      {"Basic dXNlcjpwYTpzczp3", true, "user", "pa:ss:w"},
      {"Basic dXNlcjo=", true, "user", ""},  // "user:": an empty password
      // UTF-8 user and password ("zoë:pässwörd") pass as bytes.
      {"Basic em/Dqzpww6Rzc3fDtnJk", true, "zo\xc3\xab", "p\xc3\xa4ssw\xc3\xb6rd"},
      // Latin-1 from an older client ("zoë:x") too.
      {"Basic em/rOng=", true, "zo\xeb", "x"},
      {"", false, "no credentials", ""},
      {"   ", false, "no credentials", ""},
      {"Digest username=\"a\"", false, "authentication scheme 'Digest' is not Basic", ""},
      {"Bearer abc", false, "authentication scheme 'Bearer' is not Basic", ""},
      {"BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==", false,
       "authentication scheme 'BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==' is not Basic", ""},
      {"Basic", false, "Basic credentials: no ':' between user and password", ""},
      // Bad base64: Apache would decode a prefix; wsgid refuses.
      {"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ", false,
       "Basic credentials: base64: length 26 is not a multiple of 4", ""},
      {"Basic QWxh!GRp", false, "Basic credentials: base64: invalid character 0x21 at offset 4",
       ""},
      {"Basic dXNlcjpwdw== abc", false, "Basic credentials: base64: misplaced '=' at offset 10",
       ""},
      // "userpw": no colon (Apache: user "userpw", empty password).
      {"Basic dXNlcnB3", false, "Basic credentials: no ':' between user and password", ""},
      // ":pw": empty user.
      {"Basic OnB3", false, "Basic credentials: empty user name", ""},
      {"Basic Og==", false, "Basic credentials: empty user name", ""},
      // "us\ter:pw", "user\r\n:pw": control characters in the user.
      {"Basic dXMJZXI6cHc=", false, "Basic credentials: control character 0x09 in the user name",
       ""},
      {"Basic dXNlcg0KOnB3", false, "Basic credentials: control character 0x0D in the user name",
       ""},
      // "user:pw\0extra": a NUL would cut the password short in the C API.
      {"Basic dXNlcjpwdwBleHRyYQ==", false, "Basic credentials: control character in the password",
       ""},
      // "user:p\x7fw": DEL.
      {"Basic dXNlcjpwf3c=", false, "Basic credentials: control character in the password", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.header);
    auto r = parse_basic_credentials(c.header);
    REQUIRE(r.is_ok() == c.ok);
    if (c.ok) {
      CHECK(r->user == c.user_or_error);
      CHECK(r->password == c.password);
    } else {
      CHECK(r.status().message() == c.user_or_error);
    }
  }
}

TEST_CASE("basic_challenge quotes the realm as ap_escape_quotes does") {
  struct Case {
    std::string realm;
    bool ok;
    std::string want;
  } cases[] = {
      {"Restricted", true, R"(Basic realm="Restricted")"},
      {"", true, R"(Basic realm="")"},
      {"Members Only", true, R"(Basic realm="Members Only")"},
      {R"(The "admin" area)", true, R"(Basic realm="The \"admin\" area")"},
      // An escaped quote stays as it is, and so does any backslash pair.
      {R"(a\"b)", true, R"(Basic realm="a\"b")"},
      {R"(C:\dir)", true, R"(Basic realm="C:\dir")"},
      {R"(a\\"b)", true, R"(Basic realm="a\\\"b")"},
      // A lone trailing backslash is doubled (Apache would escape the closing quote).
      {R"(end\)", true, R"(Basic realm="end\\")"},
      {"caf\xc3\xa9\tbar", true, "Basic realm=\"caf\xc3\xa9\tbar\""},
      {"a\r\nSet-Cookie: x", false, "AuthName: control character 0x0D in the realm"},
      {"a\nb", false, "AuthName: control character 0x0A in the realm"},
      {"a\\\nb", false, "AuthName: control character 0x0A in the realm"},
      {std::string("a\0b", 3), false, "AuthName: control character 0x00 in the realm"},
      {"a\x7f", false, "AuthName: control character 0x7F in the realm"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.realm);
    auto r = basic_challenge(c.realm);
    REQUIRE(r.is_ok() == c.ok);
    CHECK((c.ok ? *r : r.status().message()) == c.want);
  }
}
