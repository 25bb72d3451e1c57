// Readiness (SetHandler wsgid-ready, issue 14): whether a virtual host can
// serve now, decided by the front end alone, without a request to a worker.
// Ready = the front end accepts work (Server::accepting_work()) and every
// process group serving the virtual host has a live worker: the master
// reports it "running" (not stopped, not down, not being replaced) and, once
// its status report arrived, at least one of its processes RUNNING (READY
// sent). The groups serving a virtual host are those its script aliases,
// WSGIProcessGroup lines and sections name, and the main server's (which a
// virtual host inherits); a name with a %{...} template could be any group,
// so then every group counts. The embedded pool (no group) lives in the
// front end itself and is always live. Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "model/config.h"
#include "model/frontend_settings.h"
#include "model/status_report.h"

namespace wsgid::frontend {

// The names of the groups serving vh (see above), each once, in config order.
std::vector<std::string> groups_serving(const model::Config& config, const model::VirtualHost* vh);

// report may be null (none arrived yet).
bool group_live(const model::GroupEndpoint& ep, const model::StatusReport* report);

// Why vh is not ready ("group site1 has no live worker", "the front end is
// stopping"), or "" when it is.
std::string not_ready_reason(const model::Config& config, const model::VirtualHost* vh,
                             const std::vector<model::GroupEndpoint>& groups,
                             const model::StatusReport* report, bool accepting);

}  // namespace wsgid::frontend
