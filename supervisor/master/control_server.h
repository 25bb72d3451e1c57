// ControlServer: the master's end of WSGIControlSocket (wsgictl's channel).
//
// A UNIX stream socket (default RUNTIME_DIR/control.sock), mode 0600. Every
// connection's peer credentials (SO_PEERCRED) are checked: only root and the
// master's own uid may talk; anyone else gets one error reply ("code":
// "permission") and is disconnected. The protocol is newline-delimited JSON,
// specified in supervisor/master/CONTROL.md: the client writes one request line,
// the master answers with one reply line and closes, except `tail` with
// "follow": true, which streams {"line": ...} objects until the client closes.
//
// parse_control_request() validates a request (pure, tested); the daemon's
// handler executes it and answers through a Responder, possibly later (status
// waits briefly for the workers' kState answers). Loop thread only. The server
// owns the listening handle and its connections; close() ends them all.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace wsgid::master {

struct ControlRequest {
  std::string command;             // status, start, stop, restart, reload, check, reopen,
                                   // pid, signal, tail, shutdown, version, help
  std::vector<std::string> args;   // group names ("all"), or SIG then groups for signal
  bool now = false;                // restart/stop/shutdown --now
  bool follow = false;             // tail -f
  int lines = 100;                 // tail: how many lines back
};

// The known commands, in help order.
const std::vector<std::string>& control_commands();

// Validates one request line. Errors (exact texts, tested):
//   "request is not valid JSON"                  (no detail: parser positions vary)
//   "request must be a JSON object"
//   "'command' is missing"
//   "'command' must be a string"
//   "unknown command 'X'"                        + " (did you mean 'Y'?)" when near
//   "'args' must be an array of strings"
//   "'now' must be a boolean"   (same for "follow")
//   "'lines' must be an integer from 0 to 100000"
//   "signal needs a signal name and at least one group"
//   "tail takes one group name or 'master'"
Result<ControlRequest> parse_control_request(std::string_view line);

// {"ok": false, "error": message, "code": code}. Codes: "usage" (bad request),
// "no-such-group", "failed", "permission", "not-running".
nlohmann::json control_error(std::string_view code, std::string_view message);

class ControlConnection;

// Answers one request. send() writes one JSON line; finish() writes one and closes.
class Responder {
 public:
  explicit Responder(std::shared_ptr<ControlConnection> c) : conn_(std::move(c)) {}
  void send(const nlohmann::json& j);
  void finish(const nlohmann::json& j);
  // The client went away (or finish() was called).
  bool closed() const;
  // Called once when the connection closes (tail -f subscribers unregister).
  void on_close(std::function<void()> fn);

 private:
  std::shared_ptr<ControlConnection> conn_;
};

class ControlServer {
 public:
  using Handler = std::function<void(const ControlRequest&, std::shared_ptr<Responder>)>;
  ~ControlServer();
  // Binds path (a stale socket is replaced; a live one is an error), mode 0600.
  Status start(uv_loop_t* loop, const std::string& path, Handler handler);
  // Closes the listener and every connection and unlinks the path.
  void close();
  const std::string& path() const { return path_; }

 private:
  static void on_connection(uv_stream_t* server, int status);
  uv_loop_t* loop_ = nullptr;
  uv_pipe_t* listener_ = nullptr;
  std::string path_;
  Handler handler_;
  std::vector<std::weak_ptr<ControlConnection>> conns_;
};

}  // namespace wsgid::master
