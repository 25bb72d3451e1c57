#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "common/regex.h"

using wsgid::Regex;
using wsgid::RegexMatch;
using wsgid::RegexOptions;

TEST_CASE("Regex matches with captures, case-insensitively on request, Apache's defaults") {
  struct Case {
    const char* pattern;
    bool caseless;
    const char* subject;
    bool matches;
    const char* group1;  // nullptr: group 1 unset
  };
  const Case cases[] = {
      {"^/app/(.*)$", false, "/app/x/y", true, "x/y"},
      {"^/APP/(.*)$", false, "/app/x", false, nullptr},
      {"^/APP/(.*)$", true, "/app/x", true, "x"},
      {"^/(a)?b", false, "/b", true, nullptr},        // unset group
      {"^/(.*)$", false, "/a\nb", true, "a\nb"},      // DOTALL: '.' takes a newline
      {"^/x$", false, "/x\n", false, nullptr},        // DOLLAR_ENDONLY
      {"secret", false, "/a/secret/b", true, nullptr},  // unanchored
  };
  for (const Case& c : cases) {
    CAPTURE(c.pattern);
    CAPTURE(c.subject);
    auto re = Regex::compile(c.pattern, RegexOptions{c.caseless, true});
    REQUIRE(re.is_ok());
    RegexMatch m;
    CHECK(re->match(c.subject, &m) == c.matches);
    if (c.matches) {
      CHECK(m.has(1) == (c.group1 != nullptr));
      if (c.group1) CHECK(m.group(1) == c.group1);
      CHECK(m.has(0));
    }
  }
}

TEST_CASE("without Apache's defaults, '$' also matches before a final newline") {
  auto re = Regex::compile("^/x$", RegexOptions{false, false});
  REQUIRE(re.is_ok());
  CHECK(re->match("/x\n"));
}

TEST_CASE("a bad pattern gives PCRE2's message and the offset") {
  auto re = Regex::compile("^/(unclosed");
  REQUIRE_FALSE(re.is_ok());
  CHECK(re.status().message() ==
        "missing closing parenthesis at offset 11 of '^/(unclosed'");
}

TEST_CASE("start offset, anchored and not-empty-at-start") {
  auto re = Regex::compile("a*");
  REQUIRE(re.is_ok());
  RegexMatch m;
  REQUIRE(re->match("baa", &m, 0));
  CHECK(m.begin(0) == 0);
  CHECK(m.end(0) == 0);  // empty match at the start
  REQUIRE(re->match("baa", &m, 0, true, false));  // not empty at start: finds "aa"
  CHECK(m.group(0) == "aa");
  CHECK_FALSE(re->match("baa", &m, 0, true, true));  // ... but not anchored at 0
}

TEST_CASE("one Regex matches from many threads at once") {
  auto re = Regex::compile("^/user/([0-9]+)$");
  REQUIRE(re.is_ok());
  const Regex shared = *re;
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string path = "/user/" + std::to_string(t * 10000 + i);
        RegexMatch m;
        if (!shared.match(path, &m) || m.group(1) != std::to_string(t * 10000 + i)) ++wrong[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int w : wrong) CHECK(w == 0);
}
