// model_json.h: group_to_json / group_from_json invert each other, wrong types
// are named, config_to_json holds the named keys.
#include <doctest/doctest.h>

#include "model/model_json.h"
#include "supervisor/config/parser.h"

using namespace wsgid::config;
using namespace wsgid::model;
using nlohmann::json;

namespace {

Config parse_ok(const std::string& text) {
  ParseOptions o;
  o.check_files = false;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv";
  ParseResult r = parse_config_text("m.conf", text, o);
  INFO(r.diags.render_all());
  CHECK_FALSE(r.diags.has_errors());
  return std::move(r.config);
}

}  // namespace

TEST_CASE("group_from_json inverts group_to_json") {
  const char* lines[] = {
      "WSGIDaemonProcess a",
      "WSGIDaemonProcess b processes=1 threads=25",
      "WSGIDaemonProcess c processes=5 threads=1 maximum-requests=1 display-name=%{GROUP} "
      "user=#1000 group=#1000 supplementary-groups=#5,#6 umask=0027 home=/srv lang=C.UTF-8 "
      "locale=C.UTF-8 chroot=/j cpu-priority=-3 stack-size=1048576 socket-user=x script-user=y "
      "python-home=/v python-path=/a:/b python-eggs=/e switch-interval=0.002 restart-interval=1 "
      "inactivity-timeout=2 startup-timeout=3 startup-retries=0 graceful-timeout=4 eviction-timeout=5 "
      "shutdown-timeout=6 cpu-time-limit=7 memory-limit=8 virtual-memory-limit=9 "
      "request-timeout=10 interrupt-timeout=11 deadlock-timeout=12 listen-backlog=13 "
      "connect-timeout=14 socket-timeout=15 queue-timeout=16 response-socket-timeout=17 "
      "response-flush-delay=18 send-buffer-size=1024 receive-buffer-size=2048 "
      "header-buffer-size=9000 response-buffer-size=70000 server-metrics=On",
  };
  for (const char* line : lines) {
    Config c = parse_ok(std::string(line) + "\n");
    REQUIRE(c.groups.size() == 1);
    json j = group_to_json(c.groups[0]);
    wsgid::Result<GroupSpec> back = group_from_json(j);
    REQUIRE(back.is_ok());
    json j2 = group_to_json(*back);
    j.erase("defined_at");
    j2.erase("defined_at");
    INFO(line);
    CHECK(j == j2);
    CHECK(back->processes_given == c.groups[0].processes_given);
    // Through text too: the master sends it as a string.
    CHECK(group_to_json(*group_from_json(json::parse(j.dump()))).dump() ==
          group_to_json(*back).dump());
  }
}

TEST_CASE("group JSON: the named keys, durations in seconds, null for unset") {
  Config c = parse_ok("WSGIDaemonProcess site1 processes=2 threads=4 display-name=%{GROUP} "
                      "response-flush-delay=250\n");
  json j = group_to_json(c.groups[0]);
  CHECK(j["name"] == "site1");
  CHECK(j["processes"] == 2);
  CHECK(j["threads"] == 4);
  CHECK(j["multithread"] == true);
  CHECK(j["multiprocess"] == true);
  CHECK(j["run_once"] == false);
  CHECK(j["display_name"] == "(wsgi:site1)");
  CHECK(j["display-name"] == "%{GROUP}");
  CHECK(j["response-flush-delay"] == 0.25);
  CHECK(j["user"].is_null());
  CHECK(j["graceful-timeout"] == 15.0);
  CHECK(j["deadlock-timeout"] == 300.0);
  CHECK(j["socket-timeout"] == 60.0);
  CHECK(j["header-buffer-size"] == 32768);
  CHECK(parse_ok("WSGIDaemonProcess w\n").groups[0].title() == "wsgid-worker w");
  CHECK(parse_ok("WSGIDaemonProcess w display-name=app-%{GROUP}\n").groups[0].title() == "app-w");
}

TEST_CASE("group_from_json names the key with the wrong type") {
  struct Case {
    json j;
    const char* message;
  } cases[] = {
      {json::array(), "group settings: expected a JSON object"},
      {json{{"threads", 2}}, "group settings: 'name' must be a string"},
      {json{{"name", "a"}, {"threads", "2"}}, "group settings: 'threads' has the wrong type: \"2\""},
      {json{{"name", "a"}, {"request-timeout", "x"}},
       "group settings: 'request-timeout' has the wrong type: \"x\""},
      {json{{"name", "a"}, {"python-path", json::array({1})}},
       "group settings: 'python-path' has the wrong type: [1]"},
      {json{{"name", "a"}, {"umask", "9"}}, "group settings: 'umask' has the wrong type: \"9\""},
      {json{{"name", "a"}, {"user", 5}}, "group settings: 'user' has the wrong type: 5"},
      {json{{"name", "a"}, {"multiprocess", 1}},
       "group settings: 'multiprocess' has the wrong type: 1"},
  };
  for (const Case& c : cases) {
    auto r = group_from_json(c.j);
    INFO(c.j.dump());
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message() == c.message);
  }
  auto ok = group_from_json(json{{"name", "a"}, {"unknown-key", 1}});
  REQUIRE(ok.is_ok());
  CHECK(ok->threads == 15);
}

TEST_CASE("config_to_json: groups, mounts, listen, server") {
  Config c = parse_ok(
      "Listen 127.0.0.1:8080\nWSGIDaemonProcess g\nWSGIScriptAlias /a /srv/a.wsgi process-group=g\n"
      "WSGIScriptAlias /e /srv/e.wsgi\n"
      "<VirtualHost *:8080>\nServerName v.example\nWSGIScriptAlias / /srv/v.wsgi process-group=g "
      "application-group=%{GLOBAL}\n</VirtualHost>\n");
  json j = config_to_json(c);
  REQUIRE(j["groups"].size() == 1);
  CHECK(j["listen"] == json::array({"127.0.0.1:8080"}));
  REQUIRE(j["mounts"].size() == 3);
  CHECK(j["mounts"][0]["url"] == "/a");
  CHECK(j["mounts"][0]["script"] == "/srv/a.wsgi");
  CHECK(j["mounts"][0]["process_group"] == "g");
  CHECK(j["mounts"][0]["application_group"] == "%{RESOURCE}");
  CHECK(j["mounts"][0]["virtual_host"].is_null());
  CHECK(j["mounts"][1]["process_group"].is_null());
  CHECK(j["mounts"][2]["virtual_host"] == "v.example");
  CHECK(j["mounts"][2]["application_group"] == "%{GLOBAL}");
  CHECK(j["server"]["timeout"] == 60.0);
  CHECK(j["server"]["threads_per_child"] == 25);
  CHECK(j["virtual_hosts"][0]["addresses"] == json::array({"*:8080"}));
}

TEST_CASE("config_to_json: DocumentRoot of the server and of each vhost (null when unset)") {
  Config c;
  c.server.document_root = "/srv/www";
  VirtualHost a, b;
  a.document_root = "/srv/a";
  c.vhosts = {a, b};
  json j = config_to_json(c);
  CHECK(j["server"]["document_root"] == "/srv/www");
  CHECK(j["virtual_hosts"][0]["document_root"] == "/srv/a");
  CHECK(j["virtual_hosts"][1]["document_root"].is_null());
}

TEST_CASE("config_to_json: access rules, auth, handlers, redirects, rewrites, header edits") {
  Config c = parse_ok(
      "WSGIScriptAlias /app /srv/app.wsgi\n"
      "Redirect permanent /old https://x.example/new\n"
      "Header always set Strict-Transport-Security \"max-age=1\"\n"
      "TraceEnable Off\n"
      "<Directory /srv/static>\n"
      "    Require all denied\n"
      "</Directory>\n"
      "<Location /app/private>\n"
      "    AuthType Basic\n"
      "    AuthName \"The Realm\"\n"
      "    AuthUserFile /srv/htpasswd\n"
      "    <RequireAll>\n"
      "        Require valid-user\n"
      "        Require ip 10.0.0.0/8\n"
      "    </RequireAll>\n"
      "    RequestHeader set X-Private yes\n"
      "</Location>\n"
      "<Location /keystone>\n"
      "    SetHandler wsgi-script\n"
      "    Options +ExecCGI\n"
      "</Location>\n"
      "<VirtualHost *:80>\n"
      "    ServerName v.example\n"
      "    TraceEnable On\n"
      "    RewriteEngine On\n"
      "    RewriteRule ^/secret - [F]\n"
      "    <LocationMatch \"^/x\">\n"
      "        Order deny,allow\n"
      "        Deny from all\n"
      "    </LocationMatch>\n"
      "</VirtualHost>\n");
  json j = config_to_json(c);
  const json& s = j["server"];
  REQUIRE(s["directives"].size() == 2);
  CHECK(s["directives"][0] == json{{"directive", "Redirect"},
                                   {"args", {"permanent", "/old", "https://x.example/new"}},
                                   {"defined_at", "m.conf:2"}});
  CHECK(s["directives"][1]["directive"] == "Header");
  CHECK(s["directives"][1]["args"] ==
        json::array({"always", "set", "Strict-Transport-Security", "max-age=1"}));
  CHECK(s["trace_enable"] == false);
  CHECK(j["virtual_hosts"][0]["trace_enable"] == true);
  REQUIRE(j["virtual_hosts"][0]["directives"].size() == 2);
  CHECK(j["virtual_hosts"][0]["directives"][1]["args"] == json::array({"^/secret", "-", "[F]"}));

  const json& secs = j["sections"];
  REQUIRE(secs.size() == 4);
  CHECK(secs[0]["section"] == "Directory");
  CHECK(secs[0]["path"] == "/srv/static");
  CHECK(secs[0]["access"]["rules"] == json::array({"Require all denied"}));
  CHECK(secs[0]["virtual_host"].is_null());
  CHECK(secs[0]["defined_at"] == "m.conf:5");
  CHECK(secs[1]["section"] == "Location");
  CHECK(secs[1]["path"] == "/app/private");
  CHECK(secs[1]["access"]["rules"] ==
        json::array({"AuthType Basic", "AuthName \"The Realm\"", "<RequireAll>",
                     "Require valid-user", "Require ip 10.0.0.0/8", "</RequireAll>"}));
  CHECK(secs[1]["access"]["auth_user_file"] == "/srv/htpasswd");
  CHECK(secs[1]["access"]["auth_group_file"].is_null());
  REQUIRE(secs[1]["directives"].size() == 1);
  CHECK(secs[1]["directives"][0]["directive"] == "RequestHeader");
  CHECK(secs[2]["handlers"]["set_handler"] == "wsgi-script");
  CHECK(secs[2]["handlers"]["exec_cgi"] == true);
  CHECK(secs[2]["access"].is_null());
  CHECK(secs[3]["section"] == "LocationMatch");
  CHECK(secs[3]["virtual_host"] == "v.example");
  CHECK(secs[3]["access"]["rules"] == json::array({"Order deny,allow", "Deny from all"}));
  // Unset handlers are null (inherited), not false.
  CHECK(secs[0]["handlers"]["set_handler"].is_null());
  CHECK(secs[0]["handlers"]["exec_cgi"].is_null());
}

TEST_CASE("--check --json shows mod_remoteip's and mod_wsgi's proxy settings where they apply") {
  Config c = parse_ok(
      "RemoteIPHeader X-Forwarded-For\n"
      "RemoteIPInternalProxy 10.0.0.0/8\n"
      "RemoteIPProxyProtocolExceptions 127.0.0.2\n"
      "WSGITrustedProxyHeaders X-Forwarded-Proto\n"
      "WSGITrustedProxies 127.0.0.1\n"
      "WSGIScriptAlias /app /srv/app.wsgi\n"
      "<VirtualHost *:80>\n"
      "    RemoteIPProxyProtocol On\n"
      "    RemoteIPTrustedProxy 192.0.2.1\n"
      "</VirtualHost>\n");
  json j = config_to_json(c);
  const json& s = j["server"];
  CHECK(s["remoteip"]["header"] == "X-Forwarded-For");
  CHECK(s["remoteip"]["proxies"] == json::array({{{"address", "10.0.0.0/8"}, {"internal", true}}}));
  CHECK(s["remoteip"]["proxy_protocol"].is_null());
  CHECK(s["proxy_protocol_exceptions"] == json::array({"127.0.0.2"}));
  CHECK(s["uwsgi_trusted_peers"] == json::array({"127.0.0.0/8", "::1"}));
  const json& v = j["virtual_hosts"][0]["remoteip"];
  CHECK(v["header"] == "X-Forwarded-For");  // the server's, inherited
  CHECK(v["proxies"] == json::array({{{"address", "192.0.2.1"}, {"internal", false}}}));
  CHECK(v["proxy_protocol"] == true);
  REQUIRE(j["mounts"].size() == 1);
  CHECK(j["mounts"][0]["trusted_proxy_headers"] == json::array({"X-Forwarded-Proto"}));
  CHECK(j["mounts"][0]["trusted_proxies"] == json::array({"127.0.0.1"}));
}
