// Requests sent ahead (upstream.h, protocol/PROTOCOL.md 5.7) through a real
// UpstreamPool on a libuv loop, against a scripted one-thread worker on a UNIX
// socket: a request goes ahead only while the worker is busy and only once the
// worker has shown that it marks the started page (a response with no STARTED
// frame before it); a worker that sends STARTED frames (no page) never gets
// one, and every answer reaches its own client either way. In a group whose
// requests are quick, a request without a body goes ahead on a busy
// connection although a thread is free, and to the free thread when its
// worker has not claimed it within kHeldAheadMs (docs/decisions.md 61).
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <deque>
#include <set>
#include <tuple>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/fd_passing.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/started_page.h"
#include "supervisor/frontend/upstream.h"
#include "tests/unit/frontend/run_until.h"

namespace wsgid::frontend {
namespace {

// One worker thread on one connection: answers each request after `busy_ms`,
// and counts the requests that were already in its socket when it finished
// the one before (sent ahead). With use_page it maps the started page, marks
// each request and claims it (a real worker's steps); without, it sends
// STARTED frames.
class ScriptedWorker {
 public:
  // After claim_first(): before answering its next request, the worker waits
  // for the one behind it and claims it (a worker that has finished a request
  // and read the next while the front end has not yet read the answer), then
  // holds the answer until let_answer().
  ScriptedWorker(const std::string& path, bool use_page, int busy_ms)
      : use_page_(use_page), busy_ms_(busy_ms), owns_listener_(true) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof(a.sun_path) - 1);
    ::unlink(path.c_str());
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(::listen(listen_fd_, 8) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  // Another thread of the same worker: accepts on `first`'s socket.
  ScriptedWorker(const ScriptedWorker& first, int busy_ms)
      : use_page_(first.use_page_), busy_ms_(busy_ms), listen_fd_(first.listen_fd_) {
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedWorker() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (conn_fd_ >= 0) ::shutdown(conn_fd_, SHUT_RDWR);
    thread_.join();
    if (owns_listener_) ::close(listen_fd_);
  }
  // Request `id` takes `ms` to answer (the others busy_ms).
  void slow(uint32_t id, int ms) {
    slow_ms_ = ms;
    slow_id_ = id;
  }
  int served() const { return served_.load(); }
  int accepted() const { return accepted_.load(); }
  void claim_first() { claim_first_ = true; }
  bool claimed_next() const { return claimed_next_.load(); }
  void let_answer() { let_answer_ = true; }
  int found_ahead() const { return found_ahead_.load(); }

 private:
  // One connection after another, each served to its end.
  void serve() {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      conn_fd_ = fd;
      accepted_.fetch_add(1);
      reader_ = proto::FrameReader();
      page_ = proto::StartedPage();
      pending_.clear();
      serve_one(fd);
      ::close(fd);
      conn_fd_ = -1;
      if (stop_) return;
    }
  }

  void serve_one(int fd) {
    std::string hello;
    proto::append_hello(&hello, static_cast<uint32_t>(getpid()));
    if (::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(hello.size())) return;
    proto::FrameType type;
    uint32_t id = 0;
    while (!stop_ && next(fd, &type, &id)) {
      if (type != proto::FrameType::kRequestEnd) continue;  // HELLO, the head: answered at its END
      if (claimed_ids_.count(id)) {
        claimed_ids_.erase(id);
        page_.mark(id);
      } else if (page_.valid()) {
        if (!page_.claim(id)) {
          page_.release_withdrawn(id);
          continue;
        }
        page_.mark(id);
      }
      std::string out;
      if (!page_.valid()) proto::append_frame(&out, proto::FrameType::kStarted, id, {});
      std::this_thread::sleep_for(std::chrono::milliseconds(id == slow_id_ ? slow_ms_.load() : busy_ms_));
      proto::ResponseHead head;
      head.status = 200;
      head.reason = "OK";
      proto::append_response_head(&out, id, head);
      proto::append_frame(&out, proto::FrameType::kResponseBody, id, std::to_string(id));
      proto::append_frame(&out, proto::FrameType::kResponseEnd, id, {});
      // A request already waiting, in the reader or in the socket: sent ahead.
      struct pollfd p = {fd, POLLIN, 0};
      if (!pending_.empty() || reader_.buffered() > 0 || ::poll(&p, 1, 0) > 0) found_ahead_.fetch_add(1);
      if (claim_first_ && !claim_next(fd)) return;
      claim_first_ = false;
      if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) return;
      served_.fetch_add(1);
    }
  }

  // The next frame's type and request id (frames read ahead by claim_next()
  // first); false at the end of the stream.
  bool next(int fd, proto::FrameType* type, uint32_t* id) {
    if (!pending_.empty()) {
      std::tie(*type, *id) = pending_.front();
      pending_.pop_front();
      return true;
    }
    char buf[65536];
    for (;;) {
      proto::Frame f;
      auto r = reader_.next(&f);
      if (r == proto::FrameReader::Result::kError) return false;
      if (r == proto::FrameReader::Result::kFrame) {
        *type = f.type;
        *id = f.request_id;
        return true;
      }
      std::vector<int> fds;
      int flags = 0;
      ssize_t n = recv_with_fds(fd, buf, sizeof(buf), 0, &fds, &flags);
      if (n <= 0) return false;
      for (int pfd : fds) {
        if (!page_.valid() && use_page_) {
          auto mapped = proto::StartedPage::map(pfd);
          if (mapped) page_ = std::move(*mapped);
        }
        ::close(pfd);
      }
      reader_.feed(buf, static_cast<size_t>(n));
    }
  }

  // Reads on to the next request's head (kept for next()), claims it, and
  // waits for let_answer().
  bool claim_next(int fd) {
    std::deque<std::pair<proto::FrameType, uint32_t>> read;
    uint32_t claimed = 0;
    while (!claimed) {
      proto::FrameType type;
      uint32_t id;
      if (!next(fd, &type, &id)) return false;
      read.emplace_back(type, id);
      if (type == proto::FrameType::kRequestHead) claimed = id;
    }
    read.insert(read.end(), pending_.begin(), pending_.end());
    pending_.swap(read);
    if (!page_.claim(claimed)) return false;
    claimed_ids_.insert(claimed);
    claimed_next_ = true;
    while (!let_answer_ && !stop_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return true;
  }

  bool use_page_;
  int busy_ms_;
  bool owns_listener_ = false;
  std::atomic<uint32_t> slow_id_{0};
  std::atomic<int> slow_ms_{0};
  std::atomic<bool> claim_first_{false};
  std::atomic<int> accepted_{0};
  std::set<uint32_t> claimed_ids_;
  proto::FrameReader reader_;
  proto::StartedPage page_;
  std::deque<std::pair<proto::FrameType, uint32_t>> pending_;
  std::atomic<bool> claimed_next_{false}, let_answer_{false};
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
  // bodyless: a GET as HttpConn reports one (upstream_bodyless()); the
  // others stand for requests with a body (held whole all the same here).
  Client(UpstreamPool* pool, uint32_t id, bool bodyless = false) : pool_(pool), id_(id), bodyless_(bodyless) {
    std::string head;
    proto::append_request_head(&frames_, id, {{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/"}});
    proto::append_frame(&frames_, proto::FrameType::kRequestEnd, id, {});
  }
  // As HttpConn: acquire() at the head, then, the request parsed whole while
  // it waits, request_whole().
  void start() {
    waiting_ = true;
    pool_->acquire(this);
    if (waiting_) pool_->request_whole(this);
  }
  void upstream_ready(UpstreamConn* conn) override {
    waiting_ = false;
    conn_ = conn;
    if (!conn->attaching_sent()) conn->send(frames_);
    pool_->fill_ahead(conn);
  }
  void upstream_failed(int status, std::string_view) override { failed_ = status; }
  // The client went away: as HttpConn does, cancel while waiting, abort once attached.
  void leave() {
    if (waiting_) {
      waiting_ = false;
      pool_->cancel(this);
    } else if (UpstreamConn* c = conn_) {
      conn_ = nullptr;
      c->abort(true, id_);
    }
  }
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
  bool upstream_bodyless() const override { return bodyless_; }

  bool waiting() const { return waiting_; }
  bool done_ = false, wrong_ = false;
  int failed_ = 0;
  std::string body_;

 private:
  UpstreamPool* pool_;
  uint32_t id_;
  bool bodyless_;
  std::string frames_;
  bool waiting_ = false;
  UpstreamConn* conn_ = nullptr;
};

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

// A group of scripted worker threads on one socket in a temp dir, its pool on
// a loop of this thread, and the clients of the test; all torn down in order.
struct ScriptedGroup {
  char dir[32] = "/tmp/wsgid-ahead-XXXXXX";
  std::string path;
  uv_loop_t loop;
  GroupCounters counters;
  std::vector<std::unique_ptr<ScriptedWorker>> workers;
  std::unique_ptr<UpstreamPool> pool;
  std::vector<std::unique_ptr<Client>> clients;

  // threads workers (the first one listens, the others accept on its socket).
  explicit ScriptedGroup(int threads) {
    REQUIRE(::mkdtemp(dir) != nullptr);
    path = std::string(dir) + "/g.sock";
    uv_loop_init(&loop);
    workers.push_back(std::make_unique<ScriptedWorker>(path, true, 0));
    for (int i = 1; i < threads; ++i) workers.push_back(std::make_unique<ScriptedWorker>(*workers[0], 0));
    GroupEndpoint ep;
    ep.name = "ahead_test";
    ep.socket = path;
    ep.processes = 1;
    ep.threads = threads;
    pool = std::make_unique<UpstreamPool>(&loop, ep);
    pool->set_counters(&counters);
  }
  ~ScriptedGroup() {
    pool->sweep(0, true);
    run_until(&loop, [] { return false; });
    workers.clear();
    clients.clear();
    pool.reset();
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    ::unlink(path.c_str());
    ::rmdir(dir);
  }
  Client& add(bool bodyless = false) {
    clients.push_back(std::make_unique<Client>(pool.get(), static_cast<uint32_t>(clients.size() + 1), bodyless));
    return *clients.back();
  }
};

// A one-thread group with a worker that marks the page: one request to learn
// it, then a (current) and b (sent ahead), which the worker claims before a's
// answer reaches the front end; then leave(a or b) and the answer let go.
struct ClaimedAhead : ScriptedGroup {
  ScriptedWorker& worker;

  ClaimedAhead() : ScriptedGroup(1), worker(*workers[0]) {
    Client& w = add();
    w.start();
    run_until(&loop, [&] { return w.done_; });
    REQUIRE(w.done_);
    worker.claim_first();
    add().start();  // a
    add().start();  // b, waiting: sent ahead
    run_until(&loop, [&] { return worker.claimed_next(); });
    REQUIRE(worker.claimed_next());
    REQUIRE(counters.sent_ahead == 1);
  }
};

TEST_CASE("a request sent ahead whose client leaves after the worker claimed it: its connection ends at its turn") {
  ClaimedAhead t;
  Client& a = *t.clients[1];
  Client& b = *t.clients[2];
  b.leave();  // too late to withdraw: the worker has it
  CHECK(t.counters.withdrawn == 0);
  t.worker.let_answer();
  run_until(&t.loop, [&] { return a.done_; });
  CHECK(a.done_);
  CHECK(a.body_ == "2");
  CHECK_FALSE(b.done_);
  // b's turn: the connection is aborted (a CANCEL, then closed); the next
  // request gets a new one.
  Client& c = t.add();
  c.start();
  run_until(&t.loop, [&] { return c.done_ || c.failed_; });
  CHECK(c.done_);
  CHECK(c.body_ == "4");
  CHECK(t.worker.accepted() == 2);
}

TEST_CASE("the current request's client leaves after the worker claimed the one behind it: the connection carries on") {
  ClaimedAhead t;
  Client& a = *t.clients[1];
  Client& b = *t.clients[2];
  a.leave();  // the worker is done with a: its answer is dropped, b's is b's
  t.worker.let_answer();
  run_until(&t.loop, [&] { return b.done_ || b.failed_; });
  CHECK(b.done_);
  CHECK(b.body_ == "3");
  CHECK_FALSE(b.wrong_);
  CHECK_FALSE(a.done_);
  Client& c = t.add();
  c.start();
  run_until(&t.loop, [&] { return c.done_ || c.failed_; });
  CHECK(c.body_ == "4");
  CHECK(t.worker.accepted() == 1);  // the same connection throughout
}

// A group of one process with two threads (two scripted workers on one
// socket), both connections open and idle, each worker shown to mark the
// page; then request 3 keeps one connection busy for slow_ms.
struct OneBusyOneFree : ScriptedGroup {
  OneBusyOneFree(uint64_t quick_ns, int slow_ms) : ScriptedGroup(2) {
    for (auto& w : workers) w->slow(3, slow_ms);
    pool->set_quick_service_ns(quick_ns);
    Client& a = add();
    Client& b = add();
    a.start();
    b.start();
    run_until(&loop, [&] { return a.done_ && b.done_ && pool->idle_count() == 2; });
    REQUIRE(pool->idle_count() == 2);
    Client& busy = add();
    busy.start();
    REQUIRE(pool->idle_count() == 1);
  }
  ~OneBusyOneFree() {
    // Every request answered (every connection idle) before the teardown.
    run_until(&loop, [&] {
      for (auto& c : clients)
        if (!c->done_ && !c->failed_) return false;
      return true;
    });
  }
};

TEST_CASE("a quick group: a request with no body goes ahead on a busy connection although a thread is free") {
  OneBusyOneFree t(1000ull * 1000 * 1000, 50);
  Client& busy = *t.clients[2];
  Client& c = t.add(true);
  c.start();
  CHECK(t.counters.sent_ahead == 1);
  CHECK(t.pool->idle_count() == 1);  // the free thread was not woken for it
  run_until(&t.loop, [&] { return busy.done_ && (c.done_ || c.failed_); });
  CHECK(busy.body_ == "3");
  CHECK(c.done_);
  CHECK(c.body_ == "4");
  CHECK_FALSE(c.wrong_);
}

TEST_CASE("a request held behind a slow one goes to the free thread after kHeldAheadMs") {
  OneBusyOneFree t(1000ull * 1000 * 1000, 1000);
  Client& busy = *t.clients[2];
  Client& c = t.add(true);
  c.start();
  REQUIRE(t.counters.sent_ahead == 1);
  run_until(&t.loop, [&] { return c.done_ || c.failed_; });
  CHECK(c.done_);
  CHECK(c.body_ == "4");
  CHECK_FALSE(busy.done_);  // answered long before the request it was behind
  CHECK(t.counters.withdrawn == 1);
  run_until(&t.loop, [&] { return busy.done_; }, 5000);
  CHECK(busy.body_ == "3");
}

// A request that a free thread takes at once: not sent ahead, no connection left idle.
void taken_at_once(uint64_t quick_ns, bool bodyless) {
  OneBusyOneFree t(quick_ns, 50);
  Client& c = t.add(bodyless);
  c.start();
  CHECK(t.counters.sent_ahead == 0);
  CHECK(t.pool->idle_count() == 0);
  run_until(&t.loop, [&] { return c.done_ || c.failed_; });
  CHECK(c.body_ == "4");
}

TEST_CASE("a slow group, or a request with a body: a free thread takes it at once") {
  SUBCASE("the group's requests take longer than the bar") { taken_at_once(0, true); }
  SUBCASE("a request with a body") { taken_at_once(1000ull * 1000 * 1000, false); }
}

TEST_CASE("the service time the pool measures is the group's") {
  OneBusyOneFree t(0, 300);
  Client& busy = *t.clients[2];
  run_until(&t.loop, [&] { return busy.done_; }, 5000);
  REQUIRE(busy.done_);
  // 300 ms of the eight-request average: at least 300 / 8 ms.
  CHECK(t.pool->service_ns() >= 300ull * 1000 * 1000 / 8);
}

}  // namespace
}  // namespace wsgid::frontend
