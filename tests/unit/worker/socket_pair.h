// A connected AF_UNIX stream socketpair standing for one front-end connection
// in the worker's unit tests: `worker` (non-blocking, as the worker's accepted
// sockets are) and `front`, the front end's end. Both closed on destruction
// unless set to -1.
#pragma once

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "protocol/frame.h"

namespace wsgid::worker::testing {

struct SocketPair {
  int worker = -1, front = -1;
  SocketPair() {
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    worker = sv[0];
    front = sv[1];
    fcntl(worker, F_SETFL, O_NONBLOCK);
  }
  ~SocketPair() {
    if (worker >= 0) close(worker);
    if (front >= 0) close(front);
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;
  // Writes bytes as the front end.
  void send(const std::string& bytes) const {
    REQUIRE(write(front, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  }
  // Reads every frame the worker side wrote so far.
  std::vector<std::pair<proto::FrameType, std::string>> frames() const {
    proto::FrameReader r;
    char buf[65536];
    fcntl(front, F_SETFL, O_NONBLOCK);
    for (;;) {
      ssize_t n = read(front, buf, sizeof buf);
      if (n <= 0) break;
      r.feed(buf, static_cast<size_t>(n));
    }
    std::vector<std::pair<proto::FrameType, std::string>> out;
    proto::Frame f;
    while (r.next(&f) == proto::FrameReader::Result::kFrame) out.emplace_back(f.type, std::string(f.payload));
    return out;
  }
};

}  // namespace wsgid::worker::testing
