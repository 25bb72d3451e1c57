// DescriptorReserve at this process's own descriptor limit (lowered for the
// test and filled): a waiting connection is still taken, once per spare.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "worker/descriptor_reserve.h"

using wsgid::worker::DescriptorReserve;

TEST_CASE("DescriptorReserve takes one waiting connection at EMFILE, and says so once") {
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  REQUIRE(lfd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string name = "wsgid-reserve-test-" + std::to_string(getpid());
  std::memcpy(addr.sun_path + 1, name.data(), name.size());  // abstract: no file
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  REQUIRE(bind(lfd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
  REQUIRE(listen(lfd, 8) == 0);
  std::vector<int> clients;
  for (int i = 0; i < 2; ++i) {
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(c >= 0);
    REQUIRE(connect(c, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    clients.push_back(c);
  }
  DescriptorReserve reserve;
  reserve.refill();
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(probe >= 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(probe + 4);
  close(probe);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  std::vector<int> held;
  for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) held.push_back(fd);

  int plain = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  int plain_err = errno;
  std::string report1, report2;
  bool first1 = false, first2 = true;
  int got1 = reserve.take(lfd, EMFILE, &report1, &first1);
  int got2 = reserve.take(lfd, EMFILE, &report2, &first2);  // the spare is gone

  if (got1 >= 0) close(got1);
  if (got2 >= 0) close(got2);
  for (int fd : held) close(fd);
  setrlimit(RLIMIT_NOFILE, &saved);
  for (int c : clients) close(c);
  close(lfd);

  CHECK(plain == -1);
  CHECK(plain_err == EMFILE);
  CHECK(got1 >= 0);
  CHECK(first1);
  CHECK(report1.find("accept4(group socket): Too many open files (RLIMIT_NOFILE " +
                     std::to_string(low.rlim_cur) + "): out of file descriptors") == 0);
  CHECK(got2 == -1);
  CHECK_FALSE(first2);
  CHECK(report2.empty());  // within the minute: counted, not said
}
