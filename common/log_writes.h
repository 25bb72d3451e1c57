// Log writes that fail: a log file on a full disk (ENOSPC), over quota
// (EDQUOT), or failing (EIO). The line is dropped (a log never blocks or stops
// the process), the loss is counted, and it is said: at once and then at most
// once a minute (common/failure_report.h) on another descriptor (the main log
// for a vhost's ErrorLog, stderr for the main log: the journal under systemd,
// when that is where stderr goes), and in the file itself as its first line
// once it can be written again ("N lines lost ..."; in the main log for an
// access log), after a newline that ends any line cut short by the failure.
//
// Part of the log module (common/log.h): write_line() and the master's copy of
// its children's output go through write_text(). Safe from any thread; a
// mutex guards the failure state, taken only while some file is failing.
#pragma once

#include <string>
#include <string_view>

namespace wsgid::log {

// Names fd in the reports ("ErrorLog /var/log/wsgid/error.log"); without a
// name a descriptor is "log fd N". A new name forgets the old file's failures.
// own_format: the file's lines are not log lines (an access log): the note of
// what was lost goes to the main log, not into the file.
void name_fd(int fd, std::string name, bool own_format = false);

// Writes text (whole lines, each ending in '\n') to fd with one write(2) when
// it can. False when some of it was lost (counted and reported as above).
bool write_text(int fd, std::string_view text);

}  // namespace wsgid::log
