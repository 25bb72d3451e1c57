// wsgid-frontend: the HTTP front end process (docs/architecture.md, "Processes and who owns what").
//
// Normally exec'd by the master: fd 3 is the control channel (protocol/PROTOCOL.md
// 7.1), fds 4.. are the Listen sockets in the order of the settings' "listen"
// array. The front end sends kHello, waits for kSettings (model/frontend_settings.h
// decodes it), adopts the listeners, drops to User/Group when it runs as root, and sends
// kReady; then it serves until kDrain (finish in-flight requests, kExiting
// "drained", exit 0; its "delay", WSGIDrainDelay, first keeps serving that long
// while reporting not-ready: Server::stop), TERM/INT (the same without the
// delay, with the settings' Timeout as the limit, kExiting "shutdown"), or EOF on fd 3 (exit at once: the master is gone).
// A drain that closes listeners nobody else keeps first sends kListenersClosing
// and waits for kListenersClosed: the master has closed its copies then
// (common/listener_close.h).
// With --log-fd=N, fd N is the descriptor channel (protocol/PROTOCOL.md 7.6): the
// master opens the CustomLog files and sends their descriptors there before
// each full kSettings and each {"reopen_logs": true}; the front end takes the
// newest set before it applies the frame and never opens a CustomLog path
// itself. USR1 reopens the access logs, as does every kSettings. Embedded Python
// (embedded.h) starts after the privilege drop, only when an alias runs embedded.
//
// Standalone (tests, benchmarks): `wsgid-frontend --settings-file=FILE` reads the
// settings from FILE, binds every "listen" address itself and prints
// "listening PORT" per listener on stdout.
//
//   usage: wsgid-frontend [--control-fd=3] [--log-fd=N] [--settings-file=FILE] [--log-level=LEVEL]
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/fd_passing.h"
#include "common/log.h"
#include "common/module_file.h"
#include "common/proctitle.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "supervisor/frontend/io_buffer.h"
#include "supervisor/frontend/descriptor_watch.h"
#include "supervisor/frontend/server.h"
#include "supervisor/frontend/settings.h"
#include "supervisor/frontend/signals.h"
#include "supervisor/frontend/python_part.h"
#include "supervisor/tls/tls_part.h"

namespace wsgid::frontend {
namespace {

// The log level, here and in the Python module once loaded (python_part.h).
void set_log_level(log::Level lv) {
  log::set_level(lv);
  if (PythonPart* python = loaded_python_part()) python->set_log_level(lv);
}

// Command line "wsgid: frontend", short name "wsgid: fronten" (15 bytes).
void set_title() {
  if (Status s = set_proctitle("wsgid: frontend"); !s) log::warn("frontend: {}", s.message());
}

Status drop_privileges(const Settings& s) {
  if (geteuid() != 0 || !s.user) return Status::ok();
  uid_t uid;
  gid_t gid;
  std::string user = *s.user;
  if (!user.empty() && user[0] == '#') {
    uid = static_cast<uid_t>(std::stoul(user.substr(1)));
    gid = static_cast<gid_t>(uid);
  } else {
    struct passwd* pw = getpwnam(user.c_str());
    if (!pw) return Status::error("getpwnam(" + user + "): no such user");
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  if (s.group) {
    if (!s.group->empty() && (*s.group)[0] == '#') {
      gid = static_cast<gid_t>(std::stoul(s.group->substr(1)));
    } else {
      struct group* gr = getgrnam(s.group->c_str());
      if (!gr) return Status::error("getgrnam(" + *s.group + "): no such group");
      gid = gr->gr_gid;
    }
  }
  if (setgroups(1, &gid) != 0) return Status::sys("setgroups", user);
  if (setgid(gid) != 0) return Status::sys("setgid", std::to_string(gid));
  if (setuid(uid) != 0) return Status::sys("setuid", user);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // cleared by setuid
  return Status::ok();
}

// The modules a later reload may load once this process runs as its final
// user, opened now (common/module_file.h): a module it cannot reach by path
// then still loads, as at start.
void hold_modules() {
  if (!loaded_python_part()) hold_module_file(python_module_path());
  if (!tls::loaded_tls_part()) hold_module_file(tls::module_path());
}

class Control {
 public:
  Control(uv_loop_t* loop, Server* server, int fd, int log_fd)
      : loop_(loop), server_(server), fd_(fd), log_fd_(log_fd) {
    uv_pipe_init(loop_, &pipe_, 0);
    pipe_.data = this;
  }

  Status start() {
    int r = uv_pipe_open(&pipe_, fd_);
    if (r != 0) return Status::error(std::string("uv_pipe_open(control fd 3): ") + uv_strerror(r));
    std::string hello;
    proto::append_hello(&hello);
    write(hello);
    // A drain asks the master to close its copies of the listeners first
    // (common/listener_close.h); its LISTENERS_CLOSED answers.
    server_->set_master_closer([this](std::function<void(bool)> answer) {
      listeners_closed_ = std::move(answer);
      std::string f;
      proto::append_frame(&f, proto::FrameType::kListenersClosing, 0, "");
      write(f);
    });
    uv_read_start(reinterpret_cast<uv_stream_t*>(&pipe_), io_alloc_cb,
                  [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
                    static_cast<Control*>(s->data)->on_read(n, b);
                  });
    return Status::ok();
  }

  void send_json(proto::FrameType type, const nlohmann::json& j) {
    std::string f;
    proto::append_frame(&f, type, 0, j.dump());
    write(f);
  }

  // Synchronous last words before exit().
  void exiting(const std::string& reason, const std::string& detail) {
    std::string f;
    proto::append_frame(&f, proto::FrameType::kExiting, 0,
                        nlohmann::json{{"reason", reason}, {"detail", detail}}.dump());
    int flags = fcntl(fd_, F_GETFL);
    fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
    size_t off = 0;
    while (off < f.size()) {
      ssize_t n = ::write(fd_, f.data() + off, f.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
  }

  // delay: WSGIDrainDelay's leaving stage first (Server::stop); a later call
  // with delay 0 ends that stage at once.
  void stop_gracefully(double timeout, const std::string& reason, bool handover = false,
                       double delay = 0) {
    if (stopping_) {
      if (delay <= 0) server_->stop(0, timeout, nullptr);
      return;
    }
    stopping_ = true;
    server_->stop(delay, timeout, [this, reason] {
      // Embedded mode's mod_wsgi.subscribe_shutdown callbacks: every request is done.
      if (PythonPart* python = loaded_python_part()) python->publish_process_stopping(reason);
      server_->cleanup_embedded();
      exiting(reason, "");
      server_->flush_logs();
      std::_Exit(0);
    }, handover);
  }

 private:
  void write(const std::string& bytes) {
    auto* req = new uv_write_t;
    auto* copy = new std::string(bytes);
    req->data = copy;
    uv_buf_t b = uv_buf_init(copy->data(), static_cast<unsigned>(copy->size()));
    uv_write(req, reinterpret_cast<uv_stream_t*>(&pipe_), &b, 1, [](uv_write_t* r, int) {
      delete static_cast<std::string*>(r->data);
      delete r;
    });
  }

  void on_read(ssize_t n, const uv_buf_t* buf) {
    if (n < 0) {
      log::notice("frontend: control channel closed: exiting");
      server_->cleanup_embedded();
      server_->flush_logs();
      std::_Exit(0);
    }
    reader_.feed(buf->base, static_cast<size_t>(n));
    proto::Frame f;
    for (;;) {
      auto r = reader_.next(&f);
      if (r == proto::FrameReader::Result::kNeedMore) return;
      if (r == proto::FrameReader::Result::kError) {
        log::error("frontend: control channel: {}", reader_.error());
        std::_Exit(1);
      }
      handle(f);
    }
  }

  void handle(const proto::Frame& f) {
    switch (f.type) {
      case proto::FrameType::kHello: {
        auto v = proto::decode_hello(f.payload);
        if (!v) {
          log::error("frontend: control channel: {}", v.status().message());
          std::_Exit(1);
        }
        return;
      }
      case proto::FrameType::kSettings: {
        nlohmann::json j = nlohmann::json::parse(f.payload, nullptr, false);
        if (j.is_object() && j.size() == 1 && j.contains("status")) {
          // The master's status report (model/status_report.h): no descriptors
          // come with it.
          auto r = model::status_report_from_json(j["status"]);
          if (!r) log::warn("frontend: {}", r.status().message());
          else server_->take_status(std::move(r).value());
          return;
        }
        take_log_fds();
        if (j.is_object() && j.size() == 1 && j.value("reopen_logs", false)) {
          server_->reopen_logs();
          return;
        }
        auto s = frontend_settings_from_json(j);
        if (!s) {
          log::error("frontend: {}", s.status().message());
          if (!ready_) {
            exiting("startup-failure", s.status().message());
            std::_Exit(1);
          }
          return;
        }
        log::Level lv;
        if (log::parse_level(s->log_level, &lv)) set_log_level(lv);
        server_->apply(*s);
        if (!ready_) {
          std::vector<int> fds;
          for (size_t i = 0; i < s->config.listen.size(); ++i) fds.push_back(4 + static_cast<int>(i));
          Status st = server_->adopt_listeners(fds);
          if (st) server_->preload_python();
          if (st) hold_modules();
          if (st) st = drop_privileges(*s);
          if (!st) {
            log::error("frontend: {}", st.message());
            exiting("startup-failure", st.message());
            std::_Exit(1);
          }
          // Python (embedded mode) starts only now, as the final user; so do
          // the other event loops.
          server_->enable_embedded();
          if (st = server_->start_loops(s->loops); !st) {
            log::error("frontend: {}", st.message());
            exiting("startup-failure", st.message());
            std::_Exit(1);
          }
          ready_ = true;
          send_json(proto::FrameType::kReady, nlohmann::json::object());
        }
        return;
      }
      case proto::FrameType::kStateQuery:
        send_json(proto::FrameType::kState, server_->state_json());
        return;
      case proto::FrameType::kListenersClosed: {
        nlohmann::json j = nlohmann::json::parse(f.payload, nullptr, false);
        bool refusing = j.is_object() && j.contains("refusing") && j["refusing"].is_boolean() &&
                        j["refusing"].get<bool>();
        auto answer = std::move(listeners_closed_);
        listeners_closed_ = nullptr;
        if (answer) answer(refusing);
        return;
      }
      case proto::FrameType::kDrain: {
        nlohmann::json j = nlohmann::json::parse(f.payload, nullptr, false);
        double timeout = j.is_object() && j.contains("timeout") && j["timeout"].is_number()
                             ? j["timeout"].get<double>() : 15.0;
        // "handover": a successor front end serves the listeners now; idle
        // keep-alive clients keep their connection for one more request.
        bool handover = j.is_object() && j.contains("handover") && j["handover"].is_boolean() &&
                        j["handover"].get<bool>();
        // "delay": WSGIDrainDelay, for the daemon's graceful stop (never a handover).
        double delay = j.is_object() && j.contains("delay") && j["delay"].is_number()
                           ? j["delay"].get<double>() : 0.0;
        stop_gracefully(timeout, "drained", handover, handover ? 0.0 : delay);
        return;
      }
      default:
        log::warn("frontend: control channel: ignoring {} frame", proto::type_name(f.type));
        return;
    }
  }

  // The newest descriptor message waiting on the channel goes to the access log
  // (older ones are closed: each message holds every file).
  void take_log_fds() {
    if (log_fd_ < 0) return;
    FdMessage newest;
    bool have = false;
    for (;;) {
      FdMessage m;
      bool got = false;
      if (Status st = receive_fds(log_fd_, "log fd channel", &m, &got); !st) {
        log::error("frontend: {}", st.message());
        break;
      }
      if (!got) break;
      close_fds(&newest);
      newest = std::move(m);
      have = true;
    }
    if (!have) return;
    if (Status st = server_->take_log_fds(newest.text, std::move(newest.fds)); !st)
      log::error("frontend: log fd channel: {}", st.message());
  }

  uv_loop_t* loop_;
  Server* server_;
  int fd_;
  int log_fd_;
  uv_pipe_t pipe_;
  std::function<void(bool)> listeners_closed_;  // the drain's wait for LISTENERS_CLOSED
  proto::FrameReader reader_;
  bool ready_ = false;
  bool stopping_ = false;
};

Control* g_control = nullptr;

int run(int argc, char** argv) {
  // A request body of up to 64 KiB is kept whole for a resend (reqbuf_) and
  // freed after it: with glibc's 128 KiB trim threshold the heap's top went
  // back to the kernel and came back as fresh zeroed pages on the next
  // request, 3.5 page faults per 64 KiB POST (docs/decisions.md 59). Up to
  // 1 MiB of free top stays and buffers up to 1 MiB come from the heap; the
  // front end's RSS stays bounded (tests/bench prints it after every test).
  // MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES in the environment still win.
  if (!std::getenv("MALLOC_TRIM_THRESHOLD_") && !std::getenv("MALLOC_MMAP_THRESHOLD_") &&
      !std::getenv("GLIBC_TUNABLES")) {
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
  }
  int control_fd = 3, log_fd = -1;
  std::string settings_file, level;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--control-fd=", 0) == 0) control_fd = std::atoi(a.c_str() + 13);
    else if (a.rfind("--log-fd=", 0) == 0) log_fd = std::atoi(a.c_str() + 9);
    else if (a.rfind("--settings-file=", 0) == 0) settings_file = a.substr(16);
    else if (a.rfind("--log-level=", 0) == 0) level = a.substr(12);
    else if (a == "--help" || a == "-h") {
      std::printf("usage: wsgid-frontend [--control-fd=3] [--log-fd=N] [--settings-file=FILE] [--log-level=LEVEL]\n");
      return 0;
    } else {
      std::fprintf(stderr, "wsgid-frontend: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  proctitle_init(argc, argv);  // before any thread (libuv's pool) reads environ
  log::init("frontend");
  if (!level.empty()) {
    log::Level lv;
    if (log::parse_level(level, &lv)) set_log_level(lv);
  }
  raise_descriptor_limit();
  uv_loop_t* loop = uv_default_loop();
  Server server(loop);

  static FrontendSignals signals;
  signals.start(loop, [&server](const FrontendSignal& sig) {
    switch (sig.action) {
      case FrontendSignalAction::kGracefulStop: {
        double timeout = server.settings().config.timeout;
        if (g_control) {
          // Under the master, TERM is its stop-now (its graceful stop sends
          // kDrain): no WSGIDrainDelay, and it cuts one short.
          g_control->stop_gracefully(timeout, "shutdown");
        } else {
          Server* srv = &server;
          srv->stop(server.settings().config.drain_delay, timeout, [srv] {
            srv->cleanup_embedded();
            srv->flush_logs();
            std::_Exit(0);
          });
        }
        break;
      }
      case FrontendSignalAction::kReopenLogs:
        server.reopen_logs();
        break;
      case FrontendSignalAction::kIgnore:
        break;
    }
  });

  if (!settings_file.empty()) {
    std::ifstream in(settings_file);
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
    auto s = frontend_settings_from_json(j);
    if (!s) {
      std::fprintf(stderr, "wsgid-frontend: %s: %s\n", settings_file.c_str(), s.status().message().c_str());
      return 1;
    }
    log::Level lv;
    if (level.empty() && log::parse_level(s->log_level, &lv)) set_log_level(lv);
    server.apply(*s);
    std::vector<int> ports;
    Status st = server.bind_listeners(&ports);
    if (!st) {
      std::fprintf(stderr, "wsgid-frontend: %s\n", st.message().c_str());
      return 1;
    }
    server.enable_embedded();
    st = server.start_loops(s->loops);
    if (!st) {
      std::fprintf(stderr, "wsgid-frontend: %s\n", st.message().c_str());
      return 1;
    }
    for (int p : ports) std::printf("listening %d\n", p);
    std::fflush(stdout);
    set_title();
  } else {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() == 1) return 0;  // the master died before we got here
    set_title();
    static Control control(loop, &server, control_fd, log_fd);
    g_control = &control;
    Status st = control.start();
    if (!st) {
      log::error("frontend: {}", st.message());
      return 1;
    }
  }
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}

}  // namespace
}  // namespace wsgid::frontend

int main(int argc, char** argv) { return wsgid::frontend::run(argc, argv); }
