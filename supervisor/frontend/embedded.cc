#include "supervisor/frontend/embedded.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "worker/interpreters.h"
#include "worker/request_loop.h"
#include "worker/settings.h"
#include "worker/worker_state.h"

namespace wsgid::frontend {

Status EmbeddedPython::start(const model::Config& config) {
  if (attempted_) return status_;
  attempted_ = true;
  auto fail = [this](Status s) {
    status_ = s;
    cleanup();
    return s;
  };

  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/wsgid-embedded.XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) return fail(Status::sys("mkdtemp", templ));
  dir_ = buf.data();
  std::string path = dir_ + "/embedded.sock";
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return fail(Status::error("embedded socket path too long: " + path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(Status::sys("socket", "embedded socket"));
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    Status s = Status::sys("bind", path);
    ::close(fd);
    return fail(s);
  }
  socket_path_ = path;
  if (::listen(fd, 1024) != 0) {
    Status s = Status::sys("listen", path);
    ::close(fd);
    return fail(s);
  }

  // The worker's settings for a group named "": lives as long as the threads.
  static worker::WorkerSettings settings;
  settings.name = "";
  settings.threads = config.threads_per_child > 0 ? config.threads_per_child : 25;
  settings.processes = 1;
  settings.multithread = settings.threads != 1;
  settings.multiprocess = false;  // processes= not given: one front-end process
  settings.run_once = false;
  settings.python_home = config.python_home;
  settings.python_path = config.python_path;
  settings.socket_timeout = config.timeout;
  settings.log_level = config.log_level;
  threads_ = settings.threads;

  static worker::WorkerState state(settings.threads);
  log::notice("frontend: starting embedded Python: {} threads on {}", settings.threads, path);
  Status s = worker::Interpreters::start(settings);
  if (!s) {
    ::close(fd);
    return fail(Status::error("embedded Python: " + s.message()));
  }
  s = worker::start_request_threads(settings, &state, fd);
  if (!s) {
    ::close(fd);
    return fail(Status::error("embedded Python: " + s.message()));
  }
  started_ = true;
  return status_;
}

void EmbeddedPython::cleanup() {
  if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
  socket_path_.clear();
  dir_.clear();
}

}  // namespace wsgid::frontend
