// wsgictl's command line and command table; see ctl.h.
#include "supervisor/ctl/ctl.h"

#include <algorithm>
#include <charconv>

#include <fmt/core.h>

#include "supervisor/config/diagnostics.h"

namespace wsgid::ctl {

const std::vector<CommandInfo>& commands() {
  static const std::vector<CommandInfo> kCommands = {
      {"status", "[GROUP...]", "show every process (or those of GROUP): state, pid, uptime, ...",
       "One line per process: NAME (group:index, frontend, or %{GLOBAL} for the\n"
       "embedded pool, the front end's own Python), STATE, PID, UPTIME\n"
       "(H:MM:SS), REQS (requests served), CURRENT (age of the oldest request in\n"
       "progress), RSS, LAST EXIT (how the previous process of that slot ended).\n"
       "The processes of a stopped group show as STOPPED. Exit status 3 when a\n"
       "process shown is not RUNNING, else 0."},
      {"start", "GROUP...|all", "start stopped groups (also clears FATAL)",
       "Starts the processes of each GROUP (or of every group with 'all') that were\n"
       "stopped with `stop`, or gave up starting (FATAL). Returns once the master\n"
       "has accepted the request; `status` shows the progress."},
      {"stop", "[--now] GROUP...|all", "stop groups (graceful; --now: SIGTERM)",
       "Stops each GROUP: its processes finish their requests and exit (graceful,\n"
       "within graceful-timeout), or get SIGTERM at once with --now. The group's\n"
       "socket stays open and the front end answers 503 until `start`."},
      {"restart", "[--now] GROUP...|all", "restart groups (rolling; --now: SIGTERM, then respawn)",
       "Replaces every process of each GROUP. Rolling by default: each new process is\n"
       "READY before the old one drains, so no request is refused. With --now the old\n"
       "processes get SIGTERM at once and new ones start. %{GLOBAL} (and 'all', when\n"
       "the configuration has embedded scripts) replaces the embedded pool: a new\n"
       "front end, with a new Python, takes over the same way."},
      {"reload", "", "re-read the configuration file (as SIGHUP)",
       "Re-reads the configuration: new groups start, removed groups stop, changed\n"
       "groups restart rolling, unchanged groups keep their processes. An invalid\n"
       "file changes nothing: its errors are printed (file:line:col) and the exit\n"
       "status is 1."},
      {"check", "", "validate the configuration file on disk (changes nothing)",
       "Asks the daemon to parse its configuration file as `reload` would, without\n"
       "applying it, and prints the diagnostics. Exit status 1 when it has errors."},
      {"reopen", "", "reopen the log files (after logrotate)",
       "Reopens ErrorLog and tells the front end to reopen its access and error logs."},
      {"pid", "[GROUP...|all]", "print the master's pid, or the pids of GROUP's processes",
       "Without GROUP: the master's pid. With one GROUP: its processes' pids, one a\n"
       "line. With several (or 'all'): one line per group, 'GROUP: PID PID...'."},
      {"signal", "SIG GROUP...|all", "send SIG (USR1, TERM, 9, ...) to every process of GROUP",
       "Sends the signal SIG (a name such as USR1 or SIGUSR1, or a number) to every\n"
       "live process of each GROUP. USR1 asks the workers for a rolling replacement."},
      {"tail", "[-f] [-n N] GROUP|frontend|master",
       "print the last output lines of GROUP's workers, the front end or the master",
       "Prints the last N (default 100) output lines the master captured from GROUP's\n"
       "workers (or from the front end); for master, the last lines of its ErrorLog\n"
       "(its own lines when it logs to stderr). With -f, keeps printing new lines\n"
       "(for master: its own) until the daemon closes the connection or Ctrl-C\n"
       "(exit status 0)."},
      {"shutdown", "[--now]", "stop wsgid (graceful; --now: at once)",
       "Stops the daemon as SIGTERM does (every group drains, then the master exits),\n"
       "or as SIGQUIT with --now. Returns once the master has accepted the request."},
      {"version", "", "print wsgictl's version and the daemon's",
       "Prints 'wsgictl VERSION', then 'wsgid VERSION' from the daemon. When the\n"
       "daemon is not reachable, the first line is still printed, the reason goes to\n"
       "stderr and the exit status is 7. (`wsgictl --version` never asks the daemon.)"},
      {"help", "[COMMAND]", "list the commands, or explain COMMAND",
       "Without COMMAND: every command with a one-line summary. With COMMAND: its\n"
       "synopsis and what it does (as `COMMAND --help`). Never contacts the daemon."},
      {"quit", "", "leave the interactive shell (also: exit, Ctrl-D)",
       "Leaves the interactive shell."},
      {"exit", "", "leave the interactive shell",
       "Leaves the interactive shell."},
  };
  return kCommands;
}

const CommandInfo* find_command(std::string_view name) {
  for (const auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

namespace {

// Reads the global option argv[*i] into *o (advancing *i past its value);
// false when argv[*i] is not a global option. After the command word
// (after_command), the command's own options keep their meaning: `tail -f` is
// --follow, and -h/--help/-V are left to the command.
Result<bool> global_option(const std::vector<std::string>& argv, size_t* i, bool after_command,
                           const std::string& command, Options* o) {
  const std::string& s = argv[*i];
  auto value = [&](std::string* out) -> Status {
    if (*i + 1 >= argv.size()) return Status::error(fmt::format("option {} needs a value", s));
    *out = argv[++*i];
    return Status::ok();
  };
  Status st;
  if (s == "-s" || s == "--socket") {
    st = value(&o->socket);
  } else if (s.rfind("--socket=", 0) == 0) {
    o->socket = s.substr(9);
  } else if ((s == "-f" && !(after_command && command == "tail")) || s == "--config") {
    st = value(&o->config);
  } else if (s.rfind("--config=", 0) == 0) {
    o->config = s.substr(9);
  } else if (s == "-D") {
    std::string define;
    st = value(&define);
    if (st) o->defines.push_back(define);
  } else if (s == "--json") {
    o->json = true;
  } else if (!after_command && (s == "-h" || s == "--help")) {
    o->help = true;
  } else if (!after_command && (s == "-V" || s == "--version")) {
    o->version = true;
  } else {
    return false;
  }
  if (!st) return st;
  return true;
}

}  // namespace

Result<Options> parse_args(const std::vector<std::string>& argv) {
  Options o;
  size_t i = 0;
  for (; i < argv.size(); ++i) {  // before the command
    const std::string& s = argv[i];
    if (s.empty() || s[0] != '-' || s == "-") break;
    if (s == "--") {
      ++i;
      break;
    }
    Result<bool> taken = global_option(argv, &i, false, "", &o);
    if (!taken) return taken.status();
    if (!*taken) return Status::error(fmt::format("unknown option '{}'", s));
  }
  if (i == argv.size()) return o;
  const std::string command = argv[i];
  o.words.push_back(command);
  for (++i; i < argv.size(); ++i) {  // after it, as git and systemctl take them
    const std::string& s = argv[i];
    if (s == "--") {  // the command's own end of options: the rest are its words
      o.words.insert(o.words.end(), argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
      break;
    }
    bool signal_name = command == "signal" && o.words.size() == 1;  // signal -9 GROUP
    if (s.size() > 1 && s[0] == '-' && !signal_name) {
      Result<bool> taken = global_option(argv, &i, true, command, &o);
      if (!taken) return taken.status();
      if (*taken) continue;
    }
    o.words.push_back(s);
  }
  return o;
}

namespace {

bool takes_groups(const std::string& c) {
  return c == "start" || c == "stop" || c == "restart";
}

Result<int> parse_lines(const std::string& v) {
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 0 || n > 100000)
    return Status::error("-n must be an integer from 0 to 100000");
  return n;
}

}  // namespace

Result<Command> parse_command(const std::vector<std::string>& words) {
  Command c;
  if (words.empty()) return c;
  c.name = words[0];
  if (!find_command(c.name)) {
    std::vector<std::string_view> names;
    for (const auto& k : commands()) names.emplace_back(k.name);
    std::string_view near = config::closest(c.name, names);
    if (!near.empty())
      return Status::error(fmt::format("unknown command '{}' (did you mean '{}'?)", c.name, near));
    return Status::error(fmt::format("unknown command '{}'", c.name));
  }
  const std::string& n = c.name;
  bool options_done = false;
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    bool is_option = !options_done && w.size() > 1 && w[0] == '-' &&
                     !(n == "signal" && c.args.empty());  // signal -9 GROUP
    if (!is_option) {
      c.args.push_back(w);
      continue;
    }
    if (w == "--") {
      options_done = true;
    } else if (w == "-h" || w == "--help") {
      // `wsgictl CMD --help` is `help CMD`.
      Command h;
      h.name = "help";
      h.args = {n};
      return h;
    } else if (w == "--now" && (takes_groups(n) || n == "shutdown") && n != "start") {
      c.now = true;
    } else if ((w == "-f" || w == "--follow") && n == "tail") {
      c.follow = true;
    } else if ((w == "-n" || w == "--lines") && n == "tail") {
      if (i + 1 >= words.size()) return Status::error("-n needs a number of lines");
      auto v = parse_lines(words[++i]);
      if (!v) return v.status();
      c.lines = *v;
    } else if (w.rfind("-n", 0) == 0 && w.size() > 2 && n == "tail") {
      auto v = parse_lines(w.substr(2));
      if (!v) return v.status();
      c.lines = *v;
    } else {
      return Status::error(fmt::format("{}: unknown option '{}'", n, w));
    }
  }
  if (takes_groups(n) && c.args.empty())
    return Status::error(fmt::format("{} needs group names or 'all'", n));
  if ((n == "reload" || n == "check" || n == "reopen" || n == "version" || n == "quit" ||
       n == "exit") &&
      !c.args.empty())
    return Status::error(fmt::format("{} takes no arguments", n));
  if (n == "shutdown" && !c.args.empty())
    return Status::error("shutdown takes no arguments besides --now");
  if (n == "signal" && c.args.size() < 2)
    return Status::error("signal needs a signal name and at least one group");
  if (n == "tail" && c.args.size() != 1)
    return Status::error("tail takes one group name, 'frontend' or 'master'");
  if (n == "help") {
    if (c.args.size() > 1) return Status::error("help takes at most one command name");
    if (c.args.size() == 1 && !find_command(c.args[0]))
      return Status::error(fmt::format("no such command '{}'", c.args[0]));
  }
  return c;
}

nlohmann::json to_request(const Command& c) {
  nlohmann::json j = {{"command", c.name}, {"args", c.args}};
  if (c.now) j["now"] = true;
  if (c.name == "tail") {
    j["lines"] = c.lines;
    if (c.follow) j["follow"] = true;
  }
  return j;
}

bool needs_daemon(const Command& c) {
  return !c.name.empty() && c.name != "help" && c.name != "quit" && c.name != "exit";
}

int exit_code_for(const nlohmann::json& reply) {
  if (reply.is_object() && reply.value("ok", false) == true) return kExitOk;
  std::string code;
  if (reply.is_object() && reply.contains("code") && reply["code"].is_string())
    code = reply["code"].get<std::string>();
  if (code == "usage") return kExitUsage;
  if (code == "no-such-group") return kExitNoSuchGroup;
  if (code == "not-running") return kExitNotRunning;
  return kExitFailed;  // failed, permission, unknown
}

Result<std::vector<std::string>> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (char ch : line) {
    if (quote) {
      if (ch == quote) quote = 0;
      else cur += ch;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
      in_word = true;
    } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += ch;
      in_word = true;
    }
  }
  if (quote) return Status::error("unterminated quote");
  if (in_word) words.push_back(std::move(cur));
  return words;
}

std::string usage_error_json(const std::string& message) {
  return nlohmann::json({{"ok", false}, {"code", "usage"}, {"error", message}}).dump(2);
}

std::string usage_line() {
  return "usage: wsgictl [-s SOCKET | -f CONFIG] [--json] [COMMAND [ARGS...]]\n";
}

std::string usage_text() {
  std::string s = usage_line();
  s += "\nControls a running wsgid over its control socket (WSGIControlSocket).\n"
       "Without COMMAND: an interactive shell (commands one a line from stdin when\n"
       "it is not a terminal).\n\n"
       "Options:\n"
       "  -s, --socket SOCKET  the control socket\n"
       "  -f, --config CONFIG  read WSGIControlSocket from CONFIG (default\n"
       "                       /etc/wsgid/wsgid.conf when it exists)\n"
       "  -D NAME              define NAME for <IfDefine NAME> when reading CONFIG\n"
       "  --json               print the daemon's reply as JSON\n"
       "  -h, --help           show this help;  -V, --version  wsgictl's version\n\n"
       "Commands:\n";
  for (const auto& c : commands()) {
    if (std::string_view(c.name) == "quit" || std::string_view(c.name) == "exit") continue;
    std::string head = std::string(c.name) + (*c.synopsis ? " " : "") + c.synopsis;
    s += fmt::format("  {:<35} {}\n", head, c.summary);
  }
  s += "\nThe socket: -s, else WSGIControlSocket of -f CONFIG, else $WSGICTL_SOCKET, else\n"
       "that of /etc/wsgid/wsgid.conf, else RUNTIME_DIR/control.sock (/run/wsgid as root).\n\n"
       "Exit status: 0 ok; 1 failed (also: permission denied); 2 usage error;\n"
       "3 a process shown by status is not running; 4 no such group;\n"
       "7 wsgid is not reachable (not running).\n";
  return s;
}

std::string help_text(const std::string& command) {
  if (command.empty()) {
    std::string s = "Commands (help COMMAND for more):\n";
    for (const auto& c : commands()) {
      std::string head = std::string(c.name) + (*c.synopsis ? " " : "") + c.synopsis;
      s += fmt::format("  {:<35} {}\n", head, c.summary);
    }
    return s;
  }
  const CommandInfo* c = find_command(command);
  if (!c) return "";
  return fmt::format("usage: {}{}{}\n\n{}\n", c->name, *c->synopsis ? " " : "", c->synopsis,
                     c->help_text);
}

}  // namespace wsgid::ctl
