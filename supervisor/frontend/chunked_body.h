// ChunkedBody: decodes one chunked request body (RFC 9112 7.1) as its bytes
// arrive, in place: the data it finds are views into the caller's input, so it
// holds nothing but its state and a few counters whatever the body's size.
//
// HttpConn drives it on the loop thread (llhttp reads request heads; the front
// end reads chunked bodies with this decoder because llhttp 8.1, Debian 12's,
// refuses the BWS that RFC 9112 allows around a chunk extension's ';' and '=').
// The grammar accepted, exactly:
//   chunked-body   = *chunk last-chunk trailer-section CRLF
//   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   last-chunk     = 1*"0" [ chunk-ext ] CRLF
//   chunk-ext      = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-value ] ) BWS
//   ext-value      = token / quoted-string
//   trailer-section = *( field-line CRLF ), each "name:" with a token name
// Extensions and trailer fields are read and dropped (mod_wsgi gives neither to
// the application). Line ends are CRLF only: a bare LF is an error, as in
// llhttp, so that no two parsers on a path can disagree on where a chunk ends.
// Pure state machine: no I/O, no allocation, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wsgid::frontend {

class ChunkedBody {
 public:
  enum class State { kMore, kDone, kError };

  struct Limits {
    size_t line = 4096;         // a chunk-size line with its extensions, CRLF excluded
    size_t trailer_line = 8190; // one trailer field line (LimitRequestFieldSize)
    size_t trailer_fields = 100;  // trailer field lines (LimitRequestFields; 0 = no limit)
  };

  ChunkedBody() = default;
  explicit ChunkedBody(const Limits& limits) : limits_(limits) {}

  // Consumes a prefix of in and returns its length. Stops after the first run
  // of chunk data, which *data then views (a part of in); *data is empty when
  // the prefix held none. Stops too at the end of the body (state() kDone: the
  // bytes after it belong to the next request) or at an error (kError; error()
  // says what was wrong, for a 400). Call again with the rest of in, or with the
  // next bytes once in is used up.
  size_t feed(std::string_view in, std::string_view* data);

  State state() const { return state_ == S::kDone ? State::kDone
                               : state_ == S::kError ? State::kError : State::kMore; }
  const char* error() const { return error_; }
  // Chunk data bytes decoded so far.
  uint64_t data_bytes() const { return data_bytes_; }

 private:
  enum class S {
    kSize, kSizeMore, kExtSpace, kExtNameStart, kExtName, kExtValueStart, kExtValue,
    kExtQuoted, kExtQuotedEscape, kSizeLf, kData, kDataCr, kDataLf, kTrailerStart,
    kTrailerName, kTrailerValue, kTrailerLf, kLastLf, kDone, kError
  };
  size_t fail(const char* why, size_t consumed);

  Limits limits_;
  S state_ = S::kSize;
  uint64_t size_ = 0;       // the chunk being read: its size, then what is left of it
  size_t line_ = 0;         // bytes of the current line so far
  size_t trailers_ = 0;     // trailer lines so far
  bool after_name_ = false; // kExtSpace: an '=' may follow (a name without a value)
  uint64_t data_bytes_ = 0;
  const char* error_ = "";
};

}  // namespace wsgid::frontend
