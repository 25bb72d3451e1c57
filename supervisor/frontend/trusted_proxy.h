// trusted_proxy: mod_wsgi 4.9's WSGITrustedProxyHeaders and WSGITrustedProxies,
// which change what the application sees of a request that came through a
// proxy -- and nothing else: access control and the access log keep the address
// they had (mod_remoteip's remote_ip.h is the tool for those).
//
// HttpConn calls apply_trusted_proxy_headers() once per request routed to a
// WSGI application (a process group or embedded mode), after mod_remoteip's
// walk, with the address the request has by then (REMOTE_ADDR). Pure: any
// thread, no allocation but the edits it writes.
//
// The semantics are wsgi_process_proxy_headers() and wsgi_process_forwarded_for()
// of mod_wsgi 4.9.4's src/server/mod_wsgi.c:
//  - With WSGITrustedProxies given, the peer (REMOTE_ADDR) must match one of them
//    (apr_ipsubnet_test: addresses, CIDRs, partial addresses); with none given,
//    every peer is trusted (mod_wsgi's compatibility; `wsgid --check` warns).
//  - A trusted peer's headers named in WSGITrustedProxyHeaders rewrite the
//    environ, in the order they are listed (model/proxy_headers.h):
//    X-Forwarded-For -> REMOTE_ADDR: without WSGITrustedProxies its first item;
//      with them, walking from the right while items are trusted proxies, the
//      item left of the leftmost trusted one (the first item when all are
//      trusted), and X-Forwarded-For keeps only that item and those after it;
//      when the rightmost is not a proxy, it becomes REMOTE_ADDR and the
//      whole X-Forwarded-For. An item that is not an IP address stops the walk
//      like an untrusted one.
//    X-Client-IP, X-Real-IP -> REMOTE_ADDR as is;
//    X-Forwarded-Proto, X-Forwarded-Scheme, X-Scheme: "https" -> HTTPS=1
//      (wsgi.url_scheme "https"), "http" -> no HTTPS (any case; other values
//      change nothing); X-Forwarded-HTTPS, X-Forwarded-SSL, X-HTTPS: On, true,
//      1 -> HTTPS=1, Off, false, 0 -> no HTTPS;
//    X-Forwarded-Host, X-Host -> HTTP_HOST; X-Forwarded-Server -> SERVER_NAME;
//    X-Forwarded-Port -> SERVER_PORT; X-Script-Name, X-Forwarded-Script-Name ->
//    SCRIPT_NAME (and mod_wsgi.mount_point).
//  - For each category (client, scheme, host, script name) that the list
//    names, every header of that category is removed from the environ but the
//    one that was used -- all of them when the peer is not trusted. So an
//    untrusted client cannot pass X-Forwarded-For to an application that
//    reads it. X-Forwarded-Server and X-Forwarded-Port are never removed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "supervisor/frontend/cgi_environ.h"
#include "supervisor/frontend/request_headers.h"

namespace wsgid::frontend {

// headers: WSGITrustedProxyHeaders in force (names as written). proxies:
// WSGITrustedProxies in force, nullptr when none is (specs the parser checked;
// one that does not parse matches nothing). remote_addr: the request's client
// address so far. Appends to *edits (which may already hold mod_remoteip's
// header edits: the values are read through them).
void apply_trusted_proxy_headers(const std::vector<std::string>& headers,
                                 const std::vector<std::string>* proxies,
                                 std::string_view remote_addr, const RequestHeaders& request,
                                 EnvironEdits* edits);

}  // namespace wsgid::frontend
