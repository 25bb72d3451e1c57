// Typed payloads: request head (RequestHeadWriter, append/decode, for_each_pair),
// response head, error, hello. Round trips, the exact bytes of the PROTOCOL.md
// example, every limit at its boundary and every decoder error with its text.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace wsgid::proto {
namespace {

using namespace std::string_literals;

std::string u16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string u32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
// A pair as the wire has it, lengths chosen by the test (valid or not).
std::string pair(std::string_view k, std::string_view v) {
  return u16(static_cast<uint16_t>(k.size())) + u32(static_cast<uint32_t>(v.size())) +
         std::string(k) + std::string(v);
}

// Reads exactly one frame from wire (which must hold exactly one).
Frame only_frame(FrameReader& r, const std::string& wire) {
  r.feed(wire);
  Frame f{};
  REQUIRE(r.next(&f) == FrameReader::Result::kFrame);
  CHECK(r.buffered() == 0);
  return f;
}

std::string from_hex(std::string_view hex) {
  std::string out;
  int hi = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else continue;  // spaces, newlines
    if (hi < 0) {
      hi = v;
    } else {
      out += static_cast<char>(hi * 16 + v);
      hi = -1;
    }
  }
  return out;
}

// Runs fn in a child and reports whether it died of SIGABRT (log::bug).
bool aborts(void (*fn)()) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGABRT, SIG_DFL);  // not doctest's crash handler
    log::set_fd(-1);                 // keep the alert line out of the test output
    fn();
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

TEST_CASE("request head: the PROTOCOL.md example, byte for byte") {
  // Keep in sync with "Example" in protocol/PROTOCOL.md.
  const std::string expected = from_hex(R"(
      10 00 00 00 00 00 00 07 00 00 00 28
      00 0e 00 00 00 03 52 45 51 55 45 53 54 5f 4d 45 54 48 4f 44 47 45 54
      00 09 00 00 00 02 50 41 54 48 5f 49 4e 46 4f 2f 78
      12 00 00 00 00 00 00 07 00 00 00 00)");
  std::string wire;
  RequestHeadWriter w(&wire, 7);
  w.add("REQUEST_METHOD", "GET");
  w.add("PATH_INFO", "/x");
  REQUIRE(w.finish());
  append_frame(&wire, FrameType::kRequestEnd, 7, "");
  CHECK(wire == expected);
}

TEST_CASE("response: the PROTOCOL.md example, byte for byte") {
  const std::string expected = from_hex(R"(
      20 00 00 00 00 00 00 07 00 00 00 22
      00 c8 00 02 4f 4b
      00 0c 00 00 00 0a)") + "Content-Typetext/plain" + from_hex(R"(
      21 00 00 00 00 00 00 07 00 00 00 02 68 69
      22 00 00 00 00 00 00 07 00 00 00 00)");
  std::string wire;
  append_response_head(&wire, 7, {200, "OK", {{"Content-Type", "text/plain"}}});
  append_frame(&wire, FrameType::kResponseBody, 7, "hi");
  append_frame(&wire, FrameType::kResponseEnd, 7, "");
  CHECK(wire == expected);
}

TEST_CASE("request head round trips (writer, vector encoder, decoder, for_each_pair)") {
  const std::vector<std::pair<const char*, KeyValues>> cases = {
      {"empty environ", {}},
      {"one pair", {{"REQUEST_METHOD", "GET"}}},
      {"empty value", {{"QUERY_STRING", ""}, {"PATH_INFO", "/"}}},
      {"binary bytes, NUL included", {{"k\0y"s, "v\0\xff\x01"s}, {"\xc3\xa9", "\r\n"}}},
      {"duplicates kept in order", {{"A", "1"}, {"B", "2"}, {"A", "3"}}},
      {"longest key", {{std::string(kMaxKeyLength, 'K'), "v"}}},
      {"large value", {{"HTTP_COOKIE", std::string(1u << 20, 'c')}}},
  };
  for (const auto& c : cases) {
    INFO(std::string(c.first));
    const KeyValues& environ = c.second;
    std::string a = "prefix", b = "prefix";
    append_request_head(&a, 0x01020304, environ);
    RequestHeadWriter w(&b, 0x01020304);
    for (const auto& [k, v] : environ) w.add(k, v);
    REQUIRE(w.finish());
    CHECK(a == b);

    std::string expected_payload;
    for (const auto& [k, v] : environ) expected_payload += pair(k, v);
    FrameReader r;
    const Frame f = only_frame(r, a.substr(6));  // past the prefix
    CHECK(f.type == FrameType::kRequestHead);
    CHECK(f.request_id == 0x01020304);
    CHECK(f.payload == expected_payload);

    Result<KeyValues> decoded = decode_request_head(f.payload);
    REQUIRE(decoded.is_ok());
    CHECK(*decoded == environ);

    KeyValues seen;
    Status st = for_each_pair(f.payload, [&](std::string_view k, std::string_view v) {
      seen.emplace_back(std::string(k), std::string(v));
    });
    CHECK(st.is_ok());
    CHECK(seen == environ);
  }
}

TEST_CASE("RequestHeadWriter limits: boundaries and overflow") {
  struct Case {
    const char* what;
    void (*fill)(RequestHeadWriter&);
    bool ok;
    size_t payload;  // expected payload size when ok
  };
  const Case cases[] = {
      {"key of kMaxKeyLength", [](RequestHeadWriter& w) { w.add(std::string(kMaxKeyLength, 'k'), "v"); },
       true, 6 + kMaxKeyLength + 1},
      {"key of kMaxKeyLength + 1", [](RequestHeadWriter& w) { w.add(std::string(kMaxKeyLength + 1, 'k'), "v"); },
       false, 0},
      {"empty key", [](RequestHeadWriter& w) { w.add("A", "1"); w.add("", "v"); }, false, 0},
      {"payload exactly kMaxPayload",
       [](RequestHeadWriter& w) { w.add("A", "1"); w.add("B", std::string(kMaxPayload - 8 - 7, 'x')); },
       true, kMaxPayload},
      {"payload kMaxPayload + 1",
       [](RequestHeadWriter& w) { w.add("A", "1"); w.add("B", std::string(kMaxPayload - 8 - 6, 'x')); },
       false, 0},
      {"overflow, then small adds still fail",
       [](RequestHeadWriter& w) { w.add("B", std::string(kMaxPayload, 'x')); w.add("A", "1"); },
       false, 0},
      {"kMaxPairs pairs",
       [](RequestHeadWriter& w) { for (size_t i = 0; i < kMaxPairs; ++i) w.add("k", ""); },
       true, 7 * kMaxPairs},
      {"kMaxPairs + 1 pairs",
       [](RequestHeadWriter& w) { for (size_t i = 0; i <= kMaxPairs; ++i) w.add("k", ""); },
       false, 0},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    std::string out = "earlier frames";
    RequestHeadWriter w(&out, 5);
    c.fill(w);
    CHECK(w.finish() == c.ok);
    if (!c.ok) {
      CHECK(out == "earlier frames");
      continue;
    }
    FrameReader r;
    const Frame f = only_frame(r, out.substr(14));
    CHECK(f.payload.size() == c.payload);
    CHECK(decode_request_head(f.payload).is_ok());
  }
}

TEST_CASE("for_each_pair and decode_request_head reject malformed input") {
  struct Case {
    const char* what;
    std::string payload;
    std::string error;
    size_t visited;  // pairs passed to fn before the fault
  };
  const std::string ab = pair("a", "b");  // 8 bytes
  std::string too_many;
  for (size_t i = 0; i <= kMaxPairs; ++i) too_many += pair("k", "");
  const std::vector<Case> cases = {
      {"1 byte", "\x00"s, "request head: truncated pair header at offset 0", 0},
      {"5 bytes", "\x00\x01\x00\x00\x00"s, "request head: truncated pair header at offset 0", 0},
      {"good pair, then 3 bytes", ab + "\x00\x01\x00"s, "request head: truncated pair header at offset 8", 1},
      {"empty key", u16(0) + u32(1) + "v", "request head: empty key at offset 0", 0},
      {"empty key after a pair", ab + u16(0) + u32(0), "request head: empty key at offset 8", 1},
      {"key past the end", u16(5) + u32(0) + "abcd", "request head: pair longer than the payload at offset 0", 0},
      {"value past the end by one", u16(1) + u32(3) + "kvv", "request head: pair longer than the payload at offset 0", 0},
      {"value length 0xffffffff", ab + u16(1) + u32(0xffffffff) + "kv",
       "request head: pair longer than the payload at offset 8", 1},
      {"key length 0xffff, short payload", u16(0xffff) + u32(0) + "k",
       "request head: pair longer than the payload at offset 0", 0},
      {"kMaxPairs + 1 pairs", too_many, "request head: too many pairs at offset 458752", kMaxPairs},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    size_t visited = 0;
    Status st = for_each_pair(c.payload, [&](std::string_view, std::string_view) { ++visited; });
    REQUIRE_FALSE(st.is_ok());
    CHECK(st.message() == c.error);
    CHECK(visited == c.visited);
    Result<KeyValues> r = decode_request_head(c.payload);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message() == c.error);
  }
  CHECK(detail::pair_error(12, "truncated pair header").message() ==
        "request head: truncated pair header at offset 12");
}

TEST_CASE("response head round trips") {
  const std::vector<std::pair<const char*, ResponseHead>> cases = {
      {"200 OK, no headers", {200, "OK", {}}},
      {"404, empty reason", {404, "", {{"Content-Type", "text/plain"}}}},
      {"repeated Set-Cookie in order", {302, "Found", {{"Set-Cookie", "a=1"}, {"Location", "/x"}, {"Set-Cookie", "b=2"}}}},
      {"lowest and odd status", {100, "Continue", {}}},
      {"highest status", {999, "Whatever", {{"X", ""}}}},
      {"longest reason", {200, std::string(kMaxKeyLength, 'r'), {}}},
      {"non-ASCII value", {200, "OK", {{"X-Name", "caf\xc3\xa9\t\x01"}}}},
  };
  for (const auto& c : cases) {
    INFO(std::string(c.first));
    const ResponseHead& head = c.second;
    REQUIRE(check_response_head(head).is_ok());
    std::string wire;
    append_response_head(&wire, 77, head);
    FrameReader r;
    const Frame f = only_frame(r, wire);
    CHECK(f.type == FrameType::kResponseHead);
    CHECK(f.request_id == 77);
    Result<ResponseHead> d = decode_response_head(f.payload);
    REQUIRE(d.is_ok());
    CHECK(d->status == head.status);
    CHECK(d->reason == head.reason);
    CHECK(d->headers == head.headers);
  }
  // Exact bytes of one.
  std::string wire;
  append_response_head(&wire, 1, {200, "OK", {{"A", "b"}}});
  CHECK(wire == "\x20\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x0e"s + u16(200) + u16(2) + "OK" + pair("A", "b"));
}

TEST_CASE("decode_response_head rejects malformed input") {
  struct Case {
    const char* what;
    std::string payload;
    std::string error;
  };
  const std::string ok = u16(200) + u16(2) + "OK";  // headers start at offset 6
  const std::vector<Case> cases = {
      {"empty", "", "response head: payload length 0 is shorter than the 4-byte status and reason length"},
      {"3 bytes", u16(200) + "\x00"s, "response head: payload length 3 is shorter than the 4-byte status and reason length"},
      {"status 0", u16(0) + u16(0), "response head: status 0 is out of range 100..999"},
      {"status 99", u16(99) + u16(0), "response head: status 99 is out of range 100..999"},
      {"status 1000", u16(1000) + u16(0), "response head: status 1000 is out of range 100..999"},
      {"reason past the end", u16(200) + u16(3) + "OK", "response head: reason length 3 exceeds the remaining 2 bytes"},
      {"reason 0xffff, nothing left", u16(200) + u16(0xffff), "response head: reason length 65535 exceeds the remaining 0 bytes"},
      {"truncated pair header", ok + "\x00\x01"s, "response head: truncated pair header at offset 6"},
      {"empty header name", ok + pair("A", "b") + u16(0) + u32(0), "response head: empty key at offset 14"},
      {"header past the end", ok + u16(1) + u32(2) + "Ab", "response head: pair longer than the payload at offset 6"},
      {"CR in reason", u16(200) + u16(3) + "O\rK", "response head: reason contains byte 0x0d"},
      {"LF in a header name", ok + pair("A", "1") + pair("B\n", "2"), "response head: header 1 name contains byte 0x0a"},
      {"NUL in a header value", ok + pair("A", "x\0y"s), "response head: header 0 value contains byte 0x00"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    Result<ResponseHead> r = decode_response_head(c.payload);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message() == c.error);
  }
  std::string too_many = ok;
  for (size_t i = 0; i <= kMaxPairs; ++i) too_many += pair("k", "");
  Result<ResponseHead> r = decode_response_head(too_many);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message() == "response head: too many pairs at offset 458758");
}

TEST_CASE("check_response_head names the first fault") {
  struct Case {
    const char* what;
    ResponseHead head;
    std::string error;
  };
  KeyValues many(kMaxPairs + 1, {"k", ""});
  const std::vector<Case> cases = {
      {"status 42", {42, "X", {}}, "response head: status 42 is out of range 100..999"},
      {"status 1000", {1000, "X", {}}, "response head: status 1000 is out of range 100..999"},
      {"reason too long", {200, std::string(kMaxKeyLength + 1, 'r'), {}}, "response head: reason length 65536 exceeds 65535"},
      {"too many headers", {200, "OK", many}, "response head: 65537 headers exceed the limit of 65536"},
      {"empty name", {200, "OK", {{"A", "1"}, {"", "2"}}}, "response head: header 1 has an empty name"},
      {"name too long", {200, "OK", {{std::string(kMaxKeyLength + 1, 'n'), ""}}},
       "response head: header 0 name length 65536 exceeds 65535"},
      {"payload over kMaxPayload", {200, "OK", {{"A", std::string(kMaxPayload - 12, 'x')}}},
       "response head: payload length 16777217 exceeds the limit of 16777216"},
      {"LF in reason", {200, "O\nK", {}}, "response head: reason contains byte 0x0a"},
      {"CR in a value", {200, "OK", {{"Location", "/x\r\nSet-Cookie: evil"}}}, "response head: header 0 value contains byte 0x0d"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    Status st = check_response_head(c.head);
    REQUIRE_FALSE(st.is_ok());
    CHECK(st.message() == c.error);
  }
  // Exactly kMaxPayload is fine.
  ResponseHead max{200, "OK", {{"A", std::string(kMaxPayload - 13, 'x')}}};
  CHECK(check_response_head(max).is_ok());
}

TEST_CASE("error round trips and its decoder errors") {
  for (ErrorCode code : {ErrorCode::kAppError, ErrorCode::kNotFound, ErrorCode::kUnavailable,
                         ErrorCode::kQueueTimeout, ErrorCode::kBadRequest}) {
    for (const std::string& msg : {""s, "connection closing"s, "caf\xc3\xa9\n\0"s}) {
      CAPTURE(static_cast<int>(code));
      std::string wire;
      append_error(&wire, 0, {code, msg});
      CHECK(wire == "\x30\x00\x00\x00\x00\x00\x00\x00"s + u32(2 + msg.size()) +
                        u16(static_cast<uint16_t>(code)) + msg);
      FrameReader r;
      const Frame f = only_frame(r, wire);
      Result<ErrorMessage> d = decode_error(f.payload);
      REQUIRE(d.is_ok());
      CHECK(d->code == code);
      CHECK(d->message == msg);
    }
  }
  // Codes outside the enum but within 400..599 decode.
  Result<ErrorMessage> d = decode_error(u16(502) + "bad gateway");
  REQUIRE(d.is_ok());
  CHECK(static_cast<int>(d->code) == 502);

  struct Case {
    std::string payload;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "error: payload length 0 is shorter than the 2-byte code"},
      {"\x01", "error: payload length 1 is shorter than the 2-byte code"},
      {u16(0), "error: code 0 is out of range 400..599"},
      {u16(200) + "x", "error: code 200 is out of range 400..599"},
      {u16(399), "error: code 399 is out of range 400..599"},
      {u16(600), "error: code 600 is out of range 400..599"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.payload);
    Result<ErrorMessage> r = decode_error(c.payload);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message() == c.error);
  }
}

TEST_CASE("body socket and body taken: exact bytes, round trips, decoder errors") {
  std::string wire;
  append_body_socket(&wire, 7, {0x0102030405060708ull, 60000});
  CHECK(wire == "\x13\x00\x00\x00"s + u32(7) + u32(12) + u32(0x01020304) + u32(0x05060708) + u32(60000));
  FrameReader r;
  Frame f = only_frame(r, wire);
  Result<BodySocket> b = decode_body_socket(f.payload);
  REQUIRE(b.is_ok());
  CHECK(b->length == 0x0102030405060708ull);
  CHECK(b->timeout_ms == 60000);

  for (TakenHow how : {TakenHow::kDone, TakenHow::kTimeout, TakenHow::kClientClosed}) {
    std::string t;
    append_body_taken(&t, 9, {1048571, how});
    CHECK(t == "\x24\x00\x00\x00"s + u32(9) + u32(9) + u32(0) + u32(1048571) + std::string(1, static_cast<char>(how)));
    FrameReader r2;
    Frame g = only_frame(r2, t);
    Result<BodyTaken> d = decode_body_taken(g.payload);
    REQUIRE(d.is_ok());
    CHECK(d->bytes == 1048571);
    CHECK(d->how == how);
  }

  struct Case {
    std::string payload;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"", "body socket: payload length 0 is not 12"},
           {std::string(13, '\1'), "body socket: payload length 13 is not 12"},
           {std::string(12, '\0'), "body socket: length 0"},
       }) {
    CAPTURE(c.payload);
    Result<BodySocket> e = decode_body_socket(c.payload);
    REQUIRE_FALSE(e.is_ok());
    CHECK(e.status().message() == c.error);
  }
  for (const Case& c : std::vector<Case>{
           {std::string(8, '\0'), "body taken: payload length 8 is not 9"},
           {std::string(10, '\0'), "body taken: payload length 10 is not 9"},
           {std::string(8, '\0') + "\x03", "body taken: unknown how 3"},
       }) {
    CAPTURE(c.payload);
    Result<BodyTaken> e = decode_body_taken(c.payload);
    REQUIRE_FALSE(e.is_ok());
    CHECK(e.status().message() == c.error);
  }
}

TEST_CASE("socket ask, response socket, response sent: exact bytes, round trips, decoder errors") {
  std::string wire;
  append_socket_ask(&wire, 5, {0x0000000100000002ull});
  CHECK(wire == "\x25\x00\x00\x00"s + u32(5) + u32(8) + u32(1) + u32(2));
  FrameReader r;
  Result<SocketAsk> a = decode_socket_ask(only_frame(r, wire).payload);
  REQUIRE(a.is_ok());
  CHECK(a->bytes == 0x0000000100000002ull);

  for (bool granted : {false, true}) {
    std::string g;
    append_response_socket(&g, 6, {granted, 300000, {}});
    CHECK(g == "\x14\x00\x00\x00"s + u32(6) + u32(5) + std::string(1, granted ? '\1' : '\0') + u32(300000));
    FrameReader r2;
    Result<ResponseSocket> d = decode_response_socket(only_frame(r2, g).payload);
    REQUIRE(d.is_ok());
    CHECK(d->granted == granted);
    CHECK(d->timeout_ms == 300000);
    CHECK(d->head.empty());
  }
  {
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n";
    std::string g;
    append_response_socket(&g, 6, {true, 0, head});
    CHECK(g == "\x14\x00\x00\x00"s + u32(6) + u32(5 + head.size()) + "\1"s + u32(0) + head);
    FrameReader r2;
    Result<ResponseSocket> d = decode_response_socket(only_frame(r2, g).payload);
    REQUIRE(d.is_ok());
    CHECK(d->granted);
    CHECK(d->timeout_ms == 0);
    CHECK(d->head == head);
  }

  for (TakenHow how : {TakenHow::kDone, TakenHow::kTimeout, TakenHow::kClientClosed}) {
    std::string t;
    append_response_sent(&t, 9, {16777217, how});
    CHECK(t == "\x26\x00\x00\x00"s + u32(9) + u32(9) + u32(0) + u32(16777217) + std::string(1, static_cast<char>(how)));
    FrameReader r3;
    Result<ResponseSent> d = decode_response_sent(only_frame(r3, t).payload);
    REQUIRE(d.is_ok());
    CHECK(d->bytes == 16777217);
    CHECK(d->how == how);
  }

  struct Case {
    std::string payload;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"", "socket ask: payload length 0 is not 8"},
           {std::string(9, '\1'), "socket ask: payload length 9 is not 8"},
           {std::string(8, '\0'), "socket ask: bytes 0"},
       }) {
    CAPTURE(c.payload);
    Result<SocketAsk> e = decode_socket_ask(c.payload);
    REQUIRE_FALSE(e.is_ok());
    CHECK(e.status().message() == c.error);
  }
  for (const Case& c : std::vector<Case>{
           {"", "response socket: payload length 0 is shorter than 5"},
           {std::string(4, '\1'), "response socket: payload length 4 is shorter than 5"},
           {"\x02"s + std::string(4, '\0'), "response socket: granted must be 0 or 1, not 2"},
           {std::string(6, '\0'), "response socket: refused with 1 head bytes"},
       }) {
    CAPTURE(c.payload);
    Result<ResponseSocket> e = decode_response_socket(c.payload);
    REQUIRE_FALSE(e.is_ok());
    CHECK(e.status().message() == c.error);
  }
  for (const Case& c : std::vector<Case>{
           {std::string(8, '\0'), "response sent: payload length 8 is not 9"},
           {std::string(8, '\0') + "\x03", "response sent: unknown how 3"},
       }) {
    CAPTURE(c.payload);
    Result<ResponseSent> e = decode_response_sent(c.payload);
    REQUIRE_FALSE(e.is_ok());
    CHECK(e.status().message() == c.error);
  }
}

TEST_CASE("append_error cuts an oversized message at a UTF-8 boundary") {
  // "é" straddles the cut at kMaxPayload - 2: it is dropped whole.
  const std::string msg = std::string(kMaxPayload - 3, 'a') + "\xc3\xa9" + "zzz";
  std::string wire;
  append_error(&wire, 1, {ErrorCode::kAppError, msg});
  FrameReader r;
  const Frame f = only_frame(r, wire);
  Result<ErrorMessage> d = decode_error(f.payload);
  REQUIRE(d.is_ok());
  CHECK(d->message == std::string(kMaxPayload - 3, 'a'));
  // An ASCII message is cut to exactly kMaxPayload - 2.
  std::string wire2;
  append_error(&wire2, 1, {ErrorCode::kAppError, std::string(kMaxPayload, 'b')});
  CHECK(wire2.size() == kHeaderSize + kMaxPayload);
}

TEST_CASE("hello: append_hello decodes with the pid; bad magic, bad version, bad sizes") {
  for (uint32_t pid : {0u, 1u, 4242u, 0xfffffffeu}) {
    CAPTURE(pid);
    std::string wire;
    append_hello(&wire, pid);
    FrameReader r;
    const Frame f = only_frame(r, wire);
    CHECK(f.type == FrameType::kHello);
    Result<Hello> v = decode_hello(f.payload);
    REQUIRE(v.is_ok());
    CHECK(v->version == kVersion);
    CHECK(v->pid == pid);
  }

  struct Case {
    const char* what;
    std::string payload;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"empty", "", "hello: payload length 0 is shorter than the 8-byte magic and version"},
      {"7 bytes", "WSGD\x00\x00\x00"s, "hello: payload length 7 is shorter than the 8-byte magic and version"},
      {"HTTP magic", "GET / HT", "hello: bad magic \"GET \", expected \"WSGD\""},
      {"lower case", "wsgd" + u32(4), "hello: bad magic \"wsgd\", expected \"WSGD\""},
      {"binary magic", "\x00\x01\"\\"s + u32(4), "hello: bad magic \"\\x00\\x01\\x22\\x5c\", expected \"WSGD\""},
      {"version 1 (no pid)", "WSGD" + u32(1), "hello: peer speaks protocol version 1, this side speaks 7"},
      {"version 1 with a pid", "WSGD" + u32(1) + u32(7), "hello: peer speaks protocol version 1, this side speaks 7"},
      {"version 2 (no LISTENERS_CLOSING)", "WSGD" + u32(2) + u32(7), "hello: peer speaks protocol version 2, this side speaks 7"},
      {"version 0", "WSGD" + u32(0), "hello: peer speaks protocol version 0, this side speaks 7"},
      {"version 3 (STARTED frames only)", "WSGD" + u32(3) + u32(7), "hello: peer speaks protocol version 3, this side speaks 7"},
      {"version 4 (no BODY_SOCKET)", "WSGD" + u32(4) + u32(7), "hello: peer speaks protocol version 4, this side speaks 7"},
      {"version 5 (no RESPONSE_SOCKET)", "WSGD" + u32(5) + u32(7), "hello: peer speaks protocol version 5, this side speaks 7"},
      {"version 6 (no requests sent ahead)", "WSGD" + u32(6) + u32(7), "hello: peer speaks protocol version 6, this side speaks 7"},
      {"version 8 with more fields", "WSGD" + u32(8) + "more", "hello: peer speaks protocol version 8, this side speaks 7"},
      {"version 7 without the pid", "WSGD" + u32(7), "hello: payload length 8 is not 12 as version 7 requires"},
      {"version 7, 13 bytes", "WSGD" + u32(7) + u32(7) + "x", "hello: payload length 13 is not 12 as version 7 requires"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    Result<Hello> d = decode_hello(c.payload);
    REQUIRE_FALSE(d.is_ok());
    CHECK(d.status().message() == c.error);
  }
}

TEST_CASE("encoders abort on messages that break the limits") {
  struct Case {
    const char* what;
    void (*fn)();
  };
  const Case cases[] = {
      {"append_request_head with an empty key",
       [] { std::string s; append_request_head(&s, 1, {{"", "v"}}); }},
      {"append_response_head with status 42",
       [] { std::string s; append_response_head(&s, 1, {42, "X", {}}); }},
      {"append_response_head with CRLF in a value",
       [] { std::string s; append_response_head(&s, 1, {200, "OK", {{"A", "\r\n"}}}); }},
      {"append_error with code 200",
       [] { std::string s; append_error(&s, 1, {static_cast<ErrorCode>(200), "x"}); }},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    CHECK(aborts(c.fn));
  }
  // And the control: a valid call does not abort.
  CHECK_FALSE(aborts([] { std::string s; append_error(&s, 1, {ErrorCode::kAppError, "x"}); }));
}

}  // namespace
}  // namespace wsgid::proto
