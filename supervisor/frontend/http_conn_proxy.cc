// HttpConn's client address (issue 13): the PROXY protocol step at connection
// start, mod_remoteip's RemoteIPHeader per request, mod_wsgi's trusted proxy
// headers for the application's environ. See http_conn.h; the parsers and rules
// are in proxy_protocol.h, remote_ip.h and trusted_proxy.h.
#include <algorithm>

#include "common/log.h"
#include "supervisor/frontend/http_conn.h"
#include "supervisor/frontend/remote_ip.h"
#include "supervisor/frontend/server.h"
#include "supervisor/frontend/trusted_proxy.h"

namespace wsgid::frontend {

void HttpConn::start_proxy_header() {
  const model::Config& cfg = router_->settings().config;
  std::optional<authz::Address> peer = authz::Address::parse(peer_ip_);
  if (!peer || !proxy_protocol_required(cfg, local_ip_, local_port_, *peer)) return;
  proxy_reader_ = std::make_unique<ProxyHeaderReader>();
  uint64_t ms = std::min<uint64_t>(kProxyHeaderTimeoutMs,
                                   static_cast<uint64_t>(cfg.header_timeout() * 1000));
  deadline_ms_ = uv_now(server_->loop()) + ms;
  deadline_kind_ = kProxyHeader;
}

void HttpConn::read_proxy_header(const char* data, size_t len) {
  size_t used = 0;
  ProxyHeaderReader::State st = proxy_reader_->feed(std::string_view(data, len), &used);
  if (st == ProxyHeaderReader::State::kNeedMore) return;
  if (st == ProxyHeaderReader::State::kError) {
    log::warn("frontend: {}:{}: connection closed: {} (RemoteIPProxyProtocol On)", peer_ip_,
              peer_port_, proxy_reader_->error());
    proxy_reader_.reset();
    ++server_->metrics().front().refused[static_cast<size_t>(RefuseReason::kProxyHeader)];
    start_close();
    return;
  }
  const ProxyHeader& h = proxy_reader_->header();
  if (!h.local) {
    conn_ip_ = remote_ip_ = h.source_ip;
    conn_port_ = remote_port_ = h.source_port;
    proxy_header_seen_ = true;
  }
  log::debug("frontend: {}:{}: PROXY v{} header: client {}:{}", peer_ip_, peer_port_, h.version,
             conn_ip_, conn_port_);
  proxy_reader_.reset();
  const auto& cfg = router_->settings().config;
  // Waiting for the first request, or on a TLS Listen for the handshake that
  // follows the header (under Timeout).
  deadline_ms_ = uv_now(server_->loop()) +
                 static_cast<uint64_t>((tls_ ? cfg.timeout : cfg.header_timeout()) * 1000);
  deadline_kind_ = kIdle;
  if (used < len && tls_) {
    on_tls_bytes(data + used, len - used);
    return;
  }
  if (used < len) {
    execute(data + used, len - used);
    if (paused_ && phase_ == Phase::kIdle) resume_parsing();
  }
}

void HttpConn::apply_remoteip(const model::VirtualHost* vh) {
  if (!uwsgi_server_port_.empty()) remoteip_edits_.server_port = uwsgi_server_port_;
  if (proxy_header_seen_) return;  // the PROXY header's address takes precedence
  const model::Config& cfg = router_->settings().config;
  const model::VirtualHost* rules_vh = vh ? vh : &cfg.server;
  if (!rules_vh->remoteip_header && !cfg.server.remoteip_header) return;
  RemoteIPRules rules = RemoteIPRules::from_config(cfg, rules_vh);
  if (rules.header.empty()) return;
  RequestHeaders headers = request_headers();
  std::optional<std::string> value = environ_header(headers, nullptr, rules.header);
  if (!value) return;
  std::optional<authz::Address> peer = authz::Address::parse(conn_ip_);
  if (!peer) return;
  RemoteIPResult r = remoteip_walk(rules, *peer, conn_ip_, *value);
  if (!r.changed) return;
  remote_ip_ = r.client_ip;
  remote_port_ = 0;  // mod_remoteip: the port is not known
  remoteip_edits_.set_header(rules.header, r.header_rest);
  if (!r.proxy_ips.empty() && !rules.proxies_header.empty())
    remoteip_edits_.set_header(rules.proxies_header, r.proxy_ips);
}

const EnvironEdits* HttpConn::app_environ_edits() {
  app_edits_ = remoteip_edits_;
  if (route_.trusted_proxy_headers)
    apply_trusted_proxy_headers(*route_.trusted_proxy_headers, route_.trusted_proxies, remote_ip_,
                                environ_headers(), &app_edits_);
  return app_edits_.empty() ? nullptr : &app_edits_;
}

}  // namespace wsgid::frontend
