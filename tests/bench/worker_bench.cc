// worker_bench: requests per second of one wsgid-worker (1 and 4 threads) on a
// hello-world WSGI app, driven over the framed protocol from C++, beside the
// same app called in a plain Python loop in one process (the ceiling). Prints
// the worker's overhead per request in microseconds. Not a test: timings are
// noisy, so it prints the median of several rounds. Issue #3, "Benchmark".
//
// With --requests=N each round (and the warm-up, 50 per connection) sends a fixed
// count instead of running for S seconds: run the worker under
// `valgrind --tool=callgrind` (--worker=a wrapper script) with two counts and the
// difference of the instruction totals over the difference of the counts is the
// instructions per request, whatever the machine's load (issue 16).
//
// --body=N makes every request a POST of N bytes that the app echoes back.
//
// usage: worker_bench [--worker=PATH] [--seconds=S] [--rounds=N] [--requests=N] [--body=N]
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using wsgid::proto::Frame;
using wsgid::proto::FrameReader;
using wsgid::proto::FrameType;

const char kApp[] =
    "def application(environ, start_response):\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '12')])\n"
    "    return [b'Hello world!']\n";
// --body=N: every request is a POST of N bytes, echoed back (read(CONTENT_LENGTH)).
const char kEchoApp[] =
    "def application(environ, start_response):\n"
    "    body = environ['wsgi.input'].read(int(environ['CONTENT_LENGTH']))\n"
    "    start_response('200 OK', [('Content-Type', 'application/octet-stream'),\n"
    "                              ('Content-Length', str(len(body)))])\n"
    "    return [body]\n";
size_t g_body = 0;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "worker_bench: %s\n", what.c_str());
  std::exit(1);
}

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die(fmt::format("write: {}", std::strerror(errno)));
    off += static_cast<size_t>(n);
  }
}

// Blocking frame reader over one fd.
struct Conn {
  explicit Conn(int f) : fd(f) {}
  int fd;
  FrameReader reader;
  char buf[65536];
  bool next(Frame* f) {
    for (;;) {
      auto r = reader.next(f);
      if (r == FrameReader::Result::kFrame) return true;
      if (r == FrameReader::Result::kError) die("frame error: " + reader.error());
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      reader.feed(buf, static_cast<size_t>(n));
    }
  }
};

struct Worker {
  pid_t pid = -1;
  int ctrl = -1;
  std::string sock;
};

Worker start_worker(const std::string& bin, const std::string& dir, int threads) {
  Worker w;
  w.sock = dir + fmt::format("/bench{}.sock", threads);
  int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", w.sock.c_str());
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 100) != 0)
    die(fmt::format("bind/listen({}): {}", w.sock, std::strerror(errno)));
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
  // Move both out of the way of 3 and 4 before dup2'ing them there.
  int hi_ctrl = fcntl(sv[1], F_DUPFD_CLOEXEC, 10), hi_listen = fcntl(lfd, F_DUPFD_CLOEXEC, 10);
  close(sv[1]);
  close(lfd);
  sv[1] = hi_ctrl;
  lfd = hi_listen;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
  posix_spawn_file_actions_adddup2(&fa, lfd, 4);
  const char* argv[] = {bin.c_str(), "--control-fd=3", "--listen-fd=4", nullptr};
  if (posix_spawn(&w.pid, bin.c_str(), &fa, nullptr, const_cast<char**>(argv), environ) != 0)
    die("posix_spawn " + bin);
  posix_spawn_file_actions_destroy(&fa);
  close(sv[1]);
  close(lfd);
  w.ctrl = sv[0];
  nlohmann::json settings = {
      {"role", "worker"}, {"index", 0}, {"generation", 1},
      {"group", {{"name", "bench"}, {"threads", threads}, {"display_name", "(wsgi:bench)"}}},
      {"default_user", "www-data"}, {"default_group", "www-data"}, {"log_level", "warn"}};
  std::string out;
  wsgid::proto::append_hello(&out);
  wsgid::proto::append_frame(&out, FrameType::kSettings, 0, settings.dump());
  write_all(w.ctrl, out);
  Conn c(w.ctrl);
  Frame f;
  while (c.next(&f)) {
    if (f.type == FrameType::kReady) return w;
    if (f.type == FrameType::kExiting) die("worker exited: " + std::string(f.payload));
  }
  die("worker closed its control channel before READY");
}

void stop_worker(Worker& w) {
  close(w.ctrl);  // EOF on fd 3: the worker exits
  int status;
  waitpid(w.pid, &status, 0);
  unlink(w.sock.c_str());
}

int connect_to(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("connect " + path);
  std::string hello;
  wsgid::proto::append_hello(&hello);
  write_all(fd, hello);
  return fd;
}

// One keep-alive connection sending requests back to back until `stop`.
// limit: stop after that many requests (0: only `stop` ends it).
uint64_t client(const std::string& path, const std::string& script, std::atomic<bool>* stop, uint64_t limit) {
  int fd = connect_to(path);
  Conn c(fd);
  Frame f;
  if (!c.next(&f) || f.type != FrameType::kHello) die("no HELLO from the worker");
  uint64_t n = 0;
  std::string req;
  const std::string body(g_body, 'x');
  while (!stop->load(std::memory_order_relaxed) && (limit == 0 || n < limit)) {
    uint32_t id = static_cast<uint32_t>(n + 1);
    req.clear();
    wsgid::proto::RequestHeadWriter w(&req, id);
    w.add("REQUEST_METHOD", g_body ? "POST" : "GET");
    if (g_body) w.add("CONTENT_LENGTH", std::to_string(g_body));
    w.add("SCRIPT_NAME", "");
    w.add("PATH_INFO", "/");
    w.add("QUERY_STRING", "");
    w.add("REQUEST_URI", "/");
    w.add("SERVER_NAME", "localhost");
    w.add("SERVER_PORT", "8080");
    w.add("SERVER_ADDR", "127.0.0.1");
    w.add("SERVER_PROTOCOL", "HTTP/1.1");
    w.add("SERVER_SOFTWARE", "wsgid");
    w.add("REMOTE_ADDR", "127.0.0.1");
    w.add("REMOTE_PORT", "50000");
    w.add("HTTP_HOST", "localhost:8080");
    w.add("HTTP_USER_AGENT", "worker_bench");
    w.add("HTTP_ACCEPT", "*/*");
    w.add("SCRIPT_FILENAME", script);
    w.add("mod_wsgi.process_group", "bench");
    w.add("mod_wsgi.application_group", "");
    w.add("mod_wsgi.callable_object", "application");
    w.add("mod_wsgi.script_reloading", "1");
    w.add("mod_wsgi.request_id", "x");
    w.finish();
    for (size_t off = 0; off < g_body; off += wsgid::proto::kBodyChunk)
      wsgid::proto::append_frame(&req, FrameType::kRequestBody, id,
                                 std::string_view(body).substr(off, wsgid::proto::kBodyChunk));
    wsgid::proto::append_frame(&req, FrameType::kRequestEnd, id, {});
    write_all(fd, req);
    for (;;) {
      if (!c.next(&f)) die("worker closed the connection");
      if (f.type == FrameType::kResponseEnd) break;
      if (f.type == FrameType::kError) die("worker answered ERROR");
    }
    ++n;
  }
  close(fd);
  return n;
}

// requests > 0: each connection sends requests / conns, then the round ends.
double run_round(const std::string& sock, const std::string& script, int conns, double seconds,
                 uint64_t requests = 0) {
  std::atomic<bool> stop{false};
  std::vector<uint64_t> counts(static_cast<size_t>(conns));
  std::vector<std::thread> ts;
  auto t0 = Clock::now();
  for (int i = 0; i < conns; ++i)
    ts.emplace_back([&, i] {
      counts[static_cast<size_t>(i)] = client(sock, script, &stop, requests / static_cast<uint64_t>(conns));
    });
  if (requests == 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
  }
  for (auto& t : ts) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  return static_cast<double>(total) / elapsed;
}

// utime + stime of a process, in seconds; *user gets utime alone.
double cpu_seconds(pid_t pid, double* user = nullptr) {
  FILE* f = std::fopen(fmt::format("/proc/{}/stat", pid).c_str(), "r");
  if (!f) return 0;
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  unsigned long utime = 0, stime = 0;
  // fields after ")": state(3) ... utime(14) stime(15)
  std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
  double tck = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (user) *user = static_cast<double>(utime) / tck;
  return static_cast<double>(utime + stime) / tck;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The ceiling: the same app called in a plain Python loop (Debian's python3),
// with a comparable environ and a start_response; microseconds per call.
double python_loop_us(const std::string& script) {
  std::string code = fmt::format(
      "import time, runpy\n"
      "app = runpy.run_path('{}')['application']\n"
      "base = {{'REQUEST_METHOD': 'GET', 'SCRIPT_NAME': '', 'PATH_INFO': '/', 'QUERY_STRING': '',\n"
      "  'REQUEST_URI': '/', 'SERVER_NAME': 'localhost', 'SERVER_PORT': '8080', 'SERVER_ADDR': '127.0.0.1',\n"
      "  'SERVER_PROTOCOL': 'HTTP/1.1', 'SERVER_SOFTWARE': 'x', 'REMOTE_ADDR': '127.0.0.1',\n"
      "  'REMOTE_PORT': '50000', 'HTTP_HOST': 'localhost:8080', 'wsgi.version': (1, 0),\n"
      "  'wsgi.url_scheme': 'http', 'wsgi.multithread': True, 'wsgi.multiprocess': False,\n"
      "  'wsgi.run_once': False}}\n"
      "def start_response(status, headers, exc_info=None):\n"
      "    return None\n"
      "best = None\n"
      "for _ in range(5):\n"
      "    n = 200000\n"
      "    t0 = time.perf_counter()\n"
      "    for _ in range(n):\n"
      "        env = dict(base)\n"
      "        body = b''.join(app(env, start_response))\n"
      "    us = (time.perf_counter() - t0) / n * 1e6\n"
      "    best = us if best is None else min(best, us)\n"
      "print(best)\n",
      script);
  std::string path = script + ".loop.py";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(code.c_str(), f);
  std::fclose(f);
  FILE* p = popen(("/usr/bin/python3 " + path).c_str(), "r");
  double us = 0;
  if (!p || std::fscanf(p, "%lf", &us) != 1) die("python loop failed");
  pclose(p);
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = WSGID_WORKER_PATH;
  double seconds = 2;
  int rounds = 5;
  uint64_t requests = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--worker=", 0) == 0) bin = a.substr(9);
    else if (a.rfind("--seconds=", 0) == 0) seconds = std::atof(a.c_str() + 10);
    else if (a.rfind("--rounds=", 0) == 0) rounds = std::atoi(a.c_str() + 9);
    else if (a.rfind("--requests=", 0) == 0) requests = std::strtoull(a.c_str() + 11, nullptr, 10);
    else if (a.rfind("--body=", 0) == 0) g_body = std::strtoull(a.c_str() + 7, nullptr, 10);
    else die("usage: worker_bench [--worker=PATH] [--seconds=S] [--rounds=N] [--requests=N] [--body=N]");
  }
  signal(SIGPIPE, SIG_IGN);
  char tmpl[] = "/tmp/wsgid-bench-XXXXXX";
  if (!mkdtemp(tmpl)) die("mkdtemp");
  std::string dir = tmpl;
  chmod(dir.c_str(), 0755);
  std::string script = dir + "/hello.wsgi";
  FILE* f = std::fopen(script.c_str(), "w");
  std::fputs(g_body ? kEchoApp : kApp, f);
  std::fclose(f);
  chmod(script.c_str(), 0644);

  double py_us = g_body ? 0 : python_loop_us(script);  // the loop has no wsgi.input
  std::printf("plain Python loop (ceiling): %.0f calls/s, %.2f us/call\n", 1e6 / py_us, py_us);
  std::fflush(stdout);
  double one_us = 0;
  for (int threads : {1, 4}) {
    Worker w = start_worker(bin, dir, threads);
    run_round(w.sock, script, threads, 0.5, requests ? 50u * static_cast<uint64_t>(threads) : 0);  // warm up (loads the script)
    std::vector<double> rps, cpu_us, user_us;
    for (int r = 0; r < rounds; ++r) {
      double u0, u1;
      double c0 = cpu_seconds(w.pid, &u0);
      auto t0 = Clock::now();
      double x = run_round(w.sock, script, threads, seconds, requests);
      double c1 = cpu_seconds(w.pid, &u1);
      double n = x * std::chrono::duration<double>(Clock::now() - t0).count();
      rps.push_back(x);
      cpu_us.push_back((c1 - c0) * 1e6 / n);
      user_us.push_back((u1 - u0) * 1e6 / n);
    }
    stop_worker(w);
    double cpu = median(cpu_us), user = median(user_us);
    double m = median(rps);
    std::printf("worker, %d thread%s, %d connection%s: %.0f req/s (median of %d x %.1f s; min %.0f, max %.0f)\n",
                threads, threads == 1 ? "" : "s", threads, threads == 1 ? "" : "s", m, rounds, seconds,
                *std::min_element(rps.begin(), rps.end()), *std::max_element(rps.begin(), rps.end()));
    std::printf("  worker CPU per request: %.2f us user+system (%.2f us user); user CPU beyond the bare app call: %.2f us\n",
                cpu, user, user - py_us);
    std::fflush(stdout);
    if (threads == 1) one_us = 1e6 / m;
  }
  std::printf("per request, 1 thread: %.2f us in the worker round trip vs %.2f us for the bare call: overhead %.2f us\n",
              one_us, py_us, one_us - py_us);
  std::printf("(the round trip includes the C++ client's own work on the same %u CPUs)\n",
              std::thread::hardware_concurrency());
  unlink((script + ".loop.py").c_str());
  unlink(script.c_str());
  rmdir(dir.c_str());
  return 0;
}
