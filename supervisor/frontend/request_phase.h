// The phases of one HTTP request on a connection (HttpConn drives them, on the
// loop thread) and the table of the moves allowed between them, each with why it
// happens. HttpConn moves only along this table; a move not in it is a bug
// (log::bug). Pure data and lookups, any thread.
//
//   kIdle      between requests (no message yet, or the last one logged and counted)
//   kHead      llhttp is reading the request line and headers
//   kWaiting   the head is routed; no response byte yet (queued for a worker, at a
//              worker, or a local or static answer waiting for the request body)
//   kStreaming the response head is written; the body follows
//   kDone      the whole response is queued; the request is about to be logged
//
// A response may start before the request body has been read (a worker that
// answers early) and body bytes may still arrive after the response ended, so
// the end of the request body is a separate fact (HttpConn::body_done_), not a
// phase.
#pragma once

#include <span>

namespace wsgid::frontend {

enum class Phase { kIdle, kHead, kWaiting, kStreaming, kDone };

struct PhaseMove {
  Phase from, to;
  const char* why;
};

// Every allowed move, in lifecycle order.
std::span<const PhaseMove> phase_moves();
bool phase_move_allowed(Phase from, Phase to);
// "idle", "head", "waiting", "streaming", "done".
const char* phase_name(Phase p);

}  // namespace wsgid::frontend
