// fd passing over a SOCK_SEQPACKET pair: text and descriptors arrive together,
// one message per receive; the error paths with their exact text.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/fd_passing.h"

using namespace wsgid;

namespace {

struct Pair {
  int fd[2] = {-1, -1};
  Pair() { REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fd) == 0); }
  ~Pair() {
    if (fd[0] >= 0) close(fd[0]);
    if (fd[1] >= 0) close(fd[1]);
  }
};

ino_t inode(int fd) {
  struct stat st {};
  REQUIRE(fstat(fd, &st) == 0);
  return st.st_ino;
}

}  // namespace

TEST_CASE("messages keep their text and descriptors, in order, one per receive") {
  Pair p;
  int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int b = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(send_fds(p.fd[0], "test", "{\"paths\": [\"a\", \"b\"]}", {a, b}));
  REQUIRE(send_fds(p.fd[0], "test", "second", {}));
  REQUIRE(send_fds(p.fd[0], "test", "", {a}));
  FdMessage m;
  bool got = false;
  REQUIRE(receive_fds(p.fd[1], "test", &m, &got));
  REQUIRE(got);
  CHECK(m.text == "{\"paths\": [\"a\", \"b\"]}");
  REQUIRE(m.fds.size() == 2);
  CHECK(m.fds[0] != a);
  CHECK(inode(m.fds[0]) == inode(a));
  CHECK(inode(m.fds[1]) == inode(b));
  CHECK((fcntl(m.fds[0], F_GETFD) & FD_CLOEXEC) != 0);
  close_fds(&m);
  CHECK(m.fds.empty());
  REQUIRE(receive_fds(p.fd[1], "test", &m, &got));
  REQUIRE(got);
  CHECK(m.text == "second");
  CHECK(m.fds.empty());
  REQUIRE(receive_fds(p.fd[1], "test", &m, &got));
  REQUIRE(got);
  CHECK(m.text == " ");  // an empty text travels as one space
  CHECK(m.fds.size() == 1);
  close_fds(&m);
  // Nothing waiting: ok, nothing got.
  REQUIRE(receive_fds(p.fd[1], "test", &m, &got));
  CHECK_FALSE(got);
  close(a);
  close(b);
}

TEST_CASE("fd passing errors") {
  Pair p;
  std::vector<int> many(kMaxPassedFds + 1, 0);
  Status s = send_fds(p.fd[0], "test", "x", many);
  CHECK(s.message() == "fd message: 251 descriptors, at most 250");
  s = send_fds(p.fd[0], "test", std::string(kMaxFdMessageText + 1, 'x'), {});
  CHECK(s.message() == "fd message: 60001 bytes of text, at most 60000");
  s = send_fds(-1, "the channel", "x", {});
  CHECK(s.message() == "sendmsg(the channel): Bad file descriptor");
  close(p.fd[0]);
  p.fd[0] = -1;
  FdMessage m;
  bool got = true;
  s = receive_fds(p.fd[1], "the channel", &m, &got);
  CHECK(s.message() == "recvmsg(the channel): end of file");
  CHECK_FALSE(got);
}
