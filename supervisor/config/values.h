// Value parsers shared by the directive handlers: the bounded integer and
// seconds setters over common/numbers.h, and the typographic-quote finder
// behind the "this is not a quote" notes. Pure functions of their arguments (no state, no
// diagnostics): a false return means "not a valid value", and the caller words
// the error. Internal to config_lib; loop thread (or any thread: nothing shared).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/numbers.h"
#include "common/strings.h"
#include "supervisor/config/diagnostics.h"

namespace wsgid::config::detail {

// "file:line" of l, as the "first given at ..." notes print it.
std::string loc_text(const SourceLoc& l);

// parse_int(v) within [min, max] into *out; false, leaving *out alone, otherwise.
bool set_int(int64_t* out, const std::string& v, int64_t min, int64_t max);

// set_int into a narrower field; the bounds must fit T.
template <class T>
bool set_int_field(T* field, const std::string& v, int64_t min, int64_t max) {
  int64_t n = 0;
  if (!set_int(&n, v, min, max)) return false;
  *field = static_cast<T>(n);
  return true;
}

// A whole number of seconds from 0 to kMaxSeconds into *field (as a double).
bool set_seconds(double* field, const std::string& v);

// A duration in seconds as a user writes it: "60", "2.5", "0.005" (no trailing zeros).
std::string seconds_text(double seconds);

// The first typographic quote in s, as "U+201C (“)"; nullopt when s holds none.
std::optional<std::string> typographic_quote(std::string_view s);

}  // namespace wsgid::config::detail
