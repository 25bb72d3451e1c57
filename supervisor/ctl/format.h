// How wsgictl shows the daemon's replies (supervisor/master/CONTROL.md): the
// `status` table, uptimes, sizes, and the words and exit status of every
// command's reply.
//
// Pure functions of the reply JSON, called on wsgictl's main thread after each
// request (wsgictl_main.cc, shell.cc); tested in tests/unit/ctl/. Nothing here
// does I/O: render_reply() returns what to print on stdout and stderr.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "supervisor/ctl/ctl.h"

namespace wsgid::ctl {

// Seconds as H:MM:SS (hours unbounded: 27:03:04); "-" for negative/NaN.
std::string format_uptime(double seconds);
// Bytes as 512B, 1.5K, 31.2M, 2.0G (1024-based, one decimal from K on).
std::string format_size(int64_t bytes);
// A request age in seconds: "0.4s", "12.0s", "2:03:04" from an hour on.
std::string format_age(double seconds);

// Columns separated by two spaces, each as wide as its widest cell; the last
// column is not padded (no trailing blanks).
std::string align_columns(const std::vector<std::vector<std::string>>& rows);

// The `status` table for a status reply: a header, then the front end (when the
// daemon has one and no GROUP was named) and one line per process:
//   NAME  STATE  PID  UPTIME  REQS  CURRENT  RSS  LAST EXIT
// A process of a STOPPED group that is not alive shows as STOPPED. *all_running
// is set to whether every line shown is RUNNING.
std::string format_status(const nlohmann::json& reply, bool with_frontend, bool* all_running);

// What to print for a command's reply, and the exit status.
struct Rendered {
  std::string out;  // stdout
  std::string err;  // stderr (each line prefixed "wsgictl: ")
  int code = kExitOk;
};
// json_mode: out is the reply itself (indented JSON; one line for tail -f, whose
// following objects are one a line too), err is empty, the code is
// the same as without it.
Rendered render_reply(const Command& c, const nlohmann::json& reply, bool json_mode);

}  // namespace wsgid::ctl
