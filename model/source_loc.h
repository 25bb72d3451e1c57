// SourceLoc: where something was written in the configuration (file, line,
// column, length). The parser stamps every GroupSpec, Mount, Block... with one;
// the diagnostics renderer (supervisor/config/diagnostics.h) shows it as
// `file:line:col` with the line and a caret, `--check --json` as "defined_at".
// Plain value; any thread.
#pragma once

#include <string>

namespace wsgid::model {

struct SourceLoc {
  std::string file;  // as the user named it (or the glob expansion), "" when none
  int line = 0;      // 1-based; 0 = no position (whole-config facts)
  int col = 0;       // 1-based, in characters
  int len = 1;       // characters to underline
};

}  // namespace wsgid::model
