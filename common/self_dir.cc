// See self_dir.h.
#include "common/self_dir.h"

#include <limits.h>
#include <unistd.h>

#include "common/paths.h"

namespace wsgid {

std::string self_dir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string p(buf, static_cast<size_t>(n));
  return std::string(directory_of(p));
}

}  // namespace wsgid
