// log_writes: a log file that cannot be written (here /dev/full, which answers
// every write with ENOSPC) loses its lines, says so once on the main log (or
// stderr), and notes the loss when it takes lines again.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/log.h"
#include "common/log_writes.h"

namespace log = wsgid::log;

namespace {

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A file that fails until space_returns(), then writes to a pipe the test reads.
struct FailingFile {
  int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  int pipe_fds[2] = {-1, -1};
  FailingFile() { REQUIRE(fd >= 0); }
  void space_returns() {
    REQUIRE(pipe2(pipe_fds, O_NONBLOCK) == 0);
    REQUIRE(dup2(pipe_fds[1], fd) == fd);
    close(pipe_fds[1]);
  }
  std::string contents() { return read_all(pipe_fds[0]); }
  ~FailingFile() {
    close(fd);
    if (pipe_fds[0] >= 0) close(pipe_fds[0]);
  }
};

// The main log: a pipe.
struct MainLog {
  int fds[2];
  int old = log::fd();
  MainLog() {
    REQUIRE(pipe2(fds, O_NONBLOCK) == 0);
    log::set_fd(fds[1]);
  }
  std::string contents() { return read_all(fds[0]); }
  ~MainLog() {
    log::set_fd(old);
    close(fds[0]);
    close(fds[1]);
  }
};

}  // namespace

TEST_CASE("a failing log file: lost lines, one report, then a note where it is written again") {
  struct Case {
    const char* name;
    bool own_format;           // an access log: the note goes to the main log
    const char* note_in_file;  // "" when none
    const char* note_in_main;  // "" when none
  };
  const Case cases[] = {
      {"a vhost ErrorLog", false, "ErrorLog /x/err.log: written again after", ""},
      {"a CustomLog", true, "", "CustomLog /x/acc.log: written again after"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    MainLog main_log;
    FailingFile f;
    std::string name = c.own_format ? "CustomLog /x/acc.log" : "ErrorLog /x/err.log";
    log::name_fd(f.fd, name, c.own_format);
    CHECK_FALSE(log::write_text(f.fd, "one\n"));
    CHECK_FALSE(log::write_text(f.fd, "two\nthree\n"));
    std::vector<std::string> said = lines_of(main_log.contents());
    REQUIRE(said.size() == 1);  // once, not per write
    CHECK(contains(said[0], "[error]"));
    CHECK(contains(said[0], name + ": write: No space left on device: log lines are dropped "
                                   "until it can be written again (reported again at most once a minute)"));
    f.space_returns();
    CHECK(log::write_text(f.fd, "four\n"));
    CHECK(log::write_text(f.fd, "five\n"));
    std::vector<std::string> in_file = lines_of(f.contents());
    std::vector<std::string> in_main = lines_of(main_log.contents());
    if (*c.note_in_file) {
      REQUIRE(in_file.size() == 3);
      CHECK(contains(in_file[0], "[warn]"));
      CHECK(contains(in_file[0], c.note_in_file));
      CHECK(contains(in_file[0], "3 lines were lost (write: No space left on device)"));
      CHECK(in_file[1] == "four");
      CHECK(in_main.empty());
    } else {
      CHECK(in_file == std::vector<std::string>{"four", "five"});
      REQUIRE(in_main.size() == 1);
      CHECK(contains(in_main[0], c.note_in_main));
      CHECK(contains(in_main[0], "3 lines were lost (write: No space left on device)"));
    }
    log::name_fd(f.fd, "");  // forget it for the next case
  }
}

TEST_CASE("the main log failing is reported on stderr only when stderr is elsewhere") {
  // The main log is fd 2 itself here: nowhere else to say it, only counted.
  int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
  REQUIRE(full >= 0);
  int saved_err = dup(2);
  int old = log::fd();
  int p[2];
  REQUIRE(pipe2(p, O_NONBLOCK) == 0);
  dup2(p[1], 2);  // stderr: a pipe the test reads
  log::set_fd(full);
  log::name_fd(full, "ErrorLog /x/main.log");
  log::error("lost {}", 1);
  log::error("lost {}", 2);
  log::set_fd(old);
  dup2(saved_err, 2);
  close(saved_err);
  close(p[1]);
  std::vector<std::string> on_stderr = lines_of(read_all(p[0]));
  close(p[0]);
  REQUIRE(on_stderr.size() == 1);
  CHECK(contains(on_stderr[0], "ErrorLog /x/main.log: write: No space left on device"));
  log::name_fd(full, "");
  close(full);
}
