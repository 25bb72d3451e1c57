// See python_part.h.
#include "supervisor/frontend/python_part.h"

#include <dlfcn.h>

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
    const std::string path = python_module_path();
    // RTLD_LOCAL: the module's copies of wsgid's libraries stay its own;
    // libpython, which it links, is loaded with it.
    void* h = ::dlopen(module_load_path(path).c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* why = ::dlerror();
      g_error = "dlopen(" + path + "): " + (why ? why : "failed");
    } else if (auto entry = reinterpret_cast<PythonPartEntry>(::dlsym(h, kPythonPartEntry)); !entry) {
      g_error = std::string("dlsym(") + kPythonPartEntry + ") in " + path + ": not found";
    } else {
      g_part = entry(log::role().c_str(), static_cast<int>(log::level()), log::fd());
    }
  }
  if (!g_part && error) *error = g_error;
  return g_part;
}

PythonPart* loaded_python_part() { return g_part; }

}  // namespace wsgid::frontend
