// ProxyHeaderReader: the PROXY protocol header (HAProxy's "The PROXY protocol",
// versions 1 and 2) that a load balancer sends first on every connection to a
// listener with mod_remoteip's `RemoteIPProxyProtocol On`.
//
// HttpConn feeds it the first bytes of such a connection, as they arrive, before
// any HTTP (and, once the front end terminates TLS, before the handshake); once
// it says kDone, the bytes after the header are the client's request. It is a
// pure, bounded parser: no socket, no libuv, no allocation past kMaxV2 bytes;
// one per connection, loop thread (any thread in tests). The deadline for the
// header is the caller's (HttpConn::kProxyHeaderTimeoutMs).
//
// What it accepts, as mod_remoteip reads the header (modules/metadata/
// mod_remoteip.c, remoteip_process_v1_header / remoteip_process_v2_header):
//   v1  "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n", at most 107 bytes with CRLF;
//       the addresses as inet_pton reads them, for the family; ports 0..65535
//       in decimal. "PROXY UNKNOWN...\r\n": the rest of the line is ignored and
//       the connection keeps its peer's address.
//   v2  the 12-byte signature, version 2, command LOCAL (the balancer's own
//       connection, health checks: keep the peer's address) or PROXY with
//       family/protocol 0x11 (TCP over IPv4) or 0x21 (TCP over IPv6), or 0x00
//       (UNSPEC: keep the peer's address, as the spec says a receiver must);
//       TLVs after the addresses are skipped. The whole header may be
//       kMaxV2 bytes long (mod_remoteip stops at 232: TLVs of AWS's and GCP's
//       balancers pass here; docs/decisions.md 36).
// Anything else is kError, with error() saying why in a sentence the log
// shows: bytes that begin neither signature (checked from the first byte, so a
// plain HTTP request fails at once), a v1 line without CRLF within 107 bytes,
// an unknown family, a field missing or malformed, a v2 version other than 2, a
// command other than LOCAL or PROXY, another address family or a UDP or UNIX
// protocol, an address block shorter than its family needs, a length past
// kMaxV2. The caller closes the connection on kError (mod_remoteip aborts it).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wsgid::frontend {

// The header's facts.
struct ProxyHeader {
  int version = 0;     // 1 or 2
  bool local = false;  // LOCAL, UNKNOWN, UNSPEC: keep the connection's own addresses
  std::string source_ip, dest_ip;  // "203.0.113.7", "2001:db8::1"; "" when local
  int source_port = 0, dest_port = 0;
};

class ProxyHeaderReader {
 public:
  static constexpr size_t kMaxV1 = 107;        // the spec's bound, CRLF included
  static constexpr size_t kMaxV2 = 16 + 1024;  // signature, fixed part and addresses + TLVs
  enum class State { kNeedMore, kDone, kError };

  // Takes the next bytes of the connection. *used is set to how many of them
  // belong to the header (on kDone: the rest is the request; otherwise all of
  // them were taken). After kDone or kError, feed() must not be called again.
  State feed(std::string_view data, size_t* used);

  const ProxyHeader& header() const { return header_; }  // valid after kDone
  const std::string& error() const { return error_; }    // set on kError

 private:
  State fail(std::string why);
  State parse_v1();
  State parse_v2();

  std::string buf_;
  ProxyHeader header_;
  std::string error_;
};

}  // namespace wsgid::frontend
