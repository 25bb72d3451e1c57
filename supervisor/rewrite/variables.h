// The server variables the rewrite engines read from a request: mod_rewrite's
// %{NAME} in RewriteCond and RewriteRule (its lookup_variable()), and the %{NAME}
// of the ap_expr strings mod_alias takes in a per-directory `Redirect URL`
// (section_redirect.h). Pure functions over a RequestView; any thread.
//
// Known names: HTTPS ("on"/"off"), SERVER_NAME, SERVER_PORT, REQUEST_URI (the
// decoded path, no query), REQUEST_METHOD, QUERY_STRING, REQUEST_SCHEME,
// SERVER_PROTOCOL, REMOTE_ADDR, and the header shorthands HTTP_HOST,
// HTTP_USER_AGENT, HTTP_REFERER, HTTP_COOKIE, HTTP_FORWARDED, HTTP_ACCEPT,
// HTTP_PROXY_CONNECTION; with_http_colon adds mod_rewrite's HTTP:Name (any
// request header), which ap_expr does not have.
#pragma once

#include <string>
#include <string_view>

#include "supervisor/rewrite/request.h"

namespace wsgid::rewrite {

bool known_variable(std::string_view name, bool with_http_colon = true);

// The value of a known variable for r ("" for an unknown one or a missing header).
std::string lookup_variable(std::string_view name, const RequestView& r);

// The first request header field called name (any case), "" when none
// (Apache's apr_table_get on headers_in).
std::string_view header(const RequestView& r, std::string_view name);

}  // namespace wsgid::rewrite
