// Apache configuration syntax: text -> a tree of directives with positions.
//
// Handles what httpd's own reader does before any directive means anything:
// one directive per line; a trailing backslash joins the next line; '#' starts a
// comment only as a line's first non-blank character (as in Apache); arguments
// split at white space, "double" or 'single' quoted arguments keep their spaces
// and take backslash escapes of the quote and of backslash; <Section args> ...
// </Section> blocks nest and must close in order; <IfModule [!]name>,
// <IfDefine [!]NAME> and <IfVersion [[!]operator] version> are evaluated here and
// vanish from the tree; Include and IncludeOptional (globs, relative paths
// resolved against the server root, cycles detected) splice the included
// directives in place.
//
// Variables, as httpd 2.4's core: `Define NAME [value]` and `UnDefine NAME` take
// effect in reading order (wherever they appear, also inside a <VirtualHost>) and
// are consumed here: the parser never sees them. A defined NAME makes <IfDefine
// NAME> true; `${NAME}` in any live, non-comment line (directive names, arguments,
// section arguments) is replaced by its Define value, else by the environment
// variable NAME, before the line is split into words (so a value with spaces
// gives several arguments, as in httpd); values are not scanned again. An
// undefined `${NAME}` stays as written, with a warning at the "${" (none when
// NAME has a ':': RewriteMap's ${map:key}).
//
// <IfVersion> compares with httpd 2.4.57 (Debian 12's), as mod_version does:
// operators = (default), ==, <, <=, >, >=, ~ regex, and = /regex/, each with an
// optional '!'; "2.4" means 2.4.0.
//
// `ServerRoot PATH` outside any section changes the base of the relative
// Include paths that follow it (relative PATHs resolve against the previous
// base); the directive stays in the tree for the parser.
//
// Typographic quotes (U+201C, U+201D, U+2018, U+2019, U+2033, ...) are not quotes,
// as in Apache: the argument keeps them; this layer records a warning naming the
// character, its line and column and the fix.
//
// Where we differ from httpd, it is mostly to report more:
// a NUL byte or invalid UTF-8 is an error (a warning inside a comment), an
// unterminated quote is an error, U+00A0 and other Unicode spaces before a
// directive are skipped with a warning, '#' starting an argument and "\ " at a
// line's end are warned about. Sections must close in the file that opens them.
// Limits (errors, never crashes): 16 MiB per file, 64 MiB and 1024 files in all,
// 64 KiB per logical line (also after ${} substitution), 64 MiB of substituted
// values in all, sections nested 64 deep, Include chains 64 deep, <IfVersion>
// regular expressions of 256 characters.
//
// Driven by the parser (parser.h) on the master's loop thread; no I/O other than
// reading the named files (and getenv for ${NAME}).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "supervisor/config/diagnostics.h"

namespace wsgid::config {

struct Arg {
  std::string text;  // unquoted, escapes resolved
  SourceLoc loc;     // where the argument starts (its opening quote, if quoted)
  bool quoted = false;
};

struct Directive {
  std::string name;   // as written, without '<' for sections ("VirtualHost")
  SourceLoc loc;      // the name's position; len = name length
  std::vector<Arg> args;
  bool is_section = false;
  std::vector<Directive> children;  // sections only
};

struct SyntaxOptions {
  // Base for relative Include paths until a ServerRoot directive; "" = the main
  // file's directory.
  std::string server_root;
  // Names defined before reading (wsgid -D NAME), as httpd -D: <IfDefine> sees
  // them; UnDefine can remove them. They give no ${NAME} value.
  std::vector<std::string> defines;
  // Off for fuzzing: Include/IncludeOptional then only record an error.
  bool allow_include = true;
};

// Reads path and everything it includes. Errors (unreadable file, unbalanced
// sections, Include cycles, a missing Include target) and warnings (typographic
// quotes) go to *diags; the tree holds whatever could be read.
std::vector<Directive> read_config_file(const std::string& path, const SyntaxOptions& options,
                                        Diagnostics* diags);
// The same for text already in memory, named `name` in diagnostics (tests, fuzzing).
std::vector<Directive> read_config_text(const std::string& name, const std::string& text,
                                        const SyntaxOptions& options, Diagnostics* diags);

// Module names that <IfModule> treats as loaded ("wsgi_module", "mod_wsgi.c", ...):
// mod_wsgi and the httpd modules whose directives wsgid implements; the list and
// why is in syntax_conditions.cc. Case-sensitive, as in httpd.
bool module_is_loaded(std::string_view name);

}  // namespace wsgid::config
