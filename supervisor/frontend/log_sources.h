// RequestLogSources: the named values of one finished request that an access-log
// line may ask for (logformat::Sources): request headers (%{NAME}i, %{NAME}C),
// response headers (%{NAME}o), environment variables (%{VAR}e) and notes
// (%{NAME}n), for HttpConn::log_request().
//
//   %{NAME}i  the first field called NAME (any case), as the client sent it
//             (Apache's apr_table_get; RequestHeader edits are not seen)
//   %{NAME}o  from the response head as sent: the first field, Content-Type
//             without its parameters, every Set-Cookie joined with ", "
//             (mod_log_config's log_header_out)
//   %{VAR}e   mod_wsgi.process_group, mod_wsgi.application_group,
//             mod_wsgi.request_id, wsgid.worker_pid (the worker that served
//             the request), wsgid.error (why the front end failed it); every
//             other name is unset ("-"): wsgid sets no variable of SetEnv or
//             SetEnvIf
//   %{NAME}n  "error-notes": why the front end failed the request (Apache's
//             note of that name), else unset
//
// Holds views: everything it is built from must outlive it. Loop thread only
// (a scratch string backs joined values).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocol/messages.h"
#include "supervisor/frontend/request_headers.h"
#include "supervisor/logformat/log_line.h"

namespace wsgid::frontend {

class RequestLogSources : public logformat::Sources {
 public:
  RequestLogSources(RequestHeaders request, std::string_view response_head)
      : request_(request), response_head_(response_head) {}

  std::string_view group, application_group, request_id, error;
  int worker_pid = 0;
  // The environ a WSGI request was given (CGI variables, HTTP_*, mod_wsgi.*), as
  // mod_wsgi leaves them in Apache's subprocess_env for %{VAR}e; null for a
  // request that reached no script (static files, refusals: Apache has none of
  // them there either) or when no format reads one.
  const proto::KeyValues* environ = nullptr;

  // wsgid's own %{VAR}e names, answered without the environ: mod_wsgi.process_group,
  // mod_wsgi.application_group, mod_wsgi.request_id, wsgid.worker_pid, wsgid.error.
  static bool own_variable(std::string_view name);

  std::optional<std::string_view> header_in(std::string_view name) const override;
  std::optional<std::string_view> header_out(std::string_view name) const override;
  std::optional<std::string_view> env(std::string_view name) const override;
  std::optional<std::string_view> note(std::string_view name) const override;

 private:
  RequestHeaders request_;
  std::string_view response_head_;  // status line, fields, CRLF CRLF
  mutable std::string scratch_;
};

}  // namespace wsgid::frontend
