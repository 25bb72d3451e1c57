// DescriptorWatch on this process's own descriptor limit: lowered for the test
// and filled with /dev/null, then freed.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/log.h"
#include "supervisor/frontend/descriptor_watch.h"

namespace log = wsgid::log;
using wsgid::frontend::DescriptorWatch;

namespace {

std::string drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

TEST_CASE("DescriptorWatch: at the limit said once, then the end of it") {
  int p[2];
  REQUIRE(pipe2(p, O_NONBLOCK) == 0);
  int old_fd = log::fd();
  log::Level old_level = log::level();
  log::set_fd(p[1]);
  log::set_level(log::Level::kInfo);
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(probe >= 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(probe + 8);
  close(probe);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  std::vector<int> held;
  for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) held.push_back(fd);

  // (ms, free one descriptor first, what the log gets: "" for nothing)
  struct Step { int64_t ms; bool free_one; const char* said; };
  const Step steps[] = {
      {0, false, "[error] [wsgid-frontend-test "},
      {250, false, ""},
      {59999, false, ""},
      {60000, false, "still at its descriptor limit"},
      {61000, true, "below its descriptor limit again after 61.0 s"},
      {61250, false, ""},
  };
  log::init("wsgid-frontend-test");
  DescriptorWatch w;
  std::vector<std::string> got;
  for (const Step& s : steps) {
    if (s.free_one) {
      close(held.back());
      held.pop_back();
    }
    w.check(s.ms, 3);
    got.push_back(drain(p[0]));
  }
  for (int fd : held) close(fd);
  setrlimit(RLIMIT_NOFILE, &saved);
  log::set_fd(old_fd);
  log::set_level(old_level);
  close(p[0]);
  close(p[1]);

  for (size_t i = 0; i < std::size(steps); ++i) {
    CAPTURE(steps[i].ms);
    CAPTURE(got[i]);
    if (*steps[i].said == '\0') {
      CHECK(got[i].empty());
    } else {
      CHECK(got[i].find(steps[i].said) != std::string::npos);
      CHECK(std::count(got[i].begin(), got[i].end(), '\n') == 1);
    }
  }
  CHECK(got[0].find("accept: Too many open files: at its descriptor limit (RLIMIT_NOFILE " +
                    std::to_string(low.rlim_cur) + ", 3 client connections open)") !=
        std::string::npos);
}

TEST_CASE("raise_descriptor_limit takes the hard limit") {
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  if (saved.rlim_max == RLIM_INFINITY || saved.rlim_max <= 64) return;  // nothing to raise to
  rlimit low = saved;
  low.rlim_cur = 64;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  int old_fd = log::fd();
  log::set_fd(-1);
  wsgid::frontend::raise_descriptor_limit();
  log::set_fd(old_fd);
  rlimit now{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &now) == 0);
  CHECK(now.rlim_cur == saved.rlim_max);
  setrlimit(RLIMIT_NOFILE, &saved);
}
