#include "supervisor/master/control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "common/log.h"
#include "supervisor/config/diagnostics.h"
#include "supervisor/master/control_commands.h"
#include "supervisor/master/sockets.h"

namespace wsgid::master {

constexpr size_t kMaxRequest = 64 * 1024;

const std::vector<std::string>& control_commands() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> v;
    for (const ControlCommand& c : control_command_table()) v.emplace_back(c.name);
    return v;
  }();
  return kNames;
}

nlohmann::json control_error(std::string_view code, std::string_view message) {
  return {{"ok", false}, {"error", std::string(message)}, {"code", std::string(code)}};
}

Result<ControlRequest> parse_control_request(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) return Status::error("request is not valid JSON");
  if (!j.is_object()) return Status::error("request must be a JSON object");
  ControlRequest r;
  if (!j.contains("command")) return Status::error("'command' is missing");
  if (!j["command"].is_string()) return Status::error("'command' must be a string");
  r.command = j["command"].get<std::string>();
  const ControlCommand* command = find_control_command(r.command);
  if (!command) {
    const auto& known = control_commands();
    std::vector<std::string_view> cands(known.begin(), known.end());
    std::string_view near = config::closest(r.command, cands);
    if (!near.empty())
      return Status::error(fmt::format("unknown command '{}' (did you mean '{}'?)", r.command, near));
    return Status::error(fmt::format("unknown command '{}'", r.command));
  }
  if (j.contains("args")) {
    const auto& a = j["args"];
    if (!a.is_array()) return Status::error("'args' must be an array of strings");
    for (const auto& x : a) {
      if (!x.is_string()) return Status::error("'args' must be an array of strings");
      r.args.push_back(x.get<std::string>());
    }
  }
  for (const char* key : {"now", "follow"}) {
    if (!j.contains(key)) continue;
    if (!j[key].is_boolean()) return Status::error(fmt::format("'{}' must be a boolean", key));
    (std::string_view(key) == "now" ? r.now : r.follow) = j[key].get<bool>();
  }
  if (j.contains("lines")) {
    const auto& l = j["lines"];
    if (!l.is_number_integer() || l.get<int64_t>() < 0 || l.get<int64_t>() > 100000)
      return Status::error("'lines' must be an integer from 0 to 100000");
    r.lines = static_cast<int>(l.get<int64_t>());
  }
  switch (command->args) {
    case CommandArgs::kNone:
    case CommandArgs::kOptionalGroups:
    case CommandArgs::kGroups:  // checked against the groups when it runs
      break;
    case CommandArgs::kSignalAndGroups:
      if (r.args.size() < 2)
        return Status::error(fmt::format("{} needs a signal name and at least one group", r.command));
      break;
    case CommandArgs::kOneName:
      if (r.args.size() != 1)
        return Status::error(fmt::format("{} takes one group name or 'master'", r.command));
      break;
  }
  return r;
}

// One accepted client. Kept alive by self_ while its handle is open and by
// Responders while the daemon may still answer.
class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
 public:
  ControlConnection(ControlServer::Handler* handler) : handler_(handler) {}
  uv_pipe_t pipe{};
  std::shared_ptr<ControlConnection> self_;
  ControlServer::Handler* handler_;
  std::string in_;
  bool got_request_ = false;
  bool closing_ = false;
  std::string refusal_;  // non-empty: answer this to the first request, whatever it is
  std::vector<std::function<void()>> on_close_;

  void write_line(const nlohmann::json& j) {
    if (closing_) return;
    struct Req {
      uv_write_t w;
      std::string data;
      std::shared_ptr<ControlConnection> keep;
    };
    auto* r = new Req();
    r->data = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    r->keep = shared_from_this();
    r->w.data = r;
    uv_buf_t b = uv_buf_init(r->data.data(), static_cast<unsigned>(r->data.size()));
    if (uv_write(&r->w, reinterpret_cast<uv_stream_t*>(&pipe), &b, 1,
                 [](uv_write_t* w, int) { delete static_cast<Req*>(w->data); }) != 0) {
      delete r;
    }
  }

  void close() {
    if (closing_) return;
    closing_ = true;
    auto callbacks = std::move(on_close_);
    on_close_.clear();
    for (auto& f : callbacks) f();
    // uv_close runs after pending writes were flushed or cancelled.
    uv_close(reinterpret_cast<uv_handle_t*>(&pipe), [](uv_handle_t* h) {
      auto* c = static_cast<ControlConnection*>(h->data);
      c->self_.reset();  // may delete c
    });
  }

  void finish_after_write(const nlohmann::json& j) {
    write_line(j);
    // Shut down the write side after the queued writes, then close.
    auto* req = new uv_shutdown_t;
    req->data = this;
    if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&pipe), [](uv_shutdown_t* r, int) {
          auto* c = static_cast<ControlConnection*>(r->data);
          delete r;
          c->close();
        }) != 0) {
      delete req;
      close();
    }
  }

  static void on_alloc(uv_handle_t*, size_t suggested, uv_buf_t* buf) {
    buf->base = new char[suggested];
    buf->len = suggested;
  }

  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* c = static_cast<ControlConnection*>(s->data);
    std::unique_ptr<char[]> owned(buf->base);
    if (n < 0) {
      c->close();
      return;
    }
    if (n == 0 || c->got_request_) return;  // after the request, input is ignored
    c->in_.append(buf->base, static_cast<size_t>(n));
    size_t nl = c->in_.find('\n');
    if (nl == std::string::npos) {
      if (c->in_.size() > kMaxRequest) {
        c->got_request_ = true;
        c->finish_after_write(control_error("usage", "request longer than 65536 bytes"));
      }
      return;
    }
    c->got_request_ = true;
    if (!c->refusal_.empty()) {
      c->finish_after_write(control_error("permission", c->refusal_));
      return;
    }
    std::string line = c->in_.substr(0, nl);
    auto req = parse_control_request(line);
    if (!req.is_ok()) {
      c->finish_after_write(control_error("usage", req.status().message()));
      return;
    }
    auto resp = std::make_shared<Responder>(c->shared_from_this());
    (*c->handler_)(req.value(), resp);
  }
};

void Responder::send(const nlohmann::json& j) { conn_->write_line(j); }
void Responder::finish(const nlohmann::json& j) {
  if (conn_->closing_) return;
  conn_->finish_after_write(j);
}
bool Responder::closed() const { return conn_->closing_; }
void Responder::on_close(std::function<void()> fn) {
  if (conn_->closing_) {
    fn();
    return;
  }
  conn_->on_close_.push_back(std::move(fn));
}

ControlServer::~ControlServer() { close(); }

Status ControlServer::start(uv_loop_t* loop, const std::string& path, Handler handler) {
  loop_ = loop;
  path_ = path;
  handler_ = std::move(handler);
  UnixSocketOptions o;
  o.backlog = 64;
  o.mode = 0600;
  auto fd = open_unix_listener(path, o);
  if (!fd.is_ok()) return fd.status();
  listener_ = new uv_pipe_t;
  uv_pipe_init(loop, listener_, 0);
  listener_->data = this;
  int e = uv_pipe_open(listener_, fd.value());
  if (e == 0) e = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 64, on_connection);
  if (e != 0) {
    close();
    return Status::error(fmt::format("listen({}): {}", path, uv_strerror(e)));
  }
  return Status::ok();
}

void ControlServer::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<ControlServer*>(server->data);
  if (status < 0) return;
  auto c = std::make_shared<ControlConnection>(&self->handler_);
  uv_pipe_init(self->loop_, &c->pipe, 0);
  c->pipe.data = c.get();
  c->self_ = c;
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->pipe)) != 0) {
    c->close();
    return;
  }
  // Clean the list of finished connections now and then.
  std::erase_if(self->conns_, [](const std::weak_ptr<ControlConnection>& w) { return w.expired(); });
  self->conns_.push_back(c);
  uv_os_fd_t fd;
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c->pipe), &fd) != 0 ||
      getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    c->finish_after_write(control_error("permission", "cannot read the peer's credentials"));
    return;
  }
  if (cred.uid != 0 && cred.uid != geteuid()) {
    log::warn("control: refused a client with uid {} (pid {})", static_cast<unsigned>(cred.uid),
              static_cast<long>(cred.pid));
    // Read the request first (closing with unread data would reset the
    // connection before the client reads the answer).
    c->refusal_ = fmt::format("permission denied: uid {} may not control this wsgid (only root "
                              "and uid {})",
                              static_cast<unsigned>(cred.uid), static_cast<unsigned>(geteuid()));
  }
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->pipe), ControlConnection::on_alloc,
                ControlConnection::on_read);
}

void ControlServer::close() {
  if (listener_) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_pipe_t*>(h); });
    listener_ = nullptr;
    if (!path_.empty()) unlink(path_.c_str());
  }
  for (auto& w : conns_) {
    if (auto c = w.lock()) c->close();
  }
  conns_.clear();
}

}  // namespace wsgid::master
