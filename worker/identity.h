// Identity and process environment of a worker, applied in main() after the
// settings arrive and before Python starts (mod_wsgi's order for a daemon
// process; its options:
// https://modwsgi.readthedocs.io/en/master/configuration-directives/WSGIDaemonProcess.html):
// resource limits, group, supplementary groups (setgroups, else initgroups),
// user; then umask, cpu priority, working directory, LANG/LC_ALL, PYTHON_EGG_CACHE.
//
// Main thread only, before any other thread exists. A worker never runs as root:
// when started as root it switches to the group's user=/group= or else to
// User/Group (default_user/default_group); a resolved uid 0 is refused.
#pragma once

#include <string>

#include "common/status.h"
#include "worker/settings.h"

namespace wsgid::worker {

// Resolves "name" or "#uid"/"#gid". Errors: "unknown user 'x'", "unknown group 'x'".
Result<uid_t> resolve_user(const std::string& spec, gid_t* primary_gid, std::string* home);
Result<gid_t> resolve_group(const std::string& spec);

// rlimits: cpu-time-limit (RLIMIT_CPU soft s, hard s + 1 + shutdown-timeout),
// memory-limit (RLIMIT_DATA), virtual-memory-limit (RLIMIT_AS).
Status apply_limits(const WorkerSettings& s);

// Changes group/groups/user when running as root. Errors name the call:
// "setgid(33): Operation not permitted", "refusing to run as root: ...".
Status apply_identity(const WorkerSettings& s);

// umask, cpu-priority, home (chdir), lang (LANG), locale (LC_ALL + setlocale),
// python-eggs. A locale the C library does not know is a warning, not an error.
Status apply_environment(const WorkerSettings& s);

}  // namespace wsgid::worker
