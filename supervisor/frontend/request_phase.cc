// The request phase table (see the header).
#include "supervisor/frontend/request_phase.h"

namespace wsgid::frontend {
namespace {

constexpr PhaseMove kPhaseMoves[] = {
    {Phase::kIdle, Phase::kHead, "llhttp saw the first byte of a message"},
    {Phase::kHead, Phase::kWaiting, "the head is complete; it is checked and routed"},
    {Phase::kHead, Phase::kStreaming, "a bad head is refused with an error page"},
    {Phase::kHead, Phase::kIdle, "the connection closes mid-head"},
    {Phase::kWaiting, Phase::kStreaming, "a worker, a static file or a local answer wrote the head"},
    {Phase::kWaiting, Phase::kIdle, "the connection closes before any answer"},
    {Phase::kStreaming, Phase::kDone, "the last body byte is queued"},
    {Phase::kStreaming, Phase::kIdle, "the connection is aborted mid-response"},
    {Phase::kDone, Phase::kIdle, "the request is logged and counted"},
};

}  // namespace

std::span<const PhaseMove> phase_moves() { return kPhaseMoves; }

bool phase_move_allowed(Phase from, Phase to) {
  for (const PhaseMove& m : kPhaseMoves)
    if (m.from == from && m.to == to) return true;
  return false;
}

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kIdle: return "idle";
    case Phase::kHead: return "head";
    case Phase::kWaiting: return "waiting";
    case Phase::kStreaming: return "streaming";
    case Phase::kDone: return "done";
  }
  return "?";
}

}  // namespace wsgid::frontend
