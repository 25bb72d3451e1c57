// systemd readiness notification (sd_notify without libsystemd): one datagram
// per state change to the AF_UNIX socket named by $NOTIFY_SOCKET ("/path" or
// "@abstract"). Messages: "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...",
// "MAINPID=...", "WATCHDOG=1". When NOTIFY_SOCKET is unset every call does
// nothing. The variables (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID) are removed
// from the environment at init() so children never inherit them. Loop thread
// only; never blocks (the datagram is sent MSG_DONTWAIT). The watchdog's timer is
// the daemon's (it pings at half watchdog_usec(), as sd_watchdog_enabled(3) asks).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace wsgid::master {

// WATCHDOG_USEC as sd_watchdog_enabled(3) reads it: the interval in
// microseconds, or 0 (off) when unset, not a positive number, or when
// WATCHDOG_PID is set and names another process.
uint64_t parse_watchdog_usec(const char* watchdog_usec, const char* watchdog_pid, pid_t self);

class Notifier {
 public:
  // Reads and unsets NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID.
  void init();
  bool enabled() const { return !path_.empty(); }
  // systemd's watchdog interval (WatchdogSec=) in microseconds; 0 when off or
  // when there is no NOTIFY_SOCKET to answer on.
  uint64_t watchdog_usec() const { return path_.empty() ? 0 : watchdog_usec_; }
  // Sends one datagram ("READY=1\nSTATUS=..."); errors are logged once at debug.
  void send(std::string_view message);

 private:
  std::string path_;
  uint64_t watchdog_usec_ = 0;
};

}  // namespace wsgid::master
