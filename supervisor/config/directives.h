// The directive table and the contexts: for every directive wsgid knows, where
// it may appear (server level, <VirtualHost>, <Location>/<Directory>/<Files>,
// <WSGIInterpreterOptions>) and which Parser handler gives it its meaning, or
// why it is accepted without effect; the Apache directives and sections wsgid
// skips with a warning; the names "did you mean" draws from. Constant tables
// and lookups over them (no state); driven by the Parser (parser_internal.h),
// loop thread. Pointers returned point into static tables and stay valid for
// the life of the program.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "supervisor/config/model_names.h"
#include "supervisor/config/syntax.h"

namespace wsgid::config::detail {

class Parser;
struct AccessScope;  // access_directives.cc

// Where a directive is: a bit set, so a directive's allowed contexts are an OR.
enum Ctx : unsigned { kServer = 1, kVHost = 2, kDir = 4, kInterp = 8 };
constexpr unsigned kSV = kServer | kVHost;
constexpr unsigned kAll = kServer | kVHost | kDir;

// The scope a directive is applied in. vh and settings point into the Config
// being built (or into a scratch ScopeSettings for <WSGIInterpreterOptions>)
// and are valid while the section that opened the scope is walked.
struct Scope {
  unsigned ctx = kServer;
  std::string section;             // "" at server level, else "VirtualHost", "Location", ...
  VirtualHost* vh = nullptr;       // the server or the current vhost
  int vhost_index = -1;
  ScopeSettings* settings = nullptr;
  // The access control section being read (a per-directory section, or a
  // <Limit>/<Require*> inside one); nullptr elsewhere ("not allowed here").
  AccessScope* access = nullptr;
  // The Header/RequestHeader/Redirect* lines of the per-directory section being
  // read (its Block::rewrite once the section ends); nullptr elsewhere.
  std::vector<model::RewriteDirective>* section_rewrite = nullptr;
};

using Handler = void (Parser::*)(const Directive&, Scope&);

struct DirectiveInfo {
  const char* name;  // canonical spelling
  unsigned contexts;
  Handler handler;  // nullptr: accepted with a warning (why), or refused
  const char* why;  // no handler: why it has no effect, or (refused) what Apache would do
  bool refused = false;
};

// The table entry for name (case-insensitive), or nullptr.
const DirectiveInfo* find_directive(std::string_view name);

// Every name of the table, in table order (known_directives()).
std::vector<std::string> directive_names();

// The canonical spelling of a section the Parser implements (VirtualHost,
// Location, ..., IfModule, IfDefine), or "" when name is none of them.
std::string known_section(std::string_view name);

// The candidates for "did you mean" after an unknown directive: the table, the
// ignored Apache directives, the sections, and the directives syntax.cc
// consumes (Include, IncludeOptional, Define). Views into static storage.
std::vector<std::string_view> directive_suggestions();

// The candidates for "did you mean" after an unknown section: the implemented
// and the ignored sections, and <IfVersion> (evaluated by syntax_conditions.cc).
std::vector<std::string_view> section_suggestions();

// "at server level" or "inside <Location>": where a directive was found.
std::string where(const Scope& s);

// "it belongs at server level or in <VirtualHost>": where contexts allows it.
std::string belongs(unsigned contexts);

}  // namespace wsgid::config::detail
