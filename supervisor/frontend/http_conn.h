// HttpConn: one client TCP connection speaking HTTP/1.1 (llhttp), from accept to
// close.
//
// Driven by libuv callbacks on the Server's loop thread; owns its uv_tcp_t, its
// llhttp parser and its buffers, and frees itself once its handle has closed.
// Requests on a connection are served one at a time, in order: after a request's
// message is complete, parsing stops (llhttp pause) and bytes that arrive are kept
// (up to kMaxPending, then reading stops) until the response is complete; so
// pipelined requests get their responses in request order and a slow response
// never lets a client pile up work.
//
// Each request moves through the phases of request_phase.h (head, waiting,
// streaming, done) along its table; the environ comes from cgi_environ.h, the
// response heads and local error pages from response_head.h. Each request uses
// the Router current when it began (a reload applies to the
// next request on a kept-alive connection). Per request: the head is parsed and checked against the limits
// (LimitRequestLine -> 414, LimitRequestFieldSize / LimitRequestFields -> 400),
// refused shapes (Content-Length with Transfer-Encoding, two Content-Lengths,
// Transfer-Encoding in HTTP/1.0, '#' in the target, obs-fold, bare CR,
// whitespace before a header colon, a missing or repeated Host in HTTP/1.1) get a
// 400, an unknown method token 501, and the connection is closed; field values
// lose their OWS at both ends. The body: Content-Length through llhttp, chunked
// through chunked_body.h (llhttp skips it; bad chunks -> 400); the
// LimitRequestBody and WSGIChunkedRequest of the request's path (router.h
// body_rules) give 413 for a declared length over the limit, 413 when a body
// passes it while streaming, 411 for a chunked body to a script under
// WSGIChunkedRequest Off, once the request is routed and through the access
// phase. Before that, once the virtual host is known, the
// redirects and rewrites of rewrite_step.h may answer at once (3xx with
// Location, 403, 410; http_conn_rewrite.cc), and the request's Header and
// RequestHeader rules are picked (header_edit.h edits every response head,
// and the fields the environ is built from); then the Router picks the target
// and the access phase (access_check.h) answers 401/403/405/500 or lets it
// through: while a Basic password or one of mod_wsgi's auth scripts is checked
// on the thread pool (AccessJob), on_headers_complete() has returned HPE_PAUSED
// and the bytes that arrive wait in pending_; the job's callback (access_done)
// answers or dispatches, then parses them. The targets:
//  - a process group: the environ is written with proto::RequestHeadWriter
//    straight into the request buffer, the body streams as kRequestBody frames
//    (backpressure: reading stops while the worker connection holds kHighWater
//    unsent bytes) and the response streams back (reading the worker stops while
//    the client holds kHighWater unsent bytes); on plain TCP, large bodies go
//    between the two sockets by splice(2) both ways (splice_request_body,
//    upstream_splice; body_splice.h); HEAD responses lose their body, a
//    response without Content-Length is sent chunked (HTTP/1.1) or closes the
//    connection (HTTP/1.0);
//  - a static Alias: a StaticFile (static_file.h) writes the head and the body;
//  - one of the front end's pages (SetHandler server-status, wsgid-metrics,
//    wsgid-ready; Server::page()): answered at once, like a local answer;
//  - anything else: a local error response (404, 500, 503 with Retry-After).
// Each request that ends adds itself to the counters (metrics.h, issue 14):
// the front end's, and its group's when it was routed to one (status class,
// method, first-byte and total latency, queue wait when a worker took it,
// the 502/503/504 the front end gave by cause, the worker pid that answered);
// a few integer additions, no allocation.
// The client's address (issue 13): on a listener where mod_remoteip's
// RemoteIPProxyProtocol is on, the connection first reads a PROXY protocol
// header (proxy_protocol.h; http_conn_proxy.cc), within kProxyHeaderTimeoutMs,
// and is closed, with the reason in the log, when it does not send a valid one;
// its source address is then the client's for every request on the connection.
// Otherwise RemoteIPHeader (remote_ip.h) may give each request another client
// address, once its virtual host is known. That address is what access control,
// the access log (%a; %{c}a logs the peer), mod_wsgi's auth scripts and the
// environ see; mod_wsgi's WSGITrustedProxyHeaders (trusted_proxy.h) change the
// environ only.
// A client that goes away cancels its request in the worker (kCancel, then the
// worker connection is closed). Timeouts are checked by Server's sweep (tick()):
// header (RequestReadTimeout header=) -> 408, body (body=, no progress) -> 408,
// waiting for the response head (socket-timeout; queue-timeout while no worker has
// taken the request) -> 504, writing to the client (Timeout) and keep-alive idle
// (KeepAliveTimeout) -> close.
//
// On a `Listen ... uwsgi` socket (issue 15, docs/decisions.md 45) the
// connection begins, before any of this, with a check of its peer against
// WSGIUwsgiTrustedPeers (closed with a log line when it is not in it) and a
// uwsgi packet read by UwsgiPacketReader (uwsgi_packet.h; http_conn_uwsgi.cc)
// within RequestReadTimeout header=: its vars become an HTTP/1.x head that the
// parser reads like any other, so every check, routing, access rule, timeout
// and counter above applies unchanged; REMOTE_ADDR/REMOTE_PORT become the
// connection's client (as a PROXY header's source does), HTTPS/REQUEST_SCHEME the
// scheme (REQUEST_SCHEME, HTTPS and SSLRequireSSL as over TLS) and SERVER_PORT the
// environ's. A malformed packet gets a 400. One request per connection: the
// response is never chunked (close-delimited without the app's Content-Length)
// and ends with "Connection: close", as uWSGI's workers answer nginx.
//
// On a TLS Listen (issue 13) a tls::Session (supervisor/tls/tls_part.h) sits under all of
// this: what libuv reads is decrypted before llhttp sees it (on_read ->
// on_plain), and write_out() encrypts out_ into wire_ before uv_write; the
// backpressure counts wire_ too. The handshake must end within Timeout; the
// SNI name picks the vhost whose certificate is served (the address's first
// vhost without one), and a request whose Host picks a vhost with other TLS
// settings gets 421 (mod_ssl's ssl_hook_ReadReq). Static files go through
// out_ instead of sendfile(2). SSLRequireSSL paths answer 403 over plain HTTP.
#pragma once

#include <llhttp.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/frontend/access_check.h"
#include "supervisor/frontend/body_splice.h"
#include "supervisor/frontend/cgi_environ.h"
#include "supervisor/frontend/chunked_body.h"
#include "supervisor/frontend/request_headers.h"
#include "supervisor/frontend/proxy_protocol.h"
#include "supervisor/frontend/request_phase.h"
#include "supervisor/frontend/router.h"
#include "supervisor/frontend/static_file.h"
#include "supervisor/tls/tls_part.h"
#include "supervisor/frontend/upstream.h"
#include "supervisor/frontend/uwsgi_packet.h"

namespace wsgid::frontend {

class Server;

class HttpConn final : public UpstreamClient {
 public:
  // Bytes queued for the client (a response body) or for the worker (a
  // request body) past which the other side is no longer read, and below which
  // it is read again: a connection moving a body of any size holds a few
  // hundred KiB at most (the kernel's socket buffers keep the data flowing).
  // 256 KiB let the front end's RSS grow by about 1 MiB per connection moving
  // a large body (string capacities double); 128 KiB halves that at the same
  // throughput (tests/bench/README.md).
  static constexpr size_t kHighWater = 128 * 1024;
  static constexpr size_t kLowWater = 64 * 1024;
  static constexpr size_t kMaxPending = 64 * 1024;
  // A response body piece at least this large is written from the worker
  // connection's buffer (write_out(extra, tail), stream_write.h) instead of through out_;
  // smaller ones are gathered so that head, body and end go out in one write.
  static constexpr size_t kWriteThroughMin = 16 * 1024;
  // Request bytes kept for a resend to another worker (resend_rule.h): a
  // request longer than this (head and body frames) is not held whole.
  static constexpr size_t kReplayLimit = 64 * 1024;
  // A request whose body's rest is to be read by the worker from the
  // client's socket (hand_over_body()) is held whole by what came before
  // the handover: the head and the body's first read, up to this.
  static constexpr size_t kHandoverReplayLimit = 256 * 1024;
  // How long a connection may take to send its PROXY header (at most
  // RequestReadTimeout's header= when that is shorter): a balancer sends it
  // with its first bytes.
  static constexpr uint64_t kProxyHeaderTimeoutMs = 5000;

  // Accepts one connection from listener (a Listen socket, index in settings).
  static void accept_from(Server* server, uv_stream_t* listener);
  // Accepts every connection waiting in listener's queue (the kernel completed
  // their handshakes: their clients may have sent a request already), just
  // before the listener closes for a drain; returns how many.
  static size_t accept_backlog(Server* server, uv_stream_t* listener);
  // A connection accepted elsewhere (another loop's listener: loops.h), as
  // its descriptor: served here from now on. False (fd closed, logged) when
  // libuv cannot take it.
  static bool adopt(Server* server, int fd, model::ListenProtocol protocol);

  // Timeouts; now_ms is uv_now().
  void tick(uint64_t now_ms);
  // True between two requests with nothing buffered (drain may close it). A
  // connection that has not yet sent its first request is not idle: its
  // client is sending one, and closing it would reset that request; it is
  // served (with Connection: close) within the drain's bound.
  bool idle() const {
    return requests_ > 0 && phase_ == Phase::kIdle && pending_.empty() && write_pending() == 0;
  }
  // No byte of a request in progress: idle(), or accepted with nothing read
  // yet. What the Server may close when it runs out of descriptors (as nginx
  // reuses such connections); a client whose first request was on its way
  // sees a reset then, the price of serving the requests already read.
  bool reusable() const { return phase_ == Phase::kIdle && pending_.empty() && write_pending() == 0; }
  // Closes at once (shutdown); an in-flight request is cancelled.
  void close_now();
  // The request in progress, for kState ("current"); false when idle.
  bool describe(std::string* method, std::string* uri, uint64_t* start_ms, uint32_t* id) const;
  // A request handed to a group whose response is not complete (the status
  // pages' queue and busy gauges): its pool, whether a worker took it (its
  // HELLO arrived) and that worker's pid. False for anything else.
  struct InFlight {
    const UpstreamPool* pool = nullptr;
    bool taken = false;
    pid_t pid = 0;
  };
  bool in_flight(InFlight* out) const;

  HttpConn* prev = nullptr;  // Server's list of live connections
  HttpConn* next = nullptr;

  // UpstreamClient
  void upstream_ready(UpstreamConn* conn) override;
  void upstream_failed(int status, std::string_view why) override;
  void upstream_frame(const proto::Frame& frame) override;
  void upstream_closed(bool closing_notice, std::string_view why) override;
  void upstream_drained() override;
  void upstream_flush() override;
  void upstream_accepted() override;
  bool upstream_can_splice() const override;
  size_t upstream_splice(int fd, size_t max) override;
  uint32_t upstream_request_id() const override { return request_id_; }
  std::string_view upstream_whole_request() const override;
  bool upstream_request_sent() const override;
  bool upstream_bodyless() const override { return !has_body_; }
  void upstream_lost_ahead(bool started, std::string_view why) override;

  // llhttp callbacks (static trampolines in http_conn.cc call these).
  int on_message_begin();
  int on_url(const char* at, size_t len);
  int on_header_field(const char* at, size_t len);
  int on_header_value(const char* at, size_t len);
  int on_headers_complete();
  int on_body(const char* at, size_t len);
  int on_message_complete();

 private:
  enum class Target { kNone, kUpstream, kLocal, kStatic };
  // What deadline_ms_ is for (tick()).
  enum Deadline {
    kNone = 0, kIdle, kHeader, kBody, kUpstream, kWrite, kLinger, kProxyHeader, kUwsgiPacket
  };
  // An accepted connection's setup: addresses, router, deadline, reading; on
  // an https listener the handshake comes first, on a uwsgi one the packet.
  void start(model::ListenProtocol protocol);

  explicit HttpConn(Server* server);
  ~HttpConn() override;
  void on_read(ssize_t nread, const uv_buf_t* buf);
  // Request bytes in the clear (from the socket, or decrypted by tls_).
  void on_plain(const char* data, size_t len);
  // Bytes from the socket on a TLS connection (after any PROXY header).
  void on_tls_bytes(const char* data, size_t len);
  // The TLS connection's first vhost context and SNI picker (accept_from()).
  bool start_tls();
  // mod_ssl's check of the Host against the SNI name: 0, 400 or 421 (and *why).
  int sni_check(const model::VirtualHost* vh, std::string_view host, std::string* why) const;
  // The PROXY protocol step at connection start and the per-request client
  // address (http_conn_proxy.cc). start_proxy_header() decides, at accept,
  // whether the connection must begin with a PROXY header; read_proxy_header()
  // takes the bytes until it is complete, then hands the rest to execute().
  void start_proxy_header();
  void read_proxy_header(const char* data, size_t len);
  // RemoteIPHeader for a request to vh: sets remote_ip_ / remote_port_ and the
  // header edits of remoteip_edits_.
  void apply_remoteip(const model::VirtualHost* vh);
  // The uwsgi step (http_conn_uwsgi.cc): start_uwsgi() checks the peer against
  // WSGIUwsgiTrustedPeers at accept (false: not trusted, logged; the caller
  // closes); read_uwsgi_packet() takes the bytes until the packet is whole, then
  // parses its head and hands the rest (the body) to the parser.
  bool start_uwsgi();
  void read_uwsgi_packet(const char* data, size_t len);
  // The edits of the environ of a request routed to an application:
  // remoteip_edits_ plus WSGITrustedProxyHeaders' (trusted_proxy.h).
  const EnvironEdits* app_environ_edits();
  void update_reading();
  void execute(const char* data, size_t len);
  void resume_parsing();
  int fail(int status, std::string_view why);  // from a parser callback: refuse after it
  // fail() inside llhttp_execute, refuse() outside it (dispatch() runs in both).
  int refuse_head(int status, std::string_view why);
  // Request body bytes (llhttp's on_body or the chunked decoder): counted against
  // LimitRequestBody, sent to the worker or dropped. False past the limit.
  bool body_data(const char* at, size_t len);
  // The end of the request message: REQUEST_END, or the local/static answer.
  void message_done();
  // Decodes the chunked body from pending_ while the worker connection takes it.
  void feed_body();
  // A Content-Length body for a worker, past what is kept for a resend, on
  // plain TCP with nothing parsed ahead: request_splice_ready().
  // splice_request_body() then moves the body's bytes waiting in the client's
  // socket to the worker's (body_splice.h) as REQUEST_BODY frames, leaving its
  // last body_splice::kMinBytes to llhttp (which ends the message), while the
  // worker's socket takes them with nothing queued before; meanwhile reads of
  // the client take kSpliceWakeRead bytes (request_splicing()). Called after
  // each read, when a worker connection is attached and when it drains.
  bool request_splice_ready() const;
  bool request_splicing() const { return request_splice_ready() && body_splice::available(); }
  void splice_request_body();
  static constexpr size_t kSpliceWakeRead = 1024;
  // A Content-Length body for a group's worker of which at least kHandoverMin
  // bytes are still in the client's plain TCP socket, nothing parsed ahead:
  // the socket itself goes to the worker (BODY_SOCKET with SCM_RIGHTS, then
  // REQUEST_END; protocol/PROTOCOL.md 5.5, docs/decisions.md 57), which reads
  // the rest of the body from it into the application's memory; this side
  // stops reading the client until the worker's BODY_TAKEN says how many bytes
  // it took (body_taken()): the whole body, else the rest is read and dropped
  // as for any body the application left. Called where splice_request_body()
  // is, before it.
  bool handover_ready() const;
  // Whether this request's body is one to hand over (or handed over): what
  // does not change while it waits for a worker connection.
  bool handover_candidate() const;
  void hand_over_body();
  void body_taken(const proto::Frame& f);
  // Whether the client's socket moved since the last call (data received by
  // TCP, bytes waiting in it): a handed-over body making progress.
  bool handover_progressed();
  // The worker connection is lost or given up while the worker holds the
  // client's socket: this request reads nothing more and closes after its answer.
  void lose_handover();
  // A response body written by the worker to the client's socket
  // (protocol/PROTOCOL.md 5.6, docs/decisions.md 58). The worker asks with
  // SOCKET_ASK right after the head of a response with a Content-Length;
  // socket_asked() grants it on plain TCP when the body goes out as it
  // is (no chunking, not HEAD, no request body still with the worker, no
  // earlier response still being written): the head goes with the socket in
  // RESPONSE_SOCKET for the worker to write (send_socket()); otherwise it
  // answers no and the body comes in frames. response_sent() takes the
  // worker's count back (RESPONSE_SENT) before RESPONSE_END.
  void socket_asked(const proto::Frame& f);
  void refuse_socket(std::string_view why);  // logged at debug level
  // RESPONSE_SOCKET granted, with head (what the worker writes first) and
  // the client's socket; false when the worker's socket cannot take it now.
  bool send_socket(std::string_view head);
  void response_sent(const proto::Frame& f);
  // The client closed or reset its connection: logged as Apache does, closed.
  void client_closed();
  // The same while the worker holds the socket (resp_socket_out_): a client
  // that read the whole body may close before the worker's RESPONSE_SENT
  // comes. Its count says how the response ended (done, or the client gone),
  // so the connection reads no more and waits for it (the write deadline
  // still bounds that), then closes.
  void client_ended_under_worker();
  static constexpr uint64_t kHandoverMin = 64 * 1024;
  enum class Handover : uint8_t {
    kNone,  // the body (if any) comes through this side
    kOut,   // the client's socket is the worker's: not read here
    kBack,  // the worker is done with it: what it left is dropped here
  };
  void refuse(int status, std::string_view why);  // error response, then close
  std::string_view header(std::string_view name) const;  // first value, "" if none
  std::string_view url() const { return {head_.data(), url_len_}; }
  RequestHeaders request_headers() const { return {head_, headers_.data(), headers_.size()}; }
  EnvironInput environ_input(std::string_view query, std::string_view host) const;
  bool build_request(std::string_view query, std::string_view host);
  // The access phase and what follows it (access_check.h).
  authz::Request access_request() const;
  void refuse_access(const AccessAnswer& a);
  AccessJob::Input access_job_input(const AccessChain& chain);
  void access_done(const AccessAnswer& a);
  int dispatch();
  void push_request();
  void set_idle_deadline();
  void set_body_deadline();  // RequestReadTimeout body, from now
  // The application's response is complete before its request body: the rest
  // will be read and dropped, the connection kept (finish_request()).
  bool drops_body_kept() const;
  void set_upstream_deadline();
  // The worker connection is lost before the response head (upstream_closed,
  // upstream_lost_ahead): sent again when resend_rule.h allows it, else 502/503.
  void upstream_lost(bool notice, std::string_view why);
  void refresh_write_deadline();
  void send_local(int status, std::string_view why, bool retry_after);
  // A 502/503/504 of the front end's own for a group's request, counted by
  // cause (metrics.h) and sent with send_local (503s with Retry-After).
  void send_gateway(GatewayCause cause, std::string_view why);
  // The request's share of the counters (metrics.h), once, when it ends.
  void count_request();
  // The worker took the request: its queue wait, once.
  void note_taken();
  // mod_logio's %I of the request.
  uint64_t bytes_in() const;
  void emit_local();
  void start_response_head(int status, std::string_view reason);
  void finish_head(bool has_length);
  void write_body(std::string_view data);
  void response_complete();
  void finish_request();
  // One access-log line; aborted: the response did not complete (%X logs X).
  void log_request(bool aborted);
  void abort_connection(std::string_view why);
  // Lets go of the upstream connection (cancelling the request when cancel; with
  // *refusal, the worker is told why the body ends: UpstreamConn::abort).
  void detach_upstream(bool cancel, const proto::ErrorMessage* refusal = nullptr);
  void serve_static();
  void pump_file();
  // Redirects, rewrites and header rules (http_conn_rewrite.cc, rewrite_step.h):
  // picks the request's Header rules and answers it when a rewrite or redirect
  // decides (true: answered, do not route).
  bool rewrite_request(const model::VirtualHost* vh, std::string_view host,
                       std::string_view query);
  // mod_alias's redirects of <Location>, <Directory> and <Files> sections, once
  // the request is mapped and passed the access phase (true: answered).
  bool section_redirect();
  rewrite::RequestView rewrite_view(const model::VirtualHost* vh, std::string_view host,
                                    std::string_view query, bool with_headers, std::string* name,
                                    rewrite::HeaderList* headers) const;
  void answer_rewrite(RewriteAnswer a);
  // This server's URL for `path` ("http://HOST[:PORT]PATH"), as Apache's
  // ap_construct_url under UseCanonicalName Off: the name and port the client's
  // Host named, else the server's.
  std::string own_url(std::string_view host, std::string_view path);
  // The headers the environ is built from: RequestHeader's edits, if any.
  RequestHeaders environ_headers();
  // The Header rules on the response head begun at head_start_ (header_edit.h).
  void edit_head();

  // Client output: out_, then extra and tail (a large body piece from where it
  // lies, and its chunk's CRLF; plain TCP and no write in flight only), in one
  // write; what the kernel leaves is queued (stream_write.h write_or_queue).
  void write_out(std::string_view extra = {}, std::string_view tail = {});
  void on_write_done(int status);
  void after_write();
  // Between requests, with nothing left to write: frees the buffers a large
  // body grew past kKeepBuffer, so that an idle keep-alive connection holds
  // none (their capacity would otherwise stay for the connection's life).
  void give_back_buffers();
  static constexpr size_t kKeepBuffer = 64 * 1024;
  size_t write_pending() const { return out_.size() + inflight_.size() + wire_.size(); }
  void close_after_flush();
  void start_close();
  void set_phase(Phase to);  // aborts (log::bug) on a move not in request_phase.h's table
  // The response head was written, or no request is in progress (nothing to answer:
  // a refusal between requests closes the connection without a page).
  bool response_started() const { return phase_ == Phase::kStreaming || phase_ == Phase::kDone || phase_ == Phase::kIdle; }
  // A request is in progress and its response is not complete.
  bool answering() const { return phase_ != Phase::kIdle && phase_ != Phase::kDone; }

  Server* server_;
  uv_tcp_t tcp_;
  uv_write_t write_req_;
  uv_shutdown_t shutdown_req_;
  llhttp_t parser_;
  std::shared_ptr<const Router> router_;
  std::vector<const model::VirtualHost*> vhosts_;
  std::string local_ip_, remote_ip_;
  int local_port_ = 0, remote_port_ = 0;
  // The TCP peer (%{c}a) and the connection's client: the peer, or the source
  // of its PROXY header. remote_ip_ is the current request's client.
  std::string peer_ip_, conn_ip_;
  int peer_port_ = 0, conn_port_ = 0;
  bool proxy_header_seen_ = false;  // a PROXY header gave conn_ip_: RemoteIPHeader is off
  std::unique_ptr<ProxyHeaderReader> proxy_reader_;  // while the PROXY header is read
  // A uwsgi listener's connection (uwsgi_packet.h): the reader while the packet
  // is read, the head it gave (kept for the parse), the scheme and SERVER_PORT.
  bool uwsgi_ = false, uwsgi_https_ = false;
  std::unique_ptr<UwsgiPacketReader> uwsgi_reader_;
  std::string uwsgi_head_, uwsgi_server_port_;
  EnvironEdits remoteip_edits_, app_edits_;
  // How far the connection is in closing; only ever moves forward (start_close()
  // jumps to kClosed from any stage):
  //   kOpen          serving requests
  //   kAfterFlush    close_after_flush(): stop parsing, send what is queued
  //   kShutdownSent  everything was written; uv_shutdown (FIN) is under way
  //   kLingering     FIN sent: read and drop what the client still sends, for a
  //                  while, so that a reset does not destroy our response
  //   kClosed        uv_close called; the object is deleted in its close callback
  enum class CloseStage { kOpen, kAfterFlush, kShutdownSent, kLingering, kClosed };
  CloseStage close_ = CloseStage::kOpen;
  bool reading_ = false, backpressure_ = false;
  bool writing_ = false;
  bool in_execute_ = false, upgrade_pause_ = false;
  bool push_deferred_ = false;  // push_request() was called inside execute()
  uint64_t deadline_ms_ = 0;
  int deadline_kind_ = 0;
  int requests_ = 0;

  // Parsing state of the current request head.
  std::string head_;  // url, then header names and values, back to back
  uint32_t url_len_ = 0;
  std::vector<HeaderSpan> headers_;
  int last_cb_ = 0;  // 1 url, 2 field, 3 value
  const char* value_end_ = nullptr;  // end of the last value span in the current buffer
  bool value_at_buffer_end_ = false;
  const char* buf_begin_ = nullptr;
  const char* buf_end_ = nullptr;
  size_t field_len_ = 0;
  std::string pending_;    // bytes after a complete message, parsed after its response
  std::string parse_buf_;  // pending_ while it is being parsed
  bool paused_ = false;
  int refuse_status_ = 0;
  std::string refuse_why_;

  // The current request.
  Phase phase_ = Phase::kIdle;  // request_phase.h
  bool body_done_ = false;  // llhttp reported the end of the request message
  // The request body (issue 12). llhttp reads heads and Content-Length bodies; a
  // chunked body is read by chunked_in_ (llhttp 8.1 refuses RFC 9112's BWS in chunk
  // extensions): llhttp is told to skip it (F_SKIPBODY), pauses at the end of
  // the head, and feed_body() decodes from pending_ until the body ends.
  int64_t body_limit_ = 0;        // LimitRequestBody in force (0 = unlimited)
  bool chunked_allowed_ = false;  // WSGIChunkedRequest in force
  bool require_ssl_ = false;      // SSLRequireSSL in force
  bool chunked_body_ = false;     // Transfer-Encoding: chunked
  bool chunked_active_ = false;   // feed_body() owns the bytes until the body ends
  bool feeding_ = false;          // inside feed_body()
  ChunkedBody chunked_in_;
  Target target_ = Target::kNone;
  uint32_t request_id_ = 0;
  std::string request_id_text_;
  uint64_t start_ms_ = 0, start_hr_ = 0;
  int64_t request_start_us_ = 0;
  uint64_t body_bytes_ = 0;
  bool head_method_ = false, http10_ = false, keep_alive_ = true;
  Route route_;
  std::string path_;
  EnvironScratch environ_scratch_;
  std::string body_scratch_;
  UpstreamPool* pool_ = nullptr;
  UpstreamConn* upstream_ = nullptr;
  bool waiting_upstream_ = false, worker_took_ = false;
  GroupCounters* counters_ = nullptr;  // the group's (pool_'s), for a group's request
  uint64_t queued_hr_ = 0;             // uv_hrtime() when handed to the group
  bool counted_ = false;               // count_request() ran for this request
  bool waited_replacement_ = false;  // the upstream deadline is connect-timeout's (replacing group)
  bool app_started_ = false;         // the worker's STARTED for this attempt
  bool resent_after_start_ = false;  // a worker died after STARTED already
  int retries_ = 0;
  std::string reqbuf_;  // frames for the worker not yet sent (and the replay copy)
  size_t reqbuf_sent_ = 0;
  bool replayable_ = true;
  Handover handover_ = Handover::kNone;
  // The client's socket is the worker's for this response's body (from
  // RESPONSE_SOCKET to RESPONSE_SENT): nothing is written here.
  bool resp_socket_out_ = false;
  bool client_ended_ = false;  // its end came while resp_socket_out_: read no more
  bool handover_refused_ = false;  // the worker's socket could not take it: not tried again
  uint64_t handover_looked_ms_ = 0, handover_queued_ = 0;  // handover_progressed()'s last look
  pid_t worker_pid_ = 0;
  int local_status_ = 0;
  bool local_retry_after_ = false;
  std::string local_challenge_;  // a local 401's WWW-Authenticate value
  // A local answer with a body of its own (TRACE's message/http echo, trace.h)
  // in body_scratch_: its Content-Type; "" for the error pages.
  std::string local_type_;
  // The access phase (access_check.h): the head's facts dispatch() needs after
  // a password check (views into head_), the check in flight, the user.
  std::string_view saved_query_, saved_host_;
  bool send_continue_ = false, has_body_ = false;
  AccessJob* access_job_ = nullptr;
  std::string remote_user_;

  // The response.
  bool chunked_ = false, no_body_ = false;
  int status_ = 0;
  uint64_t resp_body_bytes_ = 0;
  uint64_t resp_head_bytes_ = 0;   // the head as sent (%O)
  uint64_t resp_extra_bytes_ = 0;  // chunk framing and a 100 Continue (%O)
  std::string resp_head_;          // a copy of the head, for %{NAME}o
  int64_t resp_length_ = -1;  // Content-Length given by the app
  std::string out_, inflight_;
  std::string log_note_;  // why a request failed, for the access/error log

  // The static file being sent.
  StaticFile file_;

  // TLS (supervisor/tls/tls_part.h): null on a plain-HTTP Listen.
  std::unique_ptr<tls::Session> tls_;
  std::shared_ptr<const tls::Contexts> tls_contexts_;  // those tls_'s contexts came from
  std::string wire_;       // encrypted bytes not yet handed to uv_write
  std::string tls_plain_;  // decrypted bytes of the current read
  std::string sni_key_;    // tls::compat_key() of the vhost the SNI name picked

  // Redirects, rewrites and header rules of the current request (rewrite_step.h).
  const rewrite::HeaderRules* header_rules_ = nullptr;  // into router_'s, or header_scratch_
  rewrite::HeaderRules header_scratch_;
  size_t head_start_ = 0;          // where the response head begins in out_
  std::string local_location_;     // a local redirect's Location
  std::string local_range_;        // a local 416's Content-Range value ("bytes */SIZE")
  std::string edited_head_;        // RequestHeader's edited fields
  std::vector<HeaderSpan> edited_spans_;
};

}  // namespace wsgid::frontend
