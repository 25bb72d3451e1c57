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
// threads: one reader per connection, used by one thread at a time. The encoders
// (append_*) treat a frame that breaks the limits below as a caller bug: they log
// at alert and abort (log::bug), so callers check sizes first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace wsgid::proto {

constexpr uint32_t kVersion = 7;
constexpr size_t kHeaderSize = 12;
// Largest payload any frame may carry (a request head with its environ is the
// largest legitimate frame; body chunks are far smaller).
constexpr uint32_t kMaxPayload = 16u * 1024 * 1024;
// Body chunks that writers should not exceed (readers accept up to kMaxPayload).
constexpr uint32_t kBodyChunk = 64u * 1024;
// Largest kHello payload a reader accepts: versions 2 to 5 send 12 bytes; the slack lets
// a later version append fields and still be told apart by its version number.
constexpr uint32_t kMaxHelloPayload = 64;
// The fixed payloads of kBodySocket (u64 length + u32 timeout ms) and
// kBodyTaken (u64 bytes + u8 how): protocol/messages.h.
constexpr uint32_t kBodySocketSize = 12;
constexpr uint32_t kBodyTakenSize = 9;
// The fixed payloads of kSocketAsk (u64 bytes) and kResponseSent (u64 bytes +
// u8 how), and the fixed part of kResponseSocket's (u8 granted + u32 timeout
// ms, then the bytes to write before the body): protocol/messages.h.
constexpr uint32_t kSocketAskSize = 8;
constexpr uint32_t kResponseSocketSize = 5;
constexpr uint32_t kResponseSentSize = 9;

enum class FrameType : uint8_t {
  // Connection setup, both channels.
  kHello = 0x01,          // magic "WSGD" + u32 version + u32 sender pid; first frame each way
  // Requests (group socket).
  kRequestHead = 0x10,    // environ key/value pairs
  kRequestBody = 0x11,    // raw body bytes
  kRequestEnd = 0x12,     // body complete (empty payload)
  kBodySocket = 0x13,     // front end: the rest of the body is read from the client socket sent with it
  kResponseSocket = 0x14, // front end: answer to SOCKET_ASK; when granted, the client socket comes with it
  kResponseHead = 0x20,   // status, reason, headers
  kResponseBody = 0x21,   // raw body bytes
  kResponseEnd = 0x22,    // response complete (empty payload)
  kStarted = 0x23,        // worker: the application is being called for this request (empty)
  kBodyTaken = 0x24,      // worker: done with the client socket of a BODY_SOCKET, bytes read from it
  kSocketAsk = 0x25,      // worker: may it write the response body's bytes to the client socket itself
  kResponseSent = 0x26,   // worker: done with the client socket of a RESPONSE_SOCKET, bytes written to it
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
  kListenersClosing = 0x48,  // front end -> master (empty): my drain closes the TCP listeners
  kListenersClosed = 0x49,   // master -> front end: JSON {"refusing": bool}: yours alone now
};

// True for the types listed above.
bool is_known_type(uint8_t type);
// "REQUEST_HEAD", "DRAIN", ...; "UNKNOWN" for other values.
std::string_view type_name(FrameType type);
// The largest payload a frame of this type may carry: 0 for kRequestEnd,
// kResponseEnd, kStarted, kCancel and kStateQuery (empty payload), kMaxHelloPayload for
// kHello, kMaxPayload for the others; 0 for an unknown type.
uint32_t max_payload_for(FrameType type);

struct FrameHeader {
  FrameType type;
  uint8_t flags = 0;
  uint32_t request_id = 0;
  uint32_t length = 0;
};

// Appends the 12-byte header for (type, flags, request_id, length) to *out.
// type must be known and length <= max_payload_for(type) (else: bug, abort).
void append_header(std::string* out, FrameType type, uint32_t request_id,
                   uint32_t length, uint8_t flags = 0);
// Appends a whole frame: header plus payload. payload.size() must be <= kMaxPayload
// and <= max_payload_for(type) (else: bug, abort).
void append_frame(std::string* out, FrameType type, uint32_t request_id,
                  std::string_view payload, uint8_t flags = 0);
// Appends a kHello frame carrying the magic, kVersion and pid (the sender's
// process id; a worker sends its own, the front end and the master send 0).
void append_hello(std::string* out, uint32_t pid = 0);

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
  // Consumed bytes are dropped here (amortized: a memmove never costs more than
  // the bytes consumed since the last one), and a buffer that grew past 256 KiB
  // for a big frame is given back once it holds less than a quarter of that.
  // After next() returned kError, feed() discards its input.
  void feed(const char* data, size_t len);
  void feed(std::string_view data) { feed(data.data(), data.size()); }
  // The same without the copy: prepare(len) returns room for len bytes at the
  // end of the buffer (valid until the next call on this reader), the caller
  // reads into it (recv) and says with commit(n), n <= len, how many arrived.
  // After next() returned kError, commit() discards them.
  char* prepare(size_t len);
  void commit(size_t len);

  // Yields the next whole frame in *out (kFrame), or kNeedMore when the buffer
  // holds no whole frame, or kError (see error()) for an unknown type, a nonzero
  // reserved field or an oversized length. After kError every call returns kError.
  // The header's fields are checked in order (type, reserved, length) as soon as
  // each has arrived, so a bad stream fails early and with the same error for any
  // split of its bytes. Flags are passed through unchecked.
  Result next(Frame* out);

  // A frame's payload read past the reader (the front end splices a large
  // response body from the worker's socket to the client's, never copying it
  // in). After next() returned kNeedMore: partial() tells whether a frame's
  // header has arrived whole but not its whole payload (*h: the header, *have:
  // the payload bytes buffered; false otherwise, and after an error).
  // skip_header() then consumes that header: from there on the stream's next
  // h->length bytes are payload that the caller takes itself, first those
  // buffered with take(), the rest from the stream before feeding the reader
  // again, and next() reads the frame after it.
  bool partial(FrameHeader* h, size_t* have) const;
  void skip_header();
  // Up to max buffered bytes, raw, consumed (valid until the next call on
  // this reader).
  std::string_view take(size_t max);
  // How many more bytes complete the frame at the front: the rest of its
  // header when that is not whole (the whole header when nothing is
  // buffered), else the rest of its payload; 0 when it is whole or after an
  // error.
  size_t wanted() const;

  // The decoding error, "" until next() returned kError. Exactly one of:
  //   "frame type 0x7f is unknown"                     (type byte, 2 hex digits)
  //   "frame reserved field 0x0102 is not zero"        (reserved u16, 4 hex digits)
  //   "frame length 20000000 exceeds the limit of 16777216"   (reader's max_payload)
  //   "frame length 5 exceeds the limit of 0 for REQUEST_END" (max_payload_for(type))
  const std::string& error() const { return error_; }
  // Bytes fed but not yet returned as frames.
  size_t buffered() const { return end_ - pos_; }
  // Bytes of memory the buffer holds now (for tests and statistics).
  size_t capacity() const { return cap_; }

 private:
  // Checks the header fields among the first avail (>= 1) bytes at p; sets error_
  // and returns false on the first bad one.
  bool check_header(const char* p, size_t avail);

  // Makes room for len more bytes at end_ (dropping consumed bytes, growing or
  // giving back capacity as feed() describes) -> where they go.
  char* reserve_tail(size_t len);

  std::unique_ptr<char[]> data_;  // cap_ bytes; [pos_, end_) fed and not yet returned
  size_t cap_ = 0;
  size_t end_ = 0;
  size_t pos_ = 0;
  uint32_t max_payload_;
  std::string error_;
};

}  // namespace wsgid::proto
