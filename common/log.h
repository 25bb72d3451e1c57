// Logging for every wsgid process, on fmt with compile-time checked formats.
//
// One line per event: "2026-11-27 13:45:00.123 [notice] [master 4711] message".
// The role ("master", "frontend", "worker site1") and pid are set once per process
// by log::init(). Lines go to one fd (stderr by default; the master points it at
// ErrorLog). Each line is written with a single write(2), so lines from threads
// and from processes sharing a file never interleave. Safe from any thread; never
// call it from a signal handler or between fork and exec.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace wsgid::log {

// Ordered most to least severe, as Apache's LogLevel (emerg..debug, trace* -> debug).
enum class Level { kEmerg, kAlert, kCrit, kError, kWarn, kNotice, kInfo, kDebug };

// Parses an Apache LogLevel word ("warn", "info", "trace3" -> debug). False when unknown.
bool parse_level(std::string_view word, Level* out);
std::string_view level_name(Level level);

// Sets the role shown on every line and caches getpid(). Call once at start (and
// again after a role change); not thread-safe against concurrent logging.
void init(std::string role);
const std::string& role();
void set_level(Level level);
Level level();
// Lines are written to fd from now on (the caller keeps it open). Default 2.
void set_fd(int fd);
int fd();

// The time stamp that starts every line, local time to the millisecond:
// "2026-11-27 13:45:00.123". The first form formats the given time (seconds since
// the epoch and microseconds), the second the current time. The master uses it too
// for the lines it wraps around a child's unformatted output.
std::string timestamp(int64_t seconds, int64_t microseconds);
std::string timestamp();

// "2026-11-27 13:45:00.123 [notice] [master 4711] message", without '\n'.
std::string format_line(Level level, std::string_view message);

// Writes one formatted line if level <= the current level (common/log_writes.h
// says what happens when the write fails).
void write_line(Level level, std::string_view message);

// A hook that sees every line this process writes through write_line() (the
// formatted line without its '\n'), after it was written. The master sets one
// for `wsgictl tail -f master`; nullptr removes it. The hook runs on the
// logging thread; lines it logs itself are not passed to it again.
using LineHook = void (*)(std::string_view line);
void set_line_hook(LineHook hook);

template <class... Args>
void emit(Level lv, fmt::format_string<Args...> f, Args&&... args) {
  if (lv > level()) return;
  write_line(lv, fmt::format(f, std::forward<Args>(args)...));
}

template <class... A> void alert(fmt::format_string<A...> f, A&&... a) { emit(Level::kAlert, f, std::forward<A>(a)...); }
template <class... A> void error(fmt::format_string<A...> f, A&&... a) { emit(Level::kError, f, std::forward<A>(a)...); }
template <class... A> void warn(fmt::format_string<A...> f, A&&... a) { emit(Level::kWarn, f, std::forward<A>(a)...); }
template <class... A> void notice(fmt::format_string<A...> f, A&&... a) { emit(Level::kNotice, f, std::forward<A>(a)...); }
template <class... A> void info(fmt::format_string<A...> f, A&&... a) { emit(Level::kInfo, f, std::forward<A>(a)...); }
template <class... A> void debug(fmt::format_string<A...> f, A&&... a) { emit(Level::kDebug, f, std::forward<A>(a)...); }

// Broken invariant: logs at alert with the location and aborts.
[[noreturn]] void bug(std::string_view what, const char* file, int line);

}  // namespace wsgid::log

#define WSGID_CHECK(cond) \
  do { if (!(cond)) ::wsgid::log::bug("check failed: " #cond, __FILE__, __LINE__); } while (0)
