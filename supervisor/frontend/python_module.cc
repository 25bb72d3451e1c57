// wsgid-frontend-python.so: the front end's Python part (python_part.h), built
// from embedded.cc, auth_scripts.cc and the worker library, linked to the shared
// libpython. The front end looks up one symbol, the entry point below; the
// module's own sources are built with hidden visibility and the front end loads
// it RTLD_LOCAL, so the copies of wsgid's libraries inside it are seen by nothing
// else.
#include <dlfcn.h>

#include <Python.h>

#include "supervisor/frontend/auth_scripts.h"
#include "supervisor/frontend/embedded.h"
#include "supervisor/frontend/python_part.h"
#include "worker/wsgi_runtime.h"

namespace wsgid::frontend {
namespace {

class Part final : public PythonPart {
 public:
  Status start_python(const model::Config& config) override { return embedded_.start_python(config); }
  bool python_started() const override { return embedded_.python_started(); }
  Status start(const model::Config& config) override { return embedded_.start(config); }
  bool started() const override { return embedded_.started(); }
  const std::string& socket_path() const override { return embedded_.socket_path(); }
  int threads() const override { return embedded_.threads(); }
  void cleanup() override { embedded_.cleanup(); }
  ScriptRunner* auth_scripts() override { return &scripts_; }
  void set_reloading(bool on) override { scripts_.set_reloading(on); }
  void publish_process_stopping(const std::string& reason) override {
    worker::publish_process_stopping_everywhere(reason);
  }
  void set_log_level(log::Level level) override { log::set_level(level); }

 private:
  EmbeddedPython embedded_;
  AuthScripts scripts_;
};

}  // namespace
}  // namespace wsgid::frontend

extern "C" __attribute__((visibility("default"))) wsgid::frontend::PythonPart* wsgid_frontend_python_part(
    const char* log_role, int log_level, int log_fd) {
  using namespace wsgid;
  log::init(log_role);
  log::set_level(static_cast<log::Level>(log_level));
  log::set_fd(log_fd);
  // Extension modules (lib-dynload's, dist-packages') look the Py* symbols up in
  // the process's global scope. The front end loads this module RTLD_LOCAL, and
  // libpython with it: the same copy is promoted to the global scope here
  // (RTLD_NOLOAD), as an executable linked to libpython would have it.
  Dl_info info;
  if (!dladdr(reinterpret_cast<void*>(&Py_IsInitialized), &info) || !info.dli_fname ||
      !dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL)) {
    const char* why = dlerror();
    log::error("frontend: libpython cannot be made global: {}; extension modules will not load",
               why ? why : "dladdr() found no library");
  }
  static frontend::Part part;
  return &part;
}
