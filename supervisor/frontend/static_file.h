// Static files for Alias / AliasMatch, served by HttpConn (its serve_static(),
// pump_file() and close_file() members live in static_file.cc).
//
// GET and HEAD only (other methods: 405). The file is opened and stat'ed on the
// loop thread (local files: page cache); a directory or an unreadable file is 403,
// a missing one 404. Last-Modified is always sent and If-Modified-Since answers
// 304; one "bytes=" range (a-b, a-, -n) answers 206 with Content-Range, an
// unsatisfiable one 416; several ranges are ignored (200, whole file). The body
// goes with sendfile(2) whenever the socket is writable; when it is not, one
// 64 KiB chunk is read and queued with uv_write, whose completion resumes
// sendfile. The helpers below are pure and tested on their own.
#pragma once

#include <cstdint>
#include <ctime>
#include <string_view>

namespace wsgid::frontend {

// "Sun, 06 Nov 1994 08:49:37 GMT" (and the RFC 850 / asctime forms) -> time;
// -1 when unparsable.
time_t parse_http_date(std::string_view text);
// Formats t as an IMF-fixdate into buf (30 bytes needed); returns the length.
size_t format_http_date(time_t t, char* buf);

// Parses a Range header against a file of size bytes. Returns 0 when there is no
// usable single range (serve the whole file), 206 with [*first, *last] set, or
// 416 when the range cannot be satisfied.
int parse_range(std::string_view header, int64_t size, int64_t* first, int64_t* last);

// Content-Type by file extension ("application/octet-stream" when unknown).
std::string_view content_type_for(std::string_view path);

}  // namespace wsgid::frontend
