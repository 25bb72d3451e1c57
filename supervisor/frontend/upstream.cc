#include "supervisor/frontend/upstream.h"

#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "common/fd_passing.h"
#include "common/log.h"
#include "protocol/messages.h"
#include "protocol/started_page.h"
#include "supervisor/frontend/body_splice.h"
#include "supervisor/frontend/io_buffer.h"
#include "supervisor/frontend/stream_write.h"

namespace wsgid::frontend {

namespace {

void free_pipe_cb(uv_handle_t* h);

}  // namespace

namespace {
// Each loop's Server sets its own (loops.h).
thread_local std::function<size_t()> g_out_of_descriptors;
}  // namespace

void UpstreamPool::set_out_of_descriptors_hook(std::function<size_t()> hook) {
  g_out_of_descriptors = std::move(hook);
}

// ---------------------------------------------------------------- UpstreamConn

UpstreamConn::UpstreamConn(UpstreamPool* pool, UpstreamClient* client)
    : pool_(pool), client_(client), busy_since_ns_(uv_hrtime()) {
  uv_timer_init(pool_->loop(), &retry_timer_);
  retry_timer_.data = this;
  first_attempt_ms_ = uv_now(pool_->loop());
}

void UpstreamConn::start_connect() {
  pipe_ = new uv_pipe_t;
  uv_pipe_init(pool_->loop(), pipe_, 0);
  pipe_->data = this;
  connect_req_.data = this;
  ++handles_;
  uv_pipe_connect(&connect_req_, pipe_, pool_->ep_.socket.c_str(),
                  [](uv_connect_t* req, int status) {
                    static_cast<UpstreamConn*>(req->data)->on_connect(status);
                  });
}

void UpstreamConn::on_connect(int status) {
  if (state_ == State::kClosing) return;
  if (status == 0) {
    pool_->connecting_.erase(std::find(pool_->connecting_.begin(), pool_->connecting_.end(), this));
    pool_->unaccepted_.push_back(this);
    send_hello();
    resume_reading();
    if (client_) {
      state_ = State::kBusy;
      client_->upstream_ready(this);
    } else {
      flush();
      state_ = State::kBusy;  // conn_released puts it on the idle list
      pool_->conn_released(this);
    }
    return;
  }
  // Failed attempt: this pipe is done.
  uv_close(reinterpret_cast<uv_handle_t*>(pipe_), free_pipe_cb);
  pipe_ = nullptr;
  const GroupEndpoint& ep = pool_->ep_;
  uint64_t elapsed = uv_now(pool_->loop()) - first_attempt_ms_;
  bool no_fd = status == UV_EMFILE || status == UV_ENFILE;
  size_t freed = no_fd && client_ && g_out_of_descriptors ? g_out_of_descriptors() : 0;
  bool retry = (status == UV_ECONNREFUSED || status == UV_EAGAIN || no_fd) &&
               elapsed < static_cast<uint64_t>(ep.connect_timeout * 1000);
  if (retry && client_) {
    uint64_t delay = freed > 0 ? 0 : elapsed < 2000 ? 125 : 1000;
    timer_open_ = true;
    uv_timer_start(&retry_timer_, [](uv_timer_t* t) {
      auto* self = static_cast<UpstreamConn*>(t->data);
      self->timer_open_ = false;
      self->start_connect();
    }, delay, 0);
    return;
  }
  std::string why = "connect(" + ep.socket + "): " + uv_strerror(status);
  if (status == UV_ECONNREFUSED || status == UV_EAGAIN || no_fd)
    why += " (gave up after connect-timeout " + fmt::format("{:g}", ep.connect_timeout) + " s)";
  UpstreamClient* c = client_;
  client_ = nullptr;
  close(false, why);
  if (c) c->upstream_failed(503, why);
}

void UpstreamConn::send(std::string_view bytes) {
  out_.append(bytes);
  flush();
}

void UpstreamConn::send(std::string_view head, std::string_view data) {
  out_.append(head);
  if (writing_ || out_.size() != head.size() || !pipe_ || state_ == State::kClosing) {
    out_.append(data);
    flush();
    return;
  }
  flush(data);
}

bool UpstreamConn::send_with_socket(std::string_view frames, int fd) {
  uv_os_fd_t sock;
  if (writing_ || !out_.empty() || !inflight_.empty() || !pipe_ || state_ == State::kClosing ||
      uv_fileno(reinterpret_cast<uv_handle_t*>(pipe_), &sock) != 0)
    return false;
  const ssize_t n = send_with_fds(sock, frames, {fd});
  if (n < 0) return false;  // EAGAIN, or an error the next write reports
  out_.append(frames.substr(static_cast<size_t>(n)));
  flush();
  return true;
}

void UpstreamConn::send_spliced(std::string_view head, size_t n) {
  uv_os_fd_t fd = -1;
  const bool direct = !writing_ && out_.empty() && pipe_ && state_ != State::kClosing &&
                      uv_fileno(reinterpret_cast<uv_handle_t*>(pipe_), &fd) == 0;
  out_.append(head);
  flush();  // the header; queued when the socket does not take it all
  if (!direct || writing_ || state_ == State::kClosing) fd = -1;  // the bytes follow through out_
  if (state_ == State::kClosing) {
    std::string dropped;
    body_splice::drain(-1, n, &dropped);
    return;
  }
  const int err = body_splice::drain(fd, n, &out_);
  if (err != 0) {
    write_failed(-err);
    return;
  }
  flush();
}

void UpstreamConn::flush(std::string_view extra) {
  if (writing_ || (out_.empty() && extra.empty()) || !pipe_ || state_ == State::kClosing) return;
  write_req_.data = this;
  int err = 0;
  switch (write_or_queue(reinterpret_cast<uv_stream_t*>(pipe_), &out_, extra, {}, &inflight_, &write_req_,
                         [](uv_write_t* req, int status) {
                           static_cast<UpstreamConn*>(req->data)->on_write_done(status);
                         },
                         &err)) {
    case WriteResult::kDone:
      break;
    case WriteResult::kQueued:
      writing_ = true;
      break;
    case WriteResult::kError:
      inflight_.clear();
      write_failed(err);
      break;
  }
}

void UpstreamConn::on_write_done(int status) {
  writing_ = false;
  inflight_.clear();
  if (state_ == State::kClosing) {
    maybe_delete();
    return;
  }
  if (status < 0) {
    write_failed(status);
    return;
  }
  flush();
  if (client_ && write_pending() < kLowWater) client_->upstream_drained();
}

void UpstreamConn::write_failed(int err) {
  // A worker closes a kept connection between requests after its "connection
  // closing" notice (kError, request id 0). A request written to the connection
  // just then fails with EPIPE while the notice still waits, unread, in the
  // socket buffer: read it now. With the notice the request was not run and may
  // be sent again (upstream_closed with notice); without it, the worker died.
  std::string why = std::string("write to worker: ") + uv_strerror(err);
  uv_os_fd_t fd;
  if (pipe_ && state_ != State::kClosing &&
      uv_fileno(reinterpret_cast<uv_handle_t*>(pipe_), &fd) == 0) {
    char buf[4096];
    for (int i = 0; i < 16; ++i) {
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      reader_.feed(buf, static_cast<size_t>(n));
    }
    proto::Frame f;
    while (reader_.next(&f) == proto::FrameReader::Result::kFrame) {
      if (f.type != proto::FrameType::kError || f.request_id != 0) continue;
      auto e = proto::decode_error(f.payload);
      if (e && e->code == proto::ErrorCode::kUnavailable) {
        close(true, "worker: " + e->message);
        return;
      }
    }
  }
  why += hello_seen_ ? fmt::format(" (worker pid {}, no closing notice)", worker_pid_)
                     : std::string(" (no worker had taken the connection)");
  worker_died();
  close(false, why);
}

void UpstreamConn::worker_died() {
  // Its other connections lead to a dead process too (or one about to exit):
  // hand none of them out again.
  if (!hello_seen_ || worker_pid_ <= 0 || state_ == State::kClosing) return;
  pool_->mark_draining(worker_pid_);
  pool_->close_idle_to(worker_pid_);
}

void UpstreamConn::pause_reading() {
  want_read_ = false;
  if (reading_ && pipe_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(pipe_));
    reading_ = false;
  }
}

void UpstreamConn::resume_reading() {
  want_read_ = true;
  if (reading_ || !pipe_ || state_ == State::kClosing) return;
  reading_ = true;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(pipe_),
      // Straight into the frame reader (not io_buffer's shared buffer): a
      // response body is not copied once more before it is parsed.
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* self = static_cast<UpstreamConn*>(h->data);
        // While a large body streams: the rest of the frame at the front (a
        // frame mostly read already, a header), so that the next frame's
        // payload stays in the socket for the splice.
        size_t room = kReadBufferSize;
        if (self->splicing_) {
          const size_t w = self->body_left_ > 0 ? proto::kHeaderSize : self->reader_.wanted();
          if (w > 0 && w < room) room = w;
        }
        buf->base = self->reader_.prepare(room);
        buf->len = room;
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        (void)buf;  // the room the allocator above took from reader_
        static_cast<UpstreamConn*>(s->data)->on_read(n);
      });
}

void UpstreamConn::on_read(ssize_t nread) {
  if (nread == 0) return;
  if (nread < 0) {
    worker_died();
    close(false, nread == UV_EOF ? std::string("worker closed the connection")
                                 : std::string("read from worker: ") + uv_strerror(static_cast<int>(nread)));
    return;
  }
  reader_.commit(static_cast<size_t>(nread));
  do {
    if (!pass_body()) break;
    handle_frames();
  } while (start_body_passthrough());
  if (client_) client_->upstream_flush();
}

// A response body frame with at least body_splice::kMinBytes payload bytes
// still in the socket is spliced to the client; while one streams, a read takes
// what completes the frame at the front (FrameReader::wanted(): the next
// frame's header, the rest of a frame mostly read).
bool UpstreamConn::start_body_passthrough() {
  if (body_left_ > 0 || state_ != State::kBusy || !client_ || !hello_seen_ || !want_read_) return false;
  proto::FrameHeader h;
  size_t have = 0;
  if (!reader_.partial(&h, &have)) return false;
  if (h.type != proto::FrameType::kResponseBody || h.length < body_splice::kMinBytes) {
    splicing_ = false;  // a small frame: read it whole, not a header's size at a time
    return false;
  }
  if (h.length - have < body_splice::kMinBytes) return false;  // mostly read already: finish reading it
  if (!pipe_ || !client_->upstream_can_splice() || !body_splice::available()) {
    splicing_ = false;
    return false;
  }
  reader_.skip_header();
  body_left_ = h.length;
  body_id_ = h.request_id;
  splicing_ = true;
  return true;
}

bool UpstreamConn::pass_body() {
  while (body_left_ > 0) {
    if (state_ != State::kBusy || !client_) return false;
    std::string_view piece = reader_.take(body_left_);
    if (!piece.empty()) {
      body_left_ -= static_cast<uint32_t>(piece.size());
      proto::Frame f;
      f.type = proto::FrameType::kResponseBody;
      f.request_id = body_id_;
      f.payload = piece;
      client_->upstream_frame(f);
      continue;
    }
    uv_os_fd_t fd;
    if (!want_read_ || !pipe_ || !client_->upstream_can_splice() ||
        uv_fileno(reinterpret_cast<uv_handle_t*>(pipe_), &fd) != 0) {
      splicing_ = false;  // the rest comes through reads, copied
      return false;
    }
    const size_t n = client_->upstream_splice(fd, body_left_);
    if (n == 0) return false;  // none waiting now; libuv's next read is ours
    body_left_ -= static_cast<uint32_t>(n);
  }
  return state_ != State::kClosing;
}

void UpstreamConn::handle_frames() {
  proto::Frame f;
  while (state_ != State::kClosing) {
    auto r = reader_.next(&f);
    if (r == proto::FrameReader::Result::kNeedMore) return;
    if (r == proto::FrameReader::Result::kError) {
      close(false, "bad frame from worker: " + reader_.error());
      return;
    }
    if (!hello_seen_) {
      if (f.type != proto::FrameType::kHello) {
        close(false, "worker sent " + std::string(proto::type_name(f.type)) + " before HELLO");
        return;
      }
      auto v = proto::decode_hello(f.payload);
      if (!v) {
        close(false, "bad HELLO from worker: " + v.status().message());
        return;
      }
      hello_seen_ = true;
      worker_pid_ = static_cast<pid_t>(v->pid);
      pool_->forget_unaccepted(this);
      pool_->worker_conn_added(worker_pid_);
      pool_->accepted_.push_back(this);
      if (state_ == State::kIdle && pool_->is_draining(worker_pid_)) {
        close(false, "its worker is draining");
        return;
      }
      if (client_ && state_ == State::kBusy) client_->upstream_accepted();
      continue;
    }
    if (f.type == proto::FrameType::kError && f.request_id == 0) {
      auto e = proto::decode_error(f.payload);
      bool notice = e && e->code == proto::ErrorCode::kUnavailable;
      close(notice, e ? "worker: " + e->message : "bad ERROR frame from worker");
      return;
    }
    if (!client_ && state_ == State::kBusy && dropping_id_ != 0) {
      if (f.request_id == dropping_id_) continue;  // the response of a request whose client went away
      // The next request's first frame: the request sent ahead is current now.
      dropping_id_ = 0;
      pool_->attach_ahead(this);
      if (state_ == State::kClosing) return;
      if (!client_ && f.request_id == dropping_id_) continue;  // that one's client went away too
    }
    if (state_ != State::kBusy || !client_) {
      close(false, "worker sent " + std::string(proto::type_name(f.type)) + " with no request");
      return;
    }
    // Whether the worker uses the started page (5.2), learnt once: a STARTED
    // says it does not (it could not map the page), a response head before
    // any STARTED says it does (the application ran, so it marked the page).
    // Only then are requests sent ahead on this connection (5.7).
    if (page_state_ == PageState::kUnknown) {
      if (f.type == proto::FrameType::kStarted) page_state_ = PageState::kUnused;
      else if (f.type == proto::FrameType::kResponseHead) page_state_ = PageState::kUsed;
    }
    // A large body frame read whole: its successors are likely large too, so
    // the next reads take their headers only and their payloads are spliced.
    if (f.type != proto::FrameType::kResponseBody) splicing_ = false;
    else if (f.payload.size() >= body_splice::kMinBytes && client_->upstream_can_splice()) splicing_ = true;
    client_->upstream_frame(f);
  }
}

void UpstreamConn::send_hello() {
  std::string hello;
  proto::append_hello(&hello);
  // The HELLO carries the connection's started page (protocol/started_page.h):
  // sent from here, before libuv writes anything, so that the descriptor rides
  // on the connection's first bytes. Without a page (memfd_create failed, the
  // descriptor limit), a plain HELLO: the worker then sends STARTED frames.
  auto page = proto::StartedPage::create();
  if (page && send_with_socket(hello, page->fd())) {
    page->close_fd();
    page_ = std::move(*page);
    return;
  }
  out_.append(hello);
}

bool UpstreamConn::app_started(uint32_t request_id) const {
  return page_.valid() && page_.marked(request_id);
}

void UpstreamConn::release() {
  const uint32_t id = client_ ? client_->upstream_request_id() : 0;
  client_ = nullptr;
  // This request no longer reads as started if its id comes back after the
  // ids wrap; a request sent ahead that the worker has marked meanwhile stays.
  if (page_.valid()) page_.clear(id);
  splicing_ = false;
  if (body_left_ > 0 && state_ != State::kClosing) {
    // Payload bytes of a frame still to come: not a frame boundary, never reused.
    close(false, "released within a response body frame");
    return;
  }
  // The response's end may have come in the read whose body paused reading
  // (the client was slow): an idle connection is read (a worker's closing
  // notice, its end), and the next request's response must be.
  resume_reading();
  if (state_ == State::kClosing) return;
  pool_->conn_released(this);
}

void UpstreamConn::abort(bool cancel, uint32_t request_id, const proto::ErrorMessage* refusal) {
  client_ = nullptr;
  if (state_ == State::kClosing) return;
  withdraw_ahead();
  if (!ahead_.empty() && body_left_ == 0) {
    // The worker claimed a request sent ahead: it is done with this one, whose
    // response frames are dropped (read again if this client had paused it);
    // the connection carries on. (Within a body frame passed through, the
    // connection closes: the claimed request is then lost with it, 5.3.)
    dropping_id_ = request_id;
    splicing_ = false;
    resume_reading();
    return;
  }
  if (cancel && pipe_ && !writing_ && out_.empty()) {
    std::string f;
    if (refusal) proto::append_error(&f, request_id, *refusal);
    else proto::append_frame(&f, proto::FrameType::kCancel, request_id, {});
    uv_buf_t b = uv_buf_init(f.data(), static_cast<unsigned>(f.size()));
    uv_try_write(reinterpret_cast<uv_stream_t*>(pipe_), &b, 1);
  }
  close(false, "aborted");
}

void UpstreamConn::close(bool closing_notice, std::string_view why) {
  if (state_ == State::kClosing) return;
  State was = state_;
  state_ = State::kClosing;
  if (was == State::kConnecting) {
    auto& v = pool_->connecting_;
    auto it = std::find(v.begin(), v.end(), this);
    if (it != v.end()) v.erase(it);
  }
  if (!hello_seen_) pool_->forget_unaccepted(this);
  std::erase(pool_->accepted_, this);
  // Requests sent ahead: those the worker never claimed wait again, to be sent
  // elsewhere (conn_gone() below may); a claimed one is lost with the connection.
  withdraw_ahead();
  std::vector<Ahead> lost;
  lost.swap(ahead_);
  for (const Ahead& a : lost)
    if (a.client) {
      pool_->forget_waiter(a.client);
      a.client->ahead_on_ = nullptr;
    }
  if (pipe_) {
    uv_close(reinterpret_cast<uv_handle_t*>(pipe_), free_pipe_cb);
    pipe_ = nullptr;
  }
  ++handles_;
  uv_close(reinterpret_cast<uv_handle_t*>(&retry_timer_), [](uv_handle_t* h) {
    auto* self = static_cast<UpstreamConn*>(h->data);
    --self->handles_;
    self->maybe_delete();
  });
  pool_->conn_gone(this);
  // A draining worker closes every connection it keeps: the others to the same
  // process would only send the same notice to the next request.
  if (closing_notice && worker_pid_ > 0) {
    pool_->mark_draining(worker_pid_);
    pool_->close_idle_to(worker_pid_);
  }
  if (hello_seen_) pool_->worker_conn_gone(worker_pid_);
  if (UpstreamClient* c = client_) {
    client_ = nullptr;
    c->upstream_closed(closing_notice, why);
  }
  for (const Ahead& a : lost)
    if (a.client) a.client->upstream_lost_ahead(page_.valid() && page_.marked(a.id), why);
}

bool UpstreamConn::take_back(const Ahead& a) {
  if (!a.client || !page_.withdraw(a.slot, a.id)) return false;
  a.client->ahead_on_ = nullptr;
  if (GroupCounters* g = pool_->counters()) ++g->withdrawn;
  return true;
}

void UpstreamConn::withdraw_ahead() {
  std::erase_if(ahead_, [this](const Ahead& a) { return take_back(a); });
}

void UpstreamConn::maybe_delete() {
  if (state_ == State::kClosing && handles_ == 0 && !writing_) delete this;
}

namespace {

void free_pipe_cb(uv_handle_t* h) {
  auto* self = static_cast<UpstreamConn*>(h->data);
  delete reinterpret_cast<uv_pipe_t*>(h);
  UpstreamConn::pipe_closed(self);
}

}  // namespace

void UpstreamConn::pipe_closed(UpstreamConn* self) {
  --self->handles_;
  self->maybe_delete();
}

// ---------------------------------------------------------------- GroupGate

GroupGate* GroupGate::of(const std::string& key) {
  static std::mutex mu;
  static auto* gates = new std::map<std::string, std::unique_ptr<GroupGate>>;  // never freed
  std::lock_guard<std::mutex> lock(mu);
  auto& g = (*gates)[key];
  if (!g) g = std::make_unique<GroupGate>();
  return g.get();
}

void GroupGate::join(int loop, UpstreamPool* pool, Post post, size_t open_now) {
  Slot& s = slots_[static_cast<size_t>(loop)];
  // A group removed and added again joins its loop's slot once more: the
  // slot's post (to that loop, the same function) is kept, as other loops may
  // be calling it; only the pool changes.
  if (!s.pool.load()) s.post = std::move(post);
  open_.fetch_add(open_now);
  s.pool.store(pool);
  int used = used_.load();
  while (used < loop + 1 && !used_.compare_exchange_weak(used, loop + 1)) {
  }
}

bool GroupGate::try_open(size_t capacity) {
  size_t n = open_.load();
  while (n < capacity)
    if (open_.compare_exchange_weak(n, n + 1)) return true;
  return false;
}

void GroupGate::publish(int loop, const UpstreamPool* pool, size_t open, size_t idle, size_t waiting) {
  Slot& s = slots_[static_cast<size_t>(loop)];
  if (s.pool.load() != pool) return;  // a pool a reload retired: its slot is its successor's
  s.open.store(open);
  s.idle.store(idle);
  s.waiting.store(waiting);
}

bool GroupGate::others_waiting(int loop) const {
  bool any = false;
  each_other(loop, [&](int, const Slot& s) { return !(any = s.waiting.load() > 0); });
  return any;
}

bool GroupGate::should_yield(int loop, size_t open, size_t waiting) const {
  if (open == 0) return false;
  size_t demand = open + waiting;
  bool yield = false;
  each_other(loop, [&](int, const Slot& s) {
    size_t w = s.waiting.load(), o = s.open.load();
    if (w == 0) return true;
    // No loop with requests waiting goes without a place. Nothing waits here
    // (the place would go idle): give it only to a loop holding fewer places
    // even after the move; a loop with idle moments keeps its places, as
    // moving one costs a connection to the worker. Both have requests
    // waiting: places per unit of demand (held + waiting), compared without
    // division; after the move the other loop must still hold no more for its
    // demand than this one.
    yield = o == 0 || (waiting == 0 && o + 1 < open) ||
            (waiting > 0 && (o + 1) * demand <= (open - 1) * (o + w));
    return !yield;
  });
  return yield;
}

void GroupGate::wake_neediest(int loop, size_t capacity) {
  if (open() >= capacity) return;
  int best = -1;
  size_t best_open = 0, best_demand = 1;
  each_other(loop, [&](int i, const Slot& s) {
    size_t w = s.waiting.load(), o = s.open.load();
    if (w > 0 && (best < 0 || o * best_demand < best_open * (o + w))) {
      best = i;
      best_open = o;
      best_demand = o + w;
    }
    return true;
  });
  if (best < 0) return;
  const Slot& s = slots_[static_cast<size_t>(best)];
  UpstreamPool* pool = s.pool.load();
  s.post([pool] { pool->serve_waiters(); });
}

void GroupGate::ask_idle(int loop) {
  int best = -1;
  size_t most = 0;
  each_other(loop, [&](int i, const Slot& s) {
    if (size_t idle = s.idle.load(); idle > most) {
      best = i;
      most = idle;
    }
    return true;
  });
  if (best < 0) return;
  const Slot& s = slots_[static_cast<size_t>(best)];
  UpstreamPool* pool = s.pool.load();
  s.post([pool] { pool->shed_idle(); });
}

// ---------------------------------------------------------------- UpstreamPool

UpstreamPool::UpstreamPool(uv_loop_t* loop, GroupEndpoint endpoint)
    : loop_(loop), ep_(std::move(endpoint)) {}

UpstreamPool::~UpstreamPool() {
  close_delay_timer();
  close_held_timer();
}

// The timer lives only while a request waits in delayed_, so that a pool holds
// no libuv handle otherwise (a loop can close once its connections are gone).
namespace {

// Closes and frees a pool's timer made on first use; null afterwards.
void close_timer(uv_timer_t** t) {
  if (!*t) return;
  (*t)->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(*t), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  *t = nullptr;
}

}  // namespace

void UpstreamPool::close_delay_timer() { close_timer(&delay_timer_); }

void UpstreamPool::acquire_after_death(UpstreamClient* client) {
  if (!delay_timer_) {
    delay_timer_ = new uv_timer_t;
    uv_timer_init(loop_, delay_timer_);
  }
  delayed_.emplace_back(client, uv_now(loop_) + kResendDelayMs);
  if (delayed_.size() == 1) {
    delay_timer_->data = this;
    uv_timer_start(delay_timer_, [](uv_timer_t* t) {
      if (t->data) static_cast<UpstreamPool*>(t->data)->run_delayed();
    }, kResendDelayMs, 0);
  }
}

void UpstreamPool::run_delayed() {
  uint64_t now = uv_now(loop_);
  while (!delayed_.empty() && delayed_.front().second <= now) {
    UpstreamClient* c = delayed_.front().first;
    delayed_.pop_front();
    acquire(c);
  }
  if (delayed_.empty()) {
    close_delay_timer();
    return;
  }
  if (!delay_timer_) return;  // an acquire() above ended in a cancel() that closed it
  uv_timer_start(delay_timer_, [](uv_timer_t* t) {
    if (t->data) static_cast<UpstreamPool*>(t->data)->run_delayed();
  }, delayed_.front().second - now, 0);
}

size_t UpstreamPool::capacity() const {
  long c = static_cast<long>(std::max(1, ep_.processes)) * std::max(1, ep_.threads);
  return static_cast<size_t>(c);
}

void UpstreamPool::acquire(UpstreamClient* client) {
  if (serving() && may_hold(client)) {
    // Sent ahead on a busy connection once its head is whole (request_whole):
    // its thread takes it without sleeping and being woken (decision 61).
    client->held_ = true;
    client->held_claimed_ = false;
    client->held_since_ms_ = uv_now(loop_);
    held_.push_back(client);
    if (!held_timer_) {
      held_timer_ = new uv_timer_t;
      uv_timer_init(loop_, held_timer_);
      held_timer_->data = this;
      uv_timer_start(held_timer_, [](uv_timer_t* t) {
        auto* pool = static_cast<UpstreamPool*>(t->data);
        if (!pool) return;
        pool->run_held();
        if (pool->held_.empty()) pool->close_held_timer();
      }, kHeldAheadMs, kHeldAheadMs);
    }
    return;
  }
  acquire_now(client);
}

void UpstreamPool::acquire_now(UpstreamClient* client) {
  if (!serving()) {
    client->upstream_failed(503, "group '" + ep_.name + "' is " + ep_.state);
    return;
  }
  while (!idle_.empty() && is_draining(idle_.back()->worker_pid_))
    idle_.back()->close(false, "its worker is draining");
  if (!idle_.empty()) {
    UpstreamConn* c = idle_.back();
    idle_.pop_back();
    give(c, client);
    return;
  }
  if (take_place()) {
    connect_for(client);
    return;
  }
  waiters_.push_back(client);
  publish();  // then look for idle connections elsewhere (GroupGate: in this order)
  if (gate_) gate_->ask_idle(loop_index_);
  request_whole(client);  // a request sent again is whole already
}

void UpstreamPool::give(UpstreamConn* conn, UpstreamClient* client) {
  conn->state_ = UpstreamConn::State::kBusy;
  conn->client_ = client;
  conn->busy_since_ns_ = uv_hrtime();
  client->upstream_ready(conn);
}

bool UpstreamPool::may_hold(UpstreamClient* client) const {
  if (idle_.empty() || service_ns_ >= quick_service_ns_ || !client->upstream_bodyless()) return false;
  for (const UpstreamConn* c : accepted_)
    if (can_take_ahead(c)) return true;
  return false;
}

void UpstreamPool::unhold(UpstreamClient* client) {
  if (!client->held_) return;
  client->held_ = false;
  std::erase(held_, client);
}

void UpstreamPool::run_held() {
  const uint64_t now = uv_now(loop_);
  std::vector<UpstreamClient*> due;
  for (UpstreamClient* w : held_)
    if (!w->held_claimed_ && now - w->held_since_ms_ >= kHeldAheadMs) due.push_back(w);
  for (UpstreamClient* w : due) {
    if (!w->held_) continue;  // gone meanwhile (a callback of one before it)
    if (w->ahead_on_ && !withdraw(w)) {
      w->held_claimed_ = true;  // its worker has it: answered there
      continue;
    }
    unhold(w);
    acquire_now(w);
  }
}

void UpstreamPool::close_held_timer() { close_timer(&held_timer_); }

bool UpstreamPool::can_take_ahead(const UpstreamConn* c) const {
  return c->state_ == UpstreamConn::State::kBusy && c->client_ && c->dropping_id_ == 0 &&
         c->page_.valid() && c->page_state_ == UpstreamConn::PageState::kUsed &&
         c->body_left_ == 0 && !c->splicing_ && c->ahead_.size() < kAheadDepth && !is_draining(c->worker_pid_) &&
         c->client_->upstream_request_sent();
}

bool UpstreamPool::send_ahead(UpstreamConn* c, UpstreamClient* w) {
  std::string_view bytes = w->upstream_whole_request();
  if (bytes.empty()) return false;
  const uint32_t id = w->upstream_request_id();
  // Offered before it is sent: the worker finds the slot when it reads it.
  const int slot = c->page_.offer(id);
  if (slot < 0) return false;
  c->ahead_.push_back({w, id, slot});
  w->ahead_on_ = c;
  if (counters_) ++counters_->sent_ahead;
  c->send(bytes);  // a failed write closes c: the request is withdrawn and waits again
  return true;
}

void UpstreamPool::request_whole(UpstreamClient* w) {
  if (w->ahead_on_) return;
  // The busy connection with the fewest requests ahead of it; then whether w
  // waits in the queue (not connecting, not delayed): with every connection
  // full, a long queue is not searched.
  UpstreamConn* best = nullptr;
  for (UpstreamConn* c : accepted_)
    if (can_take_ahead(c) && (!best || c->ahead_.size() < best->ahead_.size())) best = c;
  if (w->held_) {
    // Held for a busy connection: sent there, or, when none can take it now
    // (or it is not held whole), where it would have gone.
    if (best && send_ahead(best, w)) return;
    unhold(w);
    acquire_now(w);
    return;
  }
  if (best && std::find(waiters_.begin(), waiters_.end(), w) != waiters_.end()) send_ahead(best, w);
}

void UpstreamPool::fill_ahead(UpstreamConn* c) {
  if (waiters_.empty() || !can_take_ahead(c)) return;
  std::vector<UpstreamClient*> whole;
  for (UpstreamClient* w : waiters_) {
    if (w->ahead_on_ || w->upstream_whole_request().empty()) continue;
    whole.push_back(w);
    if (whole.size() + c->ahead_.size() >= kAheadDepth) break;
  }
  for (UpstreamClient* w : whole)
    if (!can_take_ahead(c) || !send_ahead(c, w)) return;
}

bool UpstreamPool::withdraw(UpstreamClient* w) {
  UpstreamConn* c = w->ahead_on_;
  if (!c) return true;
  auto it = std::find_if(c->ahead_.begin(), c->ahead_.end(), [w](const auto& a) { return a.client == w; });
  if (it == c->ahead_.end()) {
    w->ahead_on_ = nullptr;
    return true;
  }
  if (!c->take_back(*it)) return false;
  c->ahead_.erase(it);
  return true;
}

void UpstreamPool::forget_waiter(UpstreamClient* w) {
  if (w->held_) {
    unhold(w);
    return;
  }
  auto it = std::find(waiters_.begin(), waiters_.end(), w);
  if (it == waiters_.end()) return;
  waiters_.erase(it);
  publish();
}

void UpstreamPool::attach_ahead(UpstreamConn* conn) {
  UpstreamConn::Ahead a = conn->ahead_.front();
  conn->ahead_.erase(conn->ahead_.begin());
  if (!a.client) {
    // Its client went away after the worker claimed it: nobody to answer.
    conn->abort(true, a.id);
    return;
  }
  forget_waiter(a.client);
  a.client->ahead_on_ = nullptr;
  conn->state_ = UpstreamConn::State::kBusy;
  conn->client_ = a.client;
  conn->busy_since_ns_ = uv_hrtime();
  conn->attaching_sent_ = true;
  a.client->upstream_ready(conn);
  conn->attaching_sent_ = false;
}

bool UpstreamPool::take_place() {
  return gate_ ? gate_->try_open(capacity()) : open_ < capacity();
}

void UpstreamPool::give_place() {
  if (gate_) gate_->release();
}

void UpstreamPool::publish() {
  if (!gate_) return;
  gate_->publish(loop_index_, this, open_, idle_.size(), waiters_.size());
}

void UpstreamPool::share(GroupGate* gate, int loop, GroupGate::Post post) {
  if (gate_) return;
  gate_ = gate;
  loop_index_ = loop;
  gate_->join(loop, this, std::move(post), open_);
  publish();
}

void UpstreamPool::shed_idle() {
  if (idle_.empty() || (gate_ && !gate_->should_yield(loop_index_, open_, waiters_.size()))) return;
  idle_.front()->close(false, "a request of another event loop waits for the group");  // the oldest
}

void UpstreamPool::update(const GroupEndpoint& endpoint) {
  bool was_serving = serving();
  ep_ = endpoint;
  if (!was_serving || serving()) return;
  std::string why = "group '" + ep_.name + "' is " + ep_.state;
  std::deque<UpstreamClient*> waiters;
  waiters.swap(waiters_);
  // One a worker claimed is that worker's: it is answered there (or lost with
  // its connection).
  std::erase_if(waiters, [this](UpstreamClient* w) { return !withdraw(w); });
  publish();
  for (UpstreamClient* w : held_)
    if (!w->ahead_on_ || withdraw(w)) waiters.push_back(w);
  for (UpstreamClient* w : waiters) unhold(w);
  for (UpstreamClient* w : waiters) w->upstream_failed(503, why);
  // No worker took these: close them as a "connection closing" notice, so that
  // the client retries, finds the group not running and answers 503.
  std::vector<UpstreamConn*> unaccepted = unaccepted_;
  for (UpstreamConn* c : unaccepted) c->close(true, why + ": no worker took the request");
}

void UpstreamPool::close_idle_to(pid_t pid) {
  std::vector<UpstreamConn*> old;
  for (UpstreamConn* c : idle_)
    if (c->worker_pid_ == pid) old.push_back(c);
  for (UpstreamConn* c : old) c->close(false, "its worker is draining");
}

bool UpstreamPool::is_draining(pid_t pid) const {
  return pid > 0 && std::find(draining_.begin(), draining_.end(), pid) != draining_.end();
}

void UpstreamPool::mark_draining(pid_t pid) {
  if (pid <= 0 || is_draining(pid)) return;
  auto it = std::find_if(conns_by_pid_.begin(), conns_by_pid_.end(),
                         [pid](const auto& e) { return e.first == pid; });
  if (it == conns_by_pid_.end()) return;  // no connection left to it: nothing to avoid
  if (draining_.size() == kMaxDraining) draining_.pop_front();
  draining_.push_back(pid);
}

void UpstreamPool::worker_conn_added(pid_t pid) {
  if (pid <= 0) return;
  for (auto& e : conns_by_pid_)
    if (e.first == pid) {
      ++e.second;
      return;
    }
  conns_by_pid_.emplace_back(pid, 1);
}

void UpstreamPool::worker_conn_gone(pid_t pid) {
  if (pid <= 0) return;
  auto it = std::find_if(conns_by_pid_.begin(), conns_by_pid_.end(),
                         [pid](const auto& e) { return e.first == pid; });
  if (it == conns_by_pid_.end() || --it->second > 0) return;
  conns_by_pid_.erase(it);
  auto d = std::find(draining_.begin(), draining_.end(), pid);
  if (d != draining_.end()) draining_.erase(d);  // the pid may be reused by a new process
}

void UpstreamPool::forget_unaccepted(UpstreamConn* conn) {
  auto it = std::find(unaccepted_.begin(), unaccepted_.end(), conn);
  if (it != unaccepted_.end()) unaccepted_.erase(it);
}

void UpstreamPool::cancel(UpstreamClient* client) {
  if (UpstreamConn* c = client->ahead_on_; c && !withdraw(client)) {
    // The worker claimed it: it runs for no one, and its connection is
    // aborted when its turn comes (attach_ahead()).
    for (auto& a : c->ahead_)
      if (a.client == client) a.client = nullptr;
    client->ahead_on_ = nullptr;
  }
  unhold(client);
  auto it = std::find(waiters_.begin(), waiters_.end(), client);
  if (it != waiters_.end()) {
    waiters_.erase(it);
    publish();
  }
  std::erase_if(delayed_, [client](const auto& d) { return d.first == client; });
  if (delayed_.empty()) close_delay_timer();
  for (UpstreamConn* c : connecting_)
    if (c->client_ == client) c->client_ = nullptr;
}

void UpstreamPool::connect_for(UpstreamClient* client) {
  ++open_;
  auto* c = new UpstreamConn(this, client);
  connecting_.push_back(c);
  c->start_connect();
}

void UpstreamPool::conn_released(UpstreamConn* conn) {
  // The group's service time, a moving average over 8 requests.
  const int64_t took = static_cast<int64_t>(uv_hrtime() - conn->busy_since_ns_);
  const int64_t avg = static_cast<int64_t>(service_ns_);
  service_ns_ = static_cast<uint64_t>(avg == 0 ? took : avg + (took - avg) / 8);
  if (!conn->ahead_.empty()) {
    // A draining worker serves what it claimed; the rest goes elsewhere.
    if (is_draining(conn->worker_pid_)) conn->withdraw_ahead();
    if (!conn->ahead_.empty()) {
      attach_ahead(conn);  // the request sent ahead is this connection's next
      return;
    }
  }
  if (is_draining(conn->worker_pid_)) {
    // Its worker answers the next request with the closing notice: close it;
    // conn_gone() gives its place to a waiter (a new connection).
    conn->close(false, "its worker is draining");
    return;
  }
  if (gate_ && !waiters_.empty() && gate_->should_yield(loop_index_, open_, waiters_.size())) {
    // Another loop's waiting requests hold fewer places for their number: the
    // place goes there through conn_gone() (that loop is woken and connects).
    conn->close(false, "another event loop's requests wait with fewer places");
    return;
  }
  // The oldest waiting request, unless a worker claimed it elsewhere (sent
  // ahead there): one sent ahead but not claimed is withdrawn and comes here.
  auto next = std::find_if(waiters_.begin(), waiters_.end(), [this](UpstreamClient* w) { return withdraw(w); });
  if (next != waiters_.end()) {
    UpstreamClient* w = *next;
    waiters_.erase(next);
    publish();
    give(conn, w);
    return;
  }
  conn->state_ = UpstreamConn::State::kIdle;
  conn->idle_since_ms_ = uv_now(loop_);
  idle_.push_back(conn);
  // Published first, then looked at: a loop whose request began to wait
  // meanwhile either sees this idle connection (ask_idle) or is seen here.
  publish();
  if (gate_ && gate_->should_yield(loop_index_, open_, 0)) shed_idle();
}

void UpstreamPool::conn_gone(UpstreamConn* conn) {
  auto it = std::find(idle_.begin(), idle_.end(), conn);
  if (it != idle_.end()) idle_.erase(it);
  if (open_ > 0) {
    --open_;
    give_place();
  }
  serve_waiters();
  if (gate_) gate_->wake_neediest(loop_index_, capacity());
}

void UpstreamPool::serve_waiters() {
  size_t i = 0;
  while (i < waiters_.size()) {
    UpstreamClient* w = waiters_[i];
    if (serving() && !take_place()) break;
    if (!withdraw(w)) {  // sent ahead and claimed by a worker: it is answered there
      if (serving()) give_place();
      ++i;
      continue;
    }
    waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(i));
    if (!serving()) {
      w->upstream_failed(503, "group '" + ep_.name + "' is " + ep_.state);
      continue;
    }
    connect_for(w);
  }
  publish();
}

void UpstreamPool::sweep(uint64_t now_ms, bool force) {
  std::vector<UpstreamConn*> old;
  for (UpstreamConn* c : idle_)
    if (force || now_ms - c->idle_since_ms_ >= kIdleCloseMs) old.push_back(c);
  for (UpstreamConn* c : old) c->close(false, "idle");
  // Several loops: a wake-up lost between two of them costs one sweep at most.
  if (gate_ && !waiters_.empty() && !force) {
    serve_waiters();
    if (!waiters_.empty()) gate_->ask_idle(loop_index_);
  }
}

}  // namespace wsgid::frontend
