// The framed protocol between wsgid's processes: frame header, encoder, decoder.
//
// The byte-level specification is protocol/PROTOCOL.md; this header follows it.
// Every frame is a 12-byte header (type u8, flags u8, reserved u16 = 0, request id
// u32, payload length u32; all big-endian) followed by the payload. The same frames
// carry requests on a group socket (front end <-> worker) and control messages on
// a child's control channel (master <-> child).
//
// FrameReader is an incremental decoder: it is fed bytes as they arrive, in any
// split, and yields whole frames. It never reads past what it was fed, checks every
// length before use, and reports oversized, unknown or malformed frames as an error
// (after which the stream is dead: the caller closes it). No libuv, no Python, no
// threads: one reader per connection, used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wsgid::proto {

constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 12;
// Largest payload any frame may carry (a request head with its environ is the
// largest legitimate frame; body chunks are far smaller).
constexpr uint32_t kMaxPayload = 16u * 1024 * 1024;
// Body chunks that writers should not exceed (readers accept up to kMaxPayload).
constexpr uint32_t kBodyChunk = 64u * 1024;

enum class FrameType : uint8_t {
  // Connection setup, both channels.
  kHello = 0x01,          // magic "WSGD" + u32 version; first frame each way
  // Requests (group socket).
  kRequestHead = 0x10,    // environ key/value pairs
  kRequestBody = 0x11,    // raw body bytes
  kRequestEnd = 0x12,     // body complete (empty payload)
  kResponseHead = 0x20,   // status, reason, headers
  kResponseBody = 0x21,   // raw body bytes
  kResponseEnd = 0x22,    // response complete (empty payload)
  kError = 0x30,          // code + message: the request failed (see PROTOCOL.md)
  kCancel = 0x31,         // front end: the client went away (empty payload)
  // Control channel (master <-> child).
  kSettings = 0x40,       // master -> child: JSON settings
  kReady = 0x41,          // child -> master: JSON {} once serving
  kState = 0x42,          // child -> master: JSON state (answer to kStateQuery, or unsolicited)
  kStateQuery = 0x43,     // master -> child: ask for kState (empty payload)
  kDrain = 0x44,          // master -> child: JSON {"timeout": seconds}: stop after in-flight work
  kReplaceMe = 0x45,      // child -> master: JSON {"reason": "..."}: start my replacement
  kExiting = 0x46,        // child -> master: JSON {"reason": "...", "detail": "..."}: why I exit
  kLog = 0x47,            // child -> master: JSON {"level":..,"message":..} (optional use)
};

// True for the types listed above.
bool is_known_type(uint8_t type);
// "REQUEST_HEAD", "DRAIN", ...; "UNKNOWN" for other values.
std::string_view type_name(FrameType type);

struct FrameHeader {
  FrameType type;
  uint8_t flags = 0;
  uint32_t request_id = 0;
  uint32_t length = 0;
};

// Appends the 12-byte header for (type, flags, request_id, length) to *out.
void append_header(std::string* out, FrameType type, uint32_t request_id,
                   uint32_t length, uint8_t flags = 0);
// Appends a whole frame: header plus payload. payload.size() must be <= kMaxPayload.
void append_frame(std::string* out, FrameType type, uint32_t request_id,
                  std::string_view payload, uint8_t flags = 0);
// Appends a kHello frame carrying the magic and kVersion.
void append_hello(std::string* out);

// A decoded frame. payload points into the reader's buffer and stays valid only
// until the next call to feed() or next() on that reader.
struct Frame {
  FrameType type;
  uint8_t flags = 0;
  uint32_t request_id = 0;
  std::string_view payload;
};

class FrameReader {
 public:
  enum class Result { kFrame, kNeedMore, kError };

  // Frames whose payload exceeds max_payload are errors.
  explicit FrameReader(uint32_t max_payload = kMaxPayload);

  // Appends bytes to the internal buffer. Never fails; memory held is bounded by
  // one header plus max_payload plus whatever the caller feeds before calling next().
  void feed(const char* data, size_t len);
  void feed(std::string_view data) { feed(data.data(), data.size()); }

  // Yields the next whole frame in *out (kFrame), or kNeedMore when the buffer
  // holds no whole frame, or kError (see error()) for an unknown type, a nonzero
  // reserved field or an oversized length. After kError every call returns kError.
  Result next(Frame* out);

  // The decoding error, "" until next() returned kError. Names the problem and the
  // values seen, e.g. "frame type 0x7f is unknown", "frame length 20000000 exceeds
  // the limit of 16777216".
  const std::string& error() const { return error_; }
  // Bytes fed but not yet returned as frames.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  size_t pos_ = 0;
  uint32_t max_payload_;
  std::string error_;
};

}  // namespace wsgid::proto
