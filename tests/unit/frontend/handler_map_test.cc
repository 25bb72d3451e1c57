// The handler step of routing (handler_map.h, Router::map_file): Apache's
// directory walk, mod_mime's extensions, and every handler mapping as a table
// of URL -> kind, file, SCRIPT_NAME, PATH_INFO, with mod_wsgi's values for
// Alias + SetHandler and DocumentRoot + AddHandler ("Configuration Guidelines").
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "supervisor/frontend/embedded.h"
#include "supervisor/frontend/handler_map.h"
#include "supervisor/frontend/router.h"

using namespace wsgid;
using namespace wsgid::frontend;

namespace {

// A temporary tree, removed at the end of the test.
struct Tree {
  std::string dir;
  Tree() {
    char tmpl[] = "/tmp/wsgid-handler-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~Tree() {
    std::string cmd = "rm -rf " + dir;
    CHECK(std::system(cmd.c_str()) == 0);
  }
  void file(const std::string& rel) {
    std::string p = dir + "/" + rel;
    std::string cmd = "mkdir -p " + p.substr(0, p.rfind('/'));
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::ofstream(p) << "x";
  }
  void mkdir(const std::string& rel) { REQUIRE(::mkdir((dir + "/" + rel).c_str(), 0755) == 0); }
};

model::Block block(std::string path, bool files = false) {
  model::Block b;
  b.path = std::move(path);
  b.is_files = files;
  return b;
}

Route route(const Router& r, std::string_view path) {
  Route out;
  std::string norm;
  REQUIRE(normalize_path(path, &norm) == 0);
  auto c = r.vhosts_for("127.0.0.1", 80);
  r.route(r.select_vhost(c, "example.com"), RouteRequest{"example.com", norm, 80}, &out);
  return out;
}

const char* kind_name(Route::Kind k) {
  switch (k) {
    case Route::Kind::kNotFound: return "404";
    case Route::Kind::kWsgi: return "wsgi";
    case Route::Kind::kStatic: return "static";
    case Route::Kind::kError: return "500";
    case Route::Kind::kForbidden: return "403";
    case Route::Kind::kRedirect: return "301";
    case Route::Kind::kPage: return "page";
  }
  return "?";
}

struct Row {
  const char* url;
  const char* kind;         // wsgi, static, 403, 404, 301
  const char* file;         // relative to the tree: script or static file; "" = none
  const char* script_name;  // wsgi: SCRIPT_NAME; 301: Location
  const char* path_info;
  const char* group;        // wsgi: the process group
};

void check_rows(const Router& r, const Tree& t, const Row* rows, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const Row& row = rows[i];
    INFO(row.url);
    Route got = route(r, row.url);
    CHECK(std::string(kind_name(got.kind)) == row.kind);
    std::string want_file = *row.file ? t.dir + "/" + row.file : "";
    if (got.kind == Route::Kind::kWsgi) {
      CHECK(got.script_filename == want_file);
      CHECK(got.script_name == row.script_name);
      CHECK(got.path_info == row.path_info);
      CHECK(got.group_name == row.group);
    } else if (got.kind == Route::Kind::kStatic) {
      CHECK(got.static_path == want_file);
    } else if (got.kind == Route::Kind::kRedirect) {
      CHECK(got.location == row.script_name);
    }
  }
}

}  // namespace

TEST_CASE("walk_file finds the first non-directory and the rest, as Apache's walk") {
  Tree t;
  t.file("a/b/app.wsgi");
  t.mkdir("a/c");
  struct Case {
    std::string path;
    FileWalk::Kind kind;
    std::string file, rest;
  } cases[] = {
      {t.dir + "/a/b/app.wsgi", FileWalk::Kind::kFile, t.dir + "/a/b/app.wsgi", ""},
      {t.dir + "/a/b/app.wsgi/x/y", FileWalk::Kind::kFile, t.dir + "/a/b/app.wsgi", "/x/y"},
      {t.dir + "/a/b/app.wsgi/", FileWalk::Kind::kFile, t.dir + "/a/b/app.wsgi", "/"},
      {t.dir + "/a/c", FileWalk::Kind::kDirectory, t.dir + "/a/c", ""},
      {t.dir + "/a/c/", FileWalk::Kind::kDirectory, t.dir + "/a/c", ""},
      {t.dir + "/a/nope/x", FileWalk::Kind::kMissing, t.dir + "/a/nope", ""},
      {"/", FileWalk::Kind::kDirectory, "/", ""},
  };
  for (const Case& c : cases) {
    INFO(c.path);
    FileWalk w = walk_file(c.path);
    CHECK(w.kind == c.kind);
    CHECK(w.file == c.file);
    CHECK(w.rest == c.rest);
  }
}

TEST_CASE("file_extensions and is_wsgi_script read names as mod_mime does") {
  struct Case {
    const char* file;
    const char* exts;
  } cases[] = {
      {"/x/app.wsgi", ".wsgi"},      {"/x/app.WSGI", ".wsgi"},
      {"/x/app.wsgi.bak", ".wsgi .bak"}, {"/x/.wsgi", ""},
      {"/x.d/app", ""},              {"/x/a..py", ".py"},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    std::string joined;
    for (const std::string& e : file_extensions(c.file)) joined += (joined.empty() ? "" : " ") + e;
    CHECK(joined == c.exts);
  }
  model::HandlerSettings h;
  h.wsgi_extensions = {".wsgi"};
  CHECK(is_wsgi_script(h, "/x/app.wsgi"));
  CHECK(is_wsgi_script(h, "/x/app.wsgi.bak"));  // Apache runs it too: never its source
  CHECK_FALSE(is_wsgi_script(h, "/x/app.py"));
  h.set_handler = "none";  // SetHandler None forces no handler; AddHandler still applies
  CHECK(is_wsgi_script(h, "/x/app.wsgi"));
  h.set_handler = "wsgi-script";
  CHECK(is_wsgi_script(h, "/x/style.css"));
  CHECK(index_names(model::HandlerSettings{}) == std::vector<std::string>{"index.html"});
}

TEST_CASE("Alias + SetHandler and DocumentRoot + AddHandler map as mod_wsgi does") {
  Tree t;
  for (const char* f : {"bin/keystone-wsgi-public", "www/index.html", "www/app.wsgi",
                        "www/app.wsgi.bak", "www/style.css", "www/docs/index.html",
                        "www/noexec/app.wsgi", "www/sub/dir/readme.txt", "www/idx/index.wsgi",
                        "www/plain/page.html"})
    t.file(f);
  Settings s;
  GroupEndpoint g;
  g.name = "keystone-public";
  s.groups = {g};
  g.name = "site";
  s.groups.push_back(g);
  model::VirtualHost& sv = s.config.server;
  sv.document_root = t.dir + "/www";
  model::StaticAlias identity;
  identity.url = "/identity";
  identity.path = t.dir + "/bin/keystone-wsgi-public";
  model::StaticAlias src;  // the same files under another URL: same handlers
  src.url = "/src/";
  src.path = t.dir + "/www/";
  sv.aliases = {identity, src};
  // Keystone's <Location /identity>.
  model::Block loc = block("/identity");
  loc.settings.handlers.set_handler = "wsgi-script";
  loc.settings.handlers.exec_cgi = true;
  loc.settings.process_group = "keystone-public";
  // mod_wsgi's guidelines: <Directory> AddHandler wsgi-script .wsgi, Options ExecCGI.
  model::Block www = block(t.dir + "/www");
  www.settings.handlers.wsgi_extensions = {".wsgi"};
  www.settings.handlers.exec_cgi = true;
  www.settings.process_group = "site";
  model::Block noexec = block(t.dir + "/www/noexec");
  noexec.settings.handlers.exec_cgi = false;
  model::Block idx = block(t.dir + "/www/idx");
  idx.settings.handlers.directory_index = std::vector<std::string>{"index.wsgi"};
  idx.settings.handlers.directory_slash = "notfound";
  model::Block plain = block(t.dir + "/www/plain");
  plain.settings.handlers.directory_index = std::vector<std::string>{};  // disabled
  plain.settings.handlers.directory_slash = "off";
  plain.settings.handlers.file_etag = model::kETagINode;
  plain.settings.handlers.file_etag_add = model::kETagSize;
  // <Files "*.css"> SetHandler wsgi-script, then <Location /style.css> SetHandler None.
  model::Block css = block("*.css", true);
  css.settings.handlers.set_handler = "wsgi-script";
  model::Block css_none = block("/style.css");
  css_none.settings.handlers.set_handler = "none";
  sv.directories = {www, noexec, idx, plain, css};
  sv.locations = {loc, css_none};
  Router r(s);

  const Row rows[] = {
      // Alias + <Location> SetHandler wsgi-script: Keystone's layout.
      {"/identity", "wsgi", "bin/keystone-wsgi-public", "/identity", "", "keystone-public"},
      {"/identity/v3/x", "wsgi", "bin/keystone-wsgi-public", "/identity", "/v3/x",
       "keystone-public"},
      {"/identity/", "wsgi", "bin/keystone-wsgi-public", "/identity", "/", "keystone-public"},
      // DocumentRoot + <Directory> AddHandler: SCRIPT_NAME is the script's URL.
      {"/app.wsgi", "wsgi", "www/app.wsgi", "/app.wsgi", "", "site"},
      {"/app.wsgi/x", "wsgi", "www/app.wsgi", "/app.wsgi", "/x", "site"},
      {"/app.wsgi/x/y/", "wsgi", "www/app.wsgi", "/app.wsgi", "/x/y/", "site"},
      {"/app.wsgi.bak", "wsgi", "www/app.wsgi.bak", "/app.wsgi.bak", "", "site"},
      {"/src/app.wsgi/y", "wsgi", "www/app.wsgi", "/src/app.wsgi", "/y", "site"},
      // Static files next to the scripts.
      {"/style.css", "static", "www/style.css", "", "", ""},
      {"/src/style.css", "wsgi", "www/style.css", "/src/style.css", "", "site"},
      {"/style.css/x", "404", "", "", "", ""},
      {"/missing.html", "404", "", "", "", ""},
      // Directories: mod_dir's slash redirect, index files, never a listing.
      {"/", "static", "www/index.html", "", "", ""},
      {"/docs", "301", "", "/docs/", "", ""},
      {"/docs/", "static", "www/docs/index.html", "", "", ""},
      {"/sub/", "403", "", "", "", ""},
      {"/sub/dir", "301", "", "/sub/dir/", "", ""},
      {"/idx/", "wsgi", "www/idx/index.wsgi", "/idx/index.wsgi", "", "site"},
      {"/plain/", "403", "", "", "", ""},
      {"/plain", "403", "", "", "", ""},  // DirectorySlash Off: no redirect
      {"/idx", "404", "", "", "", ""},    // DirectorySlash NotFound
      {"/plain/page.html", "static", "www/plain/page.html", "", "", ""},
      // mod_wsgi refuses a script without Options ExecCGI.
      {"/noexec/app.wsgi", "403", "", "", "", ""},
  };
  check_rows(r, t, rows, sizeof rows / sizeof rows[0]);
  Route no_exec = route(r, "/noexec/app.wsgi");
  CHECK(no_exec.error == "Options ExecCGI is off in this directory: " + t.dir +
                             "/www/noexec/app.wsgi");
  CHECK(route(r, "/sub/").error == "'" + t.dir + "/www/sub' is a directory without an index "
                                   "file, and wsgid never lists directories");
  // FileETag travels with a static file's route: the default, or its scope's.
  CHECK(route(r, "/style.css").etag_bits == model::kETagDefault);
  CHECK(route(r, "/plain/page.html").etag_bits == (model::kETagINode | model::kETagSize));
}

TEST_CASE("graphite's layout: SetHandler None under WSGIScriptAlias / serves the Alias") {
  Tree t;
  t.file("graphite.wsgi");
  t.file("static/css/graphite.css");
  t.file("htdocs/index.html");
  Settings s;
  model::VirtualHost& sv = s.config.server;
  sv.document_root = t.dir + "/htdocs";  // loses to every alias
  model::Mount m;
  m.url = "/";
  m.script = t.dir + "/graphite.wsgi";
  sv.mounts = {m};
  model::StaticAlias st;
  st.url = "/static/";
  st.path = t.dir + "/static/";
  sv.aliases = {st};
  model::Block none = block("/static/");
  none.settings.handlers.set_handler = "none";
  model::Block all = block("/");  // SetHandler under the script alias changes nothing
  all.settings.handlers.set_handler = "wsgi-script";
  sv.locations = {all, none};
  Router r(s);
  const Row rows[] = {
      {"/static/css/graphite.css", "static", "static/css/graphite.css", "", "", ""},
      {"/static/", "403", "", "", "", ""},
      {"/static/css", "301", "", "/static/css/", "", ""},
      {"/render", "wsgi", "graphite.wsgi", "", "/render", ""},
      {"/", "wsgi", "graphite.wsgi", "", "/", ""},
      {"/index.html", "wsgi", "graphite.wsgi", "", "/index.html", ""},
  };
  check_rows(r, t, rows, sizeof rows / sizeof rows[0]);
}

TEST_CASE("a directory URL's redirect escapes what is not safe in a URL path") {
  Tree t;
  t.mkdir("a b");
  Settings s;
  s.config.server.document_root = t.dir;
  Router r(s);
  Route got = route(r, "/a%20b");
  CHECK(got.kind == Route::Kind::kRedirect);
  CHECK(got.location == "/a%20b/");
  CHECK(route(r, "/").kind == Route::Kind::kForbidden);  // no index.html at the root
}

TEST_CASE("a handler scope without a process group may run embedded: Python starts") {
  struct Case {
    const char* what;
    const char* scope_group;   // the handler block's WSGIProcessGroup, "" = unset
    const char* server_group;  // the server's, "" = unset
    bool restrict;
    bool embedded;
  } cases[] = {
      {"no group anywhere", "", "", false, true},
      {"the block names one", "site", "", false, false},
      {"the server names one", "", "site", false, false},
      {"%{GLOBAL} is embedded", "%{GLOBAL}", "", false, true},
      {"WSGIRestrictEmbedded On", "", "", true, false},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    model::Config cfg;
    model::Block b = block("/srv/www");
    b.settings.handlers.wsgi_extensions = {".wsgi"};
    if (*c.scope_group) b.settings.process_group = c.scope_group;
    if (*c.server_group) cfg.server.settings.process_group = c.server_group;
    cfg.server.directories = {b};
    cfg.restrict_embedded = c.restrict;
    CHECK(model::handler_may_run_embedded(cfg) == c.embedded);
  }
  CHECK_FALSE(model::handler_may_run_embedded(model::Config{}));
}
