// StartedPage: a request connection's shared page, where the worker marks the
// request whose application it is about to call (protocol/PROTOCOL.md 5.2, the
// started page; since version 4).
//
// The front end makes one per connection to a worker (create()): a memfd of one
// page, sealed against shrinking, mapped shared. Its descriptor travels with
// the front end's HELLO (SCM_RIGHTS, send_with_fds() of common/fd_passing.h);
// the worker maps it (map()) and, for each request, stores the request id there
// (mark()) where it would otherwise send a STARTED frame: a store instead of a send() on the worker's
// side and a read on the front end's, on every request. When the connection
// ends before the response head, the front end reads the page (marked()): the
// application was called for that request exactly when the page holds its id.
// The front end clears the page when it releases the connection after a
// request (clear()), so a request id met again after the 32-bit ids wrap
// cannot read as started. The page is the connection's alone: no other
// connection, process or group can write it.
//
// Whatever fails (memfd_create, the send, the worker's mmap) only loses the
// page: a worker without one sends STARTED frames as before, and the front end
// takes either signal.
#pragma once

#include <cstdint>

#include "common/status.h"

namespace wsgid::proto {

class StartedPage {
 public:
  static constexpr size_t kSize = 4096;

  StartedPage() = default;
  ~StartedPage();
  StartedPage(StartedPage&& o) noexcept;
  StartedPage& operator=(StartedPage&& o) noexcept;
  StartedPage(const StartedPage&) = delete;
  StartedPage& operator=(const StartedPage&) = delete;

  // Front end: a new zeroed page and its descriptor (fd(), close-on-exec).
  // Errors: "memfd_create(started page): ...", "ftruncate(...)", "mmap(...)".
  static Result<StartedPage> create();
  // Worker: maps the page behind fd (a descriptor received with HELLO); fd
  // stays the caller's. Errors name the call: "fstat(started page): ...",
  // "started page: not a regular file of at least 4096 bytes", "mmap(...)".
  static Result<StartedPage> map(int fd);

  bool valid() const { return word_ != nullptr; }
  // The descriptor create() made, until close_fd() (-1 after, and for map()).
  int fd() const { return fd_; }
  void close_fd();

  // Worker: the application is about to be called for request id.
  void mark(uint32_t id);
  // Front end: whether the worker marked request id.
  bool marked(uint32_t id) const;
  // Front end: no request of this connection is marked.
  void clear();

 private:
  void reset();
  uint32_t* word_ = nullptr;  // the first 4 bytes of the mapping
  int fd_ = -1;
};

}  // namespace wsgid::proto
