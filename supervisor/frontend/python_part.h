// PythonPart: the front end's Python, loaded only when the settings need it
// (docs/decisions.md 50).
//
// mod_wsgi's embedded mode (embedded.h) and its Python auth providers
// (auth_scripts.h) run Python inside the front end. Both live in a shared module,
// wsgid-frontend-python.so, installed beside wsgid-frontend and linked to the
// shared libpython; the front end itself does not link libpython. The Server
// loads the module with dlopen() the first time a configuration holds an
// embedded alias or names an auth script: a front end that runs no Python never
// maps libpython (2.4 MiB of PSS: its relocated data is private to the process).
// Python cannot be unloaded, so neither is the module.
//
// The module has its own copies of the libraries it shares with the front end
// (common, model, protocol, the worker's); the only state they must agree on is
// the log's role, level and descriptor, which load_python_part() hands over and
// set_log_level() follows. Loop thread only, except auth_scripts() (thread-safe,
// auth_scripts.h).
#pragma once

#include <string>

#include "common/log.h"
#include "common/status.h"
#include "model/config.h"
#include "supervisor/frontend/access_check.h"

namespace wsgid::frontend {

class PythonPart {
 public:
  virtual ~PythonPart() = default;
  // EmbeddedPython's (embedded.h): Python alone (for the auth scripts), or the
  // socket, Python and the request threads; each once.
  virtual Status start_python(const model::Config& config) = 0;
  virtual bool python_started() const = 0;
  virtual Status start(const model::Config& config) = 0;
  virtual bool started() const = 0;
  virtual const std::string& socket_path() const = 0;
  virtual int threads() const = 0;
  virtual void cleanup() = 0;
  // mod_wsgi's auth providers (auth_scripts.h); call once python_started().
  virtual ScriptRunner* auth_scripts() = 0;
  virtual void set_reloading(bool on) = 0;
  // mod_wsgi.subscribe_shutdown's callbacks (worker/wsgi_runtime.h).
  virtual void publish_process_stopping(const std::string& reason) = 0;
  virtual void set_log_level(log::Level level) = 0;
};

// The module's one entry point, looked up by name: a PythonPart for a process
// whose log has this role, level and descriptor.
using PythonPartEntry = PythonPart* (*)(const char* log_role, int log_level, int log_fd);
inline constexpr const char* kPythonPartEntry = "wsgid_frontend_python_part";
inline constexpr const char* kPythonModuleName = "wsgid-frontend-python.so";

// The module: wsgid-frontend-python.so in the executable's directory.
std::string python_module_path();
// Loads the module from the executable's directory the first time ->
// the part; nullptr with *error ("dlopen(PATH): ...") when it cannot.
PythonPart* load_python_part(std::string* error);
// The part when loaded, else nullptr (never loads).
PythonPart* loaded_python_part();

}  // namespace wsgid::frontend
