// Typed payloads of the frames in frame.h: encode into a buffer, decode from a
// payload view. Specified byte by byte in protocol/PROTOCOL.md.
//
// Request head: a sequence of key/value pairs (u16 key length, u32 value length,
// key bytes, value bytes) filling the payload exactly. Response head: u16 status,
// u16 reason length, reason, then header pairs as in the request head. Error: u16
// code, then the message (the rest of the payload, UTF-8). Control messages
// (kSettings, kReady, kState, kDrain, kReplaceMe, kExiting, kLog) carry a JSON
// text; this module does not parse JSON (callers use nlohmann::json).
//
// Encoders append to a std::string so that a caller can batch several frames in
// one write. Decoders never read outside the payload and report malformed input
// as a non-ok Status naming the field; they never crash. Pure functions: any thread.
// An encoder handed a message that breaks the limits below is a caller bug: it logs
// at alert and aborts (log::bug); RequestHeadWriter::finish() and
// check_response_head() tell the caller beforehand.
//
// Decoder error texts (N, M: decimal values seen; offsets count from the start of
// the payload; header indexes from 0):
//   request head (for_each_pair, decode_request_head), at the pair's first byte:
//     "request head: truncated pair header at offset N"   (fewer than 6 bytes left)
//     "request head: empty key at offset N"
//     "request head: pair longer than the payload at offset N"
//     "request head: too many pairs at offset N"           (pair kMaxPairs + 1)
//   response head:
//     "response head: payload length N is shorter than the 4-byte status and reason length"
//     "response head: status N is out of range 100..999"
//     "response head: reason length N exceeds the remaining M bytes"
//     the four pair texts above with "response head:" in front
//     "response head: reason contains byte 0x0d"           (CR, LF or NUL)
//     "response head: header N name contains byte 0x0a"
//     "response head: header N value contains byte 0x00"
//   error:
//     "error: payload length N is shorter than the 2-byte code"
//     "error: code N is out of range 400..599"
//   hello (checked in this order):
//     "hello: payload length N is shorter than the 8-byte magic and version"
//     "hello: bad magic \"GET \", expected \"WSGD\""    (non-printable bytes as \xNN)
//     "hello: peer speaks protocol version N, this side speaks 4"
//     "hello: payload length N is not 12 as version 5 requires"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "protocol/frame.h"

namespace wsgid::proto {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// Limits enforced by the decoders (and by the encoders' callers).
constexpr size_t kMaxKeyLength = 64u * 1024 - 1;   // fits u16
constexpr size_t kMaxPairs = 64u * 1024;           // pairs in one head

// Error codes carried by kError, mapped by the front end to the client status.
enum class ErrorCode : uint16_t {
  kAppError = 500,        // the application raised; traceback is in the group log
  kNotFound = 404,        // the script has no such callable (mod_wsgi's 404)
  kUnavailable = 503,     // the worker is draining / cannot take the request
  kQueueTimeout = 504,    // waited longer than queue-timeout; the app did not run it
  kBadRequest = 400,      // the request head was malformed
};

// Builds a request head payload incrementally, without intermediate vectors
// (the front end's hot path). Usage:
//   RequestHeadWriter w(&buf, request_id); w.add("REQUEST_METHOD", "GET"); ... w.finish();
// finish() patches the frame header's length. Between construction and finish()
// nothing else may be appended to *out; finish() is called exactly once, and the
// frame in *out is incomplete until it is.
class RequestHeadWriter {
 public:
  RequestHeadWriter(std::string* out, uint32_t request_id);
  // Appends one pair. After a pair that breaks a limit, later adds do nothing.
  void add(std::string_view key, std::string_view value);
  // Returns false (and leaves *out as before construction) when the payload would
  // exceed kMaxPayload, a key is empty or longer than kMaxKeyLength, or there are
  // more than kMaxPairs pairs: the head the decoder would reject.
  bool finish();

 private:
  std::string* out_;
  size_t start_;
  size_t pairs_ = 0;
  bool overflow_ = false;
};

// The environ must pass RequestHeadWriter's limits (else: bug, abort).
void append_request_head(std::string* out, uint32_t request_id, const KeyValues& environ);
// The pairs in payload order (duplicates kept), or the first fault.
Result<KeyValues> decode_request_head(std::string_view payload);

// Calls fn(key, value) for each pair without copying; returns a non-ok Status on
// malformed input (fn may have been called for the pairs before the fault).
template <class Fn>
Status for_each_pair(std::string_view payload, Fn&& fn);

// A response that carries no body (RFC 9110 6.4.1, 15.3.5, 15.4.5): to a HEAD
// request, or with a 1xx, 204 or 304 status. The front end sends none for it;
// the worker drops what the application gives (PROTOCOL.md, RESPONSE_BODY).
constexpr bool response_has_no_body(bool head_request, int status) {
  return head_request || status < 200 || status == 204 || status == 304;
}

struct ResponseHead {
  uint16_t status = 200;
  std::string reason;  // "OK"
  KeyValues headers;
};
// Ok when append_response_head may encode head, else the first fault (the worker
// calls it on what the application gave start_response and answers 500 if not):
//   "response head: status N is out of range 100..999"
//   "response head: reason length N exceeds 65535"
//   "response head: N headers exceed the limit of 65536"
//   "response head: header N has an empty name"
//   "response head: header N name length M exceeds 65535"
//   "response head: payload length N exceeds the limit of 16777216"
//   and the three "contains byte" texts of the decoder.
Status check_response_head(const ResponseHead& head);
// head must pass check_response_head (else: bug, abort).
void append_response_head(std::string* out, uint32_t request_id, const ResponseHead& head);
// Copies; response_head_view.h reads the same payload in place (the front end).
Result<ResponseHead> decode_response_head(std::string_view payload);

struct ErrorMessage {
  ErrorCode code = ErrorCode::kAppError;
  std::string message;
};
// err.code must lie in 400..599 (else: bug, abort); a message longer than
// kMaxPayload - 2 bytes is cut to fit, at a UTF-8 character boundary.
void append_error(std::string* out, uint32_t request_id, const ErrorMessage& err);
// Any code in 400..599 is accepted (not only the ErrorCode values above).
Result<ErrorMessage> decode_error(std::string_view payload);

// BODY_SOCKET (front end -> worker, protocol/PROTOCOL.md 5.5): the client's
// socket comes with it (SCM_RIGHTS); the worker reads the rest of the request
// body from it, at most `length` bytes, waiting at most timeout_ms (0: no
// limit) for each read.
struct BodySocket {
  uint64_t length = 0;
  uint32_t timeout_ms = 0;
};
void append_body_socket(std::string* out, uint32_t request_id, const BodySocket& b);
// Errors: "body socket: payload length N is not 12", "body socket: length 0".
Result<BodySocket> decode_body_socket(std::string_view payload);

// BODY_TAKEN (worker -> front end): the worker is done with the client socket
// a BODY_SOCKET gave it, having read `bytes` bytes of the body from it.
enum class TakenHow : uint8_t {
  kDone = 0,          // it stopped reading: the body's end, or the request ended first
  kTimeout = 1,       // a read waited past the BODY_SOCKET's timeout
  kClientClosed = 2,  // the client closed or reset the connection mid-body
};
struct BodyTaken {
  uint64_t bytes = 0;
  TakenHow how = TakenHow::kDone;
};
void append_body_taken(std::string* out, uint32_t request_id, const BodyTaken& t);
// Errors: "body taken: payload length N is not 9", "body taken: unknown how N".
Result<BodyTaken> decode_body_taken(std::string_view payload);

// SOCKET_ASK (worker -> front end, protocol/PROTOCOL.md 5.6): right after the
// RESPONSE_HEAD, before any body byte: the worker would write the response
// body's `bytes` bytes (its Content-Length) to the client's socket itself. It
// waits for the RESPONSE_SOCKET that answers.
struct SocketAsk {
  uint64_t bytes = 0;
};
void append_socket_ask(std::string* out, uint32_t request_id, const SocketAsk& a);
// Errors: "socket ask: payload length N is not 8", "socket ask: bytes 0".
Result<SocketAsk> decode_socket_ask(std::string_view payload);

// RESPONSE_SOCKET (front end -> worker): the answer to a SOCKET_ASK. Granted:
// the client's socket comes with it (SCM_RIGHTS); the worker writes `head`
// (the response head as the front end made it, or nothing when the front end
// wrote it already), then the body, each write waiting at most timeout_ms (0:
// no limit). Not granted: no descriptor, no head, the body goes in
// RESPONSE_BODY frames as usual.
struct ResponseSocket {
  bool granted = false;
  uint32_t timeout_ms = 0;
  std::string_view head;  // decoded: a view of the payload
};
// r.head must fit the frame (else: bug, abort).
void append_response_socket(std::string* out, uint32_t request_id, const ResponseSocket& r);
// Errors: "response socket: payload length N is shorter than 5",
// "response socket: granted must be 0 or 1, not N",
// "response socket: refused with N head bytes".
Result<ResponseSocket> decode_response_socket(std::string_view payload);

// RESPONSE_SENT (worker -> front end): the worker is done with the client
// socket a RESPONSE_SOCKET gave it, having written `bytes` bytes of the body
// to it; `how` as for BODY_TAKEN (kTimeout: a write waited past the timeout,
// kClientClosed: the client closed or reset the connection).
struct ResponseSent {
  uint64_t bytes = 0;
  TakenHow how = TakenHow::kDone;
};
void append_response_sent(std::string* out, uint32_t request_id, const ResponseSent& s);
// Errors: "response sent: payload length N is not 9", "response sent: unknown how N".
Result<ResponseSent> decode_response_sent(std::string_view payload);

// Hello: "WSGD" + u32 version + u32 pid. Returns the peer's version and pid (a
// worker's process id; 0 from the front end and the master), or an error when
// the payload is short, the magic is wrong, the version is not kVersion, or (for
// version 2 and later) the payload is not exactly 12 bytes. append_hello is in frame.h.
struct Hello {
  uint32_t version = 0;
  uint32_t pid = 0;
};
Result<Hello> decode_hello(std::string_view payload);

// --- implementation of the template above ---
namespace detail {
inline uint16_t get16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}
inline uint32_t get32(const char* p) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}
Status pair_error(size_t offset, std::string_view what);
}  // namespace detail

template <class Fn>
Status for_each_pair(std::string_view payload, Fn&& fn) {
  size_t pos = 0, pairs = 0;
  const char* p = payload.data();
  while (pos < payload.size()) {
    if (payload.size() - pos < 6) return detail::pair_error(pos, "truncated pair header");
    uint16_t klen = detail::get16(p + pos);
    uint32_t vlen = detail::get32(p + pos + 2);
    pos += 6;
    if (klen == 0) return detail::pair_error(pos - 6, "empty key");
    if (payload.size() - pos < klen || payload.size() - pos - klen < vlen)
      return detail::pair_error(pos - 6, "pair longer than the payload");
    if (++pairs > kMaxPairs) return detail::pair_error(pos - 6, "too many pairs");
    fn(std::string_view(p + pos, klen), std::string_view(p + pos + klen, vlen));
    pos += klen + vlen;
  }
  return Status::ok();
}

}  // namespace wsgid::proto
