// WorkerSettings: the worker's view of its settings message (model/
// worker_settings.h decodes it; protocol/PROTOCOL.md specifies it): its group's
// options, as a GroupSpec, plus what is the worker's own: which worker it is,
// mod_wsgi's flags and title as the master computed them, the default identity,
// the scripts to preload, the log level.
//
// Parsed once by worker_main on the main thread before anything else starts;
// afterwards read-only and shared by every thread. python_home and python_path
// are the ones the interpreter gets: the group's python-home, else
// WSGIPythonHome; WSGIPythonPath then the group's python-path. The worker never
// links the config parser (docs/decisions.md 3), only model/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/config.h"
#include "model/worker_settings.h"

namespace wsgid::worker {

using Preload = model::Preload;

struct WorkerSettings : model::GroupSpec {
  int index = 0;
  int64_t generation = 0;
  // wsgi.multithread, wsgi.multiprocess, wsgi.run_once as sent. These hide
  // GroupSpec's functions of the same names on purpose: the worker reports what
  // the master decided (the embedded front end sets them for its own pool).
  bool multithread = true;
  bool multiprocess = false;
  bool run_once = false;
  std::string display_title;  // the expanded title sent; "" = "wsgid-worker NAME"

  std::optional<std::string> default_user;   // User
  std::optional<std::string> default_group;  // Group
  std::vector<Preload> preload;
  std::string log_level = "warn";

  // The process title the worker shows.
  std::string effective_title() const;
};

// Parses the kSettings payload with model::worker_settings_from_text (its
// header lists every error message) and merges the Python paths as above.
Result<WorkerSettings> parse_settings(std::string_view json_text);

// Expands a display-name value: exactly "%{GROUP}" -> "(wsgi:NAME)"; otherwise
// every "%{GROUP}" replaced by NAME; empty -> "wsgid-worker NAME".
std::string expand_title(std::string_view display_name, std::string_view group);

}  // namespace wsgid::worker
