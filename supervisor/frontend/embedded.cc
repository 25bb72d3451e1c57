#include "supervisor/frontend/embedded.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "model/resolve.h"
#include "worker/interpreters.h"
#include "worker/request_loop.h"
#include "worker/settings.h"
#include "worker/worker_state.h"

namespace wsgid::frontend {

bool config_has_embedded(const model::Config& config) {
  if (config.restrict_embedded) return false;
  model::Resolver resolver(config);
  auto embedded_in = [&](const model::VirtualHost& owner, int index) {
    for (const model::Mount& m : owner.mounts) {
      std::vector<int> hosts;
      hosts.push_back(index);
      if (index < 0)
        for (size_t i = 0; i < config.vhosts.size(); ++i) hosts.push_back(static_cast<int>(i));
      for (int h : hosts) {
        std::vector<std::string> urls;
        urls.push_back(m.is_match ? std::string() : m.url);
        auto add_locs = [&](const model::VirtualHost& vh) {
          if (m.is_match) return;
          for (const model::Block& b : vh.locations)
            if (!b.is_regex && b.settings.process_group &&
                (model::alias_match_length(m.url, b.path) > 0 || model::location_matches(b.path, m.url)))
              urls.push_back(b.path);
        };
        add_locs(config.server);
        if (h >= 0) add_locs(config.vhosts[static_cast<size_t>(h)]);
        for (const std::string& u : urls)
          if (!resolver.resolve(h, m, u, m.script).process_group) return true;
      }
    }
    return false;
  };
  if (embedded_in(config.server, -1)) return true;
  for (size_t i = 0; i < config.vhosts.size(); ++i)
    if (embedded_in(config.vhosts[i], static_cast<int>(i))) return true;
  return handler_may_run_embedded(config);
}

bool handler_may_run_embedded(const model::Config& config) {
  if (config.restrict_embedded) return false;
  auto names_group = [](const model::ScopeSettings& s) {
    return s.process_group && !s.process_group->empty() && *s.process_group != "%{GLOBAL}";
  };
  auto is_handler = [](const model::ScopeSettings& s) {
    return (s.handlers.set_handler && *s.handlers.set_handler == "wsgi-script") ||
           !s.handlers.wsgi_extensions.empty();
  };
  auto host = [&](const model::VirtualHost& vh, bool outer_group) {
    bool group = outer_group || names_group(vh.settings);
    if (is_handler(vh.settings) && !group) return true;
    for (const auto* list : {&vh.locations, &vh.directories})
      for (const model::Block& b : *list)
        if (is_handler(b.settings) && !group && !names_group(b.settings)) return true;
    return false;
  };
  bool server_group = names_group(config.server.settings);
  if (host(config.server, false)) return true;
  for (const model::VirtualHost& vh : config.vhosts)
    if (host(vh, server_group)) return true;
  return false;
}

namespace {

// The worker's settings for a group named "": lives as long as the threads.
worker::WorkerSettings& embedded_settings() {
  static worker::WorkerSettings settings;
  return settings;
}

}  // namespace

Status EmbeddedPython::start_python(const model::Config& config) {
  if (python_attempted_) return python_status_;
  python_attempted_ = true;
  worker::WorkerSettings& settings = embedded_settings();
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
  Status s = worker::Interpreters::start(settings);
  if (!s) {
    python_status_ = Status::error("embedded Python: " + s.message());
    return python_status_;
  }
  python_started_ = true;
  return python_status_;
}

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

  int threads = config.threads_per_child > 0 ? config.threads_per_child : 25;
  log::notice("frontend: starting embedded Python: {} threads on {}", threads, path);
  Status s = start_python(config);
  if (!s) {
    ::close(fd);
    return fail(s);
  }
  worker::WorkerSettings& settings = embedded_settings();
  threads_ = settings.threads;
  static worker::WorkerState state(settings.threads);
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
