// The status page (status_page.h) and readiness (readiness.h) from
// hand-made inputs.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/config/parser.h"
#include "supervisor/frontend/readiness.h"
#include "supervisor/frontend/status_page.h"

namespace wsgid::frontend {
namespace {

Snapshot snapshot(GroupCounters* gc, FrontCounters* fc) {
  Snapshot s;
  s.now = 1000;
  s.version = "9.9";
  s.server_name = "<host>";
  s.have_report = true;
  s.master_started = 1000 - 3725;
  s.open_connections = 2;
  s.front = fc;
  GroupSnapshot g;
  g.name = "site<1>";
  g.state = "running";
  g.processes = 2;
  g.threads = 2;
  g.busy = 1;
  g.idle = 1;
  g.queue = 3;
  g.counters = gc;
  ProcessSnapshot p;
  p.pid = 42;
  p.state = "RUNNING";
  p.started = 990;
  p.current = {{"GET", "/x?a=<script>&b='1'", 1.5}};
  g.procs.push_back(p);
  ProcessSnapshot q;
  q.index = 1;
  q.state = "BACKOFF";
  q.last_exit = "exited with status 3 during start-up: <oops>";
  g.procs.push_back(q);
  s.groups.push_back(g);
  return s;
}

TEST_CASE("status query: ?auto and ?refresh=N as mod_status reads them") {
  struct Case {
    const char* q;
    int refresh;
    bool automatic;
  } cases[] = {{"", 0, false},           {"auto", 0, true},          {"refresh=5", 5, false},
               {"refresh", 1, false},    {"auto&refresh=2", 2, true}, {"refresh=0", 1, false},
               {"refresh=99999", 3600, false}, {"x=1;auto", 0, true}, {"autox", 0, false}};
  for (const Case& c : cases) {
    INFO(c.q);
    StatusQuery q = parse_status_query(c.q);
    CHECK(q.refresh == c.refresh);
    CHECK(q.automatic == c.automatic);
  }
}

TEST_CASE("the HTML page escapes every value it shows") {
  std::string out;
  append_html(&out, "<a href=\"x\">&'</a>");
  CHECK(out == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");

  GroupCounters gc;
  FrontCounters fc;
  std::string html = render_status_html(snapshot(&gc, &fc), StatusQuery{7, false});
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("<host>") == std::string::npos);
  CHECK(html.find("<oops>") == std::string::npos);
  CHECK(html.find("GET /x?a=&lt;script&gt;&amp;b=&#39;1&#39; (1.50 s)") != std::string::npos);
  CHECK(html.find("Group site&lt;1&gt;") != std::string::npos);
  CHECK(html.find("<meta http-equiv=\"refresh\" content=\"7\">") != std::string::npos);
  CHECK(html.find("name=\"viewport\"") != std::string::npos);
  CHECK(html.find("@media (max-width:700px)") != std::string::npos);
  CHECK(html.find("master up 1 hour 2 minutes 5 seconds") != std::string::npos);
  CHECK(render_status_html(snapshot(&gc, &fc), StatusQuery{}).find("http-equiv") == std::string::npos);
}

TEST_CASE("?auto: mod_status's keys in its order, then wsgid's") {
  GroupCounters gc;
  gc.count_request(200, MethodClass::kGet);
  FrontCounters fc;
  fc.requests = 10;
  fc.bytes_out = 20480;
  fc.duration_us = 50000;
  std::string text = render_status_auto(snapshot(&gc, &fc));
  std::vector<std::string> keys;
  size_t pos = text.find('\n') + 1;  // the first line is the server's name
  CHECK(text.substr(0, pos) == "<host>\n");
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end - pos);
    size_t colon = line.find(':');
    REQUIRE(colon != std::string::npos);
    keys.push_back(line.substr(0, colon));
    pos = end + 1;
  }
  const std::vector<std::string> apache = {
      "ServerVersion", "ServerMPM", "CurrentTime", "RestartTime", "ParentServerConfigGeneration",
      "ParentServerMPMGeneration", "ServerUptimeSeconds", "ServerUptime", "Load1", "Load5",
      "Load15", "Total Accesses", "Total kBytes", "Total Duration", "Uptime", "ReqPerSec",
      "BytesPerSec", "BytesPerReq", "DurationPerReq", "BusyWorkers", "IdleWorkers", "Processes",
      "Stopping", "ConnsTotal", "Scoreboard"};
  REQUIRE(keys.size() > apache.size());
  CHECK(std::vector<std::string>(keys.begin(), keys.begin() + static_cast<long>(apache.size())) == apache);
  CHECK(text.find("Total Accesses: 10\nTotal kBytes: 20\nTotal Duration: 50\n") != std::string::npos);
  CHECK(text.find("ServerUptimeSeconds: 3725\nServerUptime: 1 hour 2 minutes 5 seconds\n") != std::string::npos);
  CHECK(text.find("BusyWorkers: 1\nIdleWorkers: 1\nProcesses: 1\nStopping: 0\nConnsTotal: 2\n") != std::string::npos);
  // One character per thread: process 0 runs one request, slot 1 has no process.
  CHECK(text.find("Scoreboard: W_..\n") != std::string::npos);
  CHECK(text.find("QueueDepth: 3\n") != std::string::npos);
  CHECK(text.find("Group site<1> Accesses: 1\n") != std::string::npos);
}

config::ParseResult parse(const std::string& text) {
  config::ParseOptions o;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv/root";
  o.check_files = false;
  return config::parse_config_text("t.conf", text, o);
}

TEST_CASE("readiness: the groups serving a virtual host") {
  config::ParseResult r = parse(
      "WSGIDaemonProcess a\nWSGIDaemonProcess b\nWSGIDaemonProcess c\n"
      "WSGIScriptAlias /a /srv/a.wsgi process-group=a\n"
      "<VirtualHost *:80>\nServerName one\nWSGIScriptAlias /b /srv/b.wsgi process-group=b\n</VirtualHost>\n"
      "<VirtualHost *:80>\nServerName two\nWSGIProcessGroup %{ENV:G}\n</VirtualHost>\n"
      "<VirtualHost *:80>\nServerName three\n<Location /x>\nWSGIProcessGroup c\n</Location>\n</VirtualHost>\n");
  REQUIRE(r.config.vhosts.size() == 3);
  CHECK(groups_serving(r.config, &r.config.server) == std::vector<std::string>{"a"});
  CHECK(groups_serving(r.config, &r.config.vhosts[0]) == std::vector<std::string>{"b", "a"});
  // A template may name any group.
  CHECK(groups_serving(r.config, &r.config.vhosts[1]) == std::vector<std::string>{"a", "b", "c"});
  CHECK(groups_serving(r.config, &r.config.vhosts[2]) == std::vector<std::string>{"c", "a"});

  std::vector<model::GroupEndpoint> eps(3);
  eps[0].name = "a";
  eps[1].name = "b";
  eps[2].name = "c";
  eps[1].state = "stopped";
  CHECK(not_ready_reason(r.config, &r.config.server, eps, nullptr, true) == "");
  CHECK(not_ready_reason(r.config, &r.config.vhosts[0], eps, nullptr, true) ==
        "group b has no live worker (stopped)");
  CHECK(not_ready_reason(r.config, &r.config.vhosts[2], eps, nullptr, true) == "");
  CHECK(not_ready_reason(r.config, &r.config.server, eps, nullptr, false) ==
        "the front end is stopping");
}

TEST_CASE("readiness: a live worker is a RUNNING process once the master reports") {
  model::GroupEndpoint ep;
  ep.name = "a";
  model::StatusReport rep;
  CHECK(group_live(ep, nullptr));
  CHECK_FALSE(group_live(ep, &rep));  // not reported yet
  model::GroupReport g;
  g.name = "a";
  g.processes.push_back({0, 10, "STARTING", 1, ""});
  rep.groups.push_back(g);
  CHECK_FALSE(group_live(ep, &rep));
  rep.groups[0].processes.push_back({1, 11, "RUNNING", 1, ""});
  CHECK(group_live(ep, &rep));
  for (const char* st : {"replacing", "down", "stopped"}) {
    ep.state = st;
    CHECK_FALSE(group_live(ep, &rep));
  }
}

}  // namespace
}  // namespace wsgid::frontend
