// ResponseHeadView: the heads append_response_head writes read back in place
// (after a FrameReader fed at every split of the frame), every layout error with
// its text, and every truncation of a valid payload rejected without a read past it.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/response_head_view.h"

namespace wsgid::proto {
namespace {

using namespace std::string_literals;

std::string u16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string u32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string pair(std::string_view k, std::string_view v) {
  return u16(static_cast<uint16_t>(k.size())) + u32(static_cast<uint32_t>(v.size())) +
         std::string(k) + std::string(v);
}

// The view's headers, copied for comparison.
KeyValues headers_of(const ResponseHeadView& v) {
  KeyValues out;
  for (const auto& [name, value] : v) out.emplace_back(name, value);
  return out;
}

const std::vector<std::pair<const char*, ResponseHead>> kHeads = {
    {"200 OK, no headers", {200, "OK", {}}},
    {"404, empty reason", {404, "", {{"Content-Type", "text/plain"}}}},
    {"repeated Set-Cookie in order", {302, "Found", {{"Set-Cookie", "a=1"}, {"Location", "/x"}, {"Set-Cookie", "b=2"}}}},
    {"lowest status", {100, "Continue", {}}},
    {"highest status, empty value", {999, "Whatever", {{"X", ""}}}},
    {"non-ASCII value", {200, "OK", {{"X-Name", "caf\xc3\xa9\t\x01"}}}},
};

TEST_CASE("ResponseHeadView reads what append_response_head wrote, for every split of the frame") {
  for (const auto& [what, head] : kHeads) {
    INFO(std::string(what));
    std::string wire;
    append_response_head(&wire, 9, head);
    for (size_t split = 0; split <= wire.size(); ++split) {
      FrameReader r;
      Frame f{};
      r.feed(std::string_view(wire).substr(0, split));
      if (split < wire.size()) {
        REQUIRE(r.next(&f) == FrameReader::Result::kNeedMore);
        r.feed(std::string_view(wire).substr(split));
      }
      REQUIRE(r.next(&f) == FrameReader::Result::kFrame);
      Result<ResponseHeadView> v = ResponseHeadView::parse(f.payload);
      REQUIRE(v.is_ok());
      CHECK(v->status() == head.status);
      CHECK(v->reason() == head.reason);
      CHECK(v->header_count() == head.headers.size());
      CHECK(headers_of(*v) == head.headers);
      // The views point into the payload: nothing was copied.
      for (const auto& [name, value] : *v) {
        CHECK(name.data() >= f.payload.data());
        CHECK(value.data() + value.size() <= f.payload.data() + f.payload.size());
      }
    }
  }
}

TEST_CASE("ResponseHeadView::parse names the first layout fault") {
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
      {"value length wraps", ok + u16(1) + u32(0xffffffff) + "A", "response head: pair longer than the payload at offset 6"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    Result<ResponseHeadView> r = ResponseHeadView::parse(c.payload);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message() == c.error);
  }
  std::string too_many = ok;
  for (size_t i = 0; i <= kMaxPairs; ++i) too_many += pair("k", "");
  Result<ResponseHeadView> r = ResponseHeadView::parse(too_many);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message() == "response head: too many pairs at offset 458758");
}

TEST_CASE("ResponseHeadView leaves line bytes to its caller; decode_response_head refuses them") {
  const std::string payload = u16(200) + u16(3) + "O\rK" + pair("B\n", "x\0y"s);
  Result<ResponseHeadView> v = ResponseHeadView::parse(payload);
  REQUIRE(v.is_ok());
  CHECK(v->reason() == "O\rK");
  CHECK(headers_of(*v) == KeyValues{{"B\n", "x\0y"s}});
  CHECK_FALSE(decode_response_head(payload).is_ok());
}

TEST_CASE("every truncation of a valid head is refused or is a shorter valid head") {
  std::string wire;
  append_response_head(&wire, 1, {200, "OK", {{"Content-Type", "text/plain"}, {"X", "1"}}});
  const std::string payload = wire.substr(kHeaderSize);
  // Valid prefixes: the status, reason and whole pairs only.
  const std::vector<size_t> whole = {6, 6 + 6 + 12 + 10, payload.size()};
  for (size_t n = 0; n <= payload.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    Result<ResponseHeadView> v = ResponseHeadView::parse(std::string_view(payload).substr(0, n));
    bool expect_ok = false;
    for (size_t w : whole) expect_ok = expect_ok || w == n;
    CHECK(v.is_ok() == expect_ok);
  }
}

}  // namespace
}  // namespace wsgid::proto
