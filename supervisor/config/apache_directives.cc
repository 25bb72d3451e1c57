// The fail-closed tables of apache_directives.h. Each row says what Apache does
// with the directive (the module docs at https://httpd.apache.org/docs/2.4/mod/)
// and why wsgid may skip it, or why it must refuse it.
#include "supervisor/config/apache_directives.h"

#include "supervisor/config/values.h"

namespace wsgid::config::detail {

namespace {

enum class Kind { kWarn, kRefuse, kArgs };

// Decides a kArgs row from the arguments; returns the verdict.
using Checker = ApacheVerdict (*)(std::string_view name, const std::vector<std::string>& args);

struct Row {
  const char* name;
  Kind kind;
  // kRefuse: what Apache would do ("restrict ... to ..."); kWarn: why no client
  // sees a difference; kArgs: the README's one-line summary.
  const char* text;
  Checker check = nullptr;
};

const char kNote[] =
    "wsgid refuses what it cannot enforce; the README's table of Apache directives says "
    "what is implemented, refused and warned";

ApacheVerdict refuse(std::string_view name, std::string_view apache,
                     std::vector<std::string> notes = {}) {
  ApacheVerdict v;
  v.fate = Fate::kRefuse;
  v.message = std::string(name) + " is refused: Apache would " + std::string(apache) +
              ", and wsgid does not implement it (fail closed: ignoring it could serve this "
              "site more openly than Apache did)";
  v.notes = std::move(notes);
  v.notes.push_back(kNote);
  return v;
}

ApacheVerdict warn(std::string_view name, std::string_view why) {
  ApacheVerdict v;
  v.fate = Fate::kWarn;
  v.message = std::string(name) + " is an Apache directive wsgid does not implement; ignored (" +
              std::string(why) + ")";
  return v;
}

ApacheVerdict quiet() {
  ApacheVerdict v;
  v.fate = Fate::kQuiet;
  return v;
}

std::string first_arg(const std::vector<std::string>& args) {
  return args.empty() ? std::string() : lower(args[0]);
}

// SSLStrictSNIVHostCheck on: clients without SNI are refused.
ApacheVerdict check_strict_sni(std::string_view name, const std::vector<std::string>& args) {
  if (first_arg(args) == "off") return quiet();
  return refuse(name, "refuse clients that send no SNI name (SSLStrictSNIVHostCheck on)",
                {"write 'SSLStrictSNIVHostCheck off' (wsgid gives such clients the address's "
                 "first virtual host, as Apache does with Off)"});
}

// AllowOverride None: wsgid never reads .htaccess files, which is what None asks.
ApacheVerdict check_allow_override(std::string_view name, const std::vector<std::string>& args) {
  if (args.size() == 1 && lower(args[0]) == "none") return quiet();
  return refuse(name, "apply the directives of .htaccess files in this directory tree (" +
                          std::string(name) + (args.empty() ? "" : " " + args[0]) +
                          "), which may restrict access; wsgid never reads .htaccess files",
                {"move the rules of the .htaccess files into <Directory> sections and write '" +
                 std::string(name) + " None'"});
}

// XSendFile On / Dav On: something other than the application answers.
ApacheVerdict check_on_off(std::string_view name, const std::vector<std::string>& args) {
  std::string a = first_arg(args);
  if (a == "off") return quiet();
  if (iequals(name, "Dav"))
    return refuse(name, "answer WebDAV methods (PUT, DELETE, PROPFIND ...) on this path itself");
  return refuse(name, "send the file named by the application's X-Sendfile header instead of "
                      "its body");
}

}  // namespace

// Options: wsgid never lists directories, runs no CGI or SSI, negotiates no
// content, and follows symbolic links when it serves a static file.
ApacheVerdict options_verdict(std::string_view name, const std::vector<std::string>& args) {
  bool follow_off = false, multiviews = false, indexes = false, any_plain = false;
  for (const std::string& raw : args) {
    std::string a = lower(raw);
    char sign = 0;
    if (!a.empty() && (a[0] == '+' || a[0] == '-')) {
      sign = a[0];
      a.erase(0, 1);
    } else {
      any_plain = true;
    }
    if (a == "none" || a == "symlinksifownermatch") follow_off = true;
    if (a == "followsymlinks" && sign == '-') follow_off = true;
    if (a == "multiviews" && sign != '-') multiviews = true;
    if ((a == "indexes" || a == "all") && sign != '-') indexes = true;
  }
  // A list of plain options replaces the inherited ones: FollowSymLinks stays
  // only if it is in the list (All includes it).
  if (any_plain && !follow_off) {
    bool has_follow = false;
    for (const std::string& raw : args) {
      std::string a = lower(raw);
      if (a == "followsymlinks" || a == "+followsymlinks" || a == "all") has_follow = true;
    }
    if (!has_follow) follow_off = true;
  }
  if (multiviews)
    return refuse(name, "negotiate content (Options MultiViews: /page may answer with page.html)",
                  {"remove MultiViews; wsgid serves files by their exact names"});
  if (follow_off)
    return refuse(name, "refuse to follow symbolic links in this directory when it serves a file "
                        "(Options without FollowSymLinks), and wsgid's static files follow them",
                  {"write 'Options FollowSymLinks' (with the other options you need) if links "
                   "may be followed"});
  if (indexes)
    return warn(name, "wsgid never lists directories: a directory without an index file "
                      "answers 403");
  return quiet();
}

namespace {

// The Apache directives wsgid does not implement, by module.
const Row kRows[] = {
    // mod_authz_core, mod_authz_host, mod_authz_user, mod_authz_groupfile,
    // mod_access_compat, mod_auth_basic, mod_authn_file: implemented
    // (access_directives.cc), but for the rows below.
    {"CGIPassAuth", Kind::kWarn, "wsgid runs no CGI scripts"},
    // Handlers and mappings (core, mod_mime, mod_actions, mod_alias, mod_dir).
    {"RemoveHandler", Kind::kRefuse, "stop answering files with these extensions with the "
                                      "handler AddHandler gave them (a wsgi-script file would "
                                      "be sent as its source)"},
    {"Action", Kind::kRefuse, "answer these requests with the named CGI script"},
    {"ScriptAlias", Kind::kRefuse, "run the files under this URL as CGI scripts"},
    {"ScriptAliasMatch", Kind::kRefuse, "run the files under these URLs as CGI scripts"},
    {"FallbackResource", Kind::kRefuse, "answer URLs that map to no file with this resource"},
    {"ErrorDocument", Kind::kWarn, "wsgid answers errors with Apache's default pages"},
    {"AllowOverride", Kind::kArgs, "None accepted (wsgid reads no .htaccess); anything else "
                                   "refused", check_allow_override},
    {"AllowOverrideList", Kind::kArgs, "None accepted; anything else refused",
     check_allow_override},
    {"XSendFile", Kind::kArgs, "Off accepted; On refused", check_on_off},
    {"XSendFilePath", Kind::kWarn, "it only matters with XSendFile On, which wsgid refuses"},
    {"Dav", Kind::kArgs, "Off accepted; anything else refused", check_on_off},
    // mod_proxy.
    {"ProxyPass", Kind::kRefuse, "forward this path to another server"},
    {"ProxyPassMatch", Kind::kRefuse, "forward the paths this pattern matches to another server"},
    // TLS (mod_ssl).
    // (implemented: ssl_directives.cc; these change who is let in)
    {"SSLRequire", Kind::kRefuse, "deny requests to this path that fail this expression"},
    {"SSLUserName", Kind::kRefuse, "take the user name (REMOTE_USER) from a certificate field"},
    {"SSLCARevocationFile", Kind::kRefuse, "refuse client certificates this CRL revokes"},
    {"SSLCARevocationPath", Kind::kRefuse, "refuse client certificates these CRLs revoke"},
    {"SSLCARevocationCheck", Kind::kRefuse, "refuse revoked client certificates"},
    {"SSLOCSPEnable", Kind::kRefuse, "refuse client certificates their OCSP responder revokes"},
    {"SSLStrictSNIVHostCheck", Kind::kArgs, "Off accepted; On refused", check_strict_sni},
    {"SSLSRPVerifierFile", Kind::kRefuse, "let clients in by TLS-SRP passwords"},
    {"SSLPolicy", Kind::kRefuse, "apply a named set of TLS settings"},
    // Server and vhost settings that change nothing a client can reach.
    {"ServerAdmin", Kind::kWarn, "wsgid's error pages name no administrator"},
    {"ServerSignature", Kind::kWarn, "wsgid's error pages carry no signature"},
    {"ServerTokens", Kind::kWarn, "wsgid sends no Server header"},
    {"ServerPath", Kind::kWarn, "wsgid has no support for HTTP/1.0 clients without Host"},
    {"UseCanonicalName", Kind::kWarn, "SERVER_NAME is the Host header's name, as with Off"},
    {"UseCanonicalPhysicalPort", Kind::kWarn, "SERVER_PORT is the port of the connection"},
    {"HostnameLookups", Kind::kWarn, "wsgid logs addresses, never host names"},
    {"AccessFileName", Kind::kWarn, "wsgid never reads .htaccess files"},
    {"AcceptFilter", Kind::kWarn, "a socket tuning"},
    {"AcceptPathInfo", Kind::kWarn, "it applies to static files and CGI only"},
    {"AllowEncodedSlashes", Kind::kWarn, "wsgid passes encoded slashes to the application"},
    {"EnableMMAP", Kind::kWarn, "a file-serving tuning"},
    {"EnableSendfile", Kind::kWarn, "a file-serving tuning"},
    {"Protocols", Kind::kWarn, "wsgid speaks HTTP/1.1"},
    {"KeepAliveRequests", Kind::kWarn, "use MaxKeepAliveRequests"},
    {"LimitXMLRequestBody", Kind::kWarn, "it applies to mod_dav's XML bodies only"},
    {"ErrorLogFormat", Kind::kWarn, "wsgid writes its own error-log line format"},
    {"NameVirtualHost", Kind::kWarn, "it has had no effect since Apache 2.3.11"},
    {"Mutex", Kind::kWarn, "wsgid has no Apache mutexes"},
    {"PassEnv", Kind::kWarn, "wsgid does not pass its environment to applications"},
    {"SetEnv", Kind::kWarn, "wsgid does not put SetEnv variables into the WSGI environ yet"},
    {"UnsetEnv", Kind::kWarn, "wsgid does not put SetEnv variables into the WSGI environ yet"},
    {"SetEnvIf", Kind::kWarn, "the access rules that could read its variables are refused"},
    {"SetEnvIfNoCase", Kind::kWarn, "the access rules that could read its variables are refused"},
    {"SetEnvIfExpr", Kind::kWarn, "the access rules that could read its variables are refused"},
    {"BrowserMatch", Kind::kWarn, "the access rules that could read its variables are refused"},
    {"BrowserMatchNoCase", Kind::kWarn,
     "the access rules that could read its variables are refused"},
    // Content types, charsets, encodings, languages, filters (mod_mime & co).
    {"AddType", Kind::kWarn, "wsgid picks static files' types by its own table"},
    {"RemoveType", Kind::kWarn, "wsgid picks static files' types by its own table"},
    {"TypesConfig", Kind::kWarn, "wsgid picks static files' types by its own table"},
    {"DefaultType", Kind::kWarn, "it has had no effect since Apache 2.3"},
    {"ForceType", Kind::kWarn, "wsgid picks static files' types by its own table"},
    {"AddCharset", Kind::kWarn, "a Content-Type parameter of static files"},
    {"AddDefaultCharset", Kind::kWarn, "a Content-Type parameter of static files"},
    {"AddEncoding", Kind::kWarn, "a Content-Encoding header of static files"},
    {"AddLanguage", Kind::kWarn, "a Content-Language header of static files"},
    {"DefaultLanguage", Kind::kWarn, "a Content-Language header of static files"},
    {"LanguagePriority", Kind::kWarn, "content negotiation is not done (MultiViews is refused)"},
    {"ForceLanguagePriority", Kind::kWarn,
     "content negotiation is not done (MultiViews is refused)"},
    {"MimeMagicFile", Kind::kWarn, "wsgid picks static files' types by its own table"},
    {"AddInputFilter", Kind::kWarn, "wsgid has no Apache filters"},
    {"AddOutputFilter", Kind::kWarn, "wsgid has no Apache filters"},
    {"AddOutputFilterByType", Kind::kWarn, "wsgid has no Apache filters"},
    {"SetInputFilter", Kind::kWarn, "wsgid has no Apache filters"},
    {"SetOutputFilter", Kind::kWarn, "wsgid has no Apache filters"},
    // mod_autoindex: wsgid never lists directories.
    {"AddDescription", Kind::kWarn, "wsgid never lists directories"},
    {"AddIcon", Kind::kWarn, "wsgid never lists directories"},
    {"AddIconByEncoding", Kind::kWarn, "wsgid never lists directories"},
    {"AddIconByType", Kind::kWarn, "wsgid never lists directories"},
    {"DefaultIcon", Kind::kWarn, "wsgid never lists directories"},
    {"HeaderName", Kind::kWarn, "wsgid never lists directories"},
    {"ReadmeName", Kind::kWarn, "wsgid never lists directories"},
    {"IndexIgnore", Kind::kWarn, "wsgid never lists directories"},
    {"IndexOptions", Kind::kWarn, "wsgid never lists directories"},
    {"IndexOrderDefault", Kind::kWarn, "wsgid never lists directories"},
    // Apache's process model: wsgid has its own.
    {"LoadModule", Kind::kWarn, "wsgid has no modules to load"},
    {"LoadFile", Kind::kWarn, "wsgid has no modules to load"},
    {"ListenBacklog", Kind::kWarn, "the front end's listen backlog is the system's maximum"},
    {"GracefulShutdownTimeout", Kind::kWarn, "use graceful-timeout= on WSGIDaemonProcess"},
    {"StartServers", Kind::kWarn, "the front end is one process"},
    {"ServerLimit", Kind::kWarn, "the front end is one process"},
    {"ThreadLimit", Kind::kWarn, "the front end is one process"},
    {"ThreadStackSize", Kind::kWarn, "use stack-size= on WSGIDaemonProcess"},
    {"MaxClients", Kind::kWarn, "the front end has no connection-count limit of Apache's kind"},
    {"MaxRequestWorkers", Kind::kWarn,
     "the front end has no connection-count limit of Apache's kind"},
    {"MaxConnectionsPerChild", Kind::kWarn, "use maximum-requests= on WSGIDaemonProcess"},
    {"MaxRequestsPerChild", Kind::kWarn, "use maximum-requests= on WSGIDaemonProcess"},
    {"MaxSpareServers", Kind::kWarn, "the front end is one process"},
    {"MinSpareServers", Kind::kWarn, "the front end is one process"},
    {"MaxSpareThreads", Kind::kWarn, "the front end is one process"},
    {"MinSpareThreads", Kind::kWarn, "the front end is one process"},
};

// Families of Apache directives, by name prefix, when no row names them.
const Row kPrefixes[] = {
    {"Auth", Kind::kRefuse, "authenticate or authorize the clients of this path"},
    {"Anonymous", Kind::kRefuse, "let anonymous users through this path's authentication"},
    {"Require", Kind::kRefuse, "restrict who may reach this path"},
    {"SSL", Kind::kWarn, "a mod_ssl setting that changes nothing a client can see in wsgid "
                         "(session cache, random seed, stapling cache, proxy TLS, crypto "
                         "device)"},
    {"Rewrite", Kind::kRefuse, "rewrite the URLs of this server"},
    {"Proxy", Kind::kWarn, "it only configures ProxyPass, which wsgid refuses"},
    {"Expires", Kind::kWarn, "caching headers of static files"},
    {"Deflate", Kind::kWarn, "wsgid does not compress responses"},
    {"Brotli", Kind::kWarn, "wsgid does not compress responses"},
    {"H2", Kind::kWarn, "wsgid speaks HTTP/1.1"},
    {"Session", Kind::kWarn, "the form authentication it serves is refused"},
    {"Cache", Kind::kWarn, "wsgid caches no responses"},
    {"Dav", Kind::kWarn, "it only configures Dav, which wsgid refuses"},
    {"Php", Kind::kWarn, "wsgid runs no PHP"},
    {"php_", Kind::kWarn, "wsgid runs no PHP"},
};

struct SectionRow {
  const char* name;
  Kind kind;  // kRefuse or kWarn (skipped with its contents)
  const char* text;
};

const SectionRow kSections[] = {
    {"If", Kind::kRefuse, "apply the directives inside only to requests that match the "
                          "expression"},
    {"ElseIf", Kind::kRefuse, "apply the directives inside only to requests that match the "
                              "expression"},
    {"Else", Kind::kRefuse, "apply the directives inside to requests no <If> matched"},
    {"AuthnProviderAlias", Kind::kRefuse, "define an authentication provider"},
    {"AuthzProviderAlias", Kind::kRefuse, "define an authorization provider"},
    {"Proxy", Kind::kWarn, "wsgid forwards nothing to other servers (ProxyPass is refused)"},
    {"ProxyMatch", Kind::kWarn, "wsgid forwards nothing to other servers (ProxyPass is refused)"},
    {"Macro", Kind::kWarn, "a macro's text only counts where 'Use' expands it, which wsgid "
                           "does not"},
    {"IfFile", Kind::kRefuse, "apply the directives inside only if the file exists"},
    {"IfDirective", Kind::kRefuse, "apply the directives inside only if the directive exists"},
    {"IfSection", Kind::kRefuse, "apply the directives inside only if the section exists"},
};

const Row* find_row(std::string_view name) {
  for (const Row& r : kRows)
    if (iequals(r.name, name)) return &r;
  for (const Row& r : kPrefixes) {
    std::string_view p(r.name);
    if (name.size() > p.size() && iequals(name.substr(0, p.size()), p)) return &r;
  }
  return nullptr;
}

}  // namespace

std::optional<ApacheVerdict> apache_directive(std::string_view name,
                                              const std::vector<std::string>& args) {
  const Row* r = find_row(name);
  if (!r) return std::nullopt;
  switch (r->kind) {
    case Kind::kRefuse: return refuse(name, r->text);
    case Kind::kWarn: return warn(name, r->text);
    case Kind::kArgs: return r->check(name, args);
  }
  return std::nullopt;
}

std::optional<ApacheVerdict> apache_section(std::string_view name) {
  for (const SectionRow& s : kSections) {
    if (!iequals(s.name, name)) continue;
    std::string n = "<" + std::string(s.name) + ">";
    if (s.kind == Kind::kRefuse) return refuse(n, s.text);
    ApacheVerdict v;
    v.fate = Fate::kWarn;
    v.message = n + " is an Apache section wsgid does not implement; it is ignored with "
                    "everything inside it (" + s.text + ")";
    return v;
  }
  return std::nullopt;
}

std::vector<std::string_view> apache_directive_names() {
  std::vector<std::string_view> v;
  for (const Row& r : kRows) v.push_back(r.name);
  return v;
}

std::vector<std::string_view> apache_section_names() {
  std::vector<std::string_view> v;
  for (const SectionRow& s : kSections) v.push_back(s.name);
  return v;
}

std::vector<ApacheRow> apache_rows() {
  auto fate = [](Kind k) -> std::string_view {
    switch (k) {
      case Kind::kRefuse: return "refused";
      case Kind::kWarn: return "warned";
      case Kind::kArgs: return "by its arguments";
    }
    return "";
  };
  std::vector<ApacheRow> v;
  for (const Row& r : kRows) v.push_back({r.name, fate(r.kind), r.text});
  for (const Row& r : kPrefixes)
    v.push_back({std::string(r.name) + "*", fate(r.kind), r.text});
  for (const SectionRow& s : kSections)
    v.push_back({"<" + std::string(s.name) + ">", fate(s.kind), s.text});
  return v;
}

}  // namespace wsgid::config::detail
