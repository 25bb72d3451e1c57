// Router tables: vhost selection, aliases, Location/Directory merging, the
// SCRIPT_NAME / PATH_INFO split and application-group expansion as mod_wsgi does.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "supervisor/frontend/router.h"

using namespace wsgid;
using namespace wsgid::frontend;

namespace {

model::Mount mount(std::string url, std::string script, bool match = false) {
  model::Mount m;
  m.url = std::move(url);
  m.script = std::move(script);
  m.is_match = match;
  return m;
}

model::Block block(std::string path, std::string group, bool regex = false) {
  model::Block b;
  b.path = std::move(path);
  b.is_regex = regex;
  b.settings.process_group = std::move(group);
  return b;
}

GroupEndpoint group(std::string name) {
  GroupEndpoint g;
  g.name = std::move(name);
  g.socket = "/nonexistent/" + g.name + ".sock";
  return g;
}

Settings base() {
  Settings s;
  s.groups = {group("site1"), group("site2"), group("admin")};
  s.config.server.settings.process_group = "site1";
  return s;
}

Route route(const Router& r, std::string_view path, std::string_view host = "example.com",
            int port = 80, std::string_view ip = "127.0.0.1") {
  Route out;
  std::string norm;
  REQUIRE(normalize_path(path, &norm) == 0);
  auto c = r.vhosts_for(ip, port);
  r.route(r.select_vhost(c, host), RouteRequest{host, norm, port}, &out);
  return out;
}

std::string make_tmpdir() {
  char tmpl[] = "/tmp/wsgid-router-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

}  // namespace

TEST_CASE("alias_matches follows mod_alias") {
  struct Case {
    const char* uri;
    const char* alias;
    size_t want;
  } cases[] = {
      {"/app", "/app", 4},        {"/app/x", "/app", 4},     {"/application", "/app", 0},
      {"/ap", "/app", 0},         {"/", "/", 1},             {"/x/y", "/", 1},
      {"/app/x", "/app/", 5},     {"/app", "/app/", 0},      {"//app//x", "/app/", 7},
      {"/APP", "/app", 0},        {"/app?x", "/app", 0},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.uri));
    CAPTURE(std::string(c.alias));
    CHECK(alias_matches(c.uri, c.alias) == c.want);
  }
}

TEST_CASE("normalize_path decodes and removes dot segments as Apache") {
  struct Case {
    const char* raw;
    int status;
    const char* want;
  } cases[] = {
      {"/", 0, "/"},
      {"/a/b", 0, "/a/b"},
      {"/a%20b", 0, "/a b"},
      {"/a//b", 0, "/a/b"},
      {"/a/./b", 0, "/a/b"},
      {"/a/../b", 0, "/b"},
      {"/a/b/..", 0, "/a/"},
      {"/a/.", 0, "/a/"},
      {"/..", 400, ""},
      {"/a/../../b", 400, ""},
      {"/a%2Fb", 404, ""},
      {"/a%00b", 404, ""},
      {"/a%zzb", 400, ""},
      {"/a%2", 400, ""},
      {"a/b", 400, ""},
      {"", 400, ""},
      {"/%2e%2e/x", 400, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.raw));
    std::string out;
    CHECK(normalize_path(c.raw, &out) == c.status);
    if (c.status == 0) CHECK(out == c.want);
  }
}

TEST_CASE("SCRIPT_NAME and PATH_INFO as mod_wsgi splits them") {
  Settings s = base();
  s.config.server.mounts = {mount("/", "/srv/root.wsgi"), mount("/app", "/srv/app.wsgi"),
                            mount("/slash/", "/srv/slash.wsgi")};
  Router r(s);
  struct Case {
    const char* path;
    Route::Kind kind;
    const char* script;
    const char* script_name;
    const char* path_info;
  } cases[] = {
      {"/", Route::Kind::kWsgi, "/srv/root.wsgi", "", "/"},
      {"/foo/bar", Route::Kind::kWsgi, "/srv/root.wsgi", "", "/foo/bar"},
      {"/app", Route::Kind::kWsgi, "/srv/app.wsgi", "/app", ""},
      {"/app/", Route::Kind::kWsgi, "/srv/app.wsgi", "/app", "/"},
      {"/app/x/y", Route::Kind::kWsgi, "/srv/app.wsgi", "/app", "/x/y"},
      {"/application", Route::Kind::kWsgi, "/srv/root.wsgi", "", "/application"},
      {"/app//x", Route::Kind::kWsgi, "/srv/app.wsgi", "/app", "/x"},
      {"/slash/", Route::Kind::kWsgi, "/srv/slash.wsgi", "/slash/", ""},
      // mod_wsgi appends "x" to the file name: /srv/slash.wsgix does not exist.
      {"/slash/x", Route::Kind::kNotFound, "", "", ""},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.path));
    Route out = route(r, c.path);
    CHECK(out.kind == c.kind);
    if (c.kind != Route::Kind::kWsgi) continue;
    CHECK(out.script_filename == c.script);
    CHECK(out.script_name == c.script_name);
    CHECK(out.path_info == c.path_info);
    CHECK(out.group_name == "site1");
  }
  CHECK(route(r, "/slash/x").error == "script '/srv/slash.wsgix' does not exist");
}

TEST_CASE("the longest script alias wins, whatever the order") {
  Settings s = base();
  s.config.server.mounts = {mount("/", "/srv/root.wsgi"), mount("/sub", "/srv/sub.wsgi"),
                            mount("/sub/deeper", "/srv/deep.wsgi")};
  Router r(s);
  CHECK(route(r, "/sub/x").script_filename == "/srv/sub.wsgi");
  CHECK(route(r, "/sub/deeper/x").script_filename == "/srv/deep.wsgi");
  CHECK(route(r, "/subway").script_filename == "/srv/root.wsgi");
}

TEST_CASE("no alias: 404 with the reason") {
  Settings s = base();
  s.config.server.mounts = {mount("/app", "/srv/app.wsgi")};
  Router r(s);
  Route out = route(r, "/other");
  CHECK(out.kind == Route::Kind::kNotFound);
  CHECK(out.error == "no script alias matches");
}

TEST_CASE("process group precedence: server < vhost < Directory < Location < alias option") {
  Settings s = base();
  s.config.server.mounts = {mount("/", "/srv/site/app.wsgi"), mount("/opt", "/srv/site/opt.wsgi")};
  s.config.server.mounts[1].process_group = "site2";
  s.config.server.directories = {block("/srv/site", "site2"), block("/srv", "admin")};
  s.config.server.locations = {block("/admin", "admin"), block("/admin/x", "site1"),
                               block("^/rx/", "site2", true)};
  Router r(s);
  // Directory: the longer path applies last, whatever the config order.
  CHECK(route(r, "/").group_name == "site2");
  CHECK(route(r, "/admin").group_name == "admin");
  CHECK(route(r, "/admin/y").group_name == "admin");
  CHECK(route(r, "/admin/x/z").group_name == "site1");
  CHECK(route(r, "/administrator").group_name == "site2");  // segment boundary
  CHECK(route(r, "/rx/a").group_name == "site2");
  CHECK(route(r, "/opt/admin").group_name == "site2");  // the alias's own option wins
}

TEST_CASE("Location blocks for the same path: the later one wins (seed article)") {
  Settings s = base();
  s.config.server.settings.process_group.reset();
  s.config.server.mounts = {mount("/project1", "/srv/p1.wsgi"), mount("/project2", "/srv/p2.wsgi")};
  s.config.server.locations = {block("/project1", "site1"), block("/project1", "site2")};
  Router r(s);
  CHECK(route(r, "/project1/x").group_name == "site2");
  Route p2 = route(r, "/project2");
  CHECK(p2.kind == Route::Kind::kWsgi);
  CHECK(p2.group == -1);  // embedded
  CHECK(p2.group_name == "");
}

TEST_CASE("embedded aliases with WSGIRestrictEmbedded On are a 500 with mod_wsgi's reason") {
  Settings s = base();
  s.config.server.settings.process_group = "%{GLOBAL}";
  s.config.restrict_embedded = true;
  s.config.server.mounts = {mount("/", "/srv/a.wsgi")};
  Router r(s);
  Route out = route(r, "/");
  CHECK(out.kind == Route::Kind::kError);
  CHECK(out.error == "embedded mode of mod_wsgi disabled by runtime configuration (WSGIRestrictEmbedded On)");
}

TEST_CASE("an unknown process group is a 500 naming it") {
  Settings s = base();
  s.config.server.settings.process_group = "nosuch";
  s.config.server.mounts = {mount("/", "/srv/a.wsgi")};
  Router r(s);
  Route out = route(r, "/");
  CHECK(out.kind == Route::Kind::kError);
  CHECK(out.error == "No WSGI daemon process called 'nosuch' has been configured");
}

TEST_CASE("application group expansion") {
  setenv("WSGID_TEST_APPGROUP", "from-env", 1);
  struct Case {
    const char* value;  // nullptr = unset (%{RESOURCE})
    const char* host;
    int port;
    const char* want;
  } cases[] = {
      // mod_wsgi: ServerName (r->server->server_hostname), not the Host header.
      {nullptr, "www.Example.com", 80, "srv.example.com|/app"},
      {nullptr, "www.example.com:8080", 8080, "srv.example.com:8080|/app"},
      {nullptr, "www.example.com", 443, "srv.example.com|/app"},
      {"%{RESOURCE}", "www.example.com", 8000, "srv.example.com:8000|/app"},
      {"%{GLOBAL}", "www.example.com", 80, ""},
      {"%{SERVER}", "alias.example.com", 80, "srv.example.com"},
      {"%{SERVER}", "alias.example.com:81", 81, "srv.example.com:81"},
      {"%{HOST}", "alias.example.com:81", 81, "alias.example.com:81"},
      {"%{ENV:WSGID_TEST_APPGROUP}", "x", 80, "from-env"},
      {"literal", "x", 80, "literal"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.value ? c.value : "(unset)"));
    CAPTURE(std::string(c.host));
    Settings s = base();
    s.config.server.server_name = "srv.example.com";
    s.config.server.mounts = {mount("/app", "/srv/app.wsgi")};
    if (c.value) s.config.server.settings.application_group = c.value;
    Router r(s);
    CHECK(route(r, "/app/x", c.host, c.port).application_group == c.want);
  }
  // Root mount: "host|" (SCRIPT_NAME is empty).
  Settings s = base();
  s.config.server.server_name = "h.example.com";
  s.config.server.mounts = {mount("/", "/srv/root.wsgi")};
  Router r(s);
  CHECK(route(r, "/x", "h.example.com").application_group == "h.example.com|");
}

TEST_CASE("virtual hosts: ServerName, ServerAlias wildcards, default vhost per address") {
  Settings s = base();
  model::ListenAddr any80;
  any80.port = 80;
  model::ListenAddr local8080;
  local8080.host = "127.0.0.1";
  local8080.port = 8080;
  model::VirtualHost a, b, c;
  a.addrs = {any80};
  a.server_name = "a.example.com";
  a.mounts = {mount("/", "/srv/a.wsgi")};
  b.addrs = {any80};
  b.server_name = "b.example.com:80";
  b.server_aliases = {"*.b.example.com", "b?.example.org"};
  b.mounts = {mount("/", "/srv/b.wsgi")};
  c.addrs = {local8080};
  c.server_name = "c.example.com";
  c.mounts = {mount("/", "/srv/c.wsgi")};
  s.config.vhosts = {a, b, c};
  s.config.server.mounts = {mount("/", "/srv/main.wsgi")};
  Router r(s);
  struct Case {
    const char* host;
    int port;
    const char* ip;
    const char* script;
  } cases[] = {
      {"a.example.com", 80, "127.0.0.1", "/srv/a.wsgi"},
      {"A.EXAMPLE.COM.", 80, "127.0.0.1", "/srv/a.wsgi"},
      {"b.example.com", 80, "127.0.0.1", "/srv/b.wsgi"},
      {"b.example.com:80", 80, "10.0.0.1", "/srv/b.wsgi"},
      {"x.y.b.example.com", 80, "127.0.0.1", "/srv/b.wsgi"},
      {"b1.example.org", 80, "127.0.0.1", "/srv/b.wsgi"},
      {"b12.example.org", 80, "127.0.0.1", "/srv/a.wsgi"},  // default = first for *:80
      {"unknown", 80, "127.0.0.1", "/srv/a.wsgi"},
      {"", 80, "127.0.0.1", "/srv/a.wsgi"},
      {"a.example.com", 8080, "127.0.0.1", "/srv/c.wsgi"},  // only c listens there
      {"a.example.com", 9000, "127.0.0.1", "/srv/main.wsgi"},  // no vhost: main server
  };
  for (const auto& k : cases) {
    CAPTURE(std::string(k.host));
    CAPTURE(k.port);
    CHECK(route(r, "/", k.host, k.port, k.ip).script_filename == k.script);
  }
}

TEST_CASE("static Alias wins over WSGIScriptAlias and maps the rest of the path") {
  std::string dir = make_tmpdir();
  REQUIRE(mkdir((dir + "/static").c_str(), 0755) == 0);
  REQUIRE(mkdir((dir + "/static/css").c_str(), 0755) == 0);
  REQUIRE(mkdir((dir + "/images").c_str(), 0755) == 0);
  std::ofstream(dir + "/static/css/site.css") << "";
  std::ofstream(dir + "/images/logo.png") << "";
  Settings s = base();
  s.config.server.mounts = {mount("/", "/srv/root.wsgi")};
  model::StaticAlias a;
  a.url = "/static/";
  a.path = dir + "/static/";
  model::StaticAlias m;
  m.is_match = true;
  m.url = "^/img/(.*)\\.png$";
  m.path = dir + "/images/$1.png";
  s.config.server.aliases = {a, m};
  Router r(s);
  Route st = route(r, "/static/css/site.css");
  CHECK(st.kind == Route::Kind::kStatic);
  CHECK(st.static_path == dir + "/static/css/site.css");
  Route im = route(r, "/img/logo.png");
  CHECK(im.kind == Route::Kind::kStatic);
  CHECK(im.static_path == dir + "/images/logo.png");
  CHECK(route(r, "/staticx").kind == Route::Kind::kWsgi);
  // The alias's file must exist: Apache's directory walk answers 404 before any handler.
  CHECK(route(r, "/static/missing.css").kind == Route::Kind::kNotFound);
  std::string cmd = "rm -rf " + dir;
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("directory targets and WSGIScriptAliasMatch find the script file on disk") {
  std::string dir = make_tmpdir();
  std::ofstream(dir + "/foo.wsgi") << "";
  std::ofstream(dir + "/bar.py") << "";
  Settings s = base();
  s.config.server.mounts = {mount("/wsgi/", dir + "/"),
                            mount("^/m/([^/]+)", dir + "/$1.wsgi", true),
                            mount("^/pp/([^/]+)", dir + "/bar.py/$1", true)};
  Router r(s);
  Route d = route(r, "/wsgi/foo.wsgi/extra/path");
  CHECK(d.kind == Route::Kind::kWsgi);
  CHECK(d.script_filename == dir + "/foo.wsgi");
  CHECK(d.script_name == "/wsgi/foo.wsgi");
  CHECK(d.path_info == "/extra/path");
  CHECK(route(r, "/wsgi/missing.wsgi").kind == Route::Kind::kNotFound);
  CHECK(route(r, "/wsgi/").error == "script alias names a directory and the URL names no script in it");

  Route m = route(r, "/m/foo/rest");
  CHECK(m.kind == Route::Kind::kWsgi);
  CHECK(m.script_filename == dir + "/foo.wsgi");
  CHECK(m.script_name == "/m/foo");
  CHECK(m.path_info == "/rest");
  // The "file.py/$1" trick keeps the matched part in PATH_INFO.
  Route p = route(r, "/pp/abc/def");
  CHECK(p.script_filename == dir + "/bar.py");
  CHECK(p.path_info == "/abc/def");
  CHECK(p.script_name == "/pp");
  Route missing = route(r, "/m/nothere");
  CHECK(missing.kind == Route::Kind::kNotFound);
  CHECK(missing.error == "script '" + dir + "/nothere.wsgi' does not exist");
  std::string cmd = "rm -rf " + dir;
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("callable object, pass-authorization and script reloading merge") {
  Settings s = base();
  s.config.server.mounts = {mount("/a", "/srv/a.wsgi"), mount("/b", "/srv/b.wsgi")};
  s.config.server.mounts[1].callable_object = "app";
  s.config.server.mounts[1].pass_authorization = true;
  s.config.server.settings.script_reloading = false;
  Router r(s);
  Route a = route(r, "/a");
  CHECK(a.callable_object == "application");
  CHECK_FALSE(a.pass_authorization);
  CHECK_FALSE(a.script_reloading);
  Route b = route(r, "/b");
  CHECK(b.callable_object == "app");
  CHECK(b.pass_authorization);
}

TEST_CASE("WSGIRestrictProcess limits the groups a scope may pick") {
  Settings s = base();
  s.config.server.mounts = {mount("/", "/srv/a.wsgi"), mount("/b", "/srv/b.wsgi")};
  s.config.server.mounts[1].process_group = "site2";
  s.config.server.settings.restrict_process = std::vector<std::string>{"site1"};
  Router r(s);
  CHECK(route(r, "/").kind == Route::Kind::kWsgi);
  Route b = route(r, "/b");
  CHECK(b.kind == Route::Kind::kError);
  CHECK(b.error == "Daemon process called 'site2' cannot be accessed by this WSGI application (WSGIRestrictProcess)");
}

TEST_CASE("a <Location>'s page handler answers its URLs before any alias (issue 14)") {
  Settings s = base();
  s.config.server.mounts.push_back(mount("/", "/srv/app.wsgi"));
  model::Block status = block("/server-status", "");
  status.settings.process_group.reset();
  status.settings.handlers.set_handler = "server-status";
  model::Block metrics = block("/server-status/metrics", "");
  metrics.settings.process_group.reset();
  metrics.settings.handlers.set_handler = "wsgid-metrics";
  model::Block ready = block("^/re(ady)?$", "", true);
  ready.settings.process_group.reset();
  ready.settings.handlers.set_handler = "wsgid-ready";
  s.config.server.locations = {status, metrics, ready};
  Router r(s);
  struct Case {
    const char* path;
    Route::Kind kind;
    const char* page;
  } cases[] = {
      {"/server-status", Route::Kind::kPage, "server-status"},
      {"/server-status/", Route::Kind::kPage, "server-status"},
      {"/server-status/metrics", Route::Kind::kPage, "wsgid-metrics"},  // the later one wins
      {"/ready", Route::Kind::kPage, "wsgid-ready"},
      {"/re", Route::Kind::kPage, "wsgid-ready"},
      {"/server-statusx", Route::Kind::kWsgi, ""},  // a prefix matches whole segments
      {"/app", Route::Kind::kWsgi, ""},
  };
  for (const Case& c : cases) {
    INFO(c.path);
    Route out = route(r, c.path);
    CHECK(out.kind == c.kind);
    CHECK(out.page == c.page);
  }
}
