// RequestHeaders: lookups over the spans (see the header).
#include "supervisor/frontend/request_headers.h"

namespace wsgid::frontend {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view RequestHeaders::get(std::string_view wanted) const {
  for (size_t i = 0; i < count_; ++i)
    if (iequals(name(i), wanted)) return value(i);
  return {};
}

int RequestHeaders::count(std::string_view wanted, std::string_view* last) const {
  int n = 0;
  for (size_t i = 0; i < count_; ++i)
    if (iequals(name(i), wanted)) {
      ++n;
      *last = value(i);
    }
  return n;
}

}  // namespace wsgid::frontend
