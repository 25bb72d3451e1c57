// The whole-config checks: what no single directive can tell, run once every
// directive has been applied. A process group named but never defined; a daemon
// group no request can reach; a group declared in one <VirtualHost> that another
// host's alias selects; a <Location> given twice with different groups; an alias
// that runs embedded although daemon groups exist (an error under
// WSGIRestrictEmbedded On); a script file that does not exist; timeouts that
// defeat each other. They read the
// Config and only add diagnostics to *diags (errors and warnings, each with the
// location of the directive at fault). Driven by Parser::finish()
// (parser_internal.h), loop thread. Internal to config_lib.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "supervisor/config/model_names.h"
#include "supervisor/config/diagnostics.h"

namespace wsgid::config::detail {

// An error, with "did you mean", for each (name, where) in refs that no
// WSGIDaemonProcess of config defines.
void check_group_refs(const Config& config,
                      const std::vector<std::pair<std::string, SourceLoc>>& refs,
                      Diagnostics* diags);

// Resolves every script alias against the Locations and Directories that cover
// it: duplicate <Location> blocks with different groups, groups used across
// virtual hosts, embedded aliases, and daemon groups nothing reaches.
void check_routes(const Config& config, Diagnostics* diags);

// A warning for each WSGIScriptAlias(Match) target and WSGIImportScript that is
// not a file (an alias may also name a directory). Looks at the file system.
void check_files(const Config& config, Diagnostics* diags);

// Listening (issue 12, point 2): a warning at each <VirtualHost> address whose
// port no Listen opens (Apache would never give it a request), naming the Listen
// lines there are. Silent when the config has no Listen at all: a site file
// checked on its own (run_check() and the master say what a config without
// Listen means). A Listen on port 0 (any free port: tests) covers every port.
void check_listen_coverage(const Config& config, Diagnostics* diags);

// Timeouts that defeat each other within a daemon group: a request-timeout
// longer than socket-timeout never acts, because the front end gives up on the
// response (504) first. A warning at the request-timeout option.
void check_timeouts(const Config& config, Diagnostics* diags);

// WSGIFrontendLoops above 1 where Python runs in the front end (embedded mode,
// mod_wsgi's auth scripts): one loop runs then (model::frontend_loop_count). A
// warning at the directive.
void check_frontend_loops(const Config& config, Diagnostics* diags);

}  // namespace wsgid::config::detail
