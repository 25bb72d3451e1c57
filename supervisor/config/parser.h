// Directives -> Config: what each directive means, where it may appear, every
// error and warning of a configuration.
//
// parse_config_file() reads the file with syntax.h, applies every directive in
// its context (server config, <VirtualHost>, <Location>, <Directory>, ...),
// applies mod_wsgi's defaults, merges <Location> blocks as Apache does (the later
// block wins), and runs the whole-config checks (a daemon group no request can
// reach, a <Location> given twice with different groups, an alias that runs
// embedded next to daemon groups, a script file that does not exist, ...). Every
// diagnostic goes to ParseResult::diags; the Config holds whatever was valid.
// Used by `wsgid --check` and by the master at start and on reload (loop thread).
#pragma once

#include <string>
#include <vector>

#include "supervisor/config/model_names.h"
#include "supervisor/config/diagnostics.h"
#include "supervisor/config/syntax.h"

namespace wsgid::config {

struct ParseOptions {
  SyntaxOptions syntax;
  // Check that script files and directories exist (off for fuzzing).
  bool check_files = true;
};

struct ParseResult {
  Config config;
  Diagnostics diags;
  bool ok() const { return !diags.has_errors(); }
};

ParseResult parse_config_file(const std::string& path, const ParseOptions& options = {});
ParseResult parse_config_text(const std::string& name, const std::string& text,
                              const ParseOptions& options = {});

// Every directive name the parser gives a meaning to (implemented, or accepted
// with a warning that says why it has no effect), in its canonical spelling.
std::vector<std::string> known_directives();

}  // namespace wsgid::config
