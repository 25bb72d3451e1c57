// ProxyHeaderReader: the PROXY protocol v1 and v2 header (see the header).
#include "supervisor/frontend/proxy_protocol.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace wsgid::frontend {
namespace {

constexpr std::string_view kV1Sig = "PROXY ";
constexpr char kV2SigBytes[] = "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A";
constexpr std::string_view kV2Sig(kV2SigBytes, 12);
constexpr size_t kV2Fixed = 16;

// The text for a log line: printable ASCII as is, the rest as \xNN.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 64)) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char b[5];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    }
  }
  if (s.size() > 64) out += "...";
  return out;
}

bool prefix_of(std::string_view have, std::string_view sig) {
  size_t n = std::min(have.size(), sig.size());
  return have.substr(0, n) == sig.substr(0, n);
}

// A decimal port, 0..65535, digits only.
bool parse_port(std::string_view s, int* port) {
  if (s.empty() || s.size() > 5) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > 65535) return false;
  *port = v;
  return true;
}

bool valid_ip(std::string_view s, int family) {
  char buf[64];
  if (s.empty() || s.size() >= sizeof buf) return false;
  std::copy(s.begin(), s.end(), buf);
  buf[s.size()] = 0;
  unsigned char out[16];
  return inet_pton(family, buf, out) == 1;
}

std::string ip_text(int family, const unsigned char* bytes) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family, bytes, buf, sizeof buf);
  return buf;
}

}  // namespace

ProxyHeaderReader::State ProxyHeaderReader::fail(std::string why) {
  error_ = std::move(why);
  return State::kError;
}

ProxyHeaderReader::State ProxyHeaderReader::feed(std::string_view data, size_t* used) {
  size_t before = buf_.size();
  size_t room = kMaxV2 - before;
  buf_.append(data.substr(0, room));
  *used = buf_.size() - before;
  State st;
  if (prefix_of(buf_, kV2Sig)) {
    st = buf_.size() < kV2Sig.size() ? State::kNeedMore : parse_v2();
  } else if (prefix_of(buf_, kV1Sig)) {
    st = buf_.size() < kV1Sig.size() ? State::kNeedMore : parse_v1();
  } else {
    return fail("not a PROXY protocol header: the connection began with '" + printable(buf_) +
                "'");
  }
  if (st == State::kDone) {
    size_t header_len = header_.version == 1 ? buf_.find("\r\n") + 2
                                             : kV2Fixed + (static_cast<uint8_t>(buf_[14]) << 8 |
                                                           static_cast<uint8_t>(buf_[15]));
    *used = header_len - before;
  }
  return st;
}

ProxyHeaderReader::State ProxyHeaderReader::parse_v1() {
  size_t eol = buf_.find("\r\n");
  if (eol == std::string::npos || eol + 2 > kMaxV1) {
    if (buf_.size() >= kMaxV1)
      return fail("PROXY v1 header has no CRLF within its 107 bytes: '" + printable(buf_) + "'");
    return State::kNeedMore;
  }
  std::string_view line(buf_.data(), eol);
  std::string_view fields[6];
  size_t n = 0, at = 0;
  while (at <= line.size() && n < 6) {
    size_t sp = line.find(' ', at);
    if (sp == std::string_view::npos) sp = line.size();
    fields[n++] = line.substr(at, sp - at);
    at = sp + 1;
  }
  header_.version = 1;
  std::string_view family = n > 1 ? fields[1] : std::string_view();
  if (family == "UNKNOWN") {
    header_.local = true;
    return State::kDone;
  }
  int af;
  if (family == "TCP4") af = AF_INET;
  else if (family == "TCP6") af = AF_INET6;
  else return fail("PROXY v1 header: unknown family '" + printable(family) + "' in '" + printable(line) + "' (TCP4, TCP6 or UNKNOWN)");
  if (n != 6 || at <= line.size())
    return fail("PROXY v1 header: want 'PROXY " + std::string(family) +
                " SOURCE DESTINATION SPORT DPORT', got '" + printable(line) + "'");
  if (!valid_ip(fields[2], af))
    return fail("PROXY v1 header: invalid source address '" + printable(fields[2]) + "' for " +
                std::string(family));
  if (!valid_ip(fields[3], af))
    return fail("PROXY v1 header: invalid destination address '" + printable(fields[3]) +
                "' for " + std::string(family));
  if (!parse_port(fields[4], &header_.source_port))
    return fail("PROXY v1 header: invalid source port '" + printable(fields[4]) + "'");
  if (!parse_port(fields[5], &header_.dest_port))
    return fail("PROXY v1 header: invalid destination port '" + printable(fields[5]) + "'");
  header_.source_ip = std::string(fields[2]);
  header_.dest_ip = std::string(fields[3]);
  return State::kDone;
}

ProxyHeaderReader::State ProxyHeaderReader::parse_v2() {
  if (buf_.size() < kV2Fixed) return State::kNeedMore;
  const auto* b = reinterpret_cast<const unsigned char*>(buf_.data());
  int version = b[12] >> 4, command = b[12] & 0x0f;
  if (version != 2)
    return fail("PROXY v2 header: version " + std::to_string(version) + " (only 2 exists)");
  if (command > 1)
    return fail("PROXY v2 header: unknown command " + std::to_string(command) +
                " (0 LOCAL or 1 PROXY)");
  size_t len = static_cast<size_t>(b[14]) << 8 | b[15];
  if (kV2Fixed + len > kMaxV2)
    return fail("PROXY v2 header: " + std::to_string(kV2Fixed + len) +
                " bytes is longer than wsgid reads (" + std::to_string(kMaxV2) + ")");
  if (buf_.size() < kV2Fixed + len) return State::kNeedMore;
  header_.version = 2;
  if (command == 0) {
    header_.local = true;
    return State::kDone;
  }
  const unsigned char* a = b + kV2Fixed;
  char fam[8];
  std::snprintf(fam, sizeof fam, "0x%02x", b[13]);
  switch (b[13]) {
    case 0x00:
      header_.local = true;
      return State::kDone;
    case 0x11:
      if (len < 12)
        return fail("PROXY v2 header: " + std::to_string(len) +
                    " address bytes for TCP over IPv4 (12 needed)");
      header_.source_ip = ip_text(AF_INET, a);
      header_.dest_ip = ip_text(AF_INET, a + 4);
      header_.source_port = a[8] << 8 | a[9];
      header_.dest_port = a[10] << 8 | a[11];
      return State::kDone;
    case 0x21:
      if (len < 36)
        return fail("PROXY v2 header: " + std::to_string(len) +
                    " address bytes for TCP over IPv6 (36 needed)");
      header_.source_ip = ip_text(AF_INET6, a);
      header_.dest_ip = ip_text(AF_INET6, a + 16);
      header_.source_port = a[32] << 8 | a[33];
      header_.dest_port = a[34] << 8 | a[35];
      return State::kDone;
    default:
      return fail(std::string("PROXY v2 header: unsupported family and protocol ") + fam +
                  " (0x11 TCP over IPv4, 0x21 TCP over IPv6)");
  }
}

}  // namespace wsgid::frontend
