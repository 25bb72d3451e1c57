#include "supervisor/frontend/http_conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <cerrno>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>

#include "common/log.h"
#include "protocol/messages.h"
#include "protocol/response_head_view.h"
#include "supervisor/frontend/cgi_environ.h"
#include "supervisor/frontend/io_buffer.h"
#include "supervisor/frontend/log_sources.h"
#include "supervisor/frontend/resend_rule.h"
#include "supervisor/frontend/response_head.h"
#include "supervisor/frontend/server.h"
#include "supervisor/frontend/static_file.h"
#include "supervisor/frontend/stream_write.h"
#include "supervisor/frontend/trace.h"

namespace wsgid::frontend {

namespace {

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

// True when the request line in buf, where llhttp stopped at offset pos for an
// unknown method, is well formed but for its method: "TOKEN SP target SP
// HTTP/d.d CRLF" (RFC 9112 3), the target without SP or control characters.
bool unknown_method_line(std::string_view buf, size_t pos) {
  size_t start = pos;
  while (start > 0 && is_tchar(buf[start - 1])) --start;
  if (start > 0 && buf[start - 1] != '\n') return false;  // not the line's start
  size_t eol = buf.find("\r\n", start);
  if (eol == std::string_view::npos) return false;
  std::string_view line = buf.substr(start, eol - start);
  size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) return false;
  for (char c : line.substr(0, sp1))
    if (!is_tchar(c)) return false;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
  for (char c : line.substr(sp1 + 1, sp2 - sp1 - 1))
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  std::string_view version = line.substr(sp2 + 1);
  return version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
         version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9';
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
  if (access_job_) access_job_->cancel();  // it frees itself when its thread is done
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
  ++server->metrics().front().accepted;
  c->start(server->listener_protocol(listener));
}

size_t HttpConn::accept_backlog(Server* server, uv_stream_t* listener) {
  size_t n = 0;
  // One connection libuv accepted already and has not handed out.
  if (listener->accepted_fd >= 0) {
    accept_from(server, listener);
    ++n;
  }
  uv_os_fd_t lfd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(listener), &lfd) != 0) return n;
  for (;;) {
    int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return n;  // EAGAIN: the queue is empty
    }
    if (adopt(server, fd, server->listener_protocol(listener))) ++n;
  }
}

bool HttpConn::adopt(Server* server, int fd, model::ListenProtocol protocol) {
  auto* c = new HttpConn(server);
  uv_tcp_init(server->loop(), &c->tcp_);
  c->tcp_.data = c;
  if (int r = uv_tcp_open(&c->tcp_, fd); r != 0) {
    log::warn("frontend: uv_tcp_open(accepted connection fd {}): {}", fd, uv_strerror(r));
    ::close(fd);
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp_),
             [](uv_handle_t* h) { delete static_cast<HttpConn*>(h->data); });
    return false;
  }
  ++server->metrics().front().accepted;
  c->start(protocol);
  return true;
}

void HttpConn::start(model::ListenProtocol protocol) {
  auto* c = this;
  Server* server = server_;
  uv_tcp_nodelay(&c->tcp_, 1);
  sockaddr_storage ss;
  int len = sizeof ss;
  char buf[INET6_ADDRSTRLEN + 8];
  if (uv_tcp_getsockname(&c->tcp_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    c->local_ip_ = ip_text(ss, &c->local_port_, buf, sizeof buf);
  len = sizeof ss;
  if (uv_tcp_getpeername(&c->tcp_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    c->peer_ip_ = ip_text(ss, &c->peer_port_, buf, sizeof buf);
  c->conn_ip_ = c->remote_ip_ = c->peer_ip_;
  c->conn_port_ = c->remote_port_ = c->peer_port_;
  c->router_ = server->router();
  c->vhosts_ = c->router_->vhosts_for(c->local_ip_, c->local_port_);
  server->add(c);
  const auto& cfg = c->router_->settings().config;
  c->deadline_ms_ = uv_now(server->loop()) + static_cast<uint64_t>(cfg.header_timeout() * 1000);
  c->deadline_kind_ = kIdle;
  if (protocol == model::ListenProtocol::kUwsgi) {
    // No TLS and no PROXY header here: nginx's uwsgi module sends the packet.
    if (!c->start_uwsgi()) {
      c->start_close();
      return;
    }
    c->update_reading();
    return;
  }
  if (protocol == model::ListenProtocol::kHttps) {
    if (!c->start_tls()) {
      c->start_close();
      return;
    }
    // The handshake runs under Timeout (mod_reqtimeout's handshake=0 default).
    c->deadline_ms_ = uv_now(server->loop()) + static_cast<uint64_t>(cfg.timeout * 1000);
  }
  c->start_proxy_header();
  c->update_reading();
}

bool HttpConn::start_tls() {
  tls_contexts_ = server_->tls();
  const Settings& settings = router_->settings();
  const model::VirtualHost* first = vhosts_.empty() ? &settings.config.server : vhosts_.front();
  tls::SslCtx* ctx = tls_contexts_ ? tls_contexts_->context(settings, first) : nullptr;
  if (!ctx) {
    log::error("frontend: {}:{} -> {}:{}: no TLS certificate for this address; connection closed",
               remote_ip_, remote_port_, local_ip_, local_port_);
    return false;
  }
  sni_key_ = tls::compat_key(first->tls);
  // The picker runs inside the handshake, on this thread: the vhost the SNI
  // name selects among this address's, as the Host header would. The part is
  // loaded: it built the contexts.
  tls_ = tls::loaded_tls_part()->new_session(ctx, [this](std::string_view name) -> tls::SslCtx* {
    const Settings& st = router_->settings();
    const model::VirtualHost* vh = router_->select_vhost(vhosts_, name);
    if (!vh) vh = &st.config.server;
    tls::SslCtx* picked = tls_contexts_->context(st, vh);
    if (picked) sni_key_ = tls::compat_key(vh->tls);
    return picked;
  });
  return true;
}

int HttpConn::sni_check(const model::VirtualHost* vh, std::string_view host, std::string* why) const {
  // mod_ssl's ssl_hook_ReadReq: with an SNI name, the request must name a host
  // (400, AH02031), and a Host that selects a vhost with other TLS settings
  // than the SNI name did is misdirected (421, AH02032). Without SNI, the
  // handshake used the address's first vhost: a Host picking one with other
  // settings is misdirected as well (Apache 2.4.64).
  if (!vh) vh = &router_->settings().config.server;
  if (!tls_->sni().empty() && host.empty()) {
    *why = "hostname " + tls_->sni() + " provided via SNI, but no hostname provided in HTTP request";
    return 400;
  }
  if (tls::compat_key(vh->tls) != sni_key_) {
    // Apache 2.4.64's AH02032 (CVE-2025-23048 made the no-SNI case 421 too).
    std::string first = vhosts_.empty() ? router_->settings().config.server.server_name
                                        : vhosts_.front()->server_name;
    *why = (tls_->sni().empty() ? "hostname " + first + " (default host as no SNI was provided)"
                                : "hostname " + tls_->sni() + " provided via SNI") +
           " and hostname " + std::string(host) + " provided via HTTP have no compatible SSL setup";
    return 421;
  }
  return 0;
}

void HttpConn::update_reading() {
  bool want = close_ != CloseStage::kClosed &&
              (close_ == CloseStage::kLingering ||
               (!backpressure_ && !client_ended_ && pending_.size() < kMaxPending &&
                handover_ != Handover::kOut));
  if (want == reading_) return;
  auto* s = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (want) {
    uv_read_start(
        s,
        [](uv_handle_t* h, size_t suggested, uv_buf_t* b) {
          io_alloc_cb(h, suggested, b);
          // A body being spliced: a small read wakes the splice, the rest stays
          // in the socket for it.
          if (static_cast<HttpConn*>(h->data)->request_splicing()) b->len = kSpliceWakeRead;
        },
        [](uv_stream_t* st, ssize_t n, const uv_buf_t* b) {
          static_cast<HttpConn*>(st->data)->on_read(n, b);
        });
  } else {
    uv_read_stop(s);
  }
  reading_ = want;
}

void HttpConn::start_close() {
  if (close_ == CloseStage::kClosed) return;
  if (handover_ == Handover::kOut || resp_socket_out_) {
    // The worker may still wait on its copy of the client's socket, which
    // closing ours would not end: shut the connection itself down, so that
    // its read or write sees the end now.
    uv_os_fd_t sock;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &sock) == 0) ::shutdown(sock, SHUT_RDWR);
  }
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
  if (tls_ && tls_->handshake_done()) {
    // TLS's own end of the stream (close_notify) goes out before the FIN.
    tls_->close_notify(&wire_);
    if (!wire_.empty()) {
      write_out();
      if (write_pending() != 0 || close_ == CloseStage::kClosed) return;  // after_write() calls back
    }
  }
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
      // While the worker reads the body from the client's socket, socket-timeout
      // runs from the last progress seen there: bytes the client sent, or
      // bytes the worker took. None in a whole socket-timeout is a worker not
      // reading (or a client not sending, which the worker's own read timeout
      // ends first): the request times out as any whose worker does not answer.
      if (handover_ == Handover::kOut && handover_progressed()) {
        set_upstream_deadline();
        break;
      }
      if (!response_started()) {
        bool queued = !worker_took_;
        detach_upstream(true);
        keep_alive_ = false;
        if (queued && waited_replacement_ && pool_) {
          send_gateway(GatewayCause::kReplacing, "group '" + pool_->endpoint().name + "' is being replaced: no worker took the request within connect-timeout");
          break;
        }
        if (queued && pool_ && pool_->endpoint().queue_timeout > 0)
          send_gateway(GatewayCause::kQueueTimeout, "Queue timeout expired: no worker took the request within queue-timeout");
        else
          send_gateway(GatewayCause::kSocketTimeout, "Timeout when reading response headers from daemon process (socket-timeout)");
      } else {
        abort_connection("timed out waiting for the response body");
      }
      break;
    case kWrite:
      // The worker writing the body to the client's socket sends nothing
      // meanwhile: Timeout runs from the last progress seen there (its own
      // writes each wait at most Timeout).
      if (resp_socket_out_ && handover_progressed()) {
        refresh_write_deadline();
        break;
      }
      abort_connection("timed out writing to the client (Timeout)");
      break;
    case kProxyHeader:
      log::warn("frontend: {}:{}: connection closed: no complete PROXY protocol header within "
                "{} ms (RemoteIPProxyProtocol On)",
                peer_ip_, peer_port_, kProxyHeaderTimeoutMs);
      ++server_->metrics().front().refused[static_cast<size_t>(RefuseReason::kProxyHeader)];
      start_close();
      break;
    case kUwsgiPacket:
      log::warn("frontend: {}:{}: connection closed: no complete uwsgi packet within {} s "
                "(RequestReadTimeout header; {} bytes received)",
                peer_ip_, peer_port_, router_->settings().config.header_timeout(),
                uwsgi_reader_ ? uwsgi_reader_->received() : 0);
      ++server_->metrics().front().refused[static_cast<size_t>(RefuseReason::kTimeout)];
      start_close();
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

bool HttpConn::in_flight(InFlight* out) const {
  if (target_ != Target::kUpstream || !pool_ || !answering()) return false;
  out->pool = pool_;
  out->taken = worker_took_;
  out->pid = worker_pid_;
  return true;
}

// ---------------------------------------------------------------- reading

void HttpConn::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (close_ == CloseStage::kClosed) return;
  if (nread < 0) {
    if (resp_socket_out_) client_ended_under_worker();
    else client_closed();
    return;
  }
  if (nread == 0) return;
  if (close_ == CloseStage::kLingering) return;
  if (proxy_reader_) {
    read_proxy_header(buf->base, static_cast<size_t>(nread));
    return;
  }
  if (uwsgi_reader_) {
    read_uwsgi_packet(buf->base, static_cast<size_t>(nread));
    return;
  }
  if (!tls_) {
    on_plain(buf->base, static_cast<size_t>(nread));
    return;
  }
  on_tls_bytes(buf->base, static_cast<size_t>(nread));
}

void HttpConn::client_closed() {
  if (answering()) {
    log_note_ = "client closed the connection";
    // Keep the status for the log: 499-like, as nginx does; Apache logs what it had.
    if (!status_) status_ = 400;
    log_request(true);  // Apache logs a request its client left, with %X "X"
  }
  start_close();
}

void HttpConn::client_ended_under_worker() {
  client_ended_ = true;
  keep_alive_ = false;
  update_reading();
}

void HttpConn::on_tls_bytes(const char* data, size_t len) {
  tls_plain_.clear();
  Status st = tls_->receive(data, len, &tls_plain_, &wire_);
  if (!wire_.empty()) write_out();
  if (close_ == CloseStage::kClosed) return;
  if (!st) {
    log::info("frontend: {}:{}: {}", remote_ip_, remote_port_, st.message());
    if (answering()) {
      log_note_ = st.message();
      log_request(true);
    }
    start_close();
    return;
  }
  if (tls_->take_just_done() && phase_ == Phase::kIdle && requests_ == 0) {
    // Now the request head's time starts (RequestReadTimeout header=).
    const auto& cfg = router_->settings().config;
    deadline_ms_ = uv_now(server_->loop()) + static_cast<uint64_t>(cfg.header_timeout() * 1000);
    deadline_kind_ = kIdle;
  }
  if (tls_plain_.empty()) return;
  std::string plain;
  plain.swap(tls_plain_);
  on_plain(plain.data(), plain.size());
  if (tls_plain_.empty()) {
    plain.clear();
    tls_plain_.swap(plain);  // keep the capacity
  }
}

void HttpConn::on_plain(const char* data, size_t len) {
  if (paused_) {
    pending_.append(data, len);
    feed_body();
    if (paused_ && phase_ == Phase::kIdle) resume_parsing();
    update_reading();
    return;
  }
  execute(data, len);
  if (paused_ && phase_ == Phase::kIdle) resume_parsing();
  if (!tls_) {
    hand_over_body();
    splice_request_body();
  }
}

bool HttpConn::request_splice_ready() const {
  return !tls_ && close_ == CloseStage::kOpen && target_ == Target::kUpstream && upstream_ != nullptr &&
         !replayable_ && handover_ == Handover::kNone && reqbuf_sent_ == reqbuf_.size() && !chunked_body_ && !body_done_ &&
         !paused_ && pending_.empty() && phase_ != Phase::kIdle && phase_ != Phase::kHead &&
         parser_.content_length > body_splice::kMinBytes;
}

void HttpConn::splice_request_body() {
  if (in_execute_ || !request_splicing()) return;
  uv_os_fd_t sock;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &sock) != 0) return;
  // While the worker's socket takes them (else backpressure stops reading the
  // client, as for copied bytes, and upstream_drained() comes back here).
  while (request_splice_ready() && !backpressure_ && upstream_->write_pending() == 0) {
    // llhttp keeps counting the body (its remaining Content-Length, which it
    // consumes in its body state): at least one byte is left to it, so that
    // it sees the message end and calls on_message_complete as for any body.
    const uint64_t left = parser_.content_length;
    const size_t n = body_splice::fill(sock, static_cast<size_t>(std::min<uint64_t>(left - 1, proto::kBodyChunk)));
    if (n == 0) break;  // none waiting now; the end and errors are the next read's
    parser_.content_length -= n;
    body_bytes_ += n;
    server_->metrics().front().bytes_spliced_in += n;
    set_body_deadline();
    std::string head;
    proto::append_header(&head, proto::FrameType::kRequestBody, request_id_, static_cast<uint32_t>(n));
    upstream_->send_spliced(head, n);
    if (close_ != CloseStage::kOpen || !upstream_) return;
    push_request();  // backpressure when the worker's socket did not take them all
  }
}

bool HttpConn::handover_candidate() const {
  return !tls_ && !uwsgi_ && target_ == Target::kUpstream && route_.group >= 0 && !handover_refused_ &&
         (parser_.flags & F_CONTENT_LENGTH) && !chunked_body_ &&
         (handover_ != Handover::kNone || parser_.content_length >= kHandoverMin);
}

bool HttpConn::handover_ready() const {
  return handover_candidate() && handover_ == Handover::kNone && close_ == CloseStage::kOpen &&
         upstream_ != nullptr && !in_execute_ && !body_done_ && !paused_ && pending_.empty() &&
         phase_ != Phase::kIdle && phase_ != Phase::kHead && !response_started() &&
         reqbuf_sent_ == reqbuf_.size() && upstream_->write_pending() == 0;
}

void HttpConn::hand_over_body() {
  if (!handover_ready()) return;
  uv_os_fd_t sock;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &sock) != 0) return;
  const auto& cfg = router_->settings().config;
  proto::BodySocket b;
  b.length = parser_.content_length;
  b.timeout_ms = static_cast<uint32_t>(std::min(cfg.body_timeout() * 1000.0, 4.0e9));
  // The frame alone in its message, so that the worker's channel ties the
  // descriptor to it (worker/frame_channel.h), then REQUEST_END.
  std::string frame;
  proto::append_body_socket(&frame, request_id_, b);
  if (!upstream_->send_with_socket(frame, sock)) {
    handover_refused_ = true;  // the body comes through here, spliced or copied
    return;
  }
  frame.clear();
  proto::append_header(&frame, proto::FrameType::kRequestEnd, request_id_, 0);
  upstream_->send(frame);
  handover_ = Handover::kOut;
  (void)handover_progressed();  // where the socket stands now
  ++server_->metrics().front().bodies_handed_over;
  update_reading();
  // No body deadline here now: the worker's reads wait at most the timeout
  // sent; the response's deadline runs.
  set_upstream_deadline();
}

bool HttpConn::handover_progressed() {
  uv_os_fd_t sock;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &sock) != 0) return false;
  struct tcp_info ti {};
  socklen_t len = sizeof ti;
  int queued = 0;
  if (getsockopt(sock, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 || ioctl(sock, FIONREAD, &queued) != 0) return false;
  const uint64_t now = uv_now(server_->loop());
  // Data from the client since the last look (tcpi_last_data_recv: ms since
  // the last segment with data), data sent to it (a response the worker
  // writes), or the worker took some of what waited.
  const uint64_t since = now - handover_looked_ms_;
  const bool moved = ti.tcpi_last_data_recv < since || ti.tcpi_last_data_sent < since ||
                     static_cast<uint64_t>(queued) != handover_queued_;
  handover_looked_ms_ = now;
  handover_queued_ = static_cast<uint64_t>(queued);
  return moved;
}

void HttpConn::body_taken(const proto::Frame& f) {
  Result<proto::BodyTaken> t = proto::decode_body_taken(f.payload);
  if (handover_ != Handover::kOut || !t || t->bytes > parser_.content_length) {
    const std::string why = !t ? "malformed BODY_TAKEN from worker: " + t.status().message()
                                : handover_ != Handover::kOut ? std::string("BODY_TAKEN from worker without a BODY_SOCKET")
                                                              : std::string("BODY_TAKEN from worker counts more than the body's length");
    lose_handover();
    upstream_->abort(false, request_id_);
    upstream_ = nullptr;
    if (response_started()) abort_connection(why);
    else {
      keep_alive_ = false;  // where the client's stream stands is unknown
      send_gateway(GatewayCause::kBadResponse, why);
    }
    return;
  }
  handover_ = Handover::kBack;
  body_bytes_ += t->bytes;
  server_->metrics().front().bytes_handed_over += t->bytes;
  switch (t->how) {
    case proto::TakenHow::kTimeout:
      refuse(408, "timed out reading the request body (RequestReadTimeout body)");
      return;
    case proto::TakenHow::kClientClosed:
      client_closed();
      return;
    case proto::TakenHow::kDone:
      break;
  }
  if (t->bytes == parser_.content_length) {
    // The whole body: llhttp, which saw only its start, begins the next
    // message, as after on_message_complete() (paused until this one ends).
    llhttp_reset(&parser_);
    parser_.data = this;
    body_done_ = true;
    paused_ = true;  // resume_parsing() once the response is done
  } else {
    // The rest is read here and dropped (body_data()), bounded as any body:
    // LimitRequestBody was checked on the declared length, the read timeout
    // runs again.
    parser_.content_length -= t->bytes;
    set_body_deadline();
  }
  update_reading();
}

void HttpConn::execute(const char* data, size_t len) {
  buf_begin_ = data;
  buf_end_ = data + len;
  value_end_ = nullptr;
  in_execute_ = true;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  in_execute_ = false;
  // What the parse produced for the worker goes in one write: a GET's head and
  // its end, a small body with them (push_request() waits for this).
  if (push_deferred_) {
    push_deferred_ = false;
    if (close_ == CloseStage::kOpen) push_request();
  }
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
    feed_body();  // a chunked body that follows the head
    update_reading();
    return;
  }
  if (err == HPE_INVALID_METHOD) {
    // llhttp knows a fixed list of methods (RFC 9110's, WebDAV's and more); a
    // well-formed token it does not know is a method wsgid does not implement
    // (RFC 9110 9.1: 501), anything else a malformed request line.
    const char* pos = llhttp_get_error_pos(&parser_);
    if (pos && unknown_method_line(std::string_view(data, len), static_cast<size_t>(pos - data))) {
      refuse(501, "request method not implemented by wsgid (llhttp does not know it)");
      return;
    }
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
  // Not within a chunked body that is still being decoded (feed_body(): one
  // dropped after its response), whose end resumes it.
  while (paused_ && phase_ == Phase::kIdle && close_ == CloseStage::kOpen && !chunked_active_) {
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
  remote_ip_ = conn_ip_;  // RemoteIPHeader may change it for this request
  remote_port_ = conn_port_;
  remoteip_edits_ = EnvironEdits();
  body_done_ = false;
  chunked_body_ = chunked_active_ = chunked_allowed_ = false;
  header_rules_ = nullptr;
  local_location_.clear();
  local_range_.clear();
  head_.clear();
  headers_.clear();
  url_len_ = 0;
  last_cb_ = 0;
  field_len_ = 0;
  target_ = Target::kNone;
  chunked_ = no_body_ = false;
  status_ = 0;
  resp_body_bytes_ = 0;
  resp_head_bytes_ = 0;
  resp_extra_bytes_ = 0;
  resp_head_.clear();
  path_.clear();
  saved_host_ = {};
  route_ = Route();
  resp_length_ = -1;
  body_bytes_ = 0;
  reqbuf_.clear();
  reqbuf_sent_ = 0;
  replayable_ = true;
  handover_ = Handover::kNone;
  handover_refused_ = false;
  resp_socket_out_ = false;
  worker_pid_ = 0;
  local_status_ = 0;
  local_challenge_.clear();
  local_type_.clear();
  remote_user_.clear();
  log_note_.clear();
  retries_ = 0;
  app_started_ = resent_after_start_ = waited_replacement_ = false;
  worker_took_ = false;
  pool_ = nullptr;
  counters_ = nullptr;
  counted_ = false;
  start_ms_ = uv_now(server_->loop());
  start_hr_ = uv_hrtime();
  server_->request_started();
  const auto& cfg = router_->settings().config;
  deadline_ms_ = start_ms_ + static_cast<uint64_t>(cfg.header_timeout() * 1000);
  deadline_kind_ = kHeader;
  body_limit_ = cfg.limit_request_body;
  return 0;
}

int HttpConn::fail(int status, std::string_view why) {
  refuse_status_ = status;
  refuse_why_.assign(why);
  return -1;
}

int HttpConn::refuse_head(int status, std::string_view why) {
  if (in_execute_) return fail(status, why);
  refuse(status, why);
  return 0;
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

int HttpConn::on_headers_complete() {
  set_phase(Phase::kWaiting);
  const auto& cfg = router_->settings().config;
  if (!headers_.empty() && last_cb_ == 2) {
    // A field without a value: check its name too.
    const HeaderSpan& h = headers_.back();
    char last = head_[h.name_off + h.name_len - 1];
    if (last == ' ' || last == '\t') return fail(400, "white space before the colon of a header field");
  }
  // RFC 9110 5.5: OWS around a field value is not part of it (llhttp drops the
  // leading OWS, the trailing stays in the span).
  for (HeaderSpan& h : headers_) trim_ows(head_, &h);
  http10_ = parser_.http_major == 1 && parser_.http_minor == 0;
  head_method_ = parser_.method == HTTP_HEAD;
  keep_alive_ = !uwsgi_ && llhttp_should_keep_alive(&parser_) && cfg.keep_alive &&
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
  // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing.
  std::string_view te;
  if (http10_ && request_headers().count("transfer-encoding", &te) > 0)
    return fail(400, "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1)");
  // RFC 9112 3.2: a request target never carries a fragment (Apache: 400).
  if (url().find('#') != std::string_view::npos)
    return fail(400, "'#' in the request target: a fragment is never sent (RFC 9112 3.2)");

  const bool has_body = (parser_.flags & F_CHUNKED) || parser_.content_length > 0;
  if (parser_.flags & F_CHUNKED) {
    // The chunked body is ours to decode (feed_body()); llhttp goes on to
    // on_message_complete right after this head.
    chunked_body_ = true;
    ChunkedBody::Limits lim;
    lim.trailer_line = cfg.limit_request_field_size > 0 ? static_cast<size_t>(cfg.limit_request_field_size) : SIZE_MAX;
    lim.trailer_fields = static_cast<size_t>(std::max<int64_t>(0, cfg.limit_request_fields));
    chunked_in_ = ChunkedBody(lim);
    parser_.flags |= F_SKIPBODY;
  }

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
  if (tls_) {
    std::string why;
    if (int st = sni_check(vh, host, &why)) {
      send_local(st, why, false);
      return 0;
    }
  }
  apply_remoteip(vh);
  if (rewrite_request(vh, host, query)) return 0;
  if (parser_.method == HTTP_TRACE) {
    // Apache's core answers TRACE itself, before access control and aliases.
    std::string line = std::string(llhttp_method_name(HTTP_TRACE)) + " " + std::string(url()) +
                       (http10_ ? " HTTP/1.0" : " HTTP/1.1");
    TraceAnswer t = trace_answer(cfg.traces(vh), has_body, line, request_headers());
    if (t.status == 413) return fail(413, t.why);
    if (t.status == 200) {
      local_type_ = "message/http";
      body_scratch_ = std::move(t.body);
    }
    send_local(t.status, t.why, false);
    return 0;
  }
  router_->route(vh, RouteRequest{host, path_, local_port_}, &route_);
  // Now that the URL maps to a file, the Header rules of its <Directory> and
  // <Files> sections join those of the <Location> sections (rewrite_step.h).
  header_rules_ = router_->header_rules(route_, path_, &header_scratch_);
  const model::BodyRules body_rules = router_->body_rules(route_, path_);
  body_limit_ = body_rules.limit_request_body;
  chunked_allowed_ = body_rules.chunked_request;
  require_ssl_ = body_rules.require_ssl;
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
    if (a.kind == AccessAnswer::Kind::kBlocking) {
      std::string why;
      access_job_ = AccessJob::start(
          server_->loop(), chain, server_->auth_scripts(), access_job_input(chain),
          [this](const AccessAnswer& answer) { access_done(answer); }, &why);
      if (!access_job_) {
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

// What the access job copies: the thread reads nothing of the connection's.
// The environ (the REQUEST_HEAD pairs an application would get) is made only
// when a mod_wsgi script may need it.
AccessJob::Input HttpConn::access_job_input(const AccessChain& chain) {
  AccessJob::Input in;
  authz::Request r = access_request();
  in.client = r.client;
  in.server = r.server;
  in.method = std::string(r.method);
  in.authorization = std::string(header("authorization"));
  in.host = remote_ip_;  // HostnameLookups Off: mod_wsgi then passes the address
  in.request_id = request_id_;
  if (chain.has_scripts()) {
    EnvironInput e = environ_input(saved_query_, saved_host_);
    std::string frame;
    EnvironScratch scratch;
    if (append_environ(e, environ_headers(), route_, request_id_, &scratch, &frame) &&
        frame.size() >= proto::kHeaderSize)
      in.environ = frame.substr(proto::kHeaderSize);
  }
  return in;
}

// On the loop thread, when the thread pool has finished the access phase: the
// parser was paused at the end of the head (on_headers_complete returned
// HPE_PAUSED); the answer is made, then the bytes that came meanwhile (the
// body, a pipelined request) are parsed.
void HttpConn::access_done(const AccessAnswer& a) {
  access_job_ = nullptr;
  if (close_ != CloseStage::kOpen) return;
  paused_ = false;
  llhttp_resume(&parser_);
  // The user the client named (or check_password() renamed), as Apache's
  // r->user: in the environ when allowed, and in the access log (%u) either
  // way, a 401 included.
  remote_user_ = a.user;
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
  std::string_view query = saved_query_, host = saved_host_;
  const bool send_continue = send_continue_, has_body = has_body_;
  // mod_alias's fixup hook: a section's Redirect, before any handler.
  if (route_.kind != Route::Kind::kError && section_redirect()) return 0;
  // The body's limits, before any handler (issue 12). A declared length over
  // LimitRequestBody: 413 (Apache's ap_setup_client_block). A chunked body for a
  // WSGI script under WSGIChunkedRequest Off (mod_wsgi's default): 411, as
  // mod_wsgi answers; static files and local answers read and drop it.
  if ((parser_.flags & F_CONTENT_LENGTH) && body_limit_ > 0 &&
      parser_.content_length > static_cast<uint64_t>(body_limit_))
    return refuse_head(413, "request body exceeds LimitRequestBody");
  // mod_ssl's SSLRequireSSL: this path is for TLS connections only.
  if (require_ssl_ && !tls_ && !uwsgi_https_) {
    send_local(403, "SSLRequireSSL: the request did not come over TLS", false);
    return 0;
  }
  if (chunked_body_ && route_.kind == Route::Kind::kWsgi && !chunked_allowed_)
    return refuse_head(411, "chunked request body for a WSGI script under WSGIChunkedRequest Off");
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
      // mod_dir's DirectorySlash: the slashed URL, query string kept, made
      // absolute as its ap_construct_url does (the Host the client named).
      local_location_ = own_url(host, route_.location);
      if (!query.empty()) local_location_.append("?").append(query);
      send_local(301, "directory URL without its trailing slash", false);
      return 0;
    case Route::Kind::kStatic:
      target_ = Target::kStatic;
      break;
    case Route::Kind::kPage: {
      // The front end's own pages (issue 14): answered here, never by a worker.
      // A 503 of wsgid-ready is an answer, not a failure: the access log
      // has its reason, the error log nothing (probes ask every few seconds).
      Server::PageAnswer a = server_->page(route_.page, query, route_.vhost);
      local_type_ = std::move(a.content_type);
      body_scratch_ = std::move(a.body);
      target_ = Target::kLocal;
      local_status_ = a.status;
      local_retry_after_ = false;
      log_note_ = std::move(a.why);
      if (body_done_) emit_local();
      return 0;
    }
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
    set_body_deadline();
  }
  if (target_ == Target::kUpstream) {
    if (send_continue) {
      constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      out_.append(kContinue);
      resp_extra_bytes_ += kContinue.size();
      write_out();
    }
    waiting_upstream_ = true;
    counters_ = pool_->counters();
    queued_hr_ = uv_hrtime();
    pool_->acquire(this);
  }
  return 0;
}

// What the CGI environ of this request is built from (cgi_environ.h), but for
// the user the access phase found.
EnvironInput HttpConn::environ_input(std::string_view query, std::string_view host) const {
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
  in.edits = remoteip_edits_.empty() ? nullptr : &remoteip_edits_;
  in.request_id = request_id_text_;
  in.request_start_us = request_start_us_;
  in.https_scheme = uwsgi_https_;
  if (tls_ && tls_->handshake_done()) {
    in.tls = &tls_->facts();
    const model::VirtualHost* vh = route_.vhost ? route_.vhost : &router_->settings().config.server;
    in.tls_std_env_vars = vh->tls.std_env_vars.value_or(false);
    in.tls_export_cert_data = vh->tls.export_cert_data.value_or(false);
  }
  return in;
}

bool HttpConn::build_request(std::string_view query, std::string_view host) {
  EnvironInput in = environ_input(query, host);
  in.remote_user = remote_user_;
  in.auth_type = remote_user_.empty() ? std::string_view() : std::string_view("Basic");
  in.edits = app_environ_edits();
  return append_environ(in, environ_headers(), route_, request_id_, &environ_scratch_, &reqbuf_);
}

int HttpConn::on_body(const char* at, size_t len) {
  if (!body_data(at, len)) return fail(413, "request body exceeds LimitRequestBody");
  return 0;
}

bool HttpConn::body_data(const char* at, size_t len) {
  body_bytes_ += len;
  if (body_limit_ > 0 && body_bytes_ > static_cast<uint64_t>(body_limit_)) return false;
  set_body_deadline();
  if (target_ != Target::kUpstream || handover_ != Handover::kNone) return true;  // discarded
  if (upstream_ && !replayable_ && reqbuf_sent_ == reqbuf_.size()) {
    // Past the replay limit nothing is kept for a resend: the frames go to the
    // worker connection without a stop in reqbuf_.
    while (len > 0 && upstream_) {
      size_t n = std::min<size_t>(len, proto::kBodyChunk);
      std::string h;
      proto::append_header(&h, proto::FrameType::kRequestBody, request_id_, static_cast<uint32_t>(n));
      upstream_->send(h, std::string_view(at, n));
      at += n;
      len -= n;
    }
    push_request();
    return true;
  }
  // Room for this piece's frames and a REQUEST_END after them: a body that
  // came whole with its head then goes in one write, and the string does not
  // double for the END's 12 bytes (for a 64 KiB body, a fresh 128 KiB
  // mapping and its page faults on every request).
  reqbuf_.reserve(reqbuf_.size() + len + (len / proto::kBodyChunk + 2) * proto::kHeaderSize);
  while (len > 0) {
    size_t n = std::min<size_t>(len, proto::kBodyChunk);
    proto::append_header(&reqbuf_, proto::FrameType::kRequestBody, request_id_, static_cast<uint32_t>(n));
    reqbuf_.append(at, n);
    at += n;
    len -= n;
  }
  push_request();
  return true;
}

int HttpConn::on_message_complete() {
  if (chunked_body_ && chunked_in_.state() != ChunkedBody::State::kDone) {
    // The end of the head only: the chunked body follows (feed_body()).
    chunked_active_ = true;
    return HPE_PAUSED;
  }
  message_done();
  return HPE_PAUSED;
}

// Decodes the chunked body in pending_, as far as the worker connection takes
// it (backpressure stops it; upstream_drained() calls again). Never resumes
// llhttp itself: its callers do, once the request is answered.
void HttpConn::feed_body() {
  if (!chunked_active_ || feeding_ || close_ != CloseStage::kOpen) return;
  feeding_ = true;
  size_t used = 0;
  while (chunked_active_ && used < pending_.size() && !backpressure_ && close_ == CloseStage::kOpen) {
    std::string_view data;
    used += chunked_in_.feed(std::string_view(pending_).substr(used), &data);
    if (!data.empty() && !body_data(data.data(), data.size())) {
      chunked_active_ = false;
      refuse(413, "request body exceeds LimitRequestBody");
      break;
    }
    if (chunked_in_.state() == ChunkedBody::State::kError) {
      chunked_active_ = false;
      refuse(400, std::string("malformed chunked request body: ") + chunked_in_.error());
      break;
    }
    if (chunked_in_.state() == ChunkedBody::State::kDone) {
      chunked_active_ = false;
      message_done();
    }
  }
  if (close_ == CloseStage::kOpen) pending_.erase(0, used);
  feeding_ = false;
  update_reading();
}

void HttpConn::message_done() {
  body_done_ = true;
  switch (target_) {
    case Target::kUpstream: {
      if (handover_ == Handover::kNone) {  // else REQUEST_END went with BODY_SOCKET
        proto::append_header(&reqbuf_, proto::FrameType::kRequestEnd, request_id_, 0);
        push_request();
      }
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
      // The end of a body dropped after its response (finish_request()):
      // the connection waits for the next request.
      if (phase_ == Phase::kIdle) set_idle_deadline();
      break;
  }
}

void HttpConn::set_upstream_deadline() {
  if (target_ != Target::kUpstream || response_started()) return;
  const GroupEndpoint& ep = pool_->endpoint();
  double t = ep.socket_timeout;
  // Waiting for a worker to take the request: queue-timeout bounds it; while
  // every worker of the group is being replaced, connect-timeout does when
  // queue-timeout is off (docs/decisions.md 15).
  double wait_bound = ep.queue_timeout > 0 ? ep.queue_timeout : ep.state == "replacing" ? ep.connect_timeout : 0;
  waited_replacement_ = !worker_took_ && ep.queue_timeout <= 0 && wait_bound > 0;
  if (!worker_took_ && wait_bound > 0) {
    double since = static_cast<double>(uv_now(server_->loop()) - start_ms_) / 1000.0;
    t = std::min(t, std::max(0.0, wait_bound - since) + 0.5);
  }
  deadline_ms_ = uv_now(server_->loop()) + static_cast<uint64_t>(t * 1000);
  deadline_kind_ = kUpstream;
}

// Hands unsent request bytes to the worker connection and applies backpressure.
void HttpConn::push_request() {
  if (in_execute_) {
    // execute() pushes once llhttp has parsed the whole read.
    push_deferred_ = true;
    return;
  }
  size_t unsent = reqbuf_.size() - reqbuf_sent_;
  if (upstream_ && unsent > 0) {
    // From reqbuf_ where it lies: only what the socket does not take is copied.
    upstream_->send({}, std::string_view(reqbuf_).substr(reqbuf_sent_));
    reqbuf_sent_ = reqbuf_.size();
    if (reqbuf_.size() > kReplayLimit && !(reqbuf_.size() <= kHandoverReplayLimit && handover_candidate())) {
      replayable_ = false;
      reqbuf_.clear();
      reqbuf_sent_ = 0;
    }
    unsent = 0;
  }
  size_t pending = upstream_ ? upstream_->write_pending() : unsent;
  // A body being spliced waits while anything is queued for the worker (what
  // its socket did not take): read now, its bytes would be copied, in small
  // frames, behind the queue.
  bool full = !body_done_ && (pending > kHighWater || (pending > 0 && request_splicing()));
  if (full != backpressure_) {
    backpressure_ = full;
    update_reading();
  }
  // Requests sent ahead (PROTOCOL.md 5.7): this one, whole while it waits, or
  // others, behind this one now that it is sent.
  if (pool_ && body_done_) {
    if (waiting_upstream_) pool_->request_whole(this);
    else if (upstream_request_sent()) pool_->fill_ahead(upstream_);
  }
}

// ---------------------------------------------------------------- upstream

void HttpConn::upstream_ready(UpstreamConn* conn) {
  waiting_upstream_ = false;
  upstream_ = conn;
  worker_pid_ = conn->worker_pid();
  // A request sent ahead on this connection (PROTOCOL.md 5.7) went whole.
  reqbuf_sent_ = conn->attaching_sent() ? reqbuf_.size() : 0;
  push_request();
  if (conn->accepted()) upstream_accepted();
  hand_over_body();
  splice_request_body();
}

void HttpConn::upstream_accepted() {
  if (upstream_) worker_pid_ = upstream_->worker_pid();
  if (worker_took_) return;
  note_taken();
  if (deadline_kind_ == kUpstream) set_upstream_deadline();
}

void HttpConn::upstream_failed(int status, std::string_view why) {
  waiting_upstream_ = false;
  if (status != 503 || !pool_) {
    send_local(status, why, status == 503);
    return;
  }
  const std::string& st = pool_->endpoint().state;
  send_gateway(st == "stopped" ? GatewayCause::kGroupStopped
               : st == "down"  ? GatewayCause::kGroupDown
                               : GatewayCause::kConnectFailed,
               why);
}

void HttpConn::note_taken() {
  if (worker_took_) return;
  worker_took_ = true;
  if (counters_ && queued_hr_) counters_->queue_wait.observe_us((uv_hrtime() - queued_hr_) / 1000);
}

void HttpConn::send_gateway(GatewayCause cause, std::string_view why) {
  if (counters_) ++counters_->gateway[static_cast<size_t>(cause)];
  const int status = gateway_cause_status(cause);
  send_local(status, why, status == 503);
}

void HttpConn::upstream_drained() {
  if (!backpressure_) return;
  push_request();
  if (backpressure_) return;
  hand_over_body();
  splice_request_body();  // what waits in the client's socket, before a read copies it
  if (close_ != CloseStage::kOpen) return;
  feed_body();  // the rest of a chunked body waiting in pending_
  if (paused_ && phase_ == Phase::kIdle) resume_parsing();
}

void HttpConn::upstream_flush() { write_out(); }

std::string_view HttpConn::upstream_whole_request() const {
  // Held whole, nothing of it sent, nothing to hand over: its bytes are all
  // there is to send (its REQUEST_END is the last frame message_done() added).
  if (!waiting_upstream_ || !body_done_ || !replayable_ || reqbuf_sent_ != 0 || handover_ != Handover::kNone ||
      reqbuf_.empty() || reqbuf_.size() > kReplayLimit)
    return {};
  return reqbuf_;
}

bool HttpConn::upstream_request_sent() const {
  return upstream_ && body_done_ && handover_ == Handover::kNone && reqbuf_sent_ == reqbuf_.size();
}

void HttpConn::upstream_lost_ahead(bool started, std::string_view why) {
  waiting_upstream_ = false;
  if (started) app_started_ = true;
  upstream_ = nullptr;
  upstream_lost(false, why);
}

void HttpConn::upstream_closed(bool notice, std::string_view why) {
  // The started page says what a STARTED frame would have (the conn is still
  // alive during this call).
  if (upstream_ && upstream_->app_started(request_id_)) app_started_ = true;
  upstream_ = nullptr;
  upstream_lost(notice, why);
}

void HttpConn::upstream_lost(bool notice, std::string_view why) {
  if (phase_ == Phase::kDone || phase_ == Phase::kIdle) return;
  // A worker that never marked the request never read its body's socket; one
  // that did may have (lose_handover()).
  const bool handed_untouched = handover_ == Handover::kOut && !app_started_;
  if (handover_ == Handover::kOut && app_started_) lose_handover();
  if (!response_started()) {
    // Resend to another worker when resend_rule.h allows it. Bound: as many
    // attempts as the group has threads, plus one (every kept connection of a
    // draining process may answer with the notice once).
    const GroupEndpoint& ep = pool_->endpoint();
    LostRequest lost;
    lost.notice = notice;
    lost.started = app_started_;
    // A body handed over to a worker that began the request may be partly
    // read from the client's socket: it cannot be sent again.
    lost.held_whole = replayable_ && !(handover_ != Handover::kNone && app_started_);
    lost.idempotent = idempotent_method(llhttp_method_name(static_cast<llhttp_method_t>(parser_.method)));
    lost.attempts = retries_;
    lost.max_attempts = std::max(1, ep.processes) * std::max(1, ep.threads) + 1;
    lost.resent_after_start = resent_after_start_;
    switch (resend_verdict(lost)) {
      case ResendVerdict::kResend:
        handover_ = Handover::kNone;  // the socket is untouched: the next worker gets it
        if (app_started_ && !notice) {
          resent_after_start_ = true;
          log::warn("{} {}: resent after its worker died: {}",
                    llhttp_method_name(static_cast<llhttp_method_t>(parser_.method)), url(), why);
        }
        app_started_ = false;
        ++retries_;
        waiting_upstream_ = true;
        if (notice) pool_->acquire(this);
        else pool_->acquire_after_death(this);
        return;
      case ResendVerdict::kUnavailable:
        if (handed_untouched) handover_ = Handover::kBack;  // the body is read and dropped here
        send_gateway(GatewayCause::kWorkerClosing, why);
        update_reading();
        return;
      case ResendVerdict::kBadGateway:
        if (handed_untouched) handover_ = Handover::kBack;
        update_reading();
        send_gateway(GatewayCause::kWorkerDied, std::string("worker died before sending the response head: ") + std::string(why));
        return;
    }
  }
  abort_connection(why);
}

void HttpConn::upstream_frame(const proto::Frame& f) {
  note_taken();
  switch (f.type) {
    case proto::FrameType::kStarted:
      app_started_ = true;
      return;
    case proto::FrameType::kResponseHead: {
      if (response_started() || target_ != Target::kUpstream) {
        abort_connection("worker sent a second RESPONSE_HEAD");
        return;
      }
      Result<proto::ResponseHeadView> head = proto::ResponseHeadView::parse(f.payload);
      if (!head) {
        lose_handover();
        upstream_->abort(false, request_id_);
        upstream_ = nullptr;
        send_gateway(GatewayCause::kBadResponse, "malformed RESPONSE_HEAD from worker: " + head.status().message());
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
        lose_handover();
        upstream_->abort(false, request_id_);
        upstream_ = nullptr;
        send_gateway(GatewayCause::kBadResponse, "worker sent RESPONSE_BODY before RESPONSE_HEAD");
        return;
      }
      if (resp_socket_out_) {
        abort_connection("worker sent RESPONSE_BODY after SOCKET_ASK");
        return;
      }
      write_body(f.payload);
      if (write_pending() + out_.size() > kHighWater) {
        write_out();
        if (write_pending() > kHighWater && upstream_) upstream_->pause_reading();
      }
      refresh_write_deadline();
      return;
    case proto::FrameType::kBodyTaken:
      body_taken(f);
      return;
    case proto::FrameType::kSocketAsk:
      socket_asked(f);
      return;
    case proto::FrameType::kResponseSent:
      response_sent(f);
      return;
    case proto::FrameType::kResponseEnd:
      if (resp_socket_out_) {
        abort_connection("worker sent RESPONSE_END without RESPONSE_SENT");
        return;
      }
      // Before any BODY_TAKEN: the worker never began reading the client's
      // socket (it skips the BODY_SOCKET unread), so none of the body was taken.
      if (handover_ == Handover::kOut) handover_ = Handover::kBack;
      if (!response_started()) {
        upstream_->abort(false, request_id_);
        upstream_ = nullptr;
        send_gateway(GatewayCause::kBadResponse, "worker sent RESPONSE_END before RESPONSE_HEAD");
        return;
      }
      response_complete();
      return;
    case proto::FrameType::kError: {
      if (handover_ == Handover::kOut) {
        // As for RESPONSE_END, unless the application was called: a worker
        // ending a request itself (request-timeout, deadlock-timeout) answers
        // from another thread while the request's may still be reading.
        if (app_started_ || upstream_->app_started(request_id_)) lose_handover();
        else handover_ = Handover::kBack;
      }
      auto e = proto::decode_error(f.payload);
      std::string msg = e ? e->message : "malformed ERROR frame";
      int code = e ? static_cast<int>(e->code) : 502;
      upstream_->abort(false, request_id_);
      upstream_ = nullptr;
      if (response_started()) {
        abort_connection("worker failed after the response head: " + msg);
        return;
      }
      if (code != 400 && code != 404 && code != 500 && code != 502 && code != 503 && code != 504) code = 500;
      if (code == 502) send_gateway(GatewayCause::kWorkerKilled, "worker: " + msg);
      else if (code == 503) send_gateway(GatewayCause::kWorkerBusy, "worker: " + msg);
      else if (code == 504) send_gateway(GatewayCause::kQueueTimeout, "worker: " + msg);
      else send_local(code, "worker: " + msg, false);
      return;
    }
    default:
      lose_handover();
      upstream_->abort(false, request_id_);
      upstream_ = nullptr;
      if (response_started()) abort_connection("unexpected frame from worker");
      else send_gateway(GatewayCause::kBadResponse, std::string("unexpected ") + std::string(proto::type_name(f.type)) + " frame from worker");
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
  req.max_ranges = route_.max_ranges;
  head_start_ = out_.size();
  StaticFile::Answer a = file_.open(req, &out_);
  if (a.local) {
    local_range_ = a.content_range;
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
  int sock = -1;  // over TLS the bytes go through out_ to be encrypted
  if (!tls_) uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &sock);
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

void HttpConn::lose_handover() {
  if (handover_ != Handover::kOut) return;
  // The worker may have read part of the body from the client's socket, and
  // may still be reading: nothing more is read here for this request (the
  // socket stays unread until the connection lingers), and its answer closes
  // the connection.
  body_done_ = true;
  keep_alive_ = false;
}

void HttpConn::detach_upstream(bool cancel, const proto::ErrorMessage* refusal) {
  lose_handover();
  if (upstream_) {
    upstream_->abort(cancel, request_id_, refusal);
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
  end.http10 = http10_ || uwsgi_;  // uwsgi: never chunked (nginx reads to the close)
  end.keep_alive = keep_alive_;
  end.draining = server_->closing_connections();
  end.date_line = server_->date_line();
  const Framing f = append_head_end(&out_, end);
  resp_head_bytes_ = out_.size() - head_start_;
  resp_head_.assign(out_, head_start_, resp_head_bytes_);  // for %{NAME}o
  if (counters_) counters_->first_byte.observe_us((uv_hrtime() - start_hr_) / 1000);
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
  const size_t before = out_.size();
  if (data.size() >= kWriteThroughMin && !tls_ && !writing_ && close_ == CloseStage::kOpen) {
    // A large piece goes to the kernel from where it lies (the worker
    // connection's frame reader), not through out_: one copy less per byte.
    if (chunked_) append_chunk_size(&out_, data.size());
    std::string_view tail = chunked_ ? std::string_view("\r\n") : std::string_view();
    resp_extra_bytes_ += out_.size() - before + tail.size();
    write_out(data, tail);
    return;
  }
  append_body(&out_, data, chunked_);
  resp_extra_bytes_ += out_.size() - before - data.size();  // chunk framing
}

void HttpConn::socket_asked(const proto::Frame& f) {
  Result<proto::SocketAsk> a = proto::decode_socket_ask(f.payload);
  if (!a || phase_ != Phase::kStreaming || resp_socket_out_ || resp_body_bytes_ != 0) {
    abort_connection(!a ? "malformed SOCKET_ASK from worker: " + a.status().message()
                        : std::string("SOCKET_ASK from worker out of turn"));
    return;
  }
  // The body goes out byte for byte as the worker writes it: its length
  // framed by the Content-Length the head carries, nothing for the front end
  // to encode, count or cut (what it would cut, the worker cuts too).
  const char* why = tls_                          ? "TLS"
                    : close_ != CloseStage::kOpen ? "the connection is closing"
                    : no_body_                    ? "a response without a body"
                    : chunked_                    ? "a chunked response"
                    : handover_ == Handover::kOut ? "the request body is with the worker"
                    : resp_length_ < 0 || a->bytes != static_cast<uint64_t>(resp_length_)
                        ? "the asked length is not the Content-Length"
                        : nullptr;
  if (why) {
    refuse_socket(why);
    return;
  }
  // The head goes with the socket: the worker writes it with the body's first
  // bytes, one send and no write here. Not while an earlier response is still
  // being written (a client reading late), nor when the worker's socket cannot
  // take the frame now: frames, as usual.
  why = writing_ || !inflight_.empty()                                   ? "an earlier response is still being written"
        : out_.size() > proto::kMaxPayload - proto::kResponseSocketSize ? "the head is too large"
        : !send_socket(out_)                                             ? "the worker's socket is full"
                                                                         : nullptr;
  if (why) {
    refuse_socket(why);
    write_out();
    return;
  }
  out_.clear();
}

bool HttpConn::send_socket(std::string_view head) {
  uv_os_fd_t sock;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &sock) != 0) return false;
  const auto& cfg = router_->settings().config;
  std::string frame;
  proto::append_response_socket(&frame, request_id_,
                                {true, static_cast<uint32_t>(std::min(cfg.timeout * 1000.0, 4.0e9)), head});
  // Alone in its message, so that the worker's channel ties the descriptor to it.
  if (!upstream_->send_with_socket(frame, sock)) return false;
  resp_socket_out_ = true;
  (void)handover_progressed();  // where the socket stands now
  ++server_->metrics().front().responses_handed_over;
  refresh_write_deadline();
  return true;
}

void HttpConn::refuse_socket(std::string_view why) {
  log::debug("request {}: response socket refused: {}", request_id_, why);
  std::string frame;
  proto::append_response_socket(&frame, request_id_, {false, 0, {}});
  upstream_->send(frame);
}

void HttpConn::response_sent(const proto::Frame& f) {
  Result<proto::ResponseSent> t = proto::decode_response_sent(f.payload);
  const uint64_t left = resp_length_ >= 0 ? static_cast<uint64_t>(resp_length_) - resp_body_bytes_ : 0;
  if (!t || !resp_socket_out_ || t->bytes > left) {
    abort_connection(!t ? "malformed RESPONSE_SENT from worker: " + t.status().message()
                     : !resp_socket_out_ ? std::string("RESPONSE_SENT from worker without a RESPONSE_SOCKET")
                                                  : std::string("RESPONSE_SENT from worker counts more than the Content-Length"));
    return;
  }
  resp_socket_out_ = false;
  resp_body_bytes_ += t->bytes;
  server_->metrics().front().response_bytes_handed_over += t->bytes;
  switch (t->how) {
    case proto::TakenHow::kTimeout:
      abort_connection("timed out writing to the client (Timeout)");
      return;
    case proto::TakenHow::kClientClosed:
      abort_connection("the client closed the connection during the response");
      return;
    case proto::TakenHow::kDone:
      break;
  }
  refresh_write_deadline();
}

bool HttpConn::upstream_can_splice() const {
  return !tls_ && !writing_ && close_ == CloseStage::kOpen && phase_ == Phase::kStreaming &&
         !resp_socket_out_ &&
         !no_body_ && upstream_ != nullptr &&
         (resp_length_ < 0 || resp_body_bytes_ < static_cast<uint64_t>(resp_length_));
}

size_t HttpConn::upstream_splice(int fd, size_t max) {
  if (!upstream_can_splice()) return 0;
  if (resp_length_ >= 0)
    max = static_cast<size_t>(std::min<uint64_t>(max, static_cast<uint64_t>(resp_length_) - resp_body_bytes_));
  const size_t n = body_splice::fill(fd, max);
  if (n == 0) return 0;
  resp_body_bytes_ += n;
  // What must precede the bytes (a chunk's size line, the previous chunk's
  // CRLF) goes first; when the kernel does not take all of it, the bytes
  // follow it through out_.
  const size_t before = out_.size();
  if (chunked_) append_chunk_size(&out_, n);
  resp_extra_bytes_ += out_.size() - before;
  if (!out_.empty()) write_out();
  if (close_ == CloseStage::kClosed) {
    std::string dropped;
    body_splice::drain(-1, n, &dropped);
    return n;
  }
  uv_os_fd_t sock = -1;
  if (!writing_ && uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &sock) != 0) sock = -1;
  const size_t queued = out_.size();
  const int err = body_splice::drain(sock, n, &out_);
  if (err != 0) {
    log::info("frontend: {}:{}: splice to the client: {}", remote_ip_, remote_port_, std::strerror(err));
    start_close();
    return n;
  }
  server_->metrics().front().bytes_spliced_out += n - (out_.size() - queued);
  const bool left = out_.size() > queued;
  if (chunked_) {
    out_ += "\r\n";
    resp_extra_bytes_ += 2;
  }
  if (left) {
    write_out();
    if (write_pending() > kHighWater && upstream_) upstream_->pause_reading();
  }
  refresh_write_deadline();
  return n;
}

void HttpConn::response_complete() {
  set_phase(Phase::kDone);
  if (chunked_) {
    const size_t before = out_.size();
    append_last_chunk(&out_);
    resp_extra_bytes_ += out_.size() - before;
  }
  if (upstream_) {
    // A body handed over (hand_over_body()) ended with REQUEST_END already.
    if (body_done_ || handover_ != Handover::kNone) upstream_->release();
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
  if (local_type_.empty()) {
    LocalPage page;
    page.status = status;
    page.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
    page.location = local_location_;
    page.retry_after = local_retry_after_;
    page.allow = parser_.method == HTTP_OPTIONS;
    append_local_headers(&out_, &body_scratch_, page);
  } else {
    out_.append("Content-Type: ").append(local_type_).append("\r\nContent-Length: ");
    append_num(&out_, body_scratch_.size());
    out_.append("\r\n");
  }
  if (!local_location_.empty()) out_.append("Location: " + local_location_ + "\r\n");
  if (!local_range_.empty()) out_.append("Content-Range: " + local_range_ + "\r\n");
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
  ++server_->metrics().front().refused[static_cast<size_t>(refuse_reason(status))];
  // A body refused partway (LimitRequestBody, bad chunking): the application's
  // wsgi.input read says so, as mod_wsgi's "request data read error" does.
  proto::ErrorMessage refusal{static_cast<proto::ErrorCode>(status), std::string(why)};
  detach_upstream(answering(), status >= 400 && status < 600 ? &refusal : nullptr);
  file_.close();
  if (!response_started()) {
    keep_alive_ = false;
    head_method_ = false;
    chunked_active_ = false;
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
  if (phase_ != Phase::kIdle) {
    count_request();
    log_request(true);
  }
  start_close();
}

void HttpConn::log_request(bool aborted) {
  const model::VirtualHost* vh = route_.vhost ? route_.vhost : &router_->settings().config.server;
  if (!server_->access_log().enabled_for(vh)) return;
  const RequestHeaders headers = request_headers();
  RequestLogSources src(headers, resp_head_);
  src.group = target_ == Target::kUpstream ? std::string_view(route_.group_name) : std::string_view();
  src.application_group = route_.application_group;
  src.request_id = request_id_text_;
  src.error = log_note_;
  src.worker_pid = worker_pid_;
  // %{VAR}e of a request that ran a script: its environ, built again only when a
  // format reads a variable from it.
  proto::KeyValues environ;
  const bool ran_script =
      route_.kind == Route::Kind::kWsgi && (target_ == Target::kUpstream || worker_pid_ > 0);
  if (ran_script && server_->access_log().reads_environ(vh)) {
    EnvironInput in = environ_input(saved_query_, saved_host_);
    in.remote_user = remote_user_;
    in.auth_type = remote_user_.empty() ? std::string_view() : std::string_view("Basic");
    std::string frame;
    EnvironScratch scratch;
    if (append_environ(in, environ_headers(), route_, request_id_, &scratch, &frame) &&
        frame.size() >= proto::kHeaderSize) {
      Result<proto::KeyValues> kv =
          proto::decode_request_head(std::string_view(frame).substr(proto::kHeaderSize));
      if (kv.is_ok()) environ = std::move(*kv);
    }
    src.environ = &environ;
  }
  logformat::LogRecord r;
  r.remote_ip = remote_ip_;
  r.peer_ip = peer_ip_;
  r.local_ip = local_ip_;
  r.remote_port = remote_port_;
  r.local_port = local_port_;
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  r.target = url();
  r.path = path_;
  r.protocol = http10_ ? "HTTP/1.0" : "HTTP/1.1";
  // A <VirtualHost> without ServerName has the main server's, as in Apache.
  r.server_name = !vh->server_name.empty() ? std::string_view(vh->server_name)
                                           : std::string_view(router_->settings().config.server.server_name);
  r.host = saved_host_;
  r.status = status_;
  r.body_bytes = resp_body_bytes_;
  // mod_logio's %I: the request line and fields as `Name: value` lines (what was
  // received, up to the spacing around each colon) and the body; %O: the
  // response head, the body and its chunk framing, a 100 Continue.
  r.bytes_in = bytes_in();
  r.bytes_out = resp_head_bytes_ + resp_body_bytes_ + resp_extra_bytes_;
  r.start_us = request_start_us_;
  r.end_us = request_start_us_ + static_cast<int64_t>((uv_hrtime() - start_hr_) / 1000);
  r.keepalives = requests_;
  const bool kept = keep_alive_ && (body_done_ || drops_body_kept());
  r.conn_status = aborted ? 'X' : kept && !server_->closing_connections() ? '+' : '-';
  if (route_.kind == Route::Kind::kWsgi && (target_ == Target::kUpstream || worker_pid_ > 0)) {
    r.filename = route_.script_filename;
    r.handler = "wsgi-script";
  } else if (target_ == Target::kStatic) {
    r.filename = route_.static_path;
  }
  r.log_id = request_id_text_;
  if (!remote_user_.empty()) r.user = remote_user_;
  r.sources = &src;
  server_->access_log().log(vh, r);
}

uint64_t HttpConn::bytes_in() const {
  const RequestHeaders headers = request_headers();
  const std::string_view method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  uint64_t in = method.size() + 1 + url().size() + 1 + 8 /* HTTP/1.x */ + 2 + 2 + body_bytes_;
  for (size_t i = 0; i < headers.size(); ++i) in += headers.name(i).size() + 2 + headers.value(i).size() + 2;
  return in;
}

// Plain additions on the loop thread; no allocation (the pid's entry exists
// after the first request a process answers).
void HttpConn::count_request() {
  if (counted_) return;
  counted_ = true;
  const uint64_t us = (uv_hrtime() - start_hr_) / 1000;
  FrontCounters& f = server_->metrics().front();
  ++f.requests;
  f.duration_us += us;
  f.bytes_in += bytes_in();
  f.bytes_out += resp_head_bytes_ + resp_body_bytes_ + resp_extra_bytes_;
  if (!counters_) return;
  counters_->count_request(status_, method_class(llhttp_method_name(static_cast<llhttp_method_t>(parser_.method))));
  counters_->total.observe_us(us);
  if (worker_took_) counters_->count_pid(worker_pid_);
}

void HttpConn::finish_request() {
  if (phase_ == Phase::kIdle) return;
  count_request();
  log_request(false);
  if (!body_done_) {
    // The application answered without reading all of the body: as Apache's
    // ap_discard_request_body() (and nginx), the rest is read and dropped and
    // the connection kept, with LimitRequestBody and the body's read timeout
    // still bounding it (a refusal then closes: the response has gone). A
    // response that was not the application's closes, as before.
    if (drops_body_kept()) {
      target_ = Target::kNone;
      backpressure_ = false;  // it held the client back for the worker, which is gone
      set_body_deadline();
      update_reading();
    } else {
      keep_alive_ = false;
    }
  }
  set_phase(Phase::kIdle);
  server_->request_finished();
  ++requests_;
  file_.close();
  if (!keep_alive_ || server_->closing_connections()) {
    close_after_flush();
    return;
  }
  if (body_done_) set_idle_deadline();
  give_back_buffers();
  if (!in_execute_ && !feeding_) {
    // A chunked body dropped after its response: what pending_ holds of it is
    // decoded now (reading waits while pending_ is full), then the next request.
    feed_body();
    resume_parsing();
  }
}

bool HttpConn::drops_body_kept() const {
  return !body_done_ && keep_alive_ && target_ == Target::kUpstream && close_ == CloseStage::kOpen;
}

void HttpConn::set_body_deadline() {
  const auto& cfg = router_->settings().config;
  deadline_ms_ = uv_now(server_->loop()) + static_cast<uint64_t>(cfg.body_timeout() * 1000);
  deadline_kind_ = kBody;
}

void HttpConn::set_idle_deadline() {
  const auto& cfg = router_->settings().config;
  deadline_ms_ = uv_now(server_->loop()) + static_cast<uint64_t>(cfg.keep_alive_timeout * 1000);
  deadline_kind_ = kIdle;
}

void HttpConn::give_back_buffers() {
  if (phase_ != Phase::kIdle || writing_) return;
  for (std::string* b : {&out_, &inflight_, &reqbuf_, &wire_}) {
    if (b->empty() && b->capacity() > kKeepBuffer) std::string().swap(*b);
  }
}

void HttpConn::refresh_write_deadline() {
  const auto& cfg = router_->settings().config;
  deadline_ms_ = uv_now(server_->loop()) + static_cast<uint64_t>(cfg.timeout * 1000);
  deadline_kind_ = kWrite;
}

// ---------------------------------------------------------------- writing

void HttpConn::write_out(std::string_view extra, std::string_view tail) {
  if (writing_ || close_ == CloseStage::kClosed) return;
  std::string* src = &out_;
  if (tls_) {
    if (!out_.empty()) {
      Status st = tls_->send(out_, &wire_);
      out_.clear();
      if (!st) {
        log::info("frontend: {}:{}: {}", remote_ip_, remote_port_, st.message());
        start_close();
        return;
      }
    }
    src = &wire_;
  }
  if (src->empty() && extra.empty()) return;
  write_req_.data = this;
  int err = 0;
  switch (write_or_queue(reinterpret_cast<uv_stream_t*>(&tcp_), src, extra, tail, &inflight_, &write_req_,
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
  give_back_buffers();
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
