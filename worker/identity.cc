#include "worker/identity.h"

#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <clocale>
#include <cstring>
#include <optional>
#include <cstdlib>
#include <vector>

#include "common/log.h"

namespace wsgid::worker {
namespace {

bool numeric_spec(const std::string& spec, long* out) {
  if (spec.size() < 2 || spec[0] != '#') return false;
  char* end = nullptr;
  long v = std::strtol(spec.c_str() + 1, &end, 10);
  if (*end != '\0' || v < 0) return false;
  *out = v;
  return true;
}

Status set_limit(int resource, const char* name, rlim_t soft, rlim_t hard) {
  struct rlimit rl = {soft, hard};
  if (setrlimit(resource, &rl) != 0) return Status::sys("setrlimit", name);
  return Status::ok();
}

}  // namespace

Result<uid_t> resolve_user(const std::string& spec, gid_t* primary_gid, std::string* home) {
  long id;
  struct passwd pw, *found = nullptr;
  std::vector<char> buf(16384);
  if (numeric_spec(spec, &id)) {
    getpwuid_r(static_cast<uid_t>(id), &pw, buf.data(), buf.size(), &found);
    if (found == nullptr) {  // a bare uid is allowed: no primary group or home known
      *primary_gid = static_cast<gid_t>(-1);
      home->clear();
      return static_cast<uid_t>(id);
    }
  } else {
    getpwnam_r(spec.c_str(), &pw, buf.data(), buf.size(), &found);
    if (found == nullptr) return Status::error(fmt::format("unknown user '{}'", spec));
  }
  *primary_gid = found->pw_gid;
  *home = found->pw_dir ? found->pw_dir : "";
  return found->pw_uid;
}

Result<gid_t> resolve_group(const std::string& spec) {
  long id;
  if (numeric_spec(spec, &id)) return static_cast<gid_t>(id);
  struct group gr, *found = nullptr;
  std::vector<char> buf(16384);
  getgrnam_r(spec.c_str(), &gr, buf.data(), buf.size(), &found);
  if (found == nullptr) return Status::error(fmt::format("unknown group '{}'", spec));
  return found->gr_gid;
}

Status apply_limits(const WorkerSettings& s) {
  if (s.cpu_time_limit > 0) {
    rlim_t soft = static_cast<rlim_t>(s.cpu_time_limit);
    rlim_t hard = soft + 1 + static_cast<rlim_t>(s.shutdown_timeout);
    Status st = set_limit(RLIMIT_CPU, "RLIMIT_CPU", soft, hard);
    if (!st) return st;
  }
  if (s.memory_limit > 0) {
    rlim_t v = static_cast<rlim_t>(s.memory_limit);
    Status st = set_limit(RLIMIT_DATA, "RLIMIT_DATA", v, v);
    if (!st) return st;
  }
  if (s.virtual_memory_limit > 0) {
    rlim_t v = static_cast<rlim_t>(s.virtual_memory_limit);
    Status st = set_limit(RLIMIT_AS, "RLIMIT_AS", v, v);
    if (!st) return st;
  }
  return Status::ok();
}

Status apply_identity(const WorkerSettings& s) {
  if (geteuid() == 0) {
    std::optional<std::string> user = s.user ? s.user : s.default_user;
    if (!user)
      return Status::error("refusing to run as root: the group has no user= and there is no User");
    gid_t primary = static_cast<gid_t>(-1);
    std::string home;
    Result<uid_t> uid = resolve_user(*user, &primary, &home);
    if (!uid) return uid.status();
    if (*uid == 0) return Status::error(fmt::format("refusing to run as root: user '{}' is uid 0", *user));
    gid_t gid = primary;
    std::optional<std::string> group = s.group ? s.group : s.default_group;
    if (s.group || (!s.user && s.default_group)) {
      Result<gid_t> g = resolve_group(*group);
      if (!g) return g.status();
      gid = *g;
    }
    if (gid == static_cast<gid_t>(-1))
      return Status::error(fmt::format("user '{}' has no primary group: set group=", *user));
    if (setgid(gid) != 0) return Status::sys("setgid", std::to_string(gid));
    if (s.supplementary_groups) {
      std::vector<gid_t> groups;
      for (const std::string& name : *s.supplementary_groups) {
        Result<gid_t> g = resolve_group(name);
        if (!g) return g.status();
        groups.push_back(*g);
      }
      if (setgroups(groups.size(), groups.data()) != 0) return Status::sys("setgroups", *user);
    } else if (user->empty() || (*user)[0] == '#') {
      if (setgroups(0, nullptr) != 0) return Status::sys("setgroups", *user);
    } else if (initgroups(user->c_str(), gid) != 0) {
      return Status::sys("initgroups", *user);
    }
    if (setuid(*uid) != 0) return Status::sys("setuid", std::to_string(*uid));
    if (!s.home && s.user && s.user != s.default_user && !home.empty()) {
      if (chdir(home.c_str()) != 0)
        log::warn("chdir({}) (home of user '{}'): {}", home, *user, std::strerror(errno));
    }
  }
  if (getuid() == 0 || geteuid() == 0)
    return Status::error("refusing to run as root: workers never run as uid 0");
  return Status::ok();
}

Status apply_environment(const WorkerSettings& s) {
  if (s.umask) ::umask(static_cast<mode_t>(*s.umask));
  if (s.cpu_priority != 0 && setpriority(PRIO_PROCESS, 0, s.cpu_priority) != 0)
    log::warn("setpriority({}): {}", s.cpu_priority, std::strerror(errno));
  if (s.home && chdir(s.home->c_str()) != 0) return Status::sys("chdir", *s.home);
  if (s.lang) setenv("LANG", s.lang->c_str(), 1);
  if (s.locale) {
    setenv("LC_ALL", s.locale->c_str(), 1);
    if (std::setlocale(LC_ALL, s.locale->c_str()) == nullptr)
      log::warn("locale '{}' is not supported by the C library; LC_ALL is set anyway", *s.locale);
  }
  if (s.python_eggs) setenv("PYTHON_EGG_CACHE", s.python_eggs->c_str(), 1);
  return Status::ok();
}

}  // namespace wsgid::worker
