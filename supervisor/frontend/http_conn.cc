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
#include "supervisor/frontend/io_buffer.h"
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

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

void append_num(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 416: return "Requested Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

std::string_view error_text(int status) {
  switch (status) {
    case 400: return "Your browser sent a request that this server could not understand.";
    case 404: return "The requested URL was not found on this server.";
    case 408: return "Server timeout waiting for the HTTP request from the client.";
    case 413: return "The requested resource does not allow request data with this method, or the amount of data provided in the request exceeds the capacity limit.";
    case 414: return "The requested URL's length exceeds the capacity limit for this server.";
    case 500: return "The server encountered an internal error or misconfiguration and was unable to complete your request.";
    case 502: return "The proxy server received an invalid response from an upstream server.";
    case 503: return "The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.";
    case 504: return "The gateway did not receive a timely response from the upstream server or application.";
    default: return "";
  }
}

// Header names become HTTP_ keys; names with '_' are dropped (Apache 2.4 does so
// that "X_Foo" cannot pose as "X-Foo"), as are names with other odd characters.
bool env_name(std::string_view name, std::string* key) {
  key->assign("HTTP_");
  for (char c : name) {
    if (c == '-') key->push_back('_');
    else if ((c >= 'a' && c <= 'z')) key->push_back(static_cast<char>(c - 'a' + 'A'));
    else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) key->push_back(c);
    else return false;
  }
  return true;
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

// ------------------------------------------------------------------ lifecycle

HttpConn::HttpConn(Server* server) : server_(server) {
  llhttp_init(&parser_, HTTP_REQUEST, &g_settings);
  parser_.data = this;
}

HttpConn::~HttpConn() { close_file(); }

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
  bool want = !closing_ && (lingering_ || (!backpressure_ && pending_.size() < kMaxPending));
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
  if (closing_) return;
  detach_upstream(in_message_ && !resp_done_);
  close_file();
  closing_ = true;
  if (in_message_) {
    in_message_ = false;
    server_->request_finished();
  }
  server_->remove(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
           [](uv_handle_t* h) { delete static_cast<HttpConn*>(h->data); });
}

void HttpConn::close_now() { start_close(); }

void HttpConn::close_after_flush() {
  close_after_flush_ = true;
  if (write_pending() != 0 || closing_ || shutdown_started_ || file_fd_ >= 0) return;
  shutdown_started_ = true;
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_),
                  [](uv_shutdown_t* req, int status) {
                    auto* self = static_cast<HttpConn*>(req->data);
                    if (self->closing_) return;
                    if (status < 0) {
                      self->start_close();
                      return;
                    }
                    // Lingering close: read and drop what the client still sends
                    // so that our response is not destroyed by a reset.
                    self->lingering_ = true;
                    self->deadline_ms_ = uv_now(self->server_->loop()) + 2000;
                    self->deadline_kind_ = kLinger;
                    self->update_reading();
                  }) != 0)
    start_close();
}

void HttpConn::tick(uint64_t now) {
  if (closing_ || deadline_kind_ == kNone || now < deadline_ms_) return;
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
      if (!resp_started_) {
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
  if (!in_message_ || !head_done_) return false;
  *method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  *uri = std::string(url());
  *start_ms = start_ms_;
  *id = request_id_;
  return true;
}

// ---------------------------------------------------------------- reading

void HttpConn::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (closing_) return;
  if (nread < 0) {
    if (in_message_ && !resp_done_) {
      log_note_ = "client closed the connection";
      // Keep the status for the log: 499-like, as nginx does; Apache logs what it had.
      if (!status_) status_ = 400;
    }
    start_close();
    return;
  }
  if (nread == 0) return;
  if (lingering_) return;
  if (paused_) {
    pending_.append(buf->base, static_cast<size_t>(nread));
    update_reading();
    return;
  }
  execute(buf->base, static_cast<size_t>(nread));
  if (paused_ && !in_message_) resume_parsing();
}

void HttpConn::execute(const char* data, size_t len) {
  buf_begin_ = data;
  buf_end_ = data + len;
  value_end_ = nullptr;
  in_execute_ = true;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  in_execute_ = false;
  if (closing_ || close_after_flush_) return;
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
  while (paused_ && !in_message_ && !closing_ && !close_after_flush_) {
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
  in_message_ = true;
  head_done_ = body_done_ = false;
  head_.clear();
  headers_.clear();
  url_len_ = 0;
  last_cb_ = 0;
  field_len_ = 0;
  target_ = Target::kNone;
  resp_started_ = resp_done_ = chunked_ = no_body_ = false;
  status_ = 0;
  resp_body_bytes_ = 0;
  resp_length_ = -1;
  body_bytes_ = 0;
  reqbuf_.clear();
  reqbuf_sent_ = 0;
  replayable_ = true;
  worker_pid_ = 0;
  local_status_ = 0;
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
    Header& h = headers_.back();
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
  for (const Header& h : headers_)
    if (iequals(std::string_view(head_.data() + h.name_off, h.name_len), name))
      return std::string_view(head_.data() + h.value_off, h.value_len);
  return {};
}

std::string_view HttpConn::header_thunk(const void* ctx, std::string_view name) {
  return static_cast<const HttpConn*>(ctx)->header(name);
}

int HttpConn::on_headers_complete() {
  head_done_ = true;
  const auto& cfg = router_->settings().config;
  if (!headers_.empty() && last_cb_ == 2) {
    // A field without a value: check its name too.
    const Header& h = headers_.back();
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
  int hosts = 0;
  for (const Header& h : headers_)
    if (iequals(std::string_view(head_.data() + h.name_off, h.name_len), "host")) {
      ++hosts;
      host = std::string_view(head_.data() + h.value_off, h.value_len);
    }
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
  router_->route(vh, RouteRequest{host, path_, local_port_}, &route_);
  switch (route_.kind) {
    case Route::Kind::kNotFound:
      send_local(404, route_.error, false);
      return 0;
    case Route::Kind::kError:
      send_local(500, route_.error, false);
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
  const Settings& st = router_->settings();
  proto::RequestHeadWriter w(&reqbuf_, request_id_);
  w.add("REQUEST_METHOD", llhttp_method_name(static_cast<llhttp_method_t>(parser_.method)));
  w.add("SCRIPT_NAME", route_.script_name);
  w.add("PATH_INFO", route_.path_info);
  w.add("QUERY_STRING", query);
  w.add("REQUEST_URI", url());
  w.add("SERVER_PROTOCOL", http10_ ? "HTTP/1.0" : "HTTP/1.1");
  w.add("SERVER_SOFTWARE", "wsgid");
  w.add("GATEWAY_INTERFACE", "CGI/1.1");
  w.add("REQUEST_SCHEME", "http");
  // SERVER_NAME / SERVER_PORT as Apache with UseCanonicalName Off.
  std::string_view hname = host, hport;
  if (!hname.empty() && hname.front() == '[') {
    size_t close = hname.find(']');
    if (close != std::string_view::npos) {
      if (close + 1 < hname.size() && hname[close + 1] == ':') hport = hname.substr(close + 2);
      hname = hname.substr(0, close + 1);
    }
  } else if (size_t c = hname.rfind(':'); c != std::string_view::npos) {
    hport = hname.substr(c + 1);
    hname = hname.substr(0, c);
  }
  scratch_.clear();
  if (hname.empty()) {
    const model::VirtualHost* vh = route_.vhost;
    scratch_ = vh && !vh->server_name.empty() ? vh->server_name : st.config.server.server_name;
    if (scratch_.empty()) scratch_ = "localhost";
  } else {
    for (char c : hname) scratch_.push_back(lower(c));
  }
  w.add("SERVER_NAME", scratch_);
  char num[24];
  if (hport.empty()) {
    auto r = std::to_chars(num, num + sizeof num, local_port_);
    hport = std::string_view(num, static_cast<size_t>(r.ptr - num));
  }
  w.add("SERVER_PORT", hport);
  w.add("SERVER_ADDR", local_ip_);
  w.add("REMOTE_ADDR", remote_ip_);
  {
    char rp[8];
    auto r = std::to_chars(rp, rp + sizeof rp, remote_port_);
    w.add("REMOTE_PORT", std::string_view(rp, static_cast<size_t>(r.ptr - rp)));
  }
  w.add("SCRIPT_FILENAME", route_.script_filename);
  // Headers; repeated names are joined with ", " as Apache does.
  for (size_t i = 0; i < headers_.size(); ++i) {
    const Header& h = headers_[i];
    std::string_view name(head_.data() + h.name_off, h.name_len);
    std::string_view value(head_.data() + h.value_off, h.value_len);
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j)
      seen = iequals(std::string_view(head_.data() + headers_[j].name_off, headers_[j].name_len), name);
    if (seen) continue;
    bool repeated = false;
    for (size_t j = i + 1; j < headers_.size() && !repeated; ++j)
      repeated = iequals(std::string_view(head_.data() + headers_[j].name_off, headers_[j].name_len), name);
    if (repeated) {
      joined_.assign(value);
      for (size_t j = i + 1; j < headers_.size(); ++j)
        if (iequals(std::string_view(head_.data() + headers_[j].name_off, headers_[j].name_len), name)) {
          joined_.append(", ");
          joined_.append(head_.data() + headers_[j].value_off, headers_[j].value_len);
        }
      value = joined_;
    }
    if (iequals(name, "content-type")) {
      w.add("CONTENT_TYPE", value);
      continue;
    }
    if (iequals(name, "content-length")) {
      if (!(parser_.flags & F_CHUNKED)) w.add("CONTENT_LENGTH", value);
      continue;
    }
    if (iequals(name, "authorization") && !route_.pass_authorization) continue;
    if (iequals(name, "proxy")) continue;  // httpoxy
    if (!env_name(name, &key_)) continue;
    w.add(key_, value);
  }
  w.add("mod_wsgi.process_group", route_.group_name);
  w.add("mod_wsgi.application_group", route_.application_group);
  w.add("mod_wsgi.callable_object", route_.callable_object);
  w.add("mod_wsgi.script_reloading", route_.script_reloading ? "1" : "0");
  w.add("mod_wsgi.request_id", request_id_text_);
  auto r = std::to_chars(num, num + sizeof num, request_start_us_);
  w.add("wsgid.request_start", std::string_view(num, static_cast<size_t>(r.ptr - num)));
  return w.finish();
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
  if (target_ != Target::kUpstream || resp_started_) return;
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
  if (resp_done_) return;
  if (!resp_started_) {
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
      if (resp_started_ || target_ != Target::kUpstream) {
        abort_connection("worker sent a second RESPONSE_HEAD");
        return;
      }
      std::string_view p = f.payload;
      if (p.size() < 4) {
        abort_connection("malformed RESPONSE_HEAD from worker");
        return;
      }
      int status = proto::detail::get16(p.data());
      size_t rlen = proto::detail::get16(p.data() + 2);
      if (p.size() - 4 < rlen || status < 100 || status > 999) {
        upstream_->abort(false, request_id_);
        upstream_ = nullptr;
        send_local(502, "malformed RESPONSE_HEAD from worker", false);
        return;
      }
      std::string_view reason = p.substr(4, rlen);
      start_response_head(status, reason.empty() ? reason_phrase(status) : reason);
      bool has_length = false;
      Status s = proto::for_each_pair(p.substr(4 + rlen), [&](std::string_view k, std::string_view v) {
        if (iequals(k, "connection") || iequals(k, "keep-alive") ||
            iequals(k, "transfer-encoding") || iequals(k, "proxy-connection") ||
            iequals(k, "upgrade"))
          return;
        if (k.find_first_of("\r\n:") != std::string_view::npos ||
            v.find_first_of("\r\n") != std::string_view::npos)
          return;  // response splitting
        if (iequals(k, "content-length")) {
          int64_t n = -1;
          auto r = std::from_chars(v.data(), v.data() + v.size(), n);
          if (r.ec != std::errc() || r.ptr != v.data() + v.size() || n < 0) return;
          if (has_length) return;
          has_length = true;
          resp_length_ = n;
        }
        out_.append(k);
        out_.append(": ");
        out_.append(v);
        out_.append("\r\n");
      });
      if (!s.is_ok()) {
        out_.clear();
        resp_started_ = false;
        upstream_->abort(false, request_id_);
        upstream_ = nullptr;
        send_local(502, "malformed RESPONSE_HEAD from worker: " + s.message(), false);
        return;
      }
      finish_head(has_length);
      refresh_write_deadline();
      return;
    }
    case proto::FrameType::kResponseBody:
      if (!resp_started_) {
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
      if (!resp_started_) {
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
      if (resp_started_) {
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
      if (resp_started_) abort_connection("unexpected frame from worker");
      else send_local(502, std::string("unexpected ") + std::string(proto::type_name(f.type)) + " frame from worker", false);
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
  out_.append("HTTP/1.1 ");
  append_num(&out_, static_cast<uint64_t>(status));
  out_.push_back(' ');
  out_.append(reason);
  out_.append("\r\n");
}

void HttpConn::finish_head(bool has_length) {
  no_body_ = head_method_ || status_ < 200 || status_ == 204 || status_ == 304;
  if (!no_body_ && !has_length) {
    if (!http10_) {
      chunked_ = true;
      out_.append("Transfer-Encoding: chunked\r\n");
    } else {
      keep_alive_ = false;
    }
  }
  out_.append(server_->date_line());
  if (!keep_alive_ || server_->draining()) out_.append("Connection: close\r\n");
  else if (http10_) out_.append("Connection: keep-alive\r\n");
  out_.append("\r\n");
  resp_started_ = true;
}

void HttpConn::write_body(std::string_view data) {
  if (no_body_ || data.empty()) return;
  if (resp_length_ >= 0) {
    uint64_t left = static_cast<uint64_t>(resp_length_) - resp_body_bytes_;
    if (data.size() > left) data = data.substr(0, left);
    if (data.empty()) return;
  }
  resp_body_bytes_ += data.size();
  if (chunked_) {
    char hex[20];
    auto r = std::to_chars(hex, hex + sizeof hex, data.size(), 16);
    out_.append(hex, static_cast<size_t>(r.ptr - hex));
    out_.append("\r\n");
    out_.append(data);
    out_.append("\r\n");
  } else {
    out_.append(data);
  }
}

void HttpConn::response_complete() {
  resp_done_ = true;
  if (chunked_) out_.append("0\r\n\r\n");
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
  body_scratch_.clear();
  if (status >= 400) {
    body_scratch_.append("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>");
    append_num(&body_scratch_, static_cast<uint64_t>(status));
    body_scratch_.push_back(' ');
    body_scratch_.append(reason_phrase(status));
    body_scratch_.append("</title>\n</head><body>\n<h1>");
    body_scratch_.append(reason_phrase(status));
    body_scratch_.append("</h1>\n<p>");
    body_scratch_.append(error_text(status));
    body_scratch_.append("</p>\n</body></html>\n");
    out_.append("Content-Type: text/html; charset=iso-8859-1\r\n");
  }
  if (local_retry_after_) out_.append("Retry-After: 5\r\n");
  if (status == 200 && parser_.method == HTTP_OPTIONS) out_.append("Allow: GET,HEAD,POST,OPTIONS\r\n");
  out_.append("Content-Length: ");
  append_num(&out_, body_scratch_.size());
  out_.append("\r\n");
  finish_head(true);
  if (!no_body_) {
    out_.append(body_scratch_);
    resp_body_bytes_ = body_scratch_.size();
  }
  resp_done_ = true;
  write_out();
  finish_request();
}

void HttpConn::refuse(int status, std::string_view why) {
  if (closing_) return;
  log::info("frontend: {}:{}: refused with {}: {}", remote_ip_, remote_port_, status, why);
  detach_upstream(in_message_ && !resp_done_);
  close_file();
  if (!resp_started_) {
    keep_alive_ = false;
    head_method_ = false;
    target_ = Target::kLocal;
    local_status_ = status;
    local_retry_after_ = false;
    log_note_.assign(why);
    bool was = in_message_;
    body_done_ = true;  // nothing more will be read
    emit_local();
    if (!was) {
      // refused before a message began (cannot happen with llhttp) - keep counts right
    }
  } else {
    abort_connection(why);
    return;
  }
  close_after_flush();
}

void HttpConn::abort_connection(std::string_view why) {
  log::info("frontend: {} {}: connection aborted: {}", remote_ip_, url(), why);
  if (log_note_.empty()) log_note_.assign(why);
  detach_upstream(in_message_ && !resp_done_);
  if (in_message_) {
    log_request();
  }
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
  r.header = &HttpConn::header_thunk;
  r.header_ctx = this;
  server_->access_log().log(vh, r);
}

void HttpConn::finish_request() {
  if (!in_message_) return;
  log_request();
  in_message_ = false;
  server_->request_finished();
  ++requests_;
  close_file();
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
  if (writing_ || out_.empty() || closing_) return;
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
  if (closing_) return;
  if (status < 0) {
    start_close();
    return;
  }
  if (in_message_ && resp_started_) refresh_write_deadline();
  write_out();
  if (!writing_) after_write();
}

// Called when everything queued so far has been written.
void HttpConn::after_write() {
  if (closing_) return;
  if (upstream_ && write_pending() < kLowWater) upstream_->resume_reading();
  if (file_fd_ >= 0) pump_file();
  if (close_after_flush_ && write_pending() == 0 && file_fd_ < 0) close_after_flush();
}

}  // namespace wsgid::frontend
