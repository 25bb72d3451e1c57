// Strict number parsing for values a user writes (config options, directive
// arguments): a decimal integer or a finite floating-point number, the whole
// text and nothing else, plus the upper bounds wsgid accepts for durations and
// sizes. Pure functions, safe from any thread; a false return leaves *out alone
// and the caller words the error.
#pragma once

#include <cstdint>
#include <string_view>

namespace wsgid {

// Upper bounds for durations (100 years) and sizes: far past any real value,
// far enough from INT64_MAX that sums and conversions cannot overflow.
constexpr int64_t kMaxSeconds = 100LL * 365 * 24 * 3600;
constexpr int64_t kMaxBytes = INT64_MAX / 2;

// Strict decimal integer (optional sign, at most 20 characters). Stores it in
// *out and returns true; returns false on anything else or on overflow.
bool parse_int(std::string_view s, int64_t* out);

// Decimal or exponent floating-point number that is finite. Stores it in *out
// and returns true; false otherwise.
bool parse_float(std::string_view s, double* out);

}  // namespace wsgid
