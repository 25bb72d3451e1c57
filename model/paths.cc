// The configuration's path rules; see paths.h.
#include "model/paths.h"

#include <unistd.h>

#include <cstdlib>

#include "common/paths.h"

namespace wsgid::model {

std::string from_server_root(const Config& c, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  std::string base = c.server_root && !c.server_root->empty() ? *c.server_root
                                                               : std::string(directory_of(c.file, "."));
  return base + "/" + path;
}

std::string default_runtime_dir() {
  if (geteuid() == 0) return "/run/wsgid";
  if (const char* x = getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/wsgid";
  return "/tmp/wsgid-" + std::to_string(static_cast<unsigned>(getuid()));
}

std::string group_socket_path(const Config& c, const std::string& runtime_dir,
                              const std::string& group) {
  std::string prefix = c.socket_prefix && !c.socket_prefix->empty()
                           ? from_server_root(c, *c.socket_prefix)
                           : runtime_dir + "/wsgi";
  return prefix + "." + group + ".sock";
}

std::string control_socket_path(const Config& c, const std::string& runtime_dir) {
  if (!c.control_socket || c.control_socket->empty()) return runtime_dir + "/control.sock";
  return from_server_root(c, *c.control_socket);
}

std::string pid_file_path(const Config& c, const std::string& runtime_dir) {
  return c.pid_file ? from_server_root(c, *c.pid_file) : runtime_dir + "/wsgid.pid";
}

}  // namespace wsgid::model
