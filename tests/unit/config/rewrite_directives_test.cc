// rewrite_directives.cc: Redirect*, the mod_rewrite directives, Header and
// RequestHeader read into the model, with every diagnostic's exact text: Apache's
// start-up errors (the engines' of supervisor/rewrite/), the refusals of what
// wsgid does not run (under RewriteEngine On only, as Apache ignores the rules
// otherwise), and the sections where they are refused.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/config/parser.h"

using namespace wsgid::config;

namespace {

ParseResult parse(const std::string& text) {
  ParseOptions o;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv/root";
  return parse_config_text("t.conf", text, o);
}

// "LINE: error|warning: message" for every diagnostic but the "serves no
// request" warning of a config without an alias, joined by newlines.
std::string diags(const ParseResult& r) {
  std::string out;
  for (const Diagnostic& d : r.diags.all()) {
    if (d.message.find("serves no request") != std::string::npos) continue;
    out += std::to_string(d.loc.line) + ": " +
           (d.severity == Severity::kError ? "error" : "warning") + ": " + d.message + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("rewrite directives: accepted, Apache's errors, refusals, per section") {
  struct Case {
    std::string config;
    std::string want;  // diags(), "" = none
  } cases[] = {
      // mod_alias, at server level and in <VirtualHost>.
      {"Redirect permanent /old /new\n", ""},
      {"<VirtualHost *:80>\nRedirectMatch 301 ^/a/(.*)$ https://x/$1\n</VirtualHost>\n", ""},
      {"RedirectPermanent /a http://x/\nRedirectTemp /b http://x/\nRedirect gone /c\n"
       "Redirect seeother /d http://x/\nRedirect 308 /e http://x/\n", ""},
      {"Redirect\n",
       "1: error: Redirect takes one, two or three arguments, an optional status, then document "
       "to be redirected and destination URL\n"},
      {"Redirect sometimes /a http://x/\n", "1: error: Redirect: invalid first argument (of three)\n"},
      {"Redirect 301 /a\n", "1: error: URL to redirect to is missing\n"},
      {"Redirect /a b\n", "1: error: Redirect to non-URL\n"},
      {"Redirect gone /a http://x/\n", "1: error: Redirect URL not valid for this status\n"},
      {"Redirect 200 /a http://x/\n",
       "1: error: Redirect: status 200 is not a redirect (3xx) nor an error (4xx, 5xx) status\n"},
      // mod_alias in sections: the form without a URL-path, and the others.
      {"<Location /a>\nRedirect /a http://x/\n</Location>\n", ""},
      {"<Location /a>\nRedirect 301 https://x/new\nRedirect gone\n</Location>\n", ""},
      {"<Directory /srv>\nRedirectMatch ^/a http://x/\n</Directory>\n", ""},
      {"<Files old.html>\nRedirect permanent /new.html\n</Files>\n", ""},
      {"<LocationMatch ^/x>\nRedirect https://%{HTTP_HOST}%{REQUEST_URI}\n</LocationMatch>\n", ""},
      {"<Location /a>\nRedirect permanent\n</Location>\n", "2: error: URL to redirect to is missing\n"},
      {"<Location /a>\nRedirect https://x/%{req:Host}\n</Location>\n",
       "2: error: Redirect https://x/%{req:Host}: Apache would evaluate it as an ap_expr string "
       "with the function %{req:Host}, which wsgid does not expand in redirect expressions (fail "
       "closed); write the URL literally or with %{NAME} variables\n"},
      // mod_rewrite: the subset wsgid runs.
      {"RewriteEngine On\nRewriteCond %{HTTPS} off\n"
       "RewriteRule (.*) https://%{HTTP_HOST}%{REQUEST_URI}\n", ""},
      {"RewriteEngine on\nRewriteCond %{HTTP_HOST} !^www\\. [NC,OR]\n"
       "RewriteCond %{SERVER_PORT} =80\nRewriteCond %{REQUEST_METHOD} ^(GET|HEAD)$\n"
       "RewriteCond %{QUERY_STRING} a=(\\d+)\nRewriteCond %{SERVER_NAME} x\n"
       "RewriteRule ^/old/(.*) https://x/%1/$1 [R=301,L,NC,QSA,NE]\n"
       "RewriteRule ^/secret - [F]\nRewriteRule ^/gone - [G,L]\nRewriteRule ^/t http://y/ [R]\n",
       ""},
      {"RewriteEngine maybe\n", "1: error: RewriteEngine must be On or Off\n"},
      {"RewriteRule ^/a\n",
       "1: error: RewriteRule: bad argument line: at least two arguments required\n"},
      {"RewriteCond %{HTTPS}\n",
       "1: error: RewriteCond: bad argument line: at least two arguments required\n"},
      {"RewriteRule ^/a - [X]\n", "1: error: RewriteRule: unknown flag 'X'\n"},
      {"RewriteRule ^/a - F]\n", "1: error: RewriteRule: bad flag delimiters\n"},
      {"RewriteCond %{HTTPS} on [XX]\n", "1: error: RewriteCond: unknown flag 'XX'\n"},
      {"RewriteRule ^/a http://x/ [R=999]\n",
       "1: error: RewriteRule: invalid HTTP response code '999' for flag 'R'\n"},
      {"RewriteOptions Whatever\n", "1: error: RewriteOptions: unknown option 'Whatever'\n"},
      {"RewriteBase /\n", "1: error: RewriteBase: only valid in per-directory config files\n"},
      // What wsgid does not run: refused only while the engine is on.
      {"RewriteRule ^/a /b\nRewriteRule ^/c http://x/ [P]\n", ""},
      {"RewriteEngine On\nRewriteRule ^/a /b\n", "2: error: RewriteRule ^/a /b: Apache would rewrite the request internally to '/b'; wsgid "
       "only redirects ([R] or an absolute URL) or answers [F]/[G]\n"},
      {"RewriteEngine On\nRewriteRule ^/c http://x/ [P]\n", "2: error: RewriteRule ^/c http://x/ [P]: Apache would proxy the request through "
       "mod_proxy ([P]); wsgid does not implement that\n"},
      {"RewriteEngine On\nRewriteMap m txt:/srv/map\n", "2: error: RewriteMap m txt:/srv/map: Apache would define a lookup map for ${map:key} in "
       "rules; wsgid does not implement RewriteMap\n"},
      // A <VirtualHost> takes the server's engine state; the refusal is at the rule.
      {"RewriteEngine On\n<VirtualHost *:80>\nRewriteRule ^/a /b\n</VirtualHost>\n",
       "3: error: RewriteRule ^/a /b: Apache would rewrite the request internally to '/b'; wsgid "
       "only redirects ([R] or an absolute URL) or answers [F]/[G]\n"},
      {"RewriteEngine On\n<VirtualHost *:80>\nRewriteEngine Off\nRewriteRule ^/a /b\n"
       "</VirtualHost>\n", ""},
      // Per-directory rules: refused with the engine's text.
      {"<Location /a>\nRewriteEngine On\n</Location>\n",
       "2: error: RewriteEngine in <Location>: Apache would apply it in per-directory context, "
       "after the URL is mapped to a file, matching the path relative to the directory; wsgid "
       "implements mod_rewrite only at server and <VirtualHost> level\n"},
      {"<Directory /srv>\nRewriteRule ^a - [F]\n</Directory>\n",
       "2: error: RewriteRule in <Directory>: Apache would apply it in per-directory context, "
       "after the URL is mapped to a file, matching the path relative to the directory; wsgid "
       "implements mod_rewrite only at server and <VirtualHost> level\n"},
      // mod_headers.
      {"Header always set Strict-Transport-Security \"max-age=63072000\"\n"
       "Header set X-Frame-Options DENY\nHeader append Vary Cookie\nHeader merge Vary Accept\n"
       "Header unset Server\nHeader edit Location ^http: https:\n"
       "RequestHeader set X-Forwarded-Proto https\nRequestHeader unset Proxy\n", ""},
      {"<Location /app>\nHeader always set X-A b\nRequestHeader set X-B c\n</Location>\n", ""},
      {"Header frob X-A b\n",
       "1: error: Header: first argument must be 'add', 'set', 'setifempty', 'append', 'merge', "
       "'unset', 'echo', 'note', 'edit', or 'edit*'.\n"},
      {"Header set X-A\n", "1: error: Header requires three arguments\n"},
      {"Header edit X-A ^a\n", "1: error: Header edit requires a match and a substitution\n"},
      {"Header set X-A b env=HTTPS\n", "1: error: Header ... env=HTTPS: Apache would apply the rule only when the condition "
       "holds; wsgid does not implement env= and expr= conditions\n"},
      {"RequestHeader set X-A b c d\n", "1: error: RequestHeader: Too many arguments to directive\n"},
      {"<Directory /srv>\nHeader set X-A b\n</Directory>\n", ""},
      {"<DirectoryMatch ^/srv>\nHeader always set X-A b\n</DirectoryMatch>\n", ""},
      {"<Files x.py>\nRequestHeader set X-A b\n</Files>\n", ""},
      {"<Directory /srv>\n<FilesMatch \\.css$>\nHeader set X-A b\n</FilesMatch>\n</Directory>\n", ""},
      {"<Directory /srv>\nHeader frob X-A b\n</Directory>\n",
       "2: error: Header: first argument must be 'add', 'set', 'setifempty', 'append', 'merge', "
       "'unset', 'echo', 'note', 'edit', or 'edit*'.\n"},
  };
  for (const Case& c : cases) {
    INFO(c.config);
    CHECK(diags(parse(c.config)) == c.want);
  }
}

TEST_CASE("rewrite directives are kept as written, per context, in file order") {
  ParseResult r = parse(
      "Header always set Strict-Transport-Security \"max-age=63072000\"\n"
      "<VirtualHost *:80>\nRewriteEngine On\nRewriteCond %{HTTPS} off\n"
      "RewriteRule (.*) https://%{HTTP_HOST}%{REQUEST_URI}\nRedirect permanent /old /new\n"
      "</VirtualHost>\n<Location /app>\nRequestHeader set X-Forwarded-Proto https\n</Location>\n");
  CHECK(diags(r) == "");
  const Config& c = r.config;
  REQUIRE(c.server.rewrite.size() == 1);
  CHECK(c.server.rewrite[0].name == "Header");
  CHECK(c.server.rewrite[0].args ==
        std::vector<std::string>{"always", "set", "Strict-Transport-Security", "max-age=63072000"});
  REQUIRE(c.vhosts.size() == 1);
  REQUIRE(c.vhosts[0].rewrite.size() == 4);
  CHECK(c.vhosts[0].rewrite[0].name == "RewriteEngine");
  CHECK(c.vhosts[0].rewrite[2].args ==
        std::vector<std::string>{"(.*)", "https://%{HTTP_HOST}%{REQUEST_URI}"});
  CHECK(c.vhosts[0].rewrite[3].name == "Redirect");
  CHECK(c.vhosts[0].rewrite[3].loc.line == 6);
  REQUIRE(c.server.locations.size() == 1);
  REQUIRE(c.server.locations[0].rewrite.size() == 1);
  CHECK(c.server.locations[0].rewrite[0].name == "RequestHeader");
  // In <Directory> and <Files>: each section keeps its own, a nested <Files>
  // included (its Block is appended while the <Directory> is read).
  r = parse("<Directory /srv>\nHeader set X-Dir 1\n<Files a.py>\nHeader set X-File 1\n"
            "</Files>\nHeader set X-Dir-After 1\n</Directory>\n");
  CHECK(diags(r) == "");
  REQUIRE(r.config.server.directories.size() == 2);
  const wsgid::model::Block& dir = r.config.server.directories[0];
  const wsgid::model::Block& files = r.config.server.directories[1];
  CHECK(dir.path == "/srv");
  REQUIRE(dir.rewrite.size() == 2);
  CHECK(dir.rewrite[0].args == std::vector<std::string>{"set", "X-Dir", "1"});
  CHECK(dir.rewrite[1].args == std::vector<std::string>{"set", "X-Dir-After", "1"});
  REQUIRE(files.rewrite.size() == 1);
  CHECK(files.rewrite[0].args == std::vector<std::string>{"set", "X-File", "1"});
  // Directives spelled in another case keep their canonical names.
  r = parse("rewriteengine on\nrewriterule ^/a - [F]\n");
  CHECK(diags(r) == "");
  REQUIRE(r.config.server.rewrite.size() == 2);
  CHECK(r.config.server.rewrite[1].name == "RewriteRule");
}

TEST_CASE("Debian's openstack-dashboard-ssl-redirect.conf: its rewrite rules are accepted") {
  ParseOptions o;
  o.syntax.allow_include = false;
  ParseResult r = parse_config_file("debian/openstack-dashboard-ssl-redirect.conf", o);
  for (const Diagnostic& d : r.diags.all()) {
    INFO(d.message);
    CHECK(d.message.find("Rewrite") == std::string::npos);
  }
  REQUIRE(r.config.vhosts.size() == 1);
  CHECK(r.config.vhosts[0].rewrite.size() == 3);
}
