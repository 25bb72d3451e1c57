// Requests sent ahead (upstream.h, protocol/PROTOCOL.md 5.7) through a real
// UpstreamPool on a libuv loop, against a scripted one-thread worker on a UNIX
// socket: a request goes ahead only while the worker is busy and only once the
// worker has shown that it marks the started page (a response with no STARTED
// frame before it); a worker that sends STARTED frames (no page) never gets
// one, and every answer reaches its own client either way.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/fd_passing.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/started_page.h"
#include "supervisor/frontend/upstream.h"

namespace wsgid::frontend {
namespace {

// One worker thread on one connection: answers each request after `busy_ms`,
// and counts the requests that were already in its socket when it finished
// the one before (sent ahead). With use_page it maps the started page, marks
// each request and claims it (a real worker's steps); without, it sends
// STARTED frames.
class ScriptedWorker {
 public:
  ScriptedWorker(const std::string& path, bool use_page, int busy_ms)
      : use_page_(use_page), busy_ms_(busy_ms) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof(a.sun_path) - 1);
    ::unlink(path.c_str());
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(::listen(listen_fd_, 8) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedWorker() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (conn_fd_ >= 0) ::shutdown(conn_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  int served() const { return served_.load(); }
  int found_ahead() const { return found_ahead_.load(); }

 private:
  void serve() {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    conn_fd_ = fd;
    std::string hello;
    proto::append_hello(&hello, static_cast<uint32_t>(getpid()));
    if (::write(fd, hello.data(), hello.size()) != static_cast<ssize_t>(hello.size())) return;
    proto::FrameReader reader;
    proto::StartedPage page;
    bool first = true;
    char buf[65536];
    while (!stop_) {
      proto::Frame f;
      auto r = reader.next(&f);
      if (r == proto::FrameReader::Result::kError) return;
      if (r == proto::FrameReader::Result::kNeedMore) {
        std::vector<int> fds;
        int flags = 0;
        ssize_t n = recv_with_fds(fd, buf, sizeof(buf), 0, &fds, &flags);
        if (n <= 0) return;
        for (int pfd : fds) {
          if (first && use_page_) {
            auto mapped = proto::StartedPage::map(pfd);
            if (mapped) page = std::move(*mapped);
          }
          ::close(pfd);
        }
        first = false;
        reader.feed(buf, static_cast<size_t>(n));
        continue;
      }
      if (f.type != proto::FrameType::kRequestEnd) continue;  // HELLO, the head: answered at its END
      const uint32_t id = f.request_id;
      if (page.valid()) {
        if (!page.claim(id)) {
          page.release_withdrawn(id);
          continue;
        }
        page.mark(id);
      }
      std::string out;
      if (!page.valid()) proto::append_frame(&out, proto::FrameType::kStarted, id, {});
      std::this_thread::sleep_for(std::chrono::milliseconds(busy_ms_));
      proto::ResponseHead head;
      head.status = 200;
      head.reason = "OK";
      proto::append_response_head(&out, id, head);
      proto::append_frame(&out, proto::FrameType::kResponseBody, id, std::to_string(id));
      proto::append_frame(&out, proto::FrameType::kResponseEnd, id, {});
      // A request already waiting, in the reader or in the socket: sent ahead.
      struct pollfd p = {fd, POLLIN, 0};
      if (reader.buffered() > 0 || ::poll(&p, 1, 0) > 0) found_ahead_.fetch_add(1);
      if (::write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) return;
      served_.fetch_add(1);
    }
  }

  bool use_page_;
  int busy_ms_;
  int listen_fd_ = -1;
  std::atomic<int> conn_fd_{-1};
  std::atomic<bool> stop_{false};
  std::atomic<int> served_{0}, found_ahead_{0};
  std::thread thread_;
};

// A request of the front end, as HttpConn drives one: its frames whole once
// acquired, sent at upstream_ready() unless they went ahead, released at its
// RESPONSE_END.
class Client : public UpstreamClient {
 public:
  Client(UpstreamPool* pool, uint32_t id) : pool_(pool), id_(id) {
    std::string head;
    proto::append_request_head(&frames_, id, {{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/"}});
    proto::append_frame(&frames_, proto::FrameType::kRequestEnd, id, {});
  }
  void start() {
    waiting_ = true;
    pool_->acquire(this);
  }
  void upstream_ready(UpstreamConn* conn) override {
    waiting_ = false;
    conn_ = conn;
    if (!conn->attaching_sent()) conn->send(frames_);
    pool_->fill_ahead(conn);
  }
  void upstream_failed(int status, std::string_view) override { failed_ = status; }
  void upstream_accepted() override {}
  void upstream_frame(const proto::Frame& f) override {
    if (f.request_id != id_) wrong_ = true;
    if (f.type == proto::FrameType::kResponseBody) body_ = std::string(f.payload);
    if (f.type == proto::FrameType::kResponseEnd) {
      done_ = true;
      UpstreamConn* c = conn_;
      conn_ = nullptr;
      c->release();
    }
  }
  void upstream_closed(bool, std::string_view) override { failed_ = 502; }
  void upstream_drained() override {}
  void upstream_flush() override {}
  uint32_t upstream_request_id() const override { return id_; }
  std::string_view upstream_whole_request() const override { return waiting_ ? frames_ : std::string_view(); }
  bool upstream_request_sent() const override { return conn_ != nullptr; }
  void upstream_lost_ahead(bool, std::string_view) override { failed_ = 502; }

  bool done_ = false, wrong_ = false;
  int failed_ = 0;
  std::string body_;

 private:
  UpstreamPool* pool_;
  uint32_t id_;
  std::string frames_;
  bool waiting_ = false;
  UpstreamConn* conn_ = nullptr;
};

void run_until(uv_loop_t* loop, const std::function<bool()>& done) {
  uv_timer_t t;
  uv_timer_init(loop, &t);
  auto deadline = uv_now(loop) + 10000;
  while (!done() && uv_now(loop) < deadline) {
    uv_timer_start(&t, [](uv_timer_t*) {}, 5, 0);
    uv_run(loop, UV_RUN_ONCE);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
}

// Two rounds of 5 requests at once on a one-thread group -> (requests the
// worker found waiting when it finished one, requests counted as sent ahead).
std::pair<int, uint64_t> two_rounds(bool use_page) {
  char dir[] = "/tmp/wsgid-ahead-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/g.sock";
  uv_loop_t loop;
  uv_loop_init(&loop);
  GroupCounters counters;
  int found = 0;
  {
    ScriptedWorker worker(path, use_page, 30);
    GroupEndpoint ep;
    ep.name = "ahead_test";
    ep.socket = path;
    ep.processes = 1;
    ep.threads = 1;
    UpstreamPool pool(&loop, ep);
    pool.set_counters(&counters);
    uint32_t next_id = 1;
    for (int round = 0; round < 2; ++round) {
      std::vector<std::unique_ptr<Client>> clients;
      for (int i = 0; i < 5; ++i) clients.push_back(std::make_unique<Client>(&pool, next_id++));
      for (auto& c : clients) c->start();
      run_until(&loop, [&] {
        for (auto& c : clients)
          if (!c->done_ && !c->failed_) return false;
        return true;
      });
      for (auto& c : clients) {
        CHECK(c->done_);
        CHECK(c->failed_ == 0);
        CHECK_FALSE(c->wrong_);
      }
      // Each answer is its own request's.
      for (size_t i = 0; i < clients.size(); ++i)
        CHECK(clients[i]->body_ == std::to_string(next_id - clients.size() + i));
    }
    pool.sweep(0, true);
    run_until(&loop, [] { return false; });  // let the closes finish (bounded)
    found = worker.found_ahead();
    CHECK(worker.served() == 10);
  }
  uv_loop_close(&loop);
  ::unlink(path.c_str());
  ::rmdir(dir);
  return {found, counters.sent_ahead};
}

TEST_CASE("requests go ahead on a busy connection once its worker shows it marks the started page") {
  auto [found, sent] = two_rounds(true);
  // The first response came with no STARTED: from the second request of the
  // first round on, the waiting ones go ahead.
  CHECK(sent >= 3);
  CHECK(found >= 3);
}

TEST_CASE("a worker that sends STARTED frames (no started page) never gets a request ahead") {
  auto [found, sent] = two_rounds(false);
  CHECK(sent == 0);
  CHECK(found == 0);
}

}  // namespace
}  // namespace wsgid::frontend
