// The directive pass behind parse_config_*() (parser.h): one Parser walks the
// tree syntax.cc read, applies each directive in its Scope through the table of
// directives.h, and collects what the whole-config checks (checks.h) need. It
// owns the Config being built and the cross-directive state (the groups defined
// so far, the LogFormat nicknames, the Listen addresses seen, the process group
// names referred to); it writes every diagnostic to *diags, which must outlive
// it, as must options. One Parser per parse, used once: run() then take().
// Loop thread (or any single thread). Internal to config_lib.
//
// The handlers are split by subject: the driver, contexts and argument helpers
// in parser.cc, the mod_wsgi directives in wsgi_directives.cc, WSGIDaemonProcess
// in daemon_options.cc, the httpd server directives in server_directives.cc,
// mod_alias's redirects, mod_rewrite and mod_headers in rewrite_directives.cc,
// access control and authentication in access_directives.cc.
//
// ServerRoot: relative paths (scripts, logs, pid file, WSGIImportScript) resolve
// against root, which starts as ServerRoot's default (the main config file's
// directory) and changes with each ServerRoot directive for those after it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "supervisor/config/apache_directives.h"
#include "supervisor/config/model_names.h"
#include "supervisor/config/diagnostics.h"
#include "supervisor/config/directives.h"
#include "supervisor/config/parser.h"
#include "supervisor/config/syntax.h"
#include "supervisor/authz/policy.h"

namespace wsgid::config::detail {

// One key=value option (WSGIDaemonProcess, WSGIScriptAlias, WSGIImportScript).
struct KeyValue {
  std::string key, value;
  SourceLoc key_loc, value_loc;
  bool has_eq = false;
};

// The access control of one per-directory section while it is read: the
// authz builder that checks each line as Apache would, and the lines kept for
// the Config (BlockAccess). Lives on section()'s stack (access_directives.cc).
struct AccessScope {
  explicit AccessScope(std::string label) : builder(std::move(label)) {}
  authz::SectionBuilder builder;
  BlockAccess access;
};

// Apache's Listen protocol rule (server_directives.cc): arg "" (none given),
// "http" or "https"; nullopt for any other protocol.
std::optional<ListenProtocol> listen_protocol(std::string_view arg, int port);

// After every directive (ssl_directives.cc): merges the main server's mod_ssl
// settings into each vhost, decides which servers speak TLS from their Listen
// protocols and SSLEngine (setting TlsSettings::engine), and reports a TLS
// server on a plain Listen and the reverse, and a TLS server without certificate.
void check_tls(Config* config, Diagnostics* diags);

class Parser {
 public:
  Parser(const ParseOptions& options, Diagnostics* diags, std::string root)
      : options_(options), diags_(diags), root_(std::move(root)) {}

  // Applies every directive of tree (read from file), then the defaults and the
  // whole-config checks.
  void run(const std::vector<Directive>& tree, const std::string& file);

  // The Config built by run(); the Parser is spent afterwards.
  Config take() { return std::move(config_); }

  // --- helpers used by handlers and option setters -------------------------
  Diagnostics& diags() { return *diags_; }
  const ParseOptions& options() const { return options_; }

  // p against the current ServerRoot; absolute paths and pipes ("|cmd") as given.
  std::string resolve_path(const std::string& p) const;

  // Groups whose socket-timeout= / response-socket-timeout= was given; the
  // others get theirs from Timeout when the pass ends.

  // --- handlers (the Handler of directives.h) -------------------------------
  // mod_wsgi (wsgi_directives.cc, daemon_options.cc)
  void d_daemon_process(const Directive& d, Scope& s);
  void d_process_group(const Directive& d, Scope& s);
  void d_application_group(const Directive& d, Scope& s);
  void d_callable_object(const Directive& d, Scope& s);
  void d_pass_authorization(const Directive& d, Scope& s);
  void d_script_reloading(const Directive& d, Scope& s);
  void d_chunked_request(const Directive& d, Scope& s);
  void d_restrict_process(const Directive& d, Scope& s);
  void d_script_alias(const Directive& d, Scope& s);
  void d_import_script(const Directive& d, Scope& s);
  void d_restrict_embedded(const Directive& d, Scope& s);
  void d_socket_prefix(const Directive& d, Scope& s);
  void d_python_home(const Directive& d, Scope& s);
  void d_python_path(const Directive& d, Scope& s);
  void d_control_socket(const Directive& d, Scope& s);
  // Proxies: mod_wsgi's trusted proxy headers and mod_remoteip (proxy_directives.cc)
  void d_trusted_proxy_headers(const Directive& d, Scope& s);
  void d_trusted_proxies(const Directive& d, Scope& s);
  void d_remoteip_header(const Directive& d, Scope& s);  // and RemoteIPProxiesHeader
  void d_remoteip_proxy(const Directive& d, Scope& s);   // Trusted and Internal
  void d_remoteip_proxy_list(const Directive& d, Scope& s);
  void d_remoteip_proxy_protocol(const Directive& d, Scope& s);  // and ...Exceptions
  // httpd (server_directives.cc)
  void d_listen(const Directive& d, Scope& s);
  void d_server_name(const Directive& d, Scope& s);
  void d_server_alias(const Directive& d, Scope& s);
  void d_user(const Directive& d, Scope& s);
  void d_group(const Directive& d, Scope& s);
  void d_pid_file(const Directive& d, Scope& s);
  void d_server_root(const Directive& d, Scope& s);
  void d_error_log(const Directive& d, Scope& s);
  void d_custom_log(const Directive& d, Scope& s);
  void d_transfer_log(const Directive& d, Scope& s);
  void d_log_format(const Directive& d, Scope& s);
  // Compiles format (arg's text, or a nickname's format); false after an error.
  bool check_log_format(const Arg& arg, const std::string& format);
  void d_log_level(const Directive& d, Scope& s);
  void d_timeout(const Directive& d, Scope& s);
  void d_drain_delay(const Directive& d, Scope& s);
  void d_frontend_loops(const Directive& d, Scope& s);
  void d_uwsgi_trusted_peers(const Directive& d, Scope& s);
  void d_keep_alive(const Directive& d, Scope& s);
  void d_trace_enable(const Directive& d, Scope& s);
  void d_keep_alive_timeout(const Directive& d, Scope& s);
  void d_max_keep_alive_requests(const Directive& d, Scope& s);
  void d_limit(const Directive& d, Scope& s);
  void d_request_read_timeout(const Directive& d, Scope& s);
  void d_threads_per_child(const Directive& d, Scope& s);
  void d_alias(const Directive& d, Scope& s);
  // handlers: SetHandler, AddHandler, Options, DocumentRoot, DirectoryIndex
  // (handler_directives.cc)
  void d_set_handler(const Directive& d, Scope& s);
  void d_add_handler(const Directive& d, Scope& s);
  void d_options(const Directive& d, Scope& s);
  void d_document_root(const Directive& d, Scope& s);
  void d_directory_index(const Directive& d, Scope& s);
  void d_directory_slash(const Directive& d, Scope& s);
  void d_file_etag(const Directive& d, Scope& s);
  void d_max_ranges(const Directive& d, Scope& s);
  // mod_alias's Redirect*, mod_rewrite, mod_headers (rewrite_directives.cc)
  void d_redirect(const Directive& d, Scope& s);
  void d_rewrite(const Directive& d, Scope& s);
  void d_header(const Directive& d, Scope& s);
  // Access control and authentication (access_directives.cc).
  void d_access(const Directive& d, Scope& s);
  void d_auth_basic_provider(const Directive& d, Scope& s);
  void d_auth_file(const Directive& d, Scope& s);
  // WSGIAuthUserScript, WSGIAuthGroupScript, WSGIAccessScript PATH [application-group=G].
  void d_auth_script(const Directive& d, Scope& s);
  // <RequireAll>, <RequireAny>, <RequireNone>, <Limit>, <LimitExcept>.
  void access_section(const Directive& d, Scope& s);
  // The end of a per-directory section d whose body was walked with a: checks
  // the section as a whole and returns what the Block keeps.
  BlockAccess end_access(const Directive& d, AccessScope* a);
  // mod_ssl's directives (ssl_directives.cc).
  void d_ssl(const Directive& d, Scope& s);
  // Whether info is one of the directives above (refused inside a skipped section).
  static bool access_directive(const DirectiveInfo& info);

 private:
  // The driver (parser.cc).
  void walk(const std::vector<Directive>& list, Scope& scope);
  void section(const Directive& d, Scope& scope);
  void directive(const Directive& d, Scope& scope);
  void finish();

  // Argument helpers (parser.cc). Each reports its own error and returns
  // false / nullopt when the directive or argument is not valid.
  bool check_context(const Directive& d, const char* name, unsigned allowed, const Scope& s);
  // The argument texts of d (for the Apache tables).
  static std::vector<std::string> arg_texts(const Directive& d);
  // Writes an Apache directive's or section's verdict as a diagnostic.
  void report(SourceLoc loc, const ApacheVerdict& v);
  // Errors for the refused directives in list, a skipped section's contents.
  void refuse_inside(const std::vector<Directive>& list, const std::string& section);
  bool nargs(const Directive& d, const char* name, size_t min, size_t max);
  std::optional<bool> on_off(const Directive& d, const char* name, const Arg& a);
  std::optional<int64_t> int_arg(const Directive& d, const char* name, const Arg& a,
                                 int64_t min, int64_t max, const char* expected);
  // key=value arguments from d.args[start..] (never fails; has_eq tells).
  std::vector<KeyValue> key_values(const Directive& d, size_t start);

  // Warns and returns false outside server level (server_directives.cc).
  bool server_level_only_value(const Directive& d, const char* name, const Scope& s);
  // Process and application group values (wsgi_directives.cc).
  void check_group_name_ref(const std::string& value, const SourceLoc& at, const char* what);
  void check_app_group(const std::string& value, const SourceLoc& at);

  const ParseOptions& options_;
  Diagnostics* diags_;
  std::string root_;
  Config config_;
  std::map<std::string, SourceLoc> group_defs_;
  std::map<std::string, std::string> log_formats_ = {
      {"combined", "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\""},
      {"common", "%h %l %u %t \"%r\" %>s %O"},
      {"vhost_combined", "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\""},
      {"referer", "%{Referer}i -> %U"},
      {"agent", "%{User-Agent}i"}};
  std::vector<std::pair<std::string, SourceLoc>> group_refs_;  // WSGIProcessGroup values
  std::map<std::string, SourceLoc> listen_seen_;
  // mod_rewrite's rule sets per context, read to the end before their refusals
  // can be told (rewrite_directives.cc).
  struct RewriteState;
  std::shared_ptr<RewriteState> rewrite_;
  void finish_rewrites();
  // WSGITrustedProxyHeaders lines and whether any WSGITrustedProxies was given:
  // without one, every peer is trusted, which finish_proxies() warns about.
  std::vector<SourceLoc> trusted_header_lines_;
  bool trusted_proxies_seen_ = false;
  bool uwsgi_peers_seen_ = false;  // WSGIUwsgiTrustedPeers replaced the default
  void finish_proxies();
};

}  // namespace wsgid::config::detail
