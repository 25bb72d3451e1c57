#include <doctest/doctest.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/log.h"

namespace log = wsgid::log;

TEST_CASE("parse_level knows Apache's LogLevel words") {
  struct Case { const char* word; bool ok; log::Level level; };
  const Case cases[] = {
      {"emerg", true, log::Level::kEmerg}, {"alert", true, log::Level::kAlert},
      {"crit", true, log::Level::kCrit},   {"error", true, log::Level::kError},
      {"warn", true, log::Level::kWarn},   {"notice", true, log::Level::kNotice},
      {"info", true, log::Level::kInfo},   {"debug", true, log::Level::kDebug},
      {"trace1", true, log::Level::kDebug}, {"trace8", true, log::Level::kDebug},
      {"trace9", false, log::Level::kDebug}, {"verbose", false, log::Level::kDebug},
  };
  for (const Case& c : cases) {
    CAPTURE(c.word);
    log::Level got = log::Level::kEmerg;
    CHECK(log::parse_level(c.word, &got) == c.ok);
    if (c.ok) CHECK(got == c.level);
  }
}

TEST_CASE("a log line has time, level, role, pid and message, filtered by level") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  int old_fd = log::fd();
  log::Level old_level = log::level();
  log::set_fd(fds[1]);
  log::init("worker site1");
  log::set_level(log::Level::kInfo);
  log::debug("hidden {}", 1);
  log::warn("group {}: worker {} not ready", "site1", 2);
  log::set_fd(old_fd);
  log::set_level(old_level);
  close(fds[1]);
  char buf[512];
  ssize_t n = read(fds[0], buf, sizeof buf);
  close(fds[0]);
  REQUIRE(n > 0);
  std::string line(buf, static_cast<size_t>(n));
  CHECK(line.find("hidden") == std::string::npos);
  std::string tail = " [warn] [worker site1 " + std::to_string(getpid()) +
                     "] group site1: worker 2 not ready\n";
  REQUIRE(line.size() > tail.size());
  CHECK(line.substr(line.size() - tail.size()) == tail);
  CHECK(line[4] == '-');  // 2026-11-27 ...
}

TEST_CASE("timestamp is local time to the millisecond") {
  const char* old_tz = std::getenv("TZ");
  std::string saved = old_tz ? old_tz : "";
  setenv("TZ", "UTC", 1);
  tzset();
  struct Case { int64_t seconds, microseconds; const char* text; };
  const Case cases[] = {
      {0, 0, "1970-01-01 00:00:00.000"},
      {0, 999, "1970-01-01 00:00:00.000"},          // microseconds are cut, not rounded
      {1795873500, 123456, "2026-11-28 13:45:00.123"},
      {1795873500, 999999, "2026-11-28 13:45:00.999"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.seconds);
    CHECK(log::timestamp(c.seconds, c.microseconds) == c.text);
  }
  setenv("TZ", "CET", 1);
  tzset();
  CHECK(log::timestamp(0, 0) == "1970-01-01 01:00:00.000");
  if (old_tz) setenv("TZ", saved.c_str(), 1); else unsetenv("TZ");
  tzset();
  CHECK(log::timestamp().size() == 23);
}
