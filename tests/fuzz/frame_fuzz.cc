// libFuzzer target for the frame decoder and the typed payload decoders.
//
// The input is a byte stream as a peer would send it. It is fed to a FrameReader
// whole, in pieces whose sizes come from a generator seeded by the input, one
// byte at a time (inputs up to 64 KiB), and to a reader with a small limit (each
// piece of odd size goes in through prepare()/commit(), the others through
// feed()); then
// every frame's payload goes to the decoder of its type. Invariants, each an
// abort when broken:
//   - every split yields the same frames, the same last result and error text;
//   - so does a run that reads large payloads past the reader (partial(),
//     skip_header(), take(): the front end's splice of response bodies), and
//     wanted() is what completes the frame at the front;
//   - each frame re-encodes (append_frame) to exactly the input bytes it came
//     from, is of a known type, and fits max_payload_for(type);
//   - a reader with a smaller limit yields a prefix of those frames and fails
//     where a frame is over its limit;
//   - a payload that decodes re-encodes to the same bytes (request head, response
//     head, error, hello); for_each_pair agrees with decode_request_head; every
//     decoder error is non-empty and starts with its message's name.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"

namespace {

using namespace wsgid::proto;
using wsgid::Result;

constexpr size_t kMaxInput = 1u << 20;
constexpr size_t kMaxBytewise = 64u * 1024;

#define FUZZ_CHECK(cond)                                                         \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::fprintf(stderr, "frame_fuzz: invariant broken: %s (line %d)\n", #cond, \
                   __LINE__);                                                    \
      std::abort();                                                              \
    }                                                                            \
  } while (0)

struct OwnedFrame {
  FrameType type;
  uint8_t flags;
  uint32_t request_id;
  std::string payload;
  bool operator==(const OwnedFrame&) const = default;
};

struct Outcome {
  std::vector<OwnedFrame> frames;
  FrameReader::Result last = FrameReader::Result::kNeedMore;
  std::string error;
  size_t buffered = 0;  // meaningful when last != kError
  bool operator==(const Outcome&) const = default;
};

void drain(FrameReader& r, Outcome* o) {
  Frame f;
  FrameReader::Result res;
  while ((res = r.next(&f)) == FrameReader::Result::kFrame)
    o->frames.push_back({f.type, f.flags, f.request_id, std::string(f.payload)});
  o->last = res;
}

// next_piece() returns the size of the next piece (>= 1).
template <class NextPiece>
Outcome run(std::string_view in, uint32_t max_payload, NextPiece next_piece) {
  FrameReader r(max_payload);
  Outcome o;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t n = std::min(next_piece(), in.size() - pos);
    if (n & 1) {
      // The worker's way: recv() into prepare()'s room (more than arrives), commit().
      std::memcpy(r.prepare(n + 7), in.data() + pos, n);
      r.commit(n);
    } else {
      r.feed(in.substr(pos, n));
    }
    pos += n;
    drain(r, &o);
  }
  drain(r, &o);
  o.error = r.error();
  o.buffered = o.last == FrameReader::Result::kError ? 0 : r.buffered();
  return o;
}

// As run(), but as the front end reads a large response body: whenever the
// reader holds a frame's header and only part of its payload, the header is
// skipped, the buffered part taken, and the rest of the payload taken from the
// stream itself (splice), past the reader. The frames must be the same.
template <class NextPiece>
Outcome run_passthrough(std::string_view in, NextPiece next_piece) {
  FrameReader r;
  Outcome o;
  size_t pos = 0;
  bool cut = false;  // the stream ends inside a passed-through payload
  auto pass = [&] {
    FrameHeader h;
    size_t have = 0;
    while (o.last == FrameReader::Result::kNeedMore && r.partial(&h, &have)) {
      FUZZ_CHECK(have < h.length);
      FUZZ_CHECK(r.wanted() == h.length - have);
      FUZZ_CHECK(is_known_type(static_cast<uint8_t>(h.type)) && h.length <= max_payload_for(h.type));
      r.skip_header();
      std::string payload(r.take(h.length));
      FUZZ_CHECK(payload.size() == have);
      FUZZ_CHECK(r.buffered() == 0);
      const size_t rest = h.length - have;
      if (in.size() - pos < rest) {
        cut = true;
        pos = in.size();
        return;
      }
      payload.append(in.substr(pos, rest));
      pos += rest;
      o.frames.push_back({h.type, h.flags, h.request_id, std::move(payload)});
      drain(r, &o);
    }
  };
  while (pos < in.size() && !cut) {
    size_t n = std::min(next_piece(), in.size() - pos);
    r.feed(in.substr(pos, n));
    pos += n;
    drain(r, &o);
    // What completes the frame at the front: something while it waits for
    // more, nothing after an error.
    FUZZ_CHECK((r.wanted() > 0) == (o.last == FrameReader::Result::kNeedMore));
    pass();
  }
  o.error = r.error();
  o.buffered = cut ? 0 : (o.last == FrameReader::Result::kError ? 0 : r.buffered());
  return o;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::string_view(s).substr(0, prefix.size()) == prefix;
}

void check_payload(const OwnedFrame& f) {
  const std::string_view p = f.payload;
  switch (f.type) {
    case FrameType::kHello: {
      Result<Hello> v = decode_hello(p);
      if (v.is_ok()) {
        std::string again;
        append_hello(&again, v->pid);
        FUZZ_CHECK(again.substr(kHeaderSize) == p);
      } else {
        FUZZ_CHECK(starts_with(v.status().message(), "hello: "));
      }
      break;
    }
    case FrameType::kRequestHead: {
      Result<KeyValues> kv = decode_request_head(p);
      KeyValues seen;
      wsgid::Status st = for_each_pair(p, [&](std::string_view k, std::string_view v) {
        seen.emplace_back(std::string(k), std::string(v));
      });
      FUZZ_CHECK(st.is_ok() == kv.is_ok());
      if (kv.is_ok()) {
        FUZZ_CHECK(seen == *kv);
        std::string again;
        append_request_head(&again, f.request_id, *kv);
        FUZZ_CHECK(again.substr(kHeaderSize) == p);
        std::string again2;
        RequestHeadWriter w(&again2, f.request_id);
        for (const auto& [k, v] : *kv) w.add(k, v);
        FUZZ_CHECK(w.finish());
        FUZZ_CHECK(again2 == again);
      } else {
        FUZZ_CHECK(st.message() == kv.status().message());
        FUZZ_CHECK(starts_with(st.message(), "request head: "));
      }
      break;
    }
    case FrameType::kResponseHead: {
      Result<ResponseHead> head = decode_response_head(p);
      if (head.is_ok()) {
        FUZZ_CHECK(check_response_head(*head).is_ok());
        std::string again;
        append_response_head(&again, f.request_id, *head);
        FUZZ_CHECK(again.substr(kHeaderSize) == p);
      } else {
        FUZZ_CHECK(starts_with(head.status().message(), "response head: "));
      }
      break;
    }
    case FrameType::kError: {
      Result<ErrorMessage> err = decode_error(p);
      if (err.is_ok()) {
        std::string again;
        append_error(&again, f.request_id, *err);
        FUZZ_CHECK(again.substr(kHeaderSize) == p);
      } else {
        FUZZ_CHECK(starts_with(err.status().message(), "error: "));
      }
      break;
    }
    case FrameType::kBodySocket: {
      Result<BodySocket> b = decode_body_socket(p);
      if (b.is_ok()) {
        std::string again;
        append_body_socket(&again, f.request_id, *b);
        FUZZ_CHECK(again.substr(kHeaderSize) == p);
      } else {
        FUZZ_CHECK(starts_with(b.status().message(), "body socket: "));
      }
      break;
    }
    case FrameType::kBodyTaken: {
      Result<BodyTaken> t = decode_body_taken(p);
      if (t.is_ok()) {
        std::string again;
        append_body_taken(&again, f.request_id, *t);
        FUZZ_CHECK(again.substr(kHeaderSize) == p);
      } else {
        FUZZ_CHECK(starts_with(t.status().message(), "body taken: "));
      }
      break;
    }
    case FrameType::kSocketAsk: {
      Result<SocketAsk> a = decode_socket_ask(p);
      if (a.is_ok()) {
        std::string again;
        append_socket_ask(&again, f.request_id, *a);
        FUZZ_CHECK(again.substr(kHeaderSize) == p);
      } else {
        FUZZ_CHECK(starts_with(a.status().message(), "socket ask: "));
      }
      break;
    }
    case FrameType::kResponseSocket: {
      Result<ResponseSocket> r = decode_response_socket(p);
      if (r.is_ok()) {
        std::string again;
        append_response_socket(&again, f.request_id, *r);
        FUZZ_CHECK(again.substr(kHeaderSize) == p);
      } else {
        FUZZ_CHECK(starts_with(r.status().message(), "response socket: "));
      }
      break;
    }
    case FrameType::kResponseSent: {
      Result<ResponseSent> t = decode_response_sent(p);
      if (t.is_ok()) {
        std::string again;
        append_response_sent(&again, f.request_id, *t);
        FUZZ_CHECK(again.substr(kHeaderSize) == p);
      } else {
        FUZZ_CHECK(starts_with(t.status().message(), "response sent: "));
      }
      break;
    }
    case FrameType::kRequestEnd:
    case FrameType::kResponseEnd:
    case FrameType::kStarted:
    case FrameType::kCancel:
    case FrameType::kStateQuery:
      FUZZ_CHECK(p.empty());
      break;
    default:  // bodies and JSON control messages: opaque bytes here
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  const Outcome whole = run(in, kMaxPayload, [&] { return in.size() + 1; });

  // Pieces of 1..2^k bytes, k and the sizes drawn from a generator seeded by the input.
  uint64_t x = fnv1a(in) | 1;
  auto rnd = [&x] {  // xorshift64
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const unsigned bits = 1 + static_cast<unsigned>(rnd() % 16);
  const Outcome split = run(in, kMaxPayload, [&] { return 1 + rnd() % (size_t{1} << bits); });
  FUZZ_CHECK(split == whole);
  if (size <= kMaxBytewise) FUZZ_CHECK(run(in, kMaxPayload, [] { return size_t{1}; }) == whole);
  {
    // Payloads passed through: the same frames; a stream cut inside one has
    // none of its bytes left in the reader (whole holds them, unreturned).
    Outcome pass = run_passthrough(in, [&] { return 1 + rnd() % (size_t{1} << bits); });
    FUZZ_CHECK(pass.frames == whole.frames);
    FUZZ_CHECK(pass.last == whole.last);
    FUZZ_CHECK(pass.error == whole.error);
    FUZZ_CHECK(pass.buffered <= whole.buffered);
  }

  // Each frame is exactly the bytes it came from, and within its type's limit.
  size_t offset = 0;
  for (const OwnedFrame& f : whole.frames) {
    FUZZ_CHECK(is_known_type(static_cast<uint8_t>(f.type)));
    FUZZ_CHECK(f.payload.size() <= max_payload_for(f.type));
    std::string again;
    append_frame(&again, f.type, f.request_id, f.payload, f.flags);
    FUZZ_CHECK(in.substr(offset, again.size()) == again);
    offset += again.size();
  }
  if (whole.last == FrameReader::Result::kError) {
    FUZZ_CHECK(!whole.error.empty());
  } else {
    FUZZ_CHECK(whole.last == FrameReader::Result::kNeedMore);
    FUZZ_CHECK(whole.error.empty());
    FUZZ_CHECK(whole.buffered == size - offset);
  }

  // A reader with a small limit: a prefix of the frames, failing at the first one over it.
  const uint32_t limit = size > 0 ? data[0] : 0;
  const Outcome small = run(in, limit, [&] { return 1 + rnd() % 64; });
  size_t k = 0;
  while (k < whole.frames.size() && whole.frames[k].payload.size() <= limit) ++k;
  FUZZ_CHECK(small.frames.size() == k);
  for (size_t i = 0; i < k; ++i) FUZZ_CHECK(small.frames[i] == whole.frames[i]);
  if (k < whole.frames.size() || whole.last == FrameReader::Result::kError) {
    FUZZ_CHECK(small.last == FrameReader::Result::kError);
  } else if (whole.buffered >= kHeaderSize && wsgid::proto::detail::get32(in.data() + offset + 8) > limit) {
    // The incomplete last frame already announces a length over the small limit.
    FUZZ_CHECK(small.last == FrameReader::Result::kError);
  } else {
    FUZZ_CHECK(small == whole);
  }

  for (const OwnedFrame& f : whole.frames) check_payload(f);
  return 0;
}
