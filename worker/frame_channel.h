// FrameChannel: blocking-with-timeout frame I/O on one non-blocking stream socket
// (a front-end connection or the control channel).
//
// Owned and used by one thread at a time (a request thread for its connection;
// the control channel serialises writers itself). Reads go through a
// proto::FrameReader; every wait is a poll() bounded by a timeout and, when
// given, a wake fd (an eventfd the worker makes readable to stop idle waits).
// The channel does not own the fd unless close() is called.
//
// A WaitHook, when given, is called around every poll() that may block, and
// only there: a request thread calling from Python passes one that releases the
// GIL (wsgi_runtime.cc), so a recv() or send() that completes at once costs no
// GIL hand-off to a sibling thread, while a real wait never holds the GIL.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "protocol/frame.h"

namespace wsgid::worker {

class WaitHook {
 public:
  virtual ~WaitHook() = default;
  virtual void before_wait() = 0;
  virtual void after_wait() = 0;
};

class FrameChannel {
 public:
  enum class Read { kFrame, kEof, kTimeout, kWoken, kError };

  explicit FrameChannel(int fd = -1) : fd_(fd) {}
  void reset(int fd);
  int fd() const { return fd_; }

  // Waits up to timeout_ms (-1: forever) for one whole frame. kFrame: *out is
  // valid until the next read(). kEof: the peer closed (or reset) the stream.
  // kWoken: wake_fd (>= 0) became readable while no whole frame was buffered.
  // kError: a read error or a malformed frame (error() says which); the stream
  // is dead.
  Read read(proto::Frame* out, int timeout_ms, int wake_fd = -1, WaitHook* hook = nullptr);
  // True when bytes are buffered or the socket is readable now (no waiting).
  bool readable_now();

  // Writes all of data, waiting at most timeout_ms for each chunk of progress.
  // Errors: "write(<what>): Broken pipe", "write(<what>): timed out after N ms".
  Status write_all(std::string_view data, int timeout_ms, WaitHook* hook = nullptr);
  // The same for the concatenation of iov[0..n) (writev: no copy into one buffer).
  // iov is modified as it is consumed.
  Status write_all(struct iovec* iov, size_t n, int timeout_ms, WaitHook* hook = nullptr);

  const std::string& error() const { return error_; }
  void set_name(std::string name) { name_ = std::move(name); }
  void close();

 private:
  // The most one recv() asks for: a body frame's payload (proto::kBodyChunk).
  static constexpr size_t kRecvSize = proto::kBodyChunk;
  int fd_;
  proto::FrameReader reader_;
  std::string error_;
  std::string name_ = "connection";
  bool maybe_empty_ = false;  // the last recv() was short: poll before the next one
};

}  // namespace wsgid::worker
