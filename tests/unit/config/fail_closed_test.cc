// Fail closed (README, "Apache directives"): a directive that restricts who may
// reach a path, or changes which code or file answers it, is implemented or
// refused, never skipped with a warning.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/config/apache_directives.h"
#include "supervisor/config/directives.h"
#include "supervisor/config/parser.h"

using namespace wsgid::config;

namespace {

ParseResult parse(const std::string& text) {
  ParseOptions o;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv/root";
  return parse_config_text("t.conf", text, o);
}

enum class Want { kQuiet, kWarn, kRefuse };

// The diagnostics of line placed inside <Location /a> (or at server level),
// less the "serves no request" warning of a config without an alias.
std::vector<Diagnostic> diags_of(const std::string& line, bool server_level) {
  std::string text = server_level ? line + "\n" : "<Location /a>\n" + line + "\n</Location>\n";
  ParseResult r = parse(text);
  std::vector<Diagnostic> out;
  for (const Diagnostic& d : r.diags.all())
    if (d.message.find("serves no request") == std::string::npos) out.push_back(d);
  return out;
}

}  // namespace

TEST_CASE("each Apache directive gets its fate: accepted, warned or refused") {
  struct Case {
    const char* line;
    Want want;
    const char* says;  // a part of the message
  } cases[] = {
      // Access control and Basic authentication: implemented (access_directives.cc),
      // but for what wsgid cannot do as Apache does.
      {"Require all granted", Want::kQuiet, ""},
      {"Require all denied", Want::kQuiet, ""},
      {"Require ip 10.0.0.0/8", Want::kQuiet, ""},
      {"Require valid-user", Want::kQuiet, ""},
      {"Order allow,deny", Want::kQuiet, ""},
      {"Allow from all", Want::kQuiet, ""},
      {"Deny from all", Want::kQuiet, ""},
      {"AllowMethods GET", Want::kQuiet, ""},
      {"AuthType Basic", Want::kQuiet, ""},
      {"AuthzSendForbiddenOnFailure On", Want::kQuiet, ""},
      {"AuthBasicProvider file", Want::kQuiet, ""},
      {"AuthType Digest", Want::kRefuse, "implements only AuthType Basic"},
      {"AuthType Form", Want::kRefuse, "implements only AuthType Basic"},
      {"AuthBasicProvider ldap", Want::kRefuse, "with the 'ldap' provider"},
      {"AuthBasicProvider file dbm", Want::kRefuse, "with the 'dbm' provider"},
      {"AuthBasicProvider wsgi", Want::kQuiet, ""},
      {"AuthBasicProvider file wsgi", Want::kQuiet, ""},
      {"AuthBasicProvider wsgi dbd", Want::kRefuse, "with the 'dbd' provider"},
      {"Require wsgi-group staff", Want::kQuiet, ""},
      {"AuthDigestDomain /", Want::kRefuse, "authenticate or authorize"},
      {"AuthDBMUserFile /x", Want::kRefuse, "authenticate or authorize"},
      // Handlers and mappings.
      // (SetHandler, AddHandler, Options, DirectoryIndex are implemented:
      // handler_directives_test.cc; their refusals are here.)
      {"SetHandler wsgi-script", Want::kQuiet, ""},
      {"SetHandler None", Want::kQuiet, ""},
      {"SetHandler server-status", Want::kQuiet, ""},
      {"SetHandler wsgid-metrics", Want::kQuiet, ""},
      {"SetHandler server-info", Want::kRefuse, "server-info page"},
      {"AddHandler wsgi-script .wsgi", Want::kQuiet, ""},
      {"AddHandler cgi-script .cgi", Want::kRefuse, "run these files as CGI programs"},
      {"RemoveHandler .wsgi", Want::kRefuse, "would be sent as its source"},
      {"DirectoryIndex index.html", Want::kQuiet, ""},
      {"DirectoryIndex /cgi-bin/index.pl", Want::kRefuse, "index file names only"},
      {"RewriteLogLevel 2", Want::kRefuse, "rewrite the URLs"},
      {"ProxyPass /a http://b/", Want::kRefuse, "forward this path"},
      {"Options None", Want::kRefuse, "refuse to follow symbolic links"},
      {"Options Indexes", Want::kRefuse, "refuse to follow symbolic links"},
      {"Options MultiViews FollowSymLinks", Want::kRefuse, "negotiate content"},
      {"Options Indexes FollowSymLinks", Want::kWarn, "never lists directories"},
      {"Options -Indexes", Want::kQuiet, ""},
      {"Options +ExecCGI", Want::kQuiet, ""},
      {"Options FollowSymLinks", Want::kQuiet, ""},
      {"AllowOverride None", Want::kQuiet, ""},
      {"AllowOverride All", Want::kRefuse, ".htaccess files"},
      {"XSendFile Off", Want::kQuiet, ""},
      {"XSendFile On", Want::kRefuse, "X-Sendfile"},
      // TLS: implemented (ssl_directives.cc, ssl_directives_test.cc) but for these.
      {"SSLRequireSSL", Want::kQuiet, ""},
      {"SSLRequire %{SSL_CIPHER} =~ m/AES/", Want::kRefuse, "fail this expression"},
      {"SSLUserName SSL_CLIENT_S_DN_CN", Want::kRefuse, "user name (REMOTE_USER)"},
      {"SSLCARevocationFile /etc/ssl/crl.pem", Want::kRefuse, "this CRL revokes"},
      {"SSLStrictSNIVHostCheck On", Want::kRefuse, "send no SNI name"},
      {"SSLStrictSNIVHostCheck Off", Want::kQuiet, ""},
      {"SSLSessionCache shmcb:/run/ssl(512000)", Want::kWarn, "changes nothing a client can see"},
      {"SSLRandomSeed startup builtin", Want::kWarn, "changes nothing a client can see"},
      // mod_wsgi's own phases: implemented (auth_scripts.h; their option
      // errors: access_directives_test.cc).
      {"WSGIAccessScript /x.py", Want::kQuiet, ""},
      {"WSGIAuthUserScript /x.py application-group=%{GLOBAL}", Want::kQuiet, ""},
      {"WSGIAuthGroupScript /x.py", Want::kQuiet, ""},
      {"WSGIAuthGroupScript /x.py application-group=%{RESOURCE}", Want::kWarn,
       "names an application group literally"},
      {"WSGIGroupAuthoritative Off", Want::kRefuse, "let other providers decide"},
      // Directives that change nothing a client can reach.
      {"ServerAdmin a@b", Want::kWarn, "no administrator"},
      {"SetEnv A b", Want::kWarn, "WSGI environ"},
      {"BrowserMatch MSIE nokeepalive", Want::kWarn, "variables are refused"},
      {"ExpiresActive On", Want::kWarn, "caching headers"},
      // Implemented in <Location> (rewrite_directives.cc).
      {"Header set X-A b", Want::kQuiet, ""},
      {"RequestHeader set X-A b", Want::kQuiet, ""},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    std::vector<Diagnostic> got = diags_of(c.line, false);
    if (c.want == Want::kQuiet) {
      CHECK(got.empty());
      continue;
    }
    REQUIRE(got.size() == 1);
    CHECK(got[0].severity == (c.want == Want::kRefuse ? Severity::kError : Severity::kWarning));
    CHECK(got[0].message.find(c.says) != std::string::npos);
    if (c.want == Want::kRefuse) CHECK(got[0].message.find("fail closed") != std::string::npos);
  }
}

TEST_CASE("a refusal says what Apache would have done and what to write instead") {
  std::vector<Diagnostic> got = diags_of("SSLStrictSNIVHostCheck On", false);
  REQUIRE(got.size() == 1);
  CHECK(got[0].message ==
        "SSLStrictSNIVHostCheck is refused: Apache would refuse clients that send no SNI name "
        "(SSLStrictSNIVHostCheck on), and wsgid does not implement it (fail closed: ignoring it "
        "could serve this site more openly than Apache did)");
  REQUIRE(got[0].notes.size() == 2);
  CHECK(got[0].notes[0].find("write 'SSLStrictSNIVHostCheck off'") == 0);
}

TEST_CASE("a TLS Listen is never plain: Listen https, and Listen 443 without a protocol") {
  // Without a certificate the server it serves cannot speak TLS: refused.
  CHECK(diags_of("Listen 443", true).size() == 1);
  CHECK(diags_of("Listen 127.0.0.1:443", true)[0].message.find("should be SSL-aware") !=
        std::string::npos);
  CHECK(diags_of("Listen 8443 https", true)[0].severity == Severity::kError);
  CHECK(diags_of("Listen 443\nSSLEngine off", true)[0].message.find(
            "wsgid never serves a TLS address in the clear") != std::string::npos);
  CHECK(diags_of("Listen 443 http", true).empty());
  CHECK(diags_of("Listen 8080", true).empty());
}

TEST_CASE("sections: access containers only in per-directory sections; <If> refused") {
  ParseResult r = parse("<Location /a>\n<RequireAll>\nRequire ip 10.0.0.1\n</RequireAll>\n"
                        "</Location>\n<Limit GET>\nRequire all denied\n</Limit>\n"
                        "<If \"%{HTTPS} == 'on'\">\nHeader set A b\n</If>\n");
  std::vector<std::string> errs;
  for (const Diagnostic& d : r.diags.all())
    if (d.severity == Severity::kError) errs.push_back(std::to_string(d.loc.line) + " " + d.message);
  REQUIRE(errs.size() == 2);
  CHECK(errs[0] == "6 <Limit> cannot appear at server level; it belongs in <Location>, "
                   "<Directory> or <Files>");
  CHECK(errs[1].rfind("9 <If> is refused", 0) == 0);

  // <Proxy> is skipped with a warning, but not the access rule inside it.
  r = parse("<Proxy *>\nRequire ip 10.0.0.1\n</Proxy>\n");
  REQUIRE(r.diags.all().size() >= 2);
  CHECK(r.diags.all()[0].severity == Severity::kWarning);
  bool refused = false;
  for (const Diagnostic& d : r.diags.all())
    if (d.severity == Severity::kError && d.loc.line == 2 &&
        d.message.find("(inside <Proxy>, which wsgid skips)") != std::string::npos)
      refused = true;
  CHECK(refused);
}

// Written from Apache's module index (https://httpd.apache.org/docs/2.4/mod/),
// not from wsgid's tables: every directive of the modules that decide who may
// reach a path (mod_authz_*, mod_authn_*, mod_auth_*, mod_access_compat,
// mod_ssl's access directives, mod_remoteip) or which code or file answers it
// (core's SetHandler, mod_mime's AddHandler, mod_actions, mod_alias, mod_dir,
// mod_rewrite, mod_proxy, mod_cgi, mod_xsendfile, mod_dav, mod_negotiation),
// with arguments that make it restrict or map, and mod_wsgi's own. None of them
// may ever be a warning: each is implemented or refused.
TEST_CASE("no directive that restricts access or picks the handler is warn-only") {
  struct Line {
    const char* text;
    bool server_level;
  } lines[] = {
      {"Require all denied", false}, {"Require ip 10.1", false}, {"Require local", false},
      {"Require host example.org", false}, {"Require method GET", false},
      {"Require user bob", false}, {"Require group staff", false}, {"Require valid-user", false},
      {"Require env X", false}, {"Require expr true", false}, {"Order deny,allow", false},
      {"Allow from 10.0.0.1", false}, {"Deny from all", false}, {"Satisfy Any", false},
      {"AllowMethods GET POST", false}, {"AuthType Basic", false}, {"AuthName x", false},
      {"AuthBasicProvider file", false}, {"AuthUserFile /x", false}, {"AuthGroupFile /x", false},
      {"AuthMerging And", false}, {"AuthDBMUserFile /x", false}, {"AuthLDAPURL ldap://x", false},
      {"AuthFormProvider file", false}, {"AuthDigestProvider file", false},
      {"AuthBasicAuthoritative Off", false}, {"AnonymousNoUserID On", false},
      {"SSLRequireSSL", false}, {"SSLRequire true", false}, {"SSLEngine on", false},
      {"SSLVerifyClient require", false}, {"SSLVerifyDepth 2", false},
      {"SSLOptions +FakeBasicAuth", false}, {"SSLUserName SSL_CLIENT_S_DN_CN", false},
      {"SSLCARevocationFile /x", false}, {"SSLStrictSNIVHostCheck On", false},
      {"SSLVerifyClient optional_no_ca", true},
      {"RemoteIPHeader X-Forwarded-For", false}, {"SetHandler wsgi-script", false},
      {"SetHandler server-status", false}, {"RemoveHandler .wsgi", false},
      {"AddHandler cgi-script .cgi", false}, {"AddHandler wsgi-script .wsgi", true},
      {"AddHandler wsgi-script .wsgi", false}, {"Action a /cgi", false},
      {"ScriptAlias /cgi-bin/ /x/", true}, {"ScriptAliasMatch ^/c /x", true},
      {"DocumentRoot /var/www", true}, {"DirectoryIndex index.html", false},
      {"FallbackResource /index.php", false}, {"Redirect / http://x/", false},
      {"RedirectMatch ^/a http://x/", false}, {"RedirectPermanent /a http://x/", false},
      {"RedirectTemp /a http://x/", false}, {"RewriteRule ^ - [F]", false},
      {"RewriteCond %{HTTPS} off", false}, {"RewriteMap m txt:/x", true},
      {"RewriteBase /", false}, {"ProxyPass / http://b/", true},
      {"ProxyPassMatch ^/ http://b/", true}, {"AllowOverride All", false},
      {"AllowOverride AuthConfig", false}, {"AllowOverrideList Redirect", false},
      {"Options None", false}, {"Options MultiViews", false}, {"XSendFile On", false},
      {"Dav On", false}, {"WSGIAccessScript /x", false}, {"WSGIAuthUserScript /x", false},
      {"WSGIAuthGroupScript /x", false}, {"WSGIGroupAuthoritative Off", false},
      {"WSGIHandlerScript a /x", false}, {"WSGIDispatchScript /x", false},
      {"Listen 443", true}, {"Listen 8443 https", true},
  };
  for (const Line& l : lines) {
    INFO(l.text);
    std::vector<Diagnostic> got = diags_of(l.text, l.server_level);
    bool refused = false, warned = false;
    for (const Diagnostic& d : got) {
      if (d.severity == Severity::kError) refused = true;
      if (d.severity == Severity::kWarning) warned = true;
    }
    std::string name(l.text, std::string_view(l.text).find(' ') == std::string_view::npos
                                 ? std::string_view(l.text).size()
                                 : std::string_view(l.text).find(' '));
    const detail::DirectiveInfo* info = detail::find_directive(name);
    bool implemented = info && info->handler;
    CHECK_FALSE(warned);
    CHECK((refused || implemented));
  }
  const char* sections[] = {"Limit GET", "LimitExcept GET", "RequireAll", "RequireAny",
                            "RequireNone", "If true", "ElseIf true", "Else", "IfFile /x",
                            "AuthnProviderAlias file x", "AuthzProviderAlias ldap x"};
  for (const char* s : sections) {
    INFO(s);
    std::string name(s, std::string_view(s).find(' ') == std::string_view::npos
                            ? std::string_view(s).size()
                            : std::string_view(s).find(' '));
    ParseResult r = parse("<" + std::string(s) + ">\n</" + name + ">\n");
    bool refused = false;
    for (const Diagnostic& d : r.diags.all())
      if (d.severity == Severity::kError) refused = true;
    CHECK((refused || !detail::known_section(name).empty()));
  }
}
