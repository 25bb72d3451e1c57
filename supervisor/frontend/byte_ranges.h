// Byte ranges of a static file as Apache 2.4's byterange filter computes them
// (modules/http/byterange_filter.c, ap_set_byterange and ap_byterange_filter),
// and the multipart/byteranges framing it writes for several. Pure functions:
// StaticFile calls them on the loop thread, the tests call them alone.
//
// Apache's rules, kept as they are:
//   - only "bytes=" (any case); one syntactically bad range-spec (no '-', a
//     number with a sign or space, a > b) voids the whole header: the whole file;
//   - "a-b", "a-" and "-n" (n >= 1); "0-" anywhere means the whole file as one
//     range; a start at or past the end is unsatisfiable and skipped; an end past
//     the end is cut to it; an empty spec ("0-1,,4-5") ends the list;
//   - each range is merged with the one before it when they overlap or touch,
//     counting overlaps and reversals (a range starting before the one before);
//   - no satisfiable range among unsatisfiable ones: 416; ranges whose merged
//     lengths add up to more than the file: the whole file;
//   - more ranges than MaxRanges (default 200), more overlaps than
//     MaxRangeOverlaps (default 20) or reversals than MaxRangeReversals (default
//     20): the whole file; MaxRanges none: ranges are never served;
//   - an empty file is always served whole.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/config.h"

namespace wsgid::frontend {

// MaxRanges' values besides a positive count: model::kMaxRanges* (Apache's
// AP_MAXRANGES_*), default meaning 200.
using model::kMaxRangesDefault;
using model::kMaxRangesNone;
using model::kMaxRangesUnlimited;
inline constexpr int kDefaultMaxRanges = 200;
inline constexpr int kDefaultMaxOverlaps = 20;
inline constexpr int kDefaultMaxReversals = 20;

struct ByteRange {
  int64_t first = 0, last = 0;  // inclusive
};

struct RangePlan {
  enum class Kind { kWhole, kPartial, kUnsatisfiable } kind = Kind::kWhole;
  std::vector<ByteRange> ranges;  // kPartial: one or more, merged, in request order
};

// The answer to a Range header for a file of `size` bytes under MaxRanges
// `max_ranges` (a count, or one of the kMaxRanges* values).
RangePlan plan_byte_ranges(std::string_view header, int64_t size,
                           int max_ranges = kMaxRangesDefault);

// A multipart/byteranges body for several ranges: the text before each range's
// bytes and the closing text, as Apache writes them ("\r\n--B\r\nContent-type:
// T\r\nContent-range: bytes a-b/size\r\n\r\n", then "\r\n--B--\r\n").
struct Multipart {
  std::vector<std::string> part_heads;  // one per range
  std::string tail;
  int64_t length = 0;                   // the whole body's bytes
};
Multipart plan_multipart(const std::vector<ByteRange>& ranges, int64_t size,
                         std::string_view content_type, std::string_view boundary);

// A boundary as Apache's: 16 hex digits of a random 64-bit value, drawn once per
// process (http_core.c, http_post_config).
const std::string& multipart_boundary();

}  // namespace wsgid::frontend
