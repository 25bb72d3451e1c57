// systemd readiness notification (sd_notify without libsystemd): one datagram
// per state change to the AF_UNIX socket named by $NOTIFY_SOCKET ("/path" or
// "@abstract"). Messages: "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...",
// "MAINPID=...". When NOTIFY_SOCKET is unset every call does nothing. The
// variable is removed from the environment at init() so children never inherit
// it. Loop thread only; never blocks (the datagram is sent MSG_DONTWAIT).
#pragma once

#include <string>
#include <string_view>

namespace wsgid::master {

class Notifier {
 public:
  // Reads and unsets NOTIFY_SOCKET.
  void init();
  bool enabled() const { return !path_.empty(); }
  // Sends one datagram ("READY=1\nSTATUS=..."); errors are logged once at debug.
  void send(std::string_view message);

 private:
  std::string path_;
};

}  // namespace wsgid::master
