// Directives -> Config; see parser.h. This file is the driver: it walks the tree
// syntax.cc read, opens the sections (<VirtualHost>, <Location>, <Directory>,
// <Files>, <WSGIInterpreterOptions>), dispatches each directive through the
// table of directives.h after checking its context, holds the argument helpers
// every handler uses, and ends with the whole-config checks of checks.h. The
// Parser itself is declared in parser_internal.h; its handlers live in
// wsgi_directives.cc, daemon_options.cc and server_directives.cc.
//
// ServerRoot: relative paths (scripts, logs, pid file, WSGIImportScript) resolve
// against ServerRoot, which defaults to the directory of the main config file
// (for text, the directory part of its name, else the current directory). A
// ServerRoot directive changes the base for the directives after it.
//
// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside
// libstdc++'s std::regex (std::function in _StateT); silence it for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "supervisor/config/parser.h"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "supervisor/authz/directives.h"
#include "supervisor/config/apache_directives.h"
#include "supervisor/config/checks.h"
#include "supervisor/config/daemon_options.h"
#include "supervisor/config/directives.h"
#include "supervisor/config/parser_internal.h"
#include "supervisor/config/values.h"

namespace wsgid::config {

namespace fs = std::filesystem;

namespace detail {

void Parser::run(const std::vector<Directive>& tree, const std::string& file) {
  config_.file = file;
  Scope server;
  server.ctx = kServer;
  server.vh = &config_.server;
  server.settings = &config_.server.settings;
  walk(tree, server);
  finish();
}

std::string Parser::resolve_path(const std::string& p) const {
  if (p.empty() || p[0] == '/' || p[0] == '|') return p;
  if (root_.empty()) return p;
  return (fs::path(root_) / p).lexically_normal().string();
}

// ---------------------------------------------------------------------------
// Contexts and arguments.

bool Parser::check_context(const Directive& d, const char* name, unsigned allowed,
                           const Scope& s) {
  if (allowed & s.ctx) return true;
  diags_->error(d.loc, std::string(name) + " cannot appear " + where(s) + "; " + belongs(allowed));
  return false;
}

bool Parser::nargs(const Directive& d, const char* name, size_t min, size_t max) {
  size_t n = d.args.size();
  if (n >= min && n <= max) return true;
  std::string m = name;
  if (min == max && min == 1)
    m += " takes one argument";
  else if (min == max && min == 0)
    m += " takes no arguments";
  else if (min == max)
    m += " takes " + std::to_string(min) + " arguments";
  else if (max == SIZE_MAX)
    m += min == 1 ? " takes at least one argument" : " takes at least " + std::to_string(min) + " arguments";
  else
    m += " takes " + std::to_string(min) + " to " + std::to_string(max) + " arguments";
  m += ", not " + std::to_string(n);
  diags_->error(d.loc, m);
  return false;
}

std::optional<bool> Parser::on_off(const Directive&, const char* name, const Arg& a) {
  if (iequals(a.text, "on")) return true;
  if (iequals(a.text, "off")) return false;
  diags_->error(a.loc, std::string(name) + " expects On or Off, not '" + a.text + "'");
  return std::nullopt;
}

std::optional<int64_t> Parser::int_arg(const Directive&, const char* name, const Arg& a,
                                       int64_t min, int64_t max, const char* expected) {
  int64_t v = 0;
  if (!parse_int(a.text, &v) || v < min || v > max) {
    diags_->error(a.loc, "invalid value '" + a.text + "' for " + name + ": expected " + expected);
    return std::nullopt;
  }
  return v;
}

// key=value arguments from d.args[start..]; a value opened with a quote runs to
// the argument that closes it (mod_wsgi's own option parser reads quoted values).
std::vector<KeyValue> Parser::key_values(const Directive& d, size_t start) {
  std::vector<KeyValue> out;
  for (size_t i = start; i < d.args.size(); ++i) {
    const Arg& a = d.args[i];
    KeyValue kv;
    kv.key_loc = a.loc;
    int shift = a.quoted ? 1 : 0;
    kv.key_loc.col += shift;
    size_t eq = a.text.find('=');
    if (eq == std::string::npos) {
      kv.key = a.text;
      kv.key_loc.len = static_cast<int>(std::max<size_t>(1, a.text.size()));
      out.push_back(kv);
      continue;
    }
    kv.has_eq = true;
    kv.key = a.text.substr(0, eq);
    kv.key_loc.len = static_cast<int>(std::max<size_t>(1, eq));
    kv.value = a.text.substr(eq + 1);
    kv.value_loc = a.loc;
    kv.value_loc.col += shift + static_cast<int>(eq) + 1;
    kv.value_loc.len = static_cast<int>(std::max<size_t>(1, kv.value.size()));
    if (!kv.value.empty() && (kv.value[0] == '"' || kv.value[0] == '\'')) {
      char q = kv.value[0];
      while (!(kv.value.size() >= 2 && kv.value.back() == q) && i + 1 < d.args.size())
        kv.value += " " + d.args[++i].text;
      if (kv.value.size() >= 2 && kv.value.back() == q)
        kv.value = kv.value.substr(1, kv.value.size() - 2);
    }
    out.push_back(kv);
  }
  return out;
}

std::vector<std::string> Parser::arg_texts(const Directive& d) {
  std::vector<std::string> v;
  for (const Arg& a : d.args) v.push_back(a.text);
  return v;
}

void Parser::report(SourceLoc loc, const ApacheVerdict& v) {
  if (v.fate == Fate::kRefuse)
    diags_->error(loc, v.message, v.notes);
  else if (v.fate == Fate::kWarn)
    diags_->warning(loc, v.message, v.notes);
}

void Parser::refuse_inside(const std::vector<Directive>& list, const std::string& section) {
  for (const Directive& c : list) {
    if (c.is_section) {
      std::optional<ApacheVerdict> v = apache_section(c.name);
      if (v && v->fate == Fate::kRefuse)
        diags_->error(c.loc, v->message + " (inside " + section + ", which wsgid skips)", v->notes);
      else
        refuse_inside(c.children, section);
      continue;
    }
    const DirectiveInfo* info = find_directive(c.name);
    // Access rules are implemented only where wsgid reads them; in a skipped
    // section they would be lost, so they are refused (but for the one that
    // grants what no rule grants anyway).
    std::vector<std::string> texts = arg_texts(c);
    bool grants_all = iequals(c.name, "Require") && texts.size() == 2 &&
                      iequals(texts[0], "all") && iequals(texts[1], "granted");
    if (info && info->handler && access_directive(*info) && !grants_all) {
      diags_->error(c.loc, std::string(info->name) +
                               " is refused: it restricts who may reach a path (inside " +
                               section + ", which wsgid skips)");
      continue;
    }
    if (info && !info->handler && info->refused) {
      diags_->error(c.loc, std::string(info->name) + " is refused: " + info->why +
                               " (inside " + section + ", which wsgid skips)");
      continue;
    }
    std::optional<ApacheVerdict> v = apache_directive(c.name, arg_texts(c));
    if (v && v->fate == Fate::kRefuse)
      diags_->error(c.loc, v->message + " (inside " + section + ", which wsgid skips)", v->notes);
  }
}

void Parser::walk(const std::vector<Directive>& list, Scope& scope) {
  for (const Directive& d : list) {
    if (d.is_section)
      section(d, scope);
    else
      directive(d, scope);
  }
}

void Parser::directive(const Directive& d, Scope& scope) {
  if (const DirectiveInfo* info = find_directive(d.name)) {
    if (!check_context(d, info->name, info->contexts, scope)) return;
    if (info->handler) {
      (this->*(info->handler))(d, scope);
    } else if (info->refused) {
      diags_->error(d.loc, std::string(info->name) + " is refused: " + info->why +
                               ", and wsgid does not implement it (fail closed: ignoring it "
                               "could serve this site more openly than Apache did)");
    } else {
      diags_->warning(d.loc, std::string(info->name) + " has no effect in wsgid: " + info->why +
                                 "; ignored");
    }
    return;
  }
  if (std::optional<ApacheVerdict> v = apache_directive(d.name, arg_texts(d))) {
    report(d.loc, *v);
    return;
  }
  std::vector<std::string_view> names = directive_suggestions();
  std::string_view near = closest(d.name, names);
  std::vector<std::string> notes;
  if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
  diags_->error(d.loc, "unknown directive '" + d.name + "'", notes);
}

void Parser::section(const Directive& d, Scope& scope) {
  std::string name = known_section(d.name);
  if (name.empty()) {
    if (std::optional<ApacheVerdict> v = apache_section(d.name)) {
      report(d.loc, *v);
      // Skipped with its contents: what inside would be refused is refused.
      if (v->fate != Fate::kRefuse) refuse_inside(d.children, "<" + d.name + ">");
      return;
    }
    std::vector<std::string_view> names = section_suggestions();
    std::string_view near = closest(d.name, names);
    std::vector<std::string> notes;
    if (!near.empty()) notes.push_back("did you mean '<" + std::string(near) + ">'?");
    diags_->error(d.loc, "unknown section <" + d.name + ">", notes);
    return;
  }
  if (name == "IfModule" || name == "IfDefine") {  // normally evaluated by syntax_conditions.cc
    walk(d.children, scope);
    return;
  }
  if (authz::find_directive(name)) {  // <RequireAll>, <Limit>, ...: access_directives.cc
    access_section(d, scope);
    return;
  }
  Scope inner = scope;
  inner.section = name;
  if (name == "VirtualHost") {
    if (!check_context(d, "<VirtualHost>", kServer, scope)) return;
    VirtualHost vh;
    vh.loc = d.loc;
    if (d.args.empty()) diags_->error(d.loc, "<VirtualHost> needs at least one address");
    for (const Arg& a : d.args) {
      ListenAddr addr;
      addr.loc = a.loc;
      std::string t = a.text;
      std::string host = t, port;
      if (!t.empty() && t[0] == '[') {
        size_t close = t.find(']');
        host = t.substr(1, close == std::string::npos ? std::string::npos : close - 1);
        if (close != std::string::npos && close + 1 < t.size() && t[close + 1] == ':')
          port = t.substr(close + 2);
      } else if (size_t c = t.rfind(':'); c != std::string::npos) {
        host = t.substr(0, c);
        port = t.substr(c + 1);
      }
      if (host == "*" || host == "_default_") host.clear();
      addr.host = host;
      if (!port.empty() && port != "*") {
        int64_t p = 0;
        if (!parse_int(port, &p) || p < 0 || p > 65535) {
          diags_->error(a.loc, "invalid address '" + t + "' in <VirtualHost>: expected host[:port] with a port from 1 to 65535");
          continue;
        }
        addr.port = static_cast<int>(p);
      }
      vh.addrs.push_back(addr);
    }
    config_.vhosts.push_back(std::move(vh));
    inner.ctx = kVHost;
    inner.vhost_index = static_cast<int>(config_.vhosts.size() - 1);
    inner.vh = &config_.vhosts.back();
    inner.settings = &inner.vh->settings;
    walk(d.children, inner);
    return;
  }
  if (name == "WSGIInterpreterOptions") {
    if (!check_context(d, "<WSGIInterpreterOptions>", kServer, scope)) return;
    diags_->warning(d.loc,
                    "<WSGIInterpreterOptions> has no effect in wsgid: per-interpreter GIL and "
                    "free-threading options are not implemented; the directives inside it are "
                    "checked and ignored");
    inner.ctx = kInterp;
    ScopeSettings scratch;
    inner.settings = &scratch;
    // Only interpreter directives may appear inside; check them, ignore them.
    for (const Directive& c : d.children) {
      if (c.is_section) {
        diags_->error(c.loc, "<" + c.name + "> cannot appear inside <WSGIInterpreterOptions>");
        continue;
      }
      const DirectiveInfo* info = find_directive(c.name);
      if (info && !(info->contexts & kInterp)) {
        check_context(c, info->name, info->contexts, inner);
        continue;
      }
      if (!info) {
        directive(c, inner);
        continue;
      }
    }
    return;
  }
  // Location, LocationMatch, Directory, DirectoryMatch, Files, FilesMatch.
  bool files = name == "Files" || name == "FilesMatch";
  bool is_dir = name == "Directory" || name == "DirectoryMatch";
  unsigned allowed = files ? (kSV | kDir) : kSV;
  if (!check_context(d, ("<" + name + ">").c_str(), allowed, scope)) return;
  if (files && scope.ctx == kDir && scope.section != "Directory" &&
      scope.section != "DirectoryMatch") {
    diags_->error(d.loc, "<" + name + "> cannot appear inside <" + scope.section +
                             ">; it belongs at server level, in <VirtualHost> or <Directory>");
    return;
  }
  Block b;
  b.loc = d.loc;
  b.is_files = files;
  b.is_regex = name.size() > 5 && name.substr(name.size() - 5) == "Match";
  size_t first = 0;
  if (!d.args.empty() && d.args[0].text == "~" && !b.is_regex) {
    b.is_regex = true;
    first = 1;
  }
  if (d.args.size() != first + 1) {
    diags_->error(d.loc, "<" + name + "> takes one path argument");
    return;
  }
  b.path = d.args[first].text;
  if (b.is_regex) {
    try {
      std::regex re(b.path, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      diags_->error(d.args[first].loc, "invalid regular expression '" + b.path + "' in <" +
                                           name + ">: " + e.what());
    }
  } else if (!files && !is_dir && !b.path.empty() && b.path[0] != '/') {
    std::vector<std::string> notes;
    if (auto q = typographic_quote(b.path))
      notes.push_back("the path starts with the typographic quote " + *q +
                      ", which is not a quote: it is part of the path; write \"/...\" with "
                      "ASCII quotes or none");
    diags_->warning(d.args[first].loc,
                    "<" + name + " " + b.path + "> can match no request: its path does not begin with '/'",
                    notes);
  }
  if (is_dir && !b.is_regex) b.path = resolve_path(b.path);
  std::vector<Block>& list = (is_dir || files) ? scope.vh->directories : scope.vh->locations;
  list.push_back(b);
  size_t index = list.size() - 1;
  ScopeSettings settings;
  inner.ctx = kDir;
  inner.settings = &settings;
  AccessScope access("<" + name + " " + b.path + "> at " + d.loc.file + ":" +
                     std::to_string(d.loc.line));
  inner.access = &access;
  std::vector<model::RewriteDirective> kept;
  inner.section_rewrite = &kept;
  walk(d.children, inner);
  // inner may have appended nested <Files> to the same vector: index stays valid.
  list[index].settings = settings;
  list[index].access = end_access(d, &access);
  list[index].rewrite = std::move(kept);
}

// ---------------------------------------------------------------------------
// After every directive: defaults that depend on other directives, then the
// whole-config checks.

void Parser::finish() {
  finish_rewrites();
  finish_proxies();
  apply_timeout_defaults(&config_);
  check_group_refs(config_, group_refs_, diags_);
  check_routes(config_, diags_);
  check_timeouts(config_, diags_);
  check_frontend_loops(config_, diags_);
  check_listen_coverage(config_, diags_);
  check_tls(&config_, diags_);
  if (options_.check_files) check_files(config_, diags_);
}

}  // namespace detail

namespace {

std::string default_root(const std::string& name) {
  fs::path p(name);
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  if (ec) return "";
  return abs.parent_path().lexically_normal().string();
}

ParseResult parse_tree(const std::vector<Directive>& tree, const std::string& name,
                       const ParseOptions& options, Diagnostics diags) {
  ParseResult r;
  r.diags = std::move(diags);
  std::string root = options.syntax.server_root.empty() ? default_root(name)
                                                        : options.syntax.server_root;
  detail::Parser p(options, &r.diags, root);
  p.run(tree, name);
  r.config = p.take();
  if (!r.config.server_root) r.config.server_root = root;
  return r;
}

}  // namespace

ParseResult parse_config_file(const std::string& path, const ParseOptions& options) {
  Diagnostics diags;
  std::vector<Directive> tree = read_config_file(path, options.syntax, &diags);
  return parse_tree(tree, path, options, std::move(diags));
}

ParseResult parse_config_text(const std::string& name, const std::string& text,
                              const ParseOptions& options) {
  Diagnostics diags;
  std::vector<Directive> tree = read_config_text(name, text, options.syntax, &diags);
  return parse_tree(tree, name, options, std::move(diags));
}

std::vector<std::string> known_directives() {
  return detail::directive_names();
}

}  // namespace wsgid::config
