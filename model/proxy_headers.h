// The header names mod_wsgi 4.9's WSGITrustedProxyHeaders knows, by category,
// and what each rewrites in the WSGI environ (mod_wsgi's src/server/mod_wsgi.c,
// wsgi_process_proxy_headers and its four wsgi_proxy_*_headers tables).
//
// One table, read by the parser (a name outside it is warned about: mod_wsgi
// accepts it and it changes nothing) and by the front end
// (supervisor/frontend/trusted_proxy.h applies it per request). Pure data.
#pragma once

#include <string_view>

namespace wsgid::model {

enum class ProxyHeaderCategory {
  kClient,      // REMOTE_ADDR
  kScheme,      // HTTPS, hence wsgi.url_scheme
  kHost,        // HTTP_HOST
  kScriptName,  // SCRIPT_NAME (and mod_wsgi.mount_point)
  kNone,        // X-Forwarded-Server, X-Forwarded-Port: applied, never removed
};

// How the value is read.
enum class ProxyHeaderValue {
  kForwardedFor,  // a comma list walked back through WSGITrustedProxies
  kAddress,       // REMOTE_ADDR as is
  kProto,         // "https" -> HTTPS=1, "http" -> no HTTPS, else unchanged
  kFlag,          // On/true/1 -> HTTPS=1, Off/false/0 -> no HTTPS, else unchanged
  kHttpHost,      // HTTP_HOST as is (may hold a port)
  kServerName,    // SERVER_NAME as is
  kServerPort,    // SERVER_PORT as is
  kScriptName,    // SCRIPT_NAME as is
};

struct ProxyHeaderInfo {
  std::string_view name;  // as mod_wsgi's documentation writes it
  ProxyHeaderCategory category;
  ProxyHeaderValue value;
};

inline constexpr ProxyHeaderInfo kProxyHeaders[] = {
    {"X-Forwarded-For", ProxyHeaderCategory::kClient, ProxyHeaderValue::kForwardedFor},
    {"X-Client-IP", ProxyHeaderCategory::kClient, ProxyHeaderValue::kAddress},
    {"X-Real-IP", ProxyHeaderCategory::kClient, ProxyHeaderValue::kAddress},
    {"X-Forwarded-HTTPS", ProxyHeaderCategory::kScheme, ProxyHeaderValue::kFlag},
    {"X-Forwarded-Proto", ProxyHeaderCategory::kScheme, ProxyHeaderValue::kProto},
    {"X-Forwarded-Scheme", ProxyHeaderCategory::kScheme, ProxyHeaderValue::kProto},
    {"X-Forwarded-SSL", ProxyHeaderCategory::kScheme, ProxyHeaderValue::kFlag},
    {"X-HTTPS", ProxyHeaderCategory::kScheme, ProxyHeaderValue::kFlag},
    {"X-Scheme", ProxyHeaderCategory::kScheme, ProxyHeaderValue::kProto},
    {"X-Forwarded-Host", ProxyHeaderCategory::kHost, ProxyHeaderValue::kHttpHost},
    {"X-Host", ProxyHeaderCategory::kHost, ProxyHeaderValue::kHttpHost},
    {"X-Forwarded-Server", ProxyHeaderCategory::kNone, ProxyHeaderValue::kServerName},
    {"X-Forwarded-Port", ProxyHeaderCategory::kNone, ProxyHeaderValue::kServerPort},
    {"X-Script-Name", ProxyHeaderCategory::kScriptName, ProxyHeaderValue::kScriptName},
    {"X-Forwarded-Script-Name", ProxyHeaderCategory::kScriptName, ProxyHeaderValue::kScriptName},
};

// The row for name (any case, '-' as written: "x-forwarded-for"), or nullptr.
const ProxyHeaderInfo* find_proxy_header(std::string_view name);

}  // namespace wsgid::model
