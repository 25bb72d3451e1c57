// ProxyHeaderReader: the PROXY protocol v1 and v2 headers a balancer sends
// (HAProxy's spec, mod_remoteip's reading), each whole, one byte at a time and
// at every split; every error path with its message; the bytes after the header
// left for HTTP.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/frontend/proxy_protocol.h"

namespace wsgid::frontend {
namespace {

using State = ProxyHeaderReader::State;

std::string v2(unsigned char ver_cmd, unsigned char fam, const std::string& addr) {
  std::string h("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A", 12);
  h.push_back(static_cast<char>(ver_cmd));
  h.push_back(static_cast<char>(fam));
  h.push_back(static_cast<char>(addr.size() >> 8));
  h.push_back(static_cast<char>(addr.size() & 0xff));
  return h + addr;
}

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

// 192.0.2.7:51000 -> 198.51.100.1:443
const std::string kV4Addr = bytes({192, 0, 2, 7, 198, 51, 100, 1, 0xC7, 0x38, 0x01, 0xBB});
// 2001:db8::7:51000 -> 2001:db8::1:80
const std::string kV6Addr =
    bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0x20, 0x01, 0x0d, 0xb8, 0,
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xC7, 0x38, 0, 80});

struct Outcome {
  State state;
  size_t used;  // on kDone: bytes of the header
  ProxyHeader header;
  std::string error;
};

// Feeds input in pieces of at most step bytes (0 = whole).
Outcome run(const std::string& input, size_t step) {
  ProxyHeaderReader r;
  size_t at = 0, total = 0;
  for (;;) {
    size_t n = step == 0 ? input.size() - at : std::min(step, input.size() - at);
    size_t used = 0;
    State st = r.feed(std::string_view(input).substr(at, n), &used);
    total += used;
    at += n;
    if (st != State::kNeedMore || at >= input.size())
      return {st, st == State::kDone ? total : 0, r.header(), r.error()};
  }
}

}  // namespace

TEST_CASE("PROXY headers that are read, whole, byte by byte and split anywhere") {
  const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  struct Case {
    const char* what;
    std::string header;
    int version;
    bool local;
    const char* src;
    int sport;
    const char* dst;
    int dport;
  } cases[] = {
      {"v1 TCP4", "PROXY TCP4 192.0.2.7 198.51.100.1 51000 443\r\n", 1, false, "192.0.2.7", 51000,
       "198.51.100.1", 443},
      {"v1 TCP6", "PROXY TCP6 2001:db8::7 2001:db8::1 51000 80\r\n", 1, false, "2001:db8::7",
       51000, "2001:db8::1", 80},
      {"v1 UNKNOWN", "PROXY UNKNOWN\r\n", 1, true, "", 0, "", 0},
      {"v1 UNKNOWN with addresses", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", 1, true, "", 0, "",
       0},
      {"v1 ports 0 and 65535", "PROXY TCP4 10.0.0.1 10.0.0.2 0 65535\r\n", 1, false, "10.0.0.1",
       0, "10.0.0.2", 65535},
      {"v1 at 107 bytes",
       "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
       "65535 65535\r\n",
       1, false, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535},
      {"v2 PROXY TCP4", v2(0x21, 0x11, kV4Addr), 2, false, "192.0.2.7", 51000, "198.51.100.1",
       443},
      {"v2 PROXY TCP6", v2(0x21, 0x21, kV6Addr), 2, false, "2001:db8::7", 51000, "2001:db8::1",
       80},
      {"v2 TCP4 with a TLV", v2(0x21, 0x11, kV4Addr + bytes({0x04, 0, 3, 'a', 'b', 'c'})), 2,
       false, "192.0.2.7", 51000, "198.51.100.1", 443},
      {"v2 LOCAL (health check)", v2(0x20, 0x00, ""), 2, true, "", 0, "", 0},
      {"v2 LOCAL with an address block", v2(0x20, 0x11, kV4Addr), 2, true, "", 0, "", 0},
      {"v2 PROXY UNSPEC", v2(0x21, 0x00, ""), 2, true, "", 0, "", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    REQUIRE(c.header.size() <= (c.version == 1 ? ProxyHeaderReader::kMaxV1 : ProxyHeaderReader::kMaxV2));
    for (size_t step : {size_t{0}, size_t{1}, size_t{2}, size_t{5}, size_t{13}}) {
      CAPTURE(step);
      Outcome o = run(c.header + http, step);
      REQUIRE(o.state == State::kDone);
      CHECK(o.used == c.header.size());
      CHECK(o.header.version == c.version);
      CHECK(o.header.local == c.local);
      CHECK(o.header.source_ip == c.src);
      CHECK(o.header.source_port == c.sport);
      CHECK(o.header.dest_ip == c.dst);
      CHECK(o.header.dest_port == c.dport);
    }
    // Every split into two feeds.
    for (size_t cut = 1; cut < c.header.size(); ++cut) {
      std::string input = c.header + http;
      ProxyHeaderReader r;
      size_t used1 = 0, used2 = 0;
      REQUIRE(r.feed(std::string_view(input).substr(0, cut), &used1) == State::kNeedMore);
      REQUIRE(r.feed(std::string_view(input).substr(cut), &used2) == State::kDone);
      CHECK(used1 + used2 == c.header.size());
    }
  }
}

TEST_CASE("PROXY headers that are refused, with the reason the log shows") {
  struct Case {
    std::string input;
    const char* error;
  } cases[] = {
      {"GET / HTTP/1.1\r\n\r\n",
       "not a PROXY protocol header: the connection began with 'GET / "
       "HTTP/1.1\\x0d\\x0a\\x0d\\x0a'"},
      {"PROXX TCP4", "not a PROXY protocol header: the connection began with 'PROXX TCP4'"},
      {std::string("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0B", 12),
       "not a PROXY protocol header: the connection began with "
       "'\\x0d\\x0a\\x0d\\x0a\\x00\\x0d\\x0aQUIT\\x0b'"},
      {"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
       "PROXY v1 header: unknown family 'TCP5' in 'PROXY TCP5 1.2.3.4 5.6.7.8 1 2' (TCP4, TCP6 "
       "or UNKNOWN)"},
      {"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
       "PROXY v1 header: want 'PROXY TCP4 SOURCE DESTINATION SPORT DPORT', got 'PROXY TCP4 "
       "1.2.3.4 5.6.7.8 1'"},
      {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
       "PROXY v1 header: want 'PROXY TCP4 SOURCE DESTINATION SPORT DPORT', got 'PROXY TCP4 "
       "1.2.3.4 5.6.7.8 1 2 3'"},
      {"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
       "PROXY v1 header: want 'PROXY TCP4 SOURCE DESTINATION SPORT DPORT', got 'PROXY TCP4 "
       "1.2.3.4  5.6.7.8 1 2'"},
      {"PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n",
       "PROXY v1 header: invalid source address '2001:db8::1' for TCP4"},
      {"PROXY TCP6 ::1 5.6.7.8 1 2\r\n",
       "PROXY v1 header: invalid destination address '5.6.7.8' for TCP6"},
      {"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
       "PROXY v1 header: invalid source port '65536'"},
      {"PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n", "PROXY v1 header: invalid destination port '-2'"},
      {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
       "PROXY v1 header: want 'PROXY TCP4 SOURCE DESTINATION SPORT DPORT', got 'PROXY TCP4 "
       "1.2.3.4 5.6.7.8 1 2\\x0aGET / HTTP/1.1'"},
      {"PROXY " + std::string(120, 'A'),
       "PROXY v1 header has no CRLF within its 107 bytes: 'PROXY "
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...'"},
      {v2(0x11, 0x11, kV4Addr), "PROXY v2 header: version 1 (only 2 exists)"},
      {v2(0x22, 0x11, kV4Addr), "PROXY v2 header: unknown command 2 (0 LOCAL or 1 PROXY)"},
      {v2(0x21, 0x12, kV4Addr),
       "PROXY v2 header: unsupported family and protocol 0x12 (0x11 TCP over IPv4, 0x21 TCP over "
       "IPv6)"},
      {v2(0x21, 0x31, std::string(216, 'x')),
       "PROXY v2 header: unsupported family and protocol 0x31 (0x11 TCP over IPv4, 0x21 TCP over "
       "IPv6)"},
      {v2(0x21, 0x11, kV4Addr.substr(0, 8)),
       "PROXY v2 header: 8 address bytes for TCP over IPv4 (12 needed)"},
      {v2(0x21, 0x21, kV4Addr), "PROXY v2 header: 12 address bytes for TCP over IPv6 (36 needed)"},
      {v2(0x21, 0x11, std::string(2000, 'x')).substr(0, 40),
       "PROXY v2 header: 2016 bytes is longer than wsgid reads (1040)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    // The v1 line that lacks its CR runs on into the request: give it one.
    bool v1 = c.input.rfind("PROXY ", 0) == 0;
    std::string input = c.input + (v1 && c.input.back() == '\n' ? "GET / HTTP/1.1\r\n" : "");
    Outcome whole = run(input, 0);
    CHECK(whole.state == State::kError);
    CHECK(whole.error == c.error);
    Outcome bytewise = run(input, 1);
    CHECK(bytewise.state == State::kError);
  }
}

TEST_CASE("an incomplete PROXY header asks for more, within its bounds") {
  for (const std::string& part :
       {std::string("P"), std::string("PROXY TCP4 1.2.3.4"),
        std::string("\x0D\x0A\x0D\x0A\x00\x0D", 6), v2(0x21, 0x11, kV4Addr).substr(0, 20)}) {
    ProxyHeaderReader r;
    size_t used = 0;
    CHECK(r.feed(part, &used) == State::kNeedMore);
    CHECK(used == part.size());
  }
  // A reader never holds more than kMaxV2 bytes however much is fed.
  ProxyHeaderReader r;
  size_t used = 0;
  std::string big = v2(0x21, 0x11, std::string(1000, 'x'));
  big += std::string(100000, 'y');
  CHECK(r.feed(big, &used) == State::kDone);  // TCP4 and 988 bytes of TLVs
  CHECK(used == 1016);
}

}  // namespace wsgid::frontend
