// LogLine: one access-log line from a compiled format (log_format.h) and the
// facts of one finished request.
//
// render() appends the line (without its newline) to *out. What each directive
// logs, as Apache 2.4 does (mod_log_config, mod_logio), and where wsgid differs:
//   %a %h              the client's address (no HostnameLookups): after
//                      mod_remoteip's RemoteIPHeader or PROXY protocol, the client
//   %{c}a %{c}h        the peer's (the proxy's under mod_remoteip), as Apache logs
//                      the connection's address
//   %A %p %{local}p %{remote}p  local address, local port, client port; %p and
//                      %{canonical}p log the local port too (wsgid keeps no port
//                      from ServerName)
//   %b %B              response body bytes: "-" or "0" when none was sent
//   %I %O %S           bytes received (request line, headers and body), bytes sent
//                      (status line, headers and body), their sum (mod_logio)
//   %D %T %{UNIT}T     the request's duration: microseconds; seconds, ms or us
//   %t %{FORMAT}t      the start ([10/Oct/2000:13:55:36 -0700]), or with begin:/end:
//                      the start or the end, as strftime(FORMAT) in local time, or
//                      sec, msec, usec since the epoch, msec_frac, usec_frac
//   %f %R              the file served (script or static file) and the handler
//                      ("wsgi-script"); "-" when none
//   %k                 how many requests this connection served before this one
//   %l                 "-" (no identd)
//   %L                 the request id (the one wsgid's error-log lines carry)
//   %m %H %q %r %U     method, protocol, "?query" or "", the request line, the
//                      decoded URL path
//   %s %>s %<s         the status (original and final are one in wsgid)
//   %u                 the authenticated user; "-" when none, "\"\"" when empty
//   %v %V              the vhost's ServerName; the Host header's name
//                      (UseCanonicalName Off), else the ServerName
//   %P %{tid}P %{hextid}P  the front end's pid, its loop thread's id
//   %X                 X: aborted before the response completed; +: kept alive; -: closed
//   %{NAME}i %{NAME}o %{NAME}C %{VAR}e %{NAME}n  request header, response header
//                      (Content-Type without parameters, Set-Cookie values joined),
//                      a request cookie, an environment variable, a note; "-" when
//                      absent (values from Sources)
// A value wsgid does not have logs "-", as Apache logs a NULL. Strings are escaped
// as Apache's ap_escape_logitem does: '"' and '\' with a backslash; \b \n \r \t \v;
// other control bytes and bytes over 0x7e as \xhh. A status condition that does
// not hold logs "-".
//
// Pure: any thread; the views in LogRecord must stay valid for the call.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "supervisor/logformat/log_format.h"

namespace wsgid::logformat {

// The request's named values; each returns nullopt when absent (logs "-"), and a
// view valid until the next call.
class Sources {
 public:
  virtual ~Sources() = default;
  virtual std::optional<std::string_view> header_in(std::string_view name) const = 0;
  virtual std::optional<std::string_view> header_out(std::string_view name) const = 0;
  virtual std::optional<std::string_view> env(std::string_view name) const = 0;
  virtual std::optional<std::string_view> note(std::string_view name) const = 0;
};

struct LogRecord {
  std::string_view remote_ip, local_ip;
  std::string_view peer_ip;  // %{c}a: the TCP peer; "" = remote_ip
  int remote_port = 0, local_port = 0;
  std::string_view method, target, protocol;  // target: the URL as received
  std::string_view path;         // %U: decoded path ("" = the target's path)
  std::string_view server_name, host;
  int status = 0;
  uint64_t body_bytes = 0, bytes_in = 0, bytes_out = 0;
  int64_t start_us = 0, end_us = 0;  // microseconds since the epoch
  int keepalives = 0;
  char conn_status = '-';        // 'X', '+' or '-'
  std::string_view filename, handler, log_id;
  std::optional<std::string_view> user;
  pid_t pid = 0;                 // 0: getpid()
  const Sources* sources = nullptr;
};

void render(const Format& format, const LogRecord& r, std::string* out);

// Apache's ap_escape_logitem, appended to *out.
void append_escaped(std::string* out, std::string_view v);

}  // namespace wsgid::logformat
