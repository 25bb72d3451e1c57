// TRACE as Apache's core answers it (ap_send_http_trace, modules/http/http_filters.c;
// TraceEnable in https://httpd.apache.org/docs/2.4/mod/core.html). Apache answers
// a TRACE request in its map_to_storage phase: after mod_rewrite's and mod_alias's
// redirects (translate_name), before access control, aliases and any handler, so
// neither a <Location>'s rules nor mod_wsgi ever see it. HttpConn asks
// trace_answer() right after its rewrite step (http_conn_rewrite.cc), on the loop
// thread. A pure function; any thread.
//
// Outcomes, Apache 2.4's (checked against Debian 12's apache2 2.4.71):
//   TraceEnable Off: 405, whether or not the request has a body;
//   On (the default) and a body (Content-Length > 0 or chunked): 413;
//   On without a body: 200, Content-Type message/http, the body being the request
//   line, then each header field as "Name: value" with the fields of one name
//   (any case) merged into the first one's line as "v1, v2" (Apache's
//   headers_in table after ap_get_mime_headers), then an empty line.
#pragma once

#include <string>
#include <string_view>

#include "supervisor/frontend/request_headers.h"

namespace wsgid::frontend {

struct TraceAnswer {
  int status = 200;   // 200, 405 or 413
  std::string body;   // status 200: the message/http echo
  std::string why;    // 405 and 413: Apache's error note, for the log
};

// request_line: "TRACE /x HTTP/1.1" as received (without CRLF).
TraceAnswer trace_answer(bool enabled, bool has_body, std::string_view request_line,
                         const RequestHeaders& headers);

}  // namespace wsgid::frontend
