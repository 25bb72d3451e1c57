// Value parsers; see values.h.
#include "supervisor/config/values.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace wsgid::config::detail {

std::string loc_text(const SourceLoc& l) { return l.file + ":" + std::to_string(l.line); }

bool set_int(int64_t* out, const std::string& v, int64_t min, int64_t max) {
  int64_t n = 0;
  if (!parse_int(v, &n) || n < min || n > max) return false;
  *out = n;
  return true;
}

bool set_seconds(double* field, const std::string& v) {
  int64_t n = 0;
  if (!set_int(&n, v, 0, kMaxSeconds)) return false;
  *field = static_cast<double>(n);
  return true;
}

std::optional<std::string> typographic_quote(std::string_view s) {
  static const std::pair<const char*, const char*> kQuotes[] = {
      {"\xE2\x80\x9C", "U+201C"}, {"\xE2\x80\x9D", "U+201D"}, {"\xE2\x80\x98", "U+2018"},
      {"\xE2\x80\x99", "U+2019"}, {"\xE2\x80\xB3", "U+2033"}, {"\xE2\x80\xB2", "U+2032"},
      {"\xC2\xAB", "U+00AB"},     {"\xC2\xBB", "U+00BB"},     {"\xE2\x80\x9E", "U+201E"}};
  size_t best = std::string_view::npos;
  std::string found;
  for (const auto& [bytes, name] : kQuotes) {
    size_t p = s.find(bytes);
    if (p < best) {
      best = p;
      found = std::string(name) + " (" + bytes + ")";
    }
  }
  if (best == std::string_view::npos) return std::nullopt;
  return found;
}

std::string seconds_text(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace wsgid::config::detail
