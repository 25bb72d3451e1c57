// RequestHeaders: lookups over the spans (see the header).
#include "supervisor/frontend/request_headers.h"

namespace wsgid::frontend {
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
