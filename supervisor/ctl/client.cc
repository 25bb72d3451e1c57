// wsgictl's control-socket client; see client.h.
#include "supervisor/ctl/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/core.h>

#include "supervisor/config/parser.h"
#include "model/paths.h"

namespace wsgid::ctl {

namespace {

Result<std::string> socket_of_file(const std::string& file, const Options& o) {
  if (access(file.c_str(), R_OK) != 0)
    return Status::error(fmt::format("cannot read {}: {}", file, std::strerror(errno)));
  config::ParseOptions po;
  po.syntax.defines = o.defines;
  po.check_files = false;
  config::ParseResult r = config::parse_config_file(file, po);
  if (r.config.file.empty()) r.config.file = file;
  return socket_from_config(r.config, model::default_runtime_dir());
}

}  // namespace

std::string socket_from_config(const model::Config& c, const std::string& runtime_dir) {
  return model::control_socket_path(c, runtime_dir);
}

Result<std::string> control_socket_path(const Options& o, const char* env_socket,
                                        const std::string& default_config) {
  if (!o.socket.empty()) return o.socket;
  if (!o.config.empty()) return socket_of_file(o.config, o);
  if (env_socket && *env_socket) return std::string(env_socket);
  if (access(default_config.c_str(), F_OK) == 0) return socket_of_file(default_config, o);
  return model::default_runtime_dir() + "/control.sock";
}

ControlClient::~ControlClient() {
  if (fd_ >= 0) close(fd_);
}

Status ControlClient::connect(const std::string& path, int* exit_code) {
  path_ = path;
  *exit_code = kExitUnreachable;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Status::error(fmt::format("cannot reach wsgid at {}: the path is longer than {} bytes",
                                     path, sizeof addr.sun_path - 1));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Status::sys("socket", "AF_UNIX");
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    *exit_code = kExitOk;
    return Status::ok();
  }
  int err = errno;
  close(fd_);
  fd_ = -1;
  if (err == EACCES || err == EPERM) {
    *exit_code = kExitFailed;
    struct stat st;
    std::string who = "the user wsgid runs as";
    if (stat(path.c_str(), &st) == 0)
      who = fmt::format("uid {}, the socket's owner,", static_cast<unsigned>(st.st_uid));
    return Status::error(fmt::format(
        "permission denied: cannot connect to {}: connect: {} (only root and {} may control "
        "this wsgid)",
        path, std::strerror(err), who));
  }
  return Status::error(fmt::format("cannot reach wsgid at {}: connect: {} (is wsgid running?)",
                                   path, std::strerror(err)));
}

Status ControlClient::send(const nlohmann::json& request) {
  std::string data = request.dump() + "\n";
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::sys("send", path_);
    }
    off += static_cast<size_t>(n);
  }
  return Status::ok();
}

ControlClient::Read ControlClient::read_line(std::string* line, int timeout_ms,
                                             const sigset_t* interrupt_mask, std::string* error) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  for (;;) {
    size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      *line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return Read::kLine;
    }
    pollfd p{fd_, POLLIN, 0};
    int rc;
    if (timeout_ms < 0) {
      rc = interrupt_mask ? ppoll(&p, 1, nullptr, interrupt_mask) : poll(&p, 1, -1);
    } else {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return Read::kTimeout;
      timespec ts{static_cast<time_t>(left.count() / 1000),
                  static_cast<long>((left.count() % 1000) * 1000000)};
      rc = interrupt_mask ? ppoll(&p, 1, &ts, interrupt_mask)
                          : poll(&p, 1, static_cast<int>(left.count()));
    }
    if (rc < 0) {
      if (errno == EINTR) {
        if (interrupt_mask) return Read::kInterrupted;
        continue;
      }
      *error = Status::sys("poll", path_).message();
      return Read::kError;
    }
    if (rc == 0) continue;  // the deadline check above ends it
    char tmp[65536];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) {
        if (buf_.empty()) return Read::kEof;
      }
      *error = Status::sys("recv", path_).message();
      return Read::kError;
    }
    if (n == 0) {
      if (buf_.empty()) return Read::kEof;
      *line = std::move(buf_);  // a last line without its newline
      buf_.clear();
      return Read::kLine;
    }
    buf_.append(tmp, static_cast<size_t>(n));
  }
}

}  // namespace wsgid::ctl
