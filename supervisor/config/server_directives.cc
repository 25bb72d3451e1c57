// The httpd directives wsgid implements because Apache would otherwise supply
// them: Listen, ServerName/ServerAlias, User/Group, PidFile, ServerRoot, the
// logs, the timeouts and request limits, Alias/AliasMatch. Parser handlers; see
// parser_internal.h and the table in directives.cc.
//
// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside
// libstdc++'s std::regex (std::function in _StateT); silence it for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <regex>

#include "common/log.h"
#include "supervisor/config/parser_internal.h"
#include "supervisor/config/values.h"
#include "supervisor/logformat/log_format.h"

namespace wsgid::config::detail {

bool Parser::server_level_only_value(const Directive& d, const char* name, const Scope& s) {
  if (s.ctx == kServer) return true;
  diags_->warning(d.loc, std::string(name) +
                               " inside <VirtualHost> is not supported by wsgid, which applies "
                               "it server-wide; this value is ignored");
  return false;
}

// Apache's Listen rule (https://httpd.apache.org/docs/2.4/mod/mpm_common.html#listen):
// the protocol argument names it; without one, port 443 is https and any other
// port http. nullopt for a protocol wsgid does not serve. A small function of
// its own so that other protocols join it in one place. haproxy-agent and
// uwsgi are wsgid's own: HAProxy's agent-check answers (haproxy_agent.h) and
// nginx's uwsgi_pass packets (uwsgi_packet.h).
std::optional<ListenProtocol> listen_protocol(std::string_view arg, int port) {
  if (arg.empty()) return port == 443 ? ListenProtocol::kHttps : ListenProtocol::kHttp;
  ListenProtocol p;
  if (protocol_from_name(lower(std::string(arg)), &p)) return p;
  return std::nullopt;
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
  if (d.args.size() == 2) {
    std::optional<ListenProtocol> proto = listen_protocol(d.args[1].text, addr.port);
    if (!proto) {
      diags_->error(d.args[1].loc, "Listen protocol '" + d.args[1].text +
                                       "' is not one wsgid serves",
                    {"write 'Listen " + t + " https' for TLS, 'Listen " + t +
                     " http' for plain HTTP, 'Listen " + t +
                     " haproxy-agent' for HAProxy's agent-check or 'Listen " + t +
                     " uwsgi' for nginx's uwsgi_pass"});
      return;
    }
    addr.protocol = *proto;
  } else {
    addr.protocol = *listen_protocol("", addr.port);
  }
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

// A LogFormat string is compiled here (supervisor/logformat) so that a directive
// wsgid does not know is an error at --check, never a "-" in the log. arg is
// where the format was written; the error's column counts the quote and every
// '"' that was written as \".
bool Parser::check_log_format(const Arg& arg, const std::string& format) {
  logformat::Compiled c = logformat::compile(format);
  if (!c.error) return true;
  SourceLoc loc = arg.loc;
  if (&format == &arg.text) {
    size_t at = c.error->offset;
    int col = arg.loc.col + (arg.quoted ? 1 : 0);
    for (size_t i = 0; i < at && i < format.size(); ++i) {
      unsigned char ch = static_cast<unsigned char>(format[i]);
      if ((ch & 0xc0) == 0x80) continue;  // a UTF-8 continuation byte: same column
      col += (arg.quoted && ch == '"') ? 2 : 1;
    }
    loc.col = col;
    loc.len = static_cast<int>(c.error->length);
  }
  diags_->error(loc, c.error->message, {c.error->hint});
  return false;
}

void Parser::d_log_format(const Directive& d, Scope&) {
  if (!nargs(d, "LogFormat", 1, 2)) return;
  // Apache compiles a format when it is defined; a bad one defines nothing.
  if (!check_log_format(d.args[0], d.args[0].text)) return;
  if (d.args.size() == 2) log_formats_[d.args[1].text] = d.args[0].text;
  else log_formats_["\001" "default"] = d.args[0].text;
}

void Parser::d_custom_log(const Directive& d, Scope& s) {
  if (!nargs(d, "CustomLog", 1, 3)) return;
  LogFile l;
  l.loc = d.loc;
  l.path = d.args[0].text;
  bool ok = true;
  if (d.args.size() >= 2) {
    const std::string& f = d.args[1].text;
    if (f.find('%') != std::string::npos) {
      l.format = f;
      ok = check_log_format(d.args[1], f);
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
      ok = check_log_format(d.args[1], f);
    }
  } else {
    auto it = log_formats_.find("\001" "default");
    l.format = it != log_formats_.end() ? it->second : log_formats_["common"];
  }
  if (d.args.size() == 3) {
    // mod_log_config's env=VAR / env=!VAR (and 2.4's expr=): nothing in wsgid sets
    // a variable (SetEnv, SetEnvIf and BrowserMatch are skipped with a warning), so
    // a condition would log everything or nothing where Apache logs some requests.
    diags_->error(d.args[2].loc,
                  "CustomLog condition '" + d.args[2].text +
                      "' is refused: wsgid sets no environment variables (SetEnv, SetEnvIf and "
                      "BrowserMatch are not implemented), so it cannot pick the requests Apache "
                      "would log",
                  {"remove '" + d.args[2].text + "' to log every request"});
    ok = false;
  }
  if (!l.path.empty() && l.path[0] == '|') {
    diags_->error(d.args[0].loc,
                  "piped logs are refused: wsgid writes CustomLog to files only",
                  {"write a file path, for example CustomLog /var/log/wsgid/access.log combined, "
                   "and rotate it with logrotate (etc/logrotate.d/wsgid)"});
    return;
  }
  if (!ok) return;
  l.path = resolve_path(l.path);
  s.vh->custom_logs.push_back(l);
}

// mod_log_config's TransferLog: a CustomLog in the last LogFormat given without a
// nickname, else Apache's DEFAULT_LOG_FORMAT (CLF, with %b).
void Parser::d_transfer_log(const Directive& d, Scope& s) {
  if (!nargs(d, "TransferLog", 1, 1)) return;
  if (!d.args[0].text.empty() && d.args[0].text[0] == '|') {
    diags_->error(d.args[0].loc, "piped logs are refused: wsgid writes TransferLog to files only",
                  {"write a file path and rotate it with logrotate (etc/logrotate.d/wsgid)"});
    return;
  }
  LogFile l;
  l.loc = d.loc;
  auto it = log_formats_.find("\001" "default");
  l.format = it != log_formats_.end() ? it->second : "%h %l %u %t \"%r\" %>s %b";
  l.path = resolve_path(d.args[0].text);
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

// core's set_trace_enable (server/core.c): On (the default), Off, extended. On
// and Off are implemented per virtual host (the front end answers TRACE itself,
// as Apache's ap_send_http_trace does; it never reaches the application).
// extended would echo a TRACE request's body back, a proxy's debugging aid:
// refused, since it changes what answers such a request.
void Parser::d_trace_enable(const Directive& d, Scope& s) {
  if (!nargs(d, "TraceEnable", 1, 1)) return;
  const Arg& a = d.args[0];
  if (iequals(a.text, "extended")) {
    diags_->error(a.loc,
                  "TraceEnable extended is refused: Apache would answer a TRACE request that "
                  "has a body by echoing the body back, and wsgid answers such a request 413 "
                  "as TraceEnable On does (fail closed)",
                  {"write TraceEnable On (the default) or TraceEnable Off"});
    return;
  }
  if (!iequals(a.text, "on") && !iequals(a.text, "off")) {
    diags_->error(a.loc, "TraceEnable must be one of 'on', 'off', or 'extended'",
                  {"write TraceEnable On (the default) or TraceEnable Off"});
    return;
  }
  s.vh->trace_enable = iequals(a.text, "on");
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
    if (v && l.field == &Config::limit_request_body) {
      // Apache: server config, virtual host, directory (issue 12); the front end
      // resolves it per request (model::Resolver::body_rules).
      s.settings->limit_request_body = *v;
      if (s.ctx == kServer) config_.limit_request_body = *v;
      return;
    }
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

}  // namespace wsgid::config::detail
