// sendmsg/recvmsg with SCM_RIGHTS, after unix(7) and cmsg(3).
#include "common/fd_passing.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wsgid {

ssize_t send_with_fds(int sock, std::string_view bytes, const std::vector<int>& fds) {
  struct iovec iov = {const_cast<char*>(bytes.data()), bytes.size()};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

ssize_t recv_with_fds(int sock, char* dst, size_t n, int flags, std::vector<int>* fds, int* msg_flags) {
  struct iovec iov = {dst, n};
  return recv_with_fds(sock, &iov, 1, flags, fds, msg_flags);
}

ssize_t recv_with_fds(int sock, struct iovec* iov, size_t iov_count, int flags, std::vector<int>* fds,
                      int* msg_flags) {
  // On the stack: a worker takes every read of its front-end connections this
  // way (a body's client socket may come with any of them).
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  struct msghdr msg {};
  msg.msg_iov = iov;
  msg.msg_iovlen = iov_count;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t got;
  do {
    got = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  *msg_flags = got < 0 ? 0 : msg.msg_flags;
  if (got < 0) return got;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds->push_back(fd);
    }
  }
  return got;
}

Status send_fds(int sock, std::string_view what, std::string_view text, const std::vector<int>& fds) {
  if (fds.size() > kMaxPassedFds)
    return Status::error("fd message: " + std::to_string(fds.size()) + " descriptors, at most " +
                         std::to_string(kMaxPassedFds));
  if (text.size() > kMaxFdMessageText)
    return Status::error("fd message: " + std::to_string(text.size()) + " bytes of text, at most " +
                         std::to_string(kMaxFdMessageText));
  // A datagram of zero bytes would read as end of file: always send one byte at least.
  if (send_with_fds(sock, text.empty() ? std::string_view(" ") : text, fds) < 0) return Status::sys("sendmsg", what);
  return Status::ok();
}

Status receive_fds(int sock, std::string_view what, FdMessage* out, bool* got) {
  *got = false;
  out->text.clear();
  out->fds.clear();
  std::string buf(kMaxFdMessageText + 1, '\0');
  int flags = 0;
  ssize_t n = recv_with_fds(sock, buf.data(), buf.size(), MSG_DONTWAIT, &out->fds, &flags);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::ok();
    return Status::sys("recvmsg", what);
  }
  if (n == 0) {
    close_fds(out);
    return Status::error("recvmsg(" + std::string(what) + "): end of file");
  }
  if (flags & (MSG_TRUNC | MSG_CTRUNC)) {
    close_fds(out);
    return Status::error("recvmsg(" + std::string(what) + "): message truncated");
  }
  out->text.assign(buf.data(), static_cast<size_t>(n));
  *got = true;
  return Status::ok();
}

void close_fds(FdMessage* m) {
  for (int fd : m->fds)
    if (fd >= 0) ::close(fd);
  m->fds.clear();
}

}  // namespace wsgid
