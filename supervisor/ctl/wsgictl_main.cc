// wsgictl: the operator's command-line client of a running wsgid (issue #6),
// as supervisorctl is supervisord's. Parses the global options (ctl.h), finds
// the control socket (client.h), then runs one command (run.h) or, without a
// command, the interactive shell. Exit statuses: see ctl.h (LSB).
#include <cstdio>
#include <string>
#include <vector>

#include "common/version.h"
#include "supervisor/ctl/ctl.h"
#include "supervisor/ctl/run.h"

using namespace wsgid::ctl;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto opts = parse_args(args);
  if (!opts) {
    std::fprintf(stderr, "wsgictl: %s\n%s", opts.status().message().c_str(), usage_line().c_str());
    return kExitUsage;
  }
  if (opts->help) {
    std::fputs(usage_text().c_str(), stdout);
    return kExitOk;
  }
  if (opts->version) {
    std::printf("wsgictl %s\n", wsgid::kVersion);
    return kExitOk;
  }
  Session s;
  if (opts->words.empty()) {
    s = make_session(*opts);
    return run_shell(s);
  }
  auto cmd = parse_command(opts->words);
  if (!cmd) {
    if (opts->json)  // the object a daemon's usage error has
      std::printf("%s\n", usage_error_json(cmd.status().message()).c_str());
    std::fprintf(stderr, "wsgictl: %s\n%s", cmd.status().message().c_str(), usage_line().c_str());
    return kExitUsage;
  }
  if (!needs_daemon(*cmd)) {
    s.options = *opts;
    return execute(s, *cmd);
  }
  s = make_session(*opts);
  return execute(s, *cmd);
}
