#include "worker/control_channel.h"

#include <fcntl.h>

#include <fmt/core.h>

#include "common/log.h"
#include "protocol/messages.h"

namespace wsgid::worker {

Status ControlChannel::open(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return Status::sys("fcntl", fmt::format("control fd {}", fd));
  if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return Status::sys("fcntl", fmt::format("control fd {}", fd));
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  ch_.reset(fd);
  ch_.set_name("control channel");
  return Status::ok();
}

Result<std::string> ControlChannel::handshake(int timeout_ms) {
  std::string hello;
  proto::append_hello(&hello);
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    Status s = ch_.write_all(hello, 5000);
    if (!s) return Status::error(fmt::format("control channel: {}", s.message()));
  }
  bool got_hello = false;
  for (;;) {
    proto::Frame f;
    FrameChannel::Read r = ch_.read(&f, timeout_ms);
    if (r == FrameChannel::Read::kTimeout)
      return Status::error(fmt::format("control channel: no {} from the master within {} s",
                                       got_hello ? "settings" : "hello", timeout_ms / 1000));
    if (r == FrameChannel::Read::kEof) return Status::error("control channel: closed by the master");
    if (r != FrameChannel::Read::kFrame) return Status::error(fmt::format("control channel: {}", ch_.error()));
    if (!got_hello) {
      if (f.type != proto::FrameType::kHello)
        return Status::error(fmt::format("control channel: expected HELLO, got {}", proto::type_name(f.type)));
      Result<proto::Hello> v = proto::decode_hello(f.payload);
      if (!v) return Status::error(fmt::format("control channel: {}", v.status().message()));
      got_hello = true;
      continue;
    }
    if (f.type != proto::FrameType::kSettings)
      return Status::error(fmt::format("control channel: expected SETTINGS, got {}", proto::type_name(f.type)));
    return std::string(f.payload);
  }
}

Status ControlChannel::send(proto::FrameType type, const nlohmann::json& body) {
  std::string out;
  proto::append_frame(&out, type, 0, body.dump());
  std::lock_guard<std::mutex> lock(write_mu_);
  return ch_.write_all(out, 5000);
}

void ControlChannel::send_exiting(const std::string& reason, const std::string& detail) {
  Status s = send(proto::FrameType::kExiting, {{"reason", reason}, {"detail", detail}});
  if (!s) log::warn("cannot tell the master why this worker exits ({}): {}", reason, s.message());
}

}  // namespace wsgid::worker
