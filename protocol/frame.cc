// Frame header encoding and the incremental FrameReader (see frame.h, PROTOCOL.md).
#include "protocol/frame.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "common/log.h"

namespace wsgid::proto {
namespace {

// Per-type facts, indexed by the type byte: the name (nullptr = unknown type) and
// the largest payload that type may carry (kMaxPayload for most; 0 for the types
// whose payload is empty; kMaxHelloPayload for kHello).
struct TypeInfo {
  const char* name = nullptr;
  uint32_t max_payload = 0;
};

constexpr std::array<TypeInfo, 256> make_type_table() {
  std::array<TypeInfo, 256> t{};
  auto set = [&t](FrameType type, const char* name, uint32_t max) {
    t[static_cast<uint8_t>(type)] = TypeInfo{name, max};
  };
  set(FrameType::kHello, "HELLO", kMaxHelloPayload);
  set(FrameType::kRequestHead, "REQUEST_HEAD", kMaxPayload);
  set(FrameType::kRequestBody, "REQUEST_BODY", kMaxPayload);
  set(FrameType::kRequestEnd, "REQUEST_END", 0);
  set(FrameType::kBodySocket, "BODY_SOCKET", kBodySocketSize);
  set(FrameType::kResponseSocket, "RESPONSE_SOCKET", kMaxPayload);
  set(FrameType::kResponseHead, "RESPONSE_HEAD", kMaxPayload);
  set(FrameType::kResponseBody, "RESPONSE_BODY", kMaxPayload);
  set(FrameType::kResponseEnd, "RESPONSE_END", 0);
  set(FrameType::kStarted, "STARTED", 0);
  set(FrameType::kBodyTaken, "BODY_TAKEN", kBodyTakenSize);
  set(FrameType::kSocketAsk, "SOCKET_ASK", kSocketAskSize);
  set(FrameType::kResponseSent, "RESPONSE_SENT", kResponseSentSize);
  set(FrameType::kError, "ERROR", kMaxPayload);
  set(FrameType::kCancel, "CANCEL", 0);
  set(FrameType::kSettings, "SETTINGS", kMaxPayload);
  set(FrameType::kReady, "READY", kMaxPayload);
  set(FrameType::kState, "STATE", kMaxPayload);
  set(FrameType::kStateQuery, "STATE_QUERY", 0);
  set(FrameType::kDrain, "DRAIN", kMaxPayload);
  set(FrameType::kReplaceMe, "REPLACE_ME", kMaxPayload);
  set(FrameType::kExiting, "EXITING", kMaxPayload);
  set(FrameType::kLog, "LOG", kMaxPayload);
  set(FrameType::kListenersClosing, "LISTENERS_CLOSING", 0);
  set(FrameType::kListenersClosed, "LISTENERS_CLOSED", kMaxPayload);
  return t;
}

constexpr std::array<TypeInfo, 256> kTypes = make_type_table();

inline uint16_t load16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}
inline uint32_t load32(const char* p) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}
inline void store32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

// A buffer whose capacity grew past this (one big frame) is given back once it
// holds little again, so an idle connection does not keep a 16 MiB buffer.
constexpr size_t kKeepCapacity = 256u * 1024;

}  // namespace

bool is_known_type(uint8_t type) { return kTypes[type].name != nullptr; }

std::string_view type_name(FrameType type) {
  const char* name = kTypes[static_cast<uint8_t>(type)].name;
  return name ? std::string_view(name) : std::string_view("UNKNOWN");
}

uint32_t max_payload_for(FrameType type) { return kTypes[static_cast<uint8_t>(type)].max_payload; }

void append_header(std::string* out, FrameType type, uint32_t request_id, uint32_t length,
                   uint8_t flags) {
  const TypeInfo& info = kTypes[static_cast<uint8_t>(type)];
  if (info.name == nullptr || length > info.max_payload)
    log::bug(fmt::format("append_header: type 0x{:02x} with length {} breaks the protocol",
                         static_cast<unsigned>(type), length),
             __FILE__, __LINE__);
  char h[kHeaderSize];
  h[0] = static_cast<char>(type);
  h[1] = static_cast<char>(flags);
  h[2] = 0;
  h[3] = 0;
  store32(h + 4, request_id);
  store32(h + 8, length);
  out->append(h, kHeaderSize);
}

void append_frame(std::string* out, FrameType type, uint32_t request_id,
                  std::string_view payload, uint8_t flags) {
  // A payload past 4 GiB would wrap the u32; append_header then catches the rest.
  if (payload.size() > kMaxPayload)
    log::bug(fmt::format("append_frame: payload of {} bytes exceeds the limit of {}",
                         payload.size(), kMaxPayload),
             __FILE__, __LINE__);
  out->reserve(out->size() + kHeaderSize + payload.size());
  append_header(out, type, request_id, static_cast<uint32_t>(payload.size()), flags);
  out->append(payload);
}

void append_hello(std::string* out, uint32_t pid) {
  char p[12] = {'W', 'S', 'G', 'D', 0, 0, 0, 0, 0, 0, 0, 0};
  store32(p + 4, kVersion);
  store32(p + 8, pid);
  append_frame(out, FrameType::kHello, 0, std::string_view(p, sizeof p));
}

FrameReader::FrameReader(uint32_t max_payload) : max_payload_(max_payload) {}

char* FrameReader::reserve_tail(size_t len) {
  if (pos_ > 0) {
    // Drop consumed bytes when that costs no more than what was consumed (so the
    // memmove is amortized), or when the append would reallocate anyway.
    if (pos_ == end_) {
      pos_ = end_ = 0;
    } else if (pos_ >= end_ - pos_ || end_ + len > cap_) {
      std::memmove(data_.get(), data_.get() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
  }
  size_t want = 0;
  if (end_ + len > cap_) {
    want = std::max({end_ + len, cap_ * 2, size_t{4096}});
  } else if (pos_ == 0 && cap_ > kKeepCapacity && (end_ + len) * 4 < cap_) {
    want = std::max(end_ + len, size_t{4096});
  }
  if (want != 0) {
    // new char[] leaves the bytes uninitialised: prepare()'s caller writes them.
    std::unique_ptr<char[]> bigger(new char[want]);
    if (end_ > 0) std::memcpy(bigger.get(), data_.get(), end_);
    data_ = std::move(bigger);
    cap_ = want;
  }
  return data_.get() + end_;
}

void FrameReader::feed(const char* data, size_t len) {
  // A dead stream keeps nothing more: the caller is about to close it.
  if (len == 0 || !error_.empty()) return;
  std::memcpy(reserve_tail(len), data, len);
  end_ += len;
}

char* FrameReader::prepare(size_t len) { return reserve_tail(len); }

void FrameReader::commit(size_t len) {
  if (!error_.empty()) return;
  if (len > cap_ - end_)
    log::bug(fmt::format("FrameReader::commit({}) past the {} bytes prepared", len, cap_ - end_),
             __FILE__, __LINE__);
  end_ += len;
}

bool FrameReader::check_header(const char* p, size_t avail) {
  // Fields are checked in header order as soon as they are complete, so a stream
  // fails at the same field with the same text whatever the split.
  const uint8_t type = static_cast<uint8_t>(p[0]);
  const TypeInfo& info = kTypes[type];
  if (info.name == nullptr) {
    error_ = fmt::format("frame type 0x{:02x} is unknown", type);
    return false;
  }
  if (avail < 4) return true;
  const uint16_t reserved = load16(p + 2);
  if (reserved != 0) {
    error_ = fmt::format("frame reserved field 0x{:04x} is not zero", reserved);
    return false;
  }
  if (avail < kHeaderSize) return true;
  const uint32_t length = load32(p + 8);
  if (length > max_payload_) {
    error_ = fmt::format("frame length {} exceeds the limit of {}", length, max_payload_);
    return false;
  }
  if (length > info.max_payload) {
    error_ = fmt::format("frame length {} exceeds the limit of {} for {}", length,
                         info.max_payload, info.name);
    return false;
  }
  return true;
}

FrameReader::Result FrameReader::next(Frame* out) {
  if (!error_.empty()) return Result::kError;
  const size_t avail = end_ - pos_;
  if (avail == 0) {
    // Everything was consumed: restart at the front (keeps the capacity).
    pos_ = end_ = 0;
    return Result::kNeedMore;
  }
  const char* p = data_.get() + pos_;
  if (!check_header(p, avail)) return Result::kError;
  if (avail < kHeaderSize) return Result::kNeedMore;
  const uint32_t length = load32(p + 8);
  if (avail - kHeaderSize < length) return Result::kNeedMore;
  out->type = static_cast<FrameType>(p[0]);
  out->flags = static_cast<uint8_t>(p[1]);
  out->request_id = load32(p + 4);
  out->payload = std::string_view(p + kHeaderSize, length);
  pos_ += kHeaderSize + length;
  return Result::kFrame;
}

bool FrameReader::partial(FrameHeader* h, size_t* have) const {
  if (!error_.empty() || end_ - pos_ < kHeaderSize) return false;
  const char* p = data_.get() + pos_;
  const uint32_t length = load32(p + 8);
  const size_t buffered = end_ - pos_ - kHeaderSize;
  if (buffered >= length) return false;  // whole: next() yields it
  h->type = static_cast<FrameType>(p[0]);
  h->flags = static_cast<uint8_t>(p[1]);
  h->request_id = load32(p + 4);
  h->length = length;
  *have = buffered;
  return true;
}

void FrameReader::skip_header() {
  FrameHeader h;
  size_t have = 0;
  if (!partial(&h, &have)) log::bug("FrameReader::skip_header() without a partial frame", __FILE__, __LINE__);
  pos_ += kHeaderSize;
}

size_t FrameReader::wanted() const {
  if (!error_.empty()) return 0;
  const size_t avail = end_ - pos_;
  if (avail < kHeaderSize) return kHeaderSize - avail;
  const size_t length = load32(data_.get() + pos_ + 8);
  return avail - kHeaderSize >= length ? 0 : length - (avail - kHeaderSize);
}

std::string_view FrameReader::take(size_t max) {
  const size_t n = std::min(max, end_ - pos_);
  std::string_view v(data_.get() + pos_, n);
  pos_ += n;
  return v;
}

}  // namespace wsgid::proto
