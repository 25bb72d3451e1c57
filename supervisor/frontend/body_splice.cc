#include "supervisor/frontend/body_splice.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "common/log.h"

namespace wsgid::frontend::body_splice {

namespace {

// 256 KiB: four body frames (PROTOCOL.md: 64 KiB each). A pipe counts slots,
// not bytes (one per piece of a socket buffer), so a fill() may move less.
constexpr int kPipeSize = 256 * 1024;

// After pipe2() failed (descriptors exhausted), the calls to available()
// before it is tried again.
constexpr int kRetryAfter = 4096;

struct Pipe {
  int r = -1, w = -1;
  int retry_in = 0;
  bool warned = false;
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
  // After a failure that may leave bytes in it: a fresh one next time.
  void reset() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
    r = w = -1;
  }
};

thread_local Pipe t_pipe;

}  // namespace

bool available() {
  Pipe& p = t_pipe;
  if (p.r >= 0) return true;
  if (p.retry_in > 0) {
    --p.retry_in;
    return false;
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    if (!p.warned)
      log::warn("frontend: pipe2 for splicing bodies: {}; they are copied until it succeeds",
                std::strerror(errno));
    p.warned = true;
    p.retry_in = kRetryAfter;
    return false;
  }
  p.r = fds[0];
  p.w = fds[1];
  // Best effort: the default (64 KiB) works, with more calls.
  (void)::fcntl(p.w, F_SETPIPE_SZ, kPipeSize);
  return true;
}

size_t fill(int from, size_t max) {
  Pipe& p = t_pipe;
  if (p.w < 0 || max == 0) return 0;
  for (;;) {
    ssize_t n = ::splice(from, nullptr, p.w, nullptr, max, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) return static_cast<size_t>(n);
    if (n < 0 && errno == EINTR) continue;
    return 0;
  }
}

int drain(int to, size_t n, std::string* left) {
  Pipe& p = t_pipe;
  int err = 0;
  while (to >= 0 && n > 0 && err == 0) {
    ssize_t m = ::splice(p.r, nullptr, to, nullptr, n, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (m > 0) {
      n -= static_cast<size_t>(m);
    } else if (m < 0 && errno == EINTR) {
      continue;
    } else if (m < 0 && errno == EAGAIN) {
      break;
    } else {
      err = m < 0 ? errno : EPIPE;
    }
  }
  // What `to` did not take comes back out of the pipe (into *left, or dropped
  // after a failed write): the pipe is empty for the next fill().
  const size_t base = left->size();
  left->resize(base + n);
  size_t got = 0;
  while (got < n) {
    ssize_t m = ::read(p.r, left->data() + base + got, n - got);
    if (m > 0) {
      got += static_cast<size_t>(m);
    } else if (m < 0 && errno == EINTR) {
      continue;
    } else {
      // Cannot happen (the bytes are in the pipe); a fresh pipe keeps the
      // next body from being mixed with these.
      log::error("frontend: read of {} bytes back from the splice pipe: {}", n - got,
                 m < 0 ? std::string(std::strerror(errno)) : std::string("end of file"));
      p.reset();
      if (err == 0) err = EIO;
      break;
    }
  }
  left->resize(err == 0 ? base + got : base);
  return err;
}

}  // namespace wsgid::frontend::body_splice
