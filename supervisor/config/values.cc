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

bool parse_int(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t k = i; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return false;
  std::string t(s);
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (errno == ERANGE || *end) return false;
  *out = v;
  return true;
}

bool parse_float(std::string_view s, double* out) {
  if (s.empty() || s.size() > 40) return false;
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E'))
      return false;
  std::string t(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(t.c_str(), &end);
  if (errno == ERANGE || *end || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

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
