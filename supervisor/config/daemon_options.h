// The WSGIDaemonProcess options: one table row per mod_wsgi option (name, what
// a valid value looks like, the setter that checks it and stores it in a
// GroupSpec), plus the group defaults that depend on other directives. The
// directive itself (group name, duplicates, key=value splitting, the error
// texts) is Parser::d_daemon_process in daemon_options.cc. Constant table; the
// setters write only the GroupSpec, the Parser's socket-timeout bookkeeping, and
// diagnostics for user=/group= that name root or nobody on this system. Loop
// thread. Pointers returned point into the static table and stay valid for the
// life of the program.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/config/model_names.h"
#include "supervisor/config/diagnostics.h"

namespace wsgid::config::detail {

class Parser;

// Checks value and stores it in the group; false: the value is invalid (the
// caller reports "invalid value ... expected <expected>"). A setter may also
// report an error of its own (user=root) and still return true.
using OptSetter = bool (*)(Parser&, GroupSpec&, const std::string& value, const SourceLoc& at);

struct DaemonOption {
  const char* name;      // as mod_wsgi spells it, case-sensitive: "processes"
  const char* expected;  // shown after "expected "
  OptSetter set;
};

// The row for key (exact match, as mod_wsgi), or nullptr.
const DaemonOption* find_daemon_option(std::string_view key);

// Every option name, in table order ("did you mean" candidates).
std::vector<std::string_view> daemon_option_names();

// After every directive: socket-timeout= defaults to Timeout and
// response-socket-timeout= to socket-timeout=, for the groups (by name) not in
// the given sets.
void apply_timeout_defaults(Config* config, const std::set<std::string>& socket_timeout_given,
                            const std::set<std::string>& response_socket_timeout_given);

}  // namespace wsgid::config::detail
