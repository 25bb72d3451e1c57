#include "supervisor/frontend/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

#include "common/listener_close.h"
#include "common/log.h"
#include "model/embedded.h"
#include "supervisor/frontend/auth_scripts.h"
#include "supervisor/frontend/haproxy_agent.h"
#include "supervisor/frontend/http_conn.h"
#include "supervisor/frontend/loops.h"
#include "supervisor/frontend/static_file.h"

namespace wsgid::frontend {

namespace {

// Copies of fds for another loop (F_DUPFD_CLOEXEC), all or none: when one
// cannot be copied it is logged, the others are closed, and the result is
// shorter than fds (that loop then keeps the files it has).
std::vector<int> dup_fds(const std::vector<int>& fds) {
  std::vector<int> out;
  for (int fd : fds) {
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) {
      log::error("frontend: log descriptors for another loop: {}",
                 Status::sys("fcntl", "F_DUPFD_CLOEXEC").message());
      for (int c : out) ::close(c);
      return {};
    }
    out.push_back(copy);
  }
  return out;
}

}  // namespace

Server::Server(uv_loop_t* loop) : loop_(loop) {
  uv_timer_init(loop_, &sweep_timer_);
  sweep_timer_.data = this;
  uv_timer_start(&sweep_timer_, [](uv_timer_t* t) { static_cast<Server*>(t->data)->sweep(); },
                 kSweepMs, kSweepMs);
  uv_check_init(loop_, &flush_check_);
  flush_check_.data = this;
  uv_check_start(&flush_check_, [](uv_check_t* c) {
    static_cast<Server*>(c->data)->access_log_.flush();
  });
  uv_timer_init(loop_, &drain_timer_);
  drain_timer_.data = this;
  uv_timer_init(loop_, &leave_timer_);
  leave_timer_.data = this;
  uv_timer_init(loop_, &answer_timer_);
  answer_timer_.data = this;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  started_unix_ = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  // The first Server's start names the process's requests; every loop's ids
  // come from one counter (next_request_id).
  static const std::string prefix = fmt::format(
      "{:x}.{}.", static_cast<uint64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000, getpid());
  id_prefix_ = prefix;
  router_ = std::make_shared<Router>(Settings{});
  UpstreamPool::set_out_of_descriptors_hook([this] { return close_oldest_idle(); });
}

Server::~Server() {
  own_loops_.reset();
  UpstreamPool::set_out_of_descriptors_hook(nullptr);
}

uint32_t Server::next_request_id() {
  static std::atomic<uint32_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

Status Server::start_loops(int count) {
  if (count > 1) {
    std::string_view python = model::frontend_python_use(settings().config);
    if (!python.empty()) {
      log::warn("frontend: one event loop, not {}: Python runs in the front end ({})", count, python);
      count = 1;
    }
  }
  if (count <= 1 || loops_) return Status::ok();
  own_loops_ = std::make_unique<Loops>(this);
  loops_ = own_loops_.get();
  index_ = 0;
  Status st = own_loops_->start(count, router_->settings(), tls_, [this] { return log_setup(); });
  if (!st) {
    own_loops_.reset();
    loops_ = nullptr;
    return st;
  }
  loops_->set_connections(0, conn_count_);
  share_pools();
  log::info("frontend: {} event loops", count);
  return Status::ok();
}

void Server::share_pools() {
  if (!loops_) return;
  Loops* loops = loops_;
  int i = index_;
  for (auto& [key, pool] : pools_)
    pool->share(GroupGate::of(key), i, [loops, i](std::function<void()> fn) {
      loops->post(i, [fn = std::move(fn)](Server&) { fn(); });
    });
}

void Server::join_loops(Loops* loops, int index) {
  loops_ = loops;
  index_ = index;
}

Loops::Task Server::log_setup() {
  std::string text;
  std::vector<int> fds;
  if (!access_log_.passed_copy(&text, &fds)) return nullptr;
  return [text, fds](Server& s) {
    if (Status st = s.access_log_.take_passed(text, fds); !st) log::error("frontend: {}", st.message());
  };
}

Status Server::take_log_fds(const std::string& text, std::vector<int> fds) {
  if (loops_ && index_ == 0) {
    loops_->post_others([&] {
      std::vector<int> copy = dup_fds(fds);
      bool whole = copy.size() == fds.size();
      return Loops::Task([text, copy, whole](Server& s) {
        if (!whole) return;  // dup_fds() said why
        if (Status st = s.access_log_.take_passed(text, copy); !st) log::error("frontend: {}", st.message());
      });
    });
  }
  return access_log_.take_passed(text, std::move(fds));
}

void Server::reopen_logs() {
  access_log_.reopen();
  if (loops_ && index_ == 0) loops_->post_others([] { return Loops::Task([](Server& s) { s.access_log_.reopen(); }); });
}

void Server::flush_logs() {
  access_log_.flush();
  if (loops_) loops_->on_others(index_, [](Server& s) { s.access_log_.flush(); });
}

void Server::adopt_connection(int fd, model::ListenProtocol protocol) {
  if (loops_) loops_->adopted(index_);
  HttpConn::adopt(this, fd, protocol);
}

size_t Server::close_oldest_idle() {
  HttpConn* oldest = conns_;  // add() puts new connections first
  while (oldest && oldest->next) oldest = oldest->next;
  size_t closed = 0;
  for (HttpConn* c = oldest; c && closed < kFreeAtOnce;) {
    HttpConn* prev = c->prev;  // close_now() unlinks c
    if (c->reusable()) {
      c->close_now();
      ++closed;
    }
    c = prev;
  }
  if (closed > 0) descriptors_.closed_idle(static_cast<int64_t>(uv_now(loop_)), closed);
  return closed;
}

void Server::apply(const Settings& settings) {
  apply_here(settings, nullptr);
  if (loops_ && index_ == 0) {
    auto shared = std::make_shared<const Settings>(settings);
    auto tls = tls_;
    loops_->post_others([&] {
      return Loops::Task([shared, tls](Server& s) { s.apply_here(*shared, &tls); });
    });
  }
}

void Server::apply_shared(const Settings& settings, std::shared_ptr<const tls::Contexts> tls) {
  apply_here(settings, &tls);
}

void Server::apply_here(const Settings& settings, const std::shared_ptr<const tls::Contexts>* shared) {
  auto router = std::make_shared<Router>(settings);
  std::vector<UpstreamPool*> pools;
  std::map<std::string, std::unique_ptr<UpstreamPool>> next;
  for (const GroupEndpoint& ep : settings.groups) {
    std::string key = ep.name + '\n' + ep.socket;
    auto it = pools_.find(key);
    if (it != pools_.end()) {
      it->second->update(ep);
      next[key] = std::move(it->second);
      pools_.erase(it);
    } else {
      next[key] = std::make_unique<UpstreamPool>(loop_, ep);
    }
    next[key]->set_counters(metrics_.group(ep.name));
    pools.push_back(next[key].get());
  }
  for (auto& [key, pool] : pools_) {
    pool->sweep(uv_now(loop_), true);
    retired_pools_.push_back(std::move(pool));
  }
  pools_ = std::move(next);
  current_pools_ = std::move(pools);
  router_ = std::move(router);
  share_pools();
  // OpenSSL is loaded for the first settings with a TLS server (tls_part.h);
  // at start that is before the privilege drop. Once loaded, contexts are
  // built for every settings (none when TLS is gone: its listeners then close
  // new connections, as with a missing certificate). The other loops use loop
  // 0's.
  if (shared) {
    tls_ = *shared;
  } else if (tls::loaded_tls_part() || tls::uses_tls(router_->settings().config)) {
    std::string why;
    if (tls::TlsPart* part = tls::load_tls_part(&why)) {
      std::vector<std::string> tls_errors;
      tls_ = part->build_contexts(router_->settings(), tls_.get(), &tls_errors);
      for (const std::string& e : tls_errors) log::error("frontend: TLS: {}", e);
    } else {
      log::error("frontend: TLS: cannot load OpenSSL: {}; TLS handshakes will fail", why);
    }
  }
  access_log_.configure(router_->settings().config);
  if (embedded_enabled_ && !embedded_started() && model::config_has_embedded(router_->settings().config)) {
    Status st = start_embedded();
    if (!st) log::error("frontend: {}", st.message());
  }
  start_auth_python();
}

Status Server::load_python() {
  if (python_) return Status::ok();
  std::string error;
  python_ = load_python_part(&error);
  if (!python_) return Status::error("cannot load Python: " + error);
  python_->set_reloading(router_->settings().config.script_reloading);
  return Status::ok();
}

void Server::start_auth_python() {
  const model::Config& cfg = router_->settings().config;
  if (python_) python_->set_reloading(cfg.script_reloading);
  if (!embedded_enabled_ || python_started() || !config_has_auth_scripts(cfg)) return;
  log::notice("frontend: starting Python for mod_wsgi's auth scripts");
  Status st = load_python();
  if (st) st = python_->start_python(cfg);
  if (!st) log::error("frontend: mod_wsgi's auth scripts: {}", st.message());
}

ScriptRunner* Server::auth_scripts() {
  return python_started() ? python_->auth_scripts() : nullptr;
}

Status Server::start_embedded() {
  Status st = load_python();
  if (st) st = python_->start(router_->settings().config);
  if (st && !embedded_pool_) {
    GroupEndpoint ep;
    ep.name = "";
    ep.socket = python_->socket_path();
    ep.processes = 1;
    ep.threads = python_->threads();
    ep.socket_timeout = router_->settings().config.timeout;
    embedded_pool_ = std::make_unique<UpstreamPool>(loop_, ep);
    embedded_pool_->set_counters(metrics_.group(""));
  }
  return st;
}

void Server::preload_python() {
  const model::Config& cfg = router_->settings().config;
  if (!model::config_has_embedded(cfg) && !config_has_auth_scripts(cfg)) return;
  if (Status st = load_python(); !st) log::error("frontend: {}", st.message());
}

void Server::enable_embedded() {
  embedded_enabled_ = true;
  if (!embedded_started() && model::config_has_embedded(router_->settings().config)) {
    Status st = start_embedded();
    if (!st) log::error("frontend: {}", st.message());
  }
  start_auth_python();
}

UpstreamPool* Server::embedded_pool(std::string* error) {
  if (!embedded_pool_) {
    Status st = embedded_enabled_ ? start_embedded()
                                  : Status::error("embedded Python is not available before the front end is ready");
    if (!st) {
      *error = st.message();
      return nullptr;
    }
  }
  return embedded_pool_.get();
}

UpstreamPool* Server::pool(const Router* router, int index) {
  if (router == router_.get()) return current_pools_[static_cast<size_t>(index)];
  const GroupEndpoint& ep = router->settings().groups[static_cast<size_t>(index)];
  std::string key = ep.name + '\n' + ep.socket;
  auto it = pools_.find(key);
  if (it != pools_.end()) return it->second.get();
  // The group went away in a reload: a pool of its own keeps the old socket.
  for (auto& p : retired_pools_)
    if (p->endpoint().name == ep.name && p->endpoint().socket == ep.socket) return p.get();
  retired_pools_.push_back(std::make_unique<UpstreamPool>(loop_, ep));
  retired_pools_.back()->set_counters(metrics_.group(ep.name));
  return retired_pools_.back().get();
}

model::ListenProtocol Server::listener_protocol(const uv_stream_t* listener) const {
  for (const Listener& l : listeners_)
    if (reinterpret_cast<const uv_stream_t*>(l.handle) == listener) return l.protocol;
  return model::ListenProtocol::kHttp;
}

Status Server::listen_handle(uv_tcp_t* h, const std::string& what, model::ListenProtocol protocol,
                             bool held_elsewhere) {
  h->data = this;
  int r = uv_listen(reinterpret_cast<uv_stream_t*>(h), 1024, [](uv_stream_t* s, int status) {
    static_cast<Server*>(s->data)->on_connection(s, status);
  });
  if (r != 0) return Status::error("listen(" + what + "): " + uv_strerror(r));
  listeners_.push_back({h, protocol, held_elsewhere});
  return Status::ok();
}

Status Server::adopt_listeners(const std::vector<int>& fds) {
  const auto& listen = settings().config.listen;
  for (size_t i = 0; i < fds.size(); ++i) {
    auto* h = new uv_tcp_t;
    uv_tcp_init(loop_, h);
    std::string what = i < listen.size() ? listen_text(listen[i]) : "fd " + std::to_string(fds[i]);
    int r = uv_tcp_open(h, fds[i]);
    if (r != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* x) { delete reinterpret_cast<uv_tcp_t*>(x); });
      return Status::error("uv_tcp_open(" + what + "): " + uv_strerror(r));
    }
    Status s = listen_handle(h, what, i < listen.size() ? listen[i].protocol : model::ListenProtocol::kHttp,
                             settings().listen_systemd.count(i) > 0);
    if (!s) return s;
  }
  return Status::ok();
}

Status Server::bind_listeners(std::vector<int>* ports) {
  for (const auto& a : settings().config.listen) {
    auto* h = new uv_tcp_t;
    uv_tcp_init(loop_, h);
    sockaddr_storage ss{};
    std::string host = a.host.empty() ? "0.0.0.0" : a.host;
    int r = host.find(':') != std::string::npos
                ? uv_ip6_addr(host.c_str(), a.port, reinterpret_cast<sockaddr_in6*>(&ss))
                : uv_ip4_addr(host.c_str(), a.port, reinterpret_cast<sockaddr_in*>(&ss));
    if (r == 0) r = uv_tcp_bind(h, reinterpret_cast<sockaddr*>(&ss), 0);
    if (r != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* x) { delete reinterpret_cast<uv_tcp_t*>(x); });
      return Status::error("bind(" + listen_text(a) + "): " + uv_strerror(r));
    }
    Status s = listen_handle(h, listen_text(a), a.protocol, false);
    if (!s) return s;
    sockaddr_storage got{};
    int len = sizeof got;
    uv_tcp_getsockname(h, reinterpret_cast<sockaddr*>(&got), &len);
    int port = got.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&got)->sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in*>(&got)->sin_port);
    if (ports) ports->push_back(port);
  }
  return Status::ok();
}

void Server::on_connection(uv_stream_t* listener, int status) {
  if (status < 0) {
    // EMFILE reaches here only when libuv could not reopen its reserve
    // descriptor; DescriptorWatch reports the limit, rate-limited.
    if (status != UV_EMFILE && status != UV_ENFILE) log::warn("frontend: accept: {}", uv_strerror(status));
    return;
  }
  // While draining, only a listener that refuses new handshakes is still open
  // (listener_close.h): what it accepts is served, with "Connection: close".
  if (listener_protocol(listener) == model::ListenProtocol::kHaproxyAgent) {
    serve_agent_connection(listener, agent_reply());
    return;
  }
  // Several loops: the connection goes to the one with the fewest, as its
  // descriptor (libuv has accepted it into accepted_fd, which uv_accept()
  // would take; taking it here lets libuv go on accepting the same way). A
  // draining loop 0 keeps what it accepts: the others may have finished.
  if (loops_ && !draining()) {
    int i = loops_->pick();
    if (i != 0) {
      int fd = listener->accepted_fd;
      listener->accepted_fd = -1;
      model::ListenProtocol protocol = listener_protocol(listener);
      loops_->post(i, [fd, protocol](Server& s) { s.adopt_connection(fd, protocol); });
      return;
    }
  }
  HttpConn::accept_from(this, listener);
}

void Server::add(HttpConn* c) {
  c->prev = nullptr;
  c->next = conns_;
  if (conns_) conns_->prev = c;
  conns_ = c;
  ++conn_count_;
  if (loops_) loops_->set_connections(index_, conn_count_);
}

void Server::remove(HttpConn* c) {
  if (c->prev) c->prev->next = c->next;
  else conns_ = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = nullptr;
  --conn_count_;
  if (loops_) loops_->set_connections(index_, conn_count_);
  maybe_drained();
}

void Server::sweep() {
  uint64_t now = uv_now(loop_);
  for (HttpConn* c = conns_; c;) {
    HttpConn* next = c->next;  // tick() may close (and unlink) c
    c->tick(now);
    c = next;
  }
  for (auto& [key, pool] : pools_) pool->sweep(now);
  for (auto& pool : retired_pools_) pool->sweep(now, true);
  if (embedded_pool_) embedded_pool_->sweep(now);
  // One probe for the process (the limit is the process's).
  if (index_ == 0) descriptors_.check(static_cast<int64_t>(now), loops_ ? loops_->total_connections() : conn_count_);
}

std::string_view Server::date_line() {
  time_t now = time(nullptr);
  if (now != date_time_) {
    date_time_ = now;
    std::memcpy(date_buf_, "Date: ", 6);
    size_t n = format_http_date(now, date_buf_ + 6);
    std::memcpy(date_buf_ + 6 + n, "\r\n", 2);
    date_len_ = 6 + n + 2;
  }
  return {date_buf_, date_len_};
}

std::string Server::agent_reply() {
  AgentView view;
  view.stopping = !accepting_work();
  view.has_embedded = embedded_pool_ != nullptr;
  for (UpstreamPool* p : current_pools_)
    view.groups.push_back({p->serving(), p->capacity(), p->load()});
  if (loops_) {
    // The load is every loop's; the capacity the group's (shared: GroupGate).
    std::mutex mu;
    loops_->on_others(index_, [&](Server& s) {
      std::lock_guard<std::mutex> lock(mu);
      for (size_t i = 0; i < current_pools_.size(); ++i)
        for (UpstreamPool* p : s.current_pools_)
          if (p->endpoint().name == current_pools_[i]->endpoint().name) view.groups[i].load += p->load();
    });
  }
  return frontend::agent_reply(view);
}

void Server::stop(double delay_s, double timeout_s, std::function<void()> done, bool handover) {
  if (stage_ == Stage::kLeaving && delay_s <= 0) {
    // An impatient stop (the master's stop-now) ends the delay.
    auto next = std::move(after_leaving_);
    after_leaving_ = nullptr;
    if (next) next();
    return;
  }
  if (stage_ != Stage::kServing) return;
  if (delay_s <= 0 || handover) {
    drain(timeout_s, std::move(done), !handover, handover);
    return;
  }
  log::notice("frontend: stopping: not ready, still serving for {} s (WSGIDrainDelay), then draining",
              delay_s);
  stage_ = Stage::kLeaving;
  others_leave();
  after_leaving_ = [this, timeout_s, done = std::move(done)]() mutable {
    drain(timeout_s, std::move(done), false, false);
  };
  uv_timer_start(&leave_timer_, [](uv_timer_t* t) {
    auto* self = static_cast<Server*>(t->data);
    auto next = std::move(self->after_leaving_);
    self->after_leaving_ = nullptr;
    if (next) next();
  }, static_cast<uint64_t>(delay_s * 1000), 0);
}

void Server::others_leave() {
  if (!loops_ || index_ != 0) return;
  loops_->post_others([] {
    return Loops::Task([](Server& s) {
      if (s.stage_ == Stage::kServing) s.stage_ = Stage::kLeaving;
    });
  });
}

void Server::others_drain(double timeout_s, bool close_idle, bool handover) {
  if (!loops_ || index_ != 0) return;
  // Posted after every connection handed to them (FIFO): once all have
  // drained, no connection is left anywhere.
  others_draining_ = loops_->count() - 1;
  Loops* loops = loops_;
  loops_->post_others([=] {
    return Loops::Task([=](Server& s) {
      s.drain(timeout_s, [loops] { loops->post(0, [](Server& first) { first.loop_drained(); }); },
              close_idle, handover);
    });
  });
}

void Server::loop_drained() {
  if (others_draining_ > 0) --others_draining_;
  maybe_drained();
}

void Server::drain(double timeout_s, std::function<void()> done, bool close_idle, bool handover) {
  stage_ = Stage::kDraining;
  uv_timer_stop(&leave_timer_);
  after_leaving_ = nullptr;
  drained_ = std::move(done);
  others_drain(timeout_s, close_idle, handover);
  for (HttpConn* c = conns_; c && close_idle;) {
    HttpConn* next = c->next;
    if (c->idle()) c->close_now();
    c = next;
  }
  // Connections the kernel completed but nobody accepted would be reset when
  // the socket's last descriptor closes, after their clients may have sent a
  // request a balancer cannot safely retry: serve them (close_listener), and
  // first make a listener nobody else keeps refuse new handshakes while the
  // ones under way complete (common/listener_close.h). A connect after the
  // close is refused, which a balancer retries elsewhere.
  late_accepted_ = 0;
  own_filter_ = true;
  filter_error_.clear();
  bool alone = false;  // some listener stays open for the steps below
  for (size_t i = 0; i < listeners_.size();) {
    const Listener& l = listeners_[i];
    if (handover || l.held_elsewhere || l.protocol == model::ListenProtocol::kHaproxyAgent) {
      late_accepted_ += close_listener(i);
      continue;
    }
    alone = true;
    uv_os_fd_t fd = -1;
    Status st = uv_fileno(reinterpret_cast<uv_handle_t*>(l.handle), &fd) == 0
                    ? refuse_new_handshakes(fd)
                    : Status::error("uv_fileno: no descriptor");
    if (!st) {
      own_filter_ = false;
      filter_error_ = st.message();
    }
    ++i;
  }
  if (!alone) {
    if (late_accepted_ > 0) log::info("frontend: draining: accepted {} queued connections", late_accepted_);
  } else if (master_closer_) {
    // The master still holds copies: it closes them (attaching the filter if
    // we could not) before ours may be the last.
    asking_master_ = true;
    uv_timer_start(&answer_timer_, [](uv_timer_t* t) {
      auto* self = static_cast<Server*>(t->data);
      self->asking_master_ = false;
      log::warn("frontend: draining: no LISTENERS_CLOSED from the master within {} ms; closing "
                "the listeners", kMasterAnswerMs);
      self->listeners_alone(self->own_filter_);
    }, kMasterAnswerMs, 0);
    master_closer_([this](bool refusing) {
      if (!asking_master_) return;  // too late: the timeout went on without it
      asking_master_ = false;
      uv_timer_stop(&answer_timer_);
      if (!own_filter_ && !refusing) filter_error_ += " (and the master could not either)";
      listeners_alone(own_filter_ || refusing);
    });
  } else {
    listeners_alone(own_filter_);
  }
  if (timeout_s > 0) {
    uv_timer_start(&drain_timer_, [](uv_timer_t* t) {
      auto* self = static_cast<Server*>(t->data);
      for (HttpConn* c = self->conns_; c;) {
        HttpConn* next = c->next;
        c->close_now();
        c = next;
      }
      self->maybe_drained();
    }, static_cast<uint64_t>(timeout_s * 1000), 0);
  }
  maybe_drained();
}

void Server::listeners_alone(bool refusing) {
  if (shut_ || listeners_.empty()) return;
  if (!refusing) {
    log::warn("frontend: draining: {}; the listeners close at once (a connection completing "
              "its handshake meanwhile is reset)", filter_error_);
    close_remaining_listeners();
    return;
  }
  // Blocking the loop this once is cheaper than a timer's millisecond: every
  // SYN dropped meanwhile costs its client a second.
  timespec settle{0, static_cast<long>(kHandshakeSettleUs) * 1000};
  nanosleep(&settle, nullptr);
  log::info("frontend: draining: new handshakes refused ({}) for {} us, the listeners close",
            own_filter_ ? "our filter" : "the master's filter", kHandshakeSettleUs);
  close_remaining_listeners();
}

void Server::close_remaining_listeners() {
  while (!listeners_.empty()) late_accepted_ += close_listener(0);
  if (late_accepted_ > 0) log::info("frontend: draining: accepted {} queued connections", late_accepted_);
  maybe_drained();
}

size_t Server::close_listener(size_t i) {
  uv_tcp_t* h = listeners_[i].handle;
  size_t n = 0;
  if (listeners_[i].protocol != model::ListenProtocol::kHaproxyAgent)
    n = HttpConn::accept_backlog(this, reinterpret_cast<uv_stream_t*>(h));
  listeners_.erase(listeners_.begin() + static_cast<std::ptrdiff_t>(i));
  uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* x) { delete reinterpret_cast<uv_tcp_t*>(x); });
  return n;
}

void Server::maybe_drained() {
  if (!draining() || !drained_ || conn_count_ != 0 || !listeners_.empty() || others_draining_ > 0) return;
  auto done = std::move(drained_);
  drained_ = nullptr;
  done();
}

void Server::shutdown() {
  if (shut_) return;
  shut_ = true;
  if (own_loops_) own_loops_->close();
  stage_ = Stage::kDraining;
  uv_timer_stop(&leave_timer_);
  after_leaving_ = nullptr;
  access_log_.flush();
  for (const Listener& l : listeners_)
    uv_close(reinterpret_cast<uv_handle_t*>(l.handle), [](uv_handle_t* x) { delete reinterpret_cast<uv_tcp_t*>(x); });
  listeners_.clear();
  for (HttpConn* c = conns_; c;) {
    HttpConn* next = c->next;
    c->close_now();
    c = next;
  }
  for (auto& [key, pool] : pools_) pool->sweep(uv_now(loop_), true);
  for (auto& pool : retired_pools_) pool->sweep(uv_now(loop_), true);
  if (embedded_pool_) embedded_pool_->sweep(uv_now(loop_), true);
  uv_close(reinterpret_cast<uv_handle_t*>(&sweep_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&flush_check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&drain_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&leave_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&answer_timer_), nullptr);
}

nlohmann::json Server::state_json() {
  nlohmann::json j = local_state();
  if (loops_) {
    std::mutex mu;
    loops_->on_others(index_, [&](Server& s) {
      nlohmann::json part = s.local_state();
      std::lock_guard<std::mutex> lock(mu);
      j["requests"] = j["requests"].get<uint64_t>() + part["requests"].get<uint64_t>();
      j["busy"] = j["busy"].get<int64_t>() + part["busy"].get<int64_t>();
      j["connections"] = j["connections"].get<size_t>() + part["connections"].get<size_t>();
      for (auto& r : part["current"]) j["current"].push_back(std::move(r));
    });
  }
  long rss = 0;
  std::ifstream statm("/proc/self/statm");
  long pages = 0;
  if (statm >> pages >> rss) rss *= sysconf(_SC_PAGESIZE);
  j["rss"] = rss;
  j["threads"] = loops_ ? loops_->count() : 1;
  return j;
}

nlohmann::json Server::local_state() {
  nlohmann::json current = nlohmann::json::array();
  uint64_t now = uv_now(loop_);
  for (HttpConn* c = conns_; c; c = c->next) {
    std::string method, uri;
    uint64_t start = 0;
    uint32_t id = 0;
    if (c->describe(&method, &uri, &start, &id))
      current.push_back({{"id", id_prefix_ + std::to_string(id)},
                         {"age", static_cast<double>(now - start) / 1000.0},
                         {"method", method},
                         {"uri", uri}});
  }
  return {{"requests", served_}, {"busy", busy_}, {"current", current}, {"connections", conn_count_}};
}

}  // namespace wsgid::frontend
