// The CGI/WSGI environ of one request routed to a process group (or to embedded
// mode), written as proto::RequestHeadWriter pairs straight into the request
// buffer: no libuv, no socket, no intermediate map. HttpConn calls it once per
// request from on_headers_complete(); pure, any thread.
//
// What it writes, in this order (the keys an application under mod_wsgi gets from
// Apache's ap_add_common_vars and ap_add_cgi_vars, server/util_script.c):
//   REQUEST_METHOD, SCRIPT_NAME and PATH_INFO (the route's), QUERY_STRING,
//   REQUEST_URI (the URL as received), SERVER_PROTOCOL, SERVER_SOFTWARE "wsgid",
//   GATEWAY_INTERFACE "CGI/1.1", REQUEST_SCHEME "http";
//   SERVER_NAME and SERVER_PORT as Apache with UseCanonicalName Off: the Host
//   (lower-cased; "[v6]" kept in brackets) and its port, else the route's vhost
//   ServerName (the main server's, then "localhost") and the local port;
//   SERVER_ADDR, REMOTE_ADDR, REMOTE_PORT, REMOTE_USER and AUTH_TYPE (after
//   authentication, access_check.h), SCRIPT_FILENAME;
//   one pair per header name, at its first occurrence, repeated names joined
//   with ", " as Apache does: Content-Type -> CONTENT_TYPE, Content-Length ->
//   CONTENT_LENGTH (not for a chunked body), Authorization only with
//   WSGIPassAuthorization On, Proxy never (httpoxy), other names -> HTTP_ + upper
//   case with '-' as '_'; names with '_' or any byte but [A-Za-z0-9-] are dropped
//   (Apache 2.4 does so that "X_Foo" cannot pose as "X-Foo");
//   mod_wsgi.process_group, mod_wsgi.application_group, mod_wsgi.callable_object,
//   mod_wsgi.script_reloading ("1"/"0"), mod_wsgi.request_id,
//   wsgid.request_start (microseconds since the epoch).
// On a TLS connection (issue 13): REQUEST_SCHEME "https" and HTTPS "on" (mod_ssl
// sets it on every TLS request; mod_wsgi makes wsgi.url_scheme "https" of it);
// under SSLOptions +StdEnvVars mod_ssl's SSL_* variables of tls_facts.h
// (SSL_PROTOCOL, SSL_CIPHER, SSL_CIPHER_USEKEYSIZE, SSL_CIPHER_ALGKEYSIZE,
// SSL_SESSION_RESUMED, SSL_TLS_SNI when the client sent a name,
// SSL_SERVER_S_DN, SSL_SERVER_I_DN, SSL_CLIENT_VERIFY and, with a client
// certificate, SSL_CLIENT_S_DN, SSL_CLIENT_I_DN, SSL_CLIENT_M_SERIAL); under
// +ExportCertData SSL_CLIENT_CERT (PEM).
// Over plain HTTP the trusted proxy headers (trusted_proxy.h) may set HTTPS
// "1" (as mod_wsgi sets it); over TLS the connection's HTTPS=on wins.
// EnvironEdits, when given, are applied on top: mod_remoteip's and mod_wsgi's
// header rewrites (a field set to a new value, added, or removed) and mod_wsgi's
// REMOTE_ADDR, HTTPS, SERVER_NAME, SERVER_PORT, SCRIPT_NAME (then also
// mod_wsgi.mount_point) from trusted proxy headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/frontend/request_headers.h"
#include "supervisor/frontend/router.h"
#include "supervisor/tls/tls_facts.h"

namespace wsgid::frontend {

// One header field rewritten for the environ: value set (replacing every field
// of that name, or added when there is none) or removed (nullopt).
struct HeaderEdit {
  std::string name;  // any case
  std::optional<std::string> value;
};

// What mod_remoteip and mod_wsgi's trusted proxy headers change in the environ.
struct EnvironEdits {
  std::vector<HeaderEdit> headers;  // later edits of a name win
  std::optional<std::string> remote_addr, server_name, server_port, script_name;
  std::optional<bool> https;  // true: HTTPS=1; false or unset: no HTTPS key
  bool empty() const {
    return headers.empty() && !remote_addr && !server_name && !server_port && !script_name &&
           !https;
  }
  // Sets (or removes, value nullopt) the field name.
  void set_header(std::string_view name, std::optional<std::string> value);
};

// The value the environ gives the field name (any case): the fields joined with
// ", " as Apache joins them, after edits (nullptr = none); nullopt when absent.
std::optional<std::string> environ_header(const RequestHeaders& headers,
                                          const EnvironEdits* edits, std::string_view name);

// The request facts the environ is made of. Every view must stay valid for the
// call only.
struct EnvironInput {
  std::string_view method;       // "GET"
  std::string_view request_uri;  // the URL as received
  std::string_view query;        // after '?', "" when none
  std::string_view host;         // Host header, or the authority of an absolute URL
  bool http10 = false;
  bool chunked = false;          // Transfer-Encoding: chunked (no CONTENT_LENGTH then)
  std::string_view default_server_name;  // the main server's ServerName
  std::string_view local_ip, remote_ip;
  int local_port = 0, remote_port = 0;
  std::string_view request_id;   // "prefix-42"
  int64_t request_start_us = 0;
  std::string_view remote_user;  // REMOTE_USER after authentication, "" = none
  std::string_view auth_type;    // AUTH_TYPE ("Basic"), "" = none
  const wsgid::tls::TlsFacts* tls = nullptr;  // the connection's TLS, nullptr = plain HTTP
  // nginx's uwsgi vars said https (uwsgi_packet.h): REQUEST_SCHEME "https" and
  // HTTPS "on" as over TLS, without SSL_* variables.
  bool https_scheme = false;
  bool tls_std_env_vars = false;     // SSLOptions +StdEnvVars of the vhost
  bool tls_export_cert_data = false; // SSLOptions +ExportCertData
  const EnvironEdits* edits = nullptr;  // must outlive the call; nullptr = none
};

// Buffers reused across requests so that building the environ does not allocate
// once they have grown.
struct EnvironScratch {
  std::string server_name, key, joined;
};

// Appends one REQUEST_HEAD frame (request_id) with the environ to *out. Returns
// false, with *out as before, when the head breaks the protocol's limits
// (RequestHeadWriter::finish(): the caller answers 500).
bool append_environ(const EnvironInput& in, const RequestHeaders& headers, const Route& route,
                    uint32_t request_id, EnvironScratch* scratch, std::string* out);

}  // namespace wsgid::frontend
