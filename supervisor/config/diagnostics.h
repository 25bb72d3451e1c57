// Diagnostics: the errors and warnings of a configuration, rendered ninja/clang style.
//
//   site.conf:12:25: error: unknown option 'proceses' to WSGIDaemonProcess
//      12 | WSGIDaemonProcess site1 proceses=2 threads=15
//         |                         ^~~~~~~~
//   site.conf:12:25: note: did you mean 'processes'?
//
// The lexer registers each file's text (add_source) so that render() can show the
// offending line. Lines and columns are 1-based; columns count characters (UTF-8
// code points), so the caret sits under the right character. Every error of a file
// is collected; nothing stops at the first. Loop thread only (plain value type).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "model/source_loc.h"

namespace wsgid::config {

// The parser builds the model's types (model/config.h); it names them unqualified.
using model::SourceLoc;

enum class Severity { kError, kWarning, kNote };

struct Diagnostic {
  Severity severity;
  SourceLoc loc;
  std::string message;              // one line, no trailing period
  std::vector<std::string> notes;   // "did you mean 'processes'?", "write ... instead"
};

class Diagnostics {
 public:
  void error(SourceLoc loc, std::string message, std::vector<std::string> notes = {});
  void warning(SourceLoc loc, std::string message, std::vector<std::string> notes = {});
  void add(Diagnostic d);

  // Remembers a file's text for render(); the lexer calls it for every file read.
  void add_source(const std::string& file, std::string text);
  // The text of one line (without its newline, or a CR before it), "" when unknown;
  // valid until add_source() is called again for the same file.
  std::string_view line_text(const std::string& file, int line) const;

  bool has_errors() const { return errors_ > 0; }
  size_t error_count() const { return errors_; }
  size_t warning_count() const { return warnings_; }
  const std::vector<Diagnostic>& all() const { return items_; }

  // One diagnostic as shown above (ends with a newline).
  std::string render(const Diagnostic& d) const;
  // Every diagnostic in order, then a summary line such as
  // "site.conf: 2 errors, 1 warning generated." when there is any error or
  // warning (the file is the first one added with add_source()). A diagnostic of
  // Severity::kNote renders like the others, with its own line and caret ("<X>
  // opened here"); it counts as neither error nor warning.
  std::string render_all() const;

 private:
  std::vector<Diagnostic> items_;
  std::map<std::string, std::vector<std::string>> sources_;
  std::string first_source_;  // the first file added: the main file, named in the summary
  size_t errors_ = 0, warnings_ = 0;
};

// Edit distance for did-you-mean (ninja's edit_distance: insert/delete/replace
// each cost 1). Case-insensitive when fold_case.
int edit_distance(std::string_view a, std::string_view b, bool fold_case = true);
// The candidate nearest to word within max_distance (default: 1 for words of up
// to 4 characters, 2 up to 8, 3 beyond), or "" when none is near enough.
std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates,
                         int max_distance = -1);

}  // namespace wsgid::config
