// resolve.h: Apache's matching rules, the merge order, the SCRIPT_NAME/PATH_INFO
// split and the %{...} expansions.
#include <doctest/doctest.h>

#include <map>

#include "model/resolve.h"
#include "supervisor/config/parser.h"

using namespace wsgid::config;
using namespace wsgid::model;

namespace {

Config parse_ok(const std::string& text) {
  ParseOptions o;
  o.check_files = false;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv";
  ParseResult r = parse_config_text("r.conf", text, o);
  INFO(r.diags.render_all());
  CHECK_FALSE(r.diags.has_errors());
  return std::move(r.config);
}

}  // namespace

TEST_CASE("alias_match_length is Apache's alias_matches") {
  struct Case {
    const char* alias;
    const char* uri;
    size_t len;
  } cases[] = {
      {"/project1", "/project1", 9},   {"/project1", "/project1/", 9},
      {"/project1", "/project1/a/b", 9}, {"/project1", "/project10", 0},
      {"/project1", "/project", 0},    {"/", "/", 1},
      {"/", "/anything", 1},           {"/a/b", "//a///b/c", 7},
      {"/a/", "/a", 0},                {"/a/", "/a/x", 3},
      {"", "/", 0},
  };
  for (const Case& c : cases) {
    INFO(c.alias << " " << c.uri);
    CHECK(alias_match_length(c.alias, c.uri) == c.len);
  }
}

TEST_CASE("location_matches and directory_matches") {
  CHECK(location_matches("/project1", "/project1"));
  CHECK(location_matches("/project1", "/project1/x"));
  CHECK_FALSE(location_matches("/project1", "/project10"));
  CHECK(location_matches("/a/", "/a/b"));
  CHECK(location_matches("/", "/x"));
  CHECK(location_matches("/a/*/c", "/a/b/c"));
  CHECK_FALSE(location_matches("/a/*/c", "/a/b/d/c"));
  CHECK_FALSE(location_matches("\xE2\x80\x9C/project1\xE2\x80\xB3", "/project1"));

  CHECK(directory_matches("/srv/app", "/srv/app/x.wsgi"));
  CHECK(directory_matches("/srv/app/", "/srv/app/sub/x.wsgi"));
  CHECK_FALSE(directory_matches("/srv/app", "/srv/application/x.wsgi"));
  CHECK(directory_matches("/", "/x.wsgi"));
  CHECK(directory_matches("/home/*/wsgi", "/home/bob/wsgi/x.wsgi"));
  CHECK_FALSE(directory_matches("/home/*/wsgi", "/home/bob/other/x.wsgi"));
}

TEST_CASE("split: SCRIPT_NAME and PATH_INFO as mod_wsgi sets them") {
  Config c = parse_ok(
      "WSGIScriptAlias /project1 /srv/p1.wsgi\n"
      "WSGIScriptAlias / /srv/root.wsgi\n"
      "WSGIScriptAlias /dir/ /srv/scripts/\n"
      "WSGIScriptAliasMatch ^/wsgi/([^/]+) /srv/wsgi/$1.py\n");
  Resolver res(c);
  const auto& m = c.server.mounts;
  struct Case {
    size_t mount;
    const char* url;
    bool match;
    const char* script_name;
    const char* path_info;
    const char* file;
  } cases[] = {
      {0, "/project1", true, "/project1", "", "/srv/p1.wsgi"},
      {0, "/project1/", true, "/project1", "/", "/srv/p1.wsgi"},
      {0, "/project1/a/b", true, "/project1", "/a/b", "/srv/p1.wsgi"},
      {0, "/project10", false, "", "", ""},
      {1, "/", true, "", "/", "/srv/root.wsgi"},
      {1, "/foo/bar", true, "", "/foo/bar", "/srv/root.wsgi"},
      {2, "/dir/app/x", true, "/dir/app", "/x", "/srv/scripts/app"},
      {2, "/dir/app", true, "/dir/app", "", "/srv/scripts/app"},
      {3, "/wsgi/foo/bar", true, "/wsgi/foo", "/bar", "/srv/wsgi/foo.py"},
      {3, "/other", false, "", "", ""},
  };
  for (const Case& k : cases) {
    INFO(k.url);
    auto s = res.split(m[k.mount], k.url);
    REQUIRE(s.has_value() == k.match);
    if (!s) continue;
    CHECK(s->script_name == k.script_name);
    CHECK(s->path_info == k.path_info);
    CHECK(s->script_file == k.file);
  }
}

TEST_CASE("resolve merges server < vhost < Directory < Location (later wins) < alias options") {
  Config c = parse_ok(
      "WSGIDaemonProcess s\nWSGIDaemonProcess v\nWSGIDaemonProcess d\nWSGIDaemonProcess l1\n"
      "WSGIDaemonProcess l2\nWSGIDaemonProcess own\nWSGIDaemonProcess re\n"
      "WSGIProcessGroup s\nWSGIApplicationGroup server-app\nWSGICallableObject srv\n"
      "<VirtualHost *:80>\nServerName v.example\nWSGIProcessGroup v\n"
      "<Directory /srv/d>\nWSGIProcessGroup d\nWSGIPassAuthorization On\n</Directory>\n"
      "<Location /l>\nWSGIProcessGroup l1\n</Location>\n"
      "<Location /l>\nWSGIProcessGroup l2\nWSGIApplicationGroup %{GLOBAL}\n</Location>\n"
      "<LocationMatch ^/re>\nWSGIProcessGroup re\n</LocationMatch>\n"
      "<Location /emb>\nWSGIProcessGroup %{GLOBAL}\n</Location>\n"
      "WSGIScriptAlias /l /srv/d/l.wsgi\n"
      "WSGIScriptAlias /own /srv/d/o.wsgi process-group=own callable-object=app2 "
      "application-group=x pass-authorization=Off\n"
      "WSGIScriptAlias /re /srv/other/re.wsgi\n"
      "WSGIScriptAlias /emb /srv/other/e.wsgi\n"
      "WSGIScriptAlias /plain /srv/other/p.wsgi\n"
      "</VirtualHost>\n"
      "WSGIScriptAlias /top /srv/top.wsgi\n");
  Resolver res(c);
  const auto& m = c.vhosts[0].mounts;
  Route r = res.resolve(0, m[0], "/l/x", "/srv/d/l.wsgi");
  CHECK(r.process_group == "l2");
  CHECK(r.application_group == "%{GLOBAL}");  // a template: the router expands it
  r = res.resolve(0, m[0], "/other", "/srv/d/l.wsgi");
  CHECK(r.process_group == "d");
  CHECK(r.pass_authorization);
  CHECK(r.application_group == "server-app");
  CHECK(r.callable_object == "srv");
  r = res.resolve(0, m[1], "/own", "/srv/d/o.wsgi");
  CHECK(r.process_group == "own");
  CHECK(r.callable_object == "app2");
  CHECK(r.application_group == "x");
  CHECK_FALSE(r.pass_authorization);
  r = res.resolve(0, m[2], "/re/1", "/srv/other/re.wsgi");
  CHECK(r.process_group == "re");
  r = res.resolve(0, m[3], "/emb", "/srv/other/e.wsgi");
  CHECK_FALSE(r.process_group.has_value());
  r = res.resolve(0, m[4], "/plain", "/srv/other/p.wsgi");
  CHECK(r.process_group == "v");
  r = res.resolve(-1, c.server.mounts[0], "/top", "/srv/top.wsgi");
  CHECK(r.process_group == "s");
  CHECK(r.application_group == "server-app");
}

TEST_CASE("expand_application_group: every expansion, exactly as mod_wsgi") {
  std::map<std::string, std::string> env = {
      {"APP", "myapp"}, {"INDIRECT", "%{SERVER}"}, {"LOOP", "%{ENV:APP}"}};
  ExpandContext ctx;
  ctx.server_name = "www.example.com";
  ctx.port = 8080;
  ctx.host = "alias.example.com";
  ctx.script_name = "/wsgi-scripts/foo";
  ctx.env = [&](std::string_view n) -> std::optional<std::string> {
    auto it = env.find(std::string(n));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  struct Case {
    const char* tmpl;
    int port;
    const char* host;
    const char* want;
  } cases[] = {
      {"%{GLOBAL}", 8080, "h", ""},
      {"%{RESOURCE}", 8080, "h", "www.example.com:8080|/wsgi-scripts/foo"},
      {"%{RESOURCE}", 80, "h", "www.example.com|/wsgi-scripts/foo"},
      {"%{RESOURCE}", 443, "h", "www.example.com|/wsgi-scripts/foo"},
      {"%{SERVER}", 8080, "h", "www.example.com:8080"},
      {"%{SERVER}", 80, "h", "www.example.com"},
      {"%{HOST}", 8080, "alias.example.com", "alias.example.com:8080"},
      {"%{HOST}", 80, "", "www.example.com"},
      {"%{ENV:APP}", 80, "", "myapp"},
      {"%{ENV:MISSING}", 80, "", ""},
      {"%{ENV:INDIRECT}", 8080, "", "www.example.com:8080"},
      {"%{ENV:LOOP}", 80, "", "%{ENV:APP}"},
      {"literal", 80, "", "literal"},
      {"app-%{GLOBAL}", 80, "", "app-%{GLOBAL}"},
      {"%{GLOBALS}", 80, "", "%{GLOBALS}"},
  };
  for (const Case& c : cases) {
    ctx.port = c.port;
    ctx.host = c.host;
    INFO(c.tmpl << " port " << c.port);
    CHECK(expand_application_group(c.tmpl, ctx) == c.want);
  }
  ctx.script_name = "";
  ctx.port = 80;
  CHECK(expand_application_group("%{RESOURCE}", ctx) == "www.example.com|");
}

TEST_CASE("is_known_expansion") {
  CHECK(is_known_expansion("%{GLOBAL}"));
  CHECK(is_known_expansion("%{ENV:X}"));
  CHECK_FALSE(is_known_expansion("%{ENV:}"));
  CHECK_FALSE(is_known_expansion("%{GROUP}"));
  CHECK_FALSE(is_known_expansion("x"));
}

// Issue 12: LimitRequestBody and WSGIChunkedRequest merge like every setting.
TEST_CASE("body_rules: server < vhost < Directory < Location, with Apache's default") {
  Config none = parse_ok("WSGIScriptAlias / /srv/app/a.wsgi\n");
  Resolver r0(none);
  CHECK(r0.body_rules(-1, "/x", "/srv/app/a.wsgi").limit_request_body == 1073741824);
  CHECK_FALSE(r0.body_rules(-1, "/x", "/srv/app/a.wsgi").chunked_request);

  Config c = parse_ok(
      "LimitRequestBody 1000\n"
      "<VirtualHost *:80>\nLimitRequestBody 114688\nWSGIChunkedRequest On\n"
      "<Location /up>\nLimitRequestBody 0\n</Location>\n"
      "<Location /up/strict>\nWSGIChunkedRequest Off\n</Location>\n</VirtualHost>\n"
      "<Directory /srv/app>\nLimitRequestBody 5\n</Directory>\n");
  Resolver r(c);
  struct Case {
    int vhost;
    const char* url;
    const char* file;
    int64_t limit;
    bool chunked;
  } cases[] = {
      {-1, "/x", "", 1000, false},
      {-1, "/x", "/srv/app/a.wsgi", 5, false},          // <Directory> of the file
      {0, "/x", "", 114688, true},                       // the vhost's own
      {0, "/x", "/srv/app/a.wsgi", 5, true},             // <Directory> after the vhost
      {0, "/up/a", "/srv/app/a.wsgi", 0, true},          // <Location> last
      {0, "/up/strict/b", "", 0, false},
  };
  for (const Case& k : cases) {
    INFO(k.vhost << " " << k.url << " " << k.file);
    BodyRules b = r.body_rules(k.vhost, k.url, k.file);
    CHECK(b.limit_request_body == k.limit);
    CHECK(b.chunked_request == k.chunked);
  }
}
