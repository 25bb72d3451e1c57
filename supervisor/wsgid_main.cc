// wsgid: the master daemon's entry point. Parses argv, then either validates the
// configuration (--check, see check.h) or runs the daemon (run_daemon, below).
//
// Exit codes: 0 ok / config valid, 1 config invalid or the daemon failed,
// 2 usage error.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "common/version.h"
#include "model/paths.h"
#include "supervisor/check.h"
#include "supervisor/master/daemon.h"
#include "supervisor/master/listen_fds.h"

namespace {

using wsgid::model::kDefaultConfig;

struct Args {
  std::string config = kDefaultConfig;
  bool check = false;
  bool json = false;
  bool daemonize = false;
  std::string unit;  // --unit FILE (with --check)
  std::vector<std::string> defines;
};

void usage(FILE* f) {
  std::fprintf(f,
               "usage: wsgid [-f FILE] [-D NAME]... [-d]\n"
               "       wsgid --check [--json] [--unit FILE] [-f FILE] [-D NAME]...\n"
               "\n"
               "Runs Python WSGI applications the way Apache mod_wsgi's daemon mode does.\n"
               "\n"
               "  -f FILE     configuration file (default %s)\n"
               "  -D NAME     define NAME for <IfDefine NAME> (repeatable)\n"
               "  -d          detach and run in the background\n"
               "  --check     validate the configuration and exit; errors and warnings go\n"
               "              to stderr\n"
               "  --json      with --check: print the resolved model as JSON on stdout\n"
               "  --unit FILE with --check: also lint the systemd unit that runs wsgid (its\n"
               "              TimeoutStopSec against the groups' graceful-timeout +\n"
               "              shutdown-timeout, its KillMode)\n"
               "  --help      show this help\n"
               "  --version   show the version\n"
               "\n"
               "Exit status: 0 ok (--check: valid, warnings allowed); 1 invalid configuration\n"
               "or failure; 2 usage error.\n",
               kDefaultConfig);
}

// Returns -1 to go on, else the exit status.
int parse_args(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto need_value = [&](const char* opt) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "wsgid: %s needs a value\n", opt);
        return nullptr;
      }
      return argv[++i];
    };
    if (s == "--help" || s == "-h") {
      usage(stdout);
      return 0;
    } else if (s == "--version" || s == "-v") {
      std::printf("wsgid %s\n", wsgid::kVersion);
      return 0;
    } else if (s == "--check" || s == "-t") {
      a->check = true;
    } else if (s == "--json") {
      a->json = true;
    } else if (s == "--unit") {
      const char* v = need_value("--unit");
      if (!v) return 2;
      a->unit = v;
    } else if (s.rfind("--unit=", 0) == 0) {
      a->unit = s.substr(7);
    } else if (s == "-d") {
      a->daemonize = true;
    } else if (s == "-f") {
      const char* v = need_value("-f");
      if (!v) return 2;
      a->config = v;
    } else if (s.rfind("-f", 0) == 0 && s.size() > 2 && s[2] != '-') {
      a->config = s.substr(2);
    } else if (s == "-D") {
      const char* v = need_value("-D");
      if (!v) return 2;
      a->defines.push_back(v);
    } else if (s.rfind("-D", 0) == 0 && s.size() > 2) {
      a->defines.push_back(s.substr(2));
    } else {
      std::fprintf(stderr, "wsgid: unknown argument '%s'\n", s.c_str());
      usage(stderr);
      return 2;
    }
  }
  if (a->json && !a->check) {
    std::fprintf(stderr, "wsgid: --json only goes with --check\n");
    return 2;
  }
  if (!a->unit.empty() && !a->check) {
    std::fprintf(stderr, "wsgid: --unit only goes with --check\n");
    return 2;
  }
  return -1;
}

// ---------------------------------------------------------------------------
// DISPATCH POINT for the master daemon (#4): replace the body of run_daemon()
// with the daemon (parse the config, open sockets, start children, run the loop).
// a.daemonize is -d; a.defines are the -D names; a.config is the config path.
int run_daemon(const Args& a) {
  wsgid::master::DaemonOptions o;
  o.config_path = a.config;
  o.daemonize = a.daemonize;
  o.defines = a.defines;
  return wsgid::master::run_daemon(o);
}
// ---------------------------------------------------------------------------

}  // namespace

int main(int argc, char** argv) {
  Args a;
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0) return rc;
  if (a.check) {
    wsgid::CheckOptions o;
    o.config_path = a.config;
    o.json = a.json;
    o.unit_path = a.unit;
    o.defines = a.defines;
    if (getenv("LISTEN_FDS")) {
      o.socket_activation = true;
      auto fds = wsgid::master::take_listen_fds();
      if (fds.is_ok())
        o.listen_fds = std::move(fds.value());
      else
        o.listen_fds_error = fds.status().message();
    }
    return wsgid::run_check(o, std::cout, std::cerr);
  }
  return run_daemon(a);
}
