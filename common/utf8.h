// UTF-8 decoding one character at a time, for code that counts columns the way
// a user sees them (the config lexer, the diagnostics renderer). A valid
// sequence is one character; every byte of an invalid one (a stray continuation
// byte, a truncated or overlong sequence, a surrogate, a code point above
// U+10FFFF) is one character of its own, so carets line up with what the lexer
// counted. Header-only, no state, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wsgid::utf8 {

struct Char {
  int32_t cp;  // the code point, -1 for an invalid byte
  size_t len;  // bytes: 1..4 (1 for an invalid byte)
};

// The character starting at s[i] (i < s.size()).
inline Char decode(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return {c, 1};
  size_t n;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
  } else {
    return {-1, 1};
  }
  if (i + n > s.size()) return {-1, 1};
  uint32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return {-1, 1};
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {-1, 1};
  return {static_cast<int32_t>(cp), n};
}

}  // namespace wsgid::utf8
