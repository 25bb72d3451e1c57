// WSGIDaemonProcess: the directive, over the option table of
// model/group_options.cc; see daemon_options.h.
#include "supervisor/config/daemon_options.h"

#include <grp.h>
#include <pwd.h>

#include <cstdlib>
#include <map>

#include "model/group_options.h"
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

// The checks of an option that look at this system beyond the option table's
// own (model/group_options.cc): user=/group= may not name root, and, when files
// are checked, must exist. Called after the table accepted the value; false:
// the value is invalid.
bool check_system(Parser& p, std::string_view key, const std::string& v, const SourceLoc& at) {
  if (key == "user") return check_user(p, v, at, "user");
  if (key == "group") return check_group(p, v, at, "group");
  if (key == "supplementary-groups") {
    size_t start = 0;
    while (start <= v.size()) {
      size_t end = v.find(',', start);
      if (end == std::string::npos) end = v.size();
      if (!check_group(p, v.substr(start, end - start), at, "supplementary-groups")) return false;
      start = end + 1;
    }
  }
  return true;
}

}  // namespace

void apply_timeout_defaults(Config* config) {
  for (GroupSpec& g : config->groups) {
    if (!g.option_locs.count("socket-timeout")) g.socket_timeout = config->timeout;
    if (!g.option_locs.count("response-socket-timeout"))
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
  std::vector<std::string_view> names = model::group_option_names();
  std::map<std::string, SourceLoc> seen;
  for (const KeyValue& kv : key_values(d, 1)) {
    const char* expected = model::group_option_expected(kv.key);
    if (!expected || !kv.has_eq) {
      std::string_view near = closest(kv.key, names);
      std::vector<std::string> notes;
      if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
      if (expected)
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
    if (!model::set_group_option(kv.key, kv.value, &g) ||
        !check_system(*this, kv.key, kv.value, kv.value_loc)) {
      diags_->error(kv.value_loc, "invalid value '" + kv.value + "' for " + kv.key +
                                      "=: expected " + expected);
      ok = false;
    } else if (const char* why = model::group_option_no_effect(kv.key)) {
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
  g.processes_given = seen.count("processes") > 0;
  g.option_locs = std::move(seen);
  (void)ok;
  config_.groups.push_back(std::move(g));
}

}  // namespace wsgid::config::detail
