// WSGIDaemonProcess and its options; see daemon_options.h.
#include "supervisor/config/daemon_options.h"

#include <grp.h>
#include <pwd.h>

#include <cstdlib>
#include <map>

#include "supervisor/config/parser_internal.h"
#include "supervisor/config/values.h"

namespace wsgid::config::detail {

namespace {

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
  p.socket_timeout_given().insert(g.name);
  return true;
}

bool set_response_socket_timeout(Parser& p, GroupSpec& g, const std::string& v,
                                 const SourceLoc&) {
  if (!set_seconds(&g.response_socket_timeout, v)) return false;
  p.response_socket_timeout_given().insert(g.name);
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
    // wsgid's own (mod_wsgi retries a failing daemon forever): give up for good.
    {"startup-retries", "an integer >= 0 (the retries before giving up; leave it out to retry forever)",
     [](Parser&, GroupSpec& g, const std::string& v, const SourceLoc&) {
       int n = 0;
       if (!set_int_field(&n, v, 0, 1000000)) return false;
       g.startup_retries = n;
       return true;
     }},
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
#undef SECONDS
#undef STRING

}  // namespace

// Options mod_wsgi has that wsgid parses, checks and keeps (they show in
// --check --json) but does not act on, each with the reason given in the
// warning: a config written for mod_wsgi stays valid, and its author learns
// which lines do nothing here.
namespace {

struct NoEffect {
  const char* name;
  const char* why;
};

const NoEffect kNoEffect[] = {
    {"chroot", "wsgid does not chroot its workers (run wsgid in a container for that)"},
    {"script-user", "wsgid does not check who owns the script files"},
    {"script-group", "wsgid does not check who owns the script files"},
    {"server-metrics", "wsgid has no mod_wsgi.server_metrics(); `wsgictl status` shows each "
                       "process's requests, busy threads and RSS"},
    {"response-socket-timeout", "socket-timeout bounds the wait for a response head; the front "
                                "end's Timeout bounds writes to the client"},
    {"response-flush-delay", "the worker sends each block as the application yields it"},
    {"header-buffer-size", "response headers are not copied into a fixed buffer"},
    {"response-buffer-size", "the front end applies backpressure to the worker instead of "
                             "buffering a response"},
    {"interrupt-timeout", "past request-timeout the process is replaced without first "
                          "interrupting the request's thread"},
    {"eviction-timeout", "a graceful restart always waits up to graceful-timeout"},
};

const char* no_effect_reason(std::string_view key) {
  for (const NoEffect& n : kNoEffect)
    if (key == n.name) return n.why;
  return nullptr;
}

}  // namespace

const DaemonOption* find_daemon_option(std::string_view key) {
  const DaemonOption* opt = nullptr;
  for (const DaemonOption& o : kDaemonOptions)
    if (key == o.name) opt = &o;
  return opt;
}

std::vector<std::string_view> daemon_option_names() {
  std::vector<std::string_view> names;
  for (const DaemonOption& o : kDaemonOptions) names.push_back(o.name);
  return names;
}

void apply_timeout_defaults(Config* config, const std::set<std::string>& socket_timeout_given,
                            const std::set<std::string>& response_socket_timeout_given) {
  for (GroupSpec& g : config->groups) {
    if (!socket_timeout_given.count(g.name)) g.socket_timeout = config->timeout;
    if (!response_socket_timeout_given.count(g.name))
      g.response_socket_timeout = g.socket_timeout;
  }
}

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
  std::vector<std::string_view> names = daemon_option_names();
  std::map<std::string, SourceLoc> seen;
  for (const KeyValue& kv : key_values(d, 1)) {
    const DaemonOption* opt = find_daemon_option(kv.key);
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
    } else if (const char* why = no_effect_reason(kv.key)) {
      diags_->warning(kv.key_loc, "option '" + kv.key +
                                      "' to WSGIDaemonProcess is accepted but has no effect: " + why);
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
  g.option_locs = std::move(seen);
  (void)ok;
  config_.groups.push_back(std::move(g));
}

}  // namespace wsgid::config::detail
