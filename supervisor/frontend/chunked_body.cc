// The chunked body decoder (see the header): one state per position in the
// grammar, one byte at a time except for chunk data, which is passed on whole.
#include "supervisor/frontend/chunked_body.h"

#include <cstdint>

#include "common/strings.h"

namespace wsgid::frontend {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ws(char c) { return c == ' ' || c == '\t'; }

// qdtext of a quoted-string (RFC 9110 5.6.4): HTAB, SP, VCHAR but '"' and '\', obs-text.
bool qdtext(unsigned char c) {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
         (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

// What may follow a backslash in a quoted-string: HTAB, SP, VCHAR, obs-text.
bool quoted_pair(unsigned char c) { return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f); }

}  // namespace

size_t ChunkedBody::fail(const char* why, size_t consumed) {
  state_ = S::kError;
  error_ = why;
  return consumed;
}

size_t ChunkedBody::feed(std::string_view in, std::string_view* data) {
  *data = {};
  size_t i = 0;
  while (i < in.size()) {
    if (state_ == S::kDone || state_ == S::kError) return i;
    if (state_ == S::kData) {
      size_t n = in.size() - i;
      if (n > size_) n = static_cast<size_t>(size_);
      *data = in.substr(i, n);
      size_ -= n;
      data_bytes_ += n;
      if (size_ == 0) state_ = S::kDataCr;
      return i + n;
    }
    const char c = in[i++];
    const auto u = static_cast<unsigned char>(c);
    switch (state_) {
      case S::kSize: {
        int h = hex_value(c);
        if (h < 0) return fail("chunk size is not a hexadecimal number", i);
        size_ = static_cast<uint64_t>(h);
        line_ = 1;
        state_ = S::kSizeMore;
        continue;
      }
      case S::kSizeLf:
        if (c != '\n') return fail("chunk-size line not ended by CRLF", i);
        line_ = 0;
        if (size_ == 0) {
          trailers_ = 0;
          state_ = S::kTrailerStart;
        } else {
          state_ = S::kData;
        }
        continue;
      case S::kDataCr:
        if (c != '\r') return fail("chunk data not followed by CRLF", i);
        state_ = S::kDataLf;
        continue;
      case S::kDataLf:
        if (c != '\n') return fail("chunk data not followed by CRLF", i);
        state_ = S::kSize;
        continue;
      case S::kTrailerStart:
        if (c == '\r') {
          state_ = S::kLastLf;
          continue;
        }
        if (!is_tchar(c)) return fail("malformed trailer field", i);
        if (limits_.trailer_fields > 0 && ++trailers_ > limits_.trailer_fields)
          return fail("more trailer fields than LimitRequestFields", i);
        line_ = 1;
        state_ = S::kTrailerName;
        continue;
      case S::kTrailerName:
        if (++line_ > limits_.trailer_line) return fail("trailer field exceeds LimitRequestFieldSize", i);
        if (c == ':') state_ = S::kTrailerValue;
        else if (!is_tchar(c)) return fail("malformed trailer field name", i);
        continue;
      case S::kTrailerValue:
        if (c == '\r') {
          state_ = S::kTrailerLf;
          continue;
        }
        if (++line_ > limits_.trailer_line) return fail("trailer field exceeds LimitRequestFieldSize", i);
        if ((u < 0x20 && c != '\t') || u == 0x7f) return fail("control character in a trailer field", i);
        continue;
      case S::kTrailerLf:
        if (c != '\n') return fail("trailer field not ended by CRLF", i);
        state_ = S::kTrailerStart;
        continue;
      case S::kLastLf:
        if (c != '\n') return fail("chunked body not ended by CRLF", i);
        state_ = S::kDone;
        return i;
      default:
        break;
    }
    // The rest of a chunk-size line: size digits, then extensions.
    if (c == '\r') {
      if (state_ == S::kExtNameStart) return fail("chunk extension without a name", i);
      if (state_ == S::kExtValueStart) return fail("chunk extension '=' without a value", i);
      if (state_ == S::kExtQuoted || state_ == S::kExtQuotedEscape)
        return fail("unterminated quoted string in a chunk extension", i);
      state_ = S::kSizeLf;
      continue;
    }
    if (++line_ > limits_.line) return fail("chunk-size line too long (its extensions)", i);
    switch (state_) {
      case S::kSizeMore: {
        int h = hex_value(c);
        if (h >= 0) {
          if (size_ > (UINT64_MAX >> 4)) return fail("chunk size too large", i);
          size_ = (size_ << 4) | static_cast<uint64_t>(h);
        } else if (ws(c)) {
          after_name_ = false;
          state_ = S::kExtSpace;
        } else if (c == ';') {
          state_ = S::kExtNameStart;
        } else {
          return fail("invalid character after the chunk size", i);
        }
        continue;
      }
      case S::kExtSpace:
        if (ws(c)) continue;
        if (c == ';') state_ = S::kExtNameStart;
        else if (c == '=' && after_name_) state_ = S::kExtValueStart;
        else return fail("invalid character in a chunk extension", i);
        continue;
      case S::kExtNameStart:
        if (ws(c)) continue;
        if (!is_tchar(c)) return fail("chunk extension without a name", i);
        state_ = S::kExtName;
        continue;
      case S::kExtName:
        if (is_tchar(c)) continue;
        if (ws(c)) {
          after_name_ = true;
          state_ = S::kExtSpace;
        } else if (c == '=') {
          state_ = S::kExtValueStart;
        } else if (c == ';') {
          state_ = S::kExtNameStart;
        } else {
          return fail("invalid character in a chunk extension", i);
        }
        continue;
      case S::kExtValueStart:
        if (ws(c)) continue;
        if (c == '"') state_ = S::kExtQuoted;
        else if (is_tchar(c)) state_ = S::kExtValue;
        else return fail("chunk extension '=' without a value", i);
        continue;
      case S::kExtValue:
        if (is_tchar(c)) continue;
        if (ws(c)) {
          after_name_ = false;
          state_ = S::kExtSpace;
        } else if (c == ';') {
          state_ = S::kExtNameStart;
        } else {
          return fail("invalid character in a chunk extension", i);
        }
        continue;
      case S::kExtQuoted:
        if (c == '"') {
          after_name_ = false;
          state_ = S::kExtSpace;
        } else if (c == '\\') {
          state_ = S::kExtQuotedEscape;
        } else if (!qdtext(u)) {
          return fail("invalid character in a quoted chunk extension", i);
        }
        continue;
      case S::kExtQuotedEscape:
        if (!quoted_pair(u)) return fail("invalid character in a quoted chunk extension", i);
        state_ = S::kExtQuoted;
        continue;
      default:
        return fail("chunked body decoder: impossible state", i);
    }
  }
  return i;
}

}  // namespace wsgid::frontend
