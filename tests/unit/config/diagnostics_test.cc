// Tests of diagnostics.h: counting, rendering (location, line, caret, notes,
// summary) and the edit distance behind did-you-mean.
#include "supervisor/config/diagnostics.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace wsgid::config {
namespace {

TEST_CASE("diagnostics: counts and order") {
  Diagnostics d;
  CHECK(!d.has_errors());
  d.warning(SourceLoc{"a.conf", 1, 1, 1}, "w1");
  d.error(SourceLoc{"a.conf", 2, 1, 1}, "e1", {"n1"});
  d.add(Diagnostic{Severity::kNote, SourceLoc{"a.conf", 1, 1, 1}, "n", {}});
  d.add(Diagnostic{Severity::kError, SourceLoc{"a.conf", 3, 1, 1}, "e2", {}});
  CHECK(d.has_errors());
  CHECK(d.error_count() == 2);
  CHECK(d.warning_count() == 1);
  REQUIRE(d.all().size() == 4);
  CHECK(d.all()[0].message == "w1");
  CHECK(d.all()[1].notes == std::vector<std::string>{"n1"});
  CHECK(d.all()[3].message == "e2");
}

TEST_CASE("diagnostics: line_text") {
  Diagnostics d;
  d.add_source("a.conf", "one\r\ntwo\n\nfour");
  CHECK(d.line_text("a.conf", 1) == "one");
  CHECK(d.line_text("a.conf", 2) == "two");
  CHECK(d.line_text("a.conf", 3) == "");
  CHECK(d.line_text("a.conf", 4) == "four");
  CHECK(d.line_text("a.conf", 5) == "");
  CHECK(d.line_text("a.conf", 0) == "");
  CHECK(d.line_text("b.conf", 1) == "");
}

TEST_CASE("diagnostics: render") {
  Diagnostics d;
  d.add_source("site.conf",
               "# x\nWSGIDaemonProcess site1 proceses=2 threads=15\n\tA\tb\n<Location /\xC3\xA9t\xC3\xA9>\nX\n");
  struct Case {
    Diagnostic diag;
    const char* out;
  };
  const Case cases[] = {
      {{Severity::kError, {"site.conf", 2, 25, 8}, "unknown option 'proceses' to WSGIDaemonProcess",
        {"did you mean 'processes'?"}},
       "site.conf:2:25: error: unknown option 'proceses' to WSGIDaemonProcess\n"
       "    2 | WSGIDaemonProcess site1 proceses=2 threads=15\n"
       "      |                         ^~~~~~~~\n"
       "site.conf:2:25: note: did you mean 'processes'?\n"},
      {{Severity::kWarning, {"site.conf", 2, 1, 17}, "w", {}},
       "site.conf:2:1: warning: w\n"
       "    2 | WSGIDaemonProcess site1 proceses=2 threads=15\n"
       "      | ^~~~~~~~~~~~~~~~~\n"},
      // Tabs are expanded to 8 columns; the caret follows.
      {{Severity::kError, {"site.conf", 3, 4, 1}, "t", {}},
       "site.conf:3:4: error: t\n"
       "    3 |         A       b\n"
       "      |                 ^\n"},
      {{Severity::kError, {"site.conf", 3, 3, 2}, "t", {}},
       "site.conf:3:3: error: t\n"
       "    3 |         A       b\n"
       "      |          ^~~~~~~~\n"},
      // Columns count characters: the caret sits under 't' after 'é'.
      {{Severity::kNote, {"site.conf", 4, 13, 1}, "here", {}},
       "site.conf:4:13: note: here\n"
       "    4 | <Location /\xC3\xA9t\xC3\xA9>\n"
       "      |             ^\n"},
      // Past the end of the line (a missing '>'): the caret after the last character.
      {{Severity::kError, {"site.conf", 5, 2, 1}, "end", {}},
       "site.conf:5:2: error: end\n"
       "    5 | X\n"
       "      |  ^\n"},
      // No column: the line without a caret.
      {{Severity::kError, {"site.conf", 5, 0, 1}, "line only", {}},
       "site.conf:5: error: line only\n"
       "    5 | X\n"},
      // No line: the file alone; no file: the message alone.
      {{Severity::kError, {"site.conf", 0, 0, 1}, "whole file", {"n"}},
       "site.conf: error: whole file\nsite.conf: note: n\n"},
      {{Severity::kWarning, {"", 0, 0, 1}, "config-wide", {"a", "b"}},
       "warning: config-wide\nnote: a\nnote: b\n"},
      // A file whose text is unknown: the location and message only.
      {{Severity::kError, {"other.conf", 7, 3, 1}, "m", {}}, "other.conf:7:3: error: m\n"},
      // A line beyond the text.
      {{Severity::kError, {"site.conf", 99, 1, 1}, "m", {}}, "site.conf:99:1: error: m\n"},
  };
  for (const Case& c : cases) {
    std::string message = c.diag.message;
    CAPTURE(message);
    CHECK(d.render(c.diag) == c.out);
  }
}

TEST_CASE("diagnostics: render shows control characters and bad bytes as one column each") {
  Diagnostics d;
  d.add_source("a.conf", std::string("A \0\xFF" "b\n", 6));
  CHECK(d.render(Diagnostic{Severity::kError, {"a.conf", 1, 5, 1}, "m", {}}) ==
        "a.conf:1:5: error: m\n"
        "    1 | A ??b\n"
        "      |     ^\n");
}

TEST_CASE("diagnostics: a wide gutter for long files") {
  Diagnostics d;
  std::string text(123456, '\n');
  text += "Xyz\n";
  d.add_source("big.conf", text);
  CHECK(d.render(Diagnostic{Severity::kError, {"big.conf", 123457, 2, 2}, "m", {}}) ==
        "big.conf:123457:2: error: m\n"
        "123457 | Xyz\n"
        "       |  ^~\n");
}

TEST_CASE("diagnostics: render_all and the summary line") {
  struct Case {
    int errors, warnings;
    const char* summary;
  };
  const Case cases[] = {
      {0, 0, ""},
      {1, 0, "main.conf: 1 error generated.\n"},
      {2, 0, "main.conf: 2 errors generated.\n"},
      {0, 1, "main.conf: 1 warning generated.\n"},
      {2, 1, "main.conf: 2 errors, 1 warning generated.\n"},
      {1, 3, "main.conf: 1 error, 3 warnings generated.\n"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.errors);
    CAPTURE(c.warnings);
    Diagnostics d;
    d.add_source("main.conf", "A\n");
    d.add_source("inc.conf", "B\n");  // the summary names the first file
    std::string expected;
    for (int i = 0; i < c.errors; ++i) {
      d.error(SourceLoc{"inc.conf", 0, 0, 1}, "e");
      expected += "inc.conf: error: e\n";
    }
    for (int i = 0; i < c.warnings; ++i) {
      d.warning(SourceLoc{"main.conf", 1, 1, 1}, "w");
      expected += "main.conf:1:1: warning: w\n    1 | A\n      | ^\n";
    }
    // Errors were added first, so they come first.
    CHECK(d.render_all() == expected + c.summary);
  }
  Diagnostics none;
  none.error(SourceLoc{}, "e");
  CHECK(none.render_all() == "error: e\n1 error generated.\n");
}

TEST_CASE("diagnostics: edit_distance") {
  struct Case {
    const char* a;
    const char* b;
    bool fold;
    int distance;
  };
  const Case cases[] = {
      {"", "", true, 0},
      {"a", "", true, 1},
      {"", "abc", true, 3},
      {"processes", "processes", true, 0},
      {"proceses", "processes", true, 1},
      {"processes", "proceses", true, 1},
      {"kitten", "sitting", true, 3},
      {"abc", "acb", true, 2},  // no transpositions
      {"threads", "thread", true, 1},
      {"WSGIDaemonProcess", "wsgidaemonprocess", true, 0},
      {"WSGIDaemonProcess", "wsgidaemonprocess", false, 6},
      {"Processes", "processes", false, 1},
      {"display-name", "display_name", true, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    CHECK(edit_distance(c.a, c.b, c.fold) == c.distance);
  }
}

TEST_CASE("diagnostics: closest") {
  const std::vector<std::string_view> options = {"processes", "threads", "user", "group",
                                                 "maximum-requests", "python-path"};
  struct Case {
    const char* word;
    int max;
    const char* expected;
  };
  const Case cases[] = {
      {"proceses", -1, "processes"},
      {"PROCESSES", -1, "processes"},
      {"thread", -1, "threads"},
      {"usr", -1, "user"},           // 3 letters: 1 edit allowed
      {"us", -1, ""},                // 2 edits: too far for a short word
      {"grop", -1, "group"},
      {"thrds", -1, "threads"},       // 5 letters: 2 edits allowed
      {"maximum-request", -1, "maximum-requests"},
      {"maxrequests", -1, ""},        // 5 edits
      {"pythonpath", -1, "python-path"},
      {"xyz", -1, ""},
      {"thrds", 1, ""},               // explicit limit
      {"us", 2, "user"},
      {"", -1, ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.word);
    CHECK(closest(c.word, options, c.max) == c.expected);
  }
  // Ties go to the first candidate.
  CHECK(closest("ab", {"aa", "bb"}, 1) == "aa");
  CHECK(closest("ab", {}, 3) == "");
}

}  // namespace
}  // namespace wsgid::config
