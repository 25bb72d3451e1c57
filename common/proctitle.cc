#include "common/proctitle.h"

#include <sys/prctl.h>

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

extern char** environ;

namespace wsgid {
namespace {

int g_main_argc = 0;
char** g_main_argv = nullptr;

// glibc calls .init_array functions with main's (argc, argv, envp).
void capture_argv(int argc, char** argv, char**) {
  g_main_argc = argc;
  g_main_argv = argv;
}
__attribute__((section(".init_array"), used)) void (*g_capture)(int, char**, char**) = capture_argv;

bool g_initialised = false;
TitleArea g_area;
int g_argc = 0;
char** g_argv = nullptr;

}  // namespace

TitleArea title_area(int argc, char** argv, char** envp) {
  if (argc <= 0 || argv == nullptr || argv[0] == nullptr) return {};
  char* end = argv[0];
  for (int i = 0; i < argc && argv[i] == end; ++i) end = argv[i] + std::strlen(argv[i]) + 1;
  for (size_t i = 0; envp != nullptr && envp[i] == end; ++i)
    end = envp[i] + std::strlen(envp[i]) + 1;
  return {argv[0], static_cast<size_t>(end - argv[0])};
}

Status write_title(TitleArea area, std::string_view title) {
  if (area.start == nullptr || area.size < 2) return Status::ok();
  Status result;
  size_t n = title.size();
  if (n + 1 > area.size) {
    result = Status::error(fmt::format("set_proctitle: title of {} bytes does not fit in {} bytes",
                                       n, area.size - 1));
    n = area.size - 1;
  }
  std::memcpy(area.start, title.data(), n);
  area.start[n] = '\0';
  if (n + 1 < area.size) std::memset(area.start + n + 1, ' ', area.size - n - 1);
  return result;
}

void proctitle_init(int argc, char** argv) {
  if (g_initialised) return;
  g_initialised = true;
  if (argv == nullptr) {
    argc = g_main_argc;
    argv = g_main_argv;
  }
  g_area = title_area(argc, argv, environ);
  g_argc = argc;
  g_argv = argv;
  size_t n = 0;
  while (environ != nullptr && environ[n] != nullptr) ++n;
  char** copy = new char*[n + 1];
  for (size_t i = 0; i < n; ++i) copy[i] = strdup(environ[i]);
  copy[n] = nullptr;
  environ = copy;  // leaked on purpose: lives as long as the process
}

Status set_proctitle(std::string_view title, std::string_view comm) {
  Status result = write_title(g_area, title);
  if (g_area.start != nullptr && g_area.size >= 2) {
    char* empty = g_area.start + std::min(title.size(), g_area.size - 1);
    for (int i = 1; i < g_argc; ++i) g_argv[i] = empty;
  }
  if (comm.empty()) comm = title;
  char name[16] = {};
  std::memcpy(name, comm.data(), std::min<size_t>(comm.size(), 15));
  if (prctl(PR_SET_NAME, name, 0, 0, 0) != 0 && result) result = Status::sys("prctl", "PR_SET_NAME");
  return result;
}

}  // namespace wsgid
