#include "common/log.h"

#include "common/log_writes.h"

#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>

namespace wsgid::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kNotice)};
std::atomic<int> g_fd{2};
std::string g_role = "wsgid";
long g_pid = 0;
std::atomic<LineHook> g_hook{nullptr};
thread_local bool t_in_hook = false;

constexpr std::string_view kNames[] = {"emerg", "alert", "crit", "error",
                                       "warn",  "notice", "info", "debug"};

}  // namespace

bool parse_level(std::string_view w, Level* out) {
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (w == kNames[i]) {
      *out = static_cast<Level>(i);
      return true;
    }
  }
  if (w.size() == 6 && w.substr(0, 5) == "trace" && w[5] >= '1' && w[5] <= '8') {
    *out = Level::kDebug;
    return true;
  }
  return false;
}

std::string_view level_name(Level lv) { return kNames[static_cast<int>(lv)]; }

void init(std::string role) {
  g_role = std::move(role);
  g_pid = static_cast<long>(getpid());
}

const std::string& role() { return g_role; }
void set_level(Level lv) { g_level.store(static_cast<int>(lv)); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }
void set_fd(int fd) { g_fd.store(fd); }
void set_line_hook(LineHook hook) { g_hook.store(hook); }
int fd() { return g_fd.load(); }

std::string timestamp(int64_t seconds, int64_t microseconds) {
  time_t t = static_cast<time_t>(seconds);
  struct tm tm;
  localtime_r(&t, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{}.{:03d}", stamp, static_cast<int>(microseconds / 1000));
}

std::string timestamp() {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  return timestamp(tv.tv_sec, tv.tv_usec);
}

std::string format_line(Level lv, std::string_view message) {
  long pid = g_pid ? g_pid : static_cast<long>(getpid());
  return fmt::format("{} [{}] [{} {}] {}", timestamp(), level_name(lv), g_role, pid, message);
}

void write_line(Level lv, std::string_view message) {
  std::string line = format_line(lv, message);
  line += '\n';
  write_text(g_fd.load(), line);
  LineHook hook = g_hook.load(std::memory_order_relaxed);
  if (hook && !t_in_hook) {
    t_in_hook = true;
    hook(std::string_view(line).substr(0, line.size() - 1));
    t_in_hook = false;
  }
}

void bug(std::string_view what, const char* file, int line) {
  write_line(Level::kAlert, fmt::format("bug: {} at {}:{}", what, file, line));
  std::abort();
}

}  // namespace wsgid::log
