#include "supervisor/authn/base64.h"

#include <cstdint>
#include <cstdio>

namespace wsgid::authn {
namespace {

// 0..63 for the alphabet, -1 for '=', -2 for anything else.
int sextet(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  if (c == '=') return -1;
  return -2;
}

std::string at(size_t offset) { return " at offset " + std::to_string(offset); }

}  // namespace

Result<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return Status::error("base64: length " + std::to_string(text.size()) +
                         " is not a multiple of 4");
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t g = 0; g < text.size(); g += 4) {
    const bool last = g + 4 == text.size();
    uint32_t bits = 0;
    int pad = 0;
    for (size_t i = 0; i < 4; ++i) {
      const auto c = static_cast<unsigned char>(text[g + i]);
      const int v = sextet(c);
      if (v == -2) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", c);
        return Status::error(std::string("base64: invalid character ") + hex + at(g + i));
      }
      if (v == -1) {
        // '=' only in the last group, only in its last two places, and only
        // followed by '='.
        if (!last || i < 2 || (i == 2 && text[g + 3] != '=')) {
          return Status::error("base64: misplaced '='" + at(g + i));
        }
        ++pad;
        bits <<= 6;
        continue;
      }
      bits = (bits << 6) | static_cast<uint32_t>(v);
    }
    // pad 1: the 2 low bits of the third sextet are spare; pad 2: the 4 low
    // bits of the second.
    if ((pad == 1 && (bits & 0xC0) != 0) || (pad == 2 && (bits & 0xF000) != 0)) {
      return Status::error("base64: non-zero bits in the last group");
    }
    out.push_back(static_cast<char>(bits >> 16));
    if (pad < 2) out.push_back(static_cast<char>((bits >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(bits & 0xFF));
  }
  return out;
}

}  // namespace wsgid::authn
