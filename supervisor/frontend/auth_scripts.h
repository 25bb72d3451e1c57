// AuthScripts: mod_wsgi's Python authentication and access providers
// (WSGIAuthUserScript's check_password(), WSGIAuthGroupScript's
// groups_for_user(), WSGIAccessScript's allow_access()) run in the front end's
// embedded Python, where mod_wsgi runs them: in the Apache child, never in a
// daemon process group (docs/decisions.md 11 and 26).
//
// It implements access_check.h's ScriptRunner on top of the worker's
// Interpreters, which EmbeddedPython::start_python() has started (the same
// interpreters embedded-mode applications run in: application-group= names one,
// "" or %{GLOBAL} the main one; %{SERVER} and %{HOST} expand to the request's
// SERVER_NAME, with ":PORT" unless the port is 80 or 443, as mod_wsgi's
// wsgi_server_group() does). Each call takes the GIL in that interpreter for its
// duration, on whichever thread calls it: the AccessJob's libuv pool thread,
// never the loop thread. The Python half (auth_scripts.py, embedded at build
// time) loads the script as mod_wsgi does, reloads it when its modification time
// changes (with `reloading` on, WSGIScriptReloading), checks the answer and logs
// every failure with the traceback, tagged with the request id. The environ is
// the request's (worker/wsgi_environ.h build_environ() of the REQUEST_HEAD
// pairs), without HTTP_AUTHORIZATION, with mod_wsgi.process_group "",
// mod_wsgi.application_group and wsgi.errors writing to the error log.
//
// Thread-safe; lives for the process's life (Python is never unloaded), so a
// job may hold a plain pointer to it.
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "model/config.h"
#include "model/embedded.h"
#include "supervisor/frontend/access_check.h"

namespace wsgid::frontend {

using model::config_has_auth_scripts;  // model/embedded.h

// The application group a script runs in for a request whose SERVER_NAME and
// SERVER_PORT are given: mod_wsgi's wsgi_server_group().
std::string auth_script_group(const model::AuthScript& script, std::string_view server_name,
                              std::string_view server_port);

class AuthScripts final : public ScriptRunner {
 public:
  // WSGIScriptReloading: whether a changed script is loaded again.
  void set_reloading(bool on) { reloading_.store(on); }

  ScriptVote allow_access(const ScriptCall& call, std::string_view host) override;
  authn::Outcome check_password(const ScriptCall& call, std::string_view user,
                                std::string_view password, std::string* renamed) override;
  Result<std::vector<std::string>> groups_for_user(const ScriptCall& call,
                                                   std::string_view user) override;

 private:
  struct Answer {
    std::string status;                // "true", "false", "none", "user", "groups", "error"
    std::string user;                  // "user"
    std::vector<std::string> groups;   // "groups"
  };
  // Runs auth_scripts.py's call(kind, ...) with the extra string arguments.
  Answer call(const char* kind, const ScriptCall& c, const std::vector<std::string_view>& args);

  std::atomic<bool> reloading_{true};
};

}  // namespace wsgid::frontend
