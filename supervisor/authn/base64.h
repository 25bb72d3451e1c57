// Strict base64 decoding (RFC 4648 section 4, the alphabet and padding of
// RFC 7617's Basic credentials).
//
// Apache decodes credentials leniently (apr_base64_decode stops at the first
// byte outside the alphabet and ignores what follows); wsgid refuses anything
// that is not canonical base64, so that two different header values never
// decode to the same credentials. Pure function, any thread, no state.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace wsgid::authn {

// Decodes text, which must be canonical base64: only A-Z a-z 0-9 + /, a length
// that is a multiple of 4, '=' padding only at the end and only as needed, and
// zero bits after the last encoded byte. Errors (the offset counts from 0):
//   "base64: length N is not a multiple of 4"
//   "base64: invalid character 0xHH at offset N"
//   "base64: misplaced '=' at offset N"
//   "base64: non-zero bits in the last group"
Result<std::string> decode_base64(std::string_view text);

}  // namespace wsgid::authn
