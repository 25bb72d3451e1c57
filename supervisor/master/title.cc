#include "supervisor/master/title.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

extern char** environ;

namespace wsgid::master {
namespace {

int g_argc = 0;
char** g_argv = nullptr;

// glibc calls .init_array functions with main's (argc, argv, envp).
void capture_argv(int argc, char** argv, char**) {
  g_argc = argc;
  g_argv = argv;
}
__attribute__((section(".init_array"), used)) void (*g_capture)(int, char**, char**) = capture_argv;

}  // namespace

void set_process_title(int argc, char** argv, const std::string& title) {
  if (!argv) {
    argc = g_argc;
    argv = g_argv;
  }
  if (argc <= 0 || !argv || !argv[0]) return;
  char* start = argv[0];
  char* end = argv[0] + std::strlen(argv[0]) + 1;
  for (int i = 1; i < argc; ++i) {
    if (argv[i] == end) end = argv[i] + std::strlen(argv[i]) + 1;
  }
  // Move the environment (usually right after argv) out of the way.
  size_t envc = 0;
  while (environ && environ[envc]) ++envc;
  if (envc > 0 && environ[0] == end) {
    char** copy = new char*[envc + 1];
    for (size_t i = 0; i < envc; ++i) {
      if (environ[i] == end) end = environ[i] + std::strlen(environ[i]) + 1;
      copy[i] = strdup(environ[i]);
    }
    copy[envc] = nullptr;
    environ = copy;  // leaked on purpose: lives as long as the process
  }
  size_t room = static_cast<size_t>(end - start);
  if (room < 2) return;
  size_t n = std::min(title.size(), room - 1);
  std::memcpy(start, title.data(), n);
  std::memset(start + n, 0, room - n);
  for (int i = 1; i < argc; ++i) argv[i] = start + n;  // now empty strings
  prctl(PR_SET_NAME, "wsgid", 0, 0, 0);
}

}  // namespace wsgid::master
