// Conditional requests on static files (RFC 9110 section 13), as Apache's
// ap_meets_conditions() and ap_make_etag() answer them (modules/http/
// http_protocol.c, server/util_etag.c): the ETag of a file from FileETag's
// components, If-Match and If-Unmodified-Since (412), If-None-Match and
// If-Modified-Since (304), and If-Range (whether a Range applies). Pure
// functions over header values and a file's metadata; StaticFile
// (static_file.h) calls them on the loop thread, tests call them directly.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace wsgid::frontend {

// Apache's ETag for a file: '"' then the lower-case hex of the components
// that bits selects (model::kETagINode, kETagSize, kETagMTime, in that order;
// mtime in microseconds) joined with '-', then '"'; "W/" in front when the
// file changed less than a second before now_us (it may change again within
// the same second). "" when bits is 0 (FileETag None: no ETag header).
std::string make_etag(int bits, const struct stat& st, int64_t now_us);

// Whether the If-Match / If-None-Match list (entity tags separated by commas,
// or "*") holds etag: strong comparison when strong (a weak tag never
// matches), weak comparison otherwise (the "W/" prefixes are ignored). "*"
// matches any current file; an empty etag matches nothing but "*".
bool etag_list_matches(std::string_view list, std::string_view etag, bool strong);

// The request's precondition headers ("" when absent).
struct Preconditions {
  std::string_view if_match;
  std::string_view if_unmodified_since;
  std::string_view if_none_match;
  std::string_view if_modified_since;
  std::string_view if_range;
  bool has_range = false;  // a Range header is present
};

// What the preconditions say for a GET or HEAD of a file whose ETag is etag
// and whose Last-Modified is mtime, at now: 412 (If-Match fails, or
// If-Unmodified-Since is older than the file), 304 (If-None-Match holds the
// ETag, or, without If-None-Match, the file is not newer than
// If-Modified-Since; never when a matching If-Range asks for a range), or 0
// (answer the file). Unparsable dates are ignored, as are dates in the future.
int evaluate_preconditions(const Preconditions& p, std::string_view etag, time_t mtime,
                           time_t now);

// Whether a Range request may be answered with a range: true without
// If-Range; with an entity tag, when it equals etag strongly; with a date,
// when it is exactly mtime and the file is at least 60 s older than now
// (Apache's rule: a file younger than that may have changed within the same
// second).
bool if_range_allows(std::string_view if_range, std::string_view etag, time_t mtime, time_t now);

}  // namespace wsgid::frontend
