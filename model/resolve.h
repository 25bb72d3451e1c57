// Per-request resolution: which process group, application group and callable a
// request for one script alias gets, mod_wsgi's SCRIPT_NAME/PATH_INFO split, and
// the %{...} expansions of WSGIApplicationGroup / WSGIProcessGroup.
//
// The front end's router calls these for every request (after it picked the
// virtual host and the Mount), the parser calls them for its whole-config checks
// and `--check --json` for each mount. Settings merge as Apache and mod_wsgi merge
// them, each later layer overriding what it sets:
//   server config < <VirtualHost> < <Directory>/<DirectoryMatch>/<Files> matching
//   the script file (Apache's order: <Directory> by depth, then the regex forms in
//   config order, then <Files>) < <Location>/<LocationMatch> matching the URL, in
//   config order, server-level blocks before the vhost's (so a later block for the
//   same path wins) < the alias's own options (process-group= ...).
// A Resolver holds the compiled regular expressions of one Config; it keeps a
// pointer to that Config, which must outlive it. All methods are const and
// allocation-light: safe to call from any thread once constructed. Free functions
// are pure.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "model/config.h"

namespace wsgid::model {

// What one request runs with. Templates are not expanded: call
// expand_application_group() with the request's values for application_group,
// and for a process_group holding "%{" (then "" after expansion = embedded).
struct Route {
  // nullopt = embedded (WSGIProcessGroup unset, %{GLOBAL} or ""); else a group
  // name or a template such as "%{ENV:GROUP}".
  std::optional<std::string> process_group;
  std::string application_group = "%{RESOURCE}";  // mod_wsgi's default
  std::string callable_object = "application";
  bool pass_authorization = false;
  bool script_reloading = true;
  // WSGIRestrictProcess in force, or nullptr. Points into the Config.
  const std::vector<std::string>* restrict_process = nullptr;
  // WSGITrustedProxyHeaders / WSGITrustedProxies in force, or nullptr (none
  // given: no headers are trusted; no proxies listed: every peer is trusted).
  // Point into the Config.
  const std::vector<std::string>* trusted_proxy_headers = nullptr;
  const std::vector<std::string>* trusted_proxies = nullptr;
};

// How the front end reads a request's body (issue 12), merged like Route.
struct BodyRules {
  int64_t limit_request_body = 0;  // LimitRequestBody in force, bytes; 0 = unlimited
  bool chunked_request = false;    // WSGIChunkedRequest (mod_wsgi's default: Off)
};

// mod_wsgi's split of a request URL for one alias.
struct ScriptSplit {
  std::string script_name;  // SCRIPT_NAME: the matched URL prefix ("" for an alias of "/")
  std::string path_info;    // PATH_INFO: the rest of the URL
  std::string script_file;  // SCRIPT_FILENAME: the script ($N substituted; for a
                            // directory target the file named by the next segment)
};

class Resolver {
 public:
  // Compiles every regex of config (LocationMatch, DirectoryMatch, FilesMatch,
  // WSGIScriptAliasMatch). A regex that does not compile never matches (the
  // parser has already reported it). config must outlive the Resolver.
  explicit Resolver(const Config& config);

  // The effective settings for a request to url_path (decoded, normalized) served
  // by mount, whose script file is script_file (ScriptSplit::script_file).
  // vhost = index into Config::vhosts, -1 for the main server; mount may belong to
  // that vhost or to the main server.
  Route resolve(int vhost, const Mount& mount, std::string_view url_path,
                std::string_view script_file) const;

  // The <Directory>, <DirectoryMatch>, <Files>/<FilesMatch>, <Location>/
  // <LocationMatch> sections that apply to a request for url_path mapped to
  // file (a script or a static file; "" = no file: Location sections only), in
  // the merge order above (a later one overrides an earlier one). Used for the
  // WSGI settings (resolve()) and for access control. Pointers into the Config.
  std::vector<const Block*> sections(int vhost, std::string_view url_path,
                                     std::string_view file) const;

  // The same merge without a script alias (a file reached through Alias or
  // DocumentRoot whose handler is wsgi-script): no alias options apply.
  Route resolve_file(int vhost, std::string_view url_path, std::string_view script_file) const;

  // The handler settings (SetHandler, AddHandler, Options ExecCGI,
  // DirectoryIndex) in force for file reached at url_path, merged over the same
  // scopes in the same order: SetHandler, ExecCGI and DirectoryIndex of a later
  // scope override, AddHandler extensions add up (mod_mime merges them). For a
  // directory, pass it with a trailing '/' so its own <Directory> applies.
  HandlerSettings handlers(int vhost, std::string_view url_path, std::string_view file) const;

  // LimitRequestBody and WSGIChunkedRequest for a request to url_path mapped to
  // file ("" = no file), merged over the same scopes in the same order; the
  // limit starts from Config::limit_request_body.
  BodyRules body_rules(int vhost, std::string_view url_path, std::string_view file) const;

  // Whether mount serves url_path and how the URL splits; nullopt when it does
  // not match. A prefix alias matches as Apache's Alias does (at a path-segment
  // boundary, runs of '/' in the URL match one '/' of the alias); a
  // WSGIScriptAliasMatch matches its regex against the URL, SCRIPT_NAME is the
  // URL up to the end of the match and PATH_INFO the rest, $0..$9 in the target
  // are substituted. A target ending in '/' is a directory: the next URL segment
  // names the script file and joins SCRIPT_NAME.
  std::optional<ScriptSplit> split(const Mount& mount, std::string_view url_path) const;

  const Config& config() const { return *config_; }

 private:
  bool block_matches(const Block& b, std::string_view subject) const;
  // Calls visit with each scope that applies to file at url_path, in merge order.
  void walk_scopes(int vhost, std::string_view url_path, std::string_view file,
                   const std::function<void(const ScopeSettings&)>& visit) const;
  const std::regex* regex_for(const void* key) const;

  const Config* config_;
  std::map<const void*, std::regex> regexes_;
};

// Apache's alias_matches(): the length of uri that alias matches, 0 if none.
size_t alias_match_length(std::string_view alias, std::string_view uri);
// Apache's <Location> test for a non-regex path: a prefix match at a segment
// boundary, or an fnmatch(FNM_PATHNAME) of the whole URL when the path holds
// wildcards (* ? [).
bool location_matches(std::string_view location, std::string_view url_path);
// Apache's <Directory> test for a non-regex path: script_file lies in dir (or
// in a directory matching dir's wildcards).
bool directory_matches(std::string_view dir, std::string_view script_file);

// The values %{...} expansions read, from the request.
struct ExpandContext {
  std::string_view server_name;  // the vhost's ServerName
  int port = 80;                 // the request's server port
  std::string_view host;         // Host header without port; "" when absent
  std::string_view script_name;  // SCRIPT_NAME
  // Request notes, then environment (SetEnv), then getenv; nullopt = unset.
  std::function<std::optional<std::string>(std::string_view name)> env;
};

// mod_wsgi's expansion of an application (or process) group value; only the
// whole value is special, as in mod_wsgi:
//   %{GLOBAL}   -> "" (the main interpreter)
//   %{RESOURCE} -> "host[:port]|SCRIPT_NAME" (host = ServerName; ":port" only
//                  when port is not 80 or 443)
//   %{SERVER}   -> "host[:port]"
//   %{HOST}     -> Host header (else ServerName) + "[:port]"
//   %{ENV:VAR}  -> the variable's value ("" when unset); a value that itself
//                  starts with '%' (but not "%{ENV:") is expanded once more
//   anything else is a literal name.
std::string expand_application_group(std::string_view tmpl, const ExpandContext& ctx);

// True when template is a whole-value expansion mod_wsgi knows (the five above).
bool is_known_expansion(std::string_view tmpl);

}  // namespace wsgid::model
