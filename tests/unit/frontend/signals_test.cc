// The front end's signal table and watchers (supervisor/frontend/signals.h).
#include <doctest/doctest.h>

#include <signal.h>
#include <uv.h>

#include <algorithm>
#include <string>
#include <vector>

#include "supervisor/frontend/signals.h"

using namespace wsgid::frontend;

TEST_CASE("frontend signals: the table") {
  struct Row {
    int sig;
    FrontendSignalAction action;
  };
  const Row rows[] = {
      {SIGTERM, FrontendSignalAction::kGracefulStop},
      {SIGINT, FrontendSignalAction::kGracefulStop},
      {SIGUSR1, FrontendSignalAction::kReopenLogs},
      {SIGHUP, FrontendSignalAction::kIgnore},
  };
  REQUIRE(frontend_signals().size() == std::size(rows));
  for (size_t i = 0; i < std::size(rows); ++i) {
    CAPTURE(frontend_signals()[i].name);
    CHECK(frontend_signals()[i].signum == rows[i].sig);
    CHECK(frontend_signals()[i].action == rows[i].action);
  }
}

TEST_CASE("frontend signals: a raised signal reaches the handler as its row") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  std::vector<std::string> seen;
  {
    FrontendSignals signals;
    REQUIRE(signals.start(&loop, [&](const FrontendSignal& s) {
      seen.push_back(s.name);
      if (seen.size() == 2) uv_stop(&loop);
    }) == 0);
    raise(SIGUSR1);
    raise(SIGHUP);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(seen.size() == 2);
    CHECK(std::find(seen.begin(), seen.end(), "USR1") != seen.end());
    CHECK(std::find(seen.begin(), seen.end(), "HUP") != seen.end());
    signals.close();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
