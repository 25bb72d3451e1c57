// The fate of every Apache directive and section wsgid does not implement
// itself: refused or warned, by the fail-closed rule (README, "Apache
// directives"): a directive that restricts who may reach a path, or changes
// which code or file answers it, is implemented (directives.h) or refused with
// what Apache would have done; only a directive that does neither is skipped
// with a warning. Some fates depend on the arguments (`SSLEngine off` changes
// nothing, `SSLEngine on` serves TLS). Constant tables and pure lookups; the
// Parser (parser.cc) asks them, loop thread. Pointers point into static tables.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsgid::config::detail {

enum class Fate {
  kQuiet,   // accepted without a word: it asks for what wsgid does anyway
  kWarn,    // skipped with a warning: it neither restricts access nor picks what answers
  kRefuse,  // an error: ignoring it could serve the site more openly than Apache did
};

// What the Parser does with one Apache directive and its arguments.
struct ApacheVerdict {
  Fate fate = Fate::kWarn;
  std::string message;             // the whole diagnostic text
  std::vector<std::string> notes;  // what to write instead, when there is something
};

// The verdict for directive name with args (argument texts, quotes removed), or
// nullopt when name is no Apache directive wsgid knows of (an unknown directive).
std::optional<ApacheVerdict> apache_directive(std::string_view name,
                                              const std::vector<std::string>& args);

// The verdict for an Apache section (<If>, <Limit>, <Proxy> ...) wsgid does not
// implement, or nullopt when name is none of them. A skipped (kWarn) section is
// skipped with its contents, so the Parser refuses it all the same when one of
// the directives inside would be refused.
std::optional<ApacheVerdict> apache_section(std::string_view name);

// Options' fail-closed verdict (the Options handler, handler_directives.cc, asks
// it before it records ExecCGI): refused for MultiViews and for option lists
// that stop following symbolic links, warned for Indexes (wsgid never lists
// directories), otherwise quiet.
ApacheVerdict options_verdict(std::string_view name, const std::vector<std::string>& args);

// The names of the Apache directives and sections the tables list (for "did you
// mean" and for the README table test). Views into static storage.
std::vector<std::string_view> apache_directive_names();
std::vector<std::string_view> apache_section_names();

// Each row of the tables as the README prints it: the name ("SSL*" for a family
// of names, "<If>" for a section), "refused" / "warned" / "by its arguments",
// and the reason. For the documentation test.
struct ApacheRow {
  std::string name;
  std::string_view fate;
  std::string_view reason;
};
std::vector<ApacheRow> apache_rows();

}  // namespace wsgid::config::detail
