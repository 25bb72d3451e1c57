// See module_file.h.
#include "common/module_file.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <map>

namespace wsgid {

namespace {

std::map<std::string, int>& held() {
  static std::map<std::string, int> files;
  return files;
}

}  // namespace

void hold_module_file(const std::string& path) {
  if (path.empty() || held().count(path)) return;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) held()[path] = fd;
}

std::string module_load_path(const std::string& path) {
  auto it = held().find(path);
  if (it == held().end()) return path;
  std::string proc = "/proc/self/fd/" + std::to_string(it->second);
  return ::access(proc.c_str(), F_OK) == 0 ? proc : path;
}

void* load_module_entry(const std::string& path, const char* entry, std::string* error) {
  void* h = ::dlopen(module_load_path(path).c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = ::dlerror();
    *error = "dlopen(" + path + "): " + (why ? why : "failed");
    return nullptr;
  }
  void* sym = ::dlsym(h, entry);
  if (!sym) *error = std::string("dlsym(") + entry + ") in " + path + ": not found";
  return sym;
}

}  // namespace wsgid
