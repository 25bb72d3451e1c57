// Process titles for every wsgid process (master, front end, worker): rewrites the
// process's own command line (/proc/PID/cmdline, what ps and pkill -f see) and its
// kernel short name (/proc/PID/comm, what top and pgrep without -f see).
//
// As nginx (ngx_setproctitle) and PostgreSQL (ps_status.c) do, proctitle_init()
// moves the environment strings to the heap so that the whole contiguous
// argv+environ area can hold the title; set_proctitle() then writes the title
// there, never truncated unless it is longer than that area (then it is cut to fit
// and the call says so). Both are called from main()'s thread only, before any
// other thread reads environ; argv must be main()'s own. title_area() and
// write_title() are the pure steps underneath, apart so that tests can run them
// on a buffer of their own.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/status.h"

namespace wsgid {

// The bytes from argv[0] to the end of the last string of argv, then of envp,
// that follow each other without a gap (the kernel lays them out so).
struct TitleArea {
  char* start = nullptr;
  size_t size = 0;  // including the final NUL
};
TitleArea title_area(int argc, char** argv, char** envp);

// Writes title at area.start followed by a NUL, and fills the rest of the area
// with spaces: the kernel shows the argv area only up to the first NUL when the
// area's last byte is not a NUL (a rewritten title), so cmdline reads exactly
// "title\0". Errors: "set_proctitle: title of N bytes does not fit in M bytes"
// (the title is written cut to M bytes). An area of fewer than 2 bytes is left
// alone.
Status write_title(TitleArea area, std::string_view title);

// Remembers argv's area and copies environ to the heap (getenv and setenv keep
// working). argv == nullptr: main()'s argv, captured when the program started.
// Only the first call does anything; later calls keep the first area.
void proctitle_init(int argc, char** argv);

// Sets the command line to exactly `title` (argv[1..] then read as empty strings)
// and PR_SET_NAME to the first 15 bytes of `comm`, or of `title` when comm is
// empty. Without proctitle_init() only the short name changes.
// Errors: those of write_title(), "prctl(PR_SET_NAME): <errno>".
Status set_proctitle(std::string_view title, std::string_view comm = {});

}  // namespace wsgid
