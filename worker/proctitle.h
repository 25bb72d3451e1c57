// Process title: rewrites the worker's own command line (/proc/PID/cmdline, what
// ps and pkill -f see) and its kernel short name (/proc/PID/comm).
//
// As nginx and PostgreSQL do, proctitle_init() moves the environment strings to
// the heap so that the whole contiguous argv+environ area can hold the title;
// set_proctitle() then writes the title there, never truncated unless it is
// longer than that area (then it is cut to fit and the call says so). Called from
// main() only, before any other thread exists; argv must be main()'s own.
#pragma once

#include <string_view>

#include "common/status.h"

namespace wsgid::worker {

// Remembers argv's area and copies environ to the heap (setenv keeps working).
void proctitle_init(int argc, char** argv);

// Sets the command line to exactly `title` and PR_SET_NAME to its first 15 bytes.
// Errors: "set_proctitle: title of N bytes does not fit in M bytes" (title cut),
// "prctl(PR_SET_NAME): <errno>".
Status set_proctitle(std::string_view title);

}  // namespace wsgid::worker
