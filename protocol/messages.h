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
// nothing else may be appended to *out.
class RequestHeadWriter {
 public:
  RequestHeadWriter(std::string* out, uint32_t request_id);
  void add(std::string_view key, std::string_view value);
  // Returns false (and leaves *out as before construction) when the payload would
  // exceed kMaxPayload or a key is longer than kMaxKeyLength.
  bool finish();

 private:
  std::string* out_;
  size_t start_;
  bool overflow_ = false;
};

void append_request_head(std::string* out, uint32_t request_id, const KeyValues& environ);
Result<KeyValues> decode_request_head(std::string_view payload);

// Calls fn(key, value) for each pair without copying; returns a non-ok Status on
// malformed input (fn may have been called for the pairs before the fault).
template <class Fn>
Status for_each_pair(std::string_view payload, Fn&& fn);

struct ResponseHead {
  uint16_t status = 200;
  std::string reason;  // "OK"
  KeyValues headers;
};
void append_response_head(std::string* out, uint32_t request_id, const ResponseHead& head);
Result<ResponseHead> decode_response_head(std::string_view payload);

struct ErrorMessage {
  ErrorCode code = ErrorCode::kAppError;
  std::string message;
};
void append_error(std::string* out, uint32_t request_id, const ErrorMessage& err);
Result<ErrorMessage> decode_error(std::string_view payload);

// Hello: "WSGD" + u32 version. Returns the peer's version, or an error when the
// magic is wrong or the version is not kVersion.
Result<uint32_t> decode_hello(std::string_view payload);

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
