// remoteip_walk: mod_remoteip's RemoteIPHeader walk (see the header).
#include "supervisor/frontend/remote_ip.h"

namespace wsgid::frontend {
namespace {

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

RemoteIPRules RemoteIPRules::from_config(const model::Config& config,
                                         const model::VirtualHost* vh) {
  const model::VirtualHost& server = config.server;
  if (!vh) vh = &server;
  RemoteIPRules r;
  r.header = vh->remoteip_header ? *vh->remoteip_header : server.remoteip_header.value_or("");
  r.proxies_header = vh->remoteip_proxies_header ? *vh->remoteip_proxies_header
                                                 : server.remoteip_proxies_header.value_or("");
  const auto& list = vh->remoteip_proxies ? vh->remoteip_proxies : server.remoteip_proxies;
  if (list) {
    for (const model::RemoteIPProxySpec& p : *list) {
      authz::SpecError why;
      if (auto spec = authz::IpSpec::parse(p.address, &why)) r.proxies.push_back({*spec, p.internal});
    }
  }
  return r;
}

bool remoteip_private(const authz::Address& addr) {
  authz::Address a = addr.unmapped();
  if (!a.v6) {
    const auto& b = a.bytes;
    return b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
           (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168);
  }
  return (a.bytes[0] & 0xe0) != 0x20;  // only global unicast 2000::/3
}

RemoteIPResult remoteip_walk(const RemoteIPRules& rules, const authz::Address& peer,
                             std::string_view peer_ip, std::string_view header_value) {
  RemoteIPResult res;
  // With a proxy list every proxy counts as internal until an external one is
  // met; without one every peer is an external trusted proxy.
  bool internal = !rules.proxies.empty();
  authz::Address current = peer;
  std::string current_ip(peer_ip);
  std::string_view remote = header_value;
  bool consumed_all = false;
  for (;;) {
    if (!rules.proxies.empty()) {
      const RemoteIPProxy* match = nullptr;
      for (const RemoteIPProxy& p : rules.proxies)
        if (p.spec.matches(current)) {
          match = &p;
          break;
        }
      if (!match) break;
      // An internal proxy may present an external one, never the reverse.
      if (internal) internal = match->internal;
    }
    size_t comma = remote.rfind(',');
    std::string_view item = comma == std::string_view::npos ? remote : remote.substr(comma + 1);
    item = trim_spaces(item);
    if (item.empty()) break;
    std::optional<authz::Address> addr = authz::Address::parse(item);
    if (!addr) break;
    if (!internal && remoteip_private(*addr)) break;
    if (!internal) {
      if (!res.proxy_ips.empty()) res.proxy_ips += ", ";
      res.proxy_ips += current_ip;
    }
    res.changed = true;
    current = addr->unmapped();
    current_ip = current.to_string();
    if (comma == std::string_view::npos) {
      consumed_all = true;
      break;
    }
    remote = remote.substr(0, comma);
  }
  if (!res.changed) return res;
  res.client = current;
  res.client_ip = current_ip;
  if (!consumed_all) res.header_rest = std::string(remote);
  return res;
}

namespace {

struct PPEntry {
  std::string host;  // "" = any address
  int port = 0;      // 0 = any port
};

bool compatible(const PPEntry& e, std::string_view ip, int port) {
  return (e.host.empty() || e.host == ip) && (e.port == 0 || e.port == port);
}

void set_pp(std::vector<PPEntry>* add, std::vector<PPEntry>* rem, const PPEntry& e) {
  for (size_t i = 0; i < rem->size(); ++i)
    if ((*rem)[i].host == e.host && (*rem)[i].port == e.port) {
      rem->erase(rem->begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  for (const PPEntry& x : *add)
    if ((x.host.empty() || x.host == e.host) && (x.port == 0 || x.port == e.port)) return;
  add->push_back(e);
}

}  // namespace

bool proxy_protocol_required(const model::Config& config, std::string_view local_ip,
                             int local_port, const authz::Address& peer) {
  std::vector<PPEntry> on, off;
  if (config.server.remoteip_proxy_protocol)
    set_pp(*config.server.remoteip_proxy_protocol ? &on : &off,
           *config.server.remoteip_proxy_protocol ? &off : &on, PPEntry{});
  for (const model::VirtualHost& vh : config.vhosts) {
    if (!vh.remoteip_proxy_protocol) continue;
    bool enable = *vh.remoteip_proxy_protocol;
    for (const model::ListenAddr& a : vh.addrs)
      set_pp(enable ? &on : &off, enable ? &off : &on, PPEntry{a.host, a.port});
  }
  bool enabled = false;
  for (const PPEntry& e : on) enabled = enabled || compatible(e, local_ip, local_port);
  for (const PPEntry& e : off) enabled = enabled && !compatible(e, local_ip, local_port);
  if (!enabled) return false;
  for (const std::string& x : config.proxy_protocol_exceptions) {
    authz::SpecError why;
    if (auto spec = authz::IpSpec::parse(x, &why); spec && spec->matches(peer)) return false;
  }
  return true;
}

}  // namespace wsgid::frontend
