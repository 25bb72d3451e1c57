// ControlChannel: the worker's end of its control channel to the master (fd 3,
// protocol/PROTOCOL.md 7.1 and 7.2): hello, settings, READY, state, drain,
// replace-me and exiting messages as JSON frames (protocol/frame.h).
//
// Reads happen on the main thread only. send() may be called from any thread
// (a mutex serialises whole frames); it waits at most 5 s for the master, so a
// stuck master cannot hang a worker that is trying to exit.
#pragma once

#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "protocol/frame.h"
#include "worker/frame_channel.h"

namespace wsgid::worker {

class ControlChannel {
 public:
  // fd: the inherited control socket; made non-blocking and close-on-exec.
  Status open(int fd);
  // Sends our kHello, reads the master's kHello and then kSettings; returns the
  // settings JSON text. Errors: "control channel: no hello from the master within 30 s",
  // "control channel: expected SETTINGS, got READY", ...
  Result<std::string> handshake(int timeout_ms);

  Status send(proto::FrameType type, const nlohmann::json& body);
  // Convenience: kExiting {"reason", "detail"}.
  void send_exiting(const std::string& reason, const std::string& detail);

  FrameChannel& channel() { return ch_; }
  int fd() const { return ch_.fd(); }

 private:
  FrameChannel ch_;
  std::mutex write_mu_;
};

}  // namespace wsgid::worker
