// The resolved configuration: plain structs, the single model every part uses.
//
// The parser (supervisor/config/parser.h) builds a Config from directives; the
// master diffs two of them on reload (through worker_settings.h); model_json.h
// turns the whole Config into `wsgid --check --json`, worker_settings.h and
// frontend_settings.h into the settings each child gets over its control channel.
// Values are mod_wsgi's: option defaults are mod_wsgi's code defaults (see
// https://modwsgi.readthedocs.io/en/develop/configuration-directives/WSGIDaemonProcess.html),
// durations are seconds (double), sizes bytes.
// std::nullopt means "not set" (null in JSON). Plain values: copy freely.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/source_loc.h"

namespace wsgid::model {

// One WSGIDaemonProcess: a named process group and every option it takes.
// Field names follow the option names (maximum-requests -> maximum_requests).
struct GroupSpec {
  std::string name;
  SourceLoc loc;
  int vhost = -1;  // index in Config::vhosts where declared, -1 = server level
  // Where each option was written ("request-timeout" -> its key), for diagnostics
  // about options that only clash once the whole config is known.
  std::map<std::string, SourceLoc> option_locs;

  // 1a. process model and identity
  int processes = 1;
  bool processes_given = false;  // processes= appeared at all (wsgi.multiprocess)
  int threads = 15;              // 0 = service mode
  std::optional<std::string> display_name;  // as written
  std::optional<std::string> user;          // name or #uid
  std::optional<std::string> group;         // name or #gid
  std::optional<std::vector<std::string>> supplementary_groups;
  std::optional<int> umask;
  std::optional<std::string> home;
  std::optional<std::string> lang;
  std::optional<std::string> locale;
  std::optional<std::string> chroot;
  int cpu_priority = 0;
  std::optional<int64_t> stack_size;
  std::optional<std::string> socket_user;
  std::optional<std::string> script_user;
  std::optional<std::string> script_group;
  // 1b. Python
  std::optional<std::string> python_home;
  std::vector<std::string> python_path;
  std::optional<std::string> python_eggs;
  std::optional<double> switch_interval;
  // 1c. recycling and lifecycle (seconds; 0 = off)
  int64_t maximum_requests = 0;
  double restart_interval = 0;
  double inactivity_timeout = 0;
  double startup_timeout = 0;
  // wsgid's own: FATAL after N + 1 failures in a row to reach READY (N retries);
  // unset = retry forever with the backoff, as mod_wsgi restarts its daemons.
  std::optional<int> startup_retries;
  double graceful_timeout = 15;
  double eviction_timeout = 0;
  double shutdown_timeout = 5;
  double cpu_time_limit = 0;
  int64_t memory_limit = 0;          // bytes, 0 = off
  int64_t virtual_memory_limit = 0;  // bytes, 0 = off
  // 1d. fail-safes
  double request_timeout = 0;
  double interrupt_timeout = 0;
  double deadlock_timeout = 300;
  // 1e. transport
  int listen_backlog = 100;
  double connect_timeout = 15;
  double socket_timeout = 60;               // default: the server's Timeout
  double queue_timeout = 0;
  double response_socket_timeout = 60;      // default: socket_timeout
  double response_flush_delay = 0.005;      // written in ms, held in seconds
  // 1f. buffers (bytes)
  std::optional<int64_t> send_buffer_size;
  std::optional<int64_t> receive_buffer_size;
  int64_t header_buffer_size = 32768;
  int64_t response_buffer_size = 8 * 1024 * 1024;
  // 1g. observability
  bool server_metrics = false;

  // mod_wsgi's wsgi.multithread / wsgi.multiprocess / wsgi.run_once.
  bool multithread() const { return threads != 1; }
  bool multiprocess() const { return processes_given; }
  bool run_once() const { return threads == 1 && maximum_requests == 1; }
  // The process title: "(wsgi:NAME)" for display-name=%{GROUP}; any other value
  // with %{GROUP} expanded; "wsgid-worker NAME" without display-name.
  std::string title() const;
};

// Handlers (issue 11, part 3): what SetHandler, AddHandler, Options ExecCGI and
// DirectoryIndex set in one scope; unset = inherit. The only handler wsgid knows
// is mod_wsgi's wsgi-script; "none" is Apache's default handler (static file).
struct HandlerSettings {
  std::optional<std::string> set_handler;  // "wsgi-script" or "none" (lower case)
  // AddHandler wsgi-script: the extensions (".wsgi", lower case) this scope adds.
  std::vector<std::string> wsgi_extensions;
  std::optional<bool> exec_cgi;  // Options ExecCGI (+ExecCGI / -ExecCGI / a plain list)
  // DirectoryIndex: file names tried in order; empty vector = "disabled".
  std::optional<std::vector<std::string>> directory_index;
  // DirectorySlash: "on", "off" or "notfound" (lower case).
  std::optional<std::string> directory_slash;
  // FileETag as core merges it: a list without signs sets file_etag (kETag*
  // bits; 0 = None) and clears what earlier scopes added or removed; +X / -X
  // add to file_etag_add / file_etag_remove. Unset everywhere = MTime Size.
  std::optional<int> file_etag;
  int file_etag_add = 0;
  int file_etag_remove = 0;
  // MaxRanges (Apache core): a count >= 1, kMaxRangesNone, kMaxRangesUnlimited
  // or kMaxRangesDefault (200, written out: it overrides an outer scope's count).
  std::optional<int> max_ranges;
};

// MaxRanges' keywords as stored in HandlerSettings::max_ranges.
constexpr int kMaxRangesNone = 0;        // ranges are never served; Accept-Ranges: none
constexpr int kMaxRangesUnlimited = -2;
constexpr int kMaxRangesDefault = -1;    // 200

// FileETag's components (Apache core): the ETag of a static file is the hex
// values of those set, in the order inode, size, mtime, joined with '-'.
constexpr int kETagINode = 1;
constexpr int kETagMTime = 2;
constexpr int kETagSize = 4;
constexpr int kETagDefault = kETagMTime | kETagSize;  // Apache 2.4's default

// What WSGI* directives set in one scope (server, <VirtualHost>, <Location>,
// <LocationMatch>, <Directory>, <DirectoryMatch>, <Files>); unset = inherit.
struct ScopeSettings {
  std::optional<std::string> process_group;      // "%{GLOBAL}" or "" = embedded
  std::optional<std::string> application_group;  // unexpanded ("%{RESOURCE}")
  std::optional<std::string> callable_object;
  std::optional<bool> pass_authorization;
  std::optional<bool> script_reloading;
  std::optional<std::vector<std::string>> restrict_process;  // WSGIRestrictProcess
  HandlerSettings handlers;  // handlers part (issue 11, part 3)
  // Request bodies (issue 12): WSGIChunkedRequest, and Apache's LimitRequestBody
  // in this scope (bytes, 0 = unlimited).
  std::optional<bool> chunked_request;
  std::optional<int64_t> limit_request_body;
  // mod_ssl's SSLRequireSSL (per-directory sections only): 403 over plain HTTP.
  std::optional<bool> require_ssl;
  // mod_wsgi's trusted proxy headers (issue 13 point 4): WSGITrustedProxyHeaders
  // (header names as written, model/proxy_headers.h) and WSGITrustedProxies
  // (addresses and CIDRs, checked by the parser). Lines of one scope add up; a
  // scope that sets either replaces the outer scope's list, as mod_wsgi merges.
  std::optional<std::vector<std::string>> trusted_proxy_headers;
  std::optional<std::vector<std::string>> trusted_proxies;
};

// --- Redirects, rewrites and header edits (issue 11 point 4: mod_alias's
// Redirect*, mod_rewrite, mod_headers). The directives as written (quotes
// removed), in file order; the front end re-reads them into the engines of
// supervisor/rewrite/ (rewrite_step.h). Kept as plain text so that a Config
// stays a plain, copyable, JSON-able value; the parser has already checked that
// every one of them reads (rewrite_directives.cc).
struct RewriteDirective {
  SourceLoc loc;
  std::string name;               // canonical spelling: "RewriteRule", "Header" ...
  std::vector<std::string> args;
};
// --- end of the rewrite part's block.
// --- Access control and authentication (issue 11 points 1 and 2;
// access_directives.cc parses them, supervisor/frontend/access_check.h enforces).
// One access control line of a section as written: a directive of
// supervisor/authz/directives.h ("Require", {"ip", "10.0.0.0/8"}) or a nested
// section's start ("<RequireAll", "<Limit" with its methods) or end
// ("</RequireAll"), in file order: authz::build_section() rebuilds the
// section's policy from them in the front end. The parser has checked them.
struct AccessLine {
  std::string name;
  std::vector<std::string> args;
};
// One of mod_wsgi's Python providers (WSGIAuthUserScript, WSGIAuthGroupScript,
// WSGIAccessScript): the script and its application-group= (as written, "%{GLOBAL}"
// or "%{SERVER}" or "%{HOST}" expanded per request; unset = "", the main
// interpreter, as mod_wsgi's wsgi_server_group() gives for these scripts).
struct AuthScript {
  std::string path;  // absolute
  std::optional<std::string> application_group;
};
// What one section says about access (empty = it inherits everything).
struct BlockAccess {
  std::vector<AccessLine> lines;
  std::optional<std::string> user_file;   // AuthUserFile, absolute
  std::optional<std::string> group_file;  // AuthGroupFile, absolute
  // AuthBasicProvider, lower case, in order ("file", "wsgi"); unset = "file".
  std::optional<std::vector<std::string>> basic_providers;
  std::optional<AuthScript> auth_user_script;   // check_password()
  std::optional<AuthScript> auth_group_script;  // groups_for_user()
  std::optional<AuthScript> access_script;      // allow_access()
  bool empty() const {
    return lines.empty() && !user_file && !group_file && !basic_providers && !auth_user_script &&
           !auth_group_script && !access_script;
  }
};
// --- end of the access control block.

// <Location>/<LocationMatch> (url) or <Directory>/<DirectoryMatch> (filesystem).
struct Block {
  SourceLoc loc;
  std::string path;   // as written (quotes removed)
  bool is_regex = false;
  bool is_files = false;  // <Files>/<FilesMatch>: path matches the script's base name
  ScopeSettings settings;
  std::vector<RewriteDirective> rewrite;  // Header / RequestHeader of a <Location> (rewrite part)
  BlockAccess access;  // access control and authentication (issue 11)
};

// One WSGIScriptAlias or WSGIScriptAliasMatch.
struct Mount {
  SourceLoc loc;
  bool is_match = false;
  std::string url;     // URL prefix, or the regex for ...Match
  std::string script;  // file or directory; may hold $N for ...Match
  // The alias's own options (they win over every scope).
  std::optional<std::string> process_group;
  std::optional<std::string> application_group;
  std::optional<std::string> callable_object;
  std::optional<bool> pass_authorization;
};

// Alias / AliasMatch for static files.
struct StaticAlias {
  SourceLoc loc;
  bool is_match = false;
  std::string url;
  std::string path;
};

// What a Listen socket speaks (Listen's optional protocol argument).
enum class ListenProtocol {
  kHttp,          // "http": HTTP/1.1 clients and proxies
  kHttps,         // "https": HTTP/1.1 over TLS (Apache's protocol, and port 443's default)
  kHaproxyAgent,  // "haproxy-agent": HAProxy's agent-check line (haproxy_agent.h)
  kUwsgi,         // "uwsgi": the uwsgi packet nginx's uwsgi_pass sends (uwsgi_packet.h)
};
// "http", "https", "haproxy-agent", "uwsgi"; protocol_from_name() is its inverse
// (false: unknown).
const char* protocol_name(ListenProtocol p);
bool protocol_from_name(std::string_view name, ListenProtocol* out);
// One RemoteIPTrustedProxy or RemoteIPInternalProxy argument (mod_remoteip).
struct RemoteIPProxySpec {
  std::string address;    // "10.0.0.0/8", "2001:db8::1", checked by the parser
  bool internal = false;  // RemoteIPInternalProxy
};

struct ListenAddr {
  SourceLoc loc;
  // Listen's protocol argument: https (TLS), http, haproxy-agent or uwsgi. Unset, Apache
  // takes https for port 443 and http for any other port (listen_protocol()).
  ListenProtocol protocol = ListenProtocol::kHttp;
  std::string host;  // "" = all addresses; "[::1]" written as "::1"
  int port = 0;      // 0 = any free port (tests)
  std::string text() const;  // "127.0.0.1:8080", "[::1]:80", "*:80" (the address only)
  bool https() const { return protocol == ListenProtocol::kHttps; }
};

struct LogFile {
  SourceLoc loc;
  std::string path;    // file, or "|command" (piped logs are a warning, not supported)
  std::string format;  // CustomLog: a LogFormat nickname resolved to its format string
};

// mod_ssl's settings of the main server or one <VirtualHost> (issue 13;
// supervisor/config/ssl_directives.cc reads them). Unset = inherit: a vhost's
// unset fields take the main server's (merge_tls()), as mod_ssl merges its
// server configs. Paths are absolute (resolved against ServerRoot). Only the
// master opens the files (supervisor/master/tls_material.h); the front end gets
// their contents.
struct TlsSettings {
  std::optional<bool> engine;  // SSLEngine on/off; unset = on when its Listen is https
  SourceLoc engine_loc;
  std::optional<std::string> certificate_file;        // SSLCertificateFile
  std::optional<std::string> certificate_key_file;    // SSLCertificateKeyFile
  std::optional<std::string> certificate_chain_file;  // SSLCertificateChainFile
  std::optional<std::string> ca_certificate_file;     // SSLCACertificateFile
  std::optional<std::string> ca_certificate_path;     // SSLCACertificatePath
  std::optional<std::string> verify_client;  // SSLVerifyClient: "none", "optional", "require"
  std::optional<int> verify_depth;           // SSLVerifyDepth
  std::optional<std::string> protocol;       // SSLProtocol as written ("all -SSLv3 -TLSv1")
  std::optional<std::string> cipher_suite;   // SSLCipherSuite for TLSv1.2 and older
  std::optional<std::string> cipher_suite_tls13;  // SSLCipherSuite TLSv1.3 ...
  std::optional<bool> honor_cipher_order;    // SSLHonorCipherOrder
  std::optional<bool> session_tickets;       // SSLSessionTickets
  std::optional<int> session_cache_timeout;  // SSLSessionCacheTimeout, seconds
  // SSLOpenSSLConfCmd NAME VALUE, in order (OpenSSL's SSL_CONF_cmd).
  std::vector<std::pair<std::string, std::string>> conf_cmds;
  std::optional<bool> std_env_vars;      // SSLOptions +StdEnvVars
  std::optional<bool> export_cert_data;  // SSLOptions +ExportCertData
  bool on() const { return engine.value_or(false); }
};

// The main server is vhosts[0]-like but kept apart as Config::server.
struct VirtualHost {
  SourceLoc loc;
  std::vector<ListenAddr> addrs;        // <VirtualHost *:80 127.0.0.1:8080>; empty for server
  std::string server_name;              // ServerName (host, without port)
  std::vector<std::string> server_aliases;  // may hold wildcards
  ScopeSettings settings;
  std::vector<Mount> mounts;
  std::vector<Block> locations;         // in config order (later wins)
  std::vector<Block> directories;       // in config order
  std::vector<StaticAlias> aliases;
  std::optional<LogFile> error_log;
  std::vector<LogFile> custom_logs;
  // Handlers part (issue 11, part 3): DocumentRoot, resolved against ServerRoot,
  // without a trailing '/'; unset in a vhost = the server's.
  std::optional<std::string> document_root;
  std::vector<RewriteDirective> rewrite;  // Redirect*, Rewrite*, Header, RequestHeader (rewrite part)
  // TraceEnable (core, server config and <VirtualHost>): unset in a vhost = the
  // server's; unset at server level = On, Apache's default. On: the front end
  // answers TRACE itself with the request echoed (message/http); Off: 405.
  std::optional<bool> trace_enable;
  TlsSettings tls;  // mod_ssl (issue 13)
  // mod_remoteip (issue 13 point 5), server config and <VirtualHost>; unset in
  // a vhost = the server's. The proxy list is RemoteIPTrustedProxy and
  // RemoteIPInternalProxy lines in order (one list, as mod_remoteip keeps it).
  std::optional<std::string> remoteip_header;
  std::optional<std::string> remoteip_proxies_header;
  std::optional<std::vector<RemoteIPProxySpec>> remoteip_proxies;
  // RemoteIPProxyProtocol On/Off: per address:port of this vhost's addrs (the
  // server's: every Listen); the last line for an address wins.
  std::optional<bool> remoteip_proxy_protocol;
};

// WSGIImportScript: preload a script in a group's application group at start.
struct ImportScript {
  SourceLoc loc;
  std::string script;
  std::string process_group;
  std::string application_group;
};

struct Config {
  std::string file;  // the main file as given

  // Server directives.
  std::vector<ListenAddr> listen;
  std::optional<std::string> user;   // User (front end and default worker identity)
  std::optional<std::string> group;  // Group
  std::optional<std::string> pid_file;
  std::optional<std::string> server_root;
  std::string log_level = "warn";
  double timeout = 60;               // Timeout
  bool keep_alive = true;
  double keep_alive_timeout = 5;
  int64_t max_keep_alive_requests = 100;
  int64_t limit_request_line = 8190;
  int64_t limit_request_field_size = 8190;
  int64_t limit_request_fields = 100;
  int64_t limit_request_body = 1073741824;  // Apache 2.4.54+: 1 GiB; the server's value
                                            // (scopes may override it: ScopeSettings)
  double request_read_header_timeout = 20;  // RequestReadTimeout header=20-40,MinRate=500
  double request_read_body_timeout = 20;    // 0 (either): no such limit, Timeout's applies
  // What bounds a read of a head or a body: RequestReadTimeout's, or Timeout
  // where it was set to 0 (mod_reqtimeout: "a value of 0 disables" it).
  double header_timeout() const { return request_read_header_timeout > 0 ? request_read_header_timeout : timeout; }
  double body_timeout() const { return request_read_body_timeout > 0 ? request_read_body_timeout : timeout; }
  int threads_per_child = 25;               // the front end's embedded Python pool
  double drain_delay = 0;                   // WSGIDrainDelay (ours): seconds not-ready
                                            // but serving before a graceful stop drains
  int frontend_loops = 0;                   // WSGIFrontendLoops (ours): the front end's
                                            // event loops; 0 = auto (frontend_loop_count)
  SourceLoc frontend_loops_loc;             // where it was written (none: unset)

  // Server-wide WSGI directives.
  std::optional<std::string> socket_prefix;   // WSGISocketPrefix
  std::optional<std::string> control_socket;  // WSGIControlSocket (ours)
  bool restrict_embedded = false;             // WSGIRestrictEmbedded
  bool script_reloading = true;               // WSGIScriptReloading (server level)
  std::optional<std::string> python_home;     // WSGIPythonHome (embedded / default)
  std::vector<std::string> python_path;       // WSGIPythonPath

  // RemoteIPProxyProtocolExceptions: peers that need not send a PROXY header
  // (server-wide wherever written, as mod_remoteip keeps them).
  std::vector<std::string> proxy_protocol_exceptions;
  // WSGIUwsgiTrustedPeers (ours): the peers a `Listen ... uwsgi` socket accepts
  // (the uwsgi protocol has no authentication; its REMOTE_ADDR and scheme are
  // believed). Addresses or networks as Require ip takes them.
  std::vector<std::string> uwsgi_trusted_peers = {"127.0.0.0/8", "::1"};

  std::vector<GroupSpec> groups;
  std::vector<ImportScript> imports;
  VirtualHost server;
  std::vector<VirtualHost> vhosts;

  const GroupSpec* find_group(std::string_view name) const;
  // TraceEnable for requests to vh (nullptr or &server = the main server).
  bool traces(const VirtualHost* vh) const;
};

}  // namespace wsgid::model
