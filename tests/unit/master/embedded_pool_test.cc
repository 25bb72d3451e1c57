// embedded_pool.h: when a reload replaces the embedded pool, and what control
// command names mean for it.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "supervisor/config/parser.h"
#include "supervisor/master/embedded_pool.h"

using namespace wsgid;
using namespace wsgid::master;

namespace {

model::Config parse(const std::string& text) {
  config::ParseOptions o;
  o.check_files = false;
  auto r = config::parse_config_text("/etc/wsgid/test.conf", text, o);
  INFO(r.diags.render_all());
  REQUIRE(r.ok());
  return r.config;
}

// A temp dir holding the embedded script; removed at the end.
struct ScriptDir {
  std::string dir, script;
  ScriptDir() {
    char templ[] = "/tmp/wsgid-embpool-test.XXXXXX";
    REQUIRE(mkdtemp(templ));
    dir = templ;
    script = dir + "/emb.wsgi";
    write();
  }
  ~ScriptDir() {
    unlink(script.c_str());
    rmdir(dir.c_str());
  }
  // Rewrites the script with an mtime one second later than before.
  void write() {
    struct stat before {};
    bool existed = stat(script.c_str(), &before) == 0;
    std::ofstream(script) << "def application(e, s): pass\n";
    if (existed) {
      struct timespec t[2] = {before.st_atim, before.st_mtim};
      t[1].tv_sec += 1;
      utimensat(AT_FDCWD, script.c_str(), t, 0);
    }
  }
};

std::string config_text(const std::string& script, const std::string& extra) {
  return "Listen 127.0.0.1:8080\n"
         "WSGIDaemonProcess site threads=2\n"
         "WSGIScriptAlias /site /srv/site.wsgi process-group=site\n"
         "WSGIScriptAlias /emb " + script + "\n" + extra;
}

}  // namespace

TEST_CASE("replace_reason: the pool's configuration and scripts, nothing else") {
  ScriptDir sd;
  struct Case {
    const char* what;
    const char* next_extra;
    bool touch;
    std::string reason;
  } cases[] = {
      {"nothing changed", "", false, ""},
      {"ThreadsPerChild", "ThreadsPerChild 5\n", false, "the embedded pool's configuration changed"},
      {"WSGIPythonPath", "WSGIPythonPath /srv/lib\n", false, "the embedded pool's configuration changed"},
      {"a route", "WSGIScriptAlias /other /srv/other.wsgi\n", false,
       "the embedded pool's configuration changed"},
      {"WSGIScriptReloading", "WSGIScriptReloading Off\n", false,
       "the embedded pool's configuration changed"},
      {"a daemon group's options", "WSGIDaemonProcess other threads=3\n", false, ""},
      {"Listen (the front end is replaced for it anyway)", "Listen 127.0.0.1:8081\n", false, ""},
      {"LogLevel", "LogLevel debug\n", false, ""},
      {"LimitRequestLine", "LimitRequestLine 4000\n", false, ""},
      {"the script touched", "", true, "script " + sd.script + " changed"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    model::Config current = parse(config_text(sd.script, ""));
    model::Config next = parse(config_text(sd.script, c.next_extra));
    EmbeddedPool pool;
    pool.configure(current);
    REQUIRE(pool.present());
    pool.spawned();
    if (c.touch) sd.write();
    CHECK(pool.replace_reason(current, next) == c.reason);
  }
}

TEST_CASE("replace_reason: scripts are compared with the front end's last spawn") {
  ScriptDir sd;
  model::Config c = parse(config_text(sd.script, ""));
  EmbeddedPool pool;
  pool.configure(c);
  pool.spawned();
  sd.write();
  CHECK(pool.replace_reason(c, c) == "script " + sd.script + " changed");
  pool.spawned();  // a new front end runs the new file
  CHECK(pool.replace_reason(c, c) == "");
  unlink(sd.script.c_str());
  CHECK(pool.replace_reason(c, c) == "script " + sd.script + " changed");
}

TEST_CASE("replace_reason: a script a reload added is compared from the reload on") {
  ScriptDir sd;
  model::Config without = parse("Listen 127.0.0.1:8080\nWSGIDaemonProcess site\n"
                                "WSGIScriptAlias /site /srv/site.wsgi process-group=site\n");
  model::Config with = parse(config_text(sd.script, ""));
  EmbeddedPool pool;
  pool.configure(without);
  pool.spawned();
  pool.configure(with);  // the running front end starts Python for it
  CHECK(pool.replace_reason(with, with) == "");
  sd.write();
  CHECK(pool.replace_reason(with, with) == "script " + sd.script + " changed");
  pool.configure(without);  // removed: no longer compared
  pool.configure(with);     // added again: as the file is now
  CHECK(pool.replace_reason(with, with) == "");
}

TEST_CASE("no embedded alias: no pool, never replaced, never named") {
  model::Config a = parse("Listen 127.0.0.1:8080\nWSGIDaemonProcess site\n"
                          "WSGIScriptAlias /site /srv/site.wsgi process-group=site\n");
  model::Config b = parse("Listen 127.0.0.1:8080\nWSGIDaemonProcess site\nThreadsPerChild 3\n"
                          "WSGIScriptAlias /emb /srv/emb.wsgi\n");
  EmbeddedPool pool;
  pool.configure(a);
  pool.spawned();
  CHECK_FALSE(pool.present());
  CHECK(pool.replace_reason(a, b) == "");  // the running front end starts Python itself
  CHECK_FALSE(pool.names_pool({"all"}));
  CHECK_FALSE(pool.names_pool({"%{GLOBAL}"}));
  pool.configure(b);
  CHECK(pool.present());
  CHECK(pool.threads() == 3);
}

TEST_CASE("names_pool and without_pool") {
  EmbeddedPool pool;
  pool.configure(parse("WSGIScriptAlias /emb /srv/emb.wsgi\n"));
  REQUIRE(pool.present());
  CHECK(pool.threads() == 25);  // ThreadsPerChild's default in wsgid
  struct Case {
    std::vector<std::string> names;
    bool pool;
    std::vector<std::string> groups;
  } cases[] = {
      {{"all"}, true, {"all"}},
      {{"%{GLOBAL}"}, true, {}},
      {{"site", "%{GLOBAL}"}, true, {"site"}},
      {{"site"}, false, {"site"}},
      {{"GLOBAL"}, false, {"GLOBAL"}},
  };
  for (const Case& c : cases) {
    CHECK(pool.names_pool(c.names) == c.pool);
    CHECK(EmbeddedPool::without_pool(c.names) == c.groups);
  }
}
