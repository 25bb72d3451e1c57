// HttpConn on a `Listen ... uwsgi` socket (issue 15, docs/decisions.md 45): the
// peer check at accept and the uwsgi packet before the request. See http_conn.h;
// the packet reader is uwsgi_packet.h.
#include <optional>

#include "common/log.h"
#include "supervisor/authz/ip.h"
#include "supervisor/frontend/http_conn.h"
#include "supervisor/frontend/server.h"

namespace wsgid::frontend {

bool HttpConn::start_uwsgi() {
  const model::Config& cfg = router_->settings().config;
  bool trusted = false;
  if (std::optional<authz::Address> peer = authz::Address::parse(peer_ip_)) {
    for (const std::string& text : cfg.uwsgi_trusted_peers) {
      authz::SpecError why;
      std::optional<authz::IpSpec> spec = authz::IpSpec::parse(text, &why);
      if (spec && spec->matches(*peer)) {
        trusted = true;
        break;
      }
    }
  }
  if (!trusted) {
    std::string peers;
    for (const std::string& text : cfg.uwsgi_trusted_peers) peers += (peers.empty() ? "" : " ") + text;
    log::warn("frontend: {}:{} -> {}:{}: connection closed: the peer is not in "
              "WSGIUwsgiTrustedPeers, and a uwsgi listener believes its peer's REMOTE_ADDR "
              "(trusted: {})",
              peer_ip_, peer_port_, local_ip_, local_port_, peers);
    ++server_->metrics().front().refused[static_cast<size_t>(RefuseReason::kUwsgiPeer)];
    return false;
  }
  uwsgi_ = true;
  uwsgi_reader_ = std::make_unique<UwsgiPacketReader>();
  deadline_ms_ = uv_now(server_->loop()) +
                 static_cast<uint64_t>(cfg.header_timeout() * 1000);
  deadline_kind_ = kUwsgiPacket;
  return true;
}

void HttpConn::read_uwsgi_packet(const char* data, size_t len) {
  size_t used = 0;
  UwsgiPacketReader::State st = uwsgi_reader_->feed(std::string_view(data, len), &used);
  if (st == UwsgiPacketReader::State::kNeedMore) return;
  if (st == UwsgiPacketReader::State::kError) {
    std::string why = "bad uwsgi packet: " + uwsgi_reader_->error();
    log::warn("frontend: {}:{}: {} (Listen {}:{} uwsgi)", peer_ip_, peer_port_, why, local_ip_,
              local_port_);
    uwsgi_reader_.reset();
    // A request without a head of its own: answered 400 and closed, as a
    // malformed HTTP request is.
    on_message_begin();
    refuse(400, why);
    return;
  }
  UwsgiRequest r = uwsgi_reader_->request();
  uwsgi_reader_.reset();
  if (!r.remote_ip.empty()) {
    conn_ip_ = remote_ip_ = r.remote_ip;
    conn_port_ = remote_port_ = r.remote_port;
  }
  // nginx named the client: RemoteIPHeader does not apply, as after a PROXY header.
  proxy_header_seen_ = true;
  uwsgi_https_ = r.https;
  uwsgi_server_port_ = std::move(r.server_port);
  uwsgi_head_ = std::move(r.head);
  deadline_kind_ = kIdle;  // on_message_begin() sets the header deadline
  log::debug("frontend: {}:{}: uwsgi packet: client {}:{}{}", peer_ip_, peer_port_, conn_ip_,
             conn_port_, uwsgi_https_ ? " (https)" : "");
  on_plain(uwsgi_head_.data(), uwsgi_head_.size());
  if (close_ == CloseStage::kOpen && used < len) on_plain(data + used, len - used);
}

}  // namespace wsgid::frontend
