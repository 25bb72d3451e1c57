// Running one wsgictl command against the daemon: connect, send the request,
// read the reply (and, for `tail -f`, the lines that follow), print it, and
// return the exit status. Used by main() for a command on the command line and
// by the interactive shell (shell.h) for each line.
//
// Main thread only. A `tail -f` waits with SIGINT unblocked and a handler
// installed only for that wait: Ctrl-C ends the tail (exit status 0) and,
// in the shell, returns to the prompt.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "common/status.h"
#include "supervisor/ctl/ctl.h"

namespace wsgid::ctl {

struct Session {
  Options options;
  std::string socket;   // the control socket (when socket_error is ok)
  Status socket_error;  // finding it failed (an unreadable -f CONFIG)
};

// Finds the socket for options (control_socket_path with $WSGICTL_SOCKET).
Session make_session(const Options& options);

// Runs c (already checked by parse_command). Output on stdout, errors on stderr.
int execute(const Session& s, const Command& c);

// The names of the configured groups (a `status` request); empty when the
// daemon cannot be asked.
std::vector<std::string> fetch_group_names(const Session& s);

// The interactive shell (shell.cc): a prompt with history and completion on a
// terminal; commands one a line, no prompt, otherwise. Returns the exit status
// of the last command run (0 when none).
int run_shell(const Session& s);

}  // namespace wsgid::ctl
