// Strict base64: every accepted and refused shape, with the exact error.
#include <doctest/doctest.h>

#include <string>

#include "supervisor/authn/base64.h"

using wsgid::authn::decode_base64;

TEST_CASE("decode_base64 accepts canonical base64 only") {
  struct Case {
    std::string text;
    bool ok;
    std::string want;  // the bytes, or the error
  } cases[] = {
      {"", true, ""},
      {"YQ==", true, "a"},
      {"YWI=", true, "ab"},
      {"YWJj", true, "abc"},
      {"YWxhZGRpbjpvcGVuc2VzYW1l", true, "aladdin:opensesame"},
      {"+/+/", true, "\xfb\xff\xbf"},
      {"AAAA", true, std::string(3, '\0')},
      {"YQ", false, "base64: length 2 is not a multiple of 4"},
      {"YWJjZA", false, "base64: length 6 is not a multiple of 4"},
      {"YW J", false, "base64: invalid character 0x20 at offset 2"},
      {"YWJ-", false, "base64: invalid character 0x2D at offset 3"},   // base64url
      {"YWJ_", false, "base64: invalid character 0x5F at offset 3"},
      {"YWJ\n", false, "base64: invalid character 0x0A at offset 3"},
      {"\xc3\xa9\x41\x41", false, "base64: invalid character 0xC3 at offset 0"},
      {"=WJj", false, "base64: misplaced '=' at offset 0"},
      {"Y===", false, "base64: misplaced '=' at offset 1"},
      {"YQ=a", false, "base64: misplaced '=' at offset 2"},
      {"YQ==YWJj", false, "base64: misplaced '=' at offset 2"},
      {"YWI=YWJj", false, "base64: misplaced '=' at offset 3"},
      {"YR==", false, "base64: non-zero bits in the last group"},  // 'R' = 010001
      {"YWJ=", false, "base64: non-zero bits in the last group"},  // 'J' = 001001
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto r = decode_base64(c.text);
    REQUIRE(r.is_ok() == c.ok);
    if (c.ok) {
      CHECK(*r == c.want);
    } else {
      CHECK(r.status().message() == c.want);
    }
  }
}
