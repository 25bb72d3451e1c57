// The daemon's stop sequence as a table of phases: what entering a phase does,
// what the phase waits for, which phase follows when the wait is over, and what a
// stop request does while the daemon is in it. Daemon (daemon.cc) runs the table:
// a stop request (signals.h, the control socket's `shutdown`) enters a phase, and
// after every child change it checks the current phase's wait and moves on.
//
// A graceful stop drains the front end first (it finishes its requests while the
// workers still serve them), then closes the TCP listeners and drains the groups;
// an immediate stop sends SIGTERM to everything at once. Either ends by closing
// every handle (finish()) and leaving the loop.
//
// Pure data; any thread. Rows live for the whole program.
#pragma once

#include <string_view>
#include <vector>

namespace wsgid::master {

enum class StopPhase {
  kRunning,         // not stopping
  kFrontendDrain,   // graceful: the front end drains
  kGroupsDrain,     // graceful: the groups drain
  kStopNow,         // immediate: SIGTERM to every child
  kFinishing,       // every child is gone; finish() runs on the next loop turn
  kDone,            // finish() ran: handles closed, the loop ends
};

// What entering a phase does.
enum class StopEntry {
  kNone,
  kStopFrontend,     // the front end gets kStop (drain)
  kStopGroups,       // close the TCP listeners; every group drains
  kStopEverything,   // the front end and every group get kStopNow (SIGTERM)
  kScheduleFinish,   // finish() on the next loop turn
  kFinish,           // (done by finish() itself)
};

// What a phase waits for before its `next` phase.
enum class StopWait {
  kStopRequest,   // only a request moves it (kRunning)
  kFrontendGone,  // the front end has no process left
  kAllIdle,       // the front end and every group (removed ones too) are idle
  kFinish,        // finish() (kFinishing)
  kNothing,       // the end
};

// What a stop request does in a phase.
enum class StopStep {
  kNone,      // nothing: already under way, or too late
  kGraceful,  // enter kFrontendDrain
  kNow,       // enter kStopNow
  kKill,      // SIGKILL to every child (an impatient second request)
};

// Who asks to stop.
enum class StopRequest {
  kGraceful,  // SIGTERM, the first SIGINT, `wsgictl shutdown`
  kNow,       // `wsgictl shutdown --now`
  kEscalate,  // SIGQUIT, a later SIGINT
};

struct StopPhaseRow {
  StopPhase phase;
  std::string_view name;  // for the log and `status`
  StopEntry entry;
  StopWait waits_for;
  StopPhase next;         // entered when the wait is over
  StopStep on_graceful;   // StopRequest::kGraceful
  StopStep on_now;        // StopRequest::kNow
  StopStep on_escalate;   // StopRequest::kEscalate
};

// One row per phase, in StopPhase order.
const std::vector<StopPhaseRow>& stop_phases();
const StopPhaseRow& stop_phase(StopPhase p);
// The step a request takes in phase p.
StopStep stop_step(StopPhase p, StopRequest r);

}  // namespace wsgid::master
