// What the rewrite engines (redirect.h, rewrite.h, headers.h) read from a request
// and what they answer: the front end fills a RequestView from the parsed request
// line and headers and acts on the Outcome. Plain values, no I/O; any thread.
//
// The fields mirror the request_rec fields mod_alias and mod_rewrite read, so that
// a rule behaves as it did under Apache: `path` is r->uri (the URL path already
// %-decoded, beginning with '/'; a request whose path does not begin with '/',
// such as "OPTIONS *", is left alone by both engines, as Apache does), `query`
// is r->args (raw, as received, without the '?'). `server_name` and
// `server_port` are what Apache's ap_get_server_name_for_url() and
// ap_get_server_port() return (with UseCanonicalName Off, Apache's default: the
// Host header's name and the port the client connected to). Every string_view
// must stay valid for the duration of the evaluate() call that reads it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsgid::rewrite {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RequestView {
  std::string_view method = "GET";
  std::string_view path = "/";           // decoded URL path, r->uri
  std::string_view query;                // raw query string, r->args
  bool has_query = false;                // "?" present (even empty)
  bool https = false;                    // the connection is TLS
  std::string_view server_name;          // Apache's SERVER_NAME
  unsigned server_port = 80;             // Apache's SERVER_PORT
  std::string_view remote_addr;          // REMOTE_ADDR
  std::string_view protocol = "HTTP/1.1";  // SERVER_PROTOCOL
  const HeaderList* headers = nullptr;   // request headers, for %{HTTP:Name}
};

// What a request gets from the engines. kNone: go on (aliases, the application).
// kRedirect: answer `status` (a 3xx) with `location` as the Location header.
// kForbidden (403), kGone (410), kStatus (another non-redirect status a
// `Redirect 404 /x` asked for): answer `status` with no Location.
// kServerError: answer 500 and log `reason` (the cases where Apache answers 500,
// and the ones where Apache would have done something wsgid refuses to do).
struct Outcome {
  enum class Kind { kNone, kRedirect, kForbidden, kGone, kStatus, kServerError };
  Kind kind = Kind::kNone;
  int status = 0;
  std::string location;
  std::string reason;
};

}  // namespace wsgid::rewrite
