// Router: (local address, Host, URL path) -> what serves the request, as Apache +
// mod_wsgi would decide it.
//
// Built once per kSettings from the front end's Settings (settings.h) and then
// read-only; connections hold it through a shared_ptr so a reload never pulls it
// from under a request in flight. Loop thread only (no locks; not thread-safe).
//
// The decision, in Apache's order:
//  1. Virtual host: among <VirtualHost>s whose address names the connection's
//     local IP and port exactly, else those naming *:port, the first whose
//     ServerName or ServerAlias (wildcards * ?, case-insensitive) matches the Host
//     header (port stripped); else the first of them (the default vhost for that
//     address); no vhost for the address -> the main server.
//  2. Alias / AliasMatch win over script aliases (mod_alias runs before
//     mod_wsgi's translate hook); first match in config order, vhost first. The
//     mapped path goes through the handler step below.
//  3. WSGIScriptAlias / WSGIScriptAliasMatch: the longest match wins (ties: config
//     order, vhost before server). URL prefixes match segment-wise as mod_alias's
//     alias_matches() does. SCRIPT_NAME is the matched prefix ("" for "/") and
//     PATH_INFO the rest; a directory target takes the next segment as the script
//     file; for ...Match, $N are substituted and the script file is the first
//     existing regular file along the resulting path (Apache's directory walk).
//     No script alias matches: DocumentRoot (the vhost's, else the server's) maps
//     the whole URL, like an Alias / of lowest priority, through the handler step.
//  Handler step (handler_map.h): Apache's directory walk finds the file; when
//     its handler is wsgi-script (SetHandler / AddHandler) it runs as a WSGI
//     script (403 without Options ExecCGI), SCRIPT_NAME the URL of the file and
//     PATH_INFO the rest, as mod_wsgi sets them; otherwise it is a static file
//     (404 when a path follows the file). Such a file is never sent as bytes. A
//     directory URL without its trailing slash gets mod_dir's 301 to it; with it,
//     the first DirectoryIndex file (default index.html) is mapped the same way,
//     and without one the answer is 403: wsgid never lists directories.
//  Before 2: a <Location> whose SetHandler names one of the front end's pages
//     (server-status, wsgid-metrics, wsgid-ready; issue 14) answers its URLs
//     itself, whatever aliases map them: Apache's SetHandler in a <Location>
//     overrides the handler any mapping chose.
//  4. Settings: model::Resolver (model/resolve.h, shared with
//     `wsgid --check`) merges server < vhost < <Directory> < <Location> < the
//     alias's own options; expand_application_group() expands %{GLOBAL},
//     %{RESOURCE} ("ServerName[:port]|SCRIPT_NAME", port only when not 80/443),
//     %{SERVER}, %{HOST}, %{ENV:VAR}. Process group unset / %{GLOBAL} / "" =
//     embedded.
//
// The URL path given to route() is already decoded and normalized (normalize_path).
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "model/resolve.h"
#include "supervisor/frontend/access_check.h"
#include "supervisor/frontend/rewrite_step.h"
#include "supervisor/frontend/settings.h"

namespace wsgid::frontend {

struct Route {
  // kForbidden: 403 (error says why, for the log); kRedirect: 301 to location
  // (the caller appends the query string).
  // kPage: one of the front end's own pages (pages.h), named by page.
  enum class Kind { kNotFound, kWsgi, kStatic, kError, kForbidden, kRedirect, kPage };
  Kind kind = Kind::kNotFound;
  int group = -1;         // index in Settings::groups; -1 = embedded (kWsgi)
  std::string group_name; // "" = embedded
  std::string script_filename;
  std::string script_name;
  std::string path_info;
  std::string application_group;
  std::string callable_object;
  bool pass_authorization = false;
  bool script_reloading = true;
  // WSGITrustedProxyHeaders / WSGITrustedProxies in force (model/resolve.h), or
  // nullptr; into the Router's settings.
  const std::vector<std::string>* trusted_proxy_headers = nullptr;
  const std::vector<std::string>* trusted_proxies = nullptr;
  std::string static_path;  // kStatic: the file
  // The filesystem path an Alias or DocumentRoot mapped the URL to (Apache's
  // r->filename), also when it is missing or a directory (then with a trailing
  // '/'), so that its <Directory> and <Files> sections apply before any 404,
  // 403 or 301 of the handler step, as in Apache; "" when nothing mapped it.
  std::string mapped_file;
  int etag_bits = model::kETagDefault;  // kStatic: FileETag's components (handler_map.h)
  int max_ranges = model::kMaxRangesDefault;  // kStatic: MaxRanges (byte_ranges.h)
  std::string error;        // kError: why (a 500), kNotFound/kForbidden: why, for the log
  std::string location;     // kRedirect: the URL path to redirect to
  std::string page;         // kPage: "server-status", "wsgid-metrics" or "wsgid-ready"
  const model::VirtualHost* vhost = nullptr;
};

// The request facts the router needs. host is the Host header as received
// (may hold a port); local_port is the port the connection arrived on.
struct RouteRequest {
  std::string_view host;
  std::string_view path;  // decoded, normalized URL path
  int local_port = 0;
};

// Decodes %XX and removes dot segments and repeated slashes from a URL path, as
// Apache does before mapping it. Returns 0 and sets *out, or an HTTP status:
// 400 (bad escape, ".." above the root, not starting with '/'),
// 404 (an encoded '/' or NUL: AllowEncodedSlashes Off).
int normalize_path(std::string_view raw, std::string* out);

// mod_alias's alias_matches(): the number of URI characters the alias matched
// (repeated slashes count), 0 when it does not match.
size_t alias_matches(std::string_view uri, std::string_view alias);

class Router {
 public:
  explicit Router(const Settings& settings);
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // The vhosts that may serve a connection to local_ip:local_port, in config
  // order; empty = the main server. Compute once per connection.
  std::vector<const model::VirtualHost*> vhosts_for(std::string_view local_ip,
                                                     int local_port) const;
  // Step 1's name match within candidates; the main server when empty.
  const model::VirtualHost* select_vhost(const std::vector<const model::VirtualHost*>& cands,
                                          std::string_view host) const;
  // Steps 2-4. Reuses *out's string capacity.
  void route(const model::VirtualHost* vhost, const RouteRequest& req, Route* out) const;

  const Settings& settings() const { return settings_; }
  // Redirects, rewrites and header rules of these settings (rewrite_step.h).
  const RewriteStep& rewrites() const { return rewrites_; }
  int group_index(std::string_view name) const;
  // The access control of a routed request for path (access_check.h): the
  // sections matching its file (script or static file) and URL, merged.
  const AccessChain& access(const Route& r, std::string_view path) const;
  // The Header/RequestHeader rules of a routed request for path: the vhost's,
  // then those of the same sections access() merges (RewriteStep::section_headers).
  const rewrite::HeaderRules* header_rules(const Route& r, std::string_view path,
                                           rewrite::HeaderRules* scratch) const;
  // The Redirect* of the sections of a routed request that passed the access
  // phase (RewriteStep::fixup), for the request view req of the same request.
  std::optional<RewriteAnswer> section_redirect(const Route& r, std::string_view path,
                                                const rewrite::RequestView& req) const;
  // LimitRequestBody and WSGIChunkedRequest of a routed request for path
  // (model::Resolver::body_rules over the same sections as access()).
  model::BodyRules body_rules(const Route& r, std::string_view path) const;

 private:
  struct CompiledMount {
    const model::Mount* mount;
    const model::VirtualHost* owner;
    std::regex re;
    bool is_dir = false;
  };
  struct CompiledAlias {
    const model::StaticAlias* alias;
    std::regex re;
  };
  struct VhostTables {
    std::vector<CompiledMount> mounts;       // vhost's then server's
    std::vector<CompiledAlias> aliases;      // vhost's then server's
  };
  VhostTables build_tables(const model::VirtualHost* vh);
  const VhostTables& tables_for(const model::VirtualHost* vh) const;

  // The steps of route(), in order; see router.cc.
  using PathMatch = std::match_results<std::string_view::const_iterator>;
  void reset(const model::VirtualHost* vh, Route* r) const;
  static bool match_static_alias(const VhostTables& t, std::string_view path, Route* r);
  int vhost_index(const model::VirtualHost* vh) const;
  static const CompiledMount* longest_mount(const VhostTables& t, std::string_view path,
                                            size_t* len, PathMatch* m);
  static bool map_script(const CompiledMount& cm, std::string_view path, size_t len,
                         const PathMatch& m, Route* r);
  static bool map_match_script(const model::Mount& mount, std::string_view path, size_t len,
                               const PathMatch& m, Route* r);
  static bool map_directory_script(const model::Mount& mount, std::string_view path,
                                   std::string_view rest, Route* r);
  void map_file(const model::VirtualHost* vh, const RouteRequest& req, std::string_view path,
                std::string_view file, int depth, Route* r) const;
  void expand_names(const model::VirtualHost* vh, const RouteRequest& req,
                    const model::Route& cr, Route* r) const;
  void choose_group(const model::Route& cr, Route* r) const;

  Settings settings_;
  // The <Location>s that set a page handler: route() walks the scopes for a
  // page only when the path starts with one of their paths (or one is a
  // <LocationMatch>), so other requests pay one prefix compare per page.
  bool page_regex_ = false;
  std::vector<std::string> page_prefixes_;
  model::Resolver resolver_;  // points into settings_.config
  AccessPolicies access_;     // points into settings_.config and resolver_
  std::vector<VhostTables> tables_;  // [0] = server, [i+1] = vhosts[i]
  std::string hostname_;             // gethostname(), when ServerName is unset
  RewriteStep rewrites_{settings_.config};
};

}  // namespace wsgid::frontend
