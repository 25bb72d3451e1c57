// The master's status report to the front end (model/status_report.h): a
// round trip, and every decoding error with its text.
#include <doctest/doctest.h>

#include "model/status_report.h"

namespace wsgid::model {
namespace {

TEST_CASE("status report: what the master encodes, the front end decodes") {
  StatusReport r;
  r.started = 1796000000.25;
  r.reloads = 3;
  r.failed_reloads = 1;
  r.version = "0.1.0";
  GroupReport g;
  g.name = "site1";
  g.restarts = {{"signal", 2}, {"maximum-requests", 5}};
  g.processes.push_back({0, 4711, "RUNNING", 1796000100.5, ""});
  g.processes.push_back({1, 0, "BACKOFF", 0, "exited on signal 9"});
  r.groups.push_back(g);
  nlohmann::json j = status_report_to_json(r);
  CHECK(j["groups"][0]["processes"][1]["pid"].is_null());
  CHECK(j["groups"][0]["processes"][0]["last_exit"].is_null());
  auto back = status_report_from_json(nlohmann::json::parse(j.dump()));
  REQUIRE(back);
  CHECK(back->started == r.started);
  CHECK(back->reloads == 3);
  CHECK(back->failed_reloads == 1);
  CHECK(back->version == "0.1.0");
  REQUIRE(back->groups.size() == 1);
  CHECK(back->groups[0].restarts == g.restarts);
  REQUIRE(back->groups[0].processes.size() == 2);
  CHECK(back->groups[0].processes[0].pid == 4711);
  CHECK(back->groups[0].processes[0].started == 1796000100.5);
  CHECK(back->groups[0].processes[1].pid == 0);
  CHECK(back->groups[0].processes[1].state == "BACKOFF");
  CHECK(back->groups[0].processes[1].last_exit == "exited on signal 9");
  CHECK(back->find("site1") == &back->groups[0]);
  CHECK(back->find("nope") == nullptr);
}

TEST_CASE("status report: every decoding error names its key") {
  struct Case {
    const char* json;
    const char* error;
  } cases[] = {
      {"[]", "status: must be an object"},
      {R"({"started": "x"})", "status: 'started' must be a number"},
      {R"({"reloads": -1})", "status: 'reloads' must be an integer >= 0"},
      {R"({"version": 1})", "status: 'version' must be a string"},
      {R"({"groups": {}})", "status: 'groups' must be an array"},
      {R"({"groups": [1]})", "status: 'groups[0]' must be an object"},
      {R"({"groups": [{}]})", "status: 'groups[0].name' must be a string"},
      {R"({"groups": [{"name": "a", "restarts": []}]})", "status: 'groups[0].restarts' must be an object"},
      {R"({"groups": [{"name": "a", "restarts": {"signal": "1"}}]})",
       "status: 'groups[0].restarts.signal' must be an integer >= 0"},
      {R"({"groups": [{"name": "a", "processes": [{"pid": "1"}]}]})",
       "status: 'groups[0].processes[0].pid' must be an integer"},
      {R"({"groups": [{"name": "a", "processes": [{"state": 1}]}]})",
       "status: 'groups[0].processes[0].state' must be a string"},
  };
  for (const Case& c : cases) {
    INFO(c.json);
    auto r = status_report_from_json(nlohmann::json::parse(c.json));
    REQUIRE_FALSE(r);
    CHECK(r.status().message() == c.error);
  }
}

}  // namespace
}  // namespace wsgid::model
