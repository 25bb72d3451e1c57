// RequestHeaders: lookups over the spans (see the header).
#include "supervisor/frontend/request_headers.h"

namespace wsgid::frontend {
void trim_ows(std::string_view buffer, HeaderSpan* h) {
  auto ows = [&](uint32_t i) { return buffer[i] == ' ' || buffer[i] == '\t'; };
  while (h->value_len > 0 && ows(h->value_off)) {
    ++h->value_off;
    --h->value_len;
  }
  while (h->value_len > 0 && ows(h->value_off + h->value_len - 1)) --h->value_len;
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
