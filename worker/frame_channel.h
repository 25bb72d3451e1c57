// FrameChannel: blocking-with-timeout frame I/O on one non-blocking stream socket
// (a front-end connection or the control channel).
//
// Owned and used by one thread at a time (a request thread for its connection;
// the control channel serialises writers itself). Reads go through a
// proto::FrameReader, but for the payloads of large request body frames, which
// a RequestIo receives into the application's memory (set_direct_min(),
// read_payload()); every wait is a poll() bounded by a timeout and, when
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
#include <deque>
#include <string>
#include <string_view>
#include <vector>

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
  // kPartial: see set_direct_min().
  enum class Read { kFrame, kPartial, kEof, kTimeout, kWoken, kError };

  explicit FrameChannel(int fd = -1) : fd_(fd) {}
  void reset(int fd);
  int fd() const { return fd_; }

  // Waits up to timeout_ms (-1: forever) for one whole frame. kFrame: *out is
  // valid until the next read(). kEof: the peer closed (or reset) the stream.
  // kWoken: wake_fd (>= 0) became readable while no whole frame was buffered.
  // kError: a read error or a malformed frame (error() says which); the stream
  // is dead.
  Read read(proto::Frame* out, int timeout_ms, int wake_fd = -1, WaitHook* hook = nullptr);
  // True when bytes are buffered or the socket is readable now (no waiting;
  // frames kept for later do not count).
  bool readable_now();

  // Frames of a request the front end sent ahead of the one being served
  // (pipelined, PROTOCOL.md 5.7), met while that one looks for its own (a
  // CANCEL, a RESPONSE_SOCKET): kept, in order, and read() returns them before
  // anything received after them. read_new() reads past them.
  void keep_for_later(const proto::Frame& f);
  Read read_new(proto::Frame* out, int timeout_ms, int wake_fd = -1, WaitHook* hook = nullptr);

  // Request body payloads straight into the caller's memory (RequestIo's
  // read_into: wsgi.input.read(n), readinto), not through the reader's buffer.
  // With min > 0, read() stops at a REQUEST_BODY frame of which at least min
  // payload bytes are still in the socket: kPartial, *out's type and request
  // id set, its payload the bytes already buffered (consumed), payload_left()
  // the rest, which the caller takes with read_payload() before the next
  // read(). Meanwhile reads take what completes the frame at the front, so that
  // a payload stays in the socket rather than pass through the buffer. 0 (the
  // default): whole frames only.
  void set_direct_min(size_t min) { direct_min_ = min; }
  size_t payload_left() const { return payload_left_; }
  // Reads up to n body bytes into dst: one recv() that brings something. An n
  // past payload_left() reads on in the same call: the next frame's header,
  // then, when that frame is a REQUEST_BODY, its payload into dst after this
  // one's (payload_left() is then that frame's rest); any other frame's bytes
  // go to the reader for read(). kFrame with *got > 0, or kEof / kTimeout /
  // kError as read() (a wait calls hook as read() does).
  Read read_payload(char* dst, size_t n, size_t* got, int timeout_ms, WaitHook* hook = nullptr);
  // Payload bytes read_payload() has received so far (for tests).
  uint64_t payload_bytes() const { return payload_bytes_; }

  // Writes all of data, waiting at most timeout_ms for each chunk of progress.
  // Errors: "write(<what>): Broken pipe", "write(<what>): timed out after N ms".
  Status write_all(std::string_view data, int timeout_ms, WaitHook* hook = nullptr);
  // The same for the concatenation of iov[0..n) (writev: no copy into one buffer).
  // iov is modified as it is consumed.
  Status write_all(struct iovec* iov, size_t n, int timeout_ms, WaitHook* hook = nullptr);

  // Descriptors sent with the stream's bytes (SCM_RIGHTS), each with the
  // frame it rides on: the front end's HELLO carries its started page
  // (protocol/started_page.h), a BODY_SOCKET the client's socket (PROTOCOL.md
  // 5.5), each sent alone in its sendmsg(). The kernel ends a recv() at the
  // message a descriptor came with (or within it), so a descriptor belongs to
  // the frame holding the last byte of the recv() that brought it. With
  // accept_fds(), every recv() takes descriptors (the first of a message is
  // kept, others closed); take_fd() -> the one that came with the frame read()
  // returned last (the caller owns it), or -1; kept ones of frames already
  // passed are closed then, and the rest by close().
  void accept_fds() { accept_fds_ = true; }
  int take_fd();

  const std::string& error() const { return error_; }
  void set_name(std::string name) { name_ = std::move(name); }
  void close();

 private:
  // The most one recv() asks for: a request head with a whole body frame's
  // payload (proto::kBodyChunk) and the frames around it, so that a request
  // of up to 64 KiB comes in one recv().
  static constexpr size_t kRecvSize = 2 * proto::kBodyChunk;
  // read_payload(): n bytes after a header the reader holds whole -> how many
  // are that frame's body payload (the rest are fed to the reader).
  size_t adopt_payload(const char* p, size_t n);
  // recv(), or recvmsg() taking descriptors with accept_fds().
  ssize_t recv_some(char* dst, size_t n);
  // recvmsg() into iov, taking a descriptor the same way.
  ssize_t recv_iov(struct iovec* iov, size_t count);
  // Keeps the first of fds with the stream offset of the recv()'s last byte
  // (see accept_fds()), closes the others.
  void keep_fd(const std::vector<int>& fds, uint64_t last_byte);
  void close_kept();
  int fd_;
  proto::FrameReader reader_;
  std::string error_;
  std::string name_ = "connection";
  bool maybe_empty_ = false;  // the last recv() was short: poll before the next one
  size_t direct_min_ = 0;
  size_t payload_left_ = 0;  // of a kPartial frame, still in the socket
  uint64_t payload_bytes_ = 0;
  bool accept_fds_ = false;
  uint64_t received_ = 0;     // bytes received on the stream so far
  uint64_t frame_start_ = 0;  // stream offset of the frame read() returned last
  uint64_t frame_end_ = 0;
  struct KeptFd {
    int fd;
    uint64_t last_byte;  // stream offset of the last byte received with it
  };
  std::vector<KeptFd> kept_;  // owned until take_fd(); closed by close()
  struct LaterFrame {
    proto::FrameType type;
    uint8_t flags;
    uint32_t request_id;
    std::string payload;
  };
  std::deque<LaterFrame> later_;
  LaterFrame returned_;  // the kept frame read() returned last: its payload's storage
};

}  // namespace wsgid::worker
