// wsgictl's interactive shell (no command on the command line); see run.h.
//
// On a terminal: libedit's readline interface, prompt "wsgid> ", history in
// memory and in ~/.wsgictl_history, tab completion of command names, options,
// signal names and group names (fetched with one `status` the first time a
// group name is completed). Otherwise: one command a line from stdin, no
// prompt, '#' comments and blank lines skipped. quit, exit or EOF leave. On a
// terminal, SIGINT (Ctrl-C) at the prompt drops the line (a handler installed
// for the shell's life; during `tail -f`, run.cc's own handler ends the tail).
#include <editline/readline.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "supervisor/ctl/ctl.h"
#include "supervisor/ctl/run.h"

namespace wsgid::ctl {

namespace {

// Completion state (libedit's callbacks take no context).
const Session* g_session = nullptr;
std::vector<std::string> g_groups;
bool g_groups_fetched = false;
std::vector<std::string> g_candidates;

const std::vector<std::string>& groups() {
  if (!g_groups_fetched) {
    g_groups = fetch_group_names(*g_session);
    g_groups_fetched = true;
  }
  return g_groups;
}

std::vector<std::string> candidates_for(const std::vector<std::string>& before) {
  std::vector<std::string> v;
  if (before.empty()) {
    for (const auto& c : commands()) v.emplace_back(c.name);
    return v;
  }
  const std::string& cmd = before[0];
  auto add_groups = [&](bool all) {
    for (const auto& g : groups()) v.push_back(g);
    if (all) v.emplace_back("all");
  };
  if (cmd == "status" || cmd == "start" || cmd == "pid") {
    add_groups(true);
  } else if (cmd == "stop" || cmd == "restart") {
    add_groups(true);
    v.emplace_back("--now");
  } else if (cmd == "signal") {
    if (before.size() == 1) {
      for (const char* s : {"USR1", "USR2", "HUP", "TERM", "INT", "QUIT", "KILL", "CONT", "STOP",
                            "WINCH"})
        v.emplace_back(s);
    } else {
      add_groups(true);
    }
  } else if (cmd == "tail") {
    add_groups(false);
    v.emplace_back("frontend");
    v.emplace_back("master");
    v.emplace_back("-f");
    v.emplace_back("-n");
  } else if (cmd == "help") {
    if (before.size() == 1)
      for (const auto& c : commands()) v.emplace_back(c.name);
  } else if (cmd == "shutdown") {
    v.emplace_back("--now");
  }
  return v;
}

char* generate(const char* text, int state) {
  static size_t next = 0;
  if (state == 0) next = 0;
  size_t len = std::strlen(text);
  while (next < g_candidates.size()) {
    const std::string& c = g_candidates[next++];
    if (c.compare(0, len, text) == 0) return strdup(c.c_str());
  }
  return nullptr;
}

char** complete(const char* text, int start, int /*end*/) {
  rl_attempted_completion_over = 1;  // never fall back to file names
  std::string before(rl_line_buffer, static_cast<size_t>(start));
  auto words = split_words(before);
  g_candidates = words ? candidates_for(*words) : std::vector<std::string>{};
  return rl_completion_matches(text, generate);
}

volatile sig_atomic_t g_prompt_interrupted = 0;
void on_prompt_sigint(int) { g_prompt_interrupted = 1; }

// While readline() runs, SIGINT is blocked except inside this ppoll(): a Ctrl-C
// typed at any moment is seen here, and EOF ends readline() (the loop below
// tells it from a real EOF by the flag).
sigset_t g_wait_mask;
int getc_interruptible(FILE* f) {
  int fd = fileno(f);
  for (;;) {
    if (g_prompt_interrupted) return EOF;
    pollfd p{fd, POLLIN, 0};
    if (ppoll(&p, 1, nullptr, &g_wait_mask) < 0) {
      if (errno == EINTR) continue;
      return EOF;
    }
    unsigned char c;
    ssize_t n = read(fd, &c, 1);
    if (n == 1) return c;
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    return EOF;
  }
}

std::string history_path() {
  const char* home = std::getenv("HOME");
  if (!home || !*home) return "";
  return std::string(home) + "/.wsgictl_history";
}

// Runs one line; sets *quit for quit/exit. Returns the exit status.
int run_line(const Session& s, const std::string& line, bool* quit) {
  auto words = split_words(line);
  if (!words) {
    std::fprintf(stderr, "wsgictl: %s\n", words.status().message().c_str());
    return kExitUsage;
  }
  if (words->empty() || (*words)[0][0] == '#') return kExitOk;
  auto cmd = parse_command(*words);
  if (!cmd) {
    if (s.options.json) std::printf("%s\n", usage_error_json(cmd.status().message()).c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "wsgictl: %s (help lists the commands)\n",
                 cmd.status().message().c_str());
    return kExitUsage;
  }
  if (cmd->name == "quit" || cmd->name == "exit") {
    *quit = true;
    return kExitOk;
  }
  return execute(s, *cmd);
}

}  // namespace

int run_shell(const Session& s) {
  int last = kExitOk;
  bool quit = false;
  if (!isatty(STDIN_FILENO)) {
    std::string line;
    while (!quit && std::getline(std::cin, line)) last = run_line(s, line, &quit);
    return last;
  }
  g_session = &s;
  rl_readline_name = const_cast<char*>("wsgictl");
  rl_attempted_completion_function = complete;
  rl_catch_signals = 0;  // our SIGINT handling (above), not libedit's re-raise
  rl_getc_function = getc_interruptible;
  using_history();
  stifle_history(1000);
  std::string hist = history_path();
  if (!hist.empty()) read_history(hist.c_str());
  std::printf("wsgictl %s: control socket %s (help lists the commands, quit leaves)\n", kVersion,
              s.socket_error ? s.socket.c_str() : "(none)");
  std::fflush(stdout);
  // Ctrl-C at the prompt drops the line and prompts again (as a shell does).
  struct sigaction sa {}, old_sa{};
  sa.sa_handler = on_prompt_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_sa);
  sigset_t sigint, unblocked;
  sigemptyset(&sigint);
  sigaddset(&sigint, SIGINT);
  while (!quit) {
    g_prompt_interrupted = 0;
    sigprocmask(SIG_BLOCK, &sigint, &unblocked);
    g_wait_mask = unblocked;
    sigdelset(&g_wait_mask, SIGINT);
    char* raw = readline("wsgid> ");
    sigprocmask(SIG_SETMASK, &unblocked, nullptr);
    if (!raw && g_prompt_interrupted) {
      std::printf("\n");
      std::fflush(stdout);
      continue;
    }
    if (!raw) {
      std::printf("\n");
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    add_history(line.c_str());
    if (!hist.empty()) write_history(hist.c_str());
    last = run_line(s, line, &quit);
  }
  sigaction(SIGINT, &old_sa, nullptr);
  return last;
}

}  // namespace wsgid::ctl
