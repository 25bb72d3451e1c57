// Regex: a compiled PCRE2 pattern (Apache's regex library since 2.4.43), with the
// options Apache's directives use, so that a pattern pasted from an Apache config
// matches what it matched there.
//
// compile() is called while a configuration is read; it reports PCRE2's error
// text and the offset in the pattern where compilation failed. match() is
// const and thread-safe: each call allocates its own match data, so one Regex
// may be shared by every thread of the front end (nothing is cached inside).
// A Regex is a cheap-to-copy handle: copies share the compiled code, which is
// immutable. Subjects are bytes, not UTF-8 (PCRE2's default, as in Apache).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct pcre2_real_code_8;

namespace wsgid {

struct RegexOptions {
  bool caseless = false;  // Apache's [NC] / AP_REG_ICASE
  // Apache 2.4's RegexDefaultOptions default (AP_REG_DEFAULT in ap_regex.h):
  // '.' matches a newline and '$' only matches at the very end.
  bool apache_defaults = true;
};

// The captured groups of one successful match. group(0) is the whole match.
// A group that did not take part in the match is unset (empty view, !has()).
class RegexMatch {
 public:
  size_t size() const { return spans_.size(); }
  bool has(size_t n) const { return n < spans_.size() && spans_[n].set; }
  // The text of group n within the subject given to match(); the subject must
  // outlive the views. Empty for an unset or out-of-range group.
  std::string_view group(size_t n) const;
  size_t begin(size_t n) const { return has(n) ? spans_[n].begin : 0; }
  size_t end(size_t n) const { return has(n) ? spans_[n].end : 0; }

 private:
  friend class Regex;
  struct Span { size_t begin = 0, end = 0; bool set = false; };
  std::string_view subject_;
  std::vector<Span> spans_;
};

class Regex {
 public:
  // Compiles pattern. On failure the status reads
  // "<PCRE2's message> at offset <N> of '<pattern>'".
  static Result<Regex> compile(std::string_view pattern, RegexOptions options = {});

  const std::string& pattern() const { return pattern_; }
  bool caseless() const { return options_.caseless; }

  // True if the pattern matches somewhere in subject (from start_offset on);
  // fills *m (when given) with the captures. notempty_atstart and anchored are
  // PCRE2's options of the same names (an "edit every match" loop needs them
  // after an empty match). A PCRE2 runtime error (match limit) counts as no
  // match, as ap_regexec reports it.
  bool match(std::string_view subject, RegexMatch* m = nullptr, size_t start_offset = 0,
             bool notempty_atstart = false, bool anchored = false) const;

 private:
  Regex() = default;
  std::string pattern_;
  RegexOptions options_;
  std::shared_ptr<pcre2_real_code_8> code_;
};

}  // namespace wsgid
