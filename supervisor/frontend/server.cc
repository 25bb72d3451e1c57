#include "supervisor/frontend/server.h"

#include <arpa/inet.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "common/listener_close.h"
#include "common/log.h"
#include "model/embedded.h"
#include "supervisor/frontend/auth_scripts.h"
#include "supervisor/frontend/haproxy_agent.h"
#include "supervisor/frontend/http_conn.h"
#include "supervisor/frontend/static_file.h"

namespace wsgid::frontend {

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
  id_prefix_ = fmt::format("{:x}.{}.", static_cast<uint64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000,
                           getpid());
  router_ = std::make_shared<Router>(Settings{});
  UpstreamPool::set_out_of_descriptors_hook([this] { return close_oldest_idle(); });
}

Server::~Server() { UpstreamPool::set_out_of_descriptors_hook(nullptr); }

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
  // OpenSSL is loaded for the first settings with a TLS server (tls_part.h);
  // at start that is before the privilege drop. Once loaded, contexts are
  // built for every settings (none when TLS is gone: its listeners then close
  // new connections, as with a missing certificate).
  if (tls::loaded_tls_part() || tls::uses_tls(router_->settings().config)) {
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
  HttpConn::accept_from(this, listener);
}

void Server::add(HttpConn* c) {
  c->prev = nullptr;
  c->next = conns_;
  if (conns_) conns_->prev = c;
  conns_ = c;
  ++conn_count_;
}

void Server::remove(HttpConn* c) {
  if (c->prev) c->prev->next = c->next;
  else conns_ = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = nullptr;
  --conn_count_;
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
  descriptors_.check(static_cast<int64_t>(now), conn_count_);
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

void Server::drain(double timeout_s, std::function<void()> done, bool close_idle, bool handover) {
  stage_ = Stage::kDraining;
  uv_timer_stop(&leave_timer_);
  after_leaving_ = nullptr;
  drained_ = std::move(done);
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
  if (!draining() || !drained_ || conn_count_ != 0 || !listeners_.empty()) return;
  auto done = std::move(drained_);
  drained_ = nullptr;
  done();
}

void Server::shutdown() {
  if (shut_) return;
  shut_ = true;
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
  long rss = 0;
  std::ifstream statm("/proc/self/statm");
  long pages = 0;
  if (statm >> pages >> rss) rss *= sysconf(_SC_PAGESIZE);
  return {{"requests", served_}, {"busy", busy_}, {"threads", 1}, {"current", current},
          {"rss", rss}, {"connections", conn_count_}};
}

}  // namespace wsgid::frontend
