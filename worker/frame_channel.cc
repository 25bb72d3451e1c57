#include "worker/frame_channel.h"

#include <poll.h>
#include <sys/uio.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "common/fd_passing.h"
#include "common/log.h"

namespace wsgid::worker {

void FrameChannel::reset(int fd) {
  fd_ = fd;
  reader_ = proto::FrameReader();
  error_.clear();
  maybe_empty_ = false;
  direct_min_ = payload_left_ = 0;
  close_kept();
  received_ = frame_start_ = frame_end_ = 0;
  later_.clear();
}

void FrameChannel::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  close_kept();
}

void FrameChannel::close_kept() {
  for (const KeptFd& k : kept_) ::close(k.fd);
  kept_.clear();
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

// Waits for fd to be readable (or wake_fd, or the deadline): 1 readable, 0
// timed out, 2 woken, -1 error (errno set).
int wait_readable(int fd, int wake_fd, int timeout_ms, std::chrono::steady_clock::time_point deadline,
                  WaitHook* hook) {
  using Clock = std::chrono::steady_clock;
  int wait = -1;
  if (timeout_ms >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    wait = left > 0 ? static_cast<int>(left) : 0;
  }
  struct pollfd p[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
  int r = wait == 0 ? ::poll(p, wake_fd >= 0 ? 2 : 1, 0) : wait_poll(p, wake_fd >= 0 ? 2 : 1, wait, hook);
  if (r < 0) return errno == EINTR ? 1 : -1;
  if (r == 0 && timeout_ms >= 0 && Clock::now() >= deadline) return 0;
  if (r > 0 && wake_fd >= 0 && (p[1].revents & POLLIN) && !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
    return 2;
  return 1;
}

}  // namespace

ssize_t FrameChannel::recv_some(char* dst, size_t n) {
  struct iovec iov = {dst, n};
  return recv_iov(&iov, 1);
}

ssize_t FrameChannel::recv_iov(struct iovec* iov, size_t count) {
  if (!accept_fds_) {
    struct msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    ssize_t got = ::recvmsg(fd_, &msg, 0);
    if (got > 0) received_ += static_cast<uint64_t>(got);
    return got;
  }
  // With room for descriptors: without it, the kernel would drop them.
  std::vector<int> fds;
  int flags = 0;
  ssize_t got = recv_with_fds(fd_, iov, count, 0, &fds, &flags);
  if (got <= 0) return got;
  received_ += static_cast<uint64_t>(got);
  if (flags & MSG_CTRUNC)
    log::warn("{}: a descriptor sent with the bytes was dropped (MSG_CTRUNC: at the descriptor limit?)", name_);
  keep_fd(fds, received_ - 1);
  return got;
}

void FrameChannel::keep_fd(const std::vector<int>& fds, uint64_t last_byte) {
  size_t keep = 0;
  for (const KeptFd& k : kept_) {
    if (k.last_byte < frame_start_) ::close(k.fd);  // its frame is past: never to be taken
    else kept_[keep++] = k;
  }
  kept_.resize(keep);
  for (size_t i = 0; i < fds.size(); ++i) {
    if (i == 0 && kept_.size() < 4) kept_.push_back({fds[i], last_byte});
    else ::close(fds[i]);  // one per message is expected; more are the peer's mistake
  }
}

int FrameChannel::take_fd() {
  int fd = -1;
  size_t keep = 0;
  for (const KeptFd& k : kept_) {
    if (fd < 0 && k.last_byte >= frame_start_ && k.last_byte < frame_end_) fd = k.fd;
    else if (k.last_byte < frame_start_) ::close(k.fd);  // its frame is past: never to be taken
    else kept_[keep++] = k;
  }
  kept_.resize(keep);
  return fd;
}

void FrameChannel::keep_for_later(const proto::Frame& f) {
  later_.push_back({f.type, f.flags, f.request_id, std::string(f.payload)});
}

FrameChannel::Read FrameChannel::read(proto::Frame* out, int timeout_ms, int wake_fd, WaitHook* hook) {
  if (later_.empty()) return read_new(out, timeout_ms, wake_fd, hook);
  returned_ = std::move(later_.front());
  later_.pop_front();
  out->type = returned_.type;
  out->flags = returned_.flags;
  out->request_id = returned_.request_id;
  out->payload = returned_.payload;
  return Read::kFrame;
}

FrameChannel::Read FrameChannel::read_new(proto::Frame* out, int timeout_ms, int wake_fd, WaitHook* hook) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  if (payload_left_ > 0) log::bug("FrameChannel::read() within a partial frame's payload", __FILE__, __LINE__);
  for (;;) {
    switch (reader_.next(out)) {
      case proto::FrameReader::Result::kFrame:
        frame_end_ = received_ - reader_.buffered();
        frame_start_ = frame_end_ - proto::kHeaderSize - out->payload.size();
        return Read::kFrame;
      case proto::FrameReader::Result::kError:
        error_ = reader_.error();
        return Read::kError;
      case proto::FrameReader::Result::kNeedMore: break;
    }
    size_t want = kRecvSize;
    if (direct_min_ > 0) {
      proto::FrameHeader h;
      size_t have = 0;
      if (reader_.partial(&h, &have) && h.type == proto::FrameType::kRequestBody && h.length - have >= direct_min_) {
        reader_.skip_header();
        out->type = h.type;
        out->flags = h.flags;
        out->request_id = h.request_id;
        out->payload = reader_.take(have);
        payload_left_ = h.length - have;
        return Read::kPartial;
      }
      // The frame at the front and no more: the payload after the next header
      // stays in the socket.
      const size_t w = reader_.wanted();
      if (w > 0 && w < want) want = w;
    }
    // After a short read the socket is most likely empty: poll first rather
    // than pay for a recv() that returns EAGAIN (one syscall per request).
    if (!maybe_empty_) {
      // Straight into the reader's buffer: a body is copied once, by the kernel.
      ssize_t n = recv_some(reader_.prepare(want), want);
      if (n > 0) {
        reader_.commit(static_cast<size_t>(n));
        maybe_empty_ = static_cast<size_t>(n) < want;
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
    switch (wait_readable(fd_, wake_fd, timeout_ms, deadline, hook)) {
      case -1:
        error_ = Status::sys("poll", name_).message();
        return Read::kError;
      case 0: return Read::kTimeout;
      case 2: return Read::kWoken;
      default: break;
    }
  }
}

FrameChannel::Read FrameChannel::read_payload(char* dst, size_t n, size_t* got, int timeout_ms, WaitHook* hook) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  *got = 0;
  if (n == 0 || payload_left_ == 0) return Read::kFrame;
  for (;;) {
    if (!maybe_empty_) {
      // This payload's rest; when n reaches past it, the next frame's header
      // (into the reader) and, after it, the rest of n (most likely the next
      // body frame's payload: adopt_payload() decides).
      const size_t a = n < payload_left_ ? n : payload_left_;
      struct iovec iov[3] = {{dst, a}, {nullptr, 0}, {nullptr, 0}};
      size_t count = 1;
      if (a == payload_left_) {
        iov[count++] = {reader_.prepare(proto::kHeaderSize), proto::kHeaderSize};
        // At most a frame's worth: the front end's are kBodyChunk at most, and
        // bytes past that frame's payload would have to be copied back.
        if (n > a) iov[count++] = {dst + a, n - a < proto::kBodyChunk ? n - a : proto::kBodyChunk};
      }
      size_t total = 0;
      for (size_t i = 0; i < count; ++i) total += iov[i].iov_len;
      ssize_t r = recv_iov(iov, count);
      if (r > 0) {
        const size_t k = static_cast<size_t>(r);
        maybe_empty_ = k < total;
        if (k <= a) {
          *got = k;
          payload_left_ -= k;
          payload_bytes_ += k;
          return Read::kFrame;
        }
        *got = a;
        payload_left_ = 0;
        payload_bytes_ += a;
        const size_t header = k - a < proto::kHeaderSize ? k - a : proto::kHeaderSize;
        reader_.commit(header);
        if (k - a > header) *got += adopt_payload(dst + a, k - a - header);
        return Read::kFrame;
      }
      if (r == 0) return Read::kEof;
      if (errno == ECONNRESET) return Read::kEof;
      if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
        error_ = Status::sys("recv", name_).message();
        return Read::kError;
      }
      if (errno == EINTR) continue;
    }
    maybe_empty_ = false;
    switch (wait_readable(fd_, -1, timeout_ms, deadline, hook)) {
      case -1:
        error_ = Status::sys("poll", name_).message();
        return Read::kError;
      case 0: return Read::kTimeout;
      default: break;
    }
  }
}

size_t FrameChannel::adopt_payload(const char* p, size_t n) {
  // The reader holds exactly the header that came before p.
  proto::FrameHeader h;
  size_t have = 0;
  if (reader_.partial(&h, &have) && h.type == proto::FrameType::kRequestBody) {
    proto::Frame f;
    if (reader_.next(&f) == proto::FrameReader::Result::kNeedMore) {  // a valid header
      reader_.skip_header();
      const size_t mine = n < h.length ? n : h.length;
      payload_left_ = h.length - mine;
      payload_bytes_ += mine;
      if (n > mine) reader_.feed(p + mine, n - mine);  // the frames after it
      return mine;
    }
  }
  // Not a body payload (an end, a cancel, an error's text, a bad header): the
  // bytes are frames for read(), after the header.
  reader_.feed(p, n);
  return 0;
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
