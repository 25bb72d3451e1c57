#include "worker/proctitle.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cstring>
#include <string>

extern char** environ;

namespace wsgid::worker {
namespace {

char* g_area = nullptr;   // argv[0]
size_t g_size = 0;        // bytes from argv[0] to the end of the last contiguous string

}  // namespace

void proctitle_init(int argc, char** argv) {
  if (argc <= 0 || argv[0] == nullptr) return;
  char* end = argv[0];
  for (int i = 0; i < argc; ++i) {
    if (argv[i] != end) break;
    end = argv[i] + std::strlen(argv[i]) + 1;
  }
  size_t n = 0;
  while (environ[n] != nullptr) ++n;
  char** copy = new char*[n + 1];
  for (size_t i = 0; i < n; ++i) {
    if (environ[i] == end) end = environ[i] + std::strlen(environ[i]) + 1;
    copy[i] = strdup(environ[i]);
  }
  copy[n] = nullptr;
  environ = copy;
  g_area = argv[0];
  g_size = static_cast<size_t>(end - argv[0]);
}

Status set_proctitle(std::string_view title) {
  Status result;
  if (g_area != nullptr && g_size > 1) {
    size_t n = title.size();
    if (n + 1 > g_size) {
      result = Status::error(fmt::format("set_proctitle: title of {} bytes does not fit in {} bytes",
                                         n, g_size - 1));
      n = g_size - 1;
    }
    std::memcpy(g_area, title.data(), n);
    g_area[n] = '\0';
    // The kernel shows the argv area up to the first NUL when the last byte of
    // argv is not NUL (a rewritten title); fill with spaces so that it is not.
    if (n + 1 < g_size) std::memset(g_area + n + 1, ' ', g_size - n - 1);
  }
  char comm[16] = {};
  std::memcpy(comm, title.data(), title.size() < 15 ? title.size() : 15);
  if (prctl(PR_SET_NAME, comm, 0, 0, 0) != 0 && result)
    result = Status::sys("prctl", "PR_SET_NAME");
  return result;
}

}  // namespace wsgid::worker
