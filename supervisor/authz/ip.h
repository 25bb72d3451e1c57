// IP addresses and the address specs of `Require ip`, `Require local`,
// `Allow from` and `Deny from`, with the meaning APR gives them
// (apr_ipsubnet_create / apr_ipsubnet_test in apr's network_io/unix/sockaddr.c,
// used by httpd's modules/aaa/mod_authz_host.c and mod_access_compat.c).
//
// Accepted specs: a full IPv4 or IPv6 address ("10.1.2.3", "2001:db8::1"); a
// partial IPv4 address naming a network by its leading octets ("10", "10.1",
// "10.1." = 10.1.0.0/16); an address with a prefix length ("10.0.0.0/8",
// "2001:db8::/32", 1..32 or 1..128: APR refuses /0) or with an IPv4 netmask
// ("10.0.0.0/255.0.0.0"). The address bits outside the mask are cleared, so
// "10.1.2.3/8" is 10.0.0.0/8, as APR does. IPv4-mapped IPv6 specs
// ("::ffff:10.0.0.1") are refused, as APR refuses them; an IPv4-mapped client
// address matches the IPv4 specs, never the IPv6 ones.
// Plain values; parse and match are pure functions, any thread.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wsgid::authz {

// A client or server address (no port).
struct Address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: bytes[0..3]

  // "10.0.0.1", "::1", "::ffff:10.0.0.1"; nullopt for anything else.
  static std::optional<Address> parse(std::string_view text);
  // AF_INET or AF_INET6 sockaddr (what libuv's uv_tcp_getpeername fills);
  // nullopt for another family (a UNIX socket peer has no address).
  static std::optional<Address> from_sockaddr(const sockaddr* sa);
  bool is_v4_mapped() const;
  // The IPv4 address inside an IPv4-mapped IPv6 one, or *this.
  Address unmapped() const;
  // apr_sockaddr_equal: same address, an IPv4-mapped one equal to its IPv4.
  bool same_as(const Address& other) const;
  std::string to_string() const;
};

// What Apache's parse answers for a spec that is not an address. kNotAnAddress
// is APR_EINVAL (the text has letters: the compat rules take it as a host
// name); the others are APR_EBADIP / APR_EBADMASK.
enum class SpecError { kNotAnAddress, kBadAddress, kBadMask };

class IpSpec {
 public:
  // Parses one spec. On failure returns the SpecError; `text` is not kept.
  static std::optional<IpSpec> parse(std::string_view text, SpecError* why);
  // apr_ipsubnet_test.
  bool matches(const Address& client) const;
  bool v6() const { return v6_; }
  std::string to_string() const;  // "10.0.0.0/255.0.0.0" style, for tests and logs

 private:
  bool v6_ = false;
  std::array<std::uint8_t, 16> sub_{};
  std::array<std::uint8_t, 16> mask_{};
};

// `Require ip` arguments, one spec each. Errors name the argument and say what
// to write: "Require ip: '10.0.0.300' is not an IP address (10.0.0.1), a
// partial address (10.1), a CIDR (10.0.0.0/8) or a netmask (10.0.0.0/255.0.0.0)".
Result<IpSpec> parse_require_ip(std::string_view text);

// `Require local`, as mod_authz_host's local_check_authorization: the client
// is in 127.0.0.0/8 (also IPv4-mapped), is ::1, or equals the address of the
// server socket that accepted the connection.
bool is_local(const Address& client, const Address& server);

}  // namespace wsgid::authz
