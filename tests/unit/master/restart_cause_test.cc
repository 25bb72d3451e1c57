// Restart causes (supervisor/master/restart_cause.h), one row per way a
// process is replaced.
#include <doctest/doctest.h>

#include <csignal>
#include <string>

#include "supervisor/master/restart_cause.h"

namespace wsgid::master {
namespace {

ExitInfo exited(int status, std::string reason = "") {
  ExitInfo e;
  e.wait_status = status << 8;  // WIFEXITED with that status
  e.reason = std::move(reason);
  return e;
}

ExitInfo killed(int sig) {
  ExitInfo e;
  e.wait_status = sig;  // WIFSIGNALED
  return e;
}

TEST_CASE("exit_cause: announced reasons first, then how the process ended") {
  struct Case {
    ExitInfo info;
    bool asked;
    const char* cause;
  } cases[] = {
      {killed(SIGKILL), false, "signal"},
      {killed(SIGSEGV), false, "signal"},
      {exited(3), false, "exit-code"},
      {exited(0), false, "exit-code"},
      {exited(1, "request-timeout"), false, "request-timeout"},
      {killed(SIGKILL), false, "signal"},
      {exited(1, "deadlock-timeout"), false, "deadlock-timeout"},
      {exited(1, "startup-timeout"), false, "startup-timeout"},
      {exited(1, "memory-limit"), false, "memory-limit"},
      {exited(1, "startup-failure"), false, "startup-failure"},
      {exited(0, "something new"), false, "exit-code"},
      {killed(SIGTERM), true, "restart"},  // restart --now
  };
  for (const Case& c : cases) {
    INFO(c.cause);
    CHECK(exit_cause(c.info, c.asked) == c.cause);
  }
}

TEST_CASE("replace_cause: the reason a rolling replacement was given") {
  struct Case {
    const char* reason;
    const char* cause;
  } cases[] = {
      {"maximum-requests", "maximum-requests"},
      {"restart-interval", "restart-interval"},
      {"inactivity-timeout", "inactivity-timeout"},
      {"cpu-time-limit", "cpu-time-limit"},
      {"request-timeout", "request-timeout"},
      {"signal USR1", "usr1"},
      {"reload", "reload"},
      {"wsgictl restart", "restart"},
      {"SIGUSR2", "restart"},
      {"script changed: /srv/app.wsgi", "script-changed"},
      {"replace-me", "other"},
  };
  for (const Case& c : cases) {
    INFO(c.reason);
    CHECK(replace_cause(c.reason) == c.cause);
  }
}

}  // namespace
}  // namespace wsgid::master
