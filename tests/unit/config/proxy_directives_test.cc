// The proxy directives (supervisor/config/proxy_directives.cc): what
// WSGITrustedProxyHeaders, WSGITrustedProxies and mod_remoteip's RemoteIP*
// record, in which scope, and each error and warning with its exact text.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "supervisor/config/parser.h"

using namespace wsgid::config;

namespace {

ParseResult parse(const std::string& text) {
  ParseOptions o;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv/root";
  return parse_config_text("t.conf", text, o);
}

std::vector<std::string> messages(const ParseResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diags.all()) {
    if (d.message.find("serves no request") != std::string::npos) continue;
    out.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " +
                  d.message);
    for (const std::string& n : d.notes) out.push_back("  note: " + n);
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& e : v) s += (s.empty() ? "" : " ") + e;
  return s;
}

}  // namespace

TEST_CASE("WSGITrustedProxyHeaders and WSGITrustedProxies: recorded per scope, added up") {
  ParseResult r = parse(
      "WSGITrustedProxyHeaders X-Forwarded-For\n"
      "WSGITrustedProxyHeaders x-forwarded-proto X-Real-IP\n"
      "WSGITrustedProxies 127.0.0.1 10.0.0.0/8\n"
      "<Location /a>\n"
      "WSGITrustedProxyHeaders X-Forwarded-Host\n"
      "WSGITrustedProxies ::1\n"
      "</Location>\n");
  CHECK(messages(r).empty());
  const auto& s = r.config.server.settings;
  REQUIRE(s.trusted_proxy_headers);
  CHECK(join(*s.trusted_proxy_headers) == "X-Forwarded-For X-Forwarded-Proto X-Real-IP");
  REQUIRE(s.trusted_proxies);
  CHECK(join(*s.trusted_proxies) == "127.0.0.1 10.0.0.0/8");
  REQUIRE(r.config.server.locations.size() == 1);
  const auto& l = r.config.server.locations[0].settings;
  CHECK(join(*l.trusted_proxy_headers) == "X-Forwarded-Host");
  CHECK(join(*l.trusted_proxies) == "::1");
}

TEST_CASE("mod_remoteip: recorded per server and vhost") {
  ParseResult r = parse(
      "RemoteIPHeader X-Forwarded-For\n"
      "RemoteIPTrustedProxy 192.0.2.1\n"
      "RemoteIPInternalProxy 10.0.0.0/8 ::1\n"
      "RemoteIPProxyProtocolExceptions 127.0.0.2\n"
      "<VirtualHost *:80>\n"
      "RemoteIPHeader X-Real-IP\n"
      "RemoteIPProxiesHeader X-Forwarded-By\n"
      "RemoteIPProxyProtocol On\n"
      "RemoteIPProxyProtocolExceptions 10.0.0.0/8\n"
      "</VirtualHost>\n");
  CHECK(messages(r).empty());
  const auto& s = r.config.server;
  CHECK(s.remoteip_header == "X-Forwarded-For");
  REQUIRE(s.remoteip_proxies);
  REQUIRE(s.remoteip_proxies->size() == 3);
  CHECK((*s.remoteip_proxies)[0].address == "192.0.2.1");
  CHECK_FALSE((*s.remoteip_proxies)[0].internal);
  CHECK((*s.remoteip_proxies)[2].address == "::1");
  CHECK((*s.remoteip_proxies)[2].internal);
  CHECK_FALSE(s.remoteip_proxy_protocol);
  REQUIRE(r.config.vhosts.size() == 1);
  const auto& v = r.config.vhosts[0];
  CHECK(v.remoteip_header == "X-Real-IP");
  CHECK(v.remoteip_proxies_header == "X-Forwarded-By");
  CHECK(v.remoteip_proxy_protocol == true);
  CHECK_FALSE(v.remoteip_proxies);
  CHECK(join(r.config.proxy_protocol_exceptions) == "127.0.0.2 10.0.0.0/8");
}

TEST_CASE("WSGIUwsgiTrustedPeers: loopback by default; the first line replaces it") {
  ParseResult r = parse("Listen 127.0.0.1:9000 uwsgi\n");
  CHECK(messages(r).empty());
  CHECK(join(r.config.uwsgi_trusted_peers) == "127.0.0.0/8 ::1");
  r = parse("WSGIUwsgiTrustedPeers 10.0.0.5\nWSGIUwsgiTrustedPeers 192.0.2.0/24 2001:db8::1\n");
  CHECK(messages(r).empty());
  CHECK(join(r.config.uwsgi_trusted_peers) == "10.0.0.5 192.0.2.0/24 2001:db8::1");
}

TEST_CASE("RemoteIP*ProxyList reads addresses from a file") {
  std::string path = "/tmp/wsgid-proxy-list-test-" + std::to_string(::getpid());
  {
    std::ofstream f(path);
    f << "# the balancers\n10.0.0.1 10.0.0.2   # two\n\n2001:db8::/32\n";
  }
  ParseResult r = parse("RemoteIPInternalProxyList " + path + "\n");
  CHECK(messages(r).empty());
  REQUIRE(r.config.server.remoteip_proxies);
  CHECK(r.config.server.remoteip_proxies->size() == 3);
  CHECK(r.config.server.remoteip_proxies->back().address == "2001:db8::/32");
  CHECK(r.config.server.remoteip_proxies->back().internal);
  {
    std::ofstream f(path);
    f << "10.0.0.1\nproxy.example.com\n";
  }
  r = parse("RemoteIPTrustedProxyList " + path + "\n");
  CHECK(messages(r) == std::vector<std::string>{
                           "1:26: RemoteIPTrustedProxyList: 'proxy.example.com' is not an IP "
                           "address: wsgid resolves no host names here (line 2 of " +
                           path + ")",
                           "  note: write an address (192.0.2.10, 2001:db8::1) or a network "
                           "(10.0.0.0/8, 2001:db8::/32)"});
  std::remove(path.c_str());
  r = parse("RemoteIPTrustedProxyList " + path + "\n");
  CHECK(messages(r) ==
        std::vector<std::string>{"1:26: RemoteIPTrustedProxyList: cannot open '" + path + "'",
                                 "  note: write the path of a readable file with one proxy "
                                 "address or network a line"});
}

TEST_CASE("proxy directives: each error and warning") {
  struct Case {
    const char* text;
    std::vector<std::string> want;
  } cases[] = {
      {"WSGITrustedProxyHeaders X-Forwarded-For\n",
       {"1:1: WSGITrustedProxyHeaders without WSGITrustedProxies trusts these headers from "
        "every client, as mod_wsgi does: any client can set its own REMOTE_ADDR and scheme",
        "  note: add 'WSGITrustedProxies ADDRESS...' with the address of your proxy (127.0.0.1 "
        "for a proxy on this machine)"}},
      {"WSGITrustedProxyHeaders X-Forwarded-For X-Fowarded-Proto\nWSGITrustedProxies 127.0.0.1\n",
       {"1:41: WSGITrustedProxyHeaders: mod_wsgi 4.9 knows no header 'X-Fowarded-Proto'; it "
        "has no effect",
        "  note: did you mean 'X-Forwarded-Proto'?"}},
      {"WSGITrustedProxyHeaders X-Request-Id\nWSGITrustedProxies 127.0.0.1\n",
       {"1:25: WSGITrustedProxyHeaders: mod_wsgi 4.9 knows no header 'X-Request-Id'; it has no "
        "effect",
        "  note: the headers it knows: X-Forwarded-For, X-Client-IP, X-Real-IP, "
        "X-Forwarded-HTTPS, X-Forwarded-Proto, X-Forwarded-Scheme, X-Forwarded-SSL, X-HTTPS, "
        "X-Scheme, X-Forwarded-Host, X-Host, X-Forwarded-Server, X-Forwarded-Port, "
        "X-Script-Name, X-Forwarded-Script-Name"}},
      {"WSGITrustedProxyHeaders X_Forwarded_For\n",
       {"1:25: WSGITrustedProxyHeaders: 'X_Forwarded_For' is not a header name (letters, digits "
        "and '-')",
        "  note: write the header as the proxy sends it: X-Forwarded-For"}},
      {"WSGITrustedProxies 127.0.0.300\n",
       {"1:20: WSGITrustedProxies: '127.0.0.300' is not a valid IP address", "  note: write an address (192.0.2.10, 2001:db8::1) or a network (10.0.0.0/8, 2001:db8::/32)"}},
      {"WSGITrustedProxies proxy.local\n",
       {"1:20: WSGITrustedProxies: 'proxy.local' is not an IP address: wsgid resolves no host "
        "names here",
        "  note: write an address (192.0.2.10, 2001:db8::1) or a network (10.0.0.0/8, 2001:db8::/32)"}},
      {"RemoteIPTrustedProxy 10.0.0.0/33\n",
       {"1:22: RemoteIPTrustedProxy: '10.0.0.0/33' has an invalid netmask or prefix length", "  note: write an address (192.0.2.10, 2001:db8::1) or a network (10.0.0.0/8, 2001:db8::/32)"}},
      {"RemoteIPHeader X-Forwarded-For X-Real-IP\n",
       {"1:1: RemoteIPHeader takes one argument, not 2"}},
      {"RemoteIPHeader \"X Forwarded\"\n",
       {"1:16: RemoteIPHeader: 'X Forwarded' is not a header name (letters, digits and '-')",
        "  note: write RemoteIPHeader X-Forwarded-For"}},
      {"RemoteIPProxyProtocol Yes\n", {"1:23: RemoteIPProxyProtocol expects On or Off, not 'Yes'"}},
      {"RemoteIPProxyProtocolExceptions example.org\n",
       {"1:33: RemoteIPProxyProtocolExceptions: 'example.org' is not an IP address: wsgid "
        "resolves no host names here",
        "  note: write an address (192.0.2.10, 2001:db8::1) or a network (10.0.0.0/8, 2001:db8::/32)"}},
      {"WSGIUwsgiTrustedPeers nginx.local\n",
       {"1:23: WSGIUwsgiTrustedPeers: 'nginx.local' is not an IP address: wsgid resolves no "
        "host names here",
        "  note: write an address (192.0.2.10, 2001:db8::1) or a network (10.0.0.0/8, 2001:db8::/32)"}},
      {"WSGIUwsgiTrustedPeers 127.0.0.1 10.0.0.256\n",
       {"1:33: WSGIUwsgiTrustedPeers: '10.0.0.256' is not a valid IP address",
        "  note: write an address (192.0.2.10, 2001:db8::1) or a network (10.0.0.0/8, 2001:db8::/32)"}},
      {"WSGIUwsgiTrustedPeers ::1/129\n",
       {"1:23: WSGIUwsgiTrustedPeers: '::1/129' has an invalid netmask or prefix length",
        "  note: write an address (192.0.2.10, 2001:db8::1) or a network (10.0.0.0/8, 2001:db8::/32)"}},
      {"WSGIUwsgiTrustedPeers\n", {"1:1: WSGIUwsgiTrustedPeers takes at least one argument, not 0"}},
      {"<VirtualHost *:80>\nWSGIUwsgiTrustedPeers 127.0.0.1\n</VirtualHost>\n",
       {"2:1: WSGIUwsgiTrustedPeers cannot appear inside <VirtualHost>; it belongs at server level"}},
      {"<Location /a>\nRemoteIPHeader X-Forwarded-For\n</Location>\n",
       {"2:1: RemoteIPHeader cannot appear inside <Location>; it belongs at server level or in "
        "<VirtualHost>"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK(messages(parse(c.text)) == c.want);
  }
}
