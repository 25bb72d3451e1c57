// The HTTP path end to end in one process: a Server on its own loop thread, a
// loopback listener, the fake worker (tests/bench/fake_worker.cc, path in
// $FAKE_WORKER) on a UNIX socket, and raw client sockets for the malformed shapes.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "supervisor/frontend/server.h"
#include "tests/unit/connect_result.h"

using namespace wsgid;
using namespace wsgid::frontend;

namespace {

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

class Fixture {
 public:
  // edit, when given, changes the settings before the server takes them.
  explicit Fixture(const std::function<void(Settings*)>& edit = {}) {
    char tmpl[] = "/tmp/wsgid-http-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    chmod(dir_.c_str(), 0755);
    mkdir((dir_ + "/static").c_str(), 0755);
    std::ofstream(dir_ + "/static/file.txt") << "0123456789abcdef";
    const char* fw = std::getenv("FAKE_WORKER");
    REQUIRE_MESSAGE(fw != nullptr, "FAKE_WORKER must name the fake_worker binary");
    sock_ = dir_ + "/g.sock";
    worker_ = fork();
    REQUIRE(worker_ >= 0);
    if (worker_ == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      execl(fw, fw, sock_.c_str(), "4", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 500 && access(sock_.c_str(), F_OK) != 0; ++i) usleep(10000);
    REQUIRE(access(sock_.c_str(), F_OK) == 0);

    Settings s;
    model::ListenAddr l;
    l.host = "127.0.0.1";
    l.port = 0;
    s.config.listen = {l};
    s.config.limit_request_line = 200;
    s.config.limit_request_field_size = 100;
    s.config.limit_request_fields = 10;
    s.config.limit_request_body = 100000;
    s.config.request_read_header_timeout = 1;
    s.config.request_read_body_timeout = 1;
    s.config.keep_alive_timeout = 1;
    GroupEndpoint g;
    g.name = "g";
    g.socket = sock_;
    g.processes = 1;
    g.threads = 4;
    GroupEndpoint stopped = g;
    stopped.name = "stopped";
    stopped.state = "stopped";
    GroupEndpoint missing = g;
    missing.name = "missing";
    missing.socket = dir_ + "/missing.sock";
    s.groups = {g, stopped, missing};
    model::Mount root;
    root.url = "/";
    root.script = dir_ + "/app.wsgi";
    model::Mount st = root;
    st.url = "/stopped";
    st.process_group = "stopped";
    model::Mount mi = root;
    mi.url = "/missing";
    mi.process_group = "missing";
    s.config.server.settings.process_group = "g";
    s.config.server.settings.chunked_request = true;  // WSGIChunkedRequest On (issue 12)
    s.config.server.server_name = "localhost";
    s.config.server.mounts = {root, st, mi};
    model::StaticAlias a;
    a.url = "/static/";
    a.path = dir_ + "/static/";
    s.config.server.aliases = {a};
    if (edit) edit(&s);

    uv_loop_init(&loop_);
    server_ = new Server(&loop_);
    server_->apply(s);
    std::vector<int> ports;
    Status bs = server_->bind_listeners(&ports);
    REQUIRE_MESSAGE(bs.is_ok(), bs.message());
    port_ = ports.at(0);
    ports_ = ports;
    uv_async_init(&loop_, &call_, [](uv_async_t* a) {
      auto* self = static_cast<Fixture*>(a->data);
      auto fn = std::move(self->call_fn_);
      self->call_fn_ = nullptr;
      if (fn) fn(self->server_);
      self->call_done_.set_value();
    });
    call_.data = this;
    uv_async_init(&loop_, &stop_, [](uv_async_t* a) {
      auto* self = static_cast<Fixture*>(a->data);
      self->server_->shutdown();
      uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&self->call_), nullptr);
    });
    stop_.data = this;
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }

  ~Fixture() {
    uv_async_send(&stop_);
    thread_.join();
    uv_run(&loop_, UV_RUN_DEFAULT);
    delete server_;
    CHECK(uv_loop_close(&loop_) == 0);
    kill(worker_, SIGKILL);
    waitpid(worker_, nullptr, 0);
    std::string cmd = "rm -rf " + dir_;
    CHECK(std::system(cmd.c_str()) == 0);
  }

  int connect() const {
    int fd = try_connect(0);
    REQUIRE(fd >= 0);
    return fd;
  }

  int port(size_t i = 0) const { return ports_.at(i); }

  // A connection to listener i (settings' listen order); -1 when refused.
  int try_connect(size_t i) const {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(ports_.at(i)));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // Runs fn(server) on the loop thread and waits for it.
  void on_loop(std::function<void(Server*)> fn) {
    call_done_ = std::promise<void>();
    auto done = call_done_.get_future();
    call_fn_ = std::move(fn);
    uv_async_send(&call_);
    done.wait();
  }

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_, sock_;
  pid_t worker_ = -1;
  uv_loop_t loop_;
  uv_async_t stop_;
  uv_async_t call_;
  std::function<void(Server*)> call_fn_;
  std::promise<void> call_done_;
  Server* server_ = nullptr;
  int port_ = 0;
  std::vector<int> ports_;
  std::thread thread_;
};

void send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    REQUIRE(n > 0);
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads until EOF (eof=true) or until timeout_ms passes.
std::string read_all(int fd, int timeout_ms, bool* eof = nullptr) {
  std::string out;
  uint64_t end = now_ms() + static_cast<uint64_t>(timeout_ms);
  if (eof) *eof = false;
  for (;;) {
    uint64_t now = now_ms();
    if (now >= end) return out;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(end - now)) <= 0) return out;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (eof) *eof = true;
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

// Reads until `needle` has been seen (or timeout).
std::string read_until(int fd, std::string_view needle, int timeout_ms) {
  std::string out;
  uint64_t end = now_ms() + static_cast<uint64_t>(timeout_ms);
  while (out.find(needle) == std::string::npos) {
    uint64_t now = now_ms();
    if (now >= end) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(end - now)) <= 0) break;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string roundtrip(const Fixture& f, std::string_view request, bool* eof = nullptr, int timeout_ms = 5000) {
  int fd = f.connect();
  send_all(fd, request);
  std::string r = read_all(fd, timeout_ms, eof);
  ::close(fd);
  return r;
}

std::string body_of(const std::string& response) {
  size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

}  // namespace

TEST_CASE("refused shapes get a 4xx and a closed connection") {
  Fixture f;
  struct Case {
    const char* name;
    std::string request;
    const char* status;
  } cases[] = {
      {"Content-Length with Transfer-Encoding",
       "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
       "HTTP/1.1 400 "},
      {"two Content-Lengths",
       "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 400 "},
      {"bad chunk size", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
       "HTTP/1.1 400 "},
      {"chunk size overflow",
       "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nx\r\n0\r\n\r\n",
       "HTTP/1.1 400 "},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n", "HTTP/1.1 400 "},
      {"obs-fold with a tab", "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n\tb\r\n\r\n", "HTTP/1.1 400 "},
      {"bare CR in a header", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", "HTTP/1.1 400 "},
      {"bare CR in the request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 400 "},
      {"white space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "HTTP/1.1 400 "},
      {"no Host in HTTP/1.1", "GET / HTTP/1.1\r\nX: y\r\n\r\n", "HTTP/1.1 400 "},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400 "},
      {"garbage", "HELLO THERE\r\n\r\n", "HTTP/1.1 400 "},
      // Issue 12 point 8 (RFC 9110/9112).
      {"unknown method token", "FOO /echo HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 501 "},
      {"unknown lower-case method", "get /echo HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 501 "},
      {"method with a bad character", "G@T /echo HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 400 "},
      {"a fragment in the target", "GET /x/environ#frag HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 400 "},
      {"Transfer-Encoding in HTTP/1.0",
       "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "HTTP/1.1 400 "},
      {"a bad chunk after good ones",
       "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n", "HTTP/1.1 400 "},
      {"chunk data without CRLF",
       "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", "HTTP/1.1 400 "},
      {"unknown transfer coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", "HTTP/1.1 400 "},
      {"LimitRequestLine", "GET /" + std::string(300, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 414 "},
      {"LimitRequestFieldSize", "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + std::string(200, 'b') + "\r\n\r\n",
       "HTTP/1.1 400 "},
      {"LimitRequestFields",
       [] {
         std::string r = "GET / HTTP/1.1\r\nHost: a\r\n";
         for (int i = 0; i < 12; ++i) r += "X-" + std::to_string(i) + ": v\r\n";
         return r + "\r\n";
       }(),
       "HTTP/1.1 400 "},
      {"LimitRequestBody by Content-Length", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100001\r\n\r\n",
       "HTTP/1.1 413 "},
      {"LimitRequestBody while chunked",
       "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n186a1\r\n" + std::string(100001, 'x') +
           "\r\n0\r\n\r\n",
       "HTTP/1.1 413 "},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.name));
    bool eof = false;
    std::string r = roundtrip(f, c.request, &eof, 3000);
    CHECK(r.rfind(c.status, 0) == 0);
    CHECK(r.find("Connection: close\r\n") != std::string::npos);
    CHECK(eof);
  }
}

TEST_CASE("pipelined requests are answered in request order") {
  Fixture f;
  int fd = f.connect();
  send_all(fd,
           "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nfirst"
           "GET /sleep HTTP/1.1\r\nHost: a\r\n\r\n"
           "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n"
           "GET /x/environ?third HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  bool eof = false;
  std::string r = read_all(fd, 5000, &eof);
  ::close(fd);
  CHECK(eof);
  size_t a = r.find("\r\n\r\nfirst");
  size_t b = r.find("Hello, world!");
  size_t c = r.find("\r\n\r\nsecond");
  size_t d = r.find("QUERY_STRING=third");
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  REQUIRE(c != std::string::npos);
  REQUIRE(d != std::string::npos);
  CHECK(a < b);
  CHECK(b < c);
  CHECK(c < d);
  // The chunked request body reached the worker without CONTENT_LENGTH.
  CHECK(r.find("CONTENT_LENGTH") == std::string::npos);
}

// Issue 12 point 1: WSGIChunkedRequest and LimitRequestBody resolved per request
// path, chunk extensions with BWS (RFC 9112 7.1.1).
TEST_CASE("request bodies: WSGIChunkedRequest, LimitRequestBody per scope, BWS in chunks") {
  Fixture f([](Settings* s) {
    s->config.server.settings.chunked_request = std::nullopt;  // mod_wsgi's default: Off
    model::Block open;
    open.path = "/open";
    open.settings.chunked_request = true;
    open.settings.limit_request_body = 0;  // unlimited here, 100000 elsewhere
    model::Block small;
    small.path = "/open/small";
    small.settings.limit_request_body = 10;
    s->config.server.locations = {open, small};
  });
  const std::string chunked = "Transfer-Encoding: chunked\r\n\r\n";
  struct Case {
    const char* name;
    std::string request;
    const char* status;
    const char* body;  // nullptr: not checked
  } cases[] = {
      {"chunked to a script under Off: 411", "POST /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n" + chunked + "5\r\nhello\r\n0\r\n\r\n",
       "HTTP/1.1 411 ", nullptr},
      {"chunked under On, BWS around ; and =",
       "POST /open/echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n" + chunked + "5 ; a = b\r\nhello\r\n6\t;c;d=\"e f\"\r\n world\r\n0 ; x\r\nT: 1\r\n\r\n",
       "HTTP/1.1 200 ", "hello world"},
      {"chunked to a static file under Off: no 411, the file's own 405", "POST /static/file.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n" + chunked + "3\r\nabc\r\n0\r\n\r\n",
       "HTTP/1.1 405 ", nullptr},
      {"declared length over a <Location>'s limit: 413", "POST /open/small/echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 11\r\n\r\n",
       "HTTP/1.1 413 ", nullptr},
      {"chunked body passing a <Location>'s limit: 413",
       "POST /open/small/echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n" + chunked + "6\r\nhello,\r\n6\r\n world\r\n0\r\n\r\n",
       "HTTP/1.1 413 ", nullptr},
      {"within a <Location>'s limit", "POST /open/small/echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 10\r\n\r\n0123456789",
       "HTTP/1.1 200 ", "0123456789"},
      {"over the server's limit where the <Location> lifts it",
       "POST /open/echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 100001\r\n\r\n" + std::string(100001, 'x'),
       "HTTP/1.1 200 ", nullptr},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.name));
    bool eof = false;
    std::string r = roundtrip(f, c.request, &eof, 5000);
    CHECK(r.rfind(c.status, 0) == 0);
    if (c.body) CHECK(body_of(r) == c.body);
    if (std::string_view(c.status) == "HTTP/1.1 411 " || std::string_view(c.status) == "HTTP/1.1 413 ")
      CHECK(r.find("Connection: close\r\n") != std::string::npos);
  }
}

TEST_CASE("keep-alive, HEAD, chunked responses and HTTP/1.0") {
  Fixture f;
  int fd = f.connect();
  send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string r1 = read_until(fd, "Hello, world!", 3000);
  CHECK(r1.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(r1.find("Content-Length: 13\r\n") != std::string::npos);
  CHECK(r1.find("Date: ") != std::string::npos);
  send_all(fd, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string r2 = read_until(fd, "\r\n\r\n", 3000);
  CHECK(r2.find("Content-Length: 13\r\n") != std::string::npos);
  send_all(fd, "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string r3 = read_until(fd, "0\r\n\r\n", 3000);
  CHECK(r3.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(body_of(r3) == "4\r\none\n\r\n4\r\ntwo\n\r\n6\r\nthree\n\r\n0\r\n\r\n");
  ::close(fd);

  bool eof = false;
  std::string r4 = roundtrip(f, "GET /stream HTTP/1.0\r\n\r\n", &eof);
  CHECK(eof);
  CHECK(r4.find("Transfer-Encoding") == std::string::npos);
  CHECK(r4.find("Connection: close\r\n") != std::string::npos);
  CHECK(body_of(r4) == "one\ntwo\nthree\n");

  std::string r5 = roundtrip(f, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &eof, 1500);
  CHECK(r5.find("Connection: keep-alive\r\n") != std::string::npos);
}

// Issue 15: WSGIDrainDelay's leaving stage, seen by a client and by HAProxy's agent.
TEST_CASE("a graceful stop with a drain delay: not ready, still serving, then draining") {
  Fixture f([](Settings* s) {
    model::ListenAddr agent = s->config.listen[0];
    agent.protocol = model::ListenProtocol::kHaproxyAgent;
    s->config.listen.push_back(agent);
  });
  auto agent = [&f] {
    int fd = f.try_connect(1);
    if (fd < 0) return std::string("refused");
    bool eof = false;
    std::string r = read_all(fd, 3000, &eof);
    ::close(fd);
    CHECK(eof);
    return r;
  };
  // Groups g and missing count (4 threads each, idle); stopped does not.
  CHECK(agent() == "up ready 100%\n");

  int kept = f.connect();
  send_all(kept, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string r1 = read_until(kept, "Hello, world!", 3000);
  CHECK(r1.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(r1.find("Connection: close") == std::string::npos);

  std::atomic<bool> drained{false};
  f.on_loop([&drained](Server* srv) {
    CHECK(srv->accepting_work());
    srv->stop(1.0, 5.0, [&drained] { drained = true; });
    CHECK_FALSE(srv->accepting_work());
    CHECK_FALSE(srv->draining());
  });
  CHECK(agent() == "drain\n");
  // The kept-alive connection is served once more, and closed after it.
  send_all(kept, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  bool eof = false;
  std::string r2 = read_all(kept, 3000, &eof);
  ::close(kept);
  CHECK(r2.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(r2.find("Connection: close\r\n") != std::string::npos);
  CHECK(eof);
  // New connections are still accepted and served.
  std::string r3 = roundtrip(f, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", &eof);
  CHECK(r3.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(r3.find("Connection: close\r\n") != std::string::npos);
  CHECK_FALSE(drained.load());
  // Past the delay: the listeners close and the drain ends.
  uint64_t deadline = now_ms() + 4000;
  while (!drained.load() && now_ms() < deadline) usleep(20000);
  CHECK(drained.load());
  CHECK(f.try_connect(0) == -1);
  CHECK(agent() == "refused");
}

// The connections the kernel queued before the drain closed the listener are
// served, not reset (their clients may have sent a request a balancer cannot
// safely retry).
TEST_CASE("a drain serves the connections waiting in the accept queue") {
  Fixture f;
  std::vector<int> fds;
  std::atomic<bool> drained{false};
  f.on_loop([&](Server* srv) {
    // The loop is busy here: these connects complete in the kernel's queue only.
    for (int i = 0; i < 5; ++i) {
      int fd = f.try_connect(0);
      if (fd < 0) break;
      send_all(fd, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
      fds.push_back(fd);
    }
    srv->stop(0, 5.0, [&drained] { drained = true; });
  });
  CHECK(fds.size() == 5);
  for (int fd : fds) {
    bool eof = false;
    std::string r = read_all(fd, 3000, &eof);
    ::close(fd);
    CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(r.find("Connection: close\r\n") != std::string::npos);
    CHECK(eof);
  }
  uint64_t deadline = now_ms() + 3000;
  while (!drained.load() && now_ms() < deadline) usleep(20000);
  CHECK(drained.load());
  CHECK(f.try_connect(0) == -1);
}

TEST_CASE("a graceful stop without a delay drains at once") {
  Fixture f;
  std::atomic<bool> drained{false};
  f.on_loop([&drained](Server* srv) {
    srv->stop(0, 5.0, [&drained] { drained = true; });
    CHECK(srv->draining());
  });
  // Nothing in flight: done once the listener closed.
  uint64_t deadline = now_ms() + 3000;
  while (!drained.load() && now_ms() < deadline) usleep(10000);
  CHECK(drained.load());
  CHECK(f.try_connect(0) == -1);
}

// listener_close.h: between the drain's start and the listener's close, a
// connection that completed its handshake is served, even when its request
// comes after the drain began, and a new connect is never completed (its SYN
// is dropped, then refused once the listener is closed): no client that got a
// connection sees it reset.
TEST_CASE("a draining listener refuses new handshakes and resets no connection") {
  Fixture f;
  int queued = -1, late = -1;
  std::atomic<bool> drained{false};
  f.on_loop([&](Server* srv) {
    queued = f.try_connect(0);  // completes in the kernel's queue: the loop is busy
    srv->stop(0, 5.0, [&drained] { drained = true; });
    late = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(f.port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = ::connect(late, reinterpret_cast<sockaddr*>(&a), sizeof a);
    CHECK(r == -1);
    CHECK(errno == EINPROGRESS);
  });
  REQUIRE(queued >= 0);
  send_all(queued, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
  bool eof = false;
  std::string r = read_all(queued, 3000, &eof);
  ::close(queued);
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(r.find("Connection: close\r\n") != std::string::npos);
  CHECK(eof);
  uint64_t deadline = now_ms() + 3000;
  while (!drained.load() && now_ms() < deadline) usleep(10000);
  CHECK(drained.load());
  // The late connect ends refused (its SYN sent again after ~1 s meets the
  // closed port), never connected.
  CHECK(connect_result(late, 5000) == ECONNREFUSED);
  ::close(late);
}

TEST_CASE("Expect: 100-continue") {
  Fixture f;
  int fd = f.connect();
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  std::string c = read_until(fd, "\r\n\r\n", 3000);
  CHECK(c == "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(fd, "body");
  std::string r = read_until(fd, "body", 3000);
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(body_of(r) == "body");
  ::close(fd);
  bool eof = false;
  std::string bad = roundtrip(f, "GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\nConnection: close\r\n\r\n", &eof);
  CHECK(bad.rfind("HTTP/1.1 417 ", 0) == 0);
}

TEST_CASE("failure mapping: 502, 500, 503 with Retry-After, 404") {
  Fixture f;
  struct Case {
    const char* path;
    const char* status;
    bool retry_after;
  } cases[] = {
      {"/die", "HTTP/1.1 502 Bad Gateway\r\n", false},
      {"/error", "HTTP/1.1 500 Internal Server Error\r\n", false},
      {"/stopped", "HTTP/1.1 503 Service Unavailable\r\n", true},
      {"/missing", "HTTP/1.1 503 Service Unavailable\r\n", true},
      {"/a%2Fb", "HTTP/1.1 404 Not Found\r\n", false},
      {"/static/none.txt", "HTTP/1.1 404 Not Found\r\n", false},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.path));
    std::string r = roundtrip(f, std::string("GET ") + c.path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    CHECK(r.rfind(c.status, 0) == 0);
    CHECK((r.find("Retry-After: ") != std::string::npos) == c.retry_after);
  }
  // The connection survives a front-end error answer when the request was whole.
  int fd = f.connect();
  send_all(fd, "GET /stopped HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  std::string both = read_all(fd, 3000);
  ::close(fd);
  CHECK(both.find("503 Service Unavailable") != std::string::npos);
  CHECK(both.find("Hello, world!") != std::string::npos);
}

TEST_CASE("a worker's closing notice between requests costs no request") {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    std::string r = roundtrip(f, "GET /close HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  }
}

TEST_CASE("a closing notice instead of a response head: the request goes again") {
  Fixture f;
  // First connection: the worker refuses with the notice; the retry gets hello.
  std::string r = roundtrip(f, "GET /notice_once HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(body_of(r) == "Hello, world!");
  // A worker that always refuses: after 2 x processes + 1 retries, 503.
  r = roundtrip(f, "POST /closing_notice HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
  CHECK(r.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
  CHECK(r.find("Retry-After: 5\r\n") != std::string::npos);
}

TEST_CASE("a worker that dies after STARTED: a GET goes once more, a POST gets 502") {
  Fixture f;
  // The first /die_once of the fake worker's process dies after STARTED; the
  // GET is sent again and answered.
  std::string r = roundtrip(f, "GET /die_once HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(body_of(r) == "Hello, world!");
  // Dies every time: sent once more, then 502 (not a third time).
  r = roundtrip(f, "GET /die HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 502 Bad Gateway\r\n", 0) == 0);
  // Not idempotent: never sent again.
  r = roundtrip(f, "POST /die HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
  CHECK(r.rfind("HTTP/1.1 502 Bad Gateway\r\n", 0) == 0);
}

TEST_CASE("static files: whole, Range, If-Modified-Since, HEAD, POST") {
  Fixture f;
  std::string r = roundtrip(f, "GET /static/file.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(r.find("Content-Type: text/plain\r\n") != std::string::npos);
  CHECK(r.find("Last-Modified: ") != std::string::npos);
  CHECK(body_of(r) == "0123456789abcdef");
  r = roundtrip(f, "GET /static/file.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=2-5\r\nConnection: close\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 206 Partial Content\r\n", 0) == 0);
  CHECK(r.find("Content-Range: bytes 2-5/16\r\n") != std::string::npos);
  CHECK(body_of(r) == "2345");
  r = roundtrip(f, "GET /static/file.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=20-\r\nConnection: close\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 416 ", 0) == 0);
  // If-Modified-Since at the file's own date: 304 (a date in the future is ignored).
  r = roundtrip(f, "GET /static/file.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  size_t lm = r.find("Last-Modified: ");
  REQUIRE(lm != std::string::npos);
  std::string date = r.substr(lm + 15, r.find("\r\n", lm) - lm - 15);
  r = roundtrip(f, "GET /static/file.txt HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: " + date +
                       "\r\nConnection: close\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 304 Not Modified\r\n", 0) == 0);
  CHECK(r.find("ETag: ") != std::string::npos);
  CHECK(body_of(r).empty());
  r = roundtrip(f,
               "GET /static/file.txt HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n"
               "Connection: close\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  r = roundtrip(f, "HEAD /static/file.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  CHECK(r.find("Content-Length: 16\r\n") != std::string::npos);
  CHECK(body_of(r).empty());
  r = roundtrip(f, "POST /static/file.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 405 ", 0) == 0);
}

TEST_CASE("slow clients are cut off: header, body and keep-alive timeouts") {
  Fixture f;
  uint64_t t0 = now_ms();
  int fd = f.connect();
  send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
  bool eof = false;
  std::string r = read_all(fd, 4000, &eof);
  ::close(fd);
  CHECK(r.rfind("HTTP/1.1 408 ", 0) == 0);
  CHECK(eof);
  CHECK(now_ms() - t0 < 3500);

  fd = f.connect();
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
  r = read_all(fd, 4000, &eof);
  ::close(fd);
  CHECK(r.rfind("HTTP/1.1 408 ", 0) == 0);
  CHECK(eof);

  fd = f.connect();
  send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  r = read_all(fd, 4000, &eof);  // the response, then the keep-alive timeout closes
  ::close(fd);
  CHECK(r.find("Hello, world!") != std::string::npos);
  CHECK(eof);
}

TEST_CASE("hundreds of idle keep-alive connections do not block service") {
  Fixture f;
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2048 && rl.rlim_max >= 2048) {
    rl.rlim_cur = 2048;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  std::vector<int> idle;
  for (int i = 0; i < 400; ++i) {
    int fd = f.connect();
    send_all(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    idle.push_back(fd);
  }
  for (int fd : idle) CHECK(read_until(fd, "Hello, world!", 3000).find("Hello, world!") != std::string::npos);
  std::string r = roundtrip(f, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  for (int fd : idle) ::close(fd);
}

TEST_CASE("the environ the worker gets") {
  Fixture f;
  std::string e = roundtrip(f,
                           "GET /some/environ?q=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nX-Dup: a\r\nX-Dup: b\r\n"
                           "Authorization: Basic eA==\r\nX_Under: no\r\nProxy: evil\r\nContent-Type: text/x\r\n"
                           "X-Pad: \t v  w \t \r\n"
                           "Connection: close\r\n\r\n");
  std::string env = body_of(e);
  CAPTURE(env);
  for (const char* want : {"REQUEST_METHOD=GET\n", "SCRIPT_NAME=\n", "PATH_INFO=/some/environ\n",
                           "QUERY_STRING=q=1\n", "REQUEST_URI=/some/environ?q=1\n", "SERVER_NAME=example.com\n",
                           "SERVER_PORT=8080\n", "SERVER_PROTOCOL=HTTP/1.1\n", "REMOTE_ADDR=127.0.0.1\n",
                           "HTTP_X_DUP=a, b\n", "CONTENT_TYPE=text/x\n", "mod_wsgi.process_group=g\n",
                           "HTTP_X_PAD=v  w\n",  // OWS stripped at both ends (RFC 9110 5.5)
                           "mod_wsgi.application_group=localhost:8080|\n",
                           "mod_wsgi.callable_object=application\n", "mod_wsgi.script_reloading=1\n",
                           "wsgid.request_start="}) {
    CAPTURE(std::string(want));
    CHECK(env.find(want) != std::string::npos);
  }
  CHECK(env.find("HTTP_AUTHORIZATION") == std::string::npos);  // WSGIPassAuthorization Off
  CHECK(env.find("HTTP_X_UNDER") == std::string::npos);
  CHECK(env.find("HTTP_PROXY") == std::string::npos);
  CHECK(env.find("HTTP_CONTENT_TYPE") == std::string::npos);
}

// Issue 11 point 4: redirects and rewrites before any alias, Header on every
// kind of response (always also on the front end's own), RequestHeader in the
// environ.
TEST_CASE("Redirect, RewriteRule, Header and RequestHeader on the wire") {
  Fixture f([](Settings* s) {
    auto d = [](const char* name, std::vector<std::string> args) {
      model::RewriteDirective r;
      r.name = name;
      r.args = std::move(args);
      return r;
    };
    s->config.server.rewrite = {
        d("RewriteEngine", {"On"}),
        d("RewriteCond", {"%{HTTPS}", "off"}),
        d("RewriteCond", {"%{REQUEST_URI}", "^/tls"}),
        d("RewriteRule", {"(.*)", "https://%{HTTP_HOST}%{REQUEST_URI}"}),
        d("RewriteRule", {"^/secret", "-", "[F]"}),
        d("RewriteRule", {"^/static/gone", "-", "[G]"}),
        d("Redirect", {"permanent", "/old", "/new"}),
        d("Header", {"always", "set", "Strict-Transport-Security", "max-age=63072000"}),
        d("Header", {"set", "X-Handler", "yes"}),
        d("RequestHeader", {"set", "X-Forwarded-Proto", "https"}),
    };
    model::Block loc;
    loc.path = "/static";
    loc.rewrite = {d("Header", {"set", "X-Static", "1"})};
    s->config.server.locations = {loc};
  });
  struct Case {
    const char* request_line;
    const char* status;
    std::vector<const char*> has;    // substrings of the response
    std::vector<const char*> hasnt;
  } cases[] = {
      {"GET /tls/x?q=1", "HTTP/1.1 302 Found\r\n",
       {"Location: https://a:81/tls/x?q=1\r\n", "Strict-Transport-Security: max-age=63072000\r\n"},
       {"X-Handler"}},
      {"GET /secret/file", "HTTP/1.1 403 Forbidden\r\n",
       {"Strict-Transport-Security: max-age=63072000\r\n"}, {"Location:", "Hello", "X-Handler"}},
      {"GET /static/gone", "HTTP/1.1 410 Gone\r\n", {"Strict-Transport-Security"}, {"X-Static"}},
      {"GET /old/a?b=1", "HTTP/1.1 301 Moved Permanently\r\n",
       {"Location: http://a:81/new/a?b=1\r\n"}, {}},
      {"GET /oldest", "HTTP/1.1 200 OK\r\n", {"X-Handler: yes\r\n"}, {"Location:"}},
      {"GET /some/environ", "HTTP/1.1 200 OK\r\n",
       {"Strict-Transport-Security: max-age=63072000\r\n", "X-Handler: yes\r\n",
        "HTTP_X_FORWARDED_PROTO=https\n"},
       {}},
      {"GET /static/file.txt", "HTTP/1.1 200 OK\r\n",
       {"Strict-Transport-Security: max-age=63072000\r\n", "X-Handler: yes\r\n",
        "X-Static: 1\r\n", "Content-Length: 16\r\n"},
       {}},
      {"GET /static/none.txt", "HTTP/1.1 404 Not Found\r\n",
       {"Strict-Transport-Security: max-age=63072000\r\n"}, {"X-Handler", "X-Static"}},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.request_line));
    std::string r = roundtrip(f, std::string(c.request_line) +
                                     " HTTP/1.1\r\nHost: a:81\r\nConnection: close\r\n\r\n");
    CAPTURE(r);
    CHECK(r.rfind(c.status, 0) == 0);
    for (const char* h : c.has) CHECK(r.find(h) != std::string::npos);
    for (const char* h : c.hasnt) CHECK(r.find(h) == std::string::npos);
  }
}
