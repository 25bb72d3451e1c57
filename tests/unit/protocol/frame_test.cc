// FrameReader and the frame encoders: every type round trip, every decoder error
// with its exact text, any split of the input (one byte at a time, random splits
// with fixed seeds) giving the same frames, the size limits at their boundaries,
// and the buffer staying compact.
#include <cstring>
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "protocol/frame.h"

namespace wsgid::proto {
namespace {

// A header with every field chosen by the test, valid or not.
std::string raw_header(uint8_t type, uint8_t flags, uint16_t reserved, uint32_t id, uint32_t len) {
  std::string h;
  h += static_cast<char>(type);
  h += static_cast<char>(flags);
  h += static_cast<char>(reserved >> 8);
  h += static_cast<char>(reserved);
  for (int s = 24; s >= 0; s -= 8) h += static_cast<char>(id >> s);
  for (int s = 24; s >= 0; s -= 8) h += static_cast<char>(len >> s);
  return h;
}

struct OwnedFrame {
  FrameType type;
  uint8_t flags;
  uint32_t request_id;
  std::string payload;
  bool operator==(const OwnedFrame&) const = default;
};

// What a reader made of a stream: the frames, then the last result and error.
struct Outcome {
  std::vector<OwnedFrame> frames;
  FrameReader::Result last = FrameReader::Result::kNeedMore;
  std::string error;
  size_t buffered = 0;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{" << o.frames.size() << " frames, last " << static_cast<int>(o.last) << ", error \""
     << o.error << "\", buffered " << o.buffered << "}";
  return os;
}

void drain(FrameReader& r, Outcome* o) {
  Frame f;
  FrameReader::Result res;
  while ((res = r.next(&f)) == FrameReader::Result::kFrame)
    o->frames.push_back({f.type, f.flags, f.request_id, std::string(f.payload)});
  o->last = res;
}

// Feeds input in pieces of the given sizes (the last piece takes the rest),
// draining after every feed.
Outcome feed_in_pieces(std::string_view input, const std::vector<size_t>& sizes,
                       uint32_t max_payload = kMaxPayload) {
  FrameReader r(max_payload);
  Outcome o;
  size_t pos = 0;
  for (size_t n : sizes) {
    if (pos >= input.size()) break;
    n = std::min(n, input.size() - pos);
    r.feed(input.substr(pos, n));
    pos += n;
    drain(r, &o);
  }
  if (pos < input.size()) {
    r.feed(input.substr(pos));
    drain(r, &o);
  }
  drain(r, &o);  // an empty stream still gets one next()
  o.error = r.error();
  // After an error the reader discards input, so what it holds depends on the split.
  o.buffered = o.last == FrameReader::Result::kError ? 0 : r.buffered();
  return o;
}

Outcome feed_whole(std::string_view input, uint32_t max_payload = kMaxPayload) {
  return feed_in_pieces(input, {input.size()}, max_payload);
}

Outcome feed_bytewise(std::string_view input, uint32_t max_payload = kMaxPayload) {
  return feed_in_pieces(input, std::vector<size_t>(input.size(), 1), max_payload);
}

// Random piece sizes from a fixed seed; mt19937's output is fixed by the standard.
std::vector<size_t> random_pieces(size_t total, uint32_t seed, size_t max_piece) {
  std::mt19937 rng(seed);
  std::vector<size_t> sizes;
  size_t sum = 0;
  while (sum < total) {
    size_t n = 1 + rng() % max_piece;
    sizes.push_back(n);
    sum += n;
  }
  return sizes;
}

struct TypeCase {
  FrameType type;
  const char* name;
  uint32_t max;
};
const TypeCase kTypeCases[] = {
    {FrameType::kHello, "HELLO", kMaxHelloPayload},
    {FrameType::kRequestHead, "REQUEST_HEAD", kMaxPayload},
    {FrameType::kRequestBody, "REQUEST_BODY", kMaxPayload},
    {FrameType::kRequestEnd, "REQUEST_END", 0},
    {FrameType::kBodySocket, "BODY_SOCKET", kBodySocketSize},
    {FrameType::kResponseSocket, "RESPONSE_SOCKET", kMaxPayload},
    {FrameType::kResponseHead, "RESPONSE_HEAD", kMaxPayload},
    {FrameType::kResponseBody, "RESPONSE_BODY", kMaxPayload},
    {FrameType::kResponseEnd, "RESPONSE_END", 0},
    {FrameType::kStarted, "STARTED", 0},
    {FrameType::kBodyTaken, "BODY_TAKEN", kBodyTakenSize},
    {FrameType::kSocketAsk, "SOCKET_ASK", kSocketAskSize},
    {FrameType::kResponseSent, "RESPONSE_SENT", kResponseSentSize},
    {FrameType::kError, "ERROR", kMaxPayload},
    {FrameType::kCancel, "CANCEL", 0},
    {FrameType::kSettings, "SETTINGS", kMaxPayload},
    {FrameType::kReady, "READY", kMaxPayload},
    {FrameType::kState, "STATE", kMaxPayload},
    {FrameType::kStateQuery, "STATE_QUERY", 0},
    {FrameType::kDrain, "DRAIN", kMaxPayload},
    {FrameType::kReplaceMe, "REPLACE_ME", kMaxPayload},
    {FrameType::kExiting, "EXITING", kMaxPayload},
    {FrameType::kLog, "LOG", kMaxPayload},
    {FrameType::kListenersClosing, "LISTENERS_CLOSING", 0},
    {FrameType::kListenersClosed, "LISTENERS_CLOSED", kMaxPayload},
};

// A payload of n bytes that is not all one value, so misplaced bytes show.
std::string pattern(size_t n, uint32_t salt = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + salt * 7 + 1) & 0xff);
  return s;
}

// One frame of every type with a payload fitting its limit, several sizes around
// the header size, and a few request ids and flags.
std::string mixed_stream() {
  std::string s;
  append_hello(&s);
  const size_t sizes[] = {0, 1, 11, 12, 13, 64, 4096, 70000};
  uint32_t id = 1;
  for (size_t n : sizes) {
    for (const TypeCase& t : kTypeCases) {
      size_t len = std::min<size_t>(n, t.max);
      append_frame(&s, t.type, id * 0x01010101u, pattern(len, id), static_cast<uint8_t>(id & 3));
      ++id;
    }
  }
  return s;
}

TEST_CASE("frame types: names, known set, per-type payload limits") {
  for (const TypeCase& t : kTypeCases) {
    INFO(std::string(t.name));
    CHECK(is_known_type(static_cast<uint8_t>(t.type)));
    CHECK(type_name(t.type) == t.name);
    CHECK(max_payload_for(t.type) == t.max);
  }
  int known = 0;
  for (int v = 0; v < 256; ++v) known += is_known_type(static_cast<uint8_t>(v)) ? 1 : 0;
  CHECK(known == static_cast<int>(std::size(kTypeCases)));
  for (uint8_t v : {0x00, 0x02, 0x15, 0x27, 0x32, 0x4a, 0x7f, 0xff}) {
    CAPTURE(v);
    CHECK_FALSE(is_known_type(v));
    CHECK(type_name(static_cast<FrameType>(v)) == "UNKNOWN");
    CHECK(max_payload_for(static_cast<FrameType>(v)) == 0);
  }
}

TEST_CASE("append_header and append_hello write the documented bytes") {
  std::string out = "x";  // encoders append
  append_header(&out, FrameType::kRequestBody, 0x01020304, 5, 0x80);
  CHECK(out == std::string("x\x11\x80\x00\x00\x01\x02\x03\x04\x00\x00\x00\x05", 13));

  std::string hello;
  append_hello(&hello, 0x00012345);
  CHECK(hello == std::string("\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0cWSGD\x00\x00\x00\x07\x00\x01\x23\x45", 24));

  std::string frame;
  append_frame(&frame, FrameType::kDrain, 7, "{\"timeout\":15}");
  CHECK(frame == raw_header(0x44, 0, 0, 7, 14) + "{\"timeout\":15}");
}

TEST_CASE("every frame type round-trips through FrameReader") {
  for (const TypeCase& t : kTypeCases) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{kHeaderSize}, size_t{kMaxHelloPayload}, size_t{5000}}) {
      if (n > t.max) continue;
      INFO(std::string(t.name));
      CAPTURE(n);
      const std::string payload = pattern(n);
      std::string wire;
      append_frame(&wire, t.type, 0xdeadbeef, payload, 0x5a);
      REQUIRE(wire.size() == kHeaderSize + n);
      FrameReader r;
      r.feed(wire);
      Frame f;
      REQUIRE(r.next(&f) == FrameReader::Result::kFrame);
      CHECK(f.type == t.type);
      CHECK(f.flags == 0x5a);
      CHECK(f.request_id == 0xdeadbeef);
      CHECK(f.payload == payload);
      CHECK(r.next(&f) == FrameReader::Result::kNeedMore);
      CHECK(r.buffered() == 0);
      CHECK(r.error().empty());
    }
  }
}

struct ErrorCase {
  const char* what;
  std::string input;
  std::string error;
  size_t frames_before;  // whole frames yielded before the error
  uint32_t max_payload = kMaxPayload;
};

std::vector<ErrorCase> error_cases() {
  std::string good;
  append_frame(&good, FrameType::kRequestBody, 1, "abc");
  return {
      {"unknown type 0x7f", raw_header(0x7f, 0, 0, 1, 0), "frame type 0x7f is unknown", 0},
      {"unknown type 0x00", raw_header(0x00, 0, 0, 1, 0), "frame type 0x00 is unknown", 0},
      {"unknown type 0xff", raw_header(0xff, 0, 0, 1, 0), "frame type 0xff is unknown", 0},
      {"unknown type 0x15 (between known ones)", raw_header(0x15, 0, 0, 0, 0), "frame type 0x15 is unknown", 0},
      {"BODY_SOCKET longer than 12", raw_header(0x13, 0, 0, 1, 13), "frame length 13 exceeds the limit of 12 for BODY_SOCKET", 0},
      {"unknown type alone, header incomplete", std::string("\x7f", 1), "frame type 0x7f is unknown", 0},
      {"HTTP request sent to a frame socket", "GET / HTTP/1.1\r\n\r\n",
       "frame reserved field 0x5420 is not zero", 0},
      {"reserved 0x0102", raw_header(0x10, 0, 0x0102, 1, 0), "frame reserved field 0x0102 is not zero", 0},
      {"reserved 0x0001", raw_header(0x11, 0, 0x0001, 1, 0), "frame reserved field 0x0001 is not zero", 0},
      {"reserved 0x8000, header incomplete", raw_header(0x11, 0, 0x8000, 1, 0).substr(0, 4),
       "frame reserved field 0x8000 is not zero", 0},
      {"unknown type wins over bad reserved", raw_header(0x99, 0, 0xffff, 1, 0xffffffff),
       "frame type 0x99 is unknown", 0},
      {"bad reserved wins over bad length", raw_header(0x11, 0, 0x0100, 1, 0xffffffff),
       "frame reserved field 0x0100 is not zero", 0},
      {"length kMaxPayload + 1", raw_header(0x11, 0, 0, 1, kMaxPayload + 1),
       "frame length 16777217 exceeds the limit of 16777216", 0},
      {"length 20000000", raw_header(0x10, 0, 0, 1, 20000000),
       "frame length 20000000 exceeds the limit of 16777216", 0},
      {"length 0xffffffff", raw_header(0x40, 0, 0, 1, 0xffffffff),
       "frame length 4294967295 exceeds the limit of 16777216", 0},
      {"reader limit 100", raw_header(0x21, 0, 0, 1, 101), "frame length 101 exceeds the limit of 100", 0, 100},
      {"reader limit wins over type limit", raw_header(0x01, 0, 0, 0, 8), "frame length 8 exceeds the limit of 4", 0, 4},
      {"REQUEST_END with payload", raw_header(0x12, 0, 0, 1, 5) + "hello",
       "frame length 5 exceeds the limit of 0 for REQUEST_END", 0},
      {"RESPONSE_END with payload", raw_header(0x22, 0, 0, 1, 1),
       "frame length 1 exceeds the limit of 0 for RESPONSE_END", 0},
      {"CANCEL with payload", raw_header(0x31, 0, 0, 1, 1), "frame length 1 exceeds the limit of 0 for CANCEL", 0},
      {"STATE_QUERY with payload", raw_header(0x43, 0, 0, 0, 2),
       "frame length 2 exceeds the limit of 0 for STATE_QUERY", 0},
      {"HELLO over its limit", raw_header(0x01, 0, 0, 0, 65), "frame length 65 exceeds the limit of 64 for HELLO", 0},
      {"good frame, then unknown type", good + raw_header(0x50, 0, 0, 2, 0), "frame type 0x50 is unknown", 1},
      {"two good frames, then bad reserved, then more", good + good + raw_header(0x11, 0, 0x0a0b, 3, 0) + good,
       "frame reserved field 0x0a0b is not zero", 2},
  };
}

TEST_CASE("every decoding error, with its exact text, for any split") {
  for (const ErrorCase& c : error_cases()) {
    INFO(std::string(c.what));
    const Outcome whole = feed_whole(c.input, c.max_payload);
    CHECK(whole.last == FrameReader::Result::kError);
    CHECK(whole.error == c.error);
    CHECK(whole.frames.size() == c.frames_before);
    CHECK(feed_bytewise(c.input, c.max_payload) == whole);
    for (uint32_t seed = 1; seed <= 5; ++seed)
      CHECK(feed_in_pieces(c.input, random_pieces(c.input.size(), seed, 7), c.max_payload) == whole);
  }
}

TEST_CASE("after an error the reader stays dead and keeps nothing more") {
  FrameReader r;
  r.feed(raw_header(0x7f, 0, 0, 0, 0));
  Frame f;
  REQUIRE(r.next(&f) == FrameReader::Result::kError);
  const size_t held = r.buffered();
  std::string good;
  append_frame(&good, FrameType::kRequestBody, 1, "abc");
  r.feed(good);
  CHECK(r.buffered() == held);
  CHECK(r.next(&f) == FrameReader::Result::kError);
  CHECK(r.error() == "frame type 0x7f is unknown");
}

TEST_CASE("the reader waits for whole frames and never returns a partial one") {
  std::string wire;
  append_frame(&wire, FrameType::kResponseBody, 9, "0123456789");
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    CAPTURE(cut);
    FrameReader r;
    r.feed(wire.substr(0, cut));
    Frame f;
    CHECK(r.next(&f) == FrameReader::Result::kNeedMore);
    CHECK(r.buffered() == cut);
    CHECK(r.error().empty());
    r.feed(wire.substr(cut));
    REQUIRE(r.next(&f) == FrameReader::Result::kFrame);
    CHECK(f.payload == "0123456789");
  }
}

TEST_CASE("a payload read past the reader: partial(), skip_header(), take()") {
  std::string wire;
  append_frame(&wire, FrameType::kResponseBody, 9, "0123456789");
  append_frame(&wire, FrameType::kResponseEnd, 9, "");
  FrameReader r;
  FrameHeader h;
  size_t have = 99;
  Frame f;
  CHECK(r.wanted() == kHeaderSize);
  // Not a whole header yet: nothing to pass through.
  r.feed(wire.substr(0, 11));
  CHECK(r.next(&f) == FrameReader::Result::kNeedMore);
  CHECK_FALSE(r.partial(&h, &have));
  CHECK(r.wanted() == 1);
  // The header and 3 payload bytes.
  r.feed(wire.substr(11, 4));
  CHECK(r.next(&f) == FrameReader::Result::kNeedMore);
  REQUIRE(r.partial(&h, &have));
  CHECK(h.type == FrameType::kResponseBody);
  CHECK(h.request_id == 9);
  CHECK(h.length == 10);
  CHECK(have == 3);
  CHECK(r.wanted() == 7);
  r.skip_header();
  CHECK(r.take(10) == "012");
  CHECK(r.buffered() == 0);
  // The other 7 payload bytes went elsewhere (a splice); the reader goes on
  // with the frame after them.
  r.feed(wire.substr(kHeaderSize + 10));
  REQUIRE(r.next(&f) == FrameReader::Result::kFrame);
  CHECK(f.type == FrameType::kResponseEnd);
  CHECK(f.request_id == 9);
  // take() stops at max, and at what is buffered.
  r.feed("abcdef");
  CHECK(r.take(4) == "abcd");
  CHECK(r.take(40) == "ef");
  // A whole frame is next()'s, not partial()'s; nor is anything after an error.
  FrameReader w;
  w.feed(wire);
  CHECK_FALSE(w.partial(&h, &have));
  CHECK(w.wanted() == 0);
  FrameReader bad;
  bad.feed(std::string("\x7f") + std::string(15, '\0'));
  CHECK(bad.next(&f) == FrameReader::Result::kError);
  CHECK_FALSE(bad.partial(&h, &have));
  CHECK(bad.wanted() == 0);
}

TEST_CASE("one byte at a time and random splits give the frames of one whole feed") {
  const std::string stream = mixed_stream();
  const Outcome whole = feed_whole(stream);
  REQUIRE(whole.last == FrameReader::Result::kNeedMore);
  REQUIRE(whole.frames.size() == 1 + 8 * std::size(kTypeCases));
  CHECK(whole.buffered == 0);
  // The frames are what was encoded.
  CHECK(whole.frames[0].type == FrameType::kHello);
  CHECK(whole.frames.back().type == FrameType::kListenersClosed);
  CHECK(whole.frames.back().payload == pattern(70000, 8 * std::size(kTypeCases)));

  CHECK(feed_bytewise(stream) == whole);
  for (uint32_t seed : {1u, 2u, 3u, 42u, 1234u, 99991u}) {
    for (size_t max_piece : {size_t{3}, size_t{13}, size_t{100}, size_t{5000}, size_t{100000}}) {
      CAPTURE(seed);
      CAPTURE(max_piece);
      CHECK(feed_in_pieces(stream, random_pieces(stream.size(), seed, max_piece)) == whole);
    }
  }
}

// The way a worker reads (worker/frame_channel.cc): recv() into prepare(ask),
// commit() what arrived.
Outcome read_in_pieces(std::string_view input, const std::vector<size_t>& sizes, size_t ask,
                       size_t* max_capacity = nullptr) {
  FrameReader r;
  Outcome o;
  // The sizes are used in turn, again from the first when they run out.
  for (size_t pos = 0, i = 0; pos < input.size(); ++i) {
    size_t n = std::min(std::min(sizes[i % sizes.size()], ask), input.size() - pos);
    char* room = r.prepare(ask);
    std::memcpy(room, input.data() + pos, n);
    r.commit(n);
    pos += n;
    drain(r, &o);
    if (max_capacity) *max_capacity = std::max(*max_capacity, r.capacity());
  }
  drain(r, &o);
  o.error = r.error();
  o.buffered = o.last == FrameReader::Result::kError ? 0 : r.buffered();
  return o;
}

TEST_CASE("prepare() and commit() give the frames of feed(), for any split") {
  const std::string stream = mixed_stream();
  const Outcome whole = feed_whole(stream);
  for (uint32_t seed : {1u, 42u, 99991u}) {
    for (size_t max_piece : {size_t{3}, size_t{100}, size_t{70000}}) {
      for (size_t ask : {size_t{1}, size_t{4096}, size_t{65536}}) {
        CAPTURE(seed);
        CAPTURE(max_piece);
        CAPTURE(ask);
        CHECK(read_in_pieces(stream, random_pieces(stream.size(), seed, max_piece), ask) == whole);
      }
    }
  }
  SUBCASE("64 KiB bodies read 64 KiB at a time keep a bounded buffer") {
    std::string frame;
    append_frame(&frame, FrameType::kRequestBody, 1, pattern(kBodyChunk));
    std::string bodies;
    for (int i = 0; i < 64; ++i) bodies += frame;
    size_t max_capacity = 0;
    const Outcome o = read_in_pieces(bodies, {65536}, 65536,
                                     &max_capacity);
    CHECK(o.frames.size() == 64);
    CHECK(o.buffered == 0);
    CHECK(max_capacity <= 4 * 65536);
  }
  SUBCASE("after an error, what is committed is dropped") {
    FrameReader r;
    r.feed(raw_header(0x7f, 0, 0, 0, 0));
    Frame f;
    REQUIRE(r.next(&f) == FrameReader::Result::kError);
    const size_t held = r.buffered();
    std::memset(r.prepare(100), 'x', 100);
    r.commit(100);
    CHECK(r.buffered() == held);
  }
}

TEST_CASE("feeding everything before draining gives the same frames") {
  const std::string stream = mixed_stream();
  const Outcome whole = feed_whole(stream);
  FrameReader r;
  size_t pos = 0;
  for (size_t n : random_pieces(stream.size(), 7, 999)) {
    n = std::min(n, stream.size() - pos);
    r.feed(stream.substr(pos, n));
    pos += n;
  }
  Outcome o;
  drain(r, &o);
  o.error = r.error();
  o.buffered = r.buffered();
  CHECK(o == whole);
}

TEST_CASE("a truncated stream yields its whole frames, then waits") {
  const std::string stream = mixed_stream();
  const Outcome whole = feed_whole(stream);
  const size_t last = kHeaderSize + whole.frames.back().payload.size();
  for (size_t cut : {size_t{1}, size_t{11}, size_t{12}, size_t{13}, last - 1, last}) {
    CAPTURE(cut);
    const std::string_view part(stream.data(), stream.size() - cut);
    Outcome expected = whole;
    expected.frames.pop_back();
    expected.buffered = last - cut;
    if (cut == last) expected.buffered = 0;
    CHECK(feed_whole(part) == expected);
    CHECK(feed_in_pieces(part, random_pieces(part.size(), 5, 333)) == expected);
  }
}

TEST_CASE("payload size limits at their boundaries") {
  SUBCASE("exactly kMaxPayload is accepted, kMaxPayload + 1 is not") {
    const std::string big = pattern(kMaxPayload);
    std::string wire;
    append_frame(&wire, FrameType::kRequestBody, 3, big);
    FrameReader r;
    r.feed(wire);
    Frame f;
    REQUIRE(r.next(&f) == FrameReader::Result::kFrame);
    CHECK(f.payload.size() == kMaxPayload);
    CHECK(f.payload == big);

    FrameReader r2;
    r2.feed(raw_header(0x11, 0, 0, 3, kMaxPayload + 1));
    CHECK(r2.next(&f) == FrameReader::Result::kError);
    CHECK(r2.error() == "frame length 16777217 exceeds the limit of 16777216");
  }
  SUBCASE("a reader's own limit") {
    for (uint32_t limit : {0u, 1u, 100u, 65536u}) {
      CAPTURE(limit);
      std::string ok;
      append_frame(&ok, FrameType::kSettings, 0, pattern(limit));
      const Outcome good = feed_whole(ok, limit);
      CHECK(good.last == FrameReader::Result::kNeedMore);
      CHECK(good.frames.size() == 1);
      const Outcome bad = feed_whole(raw_header(0x40, 0, 0, 0, limit + 1), limit);
      CHECK(bad.last == FrameReader::Result::kError);
      CHECK(bad.error == "frame length " + std::to_string(limit + 1) + " exceeds the limit of " +
                             std::to_string(limit));
    }
  }
  SUBCASE("HELLO up to kMaxHelloPayload, empty types exactly 0") {
    std::string ok;
    append_frame(&ok, FrameType::kHello, 0, pattern(kMaxHelloPayload));
    append_frame(&ok, FrameType::kRequestEnd, 1, "");
    append_frame(&ok, FrameType::kResponseEnd, 1, "");
    append_frame(&ok, FrameType::kCancel, 1, "");
    append_frame(&ok, FrameType::kStateQuery, 0, "");
    const Outcome o = feed_whole(ok);
    CHECK(o.last == FrameReader::Result::kNeedMore);
    CHECK(o.frames.size() == 5);
  }
}

TEST_CASE("the buffer stays compact") {
  SUBCASE("many small frames, drained after each feed") {
    std::string frame;
    append_frame(&frame, FrameType::kResponseBody, 1, pattern(100));
    std::string stream;
    for (int i = 0; i < 2000; ++i) stream += frame;
    FrameReader r;
    size_t frames = 0, max_capacity = 0;
    for (size_t pos = 0; pos < stream.size(); pos += 1000) {
      r.feed(std::string_view(stream).substr(pos, 1000));
      Frame f;
      while (r.next(&f) == FrameReader::Result::kFrame) ++frames;
      max_capacity = std::max(max_capacity, r.capacity());
      CHECK(r.buffered() < frame.size());
    }
    CHECK(frames == 2000);
    CHECK(max_capacity < 8 * 1024);
  }
  SUBCASE("a big frame's buffer is given back") {
    std::string stream;
    append_frame(&stream, FrameType::kRequestBody, 1, pattern(4u << 20));
    FrameReader r;
    r.feed(stream);
    Frame f;
    REQUIRE(r.next(&f) == FrameReader::Result::kFrame);
    CHECK(r.capacity() >= (4u << 20));
    std::string small;
    append_frame(&small, FrameType::kRequestEnd, 1, "");
    r.feed(small);
    CHECK(r.capacity() < 64 * 1024);
    REQUIRE(r.next(&f) == FrameReader::Result::kFrame);
    CHECK(f.type == FrameType::kRequestEnd);
  }
  SUBCASE("a partial frame left behind is moved to the front, not accumulated") {
    std::string frame;
    append_frame(&frame, FrameType::kRequestBody, 1, pattern(1000));
    std::string stream;
    for (int i = 0; i < 500; ++i) stream += frame;
    FrameReader r;
    size_t frames = 0, max_capacity = 0;
    for (size_t pos = 0; pos < stream.size(); pos += 777) {
      r.feed(std::string_view(stream).substr(pos, 777));
      Frame f;
      while (r.next(&f) == FrameReader::Result::kFrame) {
        CHECK(f.payload == pattern(1000));
        ++frames;
      }
      max_capacity = std::max(max_capacity, r.capacity());
    }
    CHECK(frames == 500);
    CHECK(max_capacity < 16 * 1024);
  }
}

// Encoders treat a frame that breaks the protocol as a bug: log at alert, abort.
TEST_CASE("encoders abort on frames that break the limits") {
  struct BugCase {
    const char* what;
    void (*fn)();
  };
  const BugCase cases[] = {
      {"unknown type", [] { std::string s; append_header(&s, static_cast<FrameType>(0x7f), 0, 0); }},
      {"REQUEST_END with payload", [] { std::string s; append_frame(&s, FrameType::kRequestEnd, 1, "x"); }},
      {"HELLO over its limit", [] { std::string s; append_frame(&s, FrameType::kHello, 0, std::string(65, 'x')); }},
      {"header length over kMaxPayload",
       [] { std::string s; append_header(&s, FrameType::kRequestBody, 1, kMaxPayload + 1); }},
  };
  for (const BugCase& c : cases) {
    INFO(std::string(c.what));
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::signal(SIGABRT, SIG_DFL);  // not doctest's crash handler
      log::set_fd(-1);                 // keep the alert line out of the test output
      c.fn();
      _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGABRT);
  }
}

}  // namespace
}  // namespace wsgid::proto
