// Upstream: the front end's client side of the request protocol (protocol/PROTOCOL.md
// 5), one UpstreamPool per process group.
//
// A pool owns the connections to its group's UNIX socket. A request asks for a
// connection with acquire(); it gets one at once from the idle list, or when a new
// connection is established, or when one is released (requests beyond the
// group's capacity, processes x threads, wait in FIFO order: a kept connection
// holds a worker thread, so opening more would only queue them in the kernel
// backlog where no released connection can reach them). Connection failures are
// retried as mod_wsgi does (ECONNREFUSED / EAGAIN: every 0.125 s for 2 s, then
// every 1 s, until connect-timeout); a missing socket or EACCES fails at once;
// "stopped" and "down" groups fail at once; a "replacing" group (every worker
// being replaced, one due back soon) is connected to as a running one: the
// request waits in the socket's backlog, bounded by HttpConn's deadline. Failures reach the client as
// upstream_failed(503, why). Idle connections are closed after kIdleCloseMs so
// that worker threads return to accept().
//
// Each connection learns its worker's pid from the worker's HELLO
// (protocol/PROTOCOL.md 4; SO_PEERCRED would name the master, which listens).
// A worker that sends the "connection closing" notice on one connection is
// draining and will send it on every other: the pool remembers its pid (at most
// kMaxDraining pids, each forgotten when no connection to it is left), closes
// its idle connections, and closes its busy ones when they are released instead
// of handing them out again. A worker whose connection ends without the notice
// (it died) is remembered the same way, and a request sent again after such a
// death waits kResendDelayMs first (acquire_after_death): when every worker of a
// group is killed at once, the others' deaths are seen before the request is
// sent to one of them.
//
// An UpstreamConn serves one request at a time for its client: send() appends
// frames and writes them (uv_try_write first); response frames arrive through
// UpstreamClient::upstream_frame(). With every place taken, up to kAheadDepth
// waiting requests held whole may be sent on a busy connection behind its
// current one (protocol/PROTOCOL.md 5.7, docs/decisions.md 60): each stays in
// the pool's queue until its turn comes (attach_ahead() at the current one's
// release), and is withdrawn through the started page's slots when another
// connection becomes free first, when its client goes away, when the worker
// drains, and before the connection closes; only on a connection whose worker
// marks the page (a response head came with no STARTED before it). In a group
// whose requests are quick (service_ns() below kQuickServiceNs), a request
// without a body is also held for a busy connection while a thread is free
// (held_; docs/decisions.md 61): sent ahead once whole, never taken back by a
// freed connection, and given to a free thread if no worker has claimed it
// within kHeldAheadMs. Backpressure both ways: the client stops
// reading its HTTP peer while write_pending() is above kHighWater and resumes on
// upstream_drained(); the conn stops reading the worker while the client asks it
// to (pause_reading / resume_reading), and reads it again when released. On a
// plain TCP client, a large body's bytes may skip the front end's memory
// (body_splice.h, docs/decisions.md 53): a response body frame's payload is
// spliced to the client (upstream_can_splice / upstream_splice), a request
// body's bytes arrive in this thread's pipe (send_spliced).
//
// With several event loops (loops.h) each loop has its own pool of a group and
// the group's capacity is shared through its GroupGate: a connection is opened
// only while the group's open connections, over every loop, are below
// processes x threads, so the queue stays in the front end, exact. Loops with
// waiting requests share the places in proportion to their demand (places held
// + requests waiting): a released connection stays with this loop's next
// request unless another loop with waiting requests holds fewer places for
// its demand, or none (the connection is closed here, and that loop woken to
// open one); a loop whose request waits while another keeps idle connections
// asks it to close one, which it does when it holds more places than the
// asker (GroupGate::should_yield). Within a loop, requests wait in FIFO order.
//
// Loop thread only (a GroupGate: any thread). Pools outlive every connection
// they made (the Server keeps them until exit); a conn frees itself after its
// handle closes.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/started_page.h"
#include "supervisor/frontend/metrics.h"
#include "supervisor/frontend/settings.h"

namespace wsgid::frontend {

class UpstreamConn;

// Implemented by the HTTP connection that owns a request.
class UpstreamClient {
 public:
  virtual ~UpstreamClient() = default;
  // A connection is attached to this client; send() may be called now.
  virtual void upstream_ready(UpstreamConn* conn) = 0;
  // No connection could be had: status (503) and the reason for the log.
  virtual void upstream_failed(int status, std::string_view why) = 0;
  // The worker has taken the connection (its HELLO arrived): from now on the
  // request is the worker's, queue-timeout no longer applies in the front end.
  virtual void upstream_accepted() = 0;
  // A frame of the response (kStarted, kResponseHead/Body/End, kError). The
  // payload view is valid during the call only.
  virtual void upstream_frame(const proto::Frame& frame) = 0;
  // The attached connection ended (EOF, reset, failed write, bad frame).
  // closing_notice: the worker sent kError(id 0, 503 "connection closing")
  // first: the request was not run. The conn is gone after this call.
  virtual void upstream_closed(bool closing_notice, std::string_view why) = 0;
  // The conn's write buffer fell below kLowWater.
  virtual void upstream_drained() = 0;
  // The frames of one read from the worker have all been delivered: a good
  // moment to write what they produced (one write for head + body + end).
  virtual void upstream_flush() = 0;
  // Response body bytes may now go from the worker's socket straight to the
  // client's (body_splice.h): a response body is streaming to a plain TCP
  // client with nothing queued for it.
  virtual bool upstream_can_splice() const { return false; }
  // Moves up to max bytes of the response body from the worker connection's
  // descriptor fd to the client (as if they had come in kResponseBody frames):
  // the count taken from fd, 0 when none could be now. May detach the
  // connection (a failed client write closes the client).
  virtual size_t upstream_splice(int fd, size_t max) {
    (void)fd;
    (void)max;
    return 0;
  }
  // Requests sent ahead (PROTOCOL.md 5.7). The request's id.
  virtual uint32_t upstream_request_id() const { return 0; }
  // The request's frames, whole (its REQUEST_END included), while it waits
  // and none of them has been sent: what the pool may send ahead on a busy
  // connection. Empty when the request is not whole yet or not held whole.
  virtual std::string_view upstream_whole_request() const { return {}; }
  // The attached request's frames have all been given to the connection
  // (nothing more goes to the worker for it but a CANCEL or a RESPONSE_SOCKET).
  virtual bool upstream_request_sent() const { return false; }
  // The request has no body: it is whole once its head is parsed, so the pool
  // may hold it for a busy connection although a thread is free (decision 61).
  virtual bool upstream_bodyless() const { return false; }
  // A request sent ahead whose worker claimed it lost its connection before
  // it was attached: as upstream_closed(), started telling whether the
  // application was called (the started page's mark).
  virtual void upstream_lost_ahead(bool started, std::string_view why) {
    (void)started;
    (void)why;
  }

 private:
  friend class UpstreamPool;
  friend class UpstreamConn;
  UpstreamConn* ahead_on_ = nullptr;  // the busy connection this waiting request went ahead on
  // Held for a busy connection although a thread was free (in the pool's
  // held list), since this loop time (ms); claimed: its worker has it.
  bool held_ = false;
  bool held_claimed_ = false;
  uint64_t held_since_ms_ = 0;
};

class UpstreamPool;

class UpstreamConn {
 public:
  static constexpr size_t kHighWater = 256 * 1024;
  static constexpr size_t kLowWater = 64 * 1024;

  // Appends bytes for the worker and writes what it can now.
  void send(std::string_view bytes);
  // The same for head then data (a frame header and its payload); with nothing
  // queued, data goes to the kernel from where it lies (flush(data)): only what
  // the kernel does not take is copied.
  void send(std::string_view head, std::string_view data);
  // A frame header, then n body bytes that body_splice::fill() put in this
  // thread's pipe: spliced on to the worker when nothing is queued before
  // them, else (and for what the socket does not take) queued as copies.
  void send_spliced(std::string_view head, size_t n);
  // Frames whose first byte carries descriptor fd (SCM_RIGHTS: a BODY_SOCKET
  // with the client's socket, PROTOCOL.md 5.5), when nothing is queued before
  // them: false when they could not go now (something queued, the socket
  // full, an error: the caller keeps the bytes), true when the descriptor
  // went (what the socket did not take of the bytes is queued).
  bool send_with_socket(std::string_view frames, int fd);
  size_t write_pending() const { return out_.size() + inflight_.size(); }
  void pause_reading();
  void resume_reading();
  // The worker's pid from its HELLO; 0 until then.
  pid_t worker_pid() const { return worker_pid_; }
  bool accepted() const { return hello_seen_; }
  // Whether the worker marked request_id in this connection's started page: its
  // application was called (protocol/PROTOCOL.md 5.2; a STARTED frame says the
  // same from a worker without the page). Read when the connection ended
  // before the response head, from upstream_closed().
  bool app_started(uint32_t request_id) const;
  // The request is complete both ways: back to the pool for the next request
  // (or to the request sent ahead on it).
  void release();
  // During upstream_ready(): the request's frames went ahead on this connection
  // already (PROTOCOL.md 5.7): nothing to send.
  bool attaching_sent() const { return attaching_sent_; }
  // Sends kCancel (when cancel; an ERROR frame with *refusal instead when given:
  // the front end refused the rest of the request body, PROTOCOL.md 5.2) and
  // closes the connection; the client is detached and gets no more calls.
  void abort(bool cancel, uint32_t request_id, const proto::ErrorMessage* refusal = nullptr);

 private:
  friend class UpstreamPool;
  enum class State { kConnecting, kIdle, kBusy, kClosing };
  UpstreamConn(UpstreamPool* pool, UpstreamClient* client);
  void start_connect();
  void on_connect(int status);
  // The first bytes on a new connection: HELLO, with the started page.
  void send_hello();
  // nread bytes arrived in the room reader_.prepare() gave (resume_reading).
  void on_read(ssize_t nread);
  void on_write_done(int status);
  // A write failed: a "connection closing" notice still unread counts as one.
  void write_failed(int err);
  // The connection ended without the closing notice: its worker is gone.
  void worker_died();
  // Writes out_, then extra (only with no write in flight), in one write; the
  // rest is queued (stream_write.h write_or_queue).
  void flush(std::string_view extra = {});
  void close(bool closing_notice, std::string_view why);
  void handle_frames();
  // The response body frame the reader holds only the start of, when it is
  // large and the client can take it by splice: its header consumed, the rest
  // of its payload is read past the reader (body_left_). False otherwise.
  bool start_body_passthrough();
  // Delivers the passed-through payload: what the reader holds, then what the
  // client splices from the socket. False while bytes of it are still to come.
  bool pass_body();
  void maybe_delete();
  // Withdraws the requests sent ahead that the worker has not claimed: they
  // wait again as before, to be sent elsewhere; ahead_ keeps the claimed ones.
  void withdraw_ahead();
  struct Ahead;
  // Withdraws one request sent ahead: true when the worker had not claimed it
  // (it waits again as before; counted), false when it had.
  bool take_back(const Ahead& a);
 public:
  static void pipe_closed(UpstreamConn* self);  // the pipe handle's close callback
 private:

  UpstreamPool* pool_;
  UpstreamClient* client_;
  State state_ = State::kConnecting;
  uv_pipe_t* pipe_ = nullptr;  // one per connect attempt; freed in its close callback
  uv_connect_t connect_req_;
  uv_write_t write_req_;
  uv_timer_t retry_timer_;
  bool timer_open_ = false;
  int handles_ = 0;  // handles being open or closing; deleted at 0 once closing
  uint64_t first_attempt_ms_ = 0;
  uint64_t idle_since_ms_ = 0;
  uint64_t busy_since_ns_ = 0;  // the current request's, uv_hrtime(): the pool's service time
  bool hello_seen_ = false;
  bool writing_ = false;
  bool reading_ = false;
  bool want_read_ = true;
  pid_t worker_pid_ = 0;
  // A response body frame's payload read past the reader (start_body_passthrough):
  // bytes still to come, its request id; while a large body streams by splice
  // (splicing_), reads take what completes the frame at the front instead of
  // kReadBufferSize, so that the next payload stays in the socket for the splice.
  uint32_t body_left_ = 0;
  uint32_t body_id_ = 0;
  bool splicing_ = false;
  // Requests sent ahead of the current one (PROTOCOL.md 5.7), oldest first:
  // each still in the pool's queue; client null once its client went away
  // after the worker claimed it (then the connection is aborted at its turn).
  struct Ahead {
    UpstreamClient* client;
    uint32_t id;
    int slot;
  };
  std::vector<Ahead> ahead_;
  bool attaching_sent_ = false;
  // Whether the worker marks the started page (learnt from its frames; a page
  // it could not map leaves it sending STARTED frames): requests go ahead
  // only on a connection whose worker does.
  enum class PageState { kUnknown, kUsed, kUnused };
  PageState page_state_ = PageState::kUnknown;
  // The current request's client went away with requests ahead of it that the
  // worker had claimed: its response frames (this id) are dropped, the next
  // id's first frame attaches the request ahead.
  uint32_t dropping_id_ = 0;
  std::string out_;
  std::string inflight_;
  proto::FrameReader reader_;
  proto::StartedPage page_;  // shared with the worker; invalid when none could be made
};

// One group's capacity, shared by its pools on several loops. Lock-free: each
// loop's pool publishes its idle connections and waiting requests in its own
// slot; open connections are one counter for the group. Process-wide, never
// freed (pools live as long).
class GroupGate {
 public:
  static constexpr int kSlots = 64;  // model::kMaxFrontendLoops
  using Post = std::function<void(std::function<void()>)>;
  // The gate of a group (name + socket); made on first use. Any thread.
  static GroupGate* of(const std::string& key);
  // pool (of loop `loop`) takes part; post(fn) runs fn on that loop's thread.
  void join(int loop, UpstreamPool* pool, Post post, size_t open_now);
  // Takes a place when fewer than capacity are open.
  bool try_open(size_t capacity);
  void release() { open_.fetch_sub(1, std::memory_order_seq_cst); }
  size_t open() const { return open_.load(std::memory_order_seq_cst); }
  // What loop's pool holds: connections counted against capacity (open),
  // idle ones, requests waiting (ignored from a pool no longer in the slot).
  void publish(int loop, const UpstreamPool* pool, size_t open, size_t idle, size_t waiting);
  // Whether another loop has requests waiting.
  bool others_waiting(int loop) const;
  // Whether `loop` (open places, waiting requests) should give a released
  // place to another loop with requests waiting: one that holds none; with
  // none waiting here, one that holds fewer places even after the move; else
  // one that holds fewer for its demand (held + waiting) even after the move.
  bool should_yield(int loop, size_t open, size_t waiting) const;
  // A place is free: the loop with waiting requests that holds the fewest
  // places for its demand tries to take it.
  void wake_neediest(int loop, size_t capacity);
  // A request of `loop` waits with every place taken: a loop with idle
  // connections closes one.
  void ask_idle(int loop);

 private:
  struct alignas(64) Slot {  // one loop's: no false sharing between loops
    std::atomic<UpstreamPool*> pool{nullptr};
    Post post;  // set before pool is first stored, never changed after
    std::atomic<size_t> open{0};
    std::atomic<size_t> idle{0};
    std::atomic<size_t> waiting{0};
  };
  // fn(index, slot) for each other loop's slot with a pool; fn returns false
  // to stop.
  template <class Fn>
  void each_other(int loop, Fn fn) const {
    int used = used_.load();
    for (int i = 0; i < used; ++i) {
      const Slot& s = slots_[static_cast<size_t>(i)];
      if (i != loop && s.pool.load() && !fn(i, s)) return;
    }
  }

  std::atomic<size_t> open_{0};
  std::atomic<int> used_{0};  // slots [0, used_) may hold a pool
  std::array<Slot, kSlots> slots_;
};

class UpstreamPool {
 public:
  static constexpr uint64_t kIdleCloseMs = 2000;
  static constexpr uint64_t kResendDelayMs = 100;
  static constexpr size_t kMaxDraining = 64;
  UpstreamPool(uv_loop_t* loop, GroupEndpoint endpoint);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // Calls client->upstream_ready() or ->upstream_failed(), now or later.
  void acquire(UpstreamClient* client);
  // acquire() after kResendDelayMs: for a request whose worker died.
  void acquire_after_death(UpstreamClient* client);
  // The client went away before upstream_ready(): forget it.
  void cancel(UpstreamClient* client);
  // Closes connections idle for longer than kIdleCloseMs (or all with force).
  void sweep(uint64_t now_ms, bool force = false);
  // New settings for the same group (timeouts, capacity, state). When the group
  // stops running (stopped, or no live worker: BACKOFF, FATAL), requests waiting
  // for a connection, and those sent on a connection no worker has accepted yet
  // (no HELLO: it sits in the socket's backlog), get 503 at once instead of
  // waiting for socket-timeout.
  void update(const GroupEndpoint& endpoint);
  const GroupEndpoint& endpoint() const { return ep_; }
  // The group's counters (metrics.h), set by the Server; null in tests that
  // make a pool alone. Not owned.
  GroupCounters* counters() const { return counters_; }
  void set_counters(GroupCounters* c) { counters_ = c; }
  // Called when a connection to a worker fails with EMFILE/ENFILE (the front
  // end at its descriptor limit): frees descriptors (Server closes idle client
  // connections) -> how many. The connect is then tried again at once when some
  // were freed, else retried as ECONNREFUSED is, until connect-timeout. One
  // hook per process; loop thread only.
  static void set_out_of_descriptors_hook(std::function<size_t()> hook);
  // "running" or "replacing": a connection made now is accepted by a worker soon.
  bool serving() const { return ep_.state == "running" || ep_.state == "replacing"; }
  uv_loop_t* loop() const { return loop_; }
  size_t open_count() const { return open_; }
  // The group's worker threads, processes x threads (at least 1).
  size_t capacity() const;
  // Requests holding a worker connection (connecting or busy) or waiting for
  // one: what HAProxy's agent weighs against capacity() (haproxy_agent.h).
  size_t load() const { return open_ - idle_.size() + waiters_.size() + held_.size(); }
  // Several loops: this pool (of loop `loop`) shares its group's capacity
  // through gate from now on.
  void share(GroupGate* gate, int loop, GroupGate::Post post);
  // Another loop's request waits (GroupGate::ask_idle): close an idle
  // connection when should_yield() says so.
  void shed_idle();
  size_t idle_count() const { return idle_.size(); }
  // Pids remembered as draining (a worker that sent the closing notice).
  bool is_draining(pid_t pid) const;
  // Requests sent ahead on busy connections (PROTOCOL.md 5.7): at most this
  // many per connection.
  static constexpr size_t kAheadDepth = 4;
  // A waiting request is whole (upstream_whole_request()): sent ahead on a
  // busy connection that can take it.
  void request_whole(UpstreamClient* client);
  // conn's current request is sent: waiting whole requests go ahead on it.
  void fill_ahead(UpstreamConn* conn);
  // Requests without a body are held for a busy connection, although a thread
  // is free, while the group's requests take less than this on average
  // (docs/decisions.md 61)...
  static constexpr uint64_t kQuickServiceNs = 250 * 1000;
  // ... and each waits there at most about this long for its worker to take it
  // (then it goes to a free thread).
  static constexpr uint64_t kHeldAheadMs = 2;
  // The group's service time as this pool sees it: from a request's handing
  // to a worker connection to its response's end, a moving average.
  uint64_t service_ns() const { return service_ns_; }
  // Tests: the service time below which requests are held (kQuickServiceNs).
  void set_quick_service_ns(uint64_t ns) { quick_service_ns_ = ns; }

  size_t draining_count() const { return draining_.size(); }

 private:
  friend class UpstreamConn;
  friend class GroupGate;
  void connect_for(UpstreamClient* client);
  // acquire() without holding the request for a busy connection.
  void acquire_now(UpstreamClient* client);
  // conn serves client from now on.
  void give(UpstreamConn* conn, UpstreamClient* client);
  // Held for a busy connection although a thread is free (decision 61):
  // whether client may be; no longer held; the held ones waiting for
  // kHeldAheadMs go where acquire_now() sends them (unless a worker claimed
  // them).
  bool may_hold(UpstreamClient* client) const;
  void unhold(UpstreamClient* client);
  void run_held();
  void close_held_timer();
  void conn_released(UpstreamConn* conn);
  void conn_gone(UpstreamConn* conn);
  void forget_unaccepted(UpstreamConn* conn);
  void mark_draining(pid_t pid);
  void worker_conn_added(pid_t pid);
  void worker_conn_gone(pid_t pid);
  void close_idle_to(pid_t pid);
  void serve_waiters();
  bool can_take_ahead(const UpstreamConn* c) const;
  bool send_ahead(UpstreamConn* c, UpstreamClient* w);
  // Takes w back from the connection it went ahead on: true when withdrawn
  // (w waits as before), false when the worker had claimed it.
  bool withdraw(UpstreamClient* w);
  // The first request ahead on conn becomes its current one.
  void attach_ahead(UpstreamConn* conn);
  void forget_waiter(UpstreamClient* w);
  // A place for a new connection: below capacity here, or in the group's gate.
  bool take_place();
  void give_place();
  void publish();

  uv_loop_t* loop_;
  GroupEndpoint ep_;
  GroupCounters* counters_ = nullptr;
  size_t open_ = 0;  // connections counted against capacity (connecting, idle, busy)
  std::vector<UpstreamConn*> idle_;
  std::vector<UpstreamConn*> connecting_;
  std::vector<UpstreamConn*> unaccepted_;  // connected, no HELLO from a worker yet
  std::deque<UpstreamClient*> waiters_;
  std::vector<UpstreamConn*> accepted_;  // open connections a worker took (HELLO seen)
  GroupGate* gate_ = nullptr;
  int loop_index_ = 0;
  std::vector<std::pair<pid_t, size_t>> conns_by_pid_;  // open conns whose HELLO named the pid
  std::deque<pid_t> draining_;                          // oldest first, at most kMaxDraining
  std::deque<std::pair<UpstreamClient*, uint64_t>> delayed_;  // acquire_after_death: client, due ms
  uv_timer_t* delay_timer_ = nullptr;  // created on first use; freed in its close callback
  std::vector<UpstreamClient*> held_;  // held for a busy connection (their held_ set), oldest first
  uv_timer_t* held_timer_ = nullptr;   // while any is held; the same life as delay_timer_
  uint64_t service_ns_ = 0;
  uint64_t quick_service_ns_ = kQuickServiceNs;
  void run_delayed();
  void close_delay_timer();
};

}  // namespace wsgid::frontend
