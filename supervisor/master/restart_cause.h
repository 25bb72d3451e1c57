// Restart causes (issue 14): the label under which a group counts a process
// it replaced, in wsgid_group_restarts_total{cause=...} and the status pages.
// Two ways a process is replaced: it died while wanted up (exit_cause: what
// it announced in kExiting, else how it ended), or a rolling replacement
// retired it (replace_cause: the reason Child::replace() was given). Causes
// use mod_wsgi's option names where one applies:
//   exit-code, signal          died unannounced (exit status != 0 or 0; a signal)
//   request-timeout, deadlock-timeout, startup-timeout, memory-limit,
//   startup-failure            announced in kExiting before dying
//   maximum-requests, restart-interval, inactivity-timeout, cpu-time-limit,
//   request-timeout            asked for its replacement (kReplaceMe)
//   usr1                       SIGUSR1 to the worker (kReplaceMe "signal USR1")
//   reload                     a reload changed the group
//   restart                    wsgictl restart, SIGUSR2 to the master, restart --now
//   script-changed             WSGIScriptReloading saw the script change
//   other                      anything else
// Pure functions; any thread.
#pragma once

#include <string_view>

#include "supervisor/master/spawn.h"

namespace wsgid::master {

// A process that exited while its slot was wanted up. asked: the master had
// told it to stop (restart --now).
std::string_view exit_cause(const ExitInfo& info, bool asked);
// A process retired by a rolling replacement begun with reason.
std::string_view replace_cause(std::string_view reason);

}  // namespace wsgid::master
