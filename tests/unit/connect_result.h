// For unit tests that watch a non-blocking connect(): how it ended.
#pragma once

#include <poll.h>
#include <sys/socket.h>

// Waits up to timeout_ms for the connect on fd to end -> its errno (0:
// connected, ECONNREFUSED, ...), or -1 when it is still under way.
inline int connect_result(int fd, int timeout_ms) {
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return -1;
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err;
}
