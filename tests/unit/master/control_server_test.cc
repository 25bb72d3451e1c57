// The control socket's request parser (control_server.h): every error text; the
// command table (control_commands.h) it validates with.
#include <doctest/doctest.h>

#include <string>

#include "supervisor/master/control_commands.h"
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

TEST_CASE("control command table: one row per command, validation from its args") {
  const auto& table = control_command_table();
  REQUIRE(table.size() == control_commands().size());
  for (size_t i = 0; i < table.size(); ++i) {
    CAPTURE(table[i].name);
    CHECK(table[i].name == control_commands()[i]);
    CHECK(find_control_command(table[i].name) == &table[i]);
    CHECK(table[i].handler != nullptr);
    std::string name(table[i].name);
    bool bare_ok = parse_control_request("{\"command\": \"" + name + "\"}").is_ok();
    bool one_ok = parse_control_request("{\"command\": \"" + name + "\", \"args\": [\"a\"]}").is_ok();
    bool two_ok =
        parse_control_request("{\"command\": \"" + name + "\", \"args\": [\"a\", \"b\"]}").is_ok();
    switch (table[i].args) {
      case CommandArgs::kNone:
      case CommandArgs::kOptionalGroups:
      case CommandArgs::kGroups:
        CHECK(bare_ok);
        CHECK(one_ok);
        CHECK(two_ok);
        break;
      case CommandArgs::kSignalAndGroups:
        CHECK_FALSE(bare_ok);
        CHECK_FALSE(one_ok);
        CHECK(two_ok);
        break;
      case CommandArgs::kOneName:
        CHECK_FALSE(bare_ok);
        CHECK(one_ok);
        CHECK_FALSE(two_ok);
        break;
    }
  }
  CHECK(find_control_command("bogus") == nullptr);
  // What the daemon still answers while it stops.
  for (const char* n : {"status", "pid", "tail", "shutdown", "version", "help"}) {
    CAPTURE(n);
    REQUIRE(find_control_command(n));
    CHECK(find_control_command(n)->while_stopping);
  }
  for (const char* n : {"start", "stop", "restart", "reload", "check", "reopen", "signal"}) {
    CAPTURE(n);
    REQUIRE(find_control_command(n));
    CHECK_FALSE(find_control_command(n)->while_stopping);
  }
}
