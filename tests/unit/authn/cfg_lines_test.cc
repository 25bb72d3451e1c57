// Apache's line and word rules (ap_cfg_getline, ap_getword, ap_getword_conf).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/authn/cfg_lines.h"

using namespace wsgid::authn;

TEST_CASE("split_cfg_lines") {
  struct Case {
    std::string text;
    std::vector<std::pair<size_t, std::string>> want;
    size_t too_long_at;
  } cases[] = {
      {"", {}, 0},
      {"a:b\nc:d\n", {{1, "a:b"}, {2, "c:d"}}, 0},
      {"a:b", {{1, "a:b"}}, 0},                                   // no final line break
      {"a:b\r\nc:d\r\n", {{1, "a:b"}, {2, "c:d"}}, 0},            // CRLF
      {"  a:b \t\n\n   \n# c:d\n  # e\ne", {{1, "a:b"}, {6, "e"}}, 0},
      {"a:\\\nb\nc", {{1, "a:b"}, {3, "c"}}, 0},                  // continuation
      {"a:\\\r\n  b\\\n c\n", {{1, "a:  b c"}}, 0},
      {"a\\", {{1, "a\\"}}, 0},                                   // no line break: kept
      {"a:b #c\n", {{1, "a:b #c"}}, 0},                         // not a comment
      {"a:b\n0123456789\nc:d\n", {{1, "a:b"}}, 2},                // over max_len 8
      {"a:b\n0123\\\n45678\nc:d\n", {{1, "a:b"}}, 2},             // joined line over 8
      {"01234567\n", {{1, "01234567"}}, 0},                       // exactly 8
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CfgLines got = split_cfg_lines(c.text, 8);
    REQUIRE(got.lines.size() == c.want.size());
    for (size_t i = 0; i < c.want.size(); ++i) {
      CHECK(got.lines[i].number == c.want[i].first);
      CHECK(got.lines[i].text == c.want[i].second);
    }
    CHECK(got.too_long_at == c.too_long_at);
  }
}

TEST_CASE("cfg_getword skips every stop character after the word") {
  struct Case {
    std::string line;
    std::string word, rest;
  } cases[] = {
      {"alice:hash", "alice", "hash"},
      {"alice::hash", "alice", "hash"},
      {"alice:hash:x", "alice", "hash:x"},
      {"alice", "alice", ""},
      {"alice:", "alice", ""},
      {":hash", "", "hash"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    std::string_view rest = c.line;
    CHECK(cfg_getword(&rest, ':') == c.word);
    CHECK(rest == c.rest);
  }
}

TEST_CASE("cfg_getword_conf") {
  struct Case {
    std::string line;
    std::vector<std::string> words;
  } cases[] = {
      {"a b  c", {"a", "b", "c"}},
      {"  a\tb  ", {"a", "b"}},
      {R"("John Smith" 'Jane Doe' x)", {"John Smith", "Jane Doe", "x"}},
      {R"("a \"q\" b" c)", {R"(a "q" b)", "c"}},
      {R"('it\'s' x)", {"it's", "x"}},
      {R"("back\\slash")", {R"(back\slash)"}},
      {R"(a\\b c\d)", {R"(a\b)", R"(c\d)"}},
      {R"("unterminated x)", {"unterminated x"}},
      {R"(a"b c)", {R"(a"b)", "c"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    std::string_view rest = c.line;
    std::vector<std::string> got;
    while (!rest.empty()) got.push_back(cfg_getword_conf(&rest));
    CHECK(got == c.words);
  }
}
