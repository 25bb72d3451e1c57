#include "supervisor/authz/ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <cstring>

namespace wsgid::authz {
namespace {

// apr's looks_like_ip(): a ':' anywhere, or only digits and dots.
bool looks_like_ip(std::string_view s) {
  if (s.empty()) return false;
  if (s.find(':') != std::string_view::npos) return true;
  for (char c : s) {
    if (c != '.' && !std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// apr's parse_network(): the legacy "a.b.c" form, each present octet masked.
bool parse_network(std::string_view s, std::array<std::uint8_t, 16>& sub,
                   std::array<std::uint8_t, 16>& mask) {
  if (s.size() >= sizeof "255.255.255.255") return false;
  sub.fill(0);
  mask.fill(0);
  std::size_t octet = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    unsigned value = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      if (value > 255) return false;
      ++i;
    }
    if (i < s.size()) {
      if (s[i] != '.') return false;
      ++i;
    }
    if (octet > 3) return false;
    sub[octet] = static_cast<std::uint8_t>(value);
    mask[octet] = 0xff;
    ++octet;
  }
  return true;
}

bool pton(int family, std::string_view text, void* out) {
  std::string z(text);
  return inet_pton(family, z.c_str(), out) == 1;
}

bool mapped(const std::array<std::uint8_t, 16>& b) {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b.data(), kPrefix, 12) == 0;
}

}  // namespace

std::optional<Address> Address::parse(std::string_view text) {
  Address a;
  if (pton(AF_INET, text, a.bytes.data())) return a;
  if (pton(AF_INET6, text, a.bytes.data())) {
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

std::optional<Address> Address::from_sockaddr(const sockaddr* sa) {
  Address a;
  if (sa == nullptr) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(a.bytes.data(), &in->sin_addr, 4);
    return a;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::memcpy(a.bytes.data(), &in6->sin6_addr, 16);
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

bool Address::is_v4_mapped() const { return v6 && mapped(bytes); }

Address Address::unmapped() const {
  if (!is_v4_mapped()) return *this;
  Address a;
  std::memcpy(a.bytes.data(), bytes.data() + 12, 4);
  return a;
}

bool Address::same_as(const Address& other) const {
  Address x = unmapped();
  Address y = other.unmapped();
  return x.v6 == y.v6 && x.bytes == y.bytes;
}

std::string Address::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpSpec> IpSpec::parse(std::string_view text, SpecError* why) {
  SpecError ignored;
  if (why == nullptr) why = &ignored;
  std::string_view addr = text;
  std::optional<std::string_view> mask_text;
  if (std::size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    mask_text = text.substr(slash + 1);
  }
  if (!looks_like_ip(addr)) {
    *why = SpecError::kNotAnAddress;
    return std::nullopt;
  }
  IpSpec spec;
  // apr_ipsubnet_create: a single address unless told otherwise.
  spec.mask_.fill(0xff);
  if (pton(AF_INET6, addr, spec.sub_.data())) {
    if (mapped(spec.sub_)) {
      *why = SpecError::kBadAddress;
      return std::nullopt;
    }
    spec.v6_ = true;
  } else if (pton(AF_INET, addr, spec.sub_.data())) {
    spec.v6_ = false;
  } else if (mask_text || !parse_network(addr, spec.sub_, spec.mask_)) {
    // The partial form is only for a spec without a mask (apr's parse_ip
    // network_allowed).
    *why = SpecError::kBadAddress;
    return std::nullopt;
  }
  if (mask_text) {
    int max_bits = spec.v6_ ? 128 : 32;
    int bits = 0;
    bool numeric = !mask_text->empty() && mask_text->size() <= 3;
    for (char c : *mask_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) numeric = false;
    }
    if (numeric) bits = std::stoi(std::string(*mask_text));
    std::array<std::uint8_t, 4> v4mask{};
    if (numeric && bits > 0 && bits <= max_bits) {
      spec.mask_.fill(0);
      for (int i = 0; i < bits; ++i) spec.mask_[i / 8] |= static_cast<std::uint8_t>(0x80 >> (i % 8));
    } else if (!spec.v6_ && pton(AF_INET, *mask_text, v4mask.data())) {
      spec.mask_.fill(0);
      std::memcpy(spec.mask_.data(), v4mask.data(), 4);
    } else {
      *why = SpecError::kBadMask;
      return std::nullopt;
    }
  }
  if (!spec.v6_) {
    // Only the first four bytes mean anything for IPv4.
    for (std::size_t i = 4; i < 16; ++i) spec.sub_[i] = spec.mask_[i] = 0;
  }
  for (std::size_t i = 0; i < 16; ++i) spec.sub_[i] &= spec.mask_[i];  // apr's fix_subnet
  return spec;
}

bool IpSpec::matches(const Address& client) const {
  const std::uint8_t* addr = client.bytes.data();
  std::size_t n = 16;
  if (!client.v6 || client.is_v4_mapped()) {
    if (v6_) return false;
    if (client.v6) addr += 12;
    n = 4;
  } else if (!v6_) {
    return false;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if ((addr[i] & mask_[i]) != sub_[i]) return false;
  }
  return true;
}

std::string IpSpec::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  std::string out = inet_ntop(v6_ ? AF_INET6 : AF_INET, sub_.data(), buf, sizeof buf);
  out += '/';
  if (v6_) {
    int bits = 0;
    for (std::uint8_t b : mask_) bits += __builtin_popcount(b);
    out += std::to_string(bits);
  } else {
    out += inet_ntop(AF_INET, mask_.data(), buf, sizeof buf);
  }
  return out;
}

Result<IpSpec> parse_require_ip(std::string_view text) {
  SpecError why{};
  std::optional<IpSpec> spec = IpSpec::parse(text, &why);
  if (spec) return *spec;
  std::string q = "Require ip: '" + std::string(text) + "' ";
  if (why == SpecError::kBadMask) {
    return Status::error(q + "has an invalid network mask: write a prefix length "
                             "(10.0.0.0/8, 2001:db8::/32) or an IPv4 netmask (10.0.0.0/255.0.0.0)");
  }
  std::optional<Address> a = Address::parse(text);
  if (a && a->is_v4_mapped()) {
    return Status::error(q + "is an IPv4-mapped IPv6 address, which Apache refuses: write " +
                         a->unmapped().to_string());
  }
  return Status::error(q + "is not an IP address (10.0.0.1), a partial address (10.1), "
                           "a CIDR (10.0.0.0/8) or a netmask (10.0.0.0/255.0.0.0)");
}

bool is_local(const Address& client, const Address& server) {
  static const IpSpec kLoopback4 = *IpSpec::parse("127.0.0.0/8", nullptr);
  static const IpSpec kLoopback6 = *IpSpec::parse("::1", nullptr);
  return client.same_as(server) || kLoopback4.matches(client) || kLoopback6.matches(client);
}

}  // namespace wsgid::authz
