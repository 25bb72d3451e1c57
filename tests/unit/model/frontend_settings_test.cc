// The kSettings JSON of the front end: round trip from a Config, and the exact
// error of each malformed value.
#include <doctest/doctest.h>

#include "model/frontend_settings.h"

using namespace wsgid;
using namespace wsgid::model;
using nlohmann::json;

TEST_CASE("settings round trip from a Config") {
  model::Config c;
  model::ListenAddr l;
  l.host = "127.0.0.1";
  l.port = 8080;
  c.listen = {l};
  c.user = "www-data";
  c.limit_request_body = 1234;
  c.keep_alive_timeout = 7;
  model::GroupSpec g;
  g.name = "site1";
  g.processes = 2;
  g.threads = 4;
  g.queue_timeout = 45;
  c.groups = {g};
  model::Mount m;
  m.url = "/";
  m.script = "/srv/a.wsgi";
  m.process_group = "site1";
  c.server.mounts = {m};
  model::VirtualHost vh;
  model::ListenAddr any;
  any.port = 80;
  vh.addrs = {any};
  vh.server_name = "example.com";
  vh.server_aliases = {"*.example.com"};
  model::Block b;
  b.path = "/admin";
  b.settings.process_group = "site1";
  b.settings.pass_authorization = true;
  vh.locations = {b};
  model::LogFile lf;
  lf.path = "/tmp/access.log";
  lf.format = "%h %>s";
  vh.custom_logs = {lf};
  c.vhosts = {vh};

  json j = frontend_settings_to_json(c, {{"site1", "/run/wsgid/wsgi.site1.sock"}}, {}, 3);
  CHECK(j["listen"] == json::array({"127.0.0.1:8080"}));
  CHECK(j["groups"][0]["socket"] == "/run/wsgid/wsgi.site1.sock");
  CHECK(j["groups"][0]["state"] == "running");
  CHECK(j["vhosts"][0]["addrs"] == json::array({"*:80"}));

  auto s = frontend_settings_from_json(j);
  REQUIRE(s.is_ok());
  CHECK(s->generation == 3);
  CHECK(s->user == std::optional<std::string>("www-data"));
  CHECK(s->config.listen[0].host == "127.0.0.1");
  CHECK(s->config.listen[0].port == 8080);
  CHECK(s->config.limit_request_body == 1234);
  CHECK(s->config.keep_alive_timeout == 7);
  REQUIRE(s->groups.size() == 1);
  CHECK(s->groups[0].processes == 2);
  CHECK(s->groups[0].threads == 4);
  CHECK(s->groups[0].queue_timeout == 45);
  CHECK(s->config.server.mounts[0].process_group == std::optional<std::string>("site1"));
  REQUIRE(s->config.vhosts.size() == 1);
  CHECK(s->config.vhosts[0].addrs[0].host == "");
  CHECK(s->config.vhosts[0].addrs[0].port == 80);
  CHECK(s->config.vhosts[0].server_aliases[0] == "*.example.com");
  CHECK(s->config.vhosts[0].locations[0].settings.pass_authorization == std::optional<bool>(true));
  CHECK(s->config.vhosts[0].custom_logs[0].format == "%h %>s");
  c.server.settings.restrict_process = std::vector<std::string>{"site1"};
  auto again = frontend_settings_from_json(frontend_settings_to_json(c, {}, {}, 1));
  REQUIRE(again.is_ok());
  CHECK(again->config.server.settings.restrict_process == std::optional<std::vector<std::string>>(std::vector<std::string>{"site1"}));
  // Issue 12: the body settings of every scope travel.
  c.vhosts[0].settings.limit_request_body = 114688;
  c.vhosts[0].locations[0].settings.chunked_request = true;
  c.vhosts[0].locations[0].settings.limit_request_body = 0;
  auto body = frontend_settings_from_json(frontend_settings_to_json(c, {}, {}, 1));
  REQUIRE(body.is_ok());
  CHECK(body->config.vhosts[0].settings.limit_request_body == std::optional<int64_t>(114688));
  CHECK_FALSE(body->config.vhosts[0].settings.chunked_request);
  CHECK(body->config.vhosts[0].locations[0].settings.chunked_request == std::optional<bool>(true));
  CHECK(body->config.vhosts[0].locations[0].settings.limit_request_body == std::optional<int64_t>(0));
  // Issue 15: a uwsgi listener and its trust list travel; the list replaces the default.
  CHECK(s->config.uwsgi_trusted_peers == std::vector<std::string>{"127.0.0.0/8", "::1"});
  c.listen[0].protocol = model::ListenProtocol::kUwsgi;
  c.uwsgi_trusted_peers = {"192.0.2.0/24"};
  auto uwsgi = frontend_settings_from_json(frontend_settings_to_json(c, {}, {}, 1));
  REQUIRE(uwsgi.is_ok());
  CHECK(uwsgi->config.listen[0].protocol == model::ListenProtocol::kUwsgi);
  CHECK(uwsgi->config.uwsgi_trusted_peers == std::vector<std::string>{"192.0.2.0/24"});
}

TEST_CASE("settings carry the rewrite directives of the server, vhosts and <Location>s") {
  model::Config c;
  model::RewriteDirective r;
  r.name = "RewriteRule";
  r.args = {"^/secret", "-", "[F]"};
  c.server.rewrite = {r};
  model::VirtualHost vh;
  model::Block loc;
  loc.path = "/app";
  r.name = "Header";
  r.args = {"always", "set", "X-A", "b c"};
  loc.rewrite = {r};
  vh.locations = {loc};
  vh.rewrite = {r, r};
  c.vhosts = {vh};
  auto s = frontend_settings_from_json(frontend_settings_to_json(c, {}, {}, 1));
  REQUIRE(s.is_ok());
  REQUIRE(s->config.server.rewrite.size() == 1);
  CHECK(s->config.server.rewrite[0].name == "RewriteRule");
  CHECK(s->config.server.rewrite[0].args == std::vector<std::string>{"^/secret", "-", "[F]"});
  REQUIRE(s->config.vhosts.size() == 1);
  CHECK(s->config.vhosts[0].rewrite.size() == 2);
  REQUIRE(s->config.vhosts[0].locations.size() == 1);
  REQUIRE(s->config.vhosts[0].locations[0].rewrite.size() == 1);
  CHECK(s->config.vhosts[0].locations[0].rewrite[0].args ==
        std::vector<std::string>{"always", "set", "X-A", "b c"});
}

TEST_CASE("settings carry mod_wsgi's auth providers: AuthBasicProvider and the three scripts") {
  model::Config c;
  model::Block loc;
  loc.path = "/app";
  loc.access.lines = {{"Require", {"wsgi-group", "staff"}}};
  loc.access.basic_providers = std::vector<std::string>{"file", "wsgi"};
  loc.access.auth_user_script = model::AuthScript{"/srv/auth.wsgi", "%{GLOBAL}"};
  loc.access.auth_group_script = model::AuthScript{"/srv/groups.wsgi", std::nullopt};
  loc.access.access_script = model::AuthScript{"/srv/access.wsgi", "site"};
  model::Block plain;
  plain.path = "/plain";
  plain.access.lines = {{"Require", {"all", "granted"}}};
  c.server.locations = {loc, plain};
  auto s = frontend_settings_from_json(frontend_settings_to_json(c, {}, {}, 1));
  REQUIRE(s.is_ok());
  REQUIRE(s->config.server.locations.size() == 2);
  const model::BlockAccess& a = s->config.server.locations[0].access;
  CHECK(a.basic_providers == std::vector<std::string>{"file", "wsgi"});
  REQUIRE(a.auth_user_script);
  CHECK(a.auth_user_script->path == "/srv/auth.wsgi");
  CHECK(a.auth_user_script->application_group == "%{GLOBAL}");
  REQUIRE(a.auth_group_script);
  CHECK(a.auth_group_script->path == "/srv/groups.wsgi");
  CHECK(!a.auth_group_script->application_group);
  REQUIRE(a.access_script);
  CHECK(a.access_script->application_group == "site");
  const model::BlockAccess& b = s->config.server.locations[1].access;
  CHECK(!b.basic_providers);
  CHECK(!b.auth_user_script);
  CHECK(!b.access_script);
  // A block with a script and no line is not "empty": it travels.
  model::Config only;
  model::Block sb;
  sb.path = "/s";
  sb.access.access_script = model::AuthScript{"/srv/access.wsgi", std::nullopt};
  only.server.locations = {sb};
  auto t = frontend_settings_from_json(frontend_settings_to_json(only, {}, {}, 1));
  REQUIRE(t.is_ok());
  REQUIRE(t->config.server.locations.size() == 1);
  CHECK(t->config.server.locations[0].access.access_script);
}

TEST_CASE("settings errors name the key") {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"[]", "settings: not a JSON object"},
      {R"({"listen": "x"})", "settings: 'listen' must be an array"},
      {R"({"listen": ["nope"]})", "settings: 'listen' must hold addresses like \"127.0.0.1:8080\""},
      {R"({"groups": [{"socket": "/s"}]})", "settings: 'groups[0].name' is missing"},
      {R"({"groups": [{"name": 1, "socket": "/s"}]})", "settings: 'groups[0].name' must be a string"},
      {R"({"groups": [{"name": "g", "socket": "/s", "state": "odd"}]})",
       "settings: 'groups[0].state' must be \"running\", \"replacing\", \"stopped\" or \"down\""},
      {R"({"limits": {"body": "big"}})", "settings: 'limits.body' must be a number"},
      {R"({"server": {"mounts": [{"url": "/"}]}})", "settings: 'server.mounts[0].script' is missing"},
      {R"({"vhosts": [{"addrs": [80]}]})", "settings: 'vhosts[0].addrs' must hold addresses like \"*:80\""},
      {R"({"vhosts": [{"settings": {"process_group": 3}}]})",
       "settings: 'vhosts[0].settings.process_group' must be a string or null"},
      {R"({"server": {"settings": {"limit_request_body": "1k"}}})",
       "settings: 'server.settings.limit_request_body' must be a number or null"},
      {R"({"server": {"settings": {"chunked_request": 1}}})",
       "settings: 'server.settings.chunked_request' must be a boolean or null"},
      {R"({"server": {"settings": {"restrict_process": "a"}}})",
       "settings: 'server.settings.restrict_process' must be an array of strings"},
      {R"({"server": {"rewrite": [{"args": []}]}})", "settings: 'server.rewrite[0].name' is missing"},
      {R"({"server": {"rewrite": [{"name": "Header", "args": [1]}]}})",
       "settings: 'server.rewrite[0].args' must hold strings"},
      {R"({"vhosts": [{"locations": [{"path": "/a", "rewrite": {}}]}]})",
       "settings: 'vhosts[0].locations[0].rewrite' must be an array"},
      {R"({"server": {"locations": [{"path": "/a", "access": {"lines": [], "basic_providers": "wsgi"}}]}})",
       "settings: 'server.locations[0].access.basic_providers' must be an array of strings"},
      {R"({"server": {"locations": [{"path": "/a", "access": {"lines": [], "access_script": {}}}]}})",
       "settings: 'server.locations[0].access.access_script.path' is missing"},
      {R"({"listen": ["127.0.0.1:80"], "listen_systemd": [1]})",
       "settings: 'listen_systemd' must hold indices of \"listen\""},
      {R"({"listen": ["127.0.0.1:80"], "listen_systemd": [-1]})",
       "settings: 'listen_systemd' must hold indices of \"listen\""},
      {R"({"loops": 0})", "settings: 'loops' must be from 1 to 64"},
      {R"({"loops": 65})", "settings: 'loops' must be from 1 to 64"},
      {R"({"loops": "2"})", "settings: 'loops' must be a number"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    auto s = frontend_settings_from_json(json::parse(c.text));
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.status().message() == c.error);
  }
}

TEST_CASE("settings name the listeners systemd holds too") {
  auto s = frontend_settings_from_json(
      json::parse(R"({"listen": ["127.0.0.1:80", "127.0.0.1:81", "127.0.0.1:82"], "listen_systemd": [0, 2]})"));
  REQUIRE(s.is_ok());
  CHECK(s->listen_systemd == std::set<size_t>{0, 2});
  auto none = frontend_settings_from_json(json::parse(R"({"listen": ["127.0.0.1:80"]})"));
  REQUIRE(none.is_ok());
  CHECK(none->listen_systemd.empty());
}

TEST_CASE("settings carry the front end's event loops (the master's count; 1 without)") {
  auto s = frontend_settings_from_json(json::parse(R"({"loops": 3})"));
  REQUIRE(s.is_ok());
  CHECK(s->loops == 3);
  auto none = frontend_settings_from_json(json::parse(R"({})"));
  REQUIRE(none.is_ok());
  CHECK(none->loops == 1);
}

TEST_CASE("listen addresses") {
  struct Case {
    const char* text;
    bool ok;
    const char* host;
    int port;
  } cases[] = {
      {"127.0.0.1:8080", true, "127.0.0.1", 8080}, {"[::1]:80", true, "::1", 80},
      {"*:80", true, "", 80},                      {"0.0.0.0:0", true, "", 0},
      {"80", false, "", 0},                        {"x:99999", false, "", 0},
      {"x:8a", false, "", 0},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.text));
    model::ListenAddr a;
    CHECK(parse_listen_text(c.text, &a) == c.ok);
    if (!c.ok) continue;
    CHECK(a.host == c.host);
    CHECK(a.port == c.port);
  }
  model::ListenAddr v6;
  v6.host = "::1";
  v6.port = 80;
  CHECK(listen_text(v6) == "[::1]:80");
}

TEST_CASE("settings carry the handlers part: DocumentRoot, SetHandler, AddHandler, <Files>") {
  model::Config c;
  c.server.document_root = "/srv/www";
  model::Block files;
  files.path = "*.wsgi";
  files.is_files = true;
  files.settings.handlers.set_handler = "wsgi-script";
  files.settings.handlers.exec_cgi = true;
  model::Block dir;
  dir.path = "/srv/www";
  dir.settings.handlers.wsgi_extensions = {".wsgi", ".py"};
  dir.settings.handlers.directory_index = std::vector<std::string>{};
  c.server.directories = {files, dir};
  auto s = frontend_settings_from_json(frontend_settings_to_json(c, {}, {}, 1));
  REQUIRE(s.is_ok());
  const model::VirtualHost& sv = s->config.server;
  CHECK(sv.document_root == std::optional<std::string>("/srv/www"));
  REQUIRE(sv.directories.size() == 2);
  CHECK(sv.directories[0].is_files);
  CHECK(sv.directories[0].settings.handlers.set_handler == std::optional<std::string>("wsgi-script"));
  CHECK(sv.directories[0].settings.handlers.exec_cgi == std::optional<bool>(true));
  CHECK_FALSE(sv.directories[1].is_files);
  CHECK(sv.directories[1].settings.handlers.wsgi_extensions ==
        std::vector<std::string>{".wsgi", ".py"});
  CHECK(sv.directories[1].settings.handlers.directory_index ==
        std::optional<std::vector<std::string>>(std::vector<std::string>{}));
  CHECK_FALSE(sv.directories[1].settings.handlers.exec_cgi.has_value());
}
