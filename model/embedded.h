// Which parts of a configuration run in mod_wsgi's embedded mode: in the front
// end's own Python (docs/decisions.md 11), not in a daemon process group.
//
// The front end asks whether to start Python at all; the master asks whether
// the front end holds an embedded pool (the one named kEmbeddedPoolName in
// `wsgictl status`) and which script files that pool runs, so that a reload
// replaces the pool when one of them changed (docs/decisions.md 23). The same
// resolution as `--check` (model::Resolver). Pure functions: any thread.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "model/config.h"

namespace wsgid::model {

// The embedded pool's name in wsgictl: mod_wsgi's own name for "no daemon
// process group" (WSGIProcessGroup %{GLOBAL}).
inline constexpr std::string_view kEmbeddedPoolName = "%{GLOBAL}";

// Whether a script alias of config runs embedded at its own URL, or at the path
// of a <Location> inside it. False when WSGIRestrictEmbedded On (such aliases
// are refused, never run). Also true when handler_may_run_embedded().
// Whether any section of config names one of mod_wsgi's Python providers
// (WSGIAuthUserScript, WSGIAuthGroupScript, WSGIAccessScript): the front end
// then needs Python, also under WSGIRestrictEmbedded On (mod_wsgi runs them in
// the Apache child whatever that directive says).
bool config_has_auth_scripts(const Config& config);

// The front end's event loops (WSGIFrontendLoops, docs/decisions.md 52): one
// when Python runs in the front end (embedded mode, auth scripts: the Python
// part is the first loop's); else the directive's count; else (auto) one per
// four of the cpus the process may run on, at least one. At most
// kMaxFrontendLoops.
inline constexpr int kMaxFrontendLoops = 64;
int frontend_loop_count(const Config& config, int cpus);
// What makes the front end run one loop whatever WSGIFrontendLoops says: ""
// when nothing does, else "embedded mode" or "mod_wsgi's auth scripts".
std::string_view frontend_python_use(const Config& config);

bool config_has_embedded(const Config& config);

// Whether a SetHandler / AddHandler wsgi-script scope (issue 11, part 3) names
// no process group, nor does its vhost or the server: its files may run
// embedded. An over-estimate (another scope may name the group): Python then
// starts without being used, which costs memory, never a refused request.
bool handler_may_run_embedded(const Config& config);

// The script files (absolute: from_server_root) of the script aliases that run
// embedded, as config_has_embedded() finds them. Aliases whose target holds a
// back-reference ($1) and files reached through a wsgi-script handler are not
// listed: which files they run is known only per request. Empty when
// WSGIRestrictEmbedded On.
std::set<std::string> embedded_scripts(const Config& config);

}  // namespace wsgid::model
