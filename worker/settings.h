// WorkerSettings: the kSettings JSON a worker receives from the master over its
// control channel (team BRIEF "Child process contract"), parsed into plain values.
//
// Parsed once by worker_main on the main thread before anything else starts;
// afterwards read-only and shared by every thread. The parser is tolerant of
// what `wsgid --check --json` may print for a group: a missing key or null keeps
// mod_wsgi's default, durations are seconds (numbers), sizes bytes, lists may be
// JSON arrays or the option's own comma/colon separated text. A value of the
// wrong type is an error naming the key. The worker never links the config parser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wsgid::worker {

struct Preload {
  std::string script;             // absolute path
  std::string application_group;  // expanded; "" = main interpreter
  std::string callable_object = "application";
  std::string kind = "import";    // "import" (WSGIImportScript) or "alias"
};

struct WorkerSettings {
  int index = 0;
  int64_t generation = 0;

  // The group (mod_wsgi option names in comments).
  std::string name;
  int processes = 1;
  int threads = 15;
  bool multithread = true;
  bool multiprocess = false;
  bool run_once = false;
  std::string title;  // "display_name": the expanded title; "" = "wsgid-worker NAME"
  std::optional<std::string> user;   // user=
  std::optional<std::string> group;  // group=
  std::optional<std::vector<std::string>> supplementary_groups;
  std::optional<int> umask;
  std::optional<std::string> home;
  std::optional<std::string> lang;
  std::optional<std::string> locale;
  std::optional<int64_t> stack_size;
  int cpu_priority = 0;
  std::optional<std::string> python_home;  // python-home, else WSGIPythonHome
  std::vector<std::string> python_path;    // WSGIPythonPath then python-path
  std::optional<std::string> python_eggs;
  std::optional<double> switch_interval;

  int64_t maximum_requests = 0;
  double restart_interval = 0;
  double inactivity_timeout = 0;
  double startup_timeout = 0;
  double graceful_timeout = 15;
  double eviction_timeout = 0;
  double shutdown_timeout = 5;
  double cpu_time_limit = 0;
  int64_t memory_limit = 0;
  int64_t virtual_memory_limit = 0;
  double request_timeout = 0;
  double deadlock_timeout = 300;
  double socket_timeout = 60;
  double queue_timeout = 0;

  std::optional<std::string> default_user;   // User
  std::optional<std::string> default_group;  // Group
  std::vector<Preload> preload;
  std::string log_level = "warn";

  // The process title the worker shows (DESIGN.md "Names and defaults").
  std::string effective_title() const;
};

// Parses the kSettings payload. Errors: "settings: not JSON: <why>",
// "settings: role is \"frontend\", expected \"worker\"", "settings: missing \"group\"",
// "settings: \"group.threads\" must be a number", and so on for each key.
Result<WorkerSettings> parse_settings(std::string_view json_text);

// Expands a display-name value: exactly "%{GROUP}" -> "(wsgi:NAME)"; otherwise
// every "%{GROUP}" replaced by NAME; empty -> "wsgid-worker NAME".
std::string expand_title(std::string_view display_name, std::string_view group);

}  // namespace wsgid::worker
