// wsgictl's pure parts: the command line, the command table, the request each
// command sends (supervisor/master/CONTROL.md) and the mapping of a reply to
// words and an LSB exit status.
//
// wsgictl_main.cc drives them: parse_args() splits the global options from the
// command words, parse_command() checks the command locally (usage errors never
// reach the daemon), to_request() builds the JSON line for the control socket,
// and render_reply() (format.h) turns the daemon's answer into output and an
// exit status. Everything here is a pure function of its arguments (no I/O, no
// globals besides constant tables), used on the main thread, and tested in
// tests/unit/ctl/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "common/version.h"
#include "model/paths.h"

namespace wsgid::ctl {

using model::kDefaultConfig;  // model/paths.h

// LSB exit statuses (init-script conventions, as `status` uses them).
enum Exit : int {
  kExitOk = 0,
  kExitFailed = 1,       // the daemon refused or failed (also: permission denied)
  kExitUsage = 2,        // bad command line
  kExitNotRunning = 3,   // status: something shown is not RUNNING
  kExitNoSuchGroup = 4,  // a named group is not configured
  kExitUnreachable = 7,  // the daemon is not reachable (not running)
};

// One command of the table: its name, its synopsis (after the name) and a
// one-line summary; help_text is the longer text of `help COMMAND`.
struct CommandInfo {
  const char* name;
  const char* synopsis;
  const char* summary;
  const char* help_text;
};
// Every command, in help order (the daemon's, plus quit/exit for the shell).
const std::vector<CommandInfo>& commands();
const CommandInfo* find_command(std::string_view name);

// The global options before the command.
struct Options {
  std::string socket;                // -s SOCKET ("" = not given)
  std::string config;                // -f CONFIG ("" = not given)
  std::vector<std::string> defines;  // -D NAME (for <IfDefine> when reading CONFIG)
  bool json = false;                 // --json
  bool help = false;                 // -h/--help
  bool version = false;              // -V/--version (client only, no daemon)
  std::vector<std::string> words;    // the command and its arguments (empty: the shell)
};

// Parses argv (without argv[0]). Global options (-s, -f, -D, --json) come
// before or after the command, as in git and systemctl (`wsgictl status
// --json`, `wsgictl status -s SOCK`); after the command, `tail -f` keeps its
// meaning (follow), -h/--help ask for the command's help, and everything after
// `--` is the command's. The command's own options (--now, -f, -n) are left in
// words. Errors (exact texts):
//   "option -s needs a value" (-f, -D too), "unknown option '-x'"
Result<Options> parse_args(const std::vector<std::string>& argv);

// One parsed command.
struct Command {
  std::string name;               // a name of commands(); "" = empty line (shell)
  std::vector<std::string> args;  // groups; signal: SIG then groups; tail: the target
  bool now = false;               // restart/stop/shutdown --now
  bool follow = false;            // tail -f
  int lines = 100;                // tail -n N
};

// Checks a command and its arguments without the daemon. `CMD -h`/`CMD --help`
// gives the command `help CMD`. Errors (exact texts):
//   "unknown command 'X'" + " (did you mean 'Y'?)" when one is near
//   "C: unknown option 'O'"                   (an option C does not take)
//   "C needs group names or 'all'"            (start, stop, restart)
//   "C takes no arguments"                    (reload, check, reopen, version, quit, exit)
//   "shutdown takes no arguments besides --now"
//   "signal needs a signal name and at least one group"
//   "tail takes one group name, 'frontend' or 'master'"
//   "-n needs a number of lines"   "-n must be an integer from 0 to 100000"
//   "help takes at most one command name"   "no such command 'X'" (help X)
Result<Command> parse_command(const std::vector<std::string>& words);

// The request line's object for a command that talks to the daemon.
nlohmann::json to_request(const Command& c);

// Whether the command needs the daemon (help, quit and exit do not).
bool needs_daemon(const Command& c);

// The exit status a reply maps to: ok -> 0; "code" usage 2, no-such-group 4,
// failed 1, permission 1, not-running 3, anything else (or none) 1.
int exit_code_for(const nlohmann::json& reply);

// Splits a shell line into words at blanks; '...' and "..." group words.
// Error: "unterminated quote".
Result<std::vector<std::string>> split_words(std::string_view line);

// {"ok": false, "code": "usage", "error": message}, indented as --json prints.
std::string usage_error_json(const std::string& message);

// The usage text of `wsgictl --help` (the exit statuses included).
std::string usage_text();
// The one-line usage printed with usage errors.
std::string usage_line();
// `help` (every command with its summary) and `help COMMAND`.
std::string help_text(const std::string& command);

}  // namespace wsgid::ctl
