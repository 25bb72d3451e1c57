// Process and Reaper (spawn.h) against a helper: this test binary re-execs
// itself (libuv's test-spawn.c habit) with WSGID_SPAWN_HELPER set, and the
// static initializer below runs the helper's part before doctest's main().
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"
#include "supervisor/master/spawn.h"

using namespace wsgid;
using namespace wsgid::master;

namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) _exit(90);
    off += static_cast<size_t>(n);
  }
}

// The child side: check fds, read hello + settings, answer, then act per mode.
[[noreturn]] void helper(const char* mode) {
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  if (fcntl(3, F_GETFD) < 0) _exit(81);           // control channel
  if (fcntl(3, F_GETFD) & FD_CLOEXEC) _exit(82);  // inherited without CLOEXEC
  bool have4 = fcntl(4, F_GETFD) >= 0;
  proto::FrameReader reader;
  proto::Frame f;
  std::string settings;
  int frames = 0;
  char buf[4096];
  while (frames < 2) {
    auto r = reader.next(&f);
    if (r == proto::FrameReader::Result::kError) _exit(83);
    if (r == proto::FrameReader::Result::kNeedMore) {
      ssize_t n = read(3, buf, sizeof buf);
      if (n <= 0) _exit(84);
      reader.feed(buf, static_cast<size_t>(n));
      continue;
    }
    if (frames == 0 && f.type != proto::FrameType::kHello) _exit(85);
    if (frames == 1) {
      if (f.type != proto::FrameType::kSettings) _exit(86);
      settings.assign(f.payload);
    }
    ++frames;
  }
  std::string out;
  proto::append_hello(&out);
  if (std::strcmp(mode, "diesoon") == 0) {  // dies before READY, as a failed import
    write_all(3, out);
    write_all(2, "starting\n2026-12-04 21:50:00.123 [error] [worker test 99] "
                 "ImportError: no module named x\n  \n");
    _exit(3);
  }
  proto::append_frame(&out, proto::FrameType::kReady, 0, "{\"fd4\": " + std::string(have4 ? "true" : "false") + "}");
  proto::append_frame(&out, proto::FrameType::kReplaceMe, 0, settings);  // echo the settings
  if (std::strcmp(mode, "exit7") == 0) {
    proto::append_frame(&out, proto::FrameType::kExiting, 0,
                        R"({"reason": "maximum-requests", "detail": "after 3 requests"})");
    write_all(3, out);
    write_all(2, "first line\nsecond line\r\nno newline at the end");
    write_all(1, "");
    _exit(7);
  }
  if (std::strcmp(mode, "abort") == 0) {
    write_all(3, out);
    raise(SIGABRT);
  }
  if (std::strcmp(mode, "badframe") == 0) {
    write_all(3, out + std::string("\x7f\0\0\0\0\0\0\0\0\0\0\0", 12));
    pause();
  }
  _exit(80);
}

struct HelperInit {
  HelperInit() {
    if (const char* m = getenv("WSGID_SPAWN_HELPER")) helper(m);
  }
} g_helper_init;

struct Recorder : ProcessObserver {
  std::vector<std::pair<proto::FrameType, std::string>> frames;
  bool exited = false;
  ExitInfo info;
  void on_frame(Process*, const proto::Frame& f) override {
    frames.emplace_back(f.type, std::string(f.payload));
  }
  void on_exit(Process* p, const ExitInfo& i) override {
    exited = true;
    info = i;
    p->destroy();
  }
};

struct LoopFixture {
  uv_loop_t loop;
  LoopFixture() {
    uv_loop_init(&loop);
    REQUIRE(Reaper::install(&loop).is_ok());
  }
  ~LoopFixture() {
    set_output_tap(nullptr);
    Reaper::uninstall();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }
  void run_until(const bool& flag) {
    for (int i = 0; i < 2000 && !flag; ++i) uv_run(&loop, UV_RUN_ONCE);
  }
};

SpawnSpec helper_spec(const char* mode, std::vector<int> fds = {}) {
  setenv("WSGID_SPAWN_HELPER", mode, 1);
  SpawnSpec s;
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  REQUIRE(n > 0);
  s.path.assign(buf, static_cast<size_t>(n));
  s.argv = {"spawn-helper"};
  s.fds = std::move(fds);
  s.settings = R"({"role": "worker", "index": 3})";
  s.role = "worker test";
  return s;
}

}  // namespace

TEST_CASE("describe_exit: codes, signals, core dumps, announced reasons") {
  const std::pair<ExitInfo, const char*> cases[] = {
      {{0, "", "", 0, false}, "exited with status 0"},
      {{1 << 8, "", "", 0, false}, "exited with status 1"},
      {{SIGKILL, "", "", 0, false}, "exited on signal 9"},
      {{SIGSEGV | 0x80, "", "", 0, false}, "exited on signal 11 (core dumped)"},
      {{0, "drained", "", 0, false}, "exited with status 0: drained"},
      {{0, "maximum-requests", "after 100 requests", 0, false},
       "exited with status 0: maximum-requests (after 100 requests)"},
      {{3 << 8, "startup-failure", "ImportError: no module named x", 0, false},
       "exited with status 3: startup-failure (ImportError: no module named x)"},
  };
  for (const auto& [info, text] : cases) CHECK(describe_exit(info) == text);
}

TEST_CASE("describe_failed_start: the reason announced, else the last output line") {
  const std::pair<ExitInfo, const char*> cases[] = {
      {{3 << 8, "", "", 0, false, "ImportError: no module named x"},
       "exited with status 3 during start-up: ImportError: no module named x"},
      {{SIGSEGV | 0x80, "", "", 0, false, "Fatal Python error: Segmentation fault"},
       "exited on signal 11 (core dumped) during start-up: Fatal Python error: Segmentation fault"},
      {{1 << 8, "", "", 0, false, ""}, "exited with status 1 during start-up"},
      {{1 << 8, "startup-failure", "python-home: no such directory", 0, false, "exiting: ..."},
       "exited with status 1 during start-up: startup-failure (python-home: no such directory)"},
  };
  for (const auto& [info, text] : cases) CHECK(describe_failed_start(info) == text);
}

TEST_CASE("spawn: a death before READY keeps the last output line, without its log prefix") {
  LoopFixture fx;
  Recorder rec;
  auto r = Process::start(&fx.loop, helper_spec("diesoon"), &rec);
  unsetenv("WSGID_SPAWN_HELPER");
  REQUIRE(r.is_ok());
  fx.run_until(rec.exited);
  REQUIRE(rec.exited);
  CHECK_FALSE(rec.info.ready);
  CHECK(rec.info.last_line == "ImportError: no module named x");
  CHECK(describe_failed_start(rec.info) ==
        "exited with status 3 during start-up: ImportError: no module named x");
}

TEST_CASE("spawn: fds, hello, settings, frames, kExiting, captured output, exit status") {
  LoopFixture fx;
  std::vector<std::string> captured;
  set_output_tap([&](const std::string& role, const std::string& line) {
    CHECK(role == "worker test");
    captured.push_back(line);
  });
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  Recorder rec;
  auto r = Process::start(&fx.loop, helper_spec("exit7", {sv[0]}), &rec);
  unsetenv("WSGID_SPAWN_HELPER");
  close(sv[0]);
  close(sv[1]);
  REQUIRE(r.is_ok());
  fx.run_until(rec.exited);
  REQUIRE(rec.exited);
  CHECK(describe_exit(rec.info) ==
        "exited with status 7: maximum-requests (after 3 requests)");
  CHECK(rec.info.ready);
  CHECK(rec.info.last_line == "no newline at the end");
  REQUIRE(rec.frames.size() == 2);
  CHECK(rec.frames[0].first == proto::FrameType::kReady);
  CHECK(rec.frames[0].second == "{\"fd4\": true}");
  CHECK(rec.frames[1].second == R"({"role": "worker", "index": 3})");
  REQUIRE(captured.size() == 3);
  CHECK(captured[0].find("[error] [worker test ") != std::string::npos);
  CHECK(captured[0].substr(captured[0].size() - 12) == "] first line");
  CHECK(captured[1].substr(captured[1].size() - 13) == "] second line");
  CHECK(captured[2].substr(captured[2].size() - 23) == "] no newline at the end");
}

TEST_CASE("spawn: captured output goes to SpawnSpec::output_fd when set") {
  LoopFixture fx;
  int out[2];
  REQUIRE(pipe2(out, O_CLOEXEC | O_NONBLOCK) == 0);
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  Recorder rec;
  SpawnSpec spec = helper_spec("exit7", {sv[0]});
  spec.output_fd = out[1];
  auto r = Process::start(&fx.loop, spec, &rec);
  unsetenv("WSGID_SPAWN_HELPER");
  close(sv[0]);
  close(sv[1]);
  REQUIRE(r.is_ok());
  fx.run_until(rec.exited);
  REQUIRE(rec.exited);
  char buf[4096];
  ssize_t n = read(out[0], buf, sizeof buf);
  REQUIRE(n > 0);
  std::string text(buf, static_cast<size_t>(n));
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);
  CHECK(text.find("] first line\n") != std::string::npos);
  CHECK(text.find("] no newline at the end\n") != std::string::npos);
  close(out[0]);
  close(out[1]);
}

TEST_CASE("spawn: death by signal is reported as such") {
  LoopFixture fx;
  Recorder rec;
  auto r = Process::start(&fx.loop, helper_spec("abort"), &rec);
  unsetenv("WSGID_SPAWN_HELPER");
  REQUIRE(r.is_ok());
  fx.run_until(rec.exited);
  REQUIRE(rec.exited);
  CHECK(describe_exit(rec.info) == "exited on signal 6");
}

TEST_CASE("spawn: a malformed frame gets the child killed") {
  LoopFixture fx;
  Recorder rec;
  auto r = Process::start(&fx.loop, helper_spec("badframe"), &rec);
  unsetenv("WSGID_SPAWN_HELPER");
  REQUIRE(r.is_ok());
  fx.run_until(rec.exited);
  REQUIRE(rec.exited);
  CHECK(describe_exit(rec.info) == "exited on signal 9");
}

TEST_CASE("spawn: exec failure is synchronous and names the path") {
  LoopFixture fx;
  Recorder rec;
  SpawnSpec s;
  s.path = "/nonexistent/wsgid-worker";
  s.argv = {"wsgid-worker"};
  s.role = "worker x";
  auto r = Process::start(&fx.loop, s, &rec);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message() == "execv(/nonexistent/wsgid-worker): No such file or directory");
  CHECK(Reaper::live() == 0);
}

TEST_CASE("find_program: environment override") {
  setenv("WSGID_TEST_PROG", "/bin/true", 1);
  CHECK(find_program("WSGID_TEST_PROG", {"nothing"}) == "/bin/true");
  setenv("WSGID_TEST_PROG", "none", 1);
  CHECK(find_program("WSGID_TEST_PROG", {"nothing"}) == "");
  unsetenv("WSGID_TEST_PROG");
  CHECK(find_program("WSGID_TEST_PROG", {"no-such-program-here"}) == "");
}
