// mod_headers' rules applied to the front end's header buffers: RequestHeader
// to the fields of a request (header_list(), edit_request_headers()), Header to
// a response head (edit_response_head()). HttpConn calls them on its loop
// thread for the requests that have rules (rewrite_step.h, headers_for()).
// Pure; any thread.
//
// edit_response_head(): Header rules applied to a response head the front end has
// already written into its output buffer: the status line and the header lines
// of the application's response, of a static file, or of a local response (an
// error page, a redirect), before the head is ended (response_head.h,
// append_head_end()).
//
// The lines from `from` to the end of *out are read back (the status line is
// kept as it is), handed to HeaderRules::apply_response() with origin (kHandler
// for the application's response and a static file's, kError for the ones the
// front end writes itself, where only `Header always` rules run, as in Apache),
// and written again in the order it returns. The rules cannot put CR or LF in a
// value (the parser refuses such values). Framing stays the front end's: a rule
// that sets or unsets Content-Length, Transfer-Encoding or Connection is not
// applied (the lines keep what the front end wrote), since those headers
// describe how the body is sent, which mod_headers cannot change in Apache either
// (its filter runs before the protocol's).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "supervisor/frontend/request_headers.h"

#include "supervisor/rewrite/headers.h"

namespace wsgid::frontend {

// The header fields of a request as the rewrite engines read them.
rewrite::HeaderList header_list(const RequestHeaders& headers);

// rules' RequestHeader edits applied to headers; the edited fields are written
// to *buffer and *spans (reused across requests), and the returned view reads
// them: it stays valid while *buffer and *spans are unchanged.
RequestHeaders edit_request_headers(const RequestHeaders& headers,
                                    const rewrite::HeaderRules& rules, std::string* buffer,
                                    std::vector<HeaderSpan>* spans);

void edit_response_head(std::string* out, size_t from, const rewrite::HeaderRules& rules,
                        rewrite::HeaderRules::Origin origin);

}  // namespace wsgid::frontend
