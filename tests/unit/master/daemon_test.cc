// The reload diff and the worker settings (daemon.h).
#include <doctest/doctest.h>

#include <unistd.h>

#include <map>
#include <set>
#include <string>

#include "supervisor/config/parser.h"
#include "supervisor/master/daemon.h"
#include "supervisor/master/daemon_impl.h"

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

const char* kBase =
    "Listen 127.0.0.1:8080\n"
    "Listen 127.0.0.1:8081\n"
    "WSGIDaemonProcess keep threads=2\n"
    "WSGIDaemonProcess change threads=2\n"
    "WSGIDaemonProcess gone threads=2\n"
    "WSGIScriptAlias /keep /srv/keep.wsgi process-group=keep\n"
    "WSGIScriptAlias /change /srv/change.wsgi process-group=change\n"
    "WSGIScriptAlias /gone /srv/gone.wsgi process-group=gone\n";

}  // namespace

TEST_CASE("diff: identical configs change nothing") {
  auto a = parse(kBase), b = parse(kBase);
  ConfigDiff d = diff_configs(a, b, "/run/wsgid");
  CHECK(d.added_groups.empty());
  CHECK(d.removed_groups.empty());
  CHECK(d.changed_groups.empty());
  CHECK(d.unchanged_groups == std::vector<std::string>{"change", "gone", "keep"});
  CHECK_FALSE(d.listen_changed());
}

TEST_CASE("diff: added, removed, changed, unchanged groups and listeners") {
  auto a = parse(kBase);
  auto b = parse(
      "Listen 127.0.0.1:8080\n"
      "Listen 127.0.0.1:9090\n"
      "LogLevel debug\n"
      "WSGIDaemonProcess keep threads=2\n"
      "WSGIDaemonProcess change threads=3 processes=2\n"
      "WSGIDaemonProcess fresh threads=1\n"
      "WSGIScriptAlias /keep /srv/keep.wsgi process-group=keep\n"
      "WSGIScriptAlias /change /srv/change.wsgi process-group=change\n"
      "WSGIScriptAlias /fresh /srv/fresh.wsgi process-group=fresh\n");
  ConfigDiff d = diff_configs(a, b, "/run/wsgid");
  CHECK(d.added_groups == std::vector<std::string>{"fresh"});
  CHECK(d.removed_groups == std::vector<std::string>{"gone"});
  INFO(nlohmann::json(d.changed_groups).dump(), nlohmann::json(d.unchanged_groups).dump());
  CHECK(d.changed_groups == std::vector<std::string>{"change"});
  // LogLevel alone restarts nothing.
  CHECK(d.unchanged_groups == std::vector<std::string>{"keep"});
  CHECK(d.added_listen == std::vector<std::string>{"127.0.0.1:9090"});
  CHECK(d.removed_listen == std::vector<std::string>{"127.0.0.1:8081"});
  CHECK(d.listen_changed());
}

TEST_CASE("diff: a kept address whose Listen protocol changes replaces the front end (issue 15)") {
  std::string base = kBase;
  std::string agent = base;
  agent.replace(agent.find("Listen 127.0.0.1:8081"), 21, "Listen 127.0.0.1:8081 haproxy-agent");
  auto a = parse(base), b = parse(agent);
  ConfigDiff d = diff_configs(a, b, "/run/wsgid");
  CHECK(d.added_listen.empty());
  CHECK(d.removed_listen.empty());
  CHECK(d.protocol_changed == std::vector<std::string>{"127.0.0.1:8081"});
  CHECK(d.listen_changed());
  auto c = parse(agent);
  CHECK_FALSE(diff_configs(b, c, "/run/wsgid").listen_changed());
}

TEST_CASE("diff: what makes a group changed") {
  const std::pair<const char*, bool> cases[] = {
      {"WSGIDaemonProcess keep threads=2", false},
      {"WSGIDaemonProcess keep threads=2 display-name=%{GROUP}", true},
      {"WSGIDaemonProcess keep threads=2 maximum-requests=100", true},
      {"WSGIDaemonProcess keep threads=2 listen-backlog=50", true},
      {"WSGIDaemonProcess keep threads=2 python-path=/srv/lib", true},
      {"WSGIDaemonProcess keep threads=2\nWSGIPythonPath /opt/x", true},
      {"WSGIDaemonProcess keep threads=2\nWSGISocketPrefix /var/run/other", true},
      {"WSGIDaemonProcess keep threads=2\nWSGIImportScript /srv/keep.wsgi process-group=keep application-group=%{GLOBAL}", true},
      {"WSGIDaemonProcess keep threads=2\nLogLevel info", false},
      {"WSGIDaemonProcess keep threads=2\nErrorLog /var/log/wsgid/other.log", false},
      {"WSGIDaemonProcess keep threads=2\nWSGIScriptReloading Off", false},
  };
  auto a = parse("WSGIDaemonProcess keep threads=2\nWSGIScriptAlias /keep /srv/keep.wsgi process-group=keep\n");
  for (auto [text, changed] : cases) {
    CAPTURE(text);
    auto b = parse(std::string(text) + "\nWSGIScriptAlias /keep /srv/keep.wsgi process-group=keep\n");
    ConfigDiff d = diff_configs(a, b, "/run/wsgid");
    CHECK((d.changed_groups.size() == 1) == changed);
    CHECK((d.unchanged_groups.size() == 1) == !changed);
  }
}

TEST_CASE("worker settings follow protocol/PROTOCOL.md 7.3") {
  auto c = parse(
      "User nobody\n"
      "WSGIPythonHome /opt/venv\n"
      "WSGIPythonPath /srv/lib\n"
      "LogLevel info\n"
      "WSGIDaemonProcess site1 processes=2 threads=4 display-name=%{GROUP}\n"
      "WSGIImportScript /srv/site1.wsgi process-group=site1 application-group=%{GLOBAL}\n"
      "WSGIScriptAlias /a /srv/a.wsgi process-group=site1 application-group=app_a\n"
      "WSGIScriptAlias /b /srv/b.wsgi process-group=site1\n");
  auto j = worker_settings(c, *c.find_group("site1"));
  CHECK(j["role"] == "worker");
  CHECK_FALSE(j.contains("index"));
  CHECK_FALSE(j.contains("generation"));
  CHECK(j["group"]["name"] == "site1");
  CHECK(j["group"]["processes"] == 2);
  CHECK(j["group"]["threads"] == 4);
  CHECK(j["group"]["display_name"] == "(wsgi:site1)");
  CHECK(j["default_user"] == "nobody");
  CHECK(j["python_home"] == "/opt/venv");
  CHECK(j["python_path"] == nlohmann::json::array({"/srv/lib"}));
  CHECK(j["log_level"] == "info");
  REQUIRE(j["preload"].size() == 2);
  CHECK(j["preload"][0] == nlohmann::json({{"script", "/srv/site1.wsgi"},
                                           {"application_group", ""},
                                           {"callable_object", "application"},
                                           {"kind", "import"}}));
  CHECK(j["preload"][1] == nlohmann::json({{"script", "/srv/a.wsgi"},
                                           {"application_group", "app_a"},
                                           {"callable_object", "application"},
                                           {"kind", "alias"}}));
  if (geteuid() == 0) {
    CHECK(j["default_group"] == "www-data");
  } else {
    CHECK(j["default_group"].is_null());
  }
}

TEST_CASE("script reloading: the files watched per group, per scope") {
  using Files = std::map<std::string, std::set<std::string>>;
  const std::string groups =
      "WSGIDaemonProcess a threads=1\n"
      "WSGIDaemonProcess b threads=1\n"
      "WSGIScriptAlias /a /srv/a.wsgi process-group=a\n"
      "WSGIScriptAlias /b /srv/b.wsgi process-group=b\n"
      "WSGIImportScript /srv/a.wsgi process-group=a application-group=%{GLOBAL}\n";
  const std::pair<std::string, Files> cases[] = {
      {"", {{"/srv/a.wsgi", {"a"}}, {"/srv/b.wsgi", {"b"}}}},
      {"WSGIScriptReloading Off\n", {}},
      {"<Location /b>\nWSGIScriptReloading Off\n</Location>\n", {{"/srv/a.wsgi", {"a"}}}},
      // Off at server level, On for one Location: that alias only (not the import).
      {"WSGIScriptReloading Off\n<Location /b>\nWSGIScriptReloading On\n</Location>\n",
       {{"/srv/b.wsgi", {"b"}}}},
      {"<Directory /srv>\nWSGIScriptReloading Off\n</Directory>\n", {{"/srv/a.wsgi", {"a"}}}},
  };
  for (const auto& [extra, want] : cases) {
    CAPTURE(extra);
    auto c = parse(groups + extra);
    CHECK(script_files(c) == want);
  }
}
