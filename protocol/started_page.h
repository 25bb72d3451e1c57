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
// Since version 7 the page also carries kSlots slots for requests the front
// end sends on a connection before the worker has finished the one it is
// serving (pipelined, PROTOCOL.md 5.7): the front end offers a slot with the
// request's id before sending it (offer()); the worker claims it when it
// reads the request (claim(), which empties the slot), the front end may
// withdraw it until then (withdraw(): the worker then skips the request
// without a frame and empties the slot). Exactly one of the two succeeds, so
// a withdrawn request can go to another worker and never runs twice.
//
// Whatever fails (memfd_create, the send, the worker's mmap) only loses the
// page: a worker without one sends STARTED frames as before, and the front end
// takes either signal (and sends no request ahead on that connection).
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
  // Front end: request id is no longer marked (when the page still holds it:
  // a later request the worker has marked meanwhile stays marked).
  void clear(uint32_t id);

  // Pipelined requests (PROTOCOL.md 5.7). A slot is 64 bits: the request id
  // in the high half, its state in the low: free (the whole slot 0), offered,
  // withdrawn.
  static constexpr int kSlots = 8;
  // Front end: a free slot now holds id, offered: its index, or -1 when every
  // slot is in use (the request is then not sent ahead).
  int offer(uint32_t id);
  // Front end: withdraws the request offered in slot: true when the worker had
  // not claimed it (it will skip the request and free the slot), false when it
  // had (the request is the worker's: it may run).
  bool withdraw(int slot, uint32_t id);
  // Worker: the request id just read may be served: true unless the front end
  // withdrew it. A slot offered for id is freed by the claim; a request in no
  // slot was not sent ahead and is the worker's.
  bool claim(uint32_t id);
  // Worker: the withdrawn request id has been skipped (its frames read): its
  // slot is free again.
  void release_withdrawn(uint32_t id);

 private:
  void reset();
  uint64_t* slot(int i) const { return reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(word_) + kSlotOffset) + i; }
  static constexpr size_t kSlotOffset = 64;  // a cache line of its own, after the mark
  uint32_t* word_ = nullptr;  // the first 4 bytes of the mapping
  int fd_ = -1;
};

}  // namespace wsgid::proto
