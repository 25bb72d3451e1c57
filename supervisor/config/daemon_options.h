// WSGIDaemonProcess: the directive (Parser::d_daemon_process: group name,
// duplicates, key=value splitting, the error texts) over the option table of
// model/group_options.h, which parses and stores every option; this side adds
// only what looks at this system (user=/group= may not be root and must exist
// when files are checked) and the group defaults that depend on other
// directives. Loop thread.
#pragma once

#include "supervisor/config/model_names.h"

namespace wsgid::config::detail {

// After every directive: socket-timeout= defaults to Timeout and
// response-socket-timeout= to socket-timeout=, in the groups that do not give them.
void apply_timeout_defaults(Config* config);

}  // namespace wsgid::config::detail
