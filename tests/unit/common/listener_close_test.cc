// common/listener_close.h on real loopback sockets: the filter refuses new
// handshakes and lets the queued connection through. (CI runs as root: some kernels let only
// CAP_NET_ADMIN attach a socket filter.)
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/listener_close.h"
#include "tests/unit/connect_result.h"

using namespace wsgid;

namespace {

int listener(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(listen(fd, 16) == 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = a.sin_port;
  return fd;
}

// A non-blocking connect to 127.0.0.1:port (network order), under way.
int start_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = port;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  CHECK((r == 0 || errno == EINPROGRESS));
  return fd;
}

bool connected_within(int fd, int ms) { return connect_result(fd, ms) == 0; }

}  // namespace

TEST_CASE("a listener that refuses new handshakes keeps its queue and completes no new one") {
  uint16_t port = 0;
  int l = listener(&port);
  int queued = start_connect(port);
  REQUIRE(connected_within(queued, 2000));  // in the accept queue
  REQUIRE(refuse_new_handshakes(l).is_ok());
  int late = start_connect(port);
  CHECK_FALSE(connected_within(late, 300));  // its SYN was dropped: no answer at all
  // The queued connection is accepted and its bytes arrive.
  REQUIRE(send(queued, "hi", 2, 0) == 2);
  int a = accept(l, nullptr, nullptr);
  REQUIRE(a >= 0);
  char buf[2] = {};
  CHECK(recv(a, buf, 2, MSG_WAITALL) == 2);
  CHECK(std::string(buf, 2) == "hi");
  close(l);
  // Closed: the late connect's next SYN meets no listener and is refused.
  CHECK(connect_result(late, 5000) == ECONNREFUSED);
  for (int fd : {queued, late, a}) close(fd);
}

