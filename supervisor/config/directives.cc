// The directive table, the Apache names wsgid skips, and the contexts; see
// directives.h. The handlers live in wsgi_directives.cc, server_directives.cc,
// daemon_options.cc, rewrite_directives.cc and access_directives.cc.
#include "supervisor/config/directives.h"

#include <iterator>

#include "supervisor/config/apache_directives.h"
#include "supervisor/config/parser_internal.h"
#include "supervisor/config/values.h"

namespace wsgid::config::detail {

namespace {

const char* const kSections[] = {"VirtualHost", "Location", "LocationMatch", "Directory",
                                 "DirectoryMatch", "Files", "FilesMatch",
                                 "WSGIInterpreterOptions", "IfModule", "IfDefine",
                                 // access control (access_directives.cc)
                                 "RequireAll", "RequireAny", "RequireNone", "Limit",
                                 "LimitExcept"};

// Names syntax.cc consumes before the Parser sees them: never dispatched here,
// only offered as "did you mean" after a misspelling. The order of the
// candidates decides between equally near names (closest() keeps the first):
// Define comes right after the Apache directives, Include after the sections.
const char* const kSyntaxApacheDirectives[] = {"Define"};
const char* const kSyntaxIncludes[] = {"Include", "IncludeOptional"};
const char* const kSyntaxSections[] = {"IfVersion"};

// ---------------------------------------------------------------------------
// The table of every directive wsgid knows.

#define NOEFFECT(name, ctx, why) DirectiveInfo{name, ctx, nullptr, why}
#define REFUSED(name, ctx, apache) DirectiveInfo{name, ctx, nullptr, apache, true}

const DirectiveInfo kDirectives[] = {
    // mod_wsgi, implemented.
    {"WSGIDaemonProcess", kSV, &Parser::d_daemon_process, ""},
    {"WSGIProcessGroup", kAll, &Parser::d_process_group, ""},
    {"WSGIApplicationGroup", kAll, &Parser::d_application_group, ""},
    {"WSGICallableObject", kAll, &Parser::d_callable_object, ""},
    {"WSGIPassAuthorization", kAll, &Parser::d_pass_authorization, ""},
    {"WSGIScriptReloading", kAll, &Parser::d_script_reloading, ""},
    {"WSGIChunkedRequest", kAll, &Parser::d_chunked_request, ""},
    {"WSGIRestrictProcess", kAll, &Parser::d_restrict_process, ""},
    {"WSGIScriptAlias", kSV, &Parser::d_script_alias, ""},
    {"WSGIScriptAliasMatch", kSV, &Parser::d_script_alias, ""},
    {"WSGIImportScript", kSV, &Parser::d_import_script, ""},
    {"WSGIRestrictEmbedded", kServer, &Parser::d_restrict_embedded, ""},
    {"WSGISocketPrefix", kServer, &Parser::d_socket_prefix, ""},
    {"WSGIPythonHome", kServer, &Parser::d_python_home, ""},
    {"WSGIPythonPath", kServer | kInterp, &Parser::d_python_path, ""},
    // mod_wsgi, accepted without effect.
    NOEFFECT("WSGISocketRotation", kServer,
             "group socket paths never rotate in wsgid: they stay the same across reloads"),
    NOEFFECT("WSGIAcceptMutex", kServer,
             "wsgid's worker threads take connections with poll() and accept4() on a shared "
             "non-blocking socket and need no accept mutex"),
    NOEFFECT("WSGIDestroyInterpreter", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIVerboseDebugging", kServer, "use 'LogLevel debug' for wsgid's debug messages"),
    NOEFFECT("WSGIDontWriteBytecode", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIPythonWarnings", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIPythonOptimize", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIPythonEggs", kServer,
             "wsgid does not implement it; python-eggs= on WSGIDaemonProcess sets "
             "PYTHON_EGG_CACHE for a group"),
    NOEFFECT("WSGIPythonHashSeed", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGISwitchInterval", kServer | kInterp,
             "wsgid does not implement it for embedded mode; switch-interval= on "
             "WSGIDaemonProcess sets it for a group"),
    NOEFFECT("WSGIPerInterpreterGIL", kServer | kInterp,
             "per-interpreter GIL sub-interpreters are not implemented by wsgid"),
    NOEFFECT("WSGIFreeThreading", kServer | kInterp,
             "free-threaded Python is not implemented by wsgid"),
    NOEFFECT("WSGIRestrictStdin", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIRestrictStdout", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGIRestrictSignal", kServer, "wsgid does not implement it"),
    NOEFFECT("WSGICaseSensitivity", kServer,
             "wsgid runs on Linux, whose file names are case-sensitive"),
    NOEFFECT("WSGIServerMetrics", kServer, "there is no Apache scoreboard in wsgid"),
    REFUSED("WSGIDispatchScript", kAll,
            "mod_wsgi would let this script pick the application group and callable of each "
            "request"),
    REFUSED("WSGIHandlerScript", kAll,
            "mod_wsgi would answer the files of this handler (AddHandler/Action) with this "
            "script"),
    NOEFFECT("WSGIPassApacheRequest", kAll, "there is no Apache request object in wsgid"),
    NOEFFECT("WSGIErrorOverride", kAll, "wsgid has no ErrorDocument to put in the app's place"),
    NOEFFECT("WSGIMapHEADToGET", kAll, "wsgid does not implement it; HEAD reaches the app as HEAD"),
    NOEFFECT("WSGIIgnoreActivity", kAll, "wsgid does not implement it"),
    {"WSGITrustedProxyHeaders", kAll, &Parser::d_trusted_proxy_headers, ""},
    {"WSGITrustedProxies", kAll, &Parser::d_trusted_proxies, ""},
    NOEFFECT("WSGIEnableSendfile", kAll, "wsgid does not implement it"),
    {"WSGIAccessScript", kDir, &Parser::d_auth_script, ""},
    {"WSGIAuthUserScript", kDir, &Parser::d_auth_script, ""},
    {"WSGIAuthGroupScript", kDir, &Parser::d_auth_script, ""},
    REFUSED("WSGIGroupAuthoritative", kDir,
            "mod_wsgi would let other providers decide 'Require wsgi-group' for this path"),
    NOEFFECT("WSGIMetricsService", kServer, "mod_wsgi's telemetry is not implemented by wsgid"),
    NOEFFECT("WSGISlowRequests", kServer, "mod_wsgi's telemetry is not implemented by wsgid"),
    NOEFFECT("WSGIMetricsOptions", kServer, "mod_wsgi's telemetry is not implemented by wsgid"),
    NOEFFECT("WSGITelemetryService", kServer, "mod_wsgi's telemetry is not implemented by wsgid"),
    NOEFFECT("WSGITelemetryOptions", kServer, "mod_wsgi's telemetry is not implemented by wsgid"),
    NOEFFECT("WSGIReloadMechanism", kAll, "it was removed in mod_wsgi 4.0"),
    NOEFFECT("WSGIOutputBuffering", kAll, "it was removed in mod_wsgi 4.0"),
    NOEFFECT("WSGILazyInitialization", kServer, "it was removed in mod_wsgi 4.0"),
    NOEFFECT("WSGIPythonExecutable", kServer, "it was removed in mod_wsgi 4.0"),
    // Ours.
    {"WSGIControlSocket", kServer, &Parser::d_control_socket, ""},
    {"WSGIDrainDelay", kServer, &Parser::d_drain_delay, ""},
    {"WSGIFrontendLoops", kServer, &Parser::d_frontend_loops, ""},
    {"WSGIUwsgiTrustedPeers", kServer, &Parser::d_uwsgi_trusted_peers, ""},
    // Server directives Apache would otherwise supply.
    {"Listen", kServer, &Parser::d_listen, ""},
    {"ServerName", kSV, &Parser::d_server_name, ""},
    {"ServerAlias", kVHost, &Parser::d_server_alias, ""},
    {"User", kServer, &Parser::d_user, ""},
    {"Group", kServer, &Parser::d_group, ""},
    {"PidFile", kServer, &Parser::d_pid_file, ""},
    {"ServerRoot", kServer, &Parser::d_server_root, ""},
    {"ErrorLog", kSV, &Parser::d_error_log, ""},
    {"CustomLog", kSV, &Parser::d_custom_log, ""},
    {"LogFormat", kSV, &Parser::d_log_format, ""},
    {"TransferLog", kSV, &Parser::d_transfer_log, ""},
    {"LogLevel", kAll, &Parser::d_log_level, ""},
    {"Timeout", kSV, &Parser::d_timeout, ""},
    {"KeepAlive", kSV, &Parser::d_keep_alive, ""},
    {"TraceEnable", kSV, &Parser::d_trace_enable, ""},
    // mod_remoteip (proxy_directives.cc).
    {"RemoteIPHeader", kSV, &Parser::d_remoteip_header, ""},
    {"RemoteIPProxiesHeader", kSV, &Parser::d_remoteip_header, ""},
    {"RemoteIPTrustedProxy", kSV, &Parser::d_remoteip_proxy, ""},
    {"RemoteIPInternalProxy", kSV, &Parser::d_remoteip_proxy, ""},
    {"RemoteIPTrustedProxyList", kSV, &Parser::d_remoteip_proxy_list, ""},
    {"RemoteIPInternalProxyList", kSV, &Parser::d_remoteip_proxy_list, ""},
    {"RemoteIPProxyProtocol", kSV, &Parser::d_remoteip_proxy_protocol, ""},
    {"RemoteIPProxyProtocolExceptions", kSV, &Parser::d_remoteip_proxy_protocol, ""},
    {"KeepAliveTimeout", kSV, &Parser::d_keep_alive_timeout, ""},
    {"MaxKeepAliveRequests", kSV, &Parser::d_max_keep_alive_requests, ""},
    {"LimitRequestLine", kSV, &Parser::d_limit, ""},
    {"LimitRequestFieldSize", kSV, &Parser::d_limit, ""},
    {"LimitRequestFields", kSV, &Parser::d_limit, ""},
    {"LimitRequestBody", kAll, &Parser::d_limit, ""},
    {"RequestReadTimeout", kSV, &Parser::d_request_read_timeout, ""},
    {"ThreadsPerChild", kServer, &Parser::d_threads_per_child, ""},
    {"Alias", kSV, &Parser::d_alias, ""},
    {"AliasMatch", kSV, &Parser::d_alias, ""},
    // Handlers (handler_directives.cc).
    {"SetHandler", kAll, &Parser::d_set_handler, ""},
    {"AddHandler", kAll, &Parser::d_add_handler, ""},
    {"Options", kAll, &Parser::d_options, ""},
    {"DocumentRoot", kSV, &Parser::d_document_root, ""},
    {"DirectoryIndex", kAll, &Parser::d_directory_index, ""},
    {"DirectorySlash", kAll, &Parser::d_directory_slash, ""},
    {"FileETag", kAll, &Parser::d_file_etag, ""},
    {"MaxRanges", kAll, &Parser::d_max_ranges, ""},
    // mod_alias's redirects, mod_rewrite, mod_headers (rewrite_directives.cc says
    // in which sections each is implemented and refuses it elsewhere).
    {"Redirect", kAll, &Parser::d_redirect, ""},
    {"RedirectMatch", kAll, &Parser::d_redirect, ""},
    {"RedirectPermanent", kAll, &Parser::d_redirect, ""},
    {"RedirectTemp", kAll, &Parser::d_redirect, ""},
    {"RewriteEngine", kAll, &Parser::d_rewrite, ""},
    {"RewriteOptions", kAll, &Parser::d_rewrite, ""},
    {"RewriteCond", kAll, &Parser::d_rewrite, ""},
    {"RewriteRule", kAll, &Parser::d_rewrite, ""},
    {"RewriteBase", kAll, &Parser::d_rewrite, ""},
    {"RewriteMap", kAll, &Parser::d_rewrite, ""},
    {"Header", kAll, &Parser::d_header, ""},
    {"RequestHeader", kAll, &Parser::d_header, ""},
    // Access control and authentication (access_directives.cc): per-directory
    // sections only, as in Apache (elsewhere Apache says "not allowed here").
    {"Require", kDir, &Parser::d_access, ""},
    {"AuthMerging", kDir, &Parser::d_access, ""},
    {"AuthzSendForbiddenOnFailure", kDir, &Parser::d_access, ""},
    {"AuthType", kDir, &Parser::d_access, ""},
    {"AuthName", kDir, &Parser::d_access, ""},
    {"AllowMethods", kDir, &Parser::d_access, ""},
    {"Order", kDir, &Parser::d_access, ""},
    {"Allow", kDir, &Parser::d_access, ""},
    {"Deny", kDir, &Parser::d_access, ""},
    {"Satisfy", kDir, &Parser::d_access, ""},
    {"AuthBasicProvider", kDir, &Parser::d_auth_basic_provider, ""},
    {"AuthUserFile", kDir, &Parser::d_auth_file, ""},
    {"AuthGroupFile", kDir, &Parser::d_auth_file, ""},
    // mod_ssl (ssl_directives.cc). Per-directory SSLVerifyClient, SSLVerifyDepth
    // and SSLCipherSuite are refused there (they need renegotiation).
    {"SSLEngine", kSV, &Parser::d_ssl, ""},
    {"SSLCertificateFile", kSV, &Parser::d_ssl, ""},
    {"SSLCertificateKeyFile", kSV, &Parser::d_ssl, ""},
    {"SSLCertificateChainFile", kSV, &Parser::d_ssl, ""},
    {"SSLCACertificateFile", kSV, &Parser::d_ssl, ""},
    {"SSLCACertificatePath", kSV, &Parser::d_ssl, ""},
    {"SSLVerifyClient", kAll, &Parser::d_ssl, ""},
    {"SSLVerifyDepth", kAll, &Parser::d_ssl, ""},
    {"SSLProtocol", kSV, &Parser::d_ssl, ""},
    {"SSLCipherSuite", kAll, &Parser::d_ssl, ""},
    {"SSLHonorCipherOrder", kSV, &Parser::d_ssl, ""},
    {"SSLSessionTickets", kSV, &Parser::d_ssl, ""},
    {"SSLSessionCacheTimeout", kSV, &Parser::d_ssl, ""},
    {"SSLOpenSSLConfCmd", kSV, &Parser::d_ssl, ""},
    {"SSLOptions", kAll, &Parser::d_ssl, ""},
    {"SSLRequireSSL", kDir, &Parser::d_ssl, ""},
};
const size_t kDirectiveCount = sizeof(kDirectives) / sizeof(kDirectives[0]);

#undef NOEFFECT
#undef REFUSED

}  // namespace

const DirectiveInfo* find_directive(std::string_view name) {
  for (size_t i = 0; i < kDirectiveCount; ++i)
    if (iequals(kDirectives[i].name, name)) return &kDirectives[i];
  return nullptr;
}

std::vector<std::string> directive_names() {
  std::vector<std::string> v;
  for (size_t i = 0; i < kDirectiveCount; ++i) v.push_back(kDirectives[i].name);
  return v;
}

std::string known_section(std::string_view name) {
  std::string found;
  for (const char* n : kSections)
    if (iequals(n, name)) found = n;
  return found;
}

std::vector<std::string_view> directive_suggestions() {
  std::vector<std::string_view> v;
  for (size_t i = 0; i < kDirectiveCount; ++i) v.push_back(kDirectives[i].name);
  for (std::string_view n : apache_directive_names()) v.push_back(n);
  for (const char* n : kSyntaxApacheDirectives) v.push_back(n);
  for (const char* n : kSections) v.push_back(n);
  for (const char* n : kSyntaxIncludes) v.push_back(n);
  return v;
}

std::vector<std::string_view> section_suggestions() {
  std::vector<std::string_view> names(std::begin(kSections), std::end(kSections));
  for (std::string_view n : apache_section_names()) names.push_back(n);
  for (const char* n : kSyntaxSections) names.push_back(n);
  return names;
}

std::string where(const Scope& s) {
  return s.section.empty() ? "at server level" : "inside <" + s.section + ">";
}

std::string belongs(unsigned c) {
  switch (c) {
    case kServer: return "it belongs at server level";
    case kSV: return "it belongs at server level or in <VirtualHost>";
    case kVHost: return "it belongs in <VirtualHost>";
    case kDir: return "it belongs in <Location>, <Directory> or <Files>";
    case kServer | kInterp: return "it belongs at server level or in <WSGIInterpreterOptions>";
    default: return "it belongs at server level, in <VirtualHost>, <Location>, <Directory> or <Files>";
  }
}

}  // namespace wsgid::config::detail
