// The worker settings message: what the master sends each worker as its first
// kSettings frame on the control channel (protocol/PROTOCOL.md, "Worker
// settings", specifies the JSON field by field). Both ends live here: the master
// builds it from the Config (worker_settings_for) and encodes it; wsgid-worker
// decodes it before anything else starts. The reload diff compares two of them
// (operator==) to decide whether a group restarts.
//
// The group object holds every WSGIDaemonProcess option, read and written
// through the option table (group_options.h), plus the values the master
// derives from them: "multithread", "multiprocess", "run_once" (mod_wsgi's
// flags) and "display_name" (the expanded process title).
//
// Decoding is tolerant of what `wsgid --check --json` prints for a group: a
// missing key or null keeps mod_wsgi's default, lists may be arrays or the
// option's own text ("/a:/b"). It returns errors as values, never throws; each
// names the key: "settings: not JSON", "settings: not a JSON object",
// "settings: role is \"frontend\", expected \"worker\"", "settings: missing
// \"group\" object", "settings: \"group.name\" is missing or empty",
// "settings: \"group.threads\" is 70000, expected 0..65533", "settings:
// \"KEY\" must be WHAT" (WHAT as in OptionError, or "a list", "a list of
// objects", "a non-empty path", "\"import\" or \"alias\""). Pure functions;
// any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "model/config.h"

namespace wsgid::model {

// A script the worker loads at start: WSGIImportScript, or a WSGIScriptAlias
// with both process-group= and application-group= (mod_wsgi preloads those).
struct Preload {
  std::string script;             // absolute path
  std::string application_group;  // expanded; "" = main interpreter
  std::string callable_object = "application";
  std::string kind = "import";    // "import" (WSGIImportScript) or "alias"
  bool operator==(const Preload&) const = default;
};

struct WorkerSettings {
  int index = 0;            // which worker of the group (set per process)
  int64_t generation = 0;   // the group's generation (set per process)
  GroupSpec group;          // the group's options
  // Derived by the master from the group; the worker takes them as sent.
  bool multithread = true;
  bool multiprocess = false;
  bool run_once = false;
  std::string title;        // "display_name"; "" = not sent
  std::optional<std::string> default_user;   // User (www-data when root and unset)
  std::optional<std::string> default_group;  // Group
  std::optional<std::string> python_home;    // WSGIPythonHome
  std::vector<std::string> python_path;      // WSGIPythonPath
  std::vector<Preload> preload;
  std::string log_level = "warn";

  // Equal settings: the same options (same_group_options: where the group is
  // written does not count) and the same values for everything else.
  bool operator==(const WorkerSettings& other) const;
};

// The master's side: the settings for `group` of `config` (index and generation
// 0: the process group sets them per process). as_root: the master runs as root
// (User and Group then default to www-data).
WorkerSettings worker_settings_for(const Config& config, const GroupSpec& group, bool as_root);

// The JSON object without "index" and "generation": the process group adds
// those per process when it spawns one.
nlohmann::json worker_settings_to_json(const WorkerSettings& settings);

// The worker's side: decodes the kSettings payload.
Result<WorkerSettings> worker_settings_from_text(std::string_view json_text);

}  // namespace wsgid::model
