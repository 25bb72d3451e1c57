// URL helpers shared by redirect.cc and rewrite.cc, each the equivalent of the
// Apache function it names, so that a Location header reads byte for byte as
// Apache wrote it. Pure functions; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "supervisor/rewrite/request.h"

namespace wsgid::rewrite {

// ap_escape_uri() (ap_os_escape_path with partial=1, server/util.c): %XX-escapes
// every byte that is not alphanumeric nor one of $-_.+!*'(),:;@&=/~ . A '%' is
// escaped too, as in Apache ("%20" becomes "%2520").
std::string escape_uri(std::string_view s);

// mod_rewrite's is_absolute_uri(): the length of the "scheme://" (or "mailto:",
// "news:") prefix of a URL mod_rewrite treats as absolute, 0 if none. Sets
// *supports_query (when given) for the schemes whose query string mod_rewrite
// splits off (http, https, mailto...; not ftp, gopher, ldap, news, nntp).
size_t absolute_url_prefix(std::string_view url, bool* supports_query = nullptr);

// mod_alias's ap_is_url() (server/util.c): a scheme of letters, digits, '+',
// '-', '.' followed by ':'.
bool is_url(std::string_view s);

// "scheme://server[:port]" as ap_construct_url() and mod_rewrite's
// fully_qualify_uri() build it: the port is left out when it is the scheme's
// default (80 for http, 443 for https). An IPv6 literal server name is put in
// brackets.
std::string own_origin(const RequestView& r);

}  // namespace wsgid::rewrite
