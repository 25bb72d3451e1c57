// The master's process title, "wsgid: master -f CONFIG" (what ps and pkill -f
// see), written over the argv area the kernel reports as /proc/PID/cmdline, after
// moving the environment strings that follow it to the heap (nginx's
// ngx_setproctitle technique). Call once, early, on the main thread, before
// anything keeps pointers into argv or environ.
#pragma once

#include <string>

namespace wsgid::master {

// argv == nullptr: use the argv glibc passed to main (captured at start).
void set_process_title(int argc, char** argv, const std::string& title);

}  // namespace wsgid::master
