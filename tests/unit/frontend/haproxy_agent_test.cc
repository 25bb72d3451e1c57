// HAProxy's agent-check reply (haproxy_agent.h): the line for each state, and
// the weight as the idle share of the serving groups' threads (issue 15).
#include <doctest/doctest.h>

#include "supervisor/frontend/haproxy_agent.h"

using namespace wsgid::frontend;

TEST_CASE("the agent's reply for each state and load") {
  struct Case {
    const char* what;
    AgentView view;
    const char* want;
  };
  const Case cases[] = {
      {"idle", {false, false, {{true, 15, 0}}}, "up ready 100%\n"},
      {"a third busy", {false, false, {{true, 3, 1}}}, "up ready 67%\n"},
      {"half busy over two groups", {false, false, {{true, 10, 10}, {true, 10, 0}}}, "up ready 50%\n"},
      {"queued beyond capacity counts as full", {false, false, {{true, 4, 9}, {true, 4, 0}}},
       "up ready 50%\n"},
      {"all busy: 1%, never 0 (that is drain)", {false, false, {{true, 4, 4}}}, "up ready 1%\n"},
      {"a stopped group does not count", {false, false, {{false, 100, 0}, {true, 2, 1}}},
       "up ready 50%\n"},
      {"stopping", {true, false, {{true, 15, 0}}}, "drain\n"},
      {"stopping wins over maint", {true, false, {{false, 15, 0}}}, "drain\n"},
      {"no group up", {false, false, {{false, 15, 0}, {false, 2, 0}}}, "maint\n"},
      {"no group at all", {false, false, {}}, "maint\n"},
      {"only the embedded pool", {false, true, {}}, "up ready 100%\n"},
      {"embedded and a down group", {false, true, {{false, 4, 0}}}, "up ready 100%\n"},
      {"zero capacity is read as one thread", {false, false, {{true, 0, 0}}}, "up ready 100%\n"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(agent_reply(c.view) == c.want);
  }
}
