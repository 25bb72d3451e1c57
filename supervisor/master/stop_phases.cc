#include "supervisor/master/stop_phases.h"

#include "common/log.h"

namespace wsgid::master {
namespace {

using P = StopPhase;
using In = StopEntry;
using W = StopWait;
using St = StopStep;

const std::vector<StopPhaseRow> kPhases = {
    // phase            name              on entry             waits for         then              graceful   now        escalate
    {P::kRunning,       "running",        In::kNone,           W::kStopRequest,  P::kRunning,      St::kGraceful, St::kNow, St::kNow},
    {P::kFrontendDrain, "frontend-drain", In::kStopFrontend,   W::kFrontendGone, P::kGroupsDrain,  St::kNone,  St::kNow,  St::kNow},
    {P::kGroupsDrain,   "groups-drain",   In::kStopGroups,     W::kAllIdle,      P::kFinishing,    St::kNone,  St::kNow,  St::kNow},
    {P::kStopNow,       "stop-now",       In::kStopEverything, W::kAllIdle,      P::kFinishing,    St::kNone,  St::kNone, St::kKill},
    {P::kFinishing,     "finishing",      In::kScheduleFinish, W::kFinish,       P::kDone,         St::kNone,  St::kNone, St::kNone},
    {P::kDone,          "done",           In::kFinish,         W::kNothing,      P::kDone,         St::kNone,  St::kNone, St::kNone},
};

}  // namespace

const std::vector<StopPhaseRow>& stop_phases() { return kPhases; }

const StopPhaseRow& stop_phase(StopPhase p) {
  const StopPhaseRow& row = kPhases[static_cast<size_t>(p)];
  WSGID_CHECK(row.phase == p);
  return row;
}

StopStep stop_step(StopPhase p, StopRequest r) {
  const StopPhaseRow& row = stop_phase(p);
  switch (r) {
    case StopRequest::kGraceful: return row.on_graceful;
    case StopRequest::kNow: return row.on_now;
    case StopRequest::kEscalate: return row.on_escalate;
  }
  return StopStep::kNone;
}

}  // namespace wsgid::master
