// Apache configuration syntax: physical lines -> logical lines -> words ->
// a tree of directives, with <IfModule>/<IfDefine>/<IfVersion> evaluated,
// Define/UnDefine applied, ${NAME} substituted and Include spliced.
// See syntax.h. The reference for every rule is httpd's own reader:
// ap_cfg_getline (continuation), ap_getword_conf (words and quotes),
// ap_build_config_sub / ap_soak_end_container (sections),
// process_resource_config_{nofnmatch,fnmatch} (Include), ap_resolve_env and
// set_define / unset_define in core.c (variables), and mod_version.c.
// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside
// libstdc++'s std::regex (std::function in _StateT); silence it for this file
// (as parser.cc does).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "supervisor/config/syntax.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "common/utf8.h"

namespace wsgid::config {
namespace {

// Limits against hostile input (fuzzing, a glob that matches /dev): each one
// ends in an error, never in a crash or unbounded memory.
constexpr size_t kMaxFileSize = 16u << 20;    // one file
constexpr size_t kMaxTotalSize = 64u << 20;   // everything read for one configuration
constexpr size_t kMaxLineLength = 64u << 10;  // one logical line, after joining
constexpr int kMaxSectionDepth = 64;          // <Section> nesting, across includes
constexpr int kMaxIncludeDepth = 64;          // Include chain (and directory recursion)
constexpr int kMaxFiles = 1024;               // files read for one configuration
constexpr size_t kMaxSubstituted = 64u << 20; // bytes ${NAME} values add, in all
constexpr size_t kMaxVersionRegex = 256;      // an <IfVersion> regular expression

// The httpd version <IfVersion> compares with: Debian 12's apache2 (2.4.57),
// whose AP_SERVER_ADD_STRING is empty, so regular expressions see "2.4.57".
constexpr int kHttpdVersion[3] = {2, 4, 57};
constexpr const char* kHttpdVersionString = "2.4.57";

// ---------------------------------------------------------------------------
// Characters

using utf8::Char;
using utf8::decode;

// apr_isspace: what separates words in httpd's reader.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string hex_byte(unsigned char c) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string s = "0x";
  s += kDigits[c >> 4];
  s += kDigits[c & 15];
  return s;
}

// Typographic quotes: characters people paste from word processors and web
// pages instead of ASCII quotes. httpd does not treat them as quotes; neither
// do we, but we say so.
struct TypographicQuote {
  int32_t cp;
  const char* name;
  char ascii;  // the ASCII quote it imitates
};

constexpr std::array<TypographicQuote, 20> kTypographicQuotes = {{
    {0x00AB, "LEFT-POINTING DOUBLE ANGLE QUOTATION MARK", '"'},
    {0x00BB, "RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK", '"'},
    {0x00B4, "ACUTE ACCENT", '\''},
    {0x2018, "LEFT SINGLE QUOTATION MARK", '\''},
    {0x2019, "RIGHT SINGLE QUOTATION MARK", '\''},
    {0x201A, "SINGLE LOW-9 QUOTATION MARK", '\''},
    {0x201B, "SINGLE HIGH-REVERSED-9 QUOTATION MARK", '\''},
    {0x201C, "LEFT DOUBLE QUOTATION MARK", '"'},
    {0x201D, "RIGHT DOUBLE QUOTATION MARK", '"'},
    {0x201E, "DOUBLE LOW-9 QUOTATION MARK", '"'},
    {0x201F, "DOUBLE HIGH-REVERSED-9 QUOTATION MARK", '"'},
    {0x2032, "PRIME", '\''},
    {0x2033, "DOUBLE PRIME", '"'},
    {0x2035, "REVERSED PRIME", '\''},
    {0x2036, "REVERSED DOUBLE PRIME", '"'},
    {0x2039, "SINGLE LEFT-POINTING ANGLE QUOTATION MARK", '\''},
    {0x203A, "SINGLE RIGHT-POINTING ANGLE QUOTATION MARK", '\''},
    {0x301D, "REVERSED DOUBLE PRIME QUOTATION MARK", '"'},
    {0xFF02, "FULLWIDTH QUOTATION MARK", '"'},
    {0xFF07, "FULLWIDTH APOSTROPHE", '\''},
}};

const TypographicQuote* typographic_quote(int32_t cp) {
  for (const TypographicQuote& q : kTypographicQuotes) {
    if (q.cp == cp) return &q;
  }
  return nullptr;
}

// Unicode spaces that web pages put where an ASCII space belongs (indentation
// copied from an article). Not white space to httpd.
const char* unicode_space_name(int32_t cp) {
  switch (cp) {
    case 0x00A0: return "NO-BREAK SPACE";
    case 0x2002: return "EN SPACE";
    case 0x2003: return "EM SPACE";
    case 0x2009: return "THIN SPACE";
    case 0x200B: return "ZERO WIDTH SPACE";
    case 0x202F: return "NARROW NO-BREAK SPACE";
    case 0x3000: return "IDEOGRAPHIC SPACE";
    case 0xFEFF: return "ZERO WIDTH NO-BREAK SPACE";
    default: break;
  }
  if (cp >= 0x2000 && cp <= 0x200A) return "SPACE";
  return nullptr;
}

std::string code_point_name(int32_t cp) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string hex;
  for (int shift = cp > 0xFFFF ? 16 : 12; shift >= 0; shift -= 4) hex += kDigits[(cp >> shift) & 15];
  return "U+" + hex;
}

// The 1-based column of byte `offset` in a physical line.
int column_at(std::string_view line, size_t offset) {
  int col = 1;
  for (size_t i = 0; i < offset && i < line.size(); i += decode(line, i).len) ++col;
  return col;
}

// ---------------------------------------------------------------------------
// Logical lines

struct Pos {
  int line;
  int col;
};

// One logical line: physical lines joined at trailing backslashes, and for every
// byte the physical position it came from (pos has one more entry: the end).
struct LogicalLine {
  std::string text;
  std::vector<Pos> pos;
  bool bad = false;  // a NUL, invalid UTF-8 or overlong line was already reported
};

// Physical lines of a file: [begin, end) byte ranges without the newline and
// without a CR before it.
std::vector<std::pair<size_t, size_t>> split_lines(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    if (end > start && text[end - 1] == '\r') --end;
    lines.emplace_back(start, end);
    start = next;
  }
  return lines;
}

// ---------------------------------------------------------------------------
// The reader

struct Word {
  Arg arg;
  size_t begin = 0, end = 0;  // raw bytes in the logical line
};

struct FileKey {
  dev_t dev;
  ino_t ino;
  bool operator==(const FileKey& o) const { return dev == o.dev && ino == o.ino; }
};

// An open section while one file is read.
struct Frame {
  Directive dir;      // the section (children gathered here)
  bool active;        // false inside a false <IfModule>/<IfDefine>/<IfVersion>: nothing is kept
  bool conditional;   // <IfModule>/<IfDefine>/<IfVersion>: vanishes, children spliced if true
  bool condition;     // the value of a conditional
};

class Reader {
 public:
  Reader(const SyntaxOptions& options, Diagnostics* diags, std::string base_dir)
      : options_(options), diags_(diags), base_dir_(std::move(base_dir)), defines_(options.defines) {}

  // Reads one file's text into *out (the current section's children).
  // depth = Include depth; nesting = open sections around the Include.
  void read_text(const std::string& name, std::string_view text, int depth, int nesting,
                 std::vector<Directive>* out);

  // Reads a file from disk (after the checks of a top-level read or Include).
  void read_file(const std::string& path, const SourceLoc& from, int depth, int nesting,
                 std::vector<Directive>* out);

 private:
  bool next_logical_line(const std::string& name, std::string_view text,
                         const std::vector<std::pair<size_t, size_t>>& lines, size_t* index,
                         LogicalLine* out);
  bool check_physical_line(const std::string& name, std::string_view line, int number,
                           bool in_comment);
  SourceLoc loc_of(const std::string& name, const LogicalLine& l, size_t begin, size_t end) const;
  std::vector<Word> split_words(const std::string& name, const LogicalLine& l, size_t begin,
                                size_t end, bool report);
  void warn_typographic(const std::string& name, const LogicalLine& l, const Word& w);

  void handle_include(const Directive& d, bool optional, int depth, int nesting,
                      std::vector<Directive>* out);
  void include_path(const std::string& path, const SourceLoc& from, bool optional, int depth,
                    int nesting, std::vector<Directive>* out);
  void include_directory(const std::string& path, const SourceLoc& from, int depth, int nesting,
                         std::vector<Directive>* out);
  bool evaluate_condition(const Directive& d);
  bool evaluate_if_version(const Directive& d);
  bool substitute(const std::string& name, LogicalLine* l, size_t from);
  void handle_define(const Directive& d);
  void handle_server_root(const Directive& d);

  const SyntaxOptions& options_;
  Diagnostics* diags_;
  std::string base_dir_;  // relative Include paths: SyntaxOptions::server_root, then ServerRoot
  std::vector<std::string> defines_;          // what <IfDefine> sees: -D names, then Define/UnDefine
  std::map<std::string, std::string> vars_;   // Define NAME value
  int open_sections_ = 0;  // kept (not conditional) sections open around the current line
  size_t substituted_ = 0;
  bool reported_substituted_ = false;
  std::set<std::tuple<std::string, int, int>> variable_seen_;  // undefined ${NAME} warned about
  std::vector<std::pair<FileKey, std::string>> chain_;  // files being read, outermost first
  int files_ = 0;
  size_t total_bytes_ = 0;
  bool reported_too_many_files_ = false;
  bool reported_total_size_ = false;
  std::set<std::tuple<std::string, int, int>> typographic_seen_;
};

SourceLoc Reader::loc_of(const std::string& name, const LogicalLine& l, size_t begin,
                         size_t end) const {
  Pos p = l.pos[std::min(begin, l.text.size())];
  int last = p.col;
  for (size_t k = begin; k < end && k < l.text.size(); ++k) {
    if (l.pos[k].line != p.line) break;
    last = l.pos[k].col;
  }
  return SourceLoc{name, p.line, p.col, std::max(last - p.col + 1, 1)};
}

// Reports a NUL byte or invalid UTF-8 in one physical line (once per line).
// In a comment it is only a warning: httpd ignores comments, and old files
// often have Latin-1 comments. Returns false when the line is bad.
bool Reader::check_physical_line(const std::string& name, std::string_view line, int number,
                                 bool in_comment) {
  int col = 1;
  for (size_t i = 0; i < line.size(); ++col) {
    Char c = decode(line, i);
    std::string message;
    if (c.cp == 0) {
      message = "NUL byte in configuration text";
    } else if (c.cp < 0) {
      message = "invalid UTF-8 (byte " + hex_byte(static_cast<unsigned char>(line[i])) +
                "); configuration files must be UTF-8";
    }
    if (!message.empty()) {
      SourceLoc loc{name, number, col, 1};
      if (in_comment) {
        diags_->warning(loc, message + " (in a comment)");
        return true;
      }
      diags_->error(loc, message);
      return false;
    }
    i += c.len;
  }
  return true;
}

// Joins physical lines from *index into one logical line, as ap_cfg_getline:
// a backslash that is the line's last character (and not itself escaped by
// another backslash) is removed and the next line appended as it is.
bool Reader::next_logical_line(const std::string& name, std::string_view text,
                               const std::vector<std::pair<size_t, size_t>>& lines, size_t* index,
                               LogicalLine* out) {
  if (*index >= lines.size()) return false;
  out->text.clear();
  out->pos.clear();
  out->bad = false;
  bool first = true, comment = false, too_long = false;
  int line_number = 0;
  while (*index < lines.size()) {
    auto [begin, end] = lines[*index];
    line_number = static_cast<int>(*index) + 1;
    ++*index;
    std::string_view line = text.substr(begin, end - begin);
    if (first) {
      size_t k = 0;
      if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") k = 3;  // a BOM
      while (k < line.size() && is_space(line[k])) ++k;
      comment = k < line.size() && line[k] == '#';
    }
    if (!check_physical_line(name, line, line_number, comment)) out->bad = true;
    // httpd's code (not its comment) continues at any final backslash.
    bool cont = !line.empty() && line.back() == '\\';
    std::string_view kept = cont ? line.substr(0, line.size() - 1) : line;
    if (out->text.size() + kept.size() > kMaxLineLength) {
      too_long = true;
    } else {
      int col = 1;
      for (size_t i = 0; i < kept.size();) {
        size_t n = decode(kept, i).len;
        for (size_t k = 0; k < n; ++k) out->pos.push_back(Pos{line_number, col});
        out->text.append(kept.substr(i, n));
        i += n;
        ++col;
      }
    }
    if (!cont) {
      size_t trimmed = line.size();
      while (trimmed > 0 && (line[trimmed - 1] == ' ' || line[trimmed - 1] == '\t')) --trimmed;
      if (trimmed < line.size() && trimmed > 0 && line[trimmed - 1] == '\\' && !comment) {
        diags_->warning(SourceLoc{name, line_number, column_at(line, trimmed - 1), 1},
                        "backslash followed by white space does not continue the line",
                        {"remove the white space after the backslash to join the next line"});
      }
      break;
    }
    if (comment && *index < lines.size()) {
      diags_->warning(SourceLoc{name, line_number, column_at(line, line.size() - 1), 1},
                      "comment ends with a backslash: the next line is part of the comment",
                      {"httpd joins the lines before it looks for '#'"});
    }
    first = false;
  }
  // The end position: just past the last character.
  if (out->pos.empty()) {
    out->pos.push_back(Pos{line_number, 1});
  } else {
    Pos last = out->pos.back();
    out->pos.push_back(Pos{last.line, last.col + 1});
  }
  if (too_long) {
    diags_->error(SourceLoc{name, line_number, 0, 1},
                  "line longer than " + std::to_string(kMaxLineLength) + " bytes");
    out->bad = true;
  }
  return true;
}

// Splits [begin, end) into words as ap_getword_conf: quotes matter only at a
// word's start; inside them a backslash escapes the quote or a backslash.
std::vector<Word> Reader::split_words(const std::string& name, const LogicalLine& l, size_t begin,
                                      size_t end, bool report) {
  const std::string& s = l.text;
  std::vector<Word> words;
  size_t i = begin;
  while (true) {
    while (i < end && is_space(s[i])) ++i;
    if (i >= end) break;
    Word w;
    w.begin = i;
    char quote = s[i];
    size_t j;
    if (quote == '"' || quote == '\'') {
      j = i + 1;
      while (j < end && s[j] != quote) {
        if (s[j] == '\\' && j + 1 < end && (s[j + 1] == quote || s[j + 1] == '\\')) {
          w.arg.text += s[j + 1];
          j += 2;
        } else {
          w.arg.text += s[j++];
        }
      }
      w.arg.quoted = true;
      if (j >= end) {
        if (report) {
          SourceLoc loc = loc_of(name, l, i, i + 1);
          diags_->error(loc, std::string("unterminated quoted argument: no closing ") + quote,
                        {std::string("add the closing ") + quote + " before the end of the line"});
        }
      } else {
        ++j;  // the closing quote
      }
    } else {
      j = i;
      while (j < end && !is_space(s[j])) {
        if (s[j] == '\\' && j + 1 < end && s[j + 1] == '\\') {
          w.arg.text += '\\';
          j += 2;
        } else {
          w.arg.text += s[j++];
        }
      }
    }
    w.end = std::min(j, end);
    w.arg.loc = loc_of(name, l, w.begin, w.end);
    words.push_back(std::move(w));
    i = j;
  }
  return words;
}

// One warning per typographic quote (or Unicode space) in an argument, with the fix.
void Reader::warn_typographic(const std::string& name, const LogicalLine& l, const Word& w) {
  const std::string& s = l.text;
  std::vector<std::pair<size_t, Char>> chars;  // the word's characters
  for (size_t i = w.begin; i < w.end;) {
    Char c = decode(s, i);
    chars.emplace_back(i, c);
    i += c.len;
  }
  // Typographic quotes at the word's edges were meant as quotes around the rest.
  size_t first = 0, last = chars.size();
  while (first < last && typographic_quote(chars[first].second.cp)) ++first;
  while (last > first && typographic_quote(chars[last - 1].second.cp)) --last;
  bool opening = first > 0, closing = last < chars.size();
  size_t text_begin = first < chars.size() ? chars[first].first : w.end;
  size_t text_end = last > first ? chars[last - 1].first + chars[last - 1].second.len : text_begin;
  // "“/a b”" splits at the space: the meant text runs to the other word's quote.
  if (opening && !closing) {
    for (size_t i = w.end; i < s.size(); i += decode(s, i).len) {
      if (typographic_quote(decode(s, i).cp)) {
        text_end = i;
        break;
      }
    }
  } else if (closing && !opening) {
    for (size_t i = 0; i < w.begin; i += decode(s, i).len) {
      Char c = decode(s, i);
      if (typographic_quote(c.cp)) text_begin = i + c.len;
    }
  }
  std::string meant = s.substr(text_begin, text_end - text_begin);
  char ascii = '"';
  if (opening || closing) {
    ascii = typographic_quote(chars[opening ? 0 : chars.size() - 1].second.cp)->ascii;
  }
  bool path = !meant.empty() && meant[0] == '/';

  for (size_t k = 0; k < chars.size(); ++k) {
    int32_t cp = chars[k].second.cp;
    const TypographicQuote* q = typographic_quote(cp);
    if (!q && !unicode_space_name(cp)) continue;
    SourceLoc loc = loc_of(name, l, chars[k].first, chars[k].first + chars[k].second.len);
    if (!typographic_seen_.emplace(loc.file, loc.line, loc.col).second) continue;
    if (!q) {
      diags_->warning(loc, code_point_name(cp) + " (" + unicode_space_name(cp) +
                               ") is not white space; the argument keeps it",
                      {"replace it with an ordinary space"});
      continue;
    }
    std::string message = "typographic quote " + code_point_name(q->cp) + " (" + q->name +
                          ") is not a quote; the argument keeps it as part of the " +
                          (path ? "path" : "text");
    std::string note;
    if (k < first || k >= last) {
      note = std::string("write ") + ascii + meant + ascii + " with ASCII " +
             (ascii == '"' ? "double" : "single") + " quotes (" + ascii + ")";
    } else {
      note = "delete it unless the argument really contains it";
    }
    diags_->warning(loc, message, {note});
  }
}

bool Reader::evaluate_condition(const Directive& d) {
  if (iequals(d.name, "IfVersion")) return evaluate_if_version(d);
  if (d.args.size() != 1) {
    diags_->error(d.loc, "<" + d.name + "> takes one argument" +
                             (iequals(d.name, "IfModule") ? ", a module name" : ", a define name"));
    return false;
  }
  std::string_view arg = d.args[0].text;
  bool negate = !arg.empty() && arg[0] == '!';
  if (negate) arg.remove_prefix(1);
  if (arg.empty()) {
    diags_->error(d.args[0].loc, "<" + d.name + "> needs a name after '!'");
    return false;
  }
  bool value;
  if (iequals(d.name, "IfModule")) {
    value = module_is_loaded(arg);
  } else {
    value = std::find(defines_.begin(), defines_.end(), arg) != defines_.end();
  }
  return value != negate;
}

// mod_version's compare_version: major[.minor[.patch]], missing parts 0 (so
// "2.4" is 2.4.0); *cmp = -1, 0 or 1 as httpd's version is below, equal to or
// above it. False when the text is not a version.
bool compare_version(std::string_view v, int* cmp) {
  if (v.empty() || v[0] < '0' || v[0] > '9') return false;
  long long parts[3] = {0, 0, 0};
  int count = 0;
  size_t p = 0;
  long long value = 0;
  while (p <= v.size() && count < 3) {
    char c = p < v.size() ? v[p] : '.';
    if (c == '.') {
      parts[count++] = value;
      value = 0;
      ++p;
      continue;
    }
    if (c < '0' || c > '9') break;
    value = std::min(value * 10 + (c - '0'), 1LL << 40);  // atoi, without overflow
    ++p;
  }
  if (p < v.size()) return false;
  *cmp = 0;
  for (int k = 0; k < 3 && *cmp == 0; ++k) {
    if (kHttpdVersion[k] > parts[k]) *cmp = 1;
    if (kHttpdVersion[k] < parts[k]) *cmp = -1;
  }
  return true;
}

// What is wrong with a regular expression, from std::regex_error's code.
// libstdc++ reports any text it could not parse as error_paren: say
// "unmatched parenthesis" only when the (unescaped) parentheses do not pair.
std::string regex_problem(std::regex_constants::error_type code, std::string_view rx) {
  namespace rc = std::regex_constants;
  if (code == rc::error_paren) {
    int depth = 0;
    bool unbalanced = false;
    for (size_t i = 0; i < rx.size(); ++i) {
      if (rx[i] == '\\') {
        ++i;
      } else if (rx[i] == '(') {
        ++depth;
      } else if (rx[i] == ')' && --depth < 0) {
        unbalanced = true;
      }
    }
    return unbalanced || depth != 0 ? "unmatched parenthesis" : "misplaced character";
  }
  switch (code) {
    case rc::error_collate: return "invalid collating element";
    case rc::error_ctype: return "invalid character class";
    case rc::error_escape: return "invalid escape";
    case rc::error_backref: return "invalid back reference";
    case rc::error_brack: return "unmatched [";
    case rc::error_paren: return "unmatched parenthesis";
    case rc::error_brace: return "unmatched {";
    case rc::error_badbrace: return "invalid repetition count in {}";
    case rc::error_range: return "invalid character range";
    case rc::error_badrepeat: return "nothing to repeat";
    default: return "too complex";
  }
}

// <IfVersion [[!]operator] version> as mod_version's start_ifversion: one
// argument means "=", "==" is "=", "!" negates, a version in /slashes/ after
// "=" (or alone) and any text after "~" is a regular expression searched in
// "2.4.57". Regular expressions are ECMAScript (std::regex), which agrees with
// httpd's PCRE on what version tests use; libstdc++ runs them as a Thompson
// NFA (__polynomial), so no pattern takes exponential time.
bool Reader::evaluate_if_version(const Directive& d) {
  if (d.args.empty() || d.args.size() > 2) {
    diags_->error(d.loc, "<" + d.name + "> takes one or two arguments, an optional operator and a version");
    return false;
  }
  const Arg& version = d.args.back();
  std::string op = d.args.size() == 2 ? d.args[0].text : "=";
  std::string_view p = op;
  bool negate = false;
  if (!p.empty() && p[0] == '!') {
    negate = true;
    if (p.size() > 1) p.remove_prefix(1);
  }
  char c = p.empty() ? '\0' : p[0];
  std::string_view rest = p.empty() ? p : p.substr(1);
  bool or_equal = rest == "=";
  if (!(rest.empty() || (or_equal && c != '~')) || (c != '=' && c != '~' && c != '<' && c != '>')) {
    diags_->error(d.args[0].loc, "unknown comparison operator '" + op + "' in <" + d.name + ">",
                  {"use =, ==, <, <=, >, >= or ~ (a regular expression), optionally after '!'"});
    return false;
  }
  std::string_view v = version.text;
  bool match;
  if (c == '~' || (c == '=' && !v.empty() && v[0] == '/')) {
    std::string_view rx = v;
    if (c == '=') {
      if (v.size() < 2 || v.back() != '/') {
        diags_->error(version.loc, "regular expression '" + version.text + "' in <" + d.name +
                                       "> has no closing '/'",
                      {"write /regex/, or use the ~ operator: ~ regex"});
        return false;
      }
      rx = v.substr(1, v.size() - 2);
    }
    if (rx.size() > kMaxVersionRegex) {
      diags_->error(version.loc, "regular expression in <" + d.name + "> longer than " +
                                     std::to_string(kMaxVersionRegex) + " characters");
      return false;
    }
    auto flags = std::regex::ECMAScript;
#if defined(__GLIBCXX__)
    flags |= std::regex_constants::__polynomial;
#endif
    try {
      std::regex re(rx.begin(), rx.end(), flags);
      match = std::regex_search(kHttpdVersionString, re);
    } catch (const std::regex_error& e) {
      diags_->error(version.loc, "invalid regular expression '" + std::string(rx) + "' in <" + d.name +
                                     ">: " + regex_problem(e.code(), rx));
      return false;
    }
  } else {
    int cmp = 0;
    if (!compare_version(v, &cmp)) {
      std::vector<std::string> notes;
      size_t glued = v.find_first_not_of("!=<>~");
      if (d.args.size() == 1 && glued > 0 && glued != std::string_view::npos) {
        notes.push_back("put a space between the operator and the version: '" +
                        std::string(v.substr(0, glued)) + " " + std::string(v.substr(glued)) + "'");
      }
      diags_->error(version.loc, "invalid version '" + version.text + "' in <" + d.name +
                                     ">: expected major[.minor[.patch]] in numbers, such as 2.4 or 2.4.57",
                    notes);
      return false;
    }
    if (c == '=') {
      match = cmp == 0;
    } else if (c == '<') {
      match = cmp < 0 || (or_equal && cmp == 0);
    } else {
      match = cmp > 0 || (or_equal && cmp == 0);
    }
  }
  return match != negate;
}

// Define NAME [value] / UnDefine NAME, in reading order, as httpd's set_define
// and unset_define: Define without a value only makes <IfDefine NAME> true
// (and keeps an earlier value); UnDefine removes both, a -D name too.
void Reader::handle_define(const Directive& d) {
  bool define = iequals(d.name, "Define");
  if (d.args.empty() || d.args.size() > (define ? 2u : 1u)) {
    diags_->error(d.loc, define ? d.name + " takes one or two arguments, a name and an optional value"
                                : d.name + " takes one argument, a name");
    return;
  }
  const Arg& n = d.args[0];
  if (n.text.empty()) {
    diags_->error(n.loc, d.name + " needs a non-empty name");
    return;
  }
  if (n.text.find(':') != std::string::npos) {
    diags_->error(n.loc, "variable name '" + n.text + "' must not contain ':'",
                  {"httpd leaves ${...} with ':' to other modules, such as RewriteMap's ${map:key}"});
    return;
  }
  auto it = std::find(defines_.begin(), defines_.end(), n.text);
  if (define) {
    if (it == defines_.end()) defines_.push_back(n.text);
    if (d.args.size() == 2) vars_[n.text] = d.args[1].text;
  } else {
    if (it != defines_.end()) defines_.erase(it);
    vars_.erase(n.text);
  }
}

// ServerRoot outside any section (httpd: EXEC_ON_READ, GLOBAL_ONLY) is the
// base of the relative Include paths after it; relative, it is relative to the
// base before it. A wrong one is the parser's to report.
void Reader::handle_server_root(const Directive& d) {
  if (open_sections_ > 0 || d.args.size() != 1 || d.args[0].text.empty()) return;
  std::string root = d.args[0].text;
  if (root[0] != '/' && !base_dir_.empty()) {
    root = base_dir_.back() == '/' ? base_dir_ + root : base_dir_ + "/" + root;
  }
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  base_dir_ = root;
}

// ${NAME} in a live line, as httpd's ap_resolve_env on the whole line before
// it is split into words: from Define, else from the environment; the value is
// not scanned again. Undefined: kept as written, with a warning (none when the
// name has a ':', as httpd: mod_rewrite's ${map:key}). A "${" without "}" and a
// lone '$' stay. Value bytes take the position of the "${" (the last one that
// of the "}"), so a word from a value underlines the reference. False when the
// line is dropped (too long once substituted).
bool Reader::substitute(const std::string& name, LogicalLine* l, size_t from) {
  const std::string& s = l->text;
  size_t at = s.find("${", from);
  if (at == std::string::npos) return true;
  LogicalLine out;
  out.text.assign(s, 0, at);
  out.pos.assign(l->pos.begin(), l->pos.begin() + static_cast<std::ptrdiff_t>(at));
  size_t i = at;
  while (i < s.size()) {
    size_t ref = s.find("${", i);
    size_t close = ref == std::string::npos ? ref : s.find('}', ref + 2);
    if (close == std::string::npos) ref = s.size();
    out.text.append(s, i, ref - i);
    out.pos.insert(out.pos.end(), l->pos.begin() + static_cast<std::ptrdiff_t>(i),
                   l->pos.begin() + static_cast<std::ptrdiff_t>(ref));
    if (ref == s.size()) break;
    std::string var = s.substr(ref + 2, close - ref - 2);
    std::string value;
    bool found = false;
    if (auto it = vars_.find(var); it != vars_.end()) {
      value = it->second;
      found = true;
    } else if (const char* env = std::getenv(var.c_str()); env) {
      value = env;
      found = true;
    }
    if (found) {
      substituted_ += value.size();
      if (substituted_ > kMaxSubstituted) {
        if (!reported_substituted_) {
          diags_->error(loc_of(name, *l, ref, close + 1),
                        "${} substitution added more than " + std::to_string(kMaxSubstituted >> 20) +
                            " MiB in all; this line and later ones with variables are not read");
          reported_substituted_ = true;
        }
        return false;
      }
      for (size_t k = 0; k < value.size(); ++k) {
        out.pos.push_back(l->pos[k + 1 == value.size() && k > 0 ? close : ref]);
      }
      out.text += value;
    } else {
      if (var.find(':') == std::string::npos) {
        SourceLoc loc = loc_of(name, *l, ref, close + 1);
        if (variable_seen_.emplace(loc.file, loc.line, loc.col).second) {
          std::vector<std::string> notes = {"define it with 'Define " + var +
                                            " value' before this line, or set " + var +
                                            " in wsgid's environment"};
          if (var.compare(0, 7, "APACHE_") == 0) {
            notes.push_back("Debian's apache2ctl sets APACHE_* variables from /etc/apache2/envvars; "
                            "source that file in the shell that starts wsgid");
          }
          diags_->warning(loc, "config variable ${" + var + "} is not defined; it is left as written", notes);
        }
      }
      out.text.append(s, ref, close + 1 - ref);
      out.pos.insert(out.pos.end(), l->pos.begin() + static_cast<std::ptrdiff_t>(ref),
                     l->pos.begin() + static_cast<std::ptrdiff_t>(close + 1));
    }
    if (out.text.size() > kMaxLineLength) {
      diags_->error(SourceLoc{name, l->pos[ref].line, 0, 1},
                    "line longer than " + std::to_string(kMaxLineLength) +
                        " bytes after ${} substitution");
      return false;
    }
    i = close + 1;
  }
  out.pos.push_back(l->pos.back());  // the end
  l->text = std::move(out.text);
  l->pos = std::move(out.pos);
  return true;
}

void Reader::read_text(const std::string& name, std::string_view text, int depth, int nesting,
                       std::vector<Directive>* out) {
  auto lines = split_lines(text);
  std::vector<Frame> stack;
  int overflow = 0;  // sections opened past kMaxSectionDepth (counted, not kept)
  auto current = [&]() -> std::vector<Directive>* {
    return stack.empty() ? out : &stack.back().dir.children;
  };
  auto active = [&]() { return stack.empty() || stack.back().active; };
  // Closes the top frame: a kept section joins its parent; a true conditional
  // splices its children; a false one vanishes.
  auto pop = [&]() {
    Frame f = std::move(stack.back());
    stack.pop_back();
    if (!f.conditional) --open_sections_;
    std::vector<Directive>* parent = current();
    if (!f.active && !f.conditional) return;
    if (f.conditional) {
      if (f.condition && f.active) {
        for (Directive& c : f.dir.children) parent->push_back(std::move(c));
      }
      return;
    }
    parent->push_back(std::move(f.dir));
  };

  size_t index = 0;
  LogicalLine l;
  while (next_logical_line(name, text, lines, &index, &l)) {
    if (l.bad) continue;
    const std::string& s = l.text;
    size_t i = 0;
    if (l.pos[0].line == 1 && s.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;
    while (i < s.size() && is_space(s[i])) ++i;
    // Unicode spaces before the first word: indentation pasted from a web page.
    // httpd would take them as part of the directive name; we skip them and warn.
    size_t unicode_space = std::string::npos;
    while (i < s.size()) {
      Char c = decode(s, i);
      if (is_space(s[i])) {
        ++i;
      } else if (unicode_space_name(c.cp)) {
        if (unicode_space == std::string::npos) unicode_space = i;
        i += c.len;
      } else {
        break;
      }
    }
    if (unicode_space != std::string::npos && active()) {
      Char c = decode(s, unicode_space);
      diags_->warning(loc_of(name, l, unicode_space, unicode_space + c.len),
                      code_point_name(c.cp) + " (" + unicode_space_name(c.cp) +
                          ") is not white space; skipped at the start of the line",
                      {"replace it with an ordinary space"});
    }
    if (i >= s.size() || s[i] == '#') continue;
    bool live = active();
    if (live) {
      if (!substitute(name, &l, i)) continue;
      while (i < s.size() && is_space(s[i])) ++i;  // a value may be blank
      if (i >= s.size()) continue;
    }

    if (s[i] == '<') {
      bool closing = i + 1 < s.size() && s[i + 1] == '/';
      size_t name_begin = i + (closing ? 2 : 1);
      size_t name_end = name_begin;
      while (name_end < s.size() && !is_space(s[name_end]) && s[name_end] != '>') ++name_end;
      std::string section = s.substr(name_begin, name_end - name_begin);
      SourceLoc tag_loc = loc_of(name, l, i, name_end);
      if (section.empty()) {
        diags_->error(tag_loc, closing ? "'</' without a section name" : "'<' without a section name");
        continue;
      }
      // The last non-blank character must be '>' (httpd strips it).
      size_t last = s.size();
      while (last > name_end && is_space(s[last - 1])) --last;
      size_t args_end = last;
      if (last > name_end && s[last - 1] == '>') {
        args_end = last - 1;
      } else {
        diags_->error(loc_of(name, l, last, last + 1),
                      std::string(closing ? "</" : "<") + section + "> directive missing closing '>'",
                      {"add '>' at the end of the line"});
      }
      if (closing) {
        size_t extra = name_end;
        while (extra < args_end && is_space(s[extra])) ++extra;
        if (extra < args_end) {
          diags_->error(loc_of(name, l, extra, args_end), "</" + section + "> takes no arguments");
        }
        if (overflow > 0) {
          --overflow;
          continue;
        }
        // Which open section does it close? The innermost of that name.
        size_t match = stack.size();
        while (match > 0 && !iequals(stack[match - 1].dir.name, section)) --match;
        if (match == 0) {
          diags_->error(tag_loc, "</" + section + "> without matching <" + section + "> section");
          continue;
        }
        if (match != stack.size()) {
          const Directive& inner = stack.back().dir;
          diags_->error(tag_loc, "expected </" + inner.name + "> but saw </" + section + ">");
          // Every section left open inside the closed one: say where it opened.
          for (size_t k = stack.size(); k > match; --k) {
            const Directive& open = stack[k - 1].dir;
            SourceLoc at = open.loc;
            at.col = std::max(at.col - 1, 1);  // at '<'
            at.len = static_cast<int>(open.name.size()) + 1;
            diags_->add(Diagnostic{Severity::kNote, at, "<" + open.name + "> opened here, never closed", {}});
          }
          while (stack.size() > match) pop();
        }
        pop();
        continue;
      }

      Frame f;
      f.dir.name = section;
      f.dir.loc = loc_of(name, l, name_begin, name_end);
      f.dir.is_section = true;
      for (Word& w : split_words(name, l, name_end, args_end, live)) {
        if (live) warn_typographic(name, l, w);
        f.dir.args.push_back(std::move(w.arg));
      }
      if (nesting + static_cast<int>(stack.size()) >= kMaxSectionDepth || overflow > 0) {
        if (overflow == 0) {
          diags_->error(tag_loc, "sections nested deeper than " + std::to_string(kMaxSectionDepth));
        }
        ++overflow;
        continue;
      }
      f.conditional = iequals(section, "IfModule") || iequals(section, "IfDefine") ||
                      iequals(section, "IfVersion");
      f.condition = f.conditional && live ? evaluate_condition(f.dir) : false;
      f.active = live && (!f.conditional || f.condition);
      if (!f.conditional) ++open_sections_;
      stack.push_back(std::move(f));
      continue;
    }

    // A plain directive.
    size_t name_end = i;
    while (name_end < s.size() && !is_space(s[name_end])) ++name_end;
    Directive d;
    d.name = s.substr(i, name_end - i);
    d.loc = loc_of(name, l, i, name_end);
    for (Word& w : split_words(name, l, name_end, s.size(), live)) {
      if (live) {
        warn_typographic(name, l, w);
        if (!w.arg.quoted && !w.arg.text.empty() && w.arg.text[0] == '#') {
          diags_->warning(w.arg.loc, "'#' starts a comment only at the beginning of a line; here it is an argument",
                          {"move the comment to a line of its own"});
        }
      }
      d.args.push_back(std::move(w.arg));
    }
    if (!live) continue;
    if (iequals(d.name, "Define") || iequals(d.name, "UnDefine")) {
      handle_define(d);
      continue;
    }
    if (iequals(d.name, "ServerRoot")) handle_server_root(d);  // and kept for the parser
    bool include = iequals(d.name, "Include");
    if (include || iequals(d.name, "IncludeOptional")) {
      handle_include(d, !include, depth, nesting + static_cast<int>(stack.size()), current());
      continue;
    }
    current()->push_back(std::move(d));
  }

  if (!stack.empty()) {
    Pos end = l.pos.empty() ? Pos{static_cast<int>(lines.size()), 1} : l.pos.back();
    if (lines.empty()) end = Pos{1, 1};
    for (size_t k = stack.size(); k > 0; --k) {
      const Directive& open = stack[k - 1].dir;
      diags_->error(SourceLoc{name, end.line, end.col, 1},
                    "missing </" + open.name + "> before the end of the file");
      SourceLoc at = open.loc;
      at.col = std::max(at.col - 1, 1);
      at.len = static_cast<int>(open.name.size()) + 1;
      diags_->add(Diagnostic{Severity::kNote, at, "<" + open.name + "> opened here", {}});
    }
    // Keep what was read: close everything as if the file closed it.
    while (!stack.empty()) pop();
  }
}

void Reader::handle_include(const Directive& d, bool optional, int depth, int nesting,
                            std::vector<Directive>* out) {
  if (!options_.allow_include) {
    diags_->error(d.loc, d.name + " is not allowed here");
    return;
  }
  if (d.args.size() != 1) {
    diags_->error(d.loc, d.name + " takes one argument, the file, directory or wildcard to include");
    return;
  }
  const Arg& arg = d.args[0];
  if (arg.text.empty()) {
    diags_->error(arg.loc, d.name + " needs a non-empty path");
    return;
  }
  std::string path = arg.text;
  if (path[0] != '/' && !base_dir_.empty()) {
    path = base_dir_.back() == '/' ? base_dir_ + path : base_dir_ + "/" + path;
  }
  bool wildcard = path.find_first_of("*?[") != std::string::npos;
  if (!wildcard) {
    include_path(path, arg.loc, optional, depth, nesting, out);
    return;
  }
  glob_t g{};
  int rc = glob(path.c_str(), 0, nullptr, &g);
  if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
    globfree(&g);
    if (!optional) {
      diags_->error(arg.loc, "Include: no file matches the wildcard '" + path + "'",
                    {"use IncludeOptional if matching nothing is fine"});
    }
    return;
  }
  if (rc != 0) {
    int err = errno;
    globfree(&g);
    diags_->error(arg.loc, "glob(" + path + "): " +
                               (rc == GLOB_NOSPACE ? std::string("out of memory") : std::strerror(err)));
    return;
  }
  std::vector<std::string> matches(g.gl_pathv, g.gl_pathv + g.gl_pathc);
  globfree(&g);
  std::sort(matches.begin(), matches.end());  // byte order, as httpd's fname_alphasort
  for (const std::string& m : matches) include_path(m, arg.loc, optional, depth, nesting, out);
}

void Reader::include_path(const std::string& path, const SourceLoc& from, bool optional, int depth,
                          int nesting, std::vector<Directive>* out) {
  // Past a limit nothing more is read, not even directories (Include / ...).
  if (files_ >= kMaxFiles || total_bytes_ > kMaxTotalSize) {
    read_file(path, from, depth + 1, nesting, out);  // reports the limit once
    return;
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (optional && (err == ENOENT || err == ENOTDIR)) return;
    diags_->error(from, "could not open configuration file '" + path + "': " + std::strerror(err));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    include_directory(path, from, depth, nesting, out);
    return;
  }
  read_file(path, from, depth + 1, nesting, out);
}

// Every entry of a directory, sorted, subdirectories recursively (as httpd).
void Reader::include_directory(const std::string& path, const SourceLoc& from, int depth,
                               int nesting, std::vector<Directive>* out) {
  if (depth >= kMaxIncludeDepth) {
    diags_->error(from, "Include nested deeper than " + std::to_string(kMaxIncludeDepth) +
                            " levels at '" + path + "'");
    return;
  }
  DIR* dir = opendir(path.c_str());
  if (!dir) {
    diags_->error(from, "could not open configuration directory '" + path + "': " + std::strerror(errno));
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
    if (names.size() > static_cast<size_t>(kMaxFiles)) break;
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    std::string child = path.back() == '/' ? path + n : path + "/" + n;
    include_path(child, from, false, depth + 1, nesting, out);
  }
}

void Reader::read_file(const std::string& path, const SourceLoc& from, int depth, int nesting,
                       std::vector<Directive>* out) {
  if (depth > kMaxIncludeDepth) {
    diags_->error(from, "Include nested deeper than " + std::to_string(kMaxIncludeDepth) +
                            " files at '" + path + "'");
    return;
  }
  if (total_bytes_ > kMaxTotalSize) return;  // reported when it happened
  if (files_ >= kMaxFiles) {
    if (!reported_too_many_files_) {
      diags_->error(from, "too many configuration files (more than " + std::to_string(kMaxFiles) +
                              "); '" + path + "' and later ones are not read");
      reported_too_many_files_ = true;
    }
    return;
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    diags_->error(from, "could not open configuration file '" + path + "': " + std::strerror(errno));
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    diags_->error(from, "'" + path + "' is not a regular file");
    return;
  }
  FileKey key{st.st_dev, st.st_ino};
  for (size_t k = 0; k < chain_.size(); ++k) {
    if (chain_[k].first == key) {
      close(fd);
      std::string message = "Include cycle: ";
      for (size_t j = k; j < chain_.size(); ++j) message += chain_[j].second + " -> ";
      message += path;
      diags_->error(from, message);
      return;
    }
  }
  if (static_cast<size_t>(st.st_size) > kMaxFileSize) {
    close(fd);
    diags_->error(from, "'" + path + "' is larger than " + std::to_string(kMaxFileSize >> 20) + " MiB");
    return;
  }
  std::string text;
  char buf[65536];
  bool failed = false;
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      diags_->error(from, "read(" + path + "): " + std::strerror(errno));
      failed = true;
      break;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxFileSize) {
      diags_->error(from, "'" + path + "' is larger than " + std::to_string(kMaxFileSize >> 20) + " MiB");
      failed = true;
      break;
    }
  }
  close(fd);
  if (failed) return;
  total_bytes_ += text.size();
  if (total_bytes_ > kMaxTotalSize) {
    if (!reported_total_size_) {
      diags_->error(from, "configuration larger than " + std::to_string(kMaxTotalSize >> 20) +
                              " MiB in all; '" + path + "' and later files are not read");
      reported_total_size_ = true;
    }
    return;
  }
  ++files_;
  diags_->add_source(path, text);
  chain_.emplace_back(key, path);
  read_text(path, text, depth, nesting, out);
  chain_.pop_back();
}

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_dir_for(const std::string& main, const SyntaxOptions& options) {
  std::string base = options.server_root.empty() ? directory_of(main) : options.server_root;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base;
}

}  // namespace

std::vector<Directive> read_config_file(const std::string& path, const SyntaxOptions& options,
                                        Diagnostics* diags) {
  std::vector<Directive> out;
  Reader reader(options, diags, base_dir_for(path, options));
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    diags->error(SourceLoc{path, 0, 0, 1}, "'" + path + "' is a directory, not a configuration file");
    return out;
  }
  reader.read_file(path, SourceLoc{path, 0, 0, 1}, 0, 0, &out);
  return out;
}

std::vector<Directive> read_config_text(const std::string& name, const std::string& text,
                                        const SyntaxOptions& options, Diagnostics* diags) {
  std::vector<Directive> out;
  diags->add_source(name, text);
  if (text.size() > kMaxFileSize) {
    diags->error(SourceLoc{name, 0, 0, 1},
                 "'" + name + "' is larger than " + std::to_string(kMaxFileSize >> 20) + " MiB");
    return out;
  }
  Reader reader(options, diags, base_dir_for(name, options));
  reader.read_text(name, text, 0, 0, &out);
  return out;
}

// Modules whose <IfModule> sections are kept. mod_wsgi itself; the httpd
// modules whose directives wsgid implements (core, http_core, mod_so for
// LoadModule, mod_alias for Alias, mod_log_config for CustomLog/LogFormat,
// mod_reqtimeout for RequestReadTimeout, mod_unixd for User/Group, the event
// MPM for ThreadsPerChild: wsgid's front end is event-driven, so configs meant
// for the worker or prefork MPM are not taken); and mod_authz_core, always
// loaded in httpd 2.4, so that "Require" lines reach the parser and are
// warned about instead of vanishing silently (wsgid does no access control);
// mod_version, because <IfVersion> is evaluated here.
// Both the module identifier and the source file name count, case-sensitively
// as in httpd.
bool module_is_loaded(std::string_view name) {
  static constexpr std::string_view kLoaded[] = {
      "wsgi_module",       "mod_wsgi.c",         //
      "core_module",       "core.c",             //
      "http_module",       "http_core.c",        //
      "so_module",         "mod_so.c",           //
      "alias_module",      "mod_alias.c",        //
      "log_config_module", "mod_log_config.c",   //
      "reqtimeout_module", "mod_reqtimeout.c",   //
      "unixd_module",      "mod_unixd.c",        //
      "mpm_event_module",  "event.c",            //
      "authz_core_module", "mod_authz_core.c",   //
      "version_module",    "mod_version.c",      //
  };
  return std::find(std::begin(kLoaded), std::end(kLoaded), name) != std::end(kLoaded);
}

}  // namespace wsgid::config
