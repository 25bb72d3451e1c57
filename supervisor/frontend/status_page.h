// The status page (SetHandler server-status, issue 14), after Apache's
// mod_status: render_status_html() is the page for people (the server, then
// per group its queue, threads and counters, and a table of its processes:
// state, pid, uptime, requests, RSS, current requests with their age, last
// exit cause), readable from 390 px to wide screens without horizontal
// scrolling (the tables become one card per row on narrow screens), every
// shown value HTML-escaped; ?refresh=N reloads it every N seconds (a
// Refresh header, as mod_status sends). render_status_auto() is the ?auto
// form: mod_status's own keys, in its order (modules/generators/mod_status.c:
// the server name, ServerVersion ... Load15, Total Accesses, Total kBytes,
// Total Duration, Uptime, ReqPerSec, BytesPerSec, BytesPerReq,
// DurationPerReq, BusyWorkers, IdleWorkers, Processes, Stopping, ConnsTotal,
// Scoreboard), then wsgid's (docs/metrics.md). Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "supervisor/frontend/snapshot.h"

namespace wsgid::frontend {

// The query's ?refresh=N (1..3600), else 0; whether it asks for ?auto.
struct StatusQuery {
  int refresh = 0;
  bool automatic = false;
};
StatusQuery parse_status_query(std::string_view query);

// Appends text with &, <, >, " and ' escaped.
void append_html(std::string* out, std::string_view text);

std::string render_status_html(const Snapshot& s, const StatusQuery& q);
std::string render_status_auto(const Snapshot& s);

}  // namespace wsgid::frontend
