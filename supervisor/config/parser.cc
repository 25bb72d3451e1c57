// Directives -> Config; see parser.h. One table (kDirectives) says, for every
// directive wsgid knows, where it may appear and what it does; another
// (kDaemonOptions) does the same for every WSGIDaemonProcess option. The
// whole-config checks run after every directive has been applied.
//
// ServerRoot: relative paths (scripts, logs, pid file, WSGIImportScript) resolve
// against ServerRoot, which defaults to the directory of the main config file
// (for text, the directory part of its name, else the current directory). A
// ServerRoot directive changes the base for the directives after it.
// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside
// libstdc++'s std::regex (std::function in _StateT); silence it for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "supervisor/config/parser.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "common/log.h"
#include "supervisor/config/resolve.h"

namespace wsgid::config {

namespace {

namespace fs = std::filesystem;

enum Ctx : unsigned { kServer = 1, kVHost = 2, kDir = 4, kInterp = 8 };
constexpr unsigned kSV = kServer | kVHost;
constexpr unsigned kAll = kServer | kVHost | kDir;

std::string lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

bool iequals(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

std::string loc_text(const SourceLoc& l) { return l.file + ":" + std::to_string(l.line); }

// Strict decimal integer (optional sign); false on anything else or overflow.
bool parse_int(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t k = i; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return false;
  std::string t(s);
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (errno == ERANGE || *end) return false;
  *out = v;
  return true;
}

bool parse_float(std::string_view s, double* out) {
  if (s.empty() || s.size() > 40) return false;
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E'))
      return false;
  std::string t(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(t.c_str(), &end);
  if (errno == ERANGE || *end || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// The U+XXXX name and the character itself for the first typographic quote in s.
std::optional<std::string> typographic_quote(std::string_view s) {
  static const std::pair<const char*, const char*> kQuotes[] = {
      {"\xE2\x80\x9C", "U+201C"}, {"\xE2\x80\x9D", "U+201D"}, {"\xE2\x80\x98", "U+2018"},
      {"\xE2\x80\x99", "U+2019"}, {"\xE2\x80\xB3", "U+2033"}, {"\xE2\x80\xB2", "U+2032"},
      {"\xC2\xAB", "U+00AB"},     {"\xC2\xBB", "U+00BB"},     {"\xE2\x80\x9E", "U+201E"}};
  size_t best = std::string_view::npos;
  std::string found;
  for (const auto& [bytes, name] : kQuotes) {
    size_t p = s.find(bytes);
    if (p < best) {
      best = p;
      found = std::string(name) + " (" + bytes + ")";
    }
  }
  if (best == std::string_view::npos) return std::nullopt;
  return found;
}

// ---------------------------------------------------------------------------
// Directive and option tables.

class Parser;

struct Scope {
  unsigned ctx = kServer;
  std::string section;             // "" at server level, else "VirtualHost", "Location", ...
  VirtualHost* vh = nullptr;       // the server or the current vhost
  int vhost_index = -1;
  ScopeSettings* settings = nullptr;
};

using Handler = void (Parser::*)(const Directive&, Scope&);

struct DirectiveInfo {
  const char* name;
  unsigned contexts;
  Handler handler;  // nullptr: accepted with a warning (why)
  const char* why;
};

// Apache directives common in vhost files that wsgid does not implement.
const char* const kApacheIgnored[] = {
    "AcceptFilter", "AcceptPathInfo", "AccessFileName", "Action", "AddCharset",
    "AddDefaultCharset", "AddDescription", "AddEncoding", "AddHandler", "AddIcon",
    "AddIconByEncoding", "AddIconByType", "AddInputFilter", "AddLanguage", "AddOutputFilter",
    "AddOutputFilterByType", "AddType", "Allow", "AllowEncodedSlashes", "AllowMethods",
    "AllowOverride", "AllowOverrideList", "BrowserMatch", "BrowserMatchNoCase", "CGIPassAuth",
    "DefaultIcon", "DefaultLanguage", "DefaultType", "Define", "DeflateCompressionLevel",
    "Deny", "DirectoryIndex", "DirectorySlash", "DocumentRoot", "EnableMMAP", "EnableSendfile",
    "ErrorDocument", "ErrorLogFormat", "FallbackResource", "FileETag", "ForceLanguagePriority",
    "ForceType", "GracefulShutdownTimeout", "Header", "HeaderName", "HostnameLookups",
    "IndexIgnore", "IndexOptions", "IndexOrderDefault", "KeepAliveRequests", "LanguagePriority",
    "LimitXMLRequestBody", "ListenBacklog", "LoadFile", "LoadModule", "MaxClients",
    "MaxConnectionsPerChild", "MaxRequestWorkers", "MaxRequestsPerChild", "MaxSpareServers",
    "MaxSpareThreads", "MinSpareServers", "MinSpareThreads", "MimeMagicFile", "Mutex",
    "NameVirtualHost", "Options", "Order", "PassEnv", "Protocols", "ReadmeName", "Redirect",
    "RedirectMatch", "RedirectPermanent", "RedirectTemp", "RemoveHandler", "RemoveType",
    "Require", "RequestHeader", "Satisfy", "ScriptAlias", "ScriptAliasMatch", "ServerAdmin",
    "ServerLimit", "ServerPath", "ServerSignature", "ServerTokens", "SetEnv", "SetEnvIf",
    "SetEnvIfExpr", "SetEnvIfNoCase", "SetHandler", "SetInputFilter", "SetOutputFilter",
    "StartServers", "ThreadLimit", "ThreadStackSize", "TraceEnable", "TransferLog",
    "TypesConfig", "UnsetEnv", "UseCanonicalName", "UseCanonicalPhysicalPort", "XSendFile",
    "XSendFilePath"};
// Families of them, by prefix.
const char* const kApacheIgnoredPrefixes[] = {"SSL", "Rewrite", "Proxy", "Auth", "Expires",
                                              "Deflate", "H2", "Header", "Session", "Cache",
                                              "Dav", "Php", "php_"};
// Apache sections wsgid skips with their contents.
const char* const kApacheIgnoredSections[] = {
    "If", "ElseIf", "Else", "Proxy", "ProxyMatch", "Limit", "LimitExcept", "IfVersion",
    "IfFile", "IfDirective", "IfSection", "RequireAll", "RequireAny", "RequireNone", "Macro",
    "AuthnProviderAlias", "AuthzProviderAlias"};

struct DaemonOption;
using OptSetter = bool (*)(Parser&, GroupSpec&, const std::string& value, const SourceLoc& at);

struct DaemonOption {
  const char* name;
  const char* expected;  // shown after "expected "
  OptSetter set;         // false: the value is invalid
};

extern const DirectiveInfo kDirectives[];
extern const size_t kDirectiveCount;
extern const DaemonOption kDaemonOptions[];
extern const size_t kDaemonOptionCount;

// One key=value option (WSGIDaemonProcess, WSGIScriptAlias, WSGIImportScript).
struct KeyValue {
  std::string key, value;
  SourceLoc key_loc, value_loc;
  bool has_eq = false;
};

class Parser {
 public:
  Parser(const ParseOptions& options, Diagnostics* diags, std::string root)
      : options_(options), diags_(diags), root_(std::move(root)) {}

  void run(const std::vector<Directive>& tree, const std::string& file) {
    config_.file = file;
    Scope server;
    server.ctx = kServer;
    server.vh = &config_.server;
    server.settings = &config_.server.settings;
    walk(tree, server);
    finish();
  }

  Config take() { return std::move(config_); }

  // --- helpers used by handlers and option setters -------------------------
  Diagnostics& diags() { return *diags_; }
  const ParseOptions& options() const { return options_; }

  std::string resolve_path(const std::string& p) const {
    if (p.empty() || p[0] == '/' || p[0] == '|') return p;
    if (root_.empty()) return p;
    return (fs::path(root_) / p).lexically_normal().string();
  }

  // --- handlers -------------------------------------------------------------
  void d_daemon_process(const Directive& d, Scope& s);
  void d_process_group(const Directive& d, Scope& s);
  void d_application_group(const Directive& d, Scope& s);
  void d_callable_object(const Directive& d, Scope& s);
  void d_pass_authorization(const Directive& d, Scope& s);
  void d_script_reloading(const Directive& d, Scope& s);
  void d_restrict_process(const Directive& d, Scope& s);
  void d_script_alias(const Directive& d, Scope& s);
  void d_import_script(const Directive& d, Scope& s);
  void d_restrict_embedded(const Directive& d, Scope& s);
  void d_socket_prefix(const Directive& d, Scope& s);
  void d_python_home(const Directive& d, Scope& s);
  void d_python_path(const Directive& d, Scope& s);
  void d_control_socket(const Directive& d, Scope& s);
  void d_listen(const Directive& d, Scope& s);
  void d_server_name(const Directive& d, Scope& s);
  void d_server_alias(const Directive& d, Scope& s);
  void d_user(const Directive& d, Scope& s);
  void d_group(const Directive& d, Scope& s);
  void d_pid_file(const Directive& d, Scope& s);
  void d_server_root(const Directive& d, Scope& s);
  void d_error_log(const Directive& d, Scope& s);
  void d_custom_log(const Directive& d, Scope& s);
  void d_log_format(const Directive& d, Scope& s);
  void d_log_level(const Directive& d, Scope& s);
  void d_timeout(const Directive& d, Scope& s);
  void d_keep_alive(const Directive& d, Scope& s);
  void d_keep_alive_timeout(const Directive& d, Scope& s);
  void d_max_keep_alive_requests(const Directive& d, Scope& s);
  void d_limit(const Directive& d, Scope& s);
  void d_request_read_timeout(const Directive& d, Scope& s);
  void d_threads_per_child(const Directive& d, Scope& s);
  void d_alias(const Directive& d, Scope& s);

 private:
  void walk(const std::vector<Directive>& list, Scope& scope);
  void section(const Directive& d, Scope& scope);
  void directive(const Directive& d, Scope& scope);
  bool check_context(const Directive& d, const char* name, unsigned allowed, const Scope& s);
  bool nargs(const Directive& d, const char* name, size_t min, size_t max);
  std::optional<bool> on_off(const Directive& d, const char* name, const Arg& a);
  std::vector<KeyValue> key_values(const Directive& d, size_t start);
  bool server_level_only_value(const Directive& d, const char* name, const Scope& s);
  std::optional<int64_t> int_arg(const Directive& d, const char* name, const Arg& a,
                                 int64_t min, int64_t max, const char* expected);
  void check_group_name_ref(const std::string& value, const SourceLoc& at, const char* what);
  void check_app_group(const std::string& value, const SourceLoc& at);
  void finish();
  void check_routes();
  void check_group_access(const std::string& group, int host, const Mount& m,
                          const std::string& url);
  void check_files();

  const ParseOptions& options_;
  Diagnostics* diags_;
  std::string root_;
  Config config_;
  std::map<std::string, SourceLoc> group_defs_;
  std::map<std::string, std::string> log_formats_ = {
      {"combined", "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\""},
      {"common", "%h %l %u %t \"%r\" %>s %O"},
      {"vhost_combined", "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\""},
      {"referer", "%{Referer}i -> %U"},
      {"agent", "%{User-Agent}i"}};
  std::set<std::string> socket_timeout_given_, response_socket_timeout_given_;
  std::vector<std::pair<std::string, SourceLoc>> group_refs_;  // WSGIProcessGroup values
  std::map<std::string, SourceLoc> listen_seen_;
  std::set<std::string> access_warned_;
  friend bool set_socket_timeout(Parser&, GroupSpec&, const std::string&, const SourceLoc&);
  friend bool set_response_socket_timeout(Parser&, GroupSpec&, const std::string&,
                                          const SourceLoc&);
};

// ---------------------------------------------------------------------------
// Walking the tree.

std::string where(const Scope& s) {
  return s.section.empty() ? "at server level" : "inside <" + s.section + ">";
}

std::string belongs(unsigned c) {
  switch (c) {
    case kServer: return "it belongs at server level";
    case kSV: return "it belongs at server level or in <VirtualHost>";
    case kVHost: return "it belongs in <VirtualHost>";
    case kDir: return "it belongs in <Location>, <Directory> or <Files>";
    case kServer | kInterp: return "it belongs at server level or in <WSGIInterpreterOptions>";
    default: return "it belongs at server level, in <VirtualHost>, <Location>, <Directory> or <Files>";
  }
}

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

bool is_ignored_apache(std::string_view name) {
  for (const char* n : kApacheIgnored)
    if (iequals(n, name)) return true;
  for (const char* p : kApacheIgnoredPrefixes) {
    std::string_view pv(p);
    if (name.size() > pv.size() && iequals(name.substr(0, pv.size()), pv)) return true;
  }
  return false;
}

const DirectiveInfo* find_directive(std::string_view name) {
  for (size_t i = 0; i < kDirectiveCount; ++i)
    if (iequals(kDirectives[i].name, name)) return &kDirectives[i];
  return nullptr;
}

const char* const kSections[] = {"VirtualHost", "Location", "LocationMatch", "Directory",
                                 "DirectoryMatch", "Files", "FilesMatch",
                                 "WSGIInterpreterOptions", "IfModule", "IfDefine"};

std::vector<std::string_view> all_names() {
  std::vector<std::string_view> v;
  for (size_t i = 0; i < kDirectiveCount; ++i) v.push_back(kDirectives[i].name);
  for (const char* n : kApacheIgnored) v.push_back(n);
  for (const char* n : kSections) v.push_back(n);
  v.push_back("Include");
  v.push_back("IncludeOptional");
  return v;
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
    } else {
      diags_->warning(d.loc, std::string(info->name) + " has no effect in wsgid: " + info->why +
                                 "; ignored");
    }
    return;
  }
  if (is_ignored_apache(d.name)) {
    diags_->warning(d.loc, d.name + " is an Apache directive wsgid does not implement; ignored");
    return;
  }
  std::vector<std::string_view> names = all_names();
  std::string_view near = closest(d.name, names);
  std::vector<std::string> notes;
  if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
  diags_->error(d.loc, "unknown directive '" + d.name + "'", notes);
}

void Parser::section(const Directive& d, Scope& scope) {
  std::string name;
  for (const char* n : kSections)
    if (iequals(n, d.name)) name = n;
  if (name.empty()) {
    for (const char* n : kApacheIgnoredSections) {
      if (iequals(n, d.name)) {
        diags_->warning(d.loc, "<" + d.name +
                                   "> is an Apache section wsgid does not implement; it is "
                                   "ignored with everything inside it");
        return;
      }
    }
    std::vector<std::string_view> names(std::begin(kSections), std::end(kSections));
    for (const char* n : kApacheIgnoredSections) names.push_back(n);
    std::string_view near = closest(d.name, names);
    std::vector<std::string> notes;
    if (!near.empty()) notes.push_back("did you mean '<" + std::string(near) + ">'?");
    diags_->error(d.loc, "unknown section <" + d.name + ">", notes);
    return;
  }
  if (name == "IfModule" || name == "IfDefine") {  // normally evaluated by syntax.cc
    walk(d.children, scope);
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
  walk(d.children, inner);
  // inner may have appended nested <Files> to the same vector: index stays valid.
  list[index].settings = settings;
}

// ---------------------------------------------------------------------------
// WSGI directives.

void Parser::check_group_name_ref(const std::string& value, const SourceLoc& at,
                                  const char* what) {
  if (value.empty() || value == "%{GLOBAL}") return;
  if (value[0] == '%') {
    if (!is_known_expansion(value))
      diags_->error(at, std::string("unknown expansion '") + value + "' in " + what +
                            ": expected %{GLOBAL}, %{ENV:NAME}, %{RESOURCE}, %{SERVER} or %{HOST}");
    return;
  }
  group_refs_.emplace_back(value, at);
}

void Parser::check_app_group(const std::string& value, const SourceLoc& at) {
  if (value.size() > 2 && value[0] == '%' && value[1] == '{' && !is_known_expansion(value)) {
    std::vector<std::string_view> known = {"%{GLOBAL}", "%{RESOURCE}", "%{SERVER}", "%{HOST}"};
    std::string_view near = closest(value, known);
    std::vector<std::string> notes;
    if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
    diags_->warning(at, "'" + value +
                            "' is not an expansion mod_wsgi knows; it names an application "
                            "group literally",
                    notes);
  }
}

void Parser::d_process_group(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGIProcessGroup", 1, 1)) return;
  check_group_name_ref(d.args[0].text, d.args[0].loc, "WSGIProcessGroup");
  s.settings->process_group = d.args[0].text;
}

void Parser::d_application_group(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGIApplicationGroup", 1, 1)) return;
  check_app_group(d.args[0].text, d.args[0].loc);
  s.settings->application_group = d.args[0].text;
}

void Parser::d_callable_object(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGICallableObject", 1, 1)) return;
  s.settings->callable_object = d.args[0].text;
}

void Parser::d_pass_authorization(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGIPassAuthorization", 1, 1)) return;
  if (auto v = on_off(d, "WSGIPassAuthorization", d.args[0])) s.settings->pass_authorization = *v;
}

void Parser::d_script_reloading(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGIScriptReloading", 1, 1)) return;
  if (auto v = on_off(d, "WSGIScriptReloading", d.args[0])) {
    s.settings->script_reloading = *v;
    if (s.ctx == kServer) config_.script_reloading = *v;
  }
}

void Parser::d_restrict_process(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGIRestrictProcess", 1, SIZE_MAX)) return;
  std::vector<std::string> names;
  for (const Arg& a : d.args) {
    check_group_name_ref(a.text, a.loc, "WSGIRestrictProcess");
    names.push_back(a.text);
  }
  s.settings->restrict_process = names;
}

void Parser::d_restrict_embedded(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIRestrictEmbedded", 1, 1)) return;
  if (auto v = on_off(d, "WSGIRestrictEmbedded", d.args[0])) config_.restrict_embedded = *v;
}

void Parser::d_socket_prefix(const Directive& d, Scope&) {
  if (!nargs(d, "WSGISocketPrefix", 1, 1)) return;
  config_.socket_prefix = resolve_path(d.args[0].text);
}

void Parser::d_python_home(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIPythonHome", 1, 1)) return;
  config_.python_home = d.args[0].text;
}

void Parser::d_python_path(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIPythonPath", 1, 1)) return;
  std::string p = d.args[0].text;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    if (end > start) config_.python_path.push_back(p.substr(start, end - start));
    start = end + 1;
  }
}

void Parser::d_control_socket(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIControlSocket", 1, 1)) return;
  config_.control_socket = resolve_path(d.args[0].text);
}

void Parser::d_script_alias(const Directive& d, Scope& s) {
  bool match = iequals(d.name, "WSGIScriptAliasMatch");
  const char* name = match ? "WSGIScriptAliasMatch" : "WSGIScriptAlias";
  if (!nargs(d, name, 2, SIZE_MAX)) return;
  Mount m;
  m.loc = d.loc;
  m.is_match = match;
  m.url = d.args[0].text;
  m.script = resolve_path(d.args[1].text);
  if (match) {
    try {
      std::regex re(m.url, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      diags_->error(d.args[0].loc,
                    "invalid regular expression '" + m.url + "' in " + name + ": " + e.what());
      return;
    }
  } else if (m.url.empty() || m.url[0] != '/') {
    diags_->error(d.args[0].loc, std::string(name) + " URL '" + m.url + "' must begin with '/'");
    return;
  }
  static const std::vector<std::string_view> kKeys = {"process-group", "application-group",
                                                      "callable-object", "pass-authorization"};
  for (const KeyValue& kv : key_values(d, 2)) {
    if (!kv.has_eq || std::find(kKeys.begin(), kKeys.end(), kv.key) == kKeys.end()) {
      std::string_view near = closest(kv.key, kKeys);
      std::vector<std::string> notes;
      if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
      diags_->error(kv.key_loc, "unknown option '" + kv.key + "' to " + name +
                                    ": expected process-group=, application-group=, "
                                    "callable-object= or pass-authorization=",
                    notes);
      continue;
    }
    if (kv.key == "process-group") {
      check_group_name_ref(kv.value, kv.value_loc, "process-group=");
      m.process_group = kv.value;
    } else if (kv.key == "application-group") {
      check_app_group(kv.value, kv.value_loc);
      m.application_group = kv.value;
    } else if (kv.key == "callable-object") {
      m.callable_object = kv.value;
    } else {
      if (iequals(kv.value, "on"))
        m.pass_authorization = true;
      else if (iequals(kv.value, "off"))
        m.pass_authorization = false;
      else
        diags_->error(kv.value_loc,
                      "invalid value '" + kv.value + "' for pass-authorization=: expected On or Off");
    }
  }
  for (const Mount& other : s.vh->mounts) {
    if (other.is_match == m.is_match && other.url == m.url) {
      diags_->warning(d.loc, std::string(name) + " " + m.url + " is given twice; the first, at " +
                                 loc_text(other.loc) + ", serves every request for it");
      break;
    }
  }
  s.vh->mounts.push_back(std::move(m));
}

void Parser::d_import_script(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIImportScript", 1, SIZE_MAX)) return;
  ImportScript is;
  is.loc = d.loc;
  is.script = resolve_path(d.args[0].text);
  bool pg = false, ag = false, unknown = false;
  for (const KeyValue& kv : key_values(d, 1)) {
    if (kv.has_eq && kv.key == "process-group") {
      pg = true;
      check_group_name_ref(kv.value, kv.value_loc, "process-group=");
      is.process_group = kv.value == "%{GLOBAL}" ? "" : kv.value;
    } else if (kv.has_eq && kv.key == "application-group") {
      ag = true;
      check_app_group(kv.value, kv.value_loc);
      is.application_group = kv.value == "%{GLOBAL}" ? "" : kv.value;
    } else {
      std::vector<std::string_view> keys = {"process-group", "application-group"};
      std::string_view near = closest(kv.key, keys);
      std::vector<std::string> notes;
      if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
      diags_->error(kv.key_loc, "unknown option '" + kv.key +
                                    "' to WSGIImportScript: expected process-group= or "
                                    "application-group=",
                    notes);
      unknown = true;
    }
  }
  if (unknown) return;
  if (!pg || !ag) {
    diags_->error(d.loc, "WSGIImportScript needs both process-group= and application-group=");
    return;
  }
  if (is.application_group.find("%{") != std::string::npos)
    diags_->error(d.loc, "WSGIImportScript application-group= cannot hold an expansion other "
                         "than %{GLOBAL}: the script is loaded before any request");
  config_.imports.push_back(is);
}

// --- WSGIDaemonProcess options ----------------------------------------------

bool set_int(int64_t* out, const std::string& v, int64_t min, int64_t max) {
  int64_t n = 0;
  if (!parse_int(v, &n) || n < min || n > max) return false;
  *out = n;
  return true;
}

template <class T>
bool set_int_field(T* field, const std::string& v, int64_t min, int64_t max) {
  int64_t n = 0;
  if (!set_int(&n, v, min, max)) return false;
  *field = static_cast<T>(n);
  return true;
}

constexpr int64_t kMaxSeconds = 100LL * 365 * 24 * 3600;
constexpr int64_t kMaxBytes = INT64_MAX / 2;

bool set_seconds(double* field, const std::string& v) {
  int64_t n = 0;
  if (!set_int(&n, v, 0, kMaxSeconds)) return false;
  *field = static_cast<double>(n);
  return true;
}

bool check_user(Parser& p, const std::string& v, const SourceLoc& at, const char* opt) {
  if (v.empty()) return false;
  if (v[0] == '#') {
    int64_t uid = 0;
    if (!parse_int(v.substr(1), &uid) || uid < 0) return false;
    if (uid == 0) {
      p.diags().error(at, std::string(opt) + "=" + v +
                              " is root (uid 0): a daemon process group may not run as root, "
                              "as in mod_wsgi");
      return true;
    }
    return true;
  }
  struct passwd* pw = getpwnam(v.c_str());
  if (v == "root" || (pw && pw->pw_uid == 0)) {
    p.diags().error(at, std::string(opt) + "=" + v +
                            " is root (uid 0): a daemon process group may not run as root, "
                            "as in mod_wsgi");
    return true;
  }
  if (!pw && p.options().check_files)
    p.diags().error(at, std::string(opt) + "=" + v + ": no such user on this system");
  return true;
}

bool check_group(Parser& p, const std::string& v, const SourceLoc& at, const char* opt) {
  if (v.empty()) return false;
  if (v[0] == '#') {
    int64_t gid = 0;
    return parse_int(v.substr(1), &gid) && gid >= 0;
  }
  if (!getgrnam(v.c_str()) && p.options().check_files)
    p.diags().error(at, std::string(opt) + "=" + v + ": no such group on this system");
  return true;
}

bool set_socket_timeout(Parser& p, GroupSpec& g, const std::string& v, const SourceLoc&) {
  if (!set_seconds(&g.socket_timeout, v)) return false;
  p.socket_timeout_given_.insert(g.name);
  return true;
}

bool set_response_socket_timeout(Parser& p, GroupSpec& g, const std::string& v,
                                 const SourceLoc&) {
  if (!set_seconds(&g.response_socket_timeout, v)) return false;
  p.response_socket_timeout_given_.insert(g.name);
  return true;
}

#define SECONDS(opt, field)                                                          \
  DaemonOption {                                                                    \
    opt, "a whole number of seconds >= 0",                                          \
        [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {         \
          return set_seconds(&g.field, v);                                          \
        }                                                                           \
  }
#define STRING(opt, field)                                                           \
  DaemonOption {                                                                    \
    opt, "a non-empty value", [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) { \
      if (v.empty()) return false;                                                  \
      g.field = v;                                                                  \
      return true;                                                                  \
    }                                                                               \
  }

const DaemonOption kDaemonOptions[] = {
    // 1a. process model and identity
    {"processes", "an integer >= 1",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       if (!set_int_field(&g.processes, v, 1, 100000)) return false;
       g.processes_given = true;
       return true;
     }},
    {"threads", "an integer from 0 to 65533",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       return set_int_field(&g.threads, v, 0, 65533);
     }},
    STRING("display-name", display_name),
    {"user", "a user name or #uid",
     [](Parser& p, GroupSpec& g, const std::string& v, const SourceLoc& at) {
       if (!check_user(p, v, at, "user")) return false;
       g.user = v;
       return true;
     }},
    {"group", "a group name or #gid",
     [](Parser& p, GroupSpec& g, const std::string& v, const SourceLoc& at) {
       if (!check_group(p, v, at, "group")) return false;
       g.group = v;
       return true;
     }},
    {"supplementary-groups", "a comma-separated list of group names",
     [](Parser& p, GroupSpec& g, const std::string& v, const SourceLoc& at) {
       std::vector<std::string> list;
       size_t start = 0;
       while (start <= v.size()) {
         size_t end = v.find(',', start);
         if (end == std::string::npos) end = v.size();
         std::string name = v.substr(start, end - start);
         if (name.empty()) return false;
         if (!check_group(p, name, at, "supplementary-groups")) return false;
         list.push_back(name);
         start = end + 1;
       }
       g.supplementary_groups = list;
       return true;
     }},
    {"umask", "an octal number such as 022",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       if (v.empty() || v.size() > 4 || v.find_first_not_of("01234567") != std::string::npos)
         return false;
       g.umask = static_cast<int>(std::strtol(v.c_str(), nullptr, 8));
       return true;
     }},
    STRING("home", home),
    STRING("lang", lang),
    STRING("locale", locale),
    STRING("chroot", chroot),
    {"cpu-priority", "an integer from -20 to 20",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       return set_int_field(&g.cpu_priority, v, -20, 20);
     }},
    {"stack-size", "a number of bytes > 0",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       int64_t n = 0;
       if (!set_int(&n, v, 1, kMaxBytes)) return false;
       g.stack_size = n;
       return true;
     }},
    STRING("socket-user", socket_user),
    STRING("script-user", script_user),
    STRING("script-group", script_group),
    // 1b. Python
    STRING("python-home", python_home),
    {"python-path", "a colon-separated list of directories",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       size_t start = 0;
       while (start <= v.size()) {
         size_t end = v.find(':', start);
         if (end == std::string::npos) end = v.size();
         if (end > start) g.python_path.push_back(v.substr(start, end - start));
         start = end + 1;
       }
       return true;
     }},
    STRING("python-eggs", python_eggs),
    {"switch-interval", "a number of seconds > 0 such as 0.005",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       double d = 0;
       if (!parse_float(v, &d) || d <= 0 || d > 3600) return false;
       g.switch_interval = d;
       return true;
     }},
    // 1c. recycling and lifecycle
    {"maximum-requests", "an integer >= 0",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       return set_int(&g.maximum_requests, v, 0, INT64_MAX);
     }},
    SECONDS("restart-interval", restart_interval),
    SECONDS("inactivity-timeout", inactivity_timeout),
    SECONDS("startup-timeout", startup_timeout),
    SECONDS("graceful-timeout", graceful_timeout),
    SECONDS("eviction-timeout", eviction_timeout),
    SECONDS("shutdown-timeout", shutdown_timeout),
    SECONDS("cpu-time-limit", cpu_time_limit),
    {"memory-limit", "a number of bytes >= 0",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       return set_int(&g.memory_limit, v, 0, kMaxBytes);
     }},
    {"virtual-memory-limit", "a number of bytes >= 0",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       return set_int(&g.virtual_memory_limit, v, 0, kMaxBytes);
     }},
    // 1d. fail-safes
    SECONDS("request-timeout", request_timeout),
    SECONDS("interrupt-timeout", interrupt_timeout),
    SECONDS("deadlock-timeout", deadlock_timeout),
    // 1e. transport
    {"listen-backlog", "an integer from 1 to 65535",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       return set_int_field(&g.listen_backlog, v, 1, 65535);
     }},
    SECONDS("connect-timeout", connect_timeout),
    {"socket-timeout", "a whole number of seconds >= 0", set_socket_timeout},
    SECONDS("queue-timeout", queue_timeout),
    {"response-socket-timeout", "a whole number of seconds >= 0", set_response_socket_timeout},
    {"response-flush-delay", "a whole number of milliseconds >= 0",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       int64_t ms = 0;
       if (!set_int(&ms, v, 0, kMaxSeconds)) return false;
       g.response_flush_delay = static_cast<double>(ms) / 1000.0;
       return true;
     }},
    // 1f. buffers
    {"send-buffer-size", "0 (the OS default) or a number of bytes >= 512",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       int64_t n = 0;
       if (!set_int(&n, v, 0, kMaxBytes) || (n != 0 && n < 512)) return false;
       g.send_buffer_size = n;
       return true;
     }},
    {"receive-buffer-size", "0 (the OS default) or a number of bytes >= 512",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       int64_t n = 0;
       if (!set_int(&n, v, 0, kMaxBytes) || (n != 0 && n < 512)) return false;
       g.receive_buffer_size = n;
       return true;
     }},
    {"header-buffer-size", "a number of bytes >= 8192",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       return set_int(&g.header_buffer_size, v, 8192, kMaxBytes);
     }},
    {"response-buffer-size", "a number of bytes >= 65536",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       return set_int(&g.response_buffer_size, v, 65536, kMaxBytes);
     }},
    // 1g. observability
    {"server-metrics", "On or Off",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       if (iequals(v, "on"))
         g.server_metrics = true;
       else if (iequals(v, "off"))
         g.server_metrics = false;
       else
         return false;
       return true;
     }},
};
const size_t kDaemonOptionCount = sizeof(kDaemonOptions) / sizeof(kDaemonOptions[0]);

#undef SECONDS
#undef STRING

void Parser::d_daemon_process(const Directive& d, Scope& s) {
  if (d.args.empty()) {
    diags_->error(d.loc, "WSGIDaemonProcess needs a process group name");
    return;
  }
  GroupSpec g;
  g.name = d.args[0].text;
  g.loc = d.loc;
  g.vhost = s.vhost_index;
  bool ok = true;
  if (g.name.empty() || g.name.find('/') != std::string::npos ||
      g.name.find('=') != std::string::npos) {
    diags_->error(d.args[0].loc, "invalid process group name '" + g.name +
                                     "': it may not be empty or hold '/' or '='");
    ok = false;
  }
  std::vector<std::string_view> names;
  for (const DaemonOption& o : kDaemonOptions) names.push_back(o.name);
  std::map<std::string, SourceLoc> seen;
  for (const KeyValue& kv : key_values(d, 1)) {
    const DaemonOption* opt = nullptr;
    for (const DaemonOption& o : kDaemonOptions)
      if (kv.key == o.name) opt = &o;
    if (!opt || !kv.has_eq) {
      std::string_view near = closest(kv.key, names);
      std::vector<std::string> notes;
      if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
      if (opt)
        diags_->error(kv.key_loc, "option '" + kv.key + "' to WSGIDaemonProcess needs a value: " +
                                      kv.key + "=VALUE");
      else
        diags_->error(kv.key_loc, "unknown option '" + kv.key + "' to WSGIDaemonProcess", notes);
      ok = false;
      continue;
    }
    if (auto it = seen.find(kv.key); it != seen.end())
      diags_->warning(kv.key_loc, "option '" + kv.key +
                                      "' is given twice to WSGIDaemonProcess; the last value wins");
    seen[kv.key] = kv.key_loc;
    if (!opt->set(*this, g, kv.value, kv.value_loc)) {
      diags_->error(kv.value_loc, "invalid value '" + kv.value + "' for " + kv.key +
                                      "=: expected " + opt->expected);
      ok = false;
    }
  }
  if (g.script_user && g.script_group) {
    diags_->error(d.loc, "WSGIDaemonProcess " + g.name +
                             ": script-user= and script-group= cannot both be given");
    ok = false;
  }
  if (auto it = group_defs_.find(g.name); it != group_defs_.end()) {
    diags_->error(d.args[0].loc, "duplicate WSGIDaemonProcess group '" + g.name + "'",
                  {"'" + g.name + "' is first defined at " + loc_text(it->second)});
    return;
  }
  group_defs_[g.name] = d.loc;
  (void)ok;
  config_.groups.push_back(std::move(g));
}

// --- server directives -------------------------------------------------------

bool Parser::server_level_only_value(const Directive& d, const char* name, const Scope& s) {
  if (s.ctx == kServer) return true;
  diags_->warning(d.loc, std::string(name) +
                               " inside <VirtualHost> is not supported by wsgid, which applies "
                               "it server-wide; this value is ignored");
  return false;
}

void Parser::d_listen(const Directive& d, Scope&) {
  if (!nargs(d, "Listen", 1, 2)) return;
  const Arg& a = d.args[0];
  ListenAddr addr;
  addr.loc = a.loc;
  std::string t = a.text, host, port = t;
  if (!t.empty() && t[0] == '[') {
    size_t close = t.find(']');
    if (close == std::string::npos || close + 1 >= t.size() || t[close + 1] != ':') {
      diags_->error(a.loc, "invalid Listen address '" + t + "': expected [IPv6]:port");
      return;
    }
    host = t.substr(1, close - 1);
    port = t.substr(close + 2);
  } else if (size_t c = t.rfind(':'); c != std::string::npos) {
    host = t.substr(0, c);
    port = t.substr(c + 1);
  }
  if (host == "*" || host == "0.0.0.0") host = host == "*" ? "" : host;
  int64_t p = 0;
  if (!parse_int(port, &p) || p < 0 || p > 65535) {
    diags_->error(a.loc, "invalid Listen address '" + t +
                             "': expected [host:]port with a port from 0 to 65535");
    return;
  }
  addr.host = host;
  addr.port = static_cast<int>(p);
  if (d.args.size() == 2 && !iequals(d.args[1].text, "http"))
    diags_->warning(d.args[1].loc, "Listen protocol '" + d.args[1].text +
                                       "' is not supported by wsgid, which serves plain HTTP");
  std::string key = addr.text();
  if (auto it = listen_seen_.find(key); it != listen_seen_.end() && addr.port != 0) {
    diags_->error(a.loc, "Listen " + key + " is given twice",
                  {"first given at " + loc_text(it->second)});
    return;
  }
  listen_seen_[key] = d.loc;
  config_.listen.push_back(addr);
}

void Parser::d_server_name(const Directive& d, Scope& s) {
  if (!nargs(d, "ServerName", 1, 1)) return;
  std::string n = d.args[0].text;
  if (size_t p = n.find("://"); p != std::string::npos) n = n.substr(p + 3);
  if (!n.empty() && n[0] == '[') {
    size_t close = n.find(']');
    n = n.substr(0, close == std::string::npos ? n.size() : close + 1);
  } else if (size_t c = n.rfind(':'); c != std::string::npos) {
    n = n.substr(0, c);
  }
  s.vh->server_name = lower(n);
}

void Parser::d_server_alias(const Directive& d, Scope& s) {
  if (!nargs(d, "ServerAlias", 1, SIZE_MAX)) return;
  for (const Arg& a : d.args) s.vh->server_aliases.push_back(lower(a.text));
}

void Parser::d_user(const Directive& d, Scope&) {
  if (!nargs(d, "User", 1, 1)) return;
  const std::string& v = d.args[0].text;
  struct passwd* pw = v.empty() || v[0] == '#' ? nullptr : getpwnam(v.c_str());
  if (v == "root" || v == "#0" || (pw && pw->pw_uid == 0)) {
    diags_->error(d.args[0].loc, "User " + v +
                                     " is root: wsgid never runs the front end or workers as root");
    return;
  }
  if (!pw && v[0] != '#' && options_.check_files)
    diags_->error(d.args[0].loc, "User " + v + ": no such user on this system");
  config_.user = v;
}

void Parser::d_group(const Directive& d, Scope&) {
  if (!nargs(d, "Group", 1, 1)) return;
  const std::string& v = d.args[0].text;
  if (!v.empty() && v[0] != '#' && !getgrnam(v.c_str()) && options_.check_files)
    diags_->error(d.args[0].loc, "Group " + v + ": no such group on this system");
  config_.group = v;
}

void Parser::d_pid_file(const Directive& d, Scope&) {
  if (!nargs(d, "PidFile", 1, 1)) return;
  config_.pid_file = resolve_path(d.args[0].text);
}

void Parser::d_server_root(const Directive& d, Scope&) {
  if (!nargs(d, "ServerRoot", 1, 1)) return;
  std::string r = resolve_path(d.args[0].text);
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (options_.check_files) {
    struct stat st {};
    if (stat(r.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      diags_->error(d.args[0].loc, "ServerRoot '" + r + "' is not a directory");
      return;
    }
  }
  root_ = r;
  config_.server_root = r;
}

void Parser::d_error_log(const Directive& d, Scope& s) {
  if (!nargs(d, "ErrorLog", 1, 1)) return;
  LogFile l;
  l.loc = d.loc;
  l.path = d.args[0].text;
  if (!l.path.empty() && l.path[0] == '|')
    diags_->warning(d.args[0].loc, "piped logs are not supported by wsgid; ErrorLog is ignored");
  else if (l.path.rfind("syslog", 0) == 0)
    diags_->warning(d.args[0].loc, "ErrorLog to syslog is not supported by wsgid; ignored");
  else
    s.vh->error_log = LogFile{l.loc, resolve_path(l.path), ""};
}

void Parser::d_log_format(const Directive& d, Scope&) {
  if (!nargs(d, "LogFormat", 1, 2)) return;
  if (d.args.size() == 2) log_formats_[d.args[1].text] = d.args[0].text;
  else log_formats_["\001" "default"] = d.args[0].text;
}

void Parser::d_custom_log(const Directive& d, Scope& s) {
  if (!nargs(d, "CustomLog", 1, 3)) return;
  LogFile l;
  l.loc = d.loc;
  l.path = d.args[0].text;
  if (d.args.size() >= 2) {
    const std::string& f = d.args[1].text;
    if (f.find('%') != std::string::npos) {
      l.format = f;
    } else if (auto it = log_formats_.find(f); it != log_formats_.end()) {
      l.format = it->second;
    } else {
      std::vector<std::string_view> nicks;
      for (const auto& [k, v] : log_formats_)
        if (k[0] != '\001') nicks.push_back(k);
      std::string_view near = closest(f, nicks);
      std::vector<std::string> notes;
      if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
      diags_->warning(d.args[1].loc, "unknown LogFormat nickname '" + f +
                                         "': Apache would log it as literal text",
                      notes);
      l.format = f;
    }
  } else {
    auto it = log_formats_.find("\001" "default");
    l.format = it != log_formats_.end() ? it->second : log_formats_["common"];
  }
  if (d.args.size() == 3)
    diags_->warning(d.args[2].loc, "conditional logging ('" + d.args[2].text +
                                       "') is not supported by wsgid; every request is logged");
  if (!l.path.empty() && l.path[0] == '|') {
    diags_->warning(d.args[0].loc, "piped logs are not supported by wsgid; CustomLog is ignored");
    return;
  }
  l.path = resolve_path(l.path);
  s.vh->custom_logs.push_back(l);
}

void Parser::d_log_level(const Directive& d, Scope& s) {
  if (!nargs(d, "LogLevel", 1, SIZE_MAX)) return;
  bool level_set = false;
  for (const Arg& a : d.args) {
    if (a.text.find(':') != std::string::npos) {
      diags_->warning(a.loc, "per-module log level '" + a.text +
                                 "' is not supported by wsgid; ignored");
      continue;
    }
    log::Level lv;
    if (!log::parse_level(a.text, &lv)) {
      diags_->error(a.loc, "invalid LogLevel '" + a.text +
                               "': expected emerg, alert, crit, error, warn, notice, info, "
                               "debug or trace1..trace8");
      continue;
    }
    if (level_set) continue;
    level_set = true;
    if (s.ctx != kServer) {
      diags_->warning(d.loc, "LogLevel inside <" + s.section +
                                 "> is not supported by wsgid, which applies it server-wide; "
                                 "this value is ignored");
      continue;
    }
    config_.log_level = lower(a.text);
  }
}

void Parser::d_timeout(const Directive& d, Scope& s) {
  if (!nargs(d, "Timeout", 1, 1)) return;
  auto v = int_arg(d, "Timeout", d.args[0], 1, kMaxSeconds, "a whole number of seconds >= 1");
  if (v && server_level_only_value(d, "Timeout", s)) config_.timeout = static_cast<double>(*v);
}

void Parser::d_keep_alive(const Directive& d, Scope& s) {
  if (!nargs(d, "KeepAlive", 1, 1)) return;
  auto v = on_off(d, "KeepAlive", d.args[0]);
  if (v && server_level_only_value(d, "KeepAlive", s)) config_.keep_alive = *v;
}

void Parser::d_keep_alive_timeout(const Directive& d, Scope& s) {
  if (!nargs(d, "KeepAliveTimeout", 1, 1)) return;
  std::string t = d.args[0].text;
  double secs = -1;
  int64_t n = 0;
  if (t.size() > 2 && t.substr(t.size() - 2) == "ms" && parse_int(t.substr(0, t.size() - 2), &n) &&
      n >= 0)
    secs = static_cast<double>(n) / 1000.0;
  else if (parse_int(t, &n) && n >= 0)
    secs = static_cast<double>(n);
  if (secs < 0 || secs > kMaxSeconds) {
    diags_->error(d.args[0].loc, "invalid value '" + t +
                                     "' for KeepAliveTimeout: expected whole seconds, or "
                                     "milliseconds with the suffix ms");
    return;
  }
  if (server_level_only_value(d, "KeepAliveTimeout", s)) config_.keep_alive_timeout = secs;
}

void Parser::d_max_keep_alive_requests(const Directive& d, Scope& s) {
  if (!nargs(d, "MaxKeepAliveRequests", 1, 1)) return;
  auto v = int_arg(d, "MaxKeepAliveRequests", d.args[0], 0, INT64_MAX,
                   "an integer >= 0 (0 = unlimited)");
  if (v && server_level_only_value(d, "MaxKeepAliveRequests", s))
    config_.max_keep_alive_requests = *v;
}

void Parser::d_limit(const Directive& d, Scope& s) {
  struct Lim {
    const char* name;
    int64_t min, max;
    const char* expected;
    int64_t Config::*field;
  };
  static const Lim kLims[] = {
      {"LimitRequestLine", 1, 65536, "a number of bytes from 1 to 65536", &Config::limit_request_line},
      {"LimitRequestFieldSize", 1, 65536, "a number of bytes from 1 to 65536",
       &Config::limit_request_field_size},
      {"LimitRequestFields", 0, 32767, "an integer from 0 to 32767 (0 = unlimited)",
       &Config::limit_request_fields},
      {"LimitRequestBody", 0, INT64_MAX, "a number of bytes >= 0 (0 = unlimited)",
       &Config::limit_request_body},
  };
  for (const Lim& l : kLims) {
    if (!iequals(d.name, l.name)) continue;
    if (!nargs(d, l.name, 1, 1)) return;
    auto v = int_arg(d, l.name, d.args[0], l.min, l.max, l.expected);
    if (v && server_level_only_value(d, l.name, s)) config_.*(l.field) = *v;
    return;
  }
}

void Parser::d_request_read_timeout(const Directive& d, Scope& s) {
  if (!nargs(d, "RequestReadTimeout", 1, SIZE_MAX)) return;
  for (const Arg& a : d.args) {
    size_t eq = a.text.find('=');
    std::string key = lower(a.text.substr(0, eq == std::string::npos ? 0 : eq));
    std::string val = eq == std::string::npos ? "" : a.text.substr(eq + 1);
    std::string first = val.substr(0, val.find_first_of("-,"));
    int64_t n = 0;
    if ((key != "header" && key != "body" && key != "handshake") || !parse_int(first, &n) ||
        n < 0) {
      diags_->error(a.loc, "invalid RequestReadTimeout argument '" + a.text +
                               "': expected header=SECONDS[-MAX][,MinRate=RATE] or body=...");
      continue;
    }
    if (val.find('-') != std::string::npos || val.find(',') != std::string::npos)
      diags_->warning(a.loc, "RequestReadTimeout '" + a.text +
                                 "': wsgid applies only the first timeout (" + first +
                                 " seconds); the maximum and MinRate are ignored");
    if (s.ctx != kServer) {
      server_level_only_value(d, "RequestReadTimeout", s);
      return;
    }
    if (key == "header") config_.request_read_header_timeout = static_cast<double>(n);
    if (key == "body") config_.request_read_body_timeout = static_cast<double>(n);
  }
}

void Parser::d_threads_per_child(const Directive& d, Scope&) {
  if (!nargs(d, "ThreadsPerChild", 1, 1)) return;
  auto v = int_arg(d, "ThreadsPerChild", d.args[0], 1, 65533, "an integer from 1 to 65533");
  if (v) config_.threads_per_child = static_cast<int>(*v);
}

void Parser::d_alias(const Directive& d, Scope& s) {
  bool match = iequals(d.name, "AliasMatch");
  const char* name = match ? "AliasMatch" : "Alias";
  if (!nargs(d, name, 2, 2)) return;
  StaticAlias a;
  a.loc = d.loc;
  a.is_match = match;
  a.url = d.args[0].text;
  a.path = resolve_path(d.args[1].text);
  if (match) {
    try {
      std::regex re(a.url, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      diags_->error(d.args[0].loc,
                    "invalid regular expression '" + a.url + "' in AliasMatch: " + e.what());
      return;
    }
  }
  s.vh->aliases.push_back(a);
}

// ---------------------------------------------------------------------------
// The table of every directive wsgid knows.

#define NOEFFECT(name, ctx, why) DirectiveInfo{name, ctx, nullptr, why}

const DirectiveInfo kDirectives[] = {
    // mod_wsgi, implemented.
    {"WSGIDaemonProcess", kSV, &Parser::d_daemon_process, ""},
    {"WSGIProcessGroup", kAll, &Parser::d_process_group, ""},
    {"WSGIApplicationGroup", kAll, &Parser::d_application_group, ""},
    {"WSGICallableObject", kAll, &Parser::d_callable_object, ""},
    {"WSGIPassAuthorization", kAll, &Parser::d_pass_authorization, ""},
    {"WSGIScriptReloading", kAll, &Parser::d_script_reloading, ""},
    {"WSGIRestrictProcess", kAll, &Parser::d_restrict_process, ""},
    {"WSGIScriptAlias", kSV, &Parser::d_script_alias, ""},
    {"WSGIScriptAliasMatch", kSV, &Parser::d_script_alias, ""},
    {"WSGIImportScript", kSV, &Parser::d_import_script, ""},
    {"WSGIRestrictEmbedded", kServer, &Parser::d_restrict_embedded, ""},
    {"WSGISocketPrefix", kServer, &Parser::d_socket_prefix, ""},
    {"WSGIPythonHome", kServer, &Parser::d_python_home, ""},
    {"WSGIPythonPath", kServer | kInterp, &Parser::d_python_path, ""},
    // mod_wsgi, accepted without effect.
    NOEFFECT("WSGISocketRotation", kServer,
             "group socket paths never rotate in wsgid: they stay the same across reloads"),
    NOEFFECT("WSGIAcceptMutex", kServer,
             "wsgid's worker threads take connections with poll() and accept4() on a shared "
             "non-blocking socket and need no accept mutex"),
    NOEFFECT("WSGIDestroyInterpreter", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIVerboseDebugging", kServer, "use 'LogLevel debug' for wsgid's debug messages"),
    NOEFFECT("WSGIDontWriteBytecode", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIPythonWarnings", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIPythonOptimize", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIPythonEggs", kServer,
             "wsgid does not implement it; python-eggs= on WSGIDaemonProcess sets "
             "PYTHON_EGG_CACHE for a group"),
    NOEFFECT("WSGIPythonHashSeed", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGISwitchInterval", kServer | kInterp,
             "wsgid does not implement it for embedded mode; switch-interval= on "
             "WSGIDaemonProcess sets it for a group"),
    NOEFFECT("WSGIPerInterpreterGIL", kServer | kInterp,
             "per-interpreter GIL sub-interpreters are not implemented by wsgid"),
    NOEFFECT("WSGIFreeThreading", kServer | kInterp,
             "free-threaded Python is not implemented by wsgid"),
    NOEFFECT("WSGIRestrictStdin", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIRestrictStdout", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIRestrictSignal", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGICaseSensitivity", kServer,
             "wsgid runs on Linux, whose file names are case-sensitive"),
    NOEFFECT("WSGIServerMetrics", kServer, "there is no Apache scoreboard in wsgid"),
    NOEFFECT("WSGIDispatchScript", kAll, "dispatch scripts are not implemented by wsgid"),
    NOEFFECT("WSGIHandlerScript", kAll,
             "handler scripts (AddHandler/Action) are not implemented by wsgid"),
    NOEFFECT("WSGIPassApacheRequest", kAll, "there is no Apache request object in wsgid"),
    NOEFFECT("WSGIErrorOverride", kAll, "wsgid has no ErrorDocument to put in the app's place"),
    NOEFFECT("WSGIChunkedRequest", kAll, "wsgid does not implement it"),
    NOEFFECT("WSGIMapHEADToGET", kAll, "wsgid does not implement it; HEAD reaches the app as HEAD"),
    NOEFFECT("WSGIIgnoreActivity", kAll, "wsgid does not implement it"),
    NOEFFECT("WSGITrustedProxyHeaders", kAll, "wsgid does not implement it"),
    NOEFFECT("WSGITrustedProxies", kAll, "wsgid does not implement it"),
    NOEFFECT("WSGIEnableSendfile", kAll, "wsgid does not implement it"),
    NOEFFECT("WSGIAccessScript", kDir,
             "wsgid has no Apache access phase: requests are NOT checked by this script"),
    NOEFFECT("WSGIAuthUserScript", kDir,
             "wsgid has no Apache authentication phase: requests are NOT authenticated by this "
             "script"),
    NOEFFECT("WSGIAuthGroupScript", kDir,
             "wsgid has no Apache authorization phase: requests are NOT authorized by this "
             "script"),
    NOEFFECT("WSGIGroupAuthoritative", kDir, "wsgid has no Apache authorization phase"),
    NOEFFECT("WSGIMetricsService", kServer, "mod_wsgi's telemetry is not implemented by wsgid"),
    NOEFFECT("WSGISlowRequests", kServer, "mod_wsgi's telemetry is not implemented by wsgid"),
    NOEFFECT("WSGIMetricsOptions", kServer, "mod_wsgi's telemetry is not implemented by wsgid"),
    NOEFFECT("WSGITelemetryService", kServer, "mod_wsgi's telemetry is not implemented by wsgid"),
    NOEFFECT("WSGITelemetryOptions", kServer, "mod_wsgi's telemetry is not implemented by wsgid"),
    NOEFFECT("WSGIReloadMechanism", kAll, "it was removed in mod_wsgi 4.0"),
    NOEFFECT("WSGIOutputBuffering", kAll, "it was removed in mod_wsgi 4.0"),
    NOEFFECT("WSGILazyInitialization", kServer, "it was removed in mod_wsgi 4.0"),
    NOEFFECT("WSGIPythonExecutable", kServer, "it was removed in mod_wsgi 4.0"),
    // Ours.
    {"WSGIControlSocket", kServer, &Parser::d_control_socket, ""},
    // Server directives Apache would otherwise supply.
    {"Listen", kServer, &Parser::d_listen, ""},
    {"ServerName", kSV, &Parser::d_server_name, ""},
    {"ServerAlias", kVHost, &Parser::d_server_alias, ""},
    {"User", kServer, &Parser::d_user, ""},
    {"Group", kServer, &Parser::d_group, ""},
    {"PidFile", kServer, &Parser::d_pid_file, ""},
    {"ServerRoot", kServer, &Parser::d_server_root, ""},
    {"ErrorLog", kSV, &Parser::d_error_log, ""},
    {"CustomLog", kSV, &Parser::d_custom_log, ""},
    {"LogFormat", kSV, &Parser::d_log_format, ""},
    {"LogLevel", kAll, &Parser::d_log_level, ""},
    {"Timeout", kSV, &Parser::d_timeout, ""},
    {"KeepAlive", kSV, &Parser::d_keep_alive, ""},
    {"KeepAliveTimeout", kSV, &Parser::d_keep_alive_timeout, ""},
    {"MaxKeepAliveRequests", kSV, &Parser::d_max_keep_alive_requests, ""},
    {"LimitRequestLine", kSV, &Parser::d_limit, ""},
    {"LimitRequestFieldSize", kSV, &Parser::d_limit, ""},
    {"LimitRequestFields", kSV, &Parser::d_limit, ""},
    {"LimitRequestBody", kAll, &Parser::d_limit, ""},
    {"RequestReadTimeout", kSV, &Parser::d_request_read_timeout, ""},
    {"ThreadsPerChild", kServer, &Parser::d_threads_per_child, ""},
    {"Alias", kSV, &Parser::d_alias, ""},
    {"AliasMatch", kSV, &Parser::d_alias, ""},
};
const size_t kDirectiveCount = sizeof(kDirectives) / sizeof(kDirectives[0]);

#undef NOEFFECT

// ---------------------------------------------------------------------------
// Whole-config checks.

void Parser::finish() {
  for (GroupSpec& g : config_.groups) {
    if (!socket_timeout_given_.count(g.name)) g.socket_timeout = config_.timeout;
    if (!response_socket_timeout_given_.count(g.name)) g.response_socket_timeout = g.socket_timeout;
  }
  std::vector<std::string_view> names;
  for (const GroupSpec& g : config_.groups) names.push_back(g.name);
  for (const auto& [name, at] : group_refs_) {
    if (config_.find_group(name)) continue;
    std::string_view near = closest(name, names);
    std::vector<std::string> notes;
    if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
    diags_->error(at, "no WSGIDaemonProcess defines the process group '" + name + "'", notes);
  }
  check_routes();
  if (options_.check_files) check_files();
}

// mod_wsgi: a group declared inside a <VirtualHost> serves only virtual hosts
// with the same ServerName (other requests get 500).
void Parser::check_group_access(const std::string& group, int host, const Mount& m,
                                const std::string& url) {
  const GroupSpec* g = config_.find_group(group);
  if (!g || g->vhost < 0) return;
  const std::string& owner = config_.vhosts[static_cast<size_t>(g->vhost)].server_name;
  std::string here = host >= 0 ? config_.vhosts[static_cast<size_t>(host)].server_name
                               : config_.server.server_name;
  if (here == owner) return;
  std::string key = group + "\n" + std::to_string(host) + "\n" + url;
  if (!access_warned_.insert(key).second) return;
  diags_->warning(m.loc, "daemon process group '" + group + "', declared inside the <VirtualHost> at " +
                             loc_text(config_.vhosts[static_cast<size_t>(g->vhost)].loc) +
                             " (ServerName " + (owner.empty() ? "unset" : owner) +
                             "), cannot serve " + url + " of " +
                             (host >= 0 ? "the <VirtualHost> at " +
                                              loc_text(config_.vhosts[static_cast<size_t>(host)].loc)
                                        : std::string("the main server")) +
                             " (ServerName " + (here.empty() ? "unset" : here) +
                             "): mod_wsgi answers such requests with 500",
                  {"declare the group at server level to share it between virtual hosts"});
}

void Parser::check_routes() {
  Resolver resolver(config_);
  std::set<std::string> reached;
  bool dynamic = false;  // a %{ENV:...} group: any group may be reached

  // <Location> given twice for the same path with different groups. Server-level
  // blocks come before a vhost's (Apache's merge order); report each later block once.
  auto dup_locations = [&](const std::vector<const Block*>& blocks, size_t first_report) {
    for (size_t i = first_report; i < blocks.size(); ++i) {
      const Block& later = *blocks[i];
      if (!later.settings.process_group) continue;
      for (size_t k = i; k-- > 0;) {
        const Block& earlier = *blocks[k];
        if (earlier.path != later.path || earlier.is_regex != later.is_regex ||
            !earlier.settings.process_group)
          continue;
        if (*earlier.settings.process_group != *later.settings.process_group) {
          std::string sec = later.is_regex ? "<LocationMatch " : "<Location ";
          diags_->warning(
              later.loc,
              sec + later.path + "> is given twice with different process groups: this block (line " +
                  std::to_string(later.loc.line) + ") selects '" + *later.settings.process_group +
                  "', the one at " + loc_text(earlier.loc) + " selects '" +
                  *earlier.settings.process_group + "'; the later block wins, so '" +
                  *later.settings.process_group + "' serves " + later.path,
              {"Apache merges <Location> blocks for the same path in order: put both settings in "
               "one block, or give each block its own path"});
        }
        break;
      }
    }
  };
  std::vector<const Block*> server_blocks;
  for (const Block& b : config_.server.locations) server_blocks.push_back(&b);
  dup_locations(server_blocks, 0);
  for (const VirtualHost& vh : config_.vhosts) {
    std::vector<const Block*> all = server_blocks;
    for (const Block& b : vh.locations) all.push_back(&b);
    dup_locations(all, server_blocks.size());
  }

  auto note_settings = [&](const ScopeSettings& s) {
    if (s.process_group && s.process_group->find("%{") != std::string::npos &&
        *s.process_group != "%{GLOBAL}")
      dynamic = true;
  };
  auto scan = [&](const VirtualHost& vh) {
    note_settings(vh.settings);
    for (const Block& b : vh.locations) note_settings(b.settings);
    for (const Block& b : vh.directories) note_settings(b.settings);
    for (const Mount& m : vh.mounts)
      if (m.process_group && m.process_group->find("%{") != std::string::npos &&
          *m.process_group != "%{GLOBAL}")
        dynamic = true;
  };
  scan(config_.server);
  for (const VirtualHost& vh : config_.vhosts) scan(vh);
  for (const ImportScript& is : config_.imports) reached.insert(is.process_group);

  auto check_mounts = [&](const VirtualHost& owner, int index) {
    for (const Mount& m : owner.mounts) {
      // The hosts this mount serves: its own, or every host for a server-level mount.
      std::vector<int> hosts;
      if (index >= 0) {
        hosts.push_back(index);
      } else {
        hosts.push_back(-1);
        for (size_t i = 0; i < config_.vhosts.size(); ++i) hosts.push_back(static_cast<int>(i));
      }
      bool embedded_at_url = false;
      for (int h : hosts) {
        std::vector<std::string> urls;
        urls.push_back(m.is_match ? std::string() : m.url);
        auto add_locs = [&](const VirtualHost& vh) {
          for (const Block& b : vh.locations) {
            if (!b.settings.process_group) continue;
            if (b.is_regex || m.is_match) {
              if (b.settings.process_group && config_.find_group(*b.settings.process_group))
                reached.insert(*b.settings.process_group);
              continue;
            }
            if (alias_match_length(m.url, b.path) > 0 || location_matches(b.path, m.url))
              urls.push_back(b.path);
          }
          for (const Block& b : vh.directories)
            if (b.settings.process_group && (b.is_regex || m.script.empty() || m.script.back() == '/'))
              reached.insert(*b.settings.process_group);
        };
        add_locs(config_.server);
        if (h >= 0) add_locs(config_.vhosts[static_cast<size_t>(h)]);
        for (size_t u = 0; u < urls.size(); ++u) {
          Route r = resolver.resolve(h, m, urls[u], m.script);
          if (r.process_group) {
            reached.insert(*r.process_group);
            check_group_access(*r.process_group, h, m, urls[u]);
          } else if (u == 0 && (h == index || (index < 0 && h == -1))) {
            embedded_at_url = true;
          }
        }
      }
      if (!embedded_at_url) continue;
      std::string what = std::string(m.is_match ? "WSGIScriptAliasMatch " : "WSGIScriptAlias ") + m.url;
      if (config_.restrict_embedded) {
        diags_->error(m.loc, what + " would run embedded (in the front-end process), which "
                                    "WSGIRestrictEmbedded On forbids",
                      {"select a daemon process group: add process-group=NAME to the alias, or "
                       "'WSGIProcessGroup NAME' in a scope that covers it"});
      } else if (!config_.groups.empty()) {
        diags_->warning(m.loc, what + " runs embedded (in the front-end process, not in a daemon "
                                      "process group) although daemon process groups are defined",
                        {"no WSGIProcessGroup applies to " + m.url +
                             " and the alias has no process-group= option; add one, or set "
                             "'WSGIRestrictEmbedded On' to make this an error"});
      }
    }
  };
  check_mounts(config_.server, -1);
  for (size_t i = 0; i < config_.vhosts.size(); ++i)
    check_mounts(config_.vhosts[i], static_cast<int>(i));

  if (dynamic) return;
  for (const GroupSpec& g : config_.groups) {
    if (reached.count(g.name)) continue;
    std::vector<std::string> notes;
    auto overridden = [&](const VirtualHost& vh) {
      for (size_t i = 0; i < vh.locations.size(); ++i) {
        const Block& b = vh.locations[i];
        if (!b.settings.process_group || *b.settings.process_group != g.name) continue;
        for (size_t k = i + 1; k < vh.locations.size(); ++k) {
          const Block& later = vh.locations[k];
          if (later.path == b.path && later.is_regex == b.is_regex &&
              later.settings.process_group) {
            notes.push_back("the <Location " + b.path + "> at " + loc_text(b.loc) +
                            " that selects it is overridden by the later one at " +
                            loc_text(later.loc));
            break;
          }
        }
        if (!b.is_regex && !b.path.empty() && b.path[0] != '/')
          notes.push_back("the <Location " + b.path + "> at " + loc_text(b.loc) +
                          " that selects it can match no request: its path does not begin "
                          "with '/'");
      }
    };
    overridden(config_.server);
    for (const VirtualHost& vh : config_.vhosts) overridden(vh);
    diags_->warning(g.loc, "daemon process group '" + g.name +
                               "' serves no request: no script alias resolves to it",
                    notes);
  }
}

void Parser::check_files() {
  auto check = [&](const std::string& path, const SourceLoc& at, const std::string& what,
                   bool may_be_dir) {
    if (path.find('$') != std::string::npos) return;  // ...Match target with $N
    struct stat st {};
    std::string p = path;
    bool want_dir = !p.empty() && p.back() == '/';
    if (stat(p.c_str(), &st) == 0 && (S_ISREG(st.st_mode) || (may_be_dir && S_ISDIR(st.st_mode)))) {
      if (want_dir && !S_ISDIR(st.st_mode))
        diags_->warning(at, what + ": '" + path + "' is not a directory");
      return;
    }
    std::vector<std::string> notes;
    if (auto q = typographic_quote(path))
      notes.push_back("the path holds the typographic quote " + *q +
                      ", which is not a quote: it is part of the file name (a path that starts "
                      "with one is relative to ServerRoot); write the path with ASCII quotes "
                      "\"...\" or none");
    diags_->warning(at, what + ": script file '" + path + "' does not exist", notes);
  };
  auto host = [&](const VirtualHost& vh) {
    for (const Mount& m : vh.mounts)
      check(m.script, m.loc, std::string(m.is_match ? "WSGIScriptAliasMatch " : "WSGIScriptAlias ") + m.url,
            true);
  };
  host(config_.server);
  for (const VirtualHost& vh : config_.vhosts) host(vh);
  for (const ImportScript& is : config_.imports) check(is.script, is.loc, "WSGIImportScript", false);
}

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
  Parser p(options, &r.diags, root);
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
  std::vector<std::string> v;
  for (size_t i = 0; i < kDirectiveCount; ++i) v.push_back(kDirectives[i].name);
  return v;
}

}  // namespace wsgid::config
