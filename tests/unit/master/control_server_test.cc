// The control socket's request parser (control_server.h): every error text.
#include <doctest/doctest.h>

#include <string>

#include "supervisor/master/control_server.h"

using namespace wsgid::master;

TEST_CASE("control requests: errors") {
  const std::pair<const char*, const char*> cases[] = {
      {"", "request is not valid JSON"},
      {"{", "request is not valid JSON"},
      {"[1]", "request must be a JSON object"},
      {"\"status\"", "request must be a JSON object"},
      {"{}", "'command' is missing"},
      {"{\"command\": 3}", "'command' must be a string"},
      {"{\"command\": \"bogus\"}", "unknown command 'bogus'"},
      {"{\"command\": \"statsu\"}", "unknown command 'statsu' (did you mean 'status'?)"},
      {"{\"command\": \"relaod\"}", "unknown command 'relaod' (did you mean 'reload'?)"},
      {"{\"command\": \"stop\", \"args\": \"site1\"}", "'args' must be an array of strings"},
      {"{\"command\": \"stop\", \"args\": [1]}", "'args' must be an array of strings"},
      {"{\"command\": \"restart\", \"args\": [\"a\"], \"now\": 1}", "'now' must be a boolean"},
      {"{\"command\": \"tail\", \"args\": [\"a\"], \"follow\": \"yes\"}", "'follow' must be a boolean"},
      {"{\"command\": \"tail\", \"args\": [\"a\"], \"lines\": -1}", "'lines' must be an integer from 0 to 100000"},
      {"{\"command\": \"tail\", \"args\": [\"a\"], \"lines\": 1.5}", "'lines' must be an integer from 0 to 100000"},
      {"{\"command\": \"tail\", \"args\": [\"a\"], \"lines\": 100001}", "'lines' must be an integer from 0 to 100000"},
      {"{\"command\": \"signal\", \"args\": [\"USR1\"]}", "signal needs a signal name and at least one group"},
      {"{\"command\": \"tail\"}", "tail takes one group name or 'master'"},
      {"{\"command\": \"tail\", \"args\": [\"a\", \"b\"]}", "tail takes one group name or 'master'"},
  };
  for (auto [line, error] : cases) {
    CAPTURE(line);
    auto r = parse_control_request(line);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message() == error);
  }
}

TEST_CASE("control requests: accepted") {
  auto r = parse_control_request(
      R"({"command": "restart", "args": ["site1", "site2"], "now": true})");
  REQUIRE(r.is_ok());
  CHECK(r->command == "restart");
  CHECK(r->args == std::vector<std::string>{"site1", "site2"});
  CHECK(r->now);
  CHECK_FALSE(r->follow);
  CHECK(r->lines == 100);

  auto t = parse_control_request(R"({"command": "tail", "args": ["master"], "follow": true, "lines": 0})");
  REQUIRE(t.is_ok());
  CHECK(t->follow);
  CHECK(t->lines == 0);

  for (const std::string& c : control_commands()) {
    if (c == "signal" || c == "tail") continue;
    CAPTURE(c);
    CHECK(parse_control_request("{\"command\": \"" + c + "\"}").is_ok());
  }
  // Unknown keys are ignored (newer clients).
  CHECK(parse_control_request(R"({"command": "status", "json": true})").is_ok());
}

TEST_CASE("control errors carry a code") {
  auto j = control_error("no-such-group", "no such group 'x'");
  CHECK(j.dump() == R"({"code":"no-such-group","error":"no such group 'x'","ok":false})");
}
