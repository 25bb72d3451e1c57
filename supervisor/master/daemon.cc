// The master's life (daemon_impl.h): start (config, ErrorLog, -d, sockets
// first, the control socket, the children), signals, graceful and immediate
// stop, the progress checks after every child change, the sockets it owns, the
// log files it writes, and the front end's spawn and settings.
#include "supervisor/master/daemon_impl.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/core.h>

#include "common/listener_close.h"
#include "common/log.h"
#include "common/log_writes.h"
#include "common/proctitle.h"
#include "model/embedded.h"
#include "model/frontend_settings.h"
#include "supervisor/master/sockets.h"

namespace wsgid::master {

namespace {

Daemon* g_daemon = nullptr;  // the running daemon, for the log line hook

}  // namespace

// --- start and stop ---

int Daemon::fail_start(const std::string& message) {
  log::error("{}", message);
  report_ready_to_parent(message);
  return 1;
}

Status Daemon::open_log() {
  const auto& el = config_.server.error_log;
  std::string path;
  if (el && !el->path.empty() && el->path[0] != '|') {
    path = model::from_server_root(config_, el->path);
  } else if (opts_.daemonize) {
    path = geteuid() == 0 ? "/var/log/wsgid/error.log" : runtime_dir_ + "/error.log";
    if (geteuid() == 0) mkdir("/var/log/wsgid", 0755);
  }
  if (path.empty()) return Status::ok();
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Status::sys("open", path);
  if (log_fd_ >= 0) {
    dup2(fd, log_fd_);
    fcntl(log_fd_, F_SETFD, FD_CLOEXEC);
    close(fd);
  } else {
    log_fd_ = fd;
  }
  log_path_ = path;
  log::set_fd(log_fd_);
  log::name_fd(log_fd_, "ErrorLog " + path);
  return Status::ok();
}

int Daemon::output_fd(const ProcessGroup& g) {
  // mod_wsgi: a daemon process group declared inside a <VirtualHost> with its
  // own ErrorLog writes its output (stderr) there.
  int v = g.spec().vhost;
  if (v < 0 || static_cast<size_t>(v) >= config_.vhosts.size()) return -1;
  const auto& el = config_.vhosts[static_cast<size_t>(v)].error_log;
  if (!el || el->path.empty() || el->path[0] == '|') return -1;
  std::string path = model::from_server_root(config_, el->path);
  auto it = vhost_logs_.find(path);
  if (it != vhost_logs_.end()) return it->second;
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    log::error("group {}: ErrorLog {}: {}; its output goes to the main log", g.name(), path,
               std::strerror(errno));
    return -1;
  }
  log::info("group {}: worker output goes to {}", g.name(), path);
  log::name_fd(fd, "ErrorLog " + path);
  vhost_logs_[path] = fd;
  return fd;
}

void Daemon::reopen_logs() {
  if (Status s = access_logs_.reopen(); !s) log::error("reopen: CustomLog: {}", s.message());
  if (frontend_ && frontend_->state() == ChildState::kRunning) {
    send_access_logs();
    frontend_->send_to_current(proto::FrameType::kSettings, R"({"reopen_logs": true})");
  }
  for (auto& [path, fd] : vhost_logs_) {
    int nfd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (nfd < 0) {
      log::error("reopen: {}", Status::sys("open", path).message());
      continue;
    }
    dup2(nfd, fd);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    close(nfd);
  }
  if (log_path_.empty()) {
    log::notice("reopen: logging to stderr, nothing to reopen");
    return;
  }
  Status s = open_log();
  if (!s) {
    log::error("reopen: {}", s.message());
  } else {
    log::notice("reopened {}", log_path_);
  }
}

Status Daemon::daemonize() {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return Status::sys("pipe2", "daemonize");
  pid_t pid = fork();
  if (pid < 0) return Status::sys("fork", "daemonize");
  if (pid > 0) {
    // The parent: wait for "ok" or an error text, then exit.
    close(p[1]);
    std::string msg;
    char buf[512];
    for (;;) {
      // A group that neither reaches READY nor fails must not hang the init
      // script: after two minutes the parent returns anyway.
      struct pollfd pfd = {p[0], POLLIN, 0};
      int pr = poll(&pfd, 1, 120 * 1000);
      if (pr < 0 && errno == EINTR) continue;
      if (pr == 0) {
        std::fprintf(stderr, "wsgid: pid %ld is still starting after 120 s; see its log\n",
                     static_cast<long>(pid));
        _exit(0);
      }
      ssize_t n = read(p[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      msg.append(buf, static_cast<size_t>(n));
    }
    if (msg == "ok") _exit(0);
    if (msg.empty()) msg = "wsgid: the daemon exited during start";
    std::fprintf(stderr, "%s\n", msg.c_str());
    _exit(1);
  }
  close(p[0]);
  ready_fd_ = p[1];
  setsid();
  if (chdir("/") < 0) {
  }
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, 0);
    dup2(devnull, 1);
    if (!log_path_.empty() || log_fd_ >= 0) dup2(devnull, 2);
    if (devnull > 2) close(devnull);
  }
  return Status::ok();
}

void Daemon::report_ready_to_parent(const std::string& error) {
  if (ready_fd_ < 0) return;
  std::string msg = error.empty() ? "ok" : "wsgid: " + error;
  (void)!write(ready_fd_, msg.data(), msg.size());
  close(ready_fd_);
  ready_fd_ = -1;
}

int Daemon::run() {
  // Before anything opens a descriptor or forks (-d): LISTEN_PID names this process.
  auto inherited = take_listen_fds();
  if (!inherited.is_ok()) {
    std::fprintf(stderr, "wsgid: socket activation: %s\n", inherited.status().message().c_str());
    return 1;
  }
  inherited_ = std::move(inherited.value());
  auto pr = parse();
  if (!pr.ok()) {
    std::fputs(pr.diags.render_all().c_str(), stderr);
    std::fprintf(stderr, "wsgid: %s: configuration has errors; not starting\n",
                 opts_.config_path.c_str());
    return 1;
  }
  if (pr.config.listen.empty()) {
    // Apache's refusal, in its words (server/mpm/event/event.c, server/main.c).
    std::fputs(pr.diags.render_all().c_str(), stderr);
    std::fprintf(stderr,
                 "no listening sockets available, shutting down\n"
                 "AH00015: Unable to open logs\n"
                 "wsgid: %s: no Listen directive; add one, such as 'Listen 80' (Debian's Apache "
                 "keeps it in ports.conf) or 'Listen 127.0.0.1:8080'\n",
                 opts_.config_path.c_str());
    return 1;
  }
  config_ = std::move(pr.config);
  if (config_.file.empty()) config_.file = opts_.config_path;
  // The TLS servers' certificates and keys, read now as root (tls_material.h).
  if (std::vector<std::string> errs = tls_.load(config_); !errs.empty()) {
    for (const auto& e : errs) std::fprintf(stderr, "wsgid: %s\n", e.c_str());
    std::fprintf(stderr, "wsgid: %s: TLS certificates could not be loaded; not starting\n",
                 opts_.config_path.c_str());
    return 1;
  }
  embedded_.configure(config_);
  runtime_dir_ = opts_.runtime_dir.empty() ? model::default_runtime_dir() : opts_.runtime_dir;
  if (Status s = ensure_runtime_dir(runtime_dir_); !s) {
    std::fprintf(stderr, "wsgid: %s\n", s.message().c_str());
    return 1;
  }
  auto id = frontend_identity(config_);
  if (!id.is_ok()) {
    std::fprintf(stderr, "wsgid: User/Group: %s\n", id.status().message().c_str());
    return 1;
  }
  fe_id_ = id.value();
  log::Level lv;
  if (log::parse_level(config_.log_level, &lv)) log::set_level(lv);
  if (Status s = open_log(); !s) {
    std::fprintf(stderr, "wsgid: ErrorLog: %s\n", s.message().c_str());
    return 1;
  }
  if (opts_.daemonize) {
    if (Status s = daemonize(); !s) {
      std::fprintf(stderr, "wsgid: %s\n", s.message().c_str());
      return 1;
    }
  }
  log::init("master");
  // The master's own lines go to a ring too, for `wsgictl tail [-f] master`.
  g_daemon = this;
  log::set_line_hook([](std::string_view line) {
    if (g_daemon) g_daemon->tap_line("master", std::string(line));
  });
  for (const auto& d : pr.diags.all()) {
    if (d.severity == config::Severity::kWarning)
      log::warn("{}:{}:{}: {}", d.loc.file, d.loc.line, d.loc.col, d.message);
  }
  proctitle_init(opts_.argc, opts_.argv);
  // The short name stays "wsgid" (pgrep -x wsgid); the command line names the config.
  if (Status s = set_proctitle("wsgid: master -f " + opts_.config_path, "wsgid"); !s)
    log::warn("{}", s.message());

  uv_loop_init(&loop_);
  loop_open_ = true;
  started_at_ = static_cast<double>(uv_now(&loop_)) / 1000.0;
  {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unix_at_loop_zero_ = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9 - started_at_;
  }
  notify_.init();
  start_watchdog();
  int code = 0;
  do {
    if (Status s = Reaper::install(&loop_); !s) {
      code = fail_start(s.message());
      break;
    }
    if (int e = signals_.start(&loop_, [this](const SignalEntry& e) { on_signal(e); }); e != 0) {
      code = fail_start(fmt::format("uv_signal_start: {}", uv_strerror(e)));
      break;
    }
    set_output_tap([this](const std::string& role, const std::string& line) { tap_line(role, line); });
    // Sockets first: every listener and group socket before any child.
    if (Status s = open_listeners(config_, &listeners_, {}); !s) {
      code = fail_start(s.message());
      break;
    }
    if (std::string e = unmatched_inherited_error(); !e.empty()) {
      code = fail_start(e);
      break;
    }
    bool sockets_ok = true;
    for (const auto& g : config_.groups) {
      auto gs = open_group_socket(config_, g);
      if (!gs.is_ok()) {
        code = fail_start(gs.status().message());
        sockets_ok = false;
        break;
      }
      sockets_[g.name] = gs.value();
    }
    if (!sockets_ok) break;
    // The access logs too, as root, before any child (Apache exits when one of
    // its log files cannot be opened).
    if (Status s = access_logs_.open(config_); !s) {
      code = fail_start(s.message());
      break;
    }
    std::string control_path = model::control_socket_path(config_, runtime_dir_);
    if (Status s = control_.start(&loop_, control_path,
                                  [this](const ControlRequest& r, std::shared_ptr<Responder> p) {
                                    on_control(r, std::move(p));
                                  });
        !s) {
      code = fail_start(s.message());
      break;
    }
    if (config_.pid_file || opts_.daemonize) {
      pid_file_ = model::pid_file_path(config_, runtime_dir_);
      std::string text = fmt::format("{}\n", static_cast<long>(getpid()));
      int fd = open(pid_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        Status s = Status::sys("open", pid_file_);
        if (fd >= 0) close(fd);
        pid_file_.clear();
        code = fail_start(s.message());
        break;
      }
      close(fd);
    }
    // Installed: sbin/wsgid, libexec/wsgid-worker, libexec/wsgid/wsgid-frontend
    // (relative to wsgid, then the configured libexecdir, WSGID_LIBEXECDIR);
    // build tree: supervisor/wsgid, worker/wsgid-worker, supervisor/frontend/...
    worker_path_ = find_program("WSGID_WORKER", {"wsgid-worker", "../worker/wsgid-worker",
                                                 "../libexec/wsgid-worker",
                                                 "../libexec/wsgid/wsgid-worker",
                                                 WSGID_LIBEXECDIR "/wsgid-worker"});
    if (worker_path_.empty() && !config_.groups.empty()) {
      code = fail_start("wsgid-worker not found next to wsgid (or set WSGID_WORKER)");
      break;
    }
    frontend_path_ = find_program("WSGID_FRONTEND", {"wsgid-frontend", "frontend/wsgid-frontend",
                                                     "../libexec/wsgid/wsgid-frontend",
                                                     "../libexec/wsgid-frontend",
                                                     WSGID_LIBEXECDIR "/wsgid/wsgid-frontend"});
    if (Status s = watch_.start(&loop_, [this](const std::set<std::string>& groups,
                                               const std::string& file) {
          for (const auto& name : groups) {
            auto it = groups_.find(name);
            if (it == groups_.end() || phase_ != Phase::kRunning) continue;
            it->second->restart(false, "script changed: " + file);
          }
        });
        !s) {
      log::warn("script reloading disabled: {}", s.message());
    }
    update_watch();
    log::notice("wsgid {} starting: config {}, runtime dir {}, control socket {}", kVersion,
                opts_.config_path, runtime_dir_, control_path);
    for (const auto& l : listeners_) {
      if (l.inherited)
        log::notice("listening on {} (from systemd: {})", l.bound, describe(*l.inherited));
      else
        log::notice("listening on {}", l.bound);
    }
    for (const auto& g : config_.groups) {
      const GroupSocket& gs = sockets_[g.name];
      auto pg = std::make_unique<ProcessGroup>(this, g, worker_settings(config_, g), gs.fd, gs.path);
      ProcessGroup* raw = pg.get();
      groups_[g.name] = std::move(pg);
      raw->start();
    }
    start_frontend();
    notify_.send(fmt::format("MAINPID={}\nSTATUS=starting {} groups", getpid(), groups_.size()));
    check_settled();
    uv_run(&loop_, UV_RUN_DEFAULT);
  } while (false);

  // Teardown (also after a failed start).
  if (phase_ != Phase::kDone) finish();
  uv_run(&loop_, UV_RUN_DEFAULT);
  set_output_tap(nullptr);
  log::set_line_hook(nullptr);
  g_daemon = nullptr;
  if (uv_loop_close(&loop_) != 0) log::debug("uv_loop_close: handles left open");
  if (code == 0) log::notice("wsgid stopped");
  return code;
}

void Daemon::finish() {
  phase_ = Phase::kDone;
  notify_.send("STOPPING=1");
  signals_.close();
  followers_.clear();
  control_.close();
  watch_.close();
  for (auto& l : listeners_) close(l.fd);
  listeners_.clear();
  for (auto& s : inherited_) close(s.fd);
  inherited_.clear();
  if (watchdog_open_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_), nullptr);
    watchdog_open_ = false;
  }
  frontend_.reset();
  groups_.clear();
  for (auto& r : removed_) {
    if (!r.socket_taken) close_group_socket(r.socket);
  }
  removed_.clear();
  close_retired_sockets(true);
  for (auto& [name, s] : sockets_) close_group_socket(s);
  sockets_.clear();
  for (auto& [path, fd] : vhost_logs_) close(fd);
  vhost_logs_.clear();
  access_logs_ = AccessLogFiles();
  Reaper::uninstall();
  if (!pid_file_.empty()) unlink(pid_file_.c_str());
  report_ready_to_parent("stopped during start");
}

void Daemon::on_signal(const SignalEntry& e) {
  log::notice("signal {} received: {}", e.name, e.meaning);
  switch (e.action) {
    case SignalAction::kGracefulStop:
      request_stop(StopRequest::kGraceful);
      break;
    case SignalAction::kInterrupt:
      // The first INT stops gracefully; an INT during a stop hurries it.
      request_stop(++interrupts_ == 1 && phase_ == Phase::kRunning ? StopRequest::kGraceful
                                                                  : StopRequest::kEscalate);
      break;
    case SignalAction::kImmediateStop:
      request_stop(StopRequest::kEscalate);
      break;
    case SignalAction::kReload: {
      json errors;
      reload("SIGHUP", &errors);
      break;
    }
    case SignalAction::kReopenLogs:
      reopen_logs();
      break;
    case SignalAction::kRollingRestart:
      if (phase_ != Phase::kRunning) break;
      for (auto& [name, g] : groups_) g->restart(false, "SIGUSR2");
      if (frontend_ && embedded_.present()) frontend_->replace("SIGUSR2: embedded pool");
      break;
  }
}

void Daemon::request_stop(StopRequest r) {
  switch (stop_step(phase_, r)) {
    case StopStep::kNone:
      break;
    case StopStep::kGraceful:
      enter_phase(Phase::kFrontendDrain);
      break;
    case StopStep::kNow:
      enter_phase(Phase::kStopNow);
      break;
    case StopStep::kKill:
      kill_everything();
      break;
  }
}

void Daemon::enter_phase(StopPhase p) {
  phase_ = p;
  entering_phase_ = true;  // the children's changes below must not move the phase yet
  switch (stop_phase(p).entry) {
    case StopEntry::kNone:
    case StopEntry::kFinish:
      break;
    case StopEntry::kStopFrontend:
      notify_.send("STOPPING=1\nSTATUS=stopping gracefully");
      log::notice("graceful stop");
      // The front end first: it stops accepting and finishes its requests while
      // the workers still serve them. The master's copies of the TCP listeners
      // close when the front end's drain asks (listeners_closing()), so that
      // the front end holds the last one: when it closes it (after accepting
      // what is queued), new connects are refused at once instead of waiting
      // in a queue nobody accepts from, to be reset later.
      if (frontend_) frontend_->handle(ChildEvent::kStop);
      break;
    case StopEntry::kStopGroups:
      // Nothing reaches the TCP listeners any more: close them so clients get a
      // refusal, not a hang. (A socket systemd passed stays open in systemd: its
      // connections wait in the backlog for the next start.)
      for (auto& l : listeners_) close(l.fd);
      listeners_.clear();
      for (auto& [name, g] : groups_) g->stop(false);
      for (auto& r : removed_) r.group->stop(false);
      break;
    case StopEntry::kStopEverything:
      notify_.send("STOPPING=1\nSTATUS=stopping now");
      log::notice("immediate stop");
      if (frontend_) frontend_->handle(ChildEvent::kStopNow);
      for (auto& [name, g] : groups_) g->stop(true);
      for (auto& r : removed_) r.group->stop(true);
      break;
    case StopEntry::kScheduleFinish:
      defer(&loop_, [this] { finish(); });
      break;
  }
  entering_phase_ = false;
  advance_stop();
}

bool Daemon::stop_wait_over(StopWait w) {
  bool fe_done = !frontend_ || (frontend_->idle() && frontend_->state() != ChildState::kStopping &&
                                frontend_->state() != ChildState::kRunning &&
                                frontend_->state() != ChildState::kStarting);
  switch (w) {
    case StopWait::kStopRequest:
    case StopWait::kFinish:
    case StopWait::kNothing:
      return false;
    case StopWait::kFrontendGone:
      return fe_done;
    case StopWait::kAllIdle: {
      bool all_idle = fe_done && removed_.empty();
      for (auto& [name, g] : groups_) all_idle = all_idle && g->idle();
      return all_idle;
    }
  }
  return false;
}

void Daemon::advance_stop() {
  if (entering_phase_) return;
  const StopPhaseRow& row = stop_phase(phase_);
  if (stop_wait_over(row.waits_for)) enter_phase(row.next);
}

void Daemon::kill_everything() {
  log::notice("killing every child now");
  if (frontend_) frontend_->kill_all();
  for (auto& [name, g] : groups_) g->kill_all();
  for (auto& r : removed_) r.group->kill_all();
}

// Stop progress, group removal, availability: runs after any child changed.
void Daemon::check_progress() {
  for (auto& r : removed_) {
    if (r.group && r.group->idle()) {
      log::notice("group {} removed", r.group->name());
      if (!r.socket_taken) close_group_socket(r.socket);
      ProcessGroup* raw = r.group.release();
      defer(&loop_, [raw] { delete raw; });
    }
  }
  std::erase_if(removed_, [](const RemovedGroup& r) { return !r.group; });
  close_retired_sockets(false);
  if (phase_ != Phase::kRunning) {
    advance_stop();
    return;
  }
  push_frontend_settings(false);
  push_frontend_status();
  check_settled();
}

void Daemon::check_settled() {
  if (phase_ != Phase::kRunning || ready_sent_) return;
  for (auto& [name, g] : groups_) {
    if (!g->settled()) return;
  }
  if (frontend_ && frontend_->want_up() && frontend_->state() != ChildState::kRunning &&
      frontend_->state() != ChildState::kFatal && !frontend_->retrying())
    return;
  ready_sent_ = true;
  int running = 0, fatal = 0;
  for (auto& [name, g] : groups_) (g->down() ? fatal : running)++;
  std::string status = fmt::format("{} groups up{}", running,
                                   fatal ? fmt::format(", {} failed", fatal) : std::string());
  notify_.send("READY=1\nSTATUS=" + status);
  log::notice("ready: {}", status);
  report_ready_to_parent("");
}

void Daemon::group_changed(ProcessGroup&) { check_progress(); }
void Daemon::child_changed(Child&) { check_progress(); }
void Daemon::group_restart(ProcessGroup& g, std::string_view cause) {
  ++restarts_[g.name()][std::string(cause)];
}

double Daemon::graceful_timeout() {
  double t = 5;
  for (const auto& g : config_.groups) t = std::max(t, g.graceful_timeout);
  return t;
}

// --- sockets ---

Status Daemon::open_listeners(const model::Config& c, std::vector<Listener>* out,
                              const std::vector<Listener>& reuse) {
  std::vector<Listener> opened;
  for (const auto& addr : c.listen) {
    std::string text = addr.text();
    auto it = std::find_if(reuse.begin(), reuse.end(), [&](const Listener& l) { return l.text == text; });
    if (it != reuse.end()) {
      out->push_back(*it);
      continue;
    }
    if (auto inherited = take_matching(addr, &inherited_)) {
      Listener l{text, inherited->bound, inherited->fd, inherited};
      opened.push_back(l);
      out->push_back(l);
      continue;
    }
    auto fd = open_tcp_listener(addr, 511);
    if (!fd.is_ok()) {
      for (auto& l : opened) release_listener(l);
      // Roll back what was pushed from this call.
      out->clear();
      return fd.status();
    }
    Listener l{text, bound_address(fd.value()), fd.value(), std::nullopt};
    opened.push_back(l);
    out->push_back(l);
  }
  return Status::ok();
}

bool Daemon::listeners_closing() {
  if (phase_ == Phase::kRunning) return false;
  bool refusing = true;
  for (const Listener& l : listeners_) {
    if (!l.inherited) {
      if (Status st = refuse_new_handshakes(l.fd); !st) {
        log::info("frontend drain: {} on {}", st.message(), l.bound);
        refusing = false;
      }
    }
    close(l.fd);
  }
  listeners_.clear();
  return refusing;
}

void Daemon::release_listener(const Listener& l) {
  if (l.inherited) {
    log::notice("{} goes back to the sockets systemd passed: systemd still holds it, and a "
                "connection to it waits until a Listen takes it again", l.bound);
    inherited_.push_back(*l.inherited);
  } else {
    close(l.fd);
  }
}

std::string Daemon::unmatched_inherited_error() const {
  if (inherited_.empty()) return "";
  return unmatched_message(inherited_.front(), opts_.config_path);
}

void Daemon::start_watchdog() {
  uint64_t usec = notify_.watchdog_usec();
  if (usec == 0) return;
  uv_timer_init(&loop_, &watchdog_);
  watchdog_.data = this;
  watchdog_open_ = true;
  // sd_watchdog_enabled(3): ping at half the interval. The timer does not keep
  // the loop alive; finish() closes it.
  uint64_t ms = std::max<uint64_t>(1, usec / 2000);
  uv_timer_start(&watchdog_, [](uv_timer_t* t) {
    static_cast<Daemon*>(t->data)->notify_.send("WATCHDOG=1");
  }, ms, ms);
  uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog_));
  log::info("systemd watchdog: WATCHDOG=1 every {} ms (WATCHDOG_USEC={})", ms, usec);
}

Result<GroupSocket> Daemon::open_group_socket(const model::Config& c, const model::GroupSpec& g) {
  UnixSocketOptions o;
  o.backlog = g.listen_backlog;
  o.send_buffer = g.send_buffer_size.value_or(0);
  o.receive_buffer = g.receive_buffer_size.value_or(0);
  o.chown_to_owner = geteuid() == 0;
  o.owner = fe_id_;
  if (g.socket_user && geteuid() == 0) {
    // mod_wsgi's socket-user=: the socket's owner instead of the front end's
    // user (for setups where something else connects to the group socket).
    auto id = user_identity(*g.socket_user);
    if (!id.is_ok()) return Status::error(fmt::format("group {}: socket-user: {}", g.name, id.status().message()));
    o.owner = id.value();
  }
  std::string path = model::group_socket_path(c, runtime_dir_, g.name);
  auto fd = open_unix_listener(path, o);
  if (!fd.is_ok()) return fd.status();
  return GroupSocket{fd.value(), path, g.listen_backlog};
}

void Daemon::close_group_socket(const GroupSocket& s) {
  if (s.fd < 0) return;
  close(s.fd);
  unlink(s.path.c_str());
}

void Daemon::close_retired_sockets(bool all) {
  std::erase_if(retired_sockets_, [&](const RetiredSocket& r) {
    auto g = groups_.find(r.group);
    if (!all && g != groups_.end()) {
      std::vector<int> live = g->second->pids();
      for (int pid : r.pids)
        if (std::find(live.begin(), live.end(), pid) != live.end()) return false;
    }
    bool reused = false;  // a later reload moved a socket back onto this path
    for (const auto& [name, s] : sockets_) reused = reused || s.path == r.socket.path;
    if (reused) close(r.socket.fd);
    else close_group_socket(r.socket);
    return true;
  });
}

// --- front end ---

void Daemon::start_frontend() {
  if (frontend_path_.empty()) {
    log::notice("no wsgid-frontend binary next to wsgid: running without a front end");
    return;
  }
  frontend_ = std::make_unique<Child>(this, 0);
  frontend_->handle(ChildEvent::kStart);
}

SpawnSpec Daemon::spawn_spec(const Child&) {
  SpawnSpec s;
  s.path = frontend_path_;
  s.argv = {"wsgid-frontend", "--control-fd=3",
            fmt::format("--log-fd={}", 4 + listeners_.size())};
  for (const auto& l : listeners_) s.fds.push_back(l.fd);
  s.fd_channel = true;
  s.first_fds.text = access_logs_.message_text();
  s.first_fds.fds = access_logs_.fds();
  ++frontend_generation_;
  json j = frontend_settings();
  s.settings = j.dump();
  frontend_sent_ = s.settings;
  embedded_.spawned();
  s.role = "frontend";
  return s;
}

int Daemon::frontend_loops(const model::Config& config) {
  cpu_set_t set;
  int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  return model::frontend_loop_count(config, cpus);
}

json Daemon::frontend_settings() {
  std::map<std::string, std::string> paths, states;
  for (auto& [name, g] : groups_) {
    paths[name] = g->socket_path();
    if (g->stopped()) {
      states[name] = "stopped";
    } else if (g->down()) {
      // Every worker is being replaced: requests wait in the socket's backlog
      // when a replacement is due within the front end's bound on that wait
      // (queue-timeout, else connect-timeout); otherwise 503 at once.
      const model::GroupSpec& spec = g->spec();
      double bound = spec.queue_timeout > 0 ? spec.queue_timeout : spec.connect_timeout;
      states[name] = g->back_within(bound) ? "replacing" : "down";
    }
  }
  json j = model::frontend_settings_to_json(config_, paths, states, frontend_generation_);
  j["tls_material"] = model::tls_material_json(tls_.by_index(config_));
  // The sockets systemd holds too: the front end closes them at once when it
  // drains (listener_close.h in the front end).
  json held = json::array();
  for (size_t i = 0; i < listeners_.size(); ++i)
    if (listeners_[i].inherited) held.push_back(i);
  j["listen_systemd"] = held;
  j["loops"] = frontend_loops(config_);
  // The front end never runs as root (README.md, "Running"); without User/Group
  // it runs as www-data.
  if (geteuid() == 0) {
    if (j["user"].is_null()) j["user"] = "www-data";
    if (j["group"].is_null()) j["group"] = "www-data";
  }
  return j;
}

void Daemon::push_frontend_settings(bool force) {
  if (!frontend_ || frontend_->state() != ChildState::kRunning) return;
  std::string s = frontend_settings().dump();
  if (!force && s == frontend_sent_) return;
  frontend_sent_ = s;
  // Every full kSettings carries the current files: a front end that was still
  // starting during a reload got the old set at spawn.
  send_access_logs();
  frontend_->send_to_current(proto::FrameType::kSettings, s);
}

void Daemon::send_access_logs() {
  if (!frontend_) return;
  if (Status s = frontend_->send_fds_to_current(access_logs_.message_text(), access_logs_.fds()); !s)
    log::error("frontend: CustomLog files: {}", s.message());
}

int run_daemon(const DaemonOptions& options) {
  Daemon d(options);
  return d.run();
}

}  // namespace wsgid::master
