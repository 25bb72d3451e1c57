// Config <-> JSON: `wsgid --check --json`, and the group object of the worker
// settings message (worker_settings.h; protocol/PROTOCOL.md 7.3).
//
// Keys are spelled as in mod_wsgi ("maximum-requests"), durations are seconds
// (numbers), sizes bytes, unset values null. A group object holds "name",
// "processes", "threads", "multithread", "multiprocess", "run_once",
// "display_name" (the expanded title), "defined_at" and every WSGIDaemonProcess
// option with its default applied, through the option table (group_options.h).
// Pure functions; any thread.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "model/config.h"

namespace wsgid::model {

nlohmann::json group_to_json(const GroupSpec& group);
// The inverse of group_to_json (unknown keys are ignored, missing keys and null keep
// their defaults); fails naming the key whose value has the wrong type.
Result<GroupSpec> group_from_json(const nlohmann::json& j);

// {"groups": [...], "mounts": [{"url", "script", "process_group" (null when
// embedded), "application_group", "virtual_host"}], "listen": ["127.0.0.1:8080"],
// "virtual_hosts", "aliases", "sections", "server"}. What the front end
// enforces is shown where it is written: "server" and each virtual host carry
// "directives" (Redirect*, Rewrite*, Header, RequestHeader as written, each with
// "defined_at"), "handlers" (set_handler, wsgi_extensions, exec_cgi,
// directory_index; null = inherited), "trace_enable" and "remoteip" (mod_remoteip's
// header, proxies_header, proxies [{address, internal}], proxy_protocol; the
// server also "proxy_protocol_exceptions" and "uwsgi_trusted_peers"); each mount its "trusted_proxy_headers"
// and "trusted_proxies" (null = none); "sections" lists every
// <Directory>/<DirectoryMatch>/<Files>/<FilesMatch>/<Location>/<LocationMatch>
// with "section", "path", "virtual_host", "access" (null, or "rules": its
// access-control lines as written, "auth_user_file", "auth_group_file"),
// "handlers", "process_group", "application_group", "directives",
// "defined_at".
nlohmann::json config_to_json(const Config& config);

}  // namespace wsgid::model
