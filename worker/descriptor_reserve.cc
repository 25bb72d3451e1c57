#include "worker/descriptor_reserve.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <cstring>

namespace wsgid::worker {

namespace {

int64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string nofile_text() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return "unlimited";
  return std::to_string(rl.rlim_cur);
}

}  // namespace

DescriptorReserve::~DescriptorReserve() {
  int fd = fd_.exchange(-1);
  if (fd >= 0) close(fd);
}

void DescriptorReserve::refill() {
  if (fd_.load() >= 0) return;
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  int none = -1;
  if (!fd_.compare_exchange_strong(none, fd)) close(fd);
}

int DescriptorReserve::take(int listen_fd, int err, std::string* report, bool* first) {
  int spare = fd_.exchange(-1);
  int conn = -1;
  if (spare >= 0) {
    close(spare);
    conn = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  }
  std::lock_guard<std::mutex> lock(mu_);
  *first = !ever_;
  ever_ = true;
  report->clear();
  if (report_.fail(monotonic_ms())) {
    std::string what = fmt::format("accept4(group socket): {} (RLIMIT_NOFILE {})",
                                   std::strerror(err), nofile_text());
    if (report_.failures() == 1)
      *report = what + ": out of file descriptors (an application leaking files?); the waiting "
                       "connection is taken with the spare descriptor and this process asks to "
                       "be replaced (reported again at most once a minute)";
    else
      *report = fmt::format("{}: still out of file descriptors, {} times in the last minute", what,
                            report_.unreported());
  }
  return conn;
}

}  // namespace wsgid::worker
