#include "common/log_writes.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "common/failure_report.h"
#include "common/log.h"

namespace wsgid::log {
namespace {

struct FileState {
  std::string name;
  FailureReport report{FailureReport::kEveryMs};
  uint64_t lines_lost = 0;
  int err = 0;
  bool cut = false;  // the last failed write ended mid-line
  bool own_format = false;
};

std::mutex g_mu;
std::map<int, FileState>* g_files = nullptr;  // guarded by g_mu; never freed
std::atomic<int> g_failing{0};               // files in a run of failures

int64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

FileState& state_of(int fd) {
  if (!g_files) g_files = new std::map<int, FileState>;
  FileState& s = (*g_files)[fd];
  if (s.name.empty()) s.name = "log fd " + std::to_string(fd);
  return s;
}

// Writes all of text; -> bytes written (text.size() when whole), errno kept.
size_t write_all(int fd, std::string_view text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      break;
    }
    off += static_cast<size_t>(n);
  }
  return off;
}

// A line about fd's failure, written where it can be seen: the main log for
// another file, stderr for the main log (nowhere when stderr is the log).
void report(int fd, const std::string& message, Level level = Level::kError) {
  int target = fd == log::fd() ? 2 : log::fd();
  if (target < 0 || target == fd) return;
  std::string line = format_line(level, message);
  line += '\n';
  (void)write_all(target, line);
}

// Counts what text lost from byte `done` on (errno err) and reports it when
// the rate limit says so. g_mu held.
void note_loss(int fd, FileState& s, std::string_view text, size_t done, int err, int64_t now) {
  if (!s.report.failing()) {
    g_failing.fetch_add(1);
    s.lines_lost = 0;
  }
  s.err = err;
  if (done > 0) s.cut = text[done - 1] != '\n';
  s.lines_lost += static_cast<uint64_t>(std::count(text.begin() + static_cast<long>(done), text.end(), '\n'));
  if (!s.report.fail(now)) return;
  if (s.report.failures() == 1)
    report(fd, fmt::format("{}: write: {}: log lines are dropped until it can be written again "
                           "(reported again at most once a minute)",
                           s.name, std::strerror(err)));
  else
    report(fd, fmt::format("{}: write: {}: still failing after {:.0f} s; {} log lines lost so far",
                           s.name, std::strerror(err),
                           static_cast<double>(now - s.report.since_ms()) / 1000.0, s.lines_lost));
}

}  // namespace

void name_fd(int fd, std::string name, bool own_format) {
  std::lock_guard<std::mutex> lock(g_mu);
  FileState& s = state_of(fd);
  if (name.empty()) name = "log fd " + std::to_string(fd);
  if (s.name != name) {
    if (s.report.failing()) g_failing.fetch_sub(1);
    s = FileState{};
    s.name = std::move(name);
  }
  s.own_format = own_format;
}

bool write_text(int fd, std::string_view text) {
  if (fd < 0) return false;
  if (g_failing.load(std::memory_order_relaxed) == 0) {
    size_t done = write_all(fd, text);
    if (done == text.size()) return true;
    int err = errno;
    std::lock_guard<std::mutex> lock(g_mu);
    note_loss(fd, state_of(fd), text, done, err, monotonic_ms());
    return false;
  }
  // Some file is failing: this one may be it.
  std::lock_guard<std::mutex> lock(g_mu);
  FileState& s = state_of(fd);
  int64_t now = monotonic_ms();
  if (!s.report.failing()) {
    size_t done = write_all(fd, text);
    if (done == text.size()) return true;
    note_loss(fd, s, text, done, errno, now);
    return false;
  }
  // Try again, with one write: the end of a cut line, the note of what was
  // lost (in the main log instead for a file of its own format), the text.
  std::string said = fmt::format("{}: written again after {:.1f} s; {} lines were lost (write: {})",
                                 s.name, static_cast<double>(now - s.report.since_ms()) / 1000.0,
                                 s.lines_lost, std::strerror(s.err));
  std::string out = s.cut ? "\n" : "";
  if (!s.own_format) {
    out += format_line(Level::kWarn, said);
    out += '\n';
  }
  size_t head = out.size();
  out += text;
  size_t done = write_all(fd, out);
  int err = errno;
  if (done > 0) s.cut = out[done - 1] != '\n';
  if (done >= head && (head > 0 || done > 0)) {
    // The note (or, for an access log, some of the text) went in: the run ended.
    s.report.ok(now);
    g_failing.fetch_sub(1);
    if (s.own_format) report(fd, said, Level::kWarn);
    if (done == out.size()) {
      s.cut = false;
      return true;
    }
  }
  note_loss(fd, s, text, done > head ? done - head : 0, err, now);
  return false;
}

}  // namespace wsgid::log
