// wsgictl's side of the control socket: finding it, connecting, one request
// line out, reply lines in (supervisor/master/CONTROL.md).
//
// control_socket_path() decides which socket to use (-s, -f CONFIG, the
// environment, the default config, the master's default path). ControlClient
// owns one connection (one request: the master closes after its reply, except
// for `tail -f`). Blocking I/O with poll() timeouts on wsgictl's main thread;
// read_line() can also wait with SIGINT unblocked (ppoll) so that Ctrl-C ends a
// `tail -f` cleanly.
#pragma once

#include <signal.h>

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "model/config.h"
#include "supervisor/ctl/ctl.h"

namespace wsgid::ctl {

// The socket a config names: model::control_socket_path(), the rule the master
// uses (WSGIControlSocket relative to ServerRoot, else RUNTIME_DIR/control.sock).
std::string socket_from_config(const model::Config& config, const std::string& runtime_dir);

// Which socket to use: -s; else -f CONFIG's; else $WSGICTL_SOCKET (env_socket,
// may be null); else that of /etc/wsgid/wsgid.conf when default_config exists;
// else RUNTIME_DIR/control.sock. Reading a config fails when it cannot be read
// ("cannot read CONFIG: REASON"); its syntax errors do not matter here.
Result<std::string> control_socket_path(const Options& options, const char* env_socket,
                                        const std::string& default_config = kDefaultConfig);

class ControlClient {
 public:
  ControlClient() = default;
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // Connects. On failure: *exit_code is kExitUnreachable (no socket, refused, ...)
  // or kExitFailed (permission denied), and the Status is the sentence to print:
  //   "cannot reach wsgid at PATH: connect: No such file or directory (is wsgid running?)"
  //   "permission denied: cannot connect to PATH: connect: Permission denied (only
  //    root and uid N, the socket's owner, may control this wsgid)"
  Status connect(const std::string& path, int* exit_code);
  // Writes the request and its newline.
  Status send(const nlohmann::json& request);

  enum class Read { kLine, kEof, kTimeout, kInterrupted, kError };
  // The next line (without '\n') into *line. timeout_ms < 0: no limit.
  // interrupt_mask non-null: wait with that signal mask (ppoll); a signal caught
  // meanwhile gives kInterrupted. kError sets *error.
  Read read_line(std::string* line, int timeout_ms, const sigset_t* interrupt_mask,
                 std::string* error);

  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
  std::string buf_;
};

}  // namespace wsgid::ctl
