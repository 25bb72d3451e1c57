// See python_part.h.
#include "supervisor/frontend/python_part.h"

#include "common/module_file.h"
#include "common/self_dir.h"

namespace wsgid::frontend {

namespace {

PythonPart* g_part = nullptr;
std::string g_error;
bool g_tried = false;

}  // namespace

std::string python_module_path() { return self_dir() + "/" + kPythonModuleName; }

PythonPart* load_python_part(std::string* error) {
  if (!g_tried) {
    g_tried = true;
    // libpython, which the module links, is loaded with it.
    if (void* entry = load_module_entry(python_module_path(), kPythonPartEntry, &g_error))
      g_part = reinterpret_cast<PythonPartEntry>(entry)(log::role().c_str(), static_cast<int>(log::level()),
                                                        log::fd());
  }
  if (!g_part && error) *error = g_error;
  return g_part;
}

PythonPart* loaded_python_part() { return g_part; }

}  // namespace wsgid::frontend
