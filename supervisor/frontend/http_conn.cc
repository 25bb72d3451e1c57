#include "supervisor/frontend/http_conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <ctime>

#include "common/log.h"
#include "protocol/messages.h"
#include "protocol/response_head_view.h"
#include "supervisor/frontend/cgi_environ.h"
#include "supervisor/frontend/io_buffer.h"
#include "supervisor/frontend/response_head.h"
#include "supervisor/frontend/server.h"
#include "supervisor/frontend/static_file.h"
#include "supervisor/frontend/stream_write.h"

namespace wsgid::frontend {

namespace {

enum Deadline { kNone = 0, kIdle, kHeader, kBody, kUpstream, kWrite, kLinger };

HttpConn* conn_of(llhttp_t* p) { return static_cast<HttpConn*>(p->data); }

llhttp_settings_t make_settings() {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_begin = [](llhttp_t* p) { return conn_of(p)->on_message_begin(); };
  s.on_url = [](llhttp_t* p, const char* at, size_t n) { return conn_of(p)->on_url(at, n); };
  s.on_header_field = [](llhttp_t* p, const char* at, size_t n) {
    return conn_of(p)->on_header_field(at, n);
  };
  s.on_header_value = [](llhttp_t* p, const char* at, size_t n) {
    return conn_of(p)->on_header_value(at, n);
  };
  s.on_headers_complete = [](llhttp_t* p) { return conn_of(p)->on_headers_complete(); };
  s.on_body = [](llhttp_t* p, const char* at, size_t n) { return conn_of(p)->on_body(at, n); };
  s.on_message_complete = [](llhttp_t* p) { return conn_of(p)->on_message_complete(); };
  return s;
}

const llhttp_settings_t g_settings = make_settings();

void append_num(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

std::string_view ip_text(const sockaddr_storage& ss, int* port, char* buf, size_t n) {
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, static_cast<socklen_t>(n));
    *port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, static_cast<socklen_t>(n));
    *port = ntohs(a->sin6_port);
    if (std::strncmp(buf, "::ffff:", 7) == 0 && std::strchr(buf + 7, '.'))
      std::memmove(buf, buf + 7, std::strlen(buf + 7) + 1);
  } else {
    buf[0] = 0;
    *port = 0;
  }
  return buf;
}

}  // namespace

// ------------------------------------------------------------------ phases

void HttpConn::set_phase(Phase to) {
  if (phase_move_allowed(phase_, to)) {
    phase_ = to;
    return;
  }
  log::bug(fmt::format("HttpConn: no phase move from {} to {}", phase_name(phase_), phase_name(to)),
           __FILE__, __LINE__);
}

// ------------------------------------------------------------------ lifecycle

HttpConn::HttpConn(Server* server) : server_(server) {
  llhttp_init(&parser_, HTTP_REQUEST, &g_settings);
  parser_.data = this;
}

HttpConn::~HttpConn() {
  if (password_check_) password_check_->cancel();  // it frees itself when its thread is done
}

void HttpConn::accept_from(Server* server, uv_stream_t* listener) {
  auto* c = new HttpConn(server);
  uv_tcp_init(server->loop(), &c->tcp_);
  c->tcp_.data = c;
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp_)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp_),
             [](uv_handle_t* h) { delete static_cast<HttpConn*>(h->data); });
    return;
  }
  uv_tcp_nodelay(&c->tcp_, 1);
  sockaddr_storage ss;
  int len = sizeof ss;
  char buf[INET6_ADDRSTRLEN + 8];
  if (uv_tcp_getsockname(&c->tcp_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    c->local_ip_ = ip_text(ss, &c->local_port_, buf, sizeof buf);
  len = sizeof ss;
  if (uv_tcp_getpeername(&c->tcp_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    c->remote_ip_ = ip_text(ss, &c->remote_port_, buf, sizeof buf);
  c->router_ = server->router();
  c->vhosts_ = c->router_->vhosts_for(c->local_ip_, c->local_port_);
  server->add(c);
  const auto& cfg = c->router_->settings().config;
  c->deadline_ms_ = uv_now(server->loop()) + static_cast<uint64_t>(cfg.request_read_header_timeout * 1000);
  c->deadline_kind_ = kIdle;
  c->update_reading();
}

void HttpConn::update_reading() {
  bool want = close_ != CloseStage::kClosed && (close_ == CloseStage::kLingering || (!backpressure_ && pending_.size() < kMaxPending));
  if (want == reading_) return;
  auto* s = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (want) {
    uv_read_start(s, io_alloc_cb, [](uv_stream_t* st, ssize_t n, const uv_buf_t* b) {
      static_cast<HttpConn*>(st->data)->on_read(n, b);
    });
  } else {
    uv_read_stop(s);
  }
  reading_ = want;
}

void HttpConn::start_close() {
  if (close_ == CloseStage::kClosed) return;
  detach_upstream(answering());
  file_.close();
  close_ = CloseStage::kClosed;
  if (phase_ != Phase::kIdle) {
    set_phase(Phase::kIdle);
    server_->request_finished();
  }
  server_->remove(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
           [](uv_handle_t* h) { delete static_cast<HttpConn*>(h->data); });
}

void HttpConn::close_now() { start_close(); }

void HttpConn::close_after_flush() {
  if (close_ == CloseStage::kOpen) close_ = CloseStage::kAfterFlush;
  if (write_pending() != 0 || close_ >= CloseStage::kShutdownSent || file_.is_open()) return;
  close_ = CloseStage::kShutdownSent;
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_),
                  [](uv_shutdown_t* req, int status) {
                    auto* self = static_cast<HttpConn*>(req->data);
                    if (self->close_ == CloseStage::kClosed) return;
                    if (status < 0) {
                      self->start_close();
                      return;
                    }
                    // Lingering close: read and drop what the client still sends
                    // so that our response is not destroyed by a reset.
                    self->close_ = CloseStage::kLingering;
                    self->deadline_ms_ = uv_now(self->server_->loop()) + 2000;
                    self->deadline_kind_ = kLinger;
                    self->update_reading();
                  }) != 0)
    start_close();
}

void HttpConn::tick(uint64_t now) {
  if (close_ == CloseStage::kClosed || deadline_kind_ == kNone || now < deadline_ms_) return;
  int kind = deadline_kind_;
  deadline_kind_ = kNone;
  switch (kind) {
    case kIdle:
    case kLinger:
      start_close();
      break;
    case kHeader:
      refuse(408, "timed out reading the request head (RequestReadTimeout header)");
      break;
    case kBody:
      refuse(408, "timed out reading the request body (RequestReadTimeout body)");
      break;
    case kUpstream:
      if (!response_started()) {
        bool queued = !worker_took_;
        detach_upstream(true);
        keep_alive_ = false;
        send_local(504,
                   queued && pool_ && pool_->endpoint().queue_timeout > 0
                       ? "Queue timeout expired: no worker took the request within queue-timeout"
                       : "Timeout when reading response headers from daemon process (socket-timeout)",
                   false);
      } else {
        abort_connection("timed out waiting for the response body");
      }
      break;
    case kWrite:
      abort_connection("timed out writing to the client (Timeout)");
      break;
  }
}

bool HttpConn::describe(std::string* method, std::string* uri, uint64_t* start_ms,
                        uint32_t* id) const {
  if (phase_ == Phase::kIdle || phase_ == Phase::kHead) return false;
  *method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  *uri = std::string(url());
  *start_ms = start_ms_;
  *id = request_id_;
  return true;
}

// ---------------------------------------------------------------- reading

void HttpConn::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (close_ == CloseStage::kClosed) return;
  if (nread < 0) {
    if (answering()) {
      log_note_ = "client closed the connection";
      // Keep the status for the log: 499-like, as nginx does; Apache logs what it had.
      if (!status_) status_ = 400;
    }
    start_close();
    return;
  }
  if (nread == 0) return;
  if (close_ == CloseStage::kLingering) return;
  if (paused_) {
    pending_.append(buf->base, static_cast<size_t>(nread));
    update_reading();
    return;
  }
  execute(buf->base, static_cast<size_t>(nread));
  if (paused_ && phase_ == Phase::kIdle) resume_parsing();
}

void HttpConn::execute(const char* data, size_t len) {
  buf_begin_ = data;
  buf_end_ = data + len;
  value_end_ = nullptr;
  in_execute_ = true;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  in_execute_ = false;
  if (close_ != CloseStage::kOpen) return;
  if (refuse_status_) {
    int st = refuse_status_;
    refuse_status_ = 0;
    refuse(st, refuse_why_);
    return;
  }
  if (err == HPE_OK) return;
  if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
    const char* pos = llhttp_get_error_pos(&parser_);
    if (err == HPE_PAUSED_UPGRADE) upgrade_pause_ = true;
    if (data == pending_.data()) pending_.erase(0, static_cast<size_t>(pos - data));
    else pending_.assign(pos, static_cast<size_t>(data + len - pos));
    paused_ = true;
    update_reading();
    return;
  }
  std::string why = "malformed request: ";
  why += llhttp_errno_name(err);
  if (const char* r = llhttp_get_error_reason(&parser_)) {
    why += " (";
    why += r;
    why += ")";
  }
  refuse(400, why);
}

void HttpConn::resume_parsing() {
  while (paused_ && phase_ == Phase::kIdle && close_ == CloseStage::kOpen) {
    paused_ = false;
    if (upgrade_pause_) {
      upgrade_pause_ = false;
      llhttp_resume_after_upgrade(&parser_);
    } else {
      llhttp_resume(&parser_);
    }
    if (pending_.empty()) break;
    parse_buf_.swap(pending_);
    pending_.clear();
    execute(parse_buf_.data(), parse_buf_.size());
    parse_buf_.clear();
  }
  update_reading();
}

int HttpConn::on_message_begin() {
  if (router_ != server_->router()) {
    // New settings since the last request: the next one follows them.
    router_ = server_->router();
    vhosts_ = router_->vhosts_for(local_ip_, local_port_);
  }
  set_phase(Phase::kHead);
  body_done_ = false;
  header_rules_ = nullptr;
  local_location_.clear();
  head_.clear();
  headers_.clear();
  url_len_ = 0;
  last_cb_ = 0;
  field_len_ = 0;
  target_ = Target::kNone;
  chunked_ = no_body_ = false;
  status_ = 0;
  resp_body_bytes_ = 0;
  resp_length_ = -1;
  body_bytes_ = 0;
  reqbuf_.clear();
  reqbuf_sent_ = 0;
  replayable_ = true;
  worker_pid_ = 0;
  local_status_ = 0;
  local_challenge_.clear();
  remote_user_.clear();
  log_note_.clear();
  retries_ = 0;
  worker_took_ = false;
  pool_ = nullptr;
  start_ms_ = uv_now(server_->loop());
  start_hr_ = uv_hrtime();
  server_->request_started();
  const auto& cfg = router_->settings().config;
  deadline_ms_ = start_ms_ + static_cast<uint64_t>(cfg.request_read_header_timeout * 1000);
  deadline_kind_ = kHeader;
  return 0;
}

int HttpConn::fail(int status, std::string_view why) {
  refuse_status_ = status;
  refuse_why_.assign(why);
  return -1;
}

int HttpConn::on_url(const char* at, size_t len) {
  head_.append(at, len);
  url_len_ += static_cast<uint32_t>(len);
  last_cb_ = 1;
  const auto& cfg = router_->settings().config;
  // The request line: method, URL, "HTTP/1.1" and two spaces.
  size_t line = url_len_ + std::strlen(llhttp_method_name(static_cast<llhttp_method_t>(parser_.method))) + 10;
  if (cfg.limit_request_line > 0 && line > static_cast<size_t>(cfg.limit_request_line))
    return fail(414, "request line exceeds LimitRequestLine");
  return 0;
}

int HttpConn::on_header_field(const char* at, size_t len) {
  const auto& cfg = router_->settings().config;
  if (last_cb_ != 2) {
    if (cfg.limit_request_fields > 0 &&
        headers_.size() >= static_cast<size_t>(cfg.limit_request_fields))
      return fail(400, "request has more header fields than LimitRequestFields");
    auto off = static_cast<uint32_t>(head_.size());
    headers_.push_back({off, 0, off, 0});
    field_len_ = 0;
  }
  head_.append(at, len);
  headers_.back().name_len += static_cast<uint32_t>(len);
  field_len_ += len;
  last_cb_ = 2;
  if (cfg.limit_request_field_size > 0 && field_len_ > static_cast<size_t>(cfg.limit_request_field_size))
    return fail(400, "request header field exceeds LimitRequestFieldSize");
  return 0;
}

int HttpConn::on_header_value(const char* at, size_t len) {
  const auto& cfg = router_->settings().config;
  if (last_cb_ == 3) {
    // A second span of the same value: contiguous bytes split across reads, or an
    // obs-fold continuation line (llhttp 8.1 accepts those silently).
    bool contiguous = (value_end_ && at == value_end_) || (at == buf_begin_ && value_at_buffer_end_);
    if (!contiguous) return fail(400, "obsolete line folding (obs-fold) in a request header");
  } else {
    HeaderSpan& h = headers_.back();
    if (h.name_len > 0) {
      char last = head_[h.name_off + h.name_len - 1];
      if (last == ' ' || last == '\t') return fail(400, "white space before the colon of a header field");
    }
    h.value_off = static_cast<uint32_t>(head_.size());
  }
  head_.append(at, len);
  headers_.back().value_len += static_cast<uint32_t>(len);
  field_len_ += len;
  value_end_ = at + len;
  value_at_buffer_end_ = (at + len == buf_end_);
  last_cb_ = 3;
  if (cfg.limit_request_field_size > 0 && field_len_ > static_cast<size_t>(cfg.limit_request_field_size))
    return fail(400, "request header field exceeds LimitRequestFieldSize");
  return 0;
}

std::string_view HttpConn::header(std::string_view name) const {
  return request_headers().get(name);
}

std::string_view HttpConn::header_thunk(const void* ctx, std::string_view name) {
  return static_cast<const HttpConn*>(ctx)->header(name);
}

int HttpConn::on_headers_complete() {
  set_phase(Phase::kWaiting);
  const auto& cfg = router_->settings().config;
  if (!headers_.empty() && last_cb_ == 2) {
    // A field without a value: check its name too.
    const HeaderSpan& h = headers_.back();
    char last = head_[h.name_off + h.name_len - 1];
    if (last == ' ' || last == '\t') return fail(400, "white space before the colon of a header field");
  }
  http10_ = parser_.http_major == 1 && parser_.http_minor == 0;
  head_method_ = parser_.method == HTTP_HEAD;
  keep_alive_ = llhttp_should_keep_alive(&parser_) && cfg.keep_alive &&
                (cfg.max_keep_alive_requests <= 0 || requests_ + 1 < cfg.max_keep_alive_requests);
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  request_start_us_ = static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  request_id_ = server_->next_request_id();
  request_id_text_ = server_->request_id_prefix();
  append_num(&request_id_text_, request_id_);

  // Host: exactly one in HTTP/1.1, at most one in HTTP/1.0.
  std::string_view host;
  const int hosts = request_headers().count("host", &host);
  if (hosts > 1) return fail(400, "request has more than one Host header");
  if (hosts == 0 && !http10_) return fail(400, "HTTP/1.1 request without a Host header");
  if (parser_.method == HTTP_CONNECT) return fail(405, "CONNECT is not supported");

  const bool has_body = (parser_.flags & F_CHUNKED) || parser_.content_length > 0;
  if ((parser_.flags & F_CONTENT_LENGTH) && cfg.limit_request_body > 0 &&
      parser_.content_length > static_cast<uint64_t>(cfg.limit_request_body))
    return fail(413, "request body exceeds LimitRequestBody");

  // The URL: origin-form, absolute-form (the host then comes from it), or "*".
  std::string_view raw = url();
  if (raw.size() > 7 && (iequals(raw.substr(0, 7), "http://") ||
                         (raw.size() > 8 && iequals(raw.substr(0, 8), "https://")))) {
    size_t start = raw.find("//") + 2;
    size_t slash = raw.find('/', start);
    host = raw.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    raw = slash == std::string_view::npos ? std::string_view("/") : raw.substr(slash);
  }
  size_t q = raw.find('?');
  std::string_view raw_path = raw.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : raw.substr(q + 1);

  std::string_view expect = header("expect");
  bool send_continue = false;
  if (!expect.empty()) {
    if (!iequals(expect, "100-continue")) {
      send_local(417, "unsupported Expect header", false);
      return 0;
    }
    send_continue = !http10_ && has_body;
  }
  if (raw_path == "*" && parser_.method == HTTP_OPTIONS) {
    send_local(200, "", false);
    return 0;
  }
  if (int st = normalize_path(raw_path, &path_)) {
    send_local(st, st == 404 ? "encoded slash or NUL in the URL path" : "bad URL path", false);
    return 0;
  }
  const model::VirtualHost* vh = router_->select_vhost(vhosts_, host);
  if (rewrite_request(vh, host, query)) return 0;
  router_->route(vh, RouteRequest{host, path_, local_port_}, &route_);
  saved_query_ = query;
  saved_host_ = host;
  send_continue_ = send_continue;
  has_body_ = has_body;
  if (route_.kind != Route::Kind::kError) {
    // The access phase (access_check.h), before any handler: Apache's order.
    const AccessChain& chain = router_->access(route_, path_);
    authz::Request areq = access_request();
    AccessAnswer a = access_begin(chain, areq, header("authorization"));
    if (a.kind == AccessAnswer::Kind::kRefuse) {
      refuse_access(a);
      return 0;
    }
    if (a.kind == AccessAnswer::Kind::kCheckPassword) {
      std::string why;
      std::string user = a.user;
      password_check_ = PasswordCheck::start(
          server_->loop(), chain, std::move(a.user), std::move(a.password),
          [this, &chain, user](const PasswordResult& res) { password_checked(chain, user, res); },
          &why);
      if (!password_check_) {
        send_local(500, why, false);
        return 0;
      }
      return HPE_PAUSED;  // the rest of the request waits in pending_
    }
  }
  return dispatch();
}

authz::Request HttpConn::access_request() const {
  authz::Request r;
  if (auto a = authz::Address::parse(remote_ip_)) r.client = *a;
  if (auto a = authz::Address::parse(local_ip_)) r.server = *a;
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  return r;
}

void HttpConn::refuse_access(const AccessAnswer& a) {
  local_challenge_ = a.challenge;
  if (a.status < 500) log::info("frontend: {} {} -> {}: {}", llhttp_method_name(static_cast<llhttp_method_t>(parser_.method)), url(), a.status, a.reason);
  send_local(a.status, a.reason, false);
}

// On the loop thread, when the thread pool has checked the credentials: the
// parser was paused at the end of the head (on_headers_complete returned
// HPE_PAUSED); the answer is made, then the bytes that came meanwhile (the
// body, a pipelined request) are parsed.
void HttpConn::password_checked(const AccessChain& chain, const std::string& user,
                                const PasswordResult& res) {
  password_check_ = nullptr;
  if (close_ != CloseStage::kOpen) return;
  authz::Request areq = access_request();
  AccessAnswer a = access_finish(chain, areq, user, res);
  paused_ = false;
  llhttp_resume(&parser_);
  // The user the client named, as Apache's r->user: in the environ when
  // allowed, and in the access log (%u) either way, a 401 included.
  remote_user_ = user;
  if (a.kind == AccessAnswer::Kind::kRefuse)
    refuse_access(a);
  else
    dispatch();
  if (close_ != CloseStage::kOpen) return;
  parse_buf_.swap(pending_);
  pending_.clear();
  execute(parse_buf_.data(), parse_buf_.size());
  parse_buf_.clear();
  if (paused_ && phase_ == Phase::kIdle) resume_parsing();
  update_reading();
}

// The handler of a routed request that passed the access phase.
int HttpConn::dispatch() {
  const auto& cfg = router_->settings().config;
  std::string_view query = saved_query_, host = saved_host_;
  const bool send_continue = send_continue_, has_body = has_body_;
  switch (route_.kind) {
    case Route::Kind::kNotFound:
      send_local(404, route_.error, false);
      return 0;
    case Route::Kind::kError:
      send_local(500, route_.error, false);
      return 0;
    case Route::Kind::kForbidden:
      send_local(403, route_.error, false);
      return 0;
    case Route::Kind::kRedirect:
      // mod_dir's DirectorySlash: the slashed URL, query string kept.
      local_location_ = route_.location;
      if (!query.empty()) local_location_.append("?").append(query);
      send_local(301, "directory URL without its trailing slash", false);
      return 0;
    case Route::Kind::kStatic:
      target_ = Target::kStatic;
      break;
    case Route::Kind::kWsgi:
      if (route_.group < 0) {
        std::string why;
        pool_ = server_->embedded_pool(&why);
        if (!pool_) {
          log::error("frontend: embedded request for {}: {}", path_, why);
          send_local(500, "embedded mode: " + why, false);
          return 0;
        }
      } else {
        pool_ = server_->pool(router_.get(), route_.group);
      }
      target_ = Target::kUpstream;
      if (!build_request(query, host)) {
        send_local(500, "request head too large for the protocol", false);
        return 0;
      }
      break;
  }
  if (has_body) {
    deadline_ms_ = uv_now(server_->loop()) + static_cast<uint64_t>(cfg.request_read_body_timeout * 1000);
    deadline_kind_ = kBody;
  }
  if (target_ == Target::kUpstream) {
    if (send_continue) {
      out_.append("HTTP/1.1 100 Continue\r\n\r\n");
      write_out();
    }
    waiting_upstream_ = true;
    pool_->acquire(this);
  }
  return 0;
}

bool HttpConn::build_request(std::string_view query, std::string_view host) {
  EnvironInput in;
  in.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  in.request_uri = url();
  in.query = query;
  in.host = host;
  in.http10 = http10_;
  in.chunked = (parser_.flags & F_CHUNKED) != 0;
  in.default_server_name = router_->settings().config.server.server_name;
  in.local_ip = local_ip_;
  in.remote_ip = remote_ip_;
  in.local_port = local_port_;
  in.remote_port = remote_port_;
  in.request_id = request_id_text_;
  in.request_start_us = request_start_us_;
  in.remote_user = remote_user_;
  in.auth_type = remote_user_.empty() ? std::string_view() : std::string_view("Basic");
  return append_environ(in, environ_headers(), route_, request_id_, &environ_scratch_, &reqbuf_);
}

int HttpConn::on_body(const char* at, size_t len) {
  const auto& cfg = router_->settings().config;
  body_bytes_ += len;
  if (cfg.limit_request_body > 0 && body_bytes_ > static_cast<uint64_t>(cfg.limit_request_body))
    return fail(413, "request body exceeds LimitRequestBody");
  deadline_ms_ = uv_now(server_->loop()) + static_cast<uint64_t>(cfg.request_read_body_timeout * 1000);
  deadline_kind_ = kBody;
  if (target_ != Target::kUpstream) return 0;  // discarded
  while (len > 0) {
    size_t n = std::min<size_t>(len, proto::kBodyChunk);
    proto::append_header(&reqbuf_, proto::FrameType::kRequestBody, request_id_, static_cast<uint32_t>(n));
    reqbuf_.append(at, n);
    at += n;
    len -= n;
  }
  push_request();
  return 0;
}

int HttpConn::on_message_complete() {
  body_done_ = true;
  switch (target_) {
    case Target::kUpstream: {
      proto::append_header(&reqbuf_, proto::FrameType::kRequestEnd, request_id_, 0);
      push_request();
      set_upstream_deadline();
      break;
    }
    case Target::kLocal:
      emit_local();
      break;
    case Target::kStatic:
      serve_static();
      break;
    case Target::kNone:
      break;
  }
  return HPE_PAUSED;
}

void HttpConn::set_upstream_deadline() {
  if (target_ != Target::kUpstream || response_started()) return;
  const GroupEndpoint& ep = pool_->endpoint();
  double t = ep.socket_timeout;
  if (!worker_took_ && ep.queue_timeout > 0) {
    double since = static_cast<double>(uv_now(server_->loop()) - start_ms_) / 1000.0;
    t = std::min(t, std::max(0.0, ep.queue_timeout - since) + 0.5);
  }
  deadline_ms_ = uv_now(server_->loop()) + static_cast<uint64_t>(t * 1000);
  deadline_kind_ = kUpstream;
}

// Hands unsent request bytes to the worker connection and applies backpressure.
void HttpConn::push_request() {
  size_t unsent = reqbuf_.size() - reqbuf_sent_;
  if (upstream_ && unsent > 0) {
    upstream_->send(std::string_view(reqbuf_).substr(reqbuf_sent_));
    reqbuf_sent_ = reqbuf_.size();
    if (reqbuf_.size() > kReplayLimit) {
      replayable_ = false;
      reqbuf_.clear();
      reqbuf_sent_ = 0;
    }
    unsent = 0;
  }
  size_t pending = upstream_ ? upstream_->write_pending() : unsent;
  bool full = !body_done_ && pending > kHighWater;
  if (full != backpressure_) {
    backpressure_ = full;
    update_reading();
  }
}

// ---------------------------------------------------------------- upstream

void HttpConn::upstream_ready(UpstreamConn* conn) {
  waiting_upstream_ = false;
  upstream_ = conn;
  worker_pid_ = conn->worker_pid();
  reqbuf_sent_ = 0;
  push_request();
  if (conn->accepted()) upstream_accepted();
}

void HttpConn::upstream_accepted() {
  if (worker_took_) return;
  worker_took_ = true;
  if (deadline_kind_ == kUpstream) set_upstream_deadline();
}

void HttpConn::upstream_failed(int status, std::string_view why) {
  waiting_upstream_ = false;
  send_local(status, why, status == 503);
}

void HttpConn::upstream_drained() {
  if (backpressure_) push_request();
}

void HttpConn::upstream_flush() { write_out(); }

void HttpConn::upstream_closed(bool notice, std::string_view why) {
  upstream_ = nullptr;
  if (phase_ == Phase::kDone || phase_ == Phase::kIdle) return;
  if (!response_started()) {
    // Every kept connection of a draining process may answer with the notice:
    // allow as many retries as the group has threads, plus one.
    const GroupEndpoint& ep = pool_->endpoint();
    int max_retries = std::max(1, ep.processes) * std::max(1, ep.threads) + 1;
    if (notice && replayable_ && retries_ < max_retries) {
      ++retries_;
      waiting_upstream_ = true;
      pool_->acquire(this);
      return;
    }
    if (notice) send_local(503, why, true);
    else send_local(502, std::string("worker died before sending the response head: ") + std::string(why), false);
    return;
  }
  abort_connection(why);
}

void HttpConn::upstream_frame(const proto::Frame& f) {
  worker_took_ = true;
  switch (f.type) {
    case proto::FrameType::kResponseHead: {
      if (response_started() || target_ != Target::kUpstream) {
        abort_connection("worker sent a second RESPONSE_HEAD");
        return;
      }
      Result<proto::ResponseHeadView> head = proto::ResponseHeadView::parse(f.payload);
      if (!head) {
        upstream_->abort(false, request_id_);
        upstream_ = nullptr;
        send_local(502, "malformed RESPONSE_HEAD from worker: " + head.status().message(), false);
        return;
      }
      const int status = head->status();
      start_response_head(status, head->reason().empty() ? reason_phrase(status) : head->reason());
      resp_length_ = append_worker_headers(&out_, *head);
      finish_head(resp_length_ >= 0);
      refresh_write_deadline();
      return;
    }
    case proto::FrameType::kResponseBody:
      if (!response_started()) {
        upstream_->abort(false, request_id_);
        upstream_ = nullptr;
        send_local(502, "worker sent RESPONSE_BODY before RESPONSE_HEAD", false);
        return;
      }
      write_body(f.payload);
      if (write_pending() + out_.size() > kHighWater) {
        write_out();
        if (write_pending() > kHighWater && upstream_) upstream_->pause_reading();
      }
      refresh_write_deadline();
      return;
    case proto::FrameType::kResponseEnd:
      if (!response_started()) {
        upstream_->abort(false, request_id_);
        upstream_ = nullptr;
        send_local(502, "worker sent RESPONSE_END before RESPONSE_HEAD", false);
        return;
      }
      response_complete();
      return;
    case proto::FrameType::kError: {
      auto e = proto::decode_error(f.payload);
      std::string msg = e ? e->message : "malformed ERROR frame";
      int code = e ? static_cast<int>(e->code) : 502;
      upstream_->abort(false, request_id_);
      upstream_ = nullptr;
      if (response_started()) {
        abort_connection("worker failed after the response head: " + msg);
        return;
      }
      if (code != 400 && code != 404 && code != 500 && code != 503 && code != 504) code = 500;
      send_local(code, "worker: " + msg, code == 503);
      return;
    }
    default:
      upstream_->abort(false, request_id_);
      upstream_ = nullptr;
      if (response_started()) abort_connection("unexpected frame from worker");
      else send_local(502, std::string("unexpected ") + std::string(proto::type_name(f.type)) + " frame from worker", false);
      return;
  }
}

// ---------------------------------------------------------------- static files

void HttpConn::serve_static() {
  StaticFile::Request req;
  req.path = route_.static_path;
  req.get_or_head = parser_.method == HTTP_GET || parser_.method == HTTP_HEAD;
  req.if_match = header("if-match");
  req.if_unmodified_since = header("if-unmodified-since");
  req.if_none_match = header("if-none-match");
  req.if_modified_since = header("if-modified-since");
  req.if_range = header("if-range");
  req.range = header("range");
  req.etag_bits = route_.etag_bits;
  head_start_ = out_.size();
  StaticFile::Answer a = file_.open(req, &out_);
  if (a.local) {
    send_local(a.status, a.why, false);
    return;
  }
  status_ = a.status;
  finish_head(true);
  if (no_body_ || !a.body) {
    file_.close();
    set_phase(Phase::kDone);
    write_out();
    finish_request();
    return;
  }
  write_out();  // the head; after_write() starts pump_file()
  if (!writing_ && file_.is_open() && out_.empty()) pump_file();
}

void HttpConn::pump_file() {
  int sock = -1;
  uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &sock);
  const uint64_t before = resp_body_bytes_;
  std::string why;
  StaticFile::Pump r = file_.pump(sock, write_pending() == 0, &out_, &resp_body_bytes_, &why);
  if (resp_body_bytes_ != before) refresh_write_deadline();
  switch (r) {
    case StaticFile::Pump::kWait:
      return;  // after_write() calls back
    case StaticFile::Pump::kQueued:
      write_out();
      return;
    case StaticFile::Pump::kFailed:
      abort_connection(why);
      return;
    case StaticFile::Pump::kDone:
      set_phase(Phase::kDone);
      finish_request();
      return;
  }
}

void HttpConn::detach_upstream(bool cancel) {
  if (upstream_) {
    upstream_->abort(cancel, request_id_);
    upstream_ = nullptr;
  }
  if (waiting_upstream_) {
    if (pool_) pool_->cancel(this);
    waiting_upstream_ = false;
  }
}

// ---------------------------------------------------------------- responses

void HttpConn::start_response_head(int status, std::string_view reason) {
  status_ = status;
  head_start_ = out_.size();
  append_status_line(&out_, status, reason);
}

void HttpConn::finish_head(bool has_length) {
  if (header_rules_) edit_head();
  HeadEnd end;
  end.status = status_;
  end.has_length = has_length;
  end.head_method = head_method_;
  end.http10 = http10_;
  end.keep_alive = keep_alive_;
  end.draining = server_->draining();
  end.date_line = server_->date_line();
  const Framing f = append_head_end(&out_, end);
  no_body_ = f.no_body;
  chunked_ = f.chunked;
  keep_alive_ = f.keep_alive;
  set_phase(Phase::kStreaming);
}

void HttpConn::write_body(std::string_view data) {
  if (no_body_ || data.empty()) return;
  if (resp_length_ >= 0) {
    uint64_t left = static_cast<uint64_t>(resp_length_) - resp_body_bytes_;
    if (data.size() > left) data = data.substr(0, left);
    if (data.empty()) return;
  }
  resp_body_bytes_ += data.size();
  append_body(&out_, data, chunked_);
}

void HttpConn::response_complete() {
  set_phase(Phase::kDone);
  if (chunked_) append_last_chunk(&out_);
  if (upstream_) {
    if (body_done_) upstream_->release();
    else upstream_->abort(false, request_id_);
    upstream_ = nullptr;
  }
  if (resp_length_ >= 0 && !no_body_ && resp_body_bytes_ < static_cast<uint64_t>(resp_length_)) {
    // The app sent less than its Content-Length: the client must not wait for more.
    keep_alive_ = false;
    log_note_ = "response shorter than its Content-Length";
  }
  write_out();
  finish_request();
}

void HttpConn::send_local(int status, std::string_view why, bool retry_after) {
  target_ = Target::kLocal;
  local_status_ = status;
  local_retry_after_ = retry_after;
  if (!why.empty()) log_note_.assign(why);
  if (status >= 500) log::warn("frontend: {} {} -> {}: {}", llhttp_method_name(static_cast<llhttp_method_t>(parser_.method)), url(), status, why);
  if (body_done_) emit_local();
}

void HttpConn::emit_local() {
  int status = local_status_;
  start_response_head(status, reason_phrase(status));
  append_local_headers(&out_, &body_scratch_, status, local_retry_after_,
                       parser_.method == HTTP_OPTIONS);
  if (!local_location_.empty()) out_.append("Location: " + local_location_ + "\r\n");
  if (status == 401 && !local_challenge_.empty())
    out_.append("WWW-Authenticate: ").append(local_challenge_).append("\r\n");
  finish_head(true);
  if (!no_body_) {
    out_.append(body_scratch_);
    resp_body_bytes_ = body_scratch_.size();
  }
  set_phase(Phase::kDone);
  write_out();
  finish_request();
}

void HttpConn::refuse(int status, std::string_view why) {
  if (close_ == CloseStage::kClosed) return;
  log::info("frontend: {}:{}: refused with {}: {}", remote_ip_, remote_port_, status, why);
  detach_upstream(answering());
  file_.close();
  if (!response_started()) {
    keep_alive_ = false;
    head_method_ = false;
    target_ = Target::kLocal;
    local_status_ = status;
    local_retry_after_ = false;
    log_note_.assign(why);
    body_done_ = true;  // nothing more will be read
    emit_local();
  } else {
    abort_connection(why);
    return;
  }
  close_after_flush();
}

void HttpConn::abort_connection(std::string_view why) {
  log::info("frontend: {} {}: connection aborted: {}", remote_ip_, url(), why);
  if (log_note_.empty()) log_note_.assign(why);
  detach_upstream(answering());
  if (phase_ != Phase::kIdle) log_request();
  start_close();
}

void HttpConn::log_request() {
  const model::VirtualHost* vh = route_.vhost ? route_.vhost : &router_->settings().config.server;
  if (!server_->access_log().enabled_for(vh)) return;
  LogRecord r;
  r.remote_ip = remote_ip_;
  r.local_ip = local_ip_;
  r.remote_port = remote_port_;
  r.local_port = local_port_;
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  r.url = url();
  r.protocol = http10_ ? "HTTP/1.0" : "HTTP/1.1";
  r.server_name = vh->server_name;
  r.status = status_;
  r.body_bytes = resp_body_bytes_;
  r.duration_us = (uv_hrtime() - start_hr_) / 1000;
  r.start = static_cast<time_t>(request_start_us_ / 1000000);
  r.worker_pid = worker_pid_;
  r.request_id = request_id_text_;
  r.group = target_ == Target::kUpstream ? std::string_view(route_.group_name) : std::string_view();
  r.application_group = route_.application_group;
  r.error = log_note_;
  r.user = remote_user_;
  r.header = &HttpConn::header_thunk;
  r.header_ctx = this;
  server_->access_log().log(vh, r);
}

void HttpConn::finish_request() {
  if (phase_ == Phase::kIdle) return;
  log_request();
  set_phase(Phase::kIdle);
  server_->request_finished();
  ++requests_;
  file_.close();
  if (!body_done_) keep_alive_ = false;
  if (!keep_alive_ || server_->draining()) {
    close_after_flush();
    return;
  }
  const auto& cfg = router_->settings().config;
  deadline_ms_ = uv_now(server_->loop()) + static_cast<uint64_t>(cfg.keep_alive_timeout * 1000);
  deadline_kind_ = kIdle;
  if (!in_execute_) resume_parsing();
}

void HttpConn::refresh_write_deadline() {
  const auto& cfg = router_->settings().config;
  deadline_ms_ = uv_now(server_->loop()) + static_cast<uint64_t>(cfg.timeout * 1000);
  deadline_kind_ = kWrite;
}

// ---------------------------------------------------------------- writing

void HttpConn::write_out() {
  if (writing_ || out_.empty() || close_ == CloseStage::kClosed) return;
  write_req_.data = this;
  int err = 0;
  switch (write_or_queue(reinterpret_cast<uv_stream_t*>(&tcp_), &out_, &inflight_, &write_req_,
                         [](uv_write_t* req, int status) {
                           static_cast<HttpConn*>(req->data)->on_write_done(status);
                         },
                         &err)) {
    case WriteResult::kDone:
      after_write();
      break;
    case WriteResult::kQueued:
      writing_ = true;
      break;
    case WriteResult::kError:
      inflight_.clear();
      start_close();
      break;
  }
}

void HttpConn::on_write_done(int status) {
  writing_ = false;
  inflight_.clear();
  if (close_ == CloseStage::kClosed) return;
  if (status < 0) {
    start_close();
    return;
  }
  if (phase_ == Phase::kStreaming || phase_ == Phase::kDone) refresh_write_deadline();
  write_out();
  if (!writing_) after_write();
}

// Called when everything queued so far has been written.
void HttpConn::after_write() {
  if (close_ == CloseStage::kClosed) return;
  if (upstream_ && write_pending() < kLowWater) upstream_->resume_reading();
  if (file_.is_open()) pump_file();
  if (close_ != CloseStage::kOpen && write_pending() == 0 && !file_.is_open()) close_after_flush();
}

}  // namespace wsgid::frontend
