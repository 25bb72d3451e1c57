// Lines and words of Apache's small text files (htpasswd, group files) as
// Apache reads them: ap_cfg_getline() and ap_getword()/ap_getword_conf() of
// httpd's server/util.c, so that wsgid and Apache see the same entries in the
// same file.
//
// Pure functions on strings: any thread, no state. The returned lines own their
// text; the views returned by the word functions point into the line given.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wsgid::authn {

struct CfgLine {
  size_t number = 0;  // 1-based, of the line's first physical line
  std::string text;   // trimmed, continuations joined, never empty or a comment
};

struct CfgLines {
  std::vector<CfgLine> lines;
  // Non-zero: the physical line with this number, and the rest of the file,
  // were not read because a logical line was longer than max_len bytes. Apache
  // stops reading such a file there too (ap_cfg_getline's APR_ENOSPC ends the
  // modules' read loops), so the entries after it do not exist for either.
  size_t too_long_at = 0;
};

// Splits text into logical lines: a line ending in a backslash (before LF or
// CRLF) continues on the next one, the backslash and the line break removed;
// leading and trailing white space (isspace) is removed; empty lines and lines
// whose first byte is '#' are skipped. A last line without a line break counts.
CfgLines split_cfg_lines(std::string_view text, size_t max_len);

// ap_getword(): the text before the first `stop` (all of *line when there is
// none); *line moves past it and past every `stop` that follows at once.
std::string_view cfg_getword(std::string_view* line, char stop);

// ap_getword_conf(): skips white space, then takes a word that is either quoted
// ('...' or "...", a backslash escaping the quote or a backslash inside) or runs
// to the next white space (a doubled backslash there becomes one); then skips
// white space after it. Returns "" at the end of *line.
std::string cfg_getword_conf(std::string_view* line);

}  // namespace wsgid::authn
