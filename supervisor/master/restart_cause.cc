#include "supervisor/master/restart_cause.h"

#include <sys/wait.h>

#include <array>

namespace wsgid::master {

namespace {
constexpr std::array<std::string_view, 5> kAnnounced = {
    "request-timeout", "deadlock-timeout", "startup-timeout", "memory-limit", "startup-failure"};
constexpr std::array<std::string_view, 5> kAsked = {
    "maximum-requests", "restart-interval", "inactivity-timeout", "cpu-time-limit",
    "request-timeout"};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
}  // namespace

std::string_view exit_cause(const ExitInfo& info, bool asked) {
  if (asked) return "restart";
  for (std::string_view r : kAnnounced)
    if (info.reason == r) return r;
  if (WIFSIGNALED(info.wait_status)) return "signal";
  return "exit-code";
}

std::string_view replace_cause(std::string_view reason) {
  for (std::string_view r : kAsked)
    if (reason == r) return r;
  if (reason == "signal USR1") return "usr1";
  if (reason == "reload") return "reload";
  if (starts_with(reason, "wsgictl restart") || starts_with(reason, "SIGUSR2")) return "restart";
  if (starts_with(reason, "script changed")) return "script-changed";
  return "other";
}

}  // namespace wsgid::master
