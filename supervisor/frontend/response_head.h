// The HTTP/1.1 response head the front end writes to a client, and its local
// responses (the error pages and the few answers that never reach a worker).
// Pure functions appending to the connection's output buffer; HttpConn calls
// them on the loop thread, the tests call them alone. No libuv, no sockets.
//
// A head is written in three steps: append_status_line(); the header lines (the
// worker's through append_worker_headers(), a static file's, or a local
// response's through append_local_headers()); then append_head_end(), which picks
// the body framing and writes Transfer-Encoding, Date and Connection:
//   - no body for HEAD, 1xx, 204 and 304;
//   - else without a Content-Length: chunked for HTTP/1.1, for HTTP/1.0 the end
//     of the body is the end of the connection (keep-alive off);
//   - "Connection: close" when the connection will not be kept (or the front end
//     is draining), "Connection: keep-alive" for a kept HTTP/1.0 connection.
// Local responses look like Apache's: a 3xx (but 304), 4xx or 5xx carries Apache's
// HTML page (ap_send_error_response, modules/http/http_protocol.c) in ISO-8859-1, a 503
// from an unavailable group carries "Retry-After: 5", and "OPTIONS *" answers 200
// with an Allow line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/response_head_view.h"

namespace wsgid::frontend {

// Apache's reason phrase for the statuses the front end writes itself; "Unknown"
// for others (a worker's status with an empty reason gets this too).
std::string_view reason_phrase(int status);

// "HTTP/1.1 404 Not Found\r\n".
void append_status_line(std::string* out, int status, std::string_view reason);

// What append_head_end needs to know about the request and the connection.
struct HeadEnd {
  int status = 200;
  bool has_length = false;   // a Content-Length line was written
  bool head_method = false;  // the request was HEAD
  bool http10 = false;
  bool keep_alive = true;    // the connection may be kept so far
  bool draining = false;     // the front end is stopping: close after this response
  std::string_view date_line;  // "Date: ...\r\n"
};
// How the body that follows the head is sent.
struct Framing {
  bool no_body = false;    // write nothing after the head
  bool chunked = false;    // chunked transfer coding (append_body)
  bool keep_alive = true;  // false: close the connection after the response
};
// Ends the head (blank line included) and returns the framing.
Framing append_head_end(std::string* out, const HeadEnd& in);

// The names of every Vary field of a worker's head, each once (compared without
// case, the first spelling kept), joined by ',' as Apache's fix_vary writes them;
// "" when there are none.
std::string merged_vary(const proto::ResponseHeadView& head);

// Copies a worker's header lines, the Vary fields as one (merged_vary(), where
// the first was), dropping the hop-by-hop ones (Connection, Keep-Alive,
// Transfer-Encoding, Proxy-Connection, Upgrade), those whose name holds CR, LF
// or ':' or whose value holds CR or LF (response splitting), and Content-Length
// values that are not a non-negative decimal or that repeat an earlier valid
// one. Returns the kept Content-Length, -1 when there is none.
int64_t append_worker_headers(std::string* out, const proto::ResponseHeadView& head);

// Appends body bytes: as one chunk when chunked (nothing for empty data, which
// would end the body), else as is.
void append_body(std::string* out, std::string_view data, bool chunked);
// A chunk's size line, "<hex>\r\n", for a chunk of n > 0 bytes (its data and
// "\r\n" follow): what append_body writes before and after the data.
void append_chunk_size(std::string* out, size_t n);
// The last chunk of a chunked body.
void append_last_chunk(std::string* out);

// A local response: what its page says.
struct LocalPage {
  int status = 200;
  std::string_view method;    // the request's, named by the 405/411/413/501 pages
  std::string_view location;  // a redirect's target, linked from its page
  bool retry_after = false;   // "Retry-After: 5" (a 503 of an unavailable group)
  bool allow = false;         // the "OPTIONS *" answer's Allow line (status 200 only)
};
// True when Apache gives a local response of this status a page: every 3xx
// but 304, every 4xx and 5xx.
bool local_page_has_body(int status);
// A local response's header lines (Content-Type for a page, Retry-After, Allow,
// Content-Length) and its body, into *body (replaced): Apache 2.4's page
// (ap_send_error_response, modules/http/http_protocol.c) byte for byte, in
// ISO-8859-1, for redirects as for errors.
void append_local_headers(std::string* out, std::string* body, const LocalPage& page);

}  // namespace wsgid::frontend
