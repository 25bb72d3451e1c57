// The reader behind read_config_file() and read_config_text() (syntax.h): one
// Reader per configuration walks the main file and everything it includes,
// line by line, and builds the directive tree. It owns the variables and
// defines seen so far, the Include base (ServerRoot), the chain of files being
// read (for cycles) and the running totals the limits count; it writes every
// diagnostic to *diags, which must outlive it, as must options. Loop thread (or
// any single thread). Internal to config_lib.
//
// Its methods are split by concern, one file each:
//   syntax.cc             the core: physical -> logical lines, words, sections,
//                         directives (read_text and its steps), the entry points
//   syntax_conditions.cc  <IfModule>, <IfDefine>, <IfVersion>, Define/UnDefine,
//                         ${NAME} substitution
//   syntax_includes.cc    Include/IncludeOptional (globs, directories, cycles),
//                         reading a file from disk, ServerRoot as the Include base
//   syntax_typographic.cc typographic quotes and Unicode spaces: detection and
//                         their warnings
// The references are httpd's own reader, as syntax.cc says.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "supervisor/config/diagnostics.h"
#include "supervisor/config/syntax.h"

namespace wsgid::config::syntax_detail {

// Limits against hostile input (fuzzing, a glob that matches /dev): each one
// ends in an error, never in a crash or unbounded memory.
inline constexpr size_t kMaxFileSize = 16u << 20;    // one file
inline constexpr size_t kMaxTotalSize = 64u << 20;   // everything read for one configuration
inline constexpr size_t kMaxLineLength = 64u << 10;  // one logical line, after joining
inline constexpr int kMaxSectionDepth = 64;          // <Section> nesting, across includes
inline constexpr int kMaxIncludeDepth = 64;          // Include chain (and directory recursion)
inline constexpr int kMaxFiles = 1024;               // files read for one configuration
inline constexpr size_t kMaxSubstituted = 64u << 20; // bytes ${NAME} values add, in all
inline constexpr size_t kMaxVersionRegex = 256;      // an <IfVersion> regular expression

// apr_isspace: what separates words in httpd's reader.
inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Typographic quotes: characters people paste from word processors and web
// pages instead of ASCII quotes (syntax_typographic.cc).
struct TypographicQuote {
  int32_t cp;
  const char* name;
  char ascii;  // the ASCII quote it imitates
};
// The entry for cp, or nullptr when cp is not a typographic quote.
const TypographicQuote* typographic_quote(int32_t cp);
// The name of a Unicode space that is not white space to httpd ("NO-BREAK
// SPACE"), or nullptr when cp is not one.
const char* unicode_space_name(int32_t cp);

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

// One file being read by read_text: where its directives go and the sections
// it has open. name must outlive it.
struct FileRead {
  const std::string& name;
  int depth;    // Include depth
  int nesting;  // open sections around the Include
  std::vector<Directive>* out;
  std::vector<Frame> stack;
  int overflow = 0;  // sections opened past kMaxSectionDepth (counted, not kept)

  // Where a directive read now goes: the innermost open section, else *out.
  std::vector<Directive>* current() { return stack.empty() ? out : &stack.back().dir.children; }
  // False inside a false conditional: nothing read is kept.
  bool active() const { return stack.empty() || stack.back().active; }
  // Sections open around the current line, across includes.
  int depth_of_sections() const { return nesting + static_cast<int>(stack.size()); }
};

// A section tag "<Name args>" or "</Name>" on a logical line.
struct SectionTag {
  bool closing = false;
  size_t name_begin = 0, name_end = 0;  // the name's bytes
  size_t args_end = 0;                  // before the '>' (or the line's end without one)
  std::string section;                  // the name
  SourceLoc tag_loc;                    // from '<' to the name's end
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
  // Lines and words (syntax.cc).
  bool next_logical_line(const std::string& name, std::string_view text,
                         const std::vector<std::pair<size_t, size_t>>& lines, size_t* index,
                         LogicalLine* out);
  bool check_physical_line(const std::string& name, std::string_view line, int number,
                           bool in_comment);
  SourceLoc loc_of(const std::string& name, const LogicalLine& l, size_t begin, size_t end) const;
  std::vector<Word> split_words(const std::string& name, const LogicalLine& l, size_t begin,
                                size_t end, bool report);

  // The steps of read_text (syntax.cc).
  void read_line(FileRead* f, LogicalLine* l);
  size_t skip_indentation(const FileRead& f, const LogicalLine& l);
  bool parse_section_tag(const FileRead& f, const LogicalLine& l, size_t at, SectionTag* tag);
  void close_section(FileRead* f, const LogicalLine& l, const SectionTag& tag);
  void open_section(FileRead* f, const LogicalLine& l, const SectionTag& tag, bool live);
  void read_directive(FileRead* f, const LogicalLine& l, size_t at, bool live);
  void apply_directive(FileRead* f, Directive d);
  void pop_section(FileRead* f);
  void close_at_end_of_file(FileRead* f, const LogicalLine& last, size_t line_count);

  // Typographic quotes and Unicode spaces (syntax_typographic.cc).
  void warn_typographic(const std::string& name, const LogicalLine& l, const Word& w);
  void warn_unicode_indentation(const std::string& name, const LogicalLine& l, size_t at);

  // Includes (syntax_includes.cc).
  void handle_include(const Directive& d, bool optional, int depth, int nesting,
                      std::vector<Directive>* out);
  void include_path(const std::string& path, const SourceLoc& from, bool optional, int depth,
                    int nesting, std::vector<Directive>* out);
  void include_directory(const std::string& path, const SourceLoc& from, int depth, int nesting,
                         std::vector<Directive>* out);
  void handle_server_root(const Directive& d);
  int open_config_file(const std::string& path, const SourceLoc& from, FileKey* key);
  bool read_config_bytes(int fd, const std::string& path, const SourceLoc& from, std::string* text);

  // Conditions and variables (syntax_conditions.cc).
  bool evaluate_condition(const Directive& d);
  bool evaluate_if_version(const Directive& d);
  bool if_version_regex(const Directive& d, const Arg& version, char c, bool* match);
  bool if_version_compare(const Directive& d, const Arg& version, char c, bool or_equal,
                          bool* match);
  bool substitute(const std::string& name, LogicalLine* l, size_t from);
  bool variable_value(const std::string& var, std::string* value) const;
  void warn_undefined(const std::string& var, const SourceLoc& loc);
  void handle_define(const Directive& d);

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

}  // namespace wsgid::config::syntax_detail
