// mod_remoteip's RemoteIPHeader walk (remoteip_walk) and where the PROXY
// protocol is required (proxy_protocol_required), row by row against
// remoteip_modify_request() and remoteip_hook_pre_connection() of httpd's
// modules/metadata/mod_remoteip.c.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "supervisor/frontend/remote_ip.h"

namespace wsgid::frontend {
namespace {

RemoteIPRules rules(std::vector<std::pair<const char*, bool>> proxies) {
  RemoteIPRules r;
  r.header = "X-Forwarded-For";
  for (auto [addr, internal] : proxies) {
    authz::SpecError why;
    auto spec = authz::IpSpec::parse(addr, &why);
    REQUIRE(spec);
    r.proxies.push_back({*spec, internal});
  }
  return r;
}

}  // namespace

TEST_CASE("RemoteIPHeader: the walk from the peer back through the trusted proxies") {
  struct Case {
    const char* what;
    std::vector<std::pair<const char*, bool>> proxies;  // (spec, internal)
    const char* peer;
    const char* header;
    const char* client;  // nullptr: unchanged
    std::optional<std::string> rest;  // the header's new value; nullopt: removed
    const char* proxy_ips;
  } cases[] = {
      // No proxy list: every peer is an external trusted proxy; private
      // addresses stop the walk.
      {"no list, one public client", {}, "127.0.0.1", "203.0.113.9", "203.0.113.9", std::nullopt,
       "127.0.0.1"},
      {"no list, a chain", {}, "127.0.0.1", "198.51.100.2, 203.0.113.9", "198.51.100.2",
       std::nullopt, "127.0.0.1, 203.0.113.9"},
      {"no list, a private item stops it", {}, "127.0.0.1", "198.51.100.2, 10.1.1.1", nullptr,
       std::string("198.51.100.2, 10.1.1.1"), ""},
      {"no list, a private address after a public one", {}, "127.0.0.1",
       "10.1.1.1, 198.51.100.2", "198.51.100.2", std::string("10.1.1.1"), "127.0.0.1"},
      // Internal proxies: private clients are believed.
      {"internal proxy, private client", {{"127.0.0.1", true}}, "127.0.0.1", "10.1.2.3",
       "10.1.2.3", std::nullopt, ""},
      {"peer not a proxy: untouched", {{"127.0.0.1", true}}, "127.0.0.2", "203.0.113.9", nullptr,
       std::string("203.0.113.9"), ""},
      {"spoofed items left of the last untrusted hop stay", {{"127.0.0.1", true}}, "127.0.0.1",
       "1.1.1.1, 203.0.113.9", "203.0.113.9", std::string("1.1.1.1"), ""},
      {"two internal hops", {{"127.0.0.1", true}, {"10.0.0.0/8", true}}, "127.0.0.1",
       "6.6.6.6, 203.0.113.9, 10.0.0.5", "203.0.113.9", std::string("6.6.6.6"), ""},
      // A trusted (external) proxy cannot present a private address, and
      // once an external proxy is met, the rest count as external.
      {"trusted proxy, private client refused", {{"127.0.0.1", false}}, "127.0.0.1", "10.1.2.3",
       nullptr, std::string("10.1.2.3"), ""},
      {"trusted proxy, public client", {{"127.0.0.1", false}}, "127.0.0.1", "203.0.113.9",
       "203.0.113.9", std::nullopt, "127.0.0.1"},
      {"internal then external hop", {{"127.0.0.1", true}, {"203.0.113.0/24", false}},
       "127.0.0.1", "198.51.100.7, 203.0.113.9", "198.51.100.7", std::nullopt, "203.0.113.9"},
      {"external then internal-listed hop counts as external",
       {{"127.0.0.1", false}, {"10.0.0.0/8", true}}, "127.0.0.1", "10.9.9.9, 10.0.0.5", nullptr,
       std::string("10.9.9.9, 10.0.0.5"), ""},
      // Junk stops the walk; what was consumed stays consumed.
      {"a host name stops it", {{"127.0.0.1", true}, {"10.0.0.0/8", true}}, "127.0.0.1",
       "example.com, 10.0.0.5", "10.0.0.5", std::string("example.com"), ""},
      {"an empty item stops it", {{"127.0.0.1", true}, {"10.0.0.0/8", true}}, "127.0.0.1",
       "1.2.3.4, , 10.0.0.5", "10.0.0.5", std::string("1.2.3.4, "), ""},
      {"spaces around items", {{"127.0.0.1", true}}, "127.0.0.1", "  203.0.113.9  ",
       "203.0.113.9", std::nullopt, ""},
      {"empty header", {{"127.0.0.1", true}}, "127.0.0.1", "", nullptr, std::string(""), ""},
      // IPv6: only global unicast from an external proxy.
      {"IPv6 global client", {{"::1", false}}, "::1", "2001:db8::7", "2001:db8::7", std::nullopt,
       "::1"},
      {"IPv6 unique-local refused", {{"::1", false}}, "::1", "fd00::7", nullptr,
       std::string("fd00::7"), ""},
      {"IPv4-mapped client as IPv4", {{"127.0.0.1", true}}, "127.0.0.1", "::ffff:203.0.113.9",
       "203.0.113.9", std::nullopt, ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    RemoteIPRules r = rules(c.proxies);
    auto peer = authz::Address::parse(c.peer);
    REQUIRE(peer);
    RemoteIPResult res = remoteip_walk(r, *peer, c.peer, c.header);
    CHECK(res.changed == (c.client != nullptr));
    if (!c.client) continue;
    CHECK(res.client_ip == c.client);
    CHECK(res.header_rest == c.rest);
    CHECK(res.proxy_ips == c.proxy_ips);
  }
}

TEST_CASE("RemoteIPProxyProtocol: per address:port, last setting wins, exceptions") {
  auto listen = [](const char* host, int port) {
    model::ListenAddr a;
    a.host = host;
    a.port = port;
    return a;
  };
  model::Config c;
  model::VirtualHost v80, v8080, v8080off;
  v80.addrs = {listen("", 80)};
  v80.remoteip_proxy_protocol = true;
  v8080.addrs = {listen("127.0.0.1", 8080)};
  v8080.remoteip_proxy_protocol = true;
  v8080off.addrs = {listen("127.0.0.1", 8080)};
  v8080off.remoteip_proxy_protocol = false;
  auto peer = *authz::Address::parse("192.0.2.1");
  auto local10 = *authz::Address::parse("10.0.0.3");

  c.vhosts = {v80};
  CHECK(proxy_protocol_required(c, "127.0.0.1", 80, peer));
  CHECK(proxy_protocol_required(c, "10.0.0.1", 80, peer));
  CHECK_FALSE(proxy_protocol_required(c, "127.0.0.1", 8080, peer));

  c.vhosts = {v8080};
  CHECK(proxy_protocol_required(c, "127.0.0.1", 8080, peer));
  CHECK_FALSE(proxy_protocol_required(c, "127.0.0.2", 8080, peer));

  c.vhosts = {v8080, v8080off};  // the later vhost for the same address wins
  CHECK_FALSE(proxy_protocol_required(c, "127.0.0.1", 8080, peer));
  c.vhosts = {v8080off, v8080};
  CHECK(proxy_protocol_required(c, "127.0.0.1", 8080, peer));

  c.vhosts = {};
  c.server.remoteip_proxy_protocol = true;  // the main server's: every listener
  CHECK(proxy_protocol_required(c, "127.0.0.1", 8080, peer));
  CHECK(proxy_protocol_required(c, "::1", 443, peer));
  c.proxy_protocol_exceptions = {"10.0.0.0/8", "192.0.2.1"};
  CHECK_FALSE(proxy_protocol_required(c, "127.0.0.1", 8080, peer));
  CHECK_FALSE(proxy_protocol_required(c, "127.0.0.1", 8080, local10));
  CHECK(proxy_protocol_required(c, "127.0.0.1", 8080, *authz::Address::parse("192.0.2.2")));

  model::Config none;
  CHECK_FALSE(proxy_protocol_required(none, "127.0.0.1", 80, peer));
}

}  // namespace wsgid::frontend

namespace wsgid::frontend {

TEST_CASE("RemoteIPRules: a vhost's settings replace the server's, unset ones inherit") {
  model::Config c;
  c.server.remoteip_header = "X-Forwarded-For";
  c.server.remoteip_proxies_header = "X-Forwarded-By";
  c.server.remoteip_proxies = std::vector<model::RemoteIPProxySpec>{{"10.0.0.0/8", true},
                                                                    {"192.0.2.1", false}};
  model::VirtualHost plain, own;
  own.remoteip_header = "X-Real-IP";
  own.remoteip_proxies = std::vector<model::RemoteIPProxySpec>{{"127.0.0.1", false}};

  RemoteIPRules s = RemoteIPRules::from_config(c, nullptr);
  CHECK(s.header == "X-Forwarded-For");
  CHECK(s.proxies_header == "X-Forwarded-By");
  REQUIRE(s.proxies.size() == 2);
  CHECK(s.proxies[0].internal);
  CHECK(s.proxies[0].spec.matches(*authz::Address::parse("10.9.9.9")));

  RemoteIPRules p = RemoteIPRules::from_config(c, &plain);
  CHECK(p.header == "X-Forwarded-For");
  CHECK(p.proxies.size() == 2);

  RemoteIPRules o = RemoteIPRules::from_config(c, &own);
  CHECK(o.header == "X-Real-IP");
  CHECK(o.proxies_header == "X-Forwarded-By");
  REQUIRE(o.proxies.size() == 1);  // the whole list replaced, as mod_remoteip merges
  CHECK_FALSE(o.proxies[0].internal);
  CHECK_FALSE(o.proxies[0].spec.matches(*authz::Address::parse("10.9.9.9")));
}

}  // namespace wsgid::frontend
