// remote_ip: mod_remoteip's RemoteIPHeader walk, which rewrites the client
// address of a request before access control, the access log and the
// application see it.
//
// HttpConn calls remoteip_walk() once per request, once the virtual host is
// known (mod_remoteip's settings are per server and <VirtualHost>) and only on
// a connection without a PROXY protocol header (that address takes precedence,
// as in mod_remoteip); proxy_protocol_required() once per connection. Pure: no socket, any thread; the rules come from the
// front end's settings (RemoteIPRules::from_config, built once per Router).
//
// The walk is remoteip_modify_request() of httpd's modules/metadata/
// mod_remoteip.c: starting from the peer, while the current address is a
// trusted proxy (RemoteIPTrustedProxy / RemoteIPInternalProxy, or any address
// when neither is given), take the header's rightmost remaining address as the
// new current one. It stops at an address that is not a proxy, at an empty or
// unparsable item (wsgid never resolves host names: docs/decisions.md 36), and
// -- unless every proxy so far was internal -- at a private address
// (10/8, 127/8, 169.254/16, 172.16/12, 192.168/16; IPv6 outside 2000::/3), so
// that an external proxy cannot present an internal client. The result: the
// client address (port 0: unknown), what is left of the header (the items not
// consumed; none = the header is removed), and the external proxies that took
// part, for RemoteIPProxiesHeader.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/config.h"
#include "supervisor/authz/ip.h"

namespace wsgid::frontend {

struct RemoteIPProxy {
  authz::IpSpec spec;
  bool internal = false;  // RemoteIPInternalProxy
};

// One server's or <VirtualHost>'s mod_remoteip settings, merged as mod_remoteip
// merges them (a vhost's value, else the server's).
struct RemoteIPRules {
  std::string header;          // RemoteIPHeader; "" = off
  std::string proxies_header;  // RemoteIPProxiesHeader; "" = none
  std::vector<RemoteIPProxy> proxies;  // empty = every peer is a trusted external proxy

  // vh may be nullptr or &config.server (the main server's). Specs the parser
  // has checked; one that does not parse is skipped.
  static RemoteIPRules from_config(const model::Config& config, const model::VirtualHost* vh);
};

struct RemoteIPResult {
  bool changed = false;       // false: the request keeps the peer as its client
  authz::Address client;
  std::string client_ip;      // client as text ("203.0.113.7", "2001:db8::1")
  std::optional<std::string> header_rest;  // the header's new value; nullopt = remove it
  std::string proxy_ips;      // "a, b": the external proxies; "" = none
};

// header_value: the RemoteIPHeader's value, repeated fields joined with ", ".
RemoteIPResult remoteip_walk(const RemoteIPRules& rules, const authz::Address& peer,
                             std::string_view peer_ip, std::string_view header_value);

// True for the addresses an external proxy may not present (see above).
bool remoteip_private(const authz::Address& a);

// RemoteIPProxyProtocol, per address:port as mod_remoteip keeps it
// (remoteip_enable_proxy_protocol / remoteip_hook_pre_connection): the main
// server's setting covers every address and port, then each <VirtualHost>'s
// covers its own addresses, in config order, a later On or Off for the same
// address replacing the earlier one; "*" matches any local address. True when
// a connection accepted on local:local_port from peer must begin with a PROXY
// header: some On covers it, no Off does, and the peer is not in
// RemoteIPProxyProtocolExceptions. Called once per connection.
bool proxy_protocol_required(const model::Config& config, std::string_view local_ip,
                             int local_port, const authz::Address& peer);

}  // namespace wsgid::frontend
