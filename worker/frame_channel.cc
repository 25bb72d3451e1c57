#include "worker/frame_channel.h"

#include <poll.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace wsgid::worker {

void FrameChannel::reset(int fd) {
  fd_ = fd;
  reader_ = proto::FrameReader();
  error_.clear();
  maybe_empty_ = false;
}

void FrameChannel::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool FrameChannel::readable_now() {
  if (reader_.buffered() > 0) return true;
  struct pollfd p = {fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

namespace {

// poll() bracketed by the hook, if any.
int wait_poll(struct pollfd* p, nfds_t n, int timeout_ms, WaitHook* hook) {
  if (hook) hook->before_wait();
  int r = ::poll(p, n, timeout_ms);
  int saved = errno;
  if (hook) hook->after_wait();
  errno = saved;
  return r;
}

}  // namespace

FrameChannel::Read FrameChannel::read(proto::Frame* out, int timeout_ms, int wake_fd, WaitHook* hook) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  for (;;) {
    switch (reader_.next(out)) {
      case proto::FrameReader::Result::kFrame: return Read::kFrame;
      case proto::FrameReader::Result::kError:
        error_ = reader_.error();
        return Read::kError;
      case proto::FrameReader::Result::kNeedMore: break;
    }
    // After a short read the socket is most likely empty: poll first rather
    // than pay for a recv() that returns EAGAIN (one syscall per request).
    if (!maybe_empty_) {
      // Straight into the reader's buffer: a body is copied once, by the kernel.
      ssize_t n = ::recv(fd_, reader_.prepare(kRecvSize), kRecvSize, 0);
      if (n > 0) {
        reader_.commit(static_cast<size_t>(n));
        maybe_empty_ = static_cast<size_t>(n) < kRecvSize;
        continue;
      }
      if (n == 0) return Read::kEof;
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) return Read::kEof;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        error_ = Status::sys("recv", name_).message();
        return Read::kError;
      }
    }
    maybe_empty_ = false;
    int wait = -1;
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      wait = left > 0 ? static_cast<int>(left) : 0;
    }
    struct pollfd p[2] = {{fd_, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    int r = wait == 0 ? ::poll(p, wake_fd >= 0 ? 2 : 1, 0) : wait_poll(p, wake_fd >= 0 ? 2 : 1, wait, hook);
    if (r < 0 && errno != EINTR) {
      error_ = Status::sys("poll", name_).message();
      return Read::kError;
    }
    if (r == 0 && timeout_ms >= 0 && Clock::now() >= deadline) return Read::kTimeout;
    if (r > 0 && wake_fd >= 0 && (p[1].revents & POLLIN) && !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
      return Read::kWoken;
  }
}

Status FrameChannel::write_all(std::string_view data, int timeout_ms, WaitHook* hook) {
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  return write_all(&iov, 1, timeout_ms, hook);
}

Status FrameChannel::write_all(struct iovec* iov, size_t n, int timeout_ms, WaitHook* hook) {
  while (n > 0 && iov->iov_len == 0) {
    ++iov;
    --n;
  }
  while (n > 0) {
    struct msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = n < IOV_MAX ? n : IOV_MAX;
    ssize_t w = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (w > 0) {
      auto done = static_cast<size_t>(w);
      while (n > 0 && done >= iov->iov_len) {
        done -= iov->iov_len;
        ++iov;
        --n;
      }
      if (n > 0) {
        iov->iov_base = static_cast<char*>(iov->iov_base) + done;
        iov->iov_len -= done;
      }
      while (n > 0 && iov->iov_len == 0) {
        ++iov;
        --n;
      }
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return Status::sys("write", name_);
    struct pollfd pf = {fd_, POLLOUT, 0};
    int r = wait_poll(&pf, 1, timeout_ms, hook);
    if (r == 0) return Status::error(fmt::format("write({}): timed out after {} ms", name_, timeout_ms));
    if (r < 0 && errno != EINTR) return Status::sys("poll", name_);
  }
  return Status::ok();
}

}  // namespace wsgid::worker
