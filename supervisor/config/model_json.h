// Config <-> JSON: `wsgid --check --json`, and the settings the master sends
// each child over its control channel (protocol/PROTOCOL.md, kSettings).
//
// Keys are spelled as in mod_wsgi ("maximum-requests"), durations are seconds
// (numbers), sizes bytes, unset values null. A group object holds "name",
// "processes", "threads", "multithread", "multiprocess", "run_once",
// "display_name" (the expanded title) and every WSGIDaemonProcess option with its
// default applied. Pure functions; any thread.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "supervisor/config/config.h"

namespace wsgid::config {

nlohmann::json group_to_json(const GroupSpec& group);
// The inverse of group_to_json (unknown keys are ignored, missing keys keep
// their defaults); fails naming the key whose value has the wrong type.
Result<GroupSpec> group_from_json(const nlohmann::json& j);

// {"groups": [...], "mounts": [{"url", "script", "process_group" (null when
// embedded), "application_group", "virtual_host"}], "listen": ["127.0.0.1:8080"],
// ...server settings}.
nlohmann::json config_to_json(const Config& config);

}  // namespace wsgid::config
