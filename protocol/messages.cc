// Typed payloads: request head, response head, error, hello (see messages.h and
// PROTOCOL.md for the byte layouts and the exact error texts).
#include "protocol/messages.h"

#include <fmt/core.h>

#include "common/log.h"
#include "protocol/response_head_view.h"

namespace wsgid::proto {
namespace {

constexpr char kMagic[4] = {'W', 'S', 'G', 'D'};
constexpr size_t kHelloPrefix = 8;   // magic + version: every version has them
constexpr size_t kHelloSize = 12;    // version 2 and later: + pid
constexpr uint16_t kMinStatus = 100, kMaxStatus = 999;
constexpr uint16_t kMinErrorCode = 400, kMaxErrorCode = 599;

inline void put16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
}
inline void put32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

// The 6-byte pair header, key and value. The caller checked the limits.
inline void append_pair(std::string* out, std::string_view key, std::string_view value) {
  char h[6];
  put16(h, static_cast<uint16_t>(key.size()));
  put32(h + 2, static_cast<uint32_t>(value.size()));
  out->append(h, sizeof h);
  out->append(key);
  out->append(value);
}

// Bytes shown in an error text: printable ASCII as is, anything else as \xNN.
std::string escape(std::string_view bytes) {
  std::string s;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\')
      s += c;
    else
      s += fmt::format("\\x{:02x}", u);
  }
  return s;
}

// CR, LF and NUL may not appear in a reason or a header: they would let a value
// end the HTTP line the front end writes it into.
// The first CR, LF or NUL in s, or npos. A plain loop: find_first_of() calls
// memchr() once per byte of s (libstdc++), and this runs on every response head.
size_t find_line_breaker(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\r' || c == '\n' || c == '\0') return i;
  }
  return std::string_view::npos;
}

Status check_line_bytes(const ResponseHead& head) {
  auto bad = find_line_breaker;
  if (size_t i = bad(head.reason); i != std::string_view::npos)
    return Status::error(fmt::format("response head: reason contains byte 0x{:02x}",
                                     static_cast<unsigned char>(head.reason[i])));
  for (size_t n = 0; n < head.headers.size(); ++n) {
    const auto& [name, value] = head.headers[n];
    if (size_t i = bad(name); i != std::string_view::npos)
      return Status::error(fmt::format("response head: header {} name contains byte 0x{:02x}", n,
                                       static_cast<unsigned char>(name[i])));
    if (size_t i = bad(value); i != std::string_view::npos)
      return Status::error(fmt::format("response head: header {} value contains byte 0x{:02x}",
                                       n, static_cast<unsigned char>(value[i])));
  }
  return Status::ok();
}

}  // namespace

namespace detail {
Status pair_error(size_t offset, std::string_view what) {
  return Status::error(fmt::format("request head: {} at offset {}", what, offset));
}
}  // namespace detail

// --- request head ---

RequestHeadWriter::RequestHeadWriter(std::string* out, uint32_t request_id)
    : out_(out), start_(out->size()) {
  append_header(out, FrameType::kRequestHead, request_id, 0);
}

void RequestHeadWriter::add(std::string_view key, std::string_view value) {
  if (overflow_) return;
  const size_t payload = out_->size() - start_ - kHeaderSize;
  // Each term is checked on its own first so that the sum cannot wrap.
  if (key.empty() || key.size() > kMaxKeyLength || value.size() > kMaxPayload ||
      ++pairs_ > kMaxPairs || payload + 6 + key.size() + value.size() > kMaxPayload) {
    overflow_ = true;
    out_->resize(start_ + kHeaderSize);  // stop holding what will be thrown away
    return;
  }
  append_pair(out_, key, value);
}

bool RequestHeadWriter::finish() {
  if (overflow_) {
    out_->resize(start_);
    return false;
  }
  put32(out_->data() + start_ + 8, static_cast<uint32_t>(out_->size() - start_ - kHeaderSize));
  return true;
}

void append_request_head(std::string* out, uint32_t request_id, const KeyValues& environ) {
  RequestHeadWriter w(out, request_id);
  for (const auto& [key, value] : environ) w.add(key, value);
  if (!w.finish())
    log::bug(fmt::format("append_request_head: {} pairs break the protocol limits",
                         environ.size()),
             __FILE__, __LINE__);
}

Result<KeyValues> decode_request_head(std::string_view payload) {
  KeyValues kv;
  Status st = for_each_pair(payload, [&kv](std::string_view k, std::string_view v) {
    kv.emplace_back(std::string(k), std::string(v));
  });
  if (!st) return st;
  return kv;
}

// --- response head ---

Status check_response_head(const ResponseHead& head) {
  if (head.status < kMinStatus || head.status > kMaxStatus)
    return Status::error(fmt::format("response head: status {} is out of range {}..{}",
                                     head.status, kMinStatus, kMaxStatus));
  if (head.reason.size() > kMaxKeyLength)
    return Status::error(fmt::format("response head: reason length {} exceeds {}",
                                     head.reason.size(), kMaxKeyLength));
  if (head.headers.size() > kMaxPairs)
    return Status::error(fmt::format("response head: {} headers exceed the limit of {}",
                                     head.headers.size(), kMaxPairs));
  size_t size = 4 + head.reason.size();
  for (size_t i = 0; i < head.headers.size(); ++i) {
    const auto& [name, value] = head.headers[i];
    if (name.empty())
      return Status::error(fmt::format("response head: header {} has an empty name", i));
    if (name.size() > kMaxKeyLength)
      return Status::error(fmt::format("response head: header {} name length {} exceeds {}",
                                       i, name.size(), kMaxKeyLength));
    // Bounded: kMaxPairs * (6 + 64 KiB + a value already in memory) cannot wrap.
    size += 6 + name.size() + value.size();
  }
  if (size > kMaxPayload)
    return Status::error(fmt::format("response head: payload length {} exceeds the limit of {}",
                                     size, kMaxPayload));
  return check_line_bytes(head);
}

void append_response_head(std::string* out, uint32_t request_id, const ResponseHead& head) {
  if (Status st = check_response_head(head); !st)
    log::bug(fmt::format("append_response_head: {}", st.message()), __FILE__, __LINE__);
  const size_t start = out->size();
  append_header(out, FrameType::kResponseHead, request_id, 0);
  char h[4];
  put16(h, head.status);
  put16(h + 2, static_cast<uint16_t>(head.reason.size()));
  out->append(h, sizeof h);
  out->append(head.reason);
  for (const auto& [name, value] : head.headers) append_pair(out, name, value);
  put32(out->data() + start + 8, static_cast<uint32_t>(out->size() - start - kHeaderSize));
}

Result<ResponseHead> decode_response_head(std::string_view payload) {
  Result<ResponseHeadView> view = ResponseHeadView::parse(payload);
  if (!view) return view.status();
  ResponseHead head;
  head.status = view->status();
  head.reason.assign(view->reason());
  head.headers.reserve(view->header_count());
  for (const auto& [name, value] : *view) head.headers.emplace_back(name, value);
  if (Status st = check_line_bytes(head); !st) return st;
  return head;
}

// --- error ---

void append_error(std::string* out, uint32_t request_id, const ErrorMessage& err) {
  const auto code = static_cast<uint16_t>(err.code);
  if (code < kMinErrorCode || code > kMaxErrorCode)
    log::bug(fmt::format("append_error: code {} is out of range {}..{}", code, kMinErrorCode,
                         kMaxErrorCode),
             __FILE__, __LINE__);
  std::string_view message = err.message;
  if (message.size() > kMaxPayload - 2) {
    // Cut to fit, at a UTF-8 character boundary.
    size_t n = kMaxPayload - 2;
    while (n > 0 && (static_cast<unsigned char>(message[n]) & 0xc0) == 0x80) --n;
    message = message.substr(0, n);
  }
  append_header(out, FrameType::kError, request_id, static_cast<uint32_t>(2 + message.size()));
  char h[2];
  put16(h, code);
  out->append(h, sizeof h);
  out->append(message);
}

Result<ErrorMessage> decode_error(std::string_view payload) {
  if (payload.size() < 2)
    return Status::error(
        fmt::format("error: payload length {} is shorter than the 2-byte code", payload.size()));
  const uint16_t code = detail::get16(payload.data());
  if (code < kMinErrorCode || code > kMaxErrorCode)
    return Status::error(fmt::format("error: code {} is out of range {}..{}", code,
                                     kMinErrorCode, kMaxErrorCode));
  ErrorMessage err;
  err.code = static_cast<ErrorCode>(code);
  err.message.assign(payload.data() + 2, payload.size() - 2);
  return err;
}

// --- body socket, body taken ---

namespace {
void put64(char* p, uint64_t v) {
  put32(p, static_cast<uint32_t>(v >> 32));
  put32(p + 4, static_cast<uint32_t>(v));
}
uint64_t get64(const char* p) {
  return (static_cast<uint64_t>(detail::get32(p)) << 32) | detail::get32(p + 4);
}
}  // namespace

void append_body_socket(std::string* out, uint32_t request_id, const BodySocket& b) {
  append_header(out, FrameType::kBodySocket, request_id, kBodySocketSize);
  char p[kBodySocketSize];
  put64(p, b.length);
  put32(p + 8, b.timeout_ms);
  out->append(p, sizeof p);
}

Result<BodySocket> decode_body_socket(std::string_view payload) {
  if (payload.size() != kBodySocketSize)
    return Status::error(fmt::format("body socket: payload length {} is not {}", payload.size(), kBodySocketSize));
  BodySocket b{get64(payload.data()), detail::get32(payload.data() + 8)};
  if (b.length == 0) return Status::error("body socket: length 0");
  return b;
}

namespace {

// BODY_TAKEN and RESPONSE_SENT: u64 bytes + u8 how; `what` names the frame in errors.
static_assert(kResponseSentSize == kBodyTakenSize);
void append_count_how(std::string* out, FrameType type, uint32_t request_id, uint64_t bytes, TakenHow how) {
  append_header(out, type, request_id, kBodyTakenSize);
  char p[kBodyTakenSize];
  put64(p, bytes);
  p[8] = static_cast<char>(how);
  out->append(p, sizeof p);
}

Status decode_count_how(std::string_view payload, std::string_view what, uint64_t* bytes, TakenHow* how) {
  if (payload.size() != kBodyTakenSize)
    return Status::error(fmt::format("{}: payload length {} is not {}", what, payload.size(), kBodyTakenSize));
  const auto h = static_cast<uint8_t>(payload[8]);
  if (h > static_cast<uint8_t>(TakenHow::kClientClosed)) return Status::error(fmt::format("{}: unknown how {}", what, h));
  *bytes = get64(payload.data());
  *how = static_cast<TakenHow>(h);
  return Status::ok();
}

}  // namespace

void append_body_taken(std::string* out, uint32_t request_id, const BodyTaken& t) {
  append_count_how(out, FrameType::kBodyTaken, request_id, t.bytes, t.how);
}

Result<BodyTaken> decode_body_taken(std::string_view payload) {
  BodyTaken t;
  Status s = decode_count_how(payload, "body taken", &t.bytes, &t.how);
  if (!s) return s;
  return t;
}

void append_socket_ask(std::string* out, uint32_t request_id, const SocketAsk& a) {
  append_header(out, FrameType::kSocketAsk, request_id, kSocketAskSize);
  char p[kSocketAskSize];
  put64(p, a.bytes);
  out->append(p, sizeof p);
}

Result<SocketAsk> decode_socket_ask(std::string_view payload) {
  if (payload.size() != kSocketAskSize)
    return Status::error(fmt::format("socket ask: payload length {} is not {}", payload.size(), kSocketAskSize));
  SocketAsk a{get64(payload.data())};
  if (a.bytes == 0) return Status::error("socket ask: bytes 0");
  return a;
}

void append_response_socket(std::string* out, uint32_t request_id, const ResponseSocket& r) {
  append_header(out, FrameType::kResponseSocket, request_id,
                static_cast<uint32_t>(kResponseSocketSize + r.head.size()));
  char p[kResponseSocketSize];
  p[0] = r.granted ? 1 : 0;
  put32(p + 1, r.timeout_ms);
  out->append(p, sizeof p);
  out->append(r.head);
}

Result<ResponseSocket> decode_response_socket(std::string_view payload) {
  if (payload.size() < kResponseSocketSize)
    return Status::error(
        fmt::format("response socket: payload length {} is shorter than {}", payload.size(), kResponseSocketSize));
  const auto granted = static_cast<uint8_t>(payload[0]);
  if (granted > 1) return Status::error(fmt::format("response socket: granted must be 0 or 1, not {}", granted));
  if (granted == 0 && payload.size() > kResponseSocketSize)
    return Status::error(
        fmt::format("response socket: refused with {} head bytes", payload.size() - kResponseSocketSize));
  return ResponseSocket{granted == 1, detail::get32(payload.data() + 1), payload.substr(kResponseSocketSize)};
}

void append_response_sent(std::string* out, uint32_t request_id, const ResponseSent& s) {
  append_count_how(out, FrameType::kResponseSent, request_id, s.bytes, s.how);
}

Result<ResponseSent> decode_response_sent(std::string_view payload) {
  ResponseSent r;
  Status s = decode_count_how(payload, "response sent", &r.bytes, &r.how);
  if (!s) return s;
  return r;
}

// --- hello ---

Result<Hello> decode_hello(std::string_view payload) {
  if (payload.size() < kHelloPrefix)
    return Status::error(fmt::format(
        "hello: payload length {} is shorter than the 8-byte magic and version", payload.size()));
  if (payload.substr(0, 4) != std::string_view(kMagic, 4))
    return Status::error(fmt::format("hello: bad magic \"{}\", expected \"WSGD\"",
                                     escape(payload.substr(0, 4))));
  const uint32_t version = detail::get32(payload.data() + 4);
  if (version != kVersion)
    return Status::error(fmt::format("hello: peer speaks protocol version {}, this side speaks {}",
                                     version, kVersion));
  if (payload.size() != kHelloSize)
    return Status::error(fmt::format("hello: payload length {} is not {} as version {} requires",
                                     payload.size(), kHelloSize, kVersion));
  return Hello{version, detail::get32(payload.data() + 8)};
}

}  // namespace wsgid::proto
