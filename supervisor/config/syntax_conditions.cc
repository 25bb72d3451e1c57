// Conditions and variables of the Apache syntax: <IfModule>, <IfDefine> and
// <IfVersion> evaluated as httpd does (mod_version.c for <IfVersion>),
// Define/UnDefine in reading order and ${NAME} substitution (set_define,
// unset_define and ap_resolve_env in httpd's core.c). See syntax_reader.h.
// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside
// libstdc++'s std::regex (std::function in _StateT); silence it for this file
// (as parser.cc does).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/config/syntax_reader.h"

namespace wsgid::config {
namespace syntax_detail {
namespace {

// The httpd version <IfVersion> compares with: Debian 12's apache2 (2.4.57),
// whose AP_SERVER_ADD_STRING is empty, so regular expressions see "2.4.57".
constexpr int kHttpdVersion[3] = {2, 4, 57};
constexpr const char* kHttpdVersionString = "2.4.57";

}  // namespace

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

namespace {

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

}  // namespace

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
  bool match = false;
  bool ok = c == '~' || (c == '=' && !v.empty() && v[0] == '/')
                ? if_version_regex(d, version, c, &match)
                : if_version_compare(d, version, c, or_equal, &match);
  if (!ok) return false;
  return match != negate;
}

// <IfVersion>'s regular-expression form (after ~, or /regex/ after =):
// searched in "2.4.57". Stores the result in *match; false (reported) when it
// is unterminated, too long or not a regular expression.
bool Reader::if_version_regex(const Directive& d, const Arg& version, char c, bool* match) {
  std::string_view v = version.text;
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
    *match = std::regex_search(kHttpdVersionString, re);
  } catch (const std::regex_error& e) {
    diags_->error(version.loc, "invalid regular expression '" + std::string(rx) + "' in <" + d.name +
                                   ">: " + regex_problem(e.code(), rx));
    return false;
  }
  return true;
}

// <IfVersion>'s version form: httpd's version compared with version by the
// operator c ('=', '<' or '>', or_equal for <= and >=). Stores the result in
// *match; false (reported) when version is not a version.
bool Reader::if_version_compare(const Directive& d, const Arg& version, char c, bool or_equal,
                                bool* match) {
  std::string_view v = version.text;
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
    *match = cmp == 0;
  } else if (c == '<') {
    *match = cmp < 0 || (or_equal && cmp == 0);
  } else {
    *match = cmp > 0 || (or_equal && cmp == 0);
  }
  return true;
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
    if (variable_value(var, &value)) {
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
      if (var.find(':') == std::string::npos) warn_undefined(var, loc_of(name, *l, ref, close + 1));
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

// ${NAME}'s value: from Define, else from the environment. False when neither has it.
bool Reader::variable_value(const std::string& var, std::string* value) const {
  if (auto it = vars_.find(var); it != vars_.end()) {
    *value = it->second;
    return true;
  }
  if (const char* env = std::getenv(var.c_str()); env) {
    *value = env;
    return true;
  }
  return false;
}

// An undefined ${var} at loc: one warning per position, with how to define it.
void Reader::warn_undefined(const std::string& var, const SourceLoc& loc) {
  if (!variable_seen_.emplace(loc.file, loc.line, loc.col).second) return;
  std::vector<std::string> notes = {"define it with 'Define " + var +
                                    " value' before this line, or set " + var +
                                    " in wsgid's environment"};
  if (var.compare(0, 7, "APACHE_") == 0) {
    notes.push_back("Debian's apache2ctl sets APACHE_* variables from /etc/apache2/envvars; "
                    "source that file in the shell that starts wsgid");
  }
  diags_->warning(loc, "config variable ${" + var + "} is not defined; it is left as written", notes);
}

}  // namespace syntax_detail

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
