// `wsgid --check --unit FILE`: lints a systemd unit that runs wsgid against the
// configuration it runs, so that systemd does not kill a graceful stop halfway.
//
// read_unit() reads the [Service] settings that decide how wsgid is stopped
// (TimeoutStopSec=, TimeoutSec=, KillMode=, Type=) the way systemd does: later
// assignments win, an empty one resets to the default, lines continue with a
// trailing backslash, '#' and ';' start comments; time spans are systemd's
// ("90", "1min 30s", "2.5s", "infinity"). lint_unit() then adds warnings to the
// config's Diagnostics, each at the unit line at fault (the unit's text is added
// as a source so the line is shown):
//   - TimeoutStopSec shorter than the longest stop wsgid may take: a group's
//     graceful-timeout + shutdown-timeout (the drain, then the SIGKILL deadline);
//   - KillMode=control-group (systemd's default) or process: the first sends
//     SIGTERM to every worker at once, bypassing the master's drain; the second
//     leaves workers behind when the master is killed. wsgid wants mixed.
// Called from run_check() (check.h); single threaded; reads one file.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "model/config.h"
#include "supervisor/config/diagnostics.h"

namespace wsgid {

struct UnitSettings {
  std::string path;
  std::optional<double> timeout_stop;  // seconds; nullopt = systemd's default (90 s)
  bool timeout_stop_infinite = false;
  model::SourceLoc timeout_stop_loc;  // line 0 when not set
  std::string kill_mode = "control-group";
  model::SourceLoc kill_mode_loc;
  std::string type = "simple";
  model::SourceLoc service_loc;  // the [Service] header, line 0 when none
};

// systemd's DefaultTimeoutStopSec.
inline constexpr double kSystemdDefaultStopTimeout = 90;

// Parses a systemd time span ("90", "1min 30s", "500ms", "infinity" = +inf) in
// seconds; nullopt when it is not one.
std::optional<double> parse_time_span(std::string_view text);

// Reads the unit file at path; its text is also added to *diags as a source.
// Errors: the file cannot be read (Status::sys), a malformed value (a warning is
// added instead, the setting is ignored as systemd ignores it).
Result<UnitSettings> read_unit(const std::string& path, config::Diagnostics* diags);

// The warnings described above, for config run under unit.
void lint_unit(const model::Config& config, const UnitSettings& unit, config::Diagnostics* diags);

}  // namespace wsgid
