// Require ip / Allow from address specs and Require local, against APR's
// apr_ipsubnet_create / apr_ipsubnet_test (apr network_io/unix/sockaddr.c) and
// mod_authz_host's local_check_authorization.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <arpa/inet.h>


#include "supervisor/authz/ip.h"
#include "supervisor/authz/methods.h"

using namespace wsgid::authz;

namespace {

Address addr(const char* text) {
  std::optional<Address> a = Address::parse(text);
  REQUIRE_MESSAGE(a.has_value(), text);
  return *a;
}

}  // namespace

TEST_CASE("ip specs match as apr_ipsubnet_test does") {
  struct Row {
    const char* spec;
    const char* client;
    bool match;
  };
  const Row rows[] = {
      {"10.1.2.3", "10.1.2.3", true},
      {"10.1.2.3", "10.1.2.4", false},
      {"10.1", "10.1.200.5", true},            // partial: 10.1.0.0/16
      {"10.1", "10.2.0.1", false},
      {"10.1.", "10.1.3.4", true},             // trailing dot, same network
      {"10", "10.255.0.1", true},
      {"10", "11.0.0.1", false},
      {"10.0.0.0/8", "10.9.9.9", true},
      {"10.0.0.0/8", "11.0.0.0", false},
      {"10.1.2.3/8", "10.200.0.0", true},      // host bits cleared (apr fix_subnet)
      {"192.168.1.0/255.255.255.0", "192.168.1.77", true},
      {"192.168.1.0/255.255.255.0", "192.168.2.1", false},
      {"10.0.0.1/32", "10.0.0.1", true},
      {"10.0.0.1/32", "10.0.0.2", false},
      {"010.0.0.1", "10.0.0.1", true},         // inet_pton refuses it; the legacy network form takes it
      {"2001:db8::/32", "2001:db8:1::5", true},
      {"2001:db8::/32", "2001:db9::1", false},
      {"2001:db8::1", "2001:db8::1", true},
      {"2001:db8::1", "2001:db8::2", false},
      {"fe80::/10", "fe80::1", true},
      {"::1", "::1", true},
      {"10.0.0.0/8", "::ffff:10.1.1.1", true},  // IPv4-mapped client, IPv4 spec
      {"10.0.0.0/8", "::ffff:11.1.1.1", false},
      {"2001:db8::/32", "10.0.0.1", false},      // IPv6 spec never matches an IPv4 client
      {"10.0.0.0/8", "2001:db8::1", false},      // nor an IPv4 spec an IPv6 client
  };
  for (const Row& row : rows) {
    CAPTURE(row.spec);
    CAPTURE(row.client);
    std::optional<IpSpec> spec = IpSpec::parse(row.spec, nullptr);
    REQUIRE(spec.has_value());
    CHECK(spec->matches(addr(row.client)) == row.match);
  }
}

TEST_CASE("ip spec parse errors: kind and Require ip's text") {
  struct Row {
    const char* spec;
    SpecError why;
    const char* message;
  };
  const char* kNotIp =
      "is not an IP address (10.0.0.1), a partial address (10.1), a CIDR (10.0.0.0/8) or a "
      "netmask (10.0.0.0/255.0.0.0)";
  const char* kBadMask =
      "has an invalid network mask: write a prefix length (10.0.0.0/8, 2001:db8::/32) or an "
      "IPv4 netmask (10.0.0.0/255.0.0.0)";
  const Row rows[] = {
      {"10.0.0.300", SpecError::kBadAddress, kNotIp},
      {"10.0.0.1.5", SpecError::kBadAddress, kNotIp},
      {"10..1", SpecError::kBadAddress, kNotIp},
      {"example.com", SpecError::kNotAnAddress, kNotIp},
      {"", SpecError::kNotAnAddress, kNotIp},
      {"10.1/16", SpecError::kBadAddress, kNotIp},  // partial form only without a mask
      {"10.0.0.0/33", SpecError::kBadMask, kBadMask},
      {"10.0.0.0/0", SpecError::kBadMask, kBadMask},  // APR: bits must be > 0
      {"10.0.0.0/", SpecError::kBadMask, kBadMask},
      {"10.0.0.0/255.0.0.256", SpecError::kBadMask, kBadMask},
      {"2001:db8::/129", SpecError::kBadMask, kBadMask},
      {"2001:db8::/255.255.0.0", SpecError::kBadMask, kBadMask},  // netmask is IPv4 only
      {"2001:db8::zz", SpecError::kBadAddress, kNotIp},
      {"::ffff:10.0.0.1", SpecError::kBadAddress,
       "is an IPv4-mapped IPv6 address, which Apache refuses: write 10.0.0.1"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.spec);
    SpecError why{};
    CHECK_FALSE(IpSpec::parse(row.spec, &why).has_value());
    CHECK(why == row.why);
    wsgid::Result<IpSpec> r = parse_require_ip(row.spec);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message() == std::string("Require ip: '") + row.spec + "' " + row.message);
  }
}

TEST_CASE("ip specs print as the network they mean") {
  CHECK(IpSpec::parse("10.1", nullptr)->to_string() == "10.1.0.0/255.255.0.0");
  CHECK(IpSpec::parse("10.1.2.3/8", nullptr)->to_string() == "10.0.0.0/255.0.0.0");
  CHECK(IpSpec::parse("2001:db8::5/32", nullptr)->to_string() == "2001:db8::/32");
}

TEST_CASE("Require local: loopback or the server's own address") {
  struct Row {
    const char* client;
    const char* server;
    bool local;
  };
  const Row rows[] = {
      {"127.0.0.1", "10.0.0.5", true},
      {"127.9.9.9", "10.0.0.5", true},       // all of 127.0.0.0/8
      {"::1", "10.0.0.5", true},
      {"::ffff:127.0.0.1", "::", true},      // IPv4-mapped loopback
      {"10.0.0.5", "10.0.0.5", true},        // client == the connection's local address
      {"::ffff:10.0.0.5", "10.0.0.5", true}, // apr_sockaddr_equal takes mapped == IPv4
      {"10.0.0.6", "10.0.0.5", false},
      {"2001:db8::1", "2001:db8::2", false},
      {"128.0.0.1", "10.0.0.5", false},
  };
  for (const Row& row : rows) {
    CAPTURE(row.client);
    CHECK(is_local(addr(row.client), addr(row.server)) == row.local);
  }
}

TEST_CASE("Address from a sockaddr, and back to text") {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  inet_pton(AF_INET, "192.0.2.7", &in.sin_addr);
  std::optional<Address> a = Address::from_sockaddr(reinterpret_cast<sockaddr*>(&in));
  REQUIRE(a);
  CHECK(a->to_string() == "192.0.2.7");
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8::7", &in6.sin6_addr);
  a = Address::from_sockaddr(reinterpret_cast<sockaddr*>(&in6));
  REQUIRE(a);
  CHECK(a->to_string() == "2001:db8::7");
  sockaddr unix_peer{};
  unix_peer.sa_family = AF_UNIX;
  CHECK_FALSE(Address::from_sockaddr(&unix_peer));
  CHECK_FALSE(Address::parse("10.0.0"));
  CHECK(addr("::ffff:10.0.0.1").unmapped().to_string() == "10.0.0.1");
}

TEST_CASE("MethodSet: Apache's method masks") {
  MethodSet get = MethodSet::only({"GET"});
  CHECK(get.contains("GET"));
  CHECK(get.contains("HEAD"));  // HEAD is M_GET
  CHECK_FALSE(get.contains("POST"));
  MethodSet not_get = MethodSet::all_except({"GET"});
  CHECK(not_get.contains("POST"));
  CHECK(not_get.contains("BREW"));  // unregistered methods share M_INVALID, outside ~GET's complement
  CHECK_FALSE(not_get.contains("HEAD"));
  struct Row {
    MethodSet a, b, both, either;
  };
  const Row rows[] = {
      {MethodSet::only({"GET", "POST"}), MethodSet::only({"POST", "PUT"}),
       MethodSet::only({"POST"}), MethodSet::only({"GET", "POST", "PUT"})},
      {MethodSet::only({"GET", "POST"}), MethodSet::all_except({"POST"}),
       MethodSet::only({"GET"}), MethodSet::all()},
      {MethodSet::all_except({"GET"}), MethodSet::only({"GET", "PUT"}),
       MethodSet::only({"PUT"}), MethodSet::all()},
      {MethodSet::all_except({"GET", "PUT"}), MethodSet::all_except({"PUT", "POST"}),
       MethodSet::all_except({"GET", "PUT", "POST"}), MethodSet::all_except({"PUT"})},
      {MethodSet(), MethodSet::only({"GET"}), MethodSet(), MethodSet::only({"GET"})},
  };
  for (const Row& r : rows) {
    CAPTURE(r.a.to_string());
    CAPTURE(r.b.to_string());
    CHECK(r.a.intersect(r.b) == r.both);
    CHECK(r.b.intersect(r.a) == r.both);
    CHECK(r.a.unite(r.b) == r.either);
    CHECK(r.b.unite(r.a) == r.either);
  }
  CHECK(MethodSet().empty());
  CHECK_FALSE(MethodSet::all_except({"GET"}).empty());
  CHECK(is_known_method("VERSION-CONTROL"));
  CHECK_FALSE(is_known_method("get"));  // names are case-sensitive in Apache
}
