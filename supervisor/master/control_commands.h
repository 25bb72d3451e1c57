// The control socket's command table: one row per command wsgictl may send, used
// both to validate a request (control_server.cc's parse_control_request checks the
// arguments a row takes) and to run it (Daemon::on_control() looks the row up,
// checks what the row says about stopping and groups, and calls its handler).
//
// The table is data, defined in control_commands.cc beside the handlers; the
// order is help order. Loop thread only (the handlers run on the master's loop).
// Rows live for the whole program.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "supervisor/master/control_server.h"

namespace wsgid::master {

class Daemon;

// What a command takes as "args" (supervisor/master/CONTROL.md, "Commands").
enum class CommandArgs {
  kNone,            // nothing (extra args are ignored, as older clients send [])
  kOptionalGroups,  // none, "all" or group names (status, pid)
  kGroups,          // "all" or group names, at least one: checked before the handler
                    // runs ("X needs group names or 'all'", "no such group 'X'")
  kSignalAndGroups, // a signal name or number, then at least one group
  kOneName,         // exactly one group name, "frontend" or "master" (tail)
};

struct ControlCommand {
  std::string_view name;
  CommandArgs args;
  // Accepted while the daemon stops; otherwise the answer is "failed", "the
  // daemon is stopping".
  bool while_stopping;
  void (Daemon::*handler)(const ControlRequest& r, const std::shared_ptr<Responder>& resp);
  std::string_view usage;  // the args column of CONTROL.md, sent by `help`
};

const std::vector<ControlCommand>& control_command_table();
// The row named name, nullptr when there is none.
const ControlCommand* find_control_command(std::string_view name);

}  // namespace wsgid::master
