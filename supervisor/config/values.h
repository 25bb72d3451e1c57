// Value parsers shared by the directive handlers and the WSGIDaemonProcess
// options: case-insensitive names, strict integers and floats, the bounded
// setters the option table uses, and the typographic-quote finder behind the
// "this is not a quote" notes. Pure functions of their arguments (no state, no
// diagnostics): a false return means "not a valid value", and the caller words
// the error. Internal to config_lib; loop thread (or any thread: nothing shared).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/strings.h"
#include "supervisor/config/diagnostics.h"

namespace wsgid::config::detail {

// Upper bounds for durations (100 years) and sizes: far past any real value,
// far enough from INT64_MAX that sums and conversions cannot overflow.
constexpr int64_t kMaxSeconds = 100LL * 365 * 24 * 3600;
constexpr int64_t kMaxBytes = INT64_MAX / 2;

// "file:line" of l, as the "first given at ..." notes print it.
std::string loc_text(const SourceLoc& l);

// Strict decimal integer (optional sign, at most 20 characters). Stores it in
// *out and returns true; returns false, leaving *out alone, on anything else or
// on overflow.
bool parse_int(std::string_view s, int64_t* out);

// Decimal or exponent floating-point number that is finite. Stores it in *out and
// returns true; false (leaving *out alone) otherwise.
bool parse_float(std::string_view s, double* out);

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
