// HAProxy's agent-check, served on a `Listen ADDR:PORT haproxy-agent` socket.
//
// HAProxy's "agent-check" server option (HAProxy configuration manual, section
// 5.2, "agent-check") connects to the agent port every agent-inter, reads one
// ASCII line and closes. The line is words separated by spaces: an
// administrative state (`ready`, `drain`, `maint`), an operational state (`up`,
// `down`) and a weight written as a percentage of the server's configured
// weight (`75%`). agent_reply() decides the line from what the front end knows;
// serve_agent_connection() accepts one connection on the listener and writes it.
//
//   stopping (TERM, WSGIDrainDelay)           "drain\n"     weight 0: no new sessions
//   no group can take a request (all stopped,  "maint\n"     out of the farm
//   BACKOFF or FATAL), none embedded
//   otherwise                                 "up ready N%\n"  N = the idle share of the
//                                             serving groups' worker threads, 1..100
//
// A higher weight draws more traffic, so the weight is the idle share, never the
// busy one; it never falls to 0% (that would mean drain) while the host serves.
// agent_reply() is pure (any thread); serve_agent_connection() runs on the
// Server's loop thread and frees everything it allocates once the reply is
// written (or the write failed).
#pragma once

#include <uv.h>

#include <cstddef>
#include <string>
#include <vector>

namespace wsgid::frontend {

struct AgentGroup {
  bool serving = true;   // "running" or "replacing" (UpstreamPool::serving())
  size_t capacity = 1;   // processes x threads
  size_t load = 0;       // requests holding or waiting for a worker thread
};

struct AgentView {
  bool stopping = false;         // !Server::accepting_work()
  bool has_embedded = false;     // an embedded pool serves requests: counts as up
  std::vector<AgentGroup> groups;
};

// The line, with its "\n".
std::string agent_reply(const AgentView& view);

// Accepts one connection from listener and answers reply, then closes it.
// Accept failures are logged at warn.
void serve_agent_connection(uv_stream_t* listener, const std::string& reply);

}  // namespace wsgid::frontend
