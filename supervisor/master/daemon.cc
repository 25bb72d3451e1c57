#include "supervisor/master/daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include <fmt/core.h>

#include "common/log.h"
#include "supervisor/config/model_json.h"
#include "supervisor/config/parser.h"
#include "supervisor/frontend/settings.h"
#include "supervisor/master/child.h"
#include "supervisor/master/control_server.h"
#include "supervisor/master/notify.h"
#include "supervisor/master/process_group.h"
#include "supervisor/master/script_watch.h"
#include "supervisor/master/signals.h"
#include "supervisor/master/sockets.h"
#include "supervisor/master/spawn.h"
#include "supervisor/master/title.h"

namespace wsgid::master {

using nlohmann::json;

namespace {

constexpr const char* kVersion = "0.1.0";
constexpr size_t kTailLines = 1000;

json opt_string(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string absolute_from(const config::Config& c, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  std::string base = c.server_root && !c.server_root->empty() ? *c.server_root : dir_of(c.file);
  return base + "/" + path;
}

// Every mount of the config, server level first.
std::vector<const config::Mount*> all_mounts(const config::Config& c) {
  std::vector<const config::Mount*> v;
  for (const auto& m : c.server.mounts) v.push_back(&m);
  for (const auto& vh : c.vhosts)
    for (const auto& m : vh.mounts) v.push_back(&m);
  return v;
}

std::string expand_app_group(const std::string& ag) { return ag == "%{GLOBAL}" ? "" : ag; }

json group_identity(const config::Config& c, const config::GroupSpec& g,
                    const std::string& runtime_dir) {
  json j = worker_settings(c, g);
  j.erase("log_level");
  // Where the group is written is not what it is: moving its line changes nothing.
  if (j["group"].is_object()) j["group"].erase("defined_at");
  j["_socket"] = group_socket_path(c, runtime_dir, g.name);
  return j;
}

// Files to watch per group: its scripts (aliases routed to it) and imports.
std::map<std::string, std::set<std::string>> script_files(const config::Config& c) {
  std::map<std::string, std::set<std::string>> files;
  if (!c.script_reloading) return files;
  json model = config::config_to_json(c);
  if (model.contains("mounts") && model["mounts"].is_array()) {
    for (const auto& m : model["mounts"]) {
      if (!m.is_object() || !m.contains("process_group") || !m["process_group"].is_string())
        continue;
      if (!m.contains("script") || !m["script"].is_string()) continue;
      std::string script = m["script"];
      std::string group = m["process_group"];
      if (script.find('$') != std::string::npos || !c.find_group(group)) continue;
      files[absolute_from(c, script)].insert(group);
    }
  }
  for (const auto& imp : c.imports) {
    if (c.find_group(imp.process_group)) files[absolute_from(c, imp.script)].insert(imp.process_group);
  }
  return files;
}

int signal_number(std::string name) {
  if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) return std::stoi(name);
  std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  static const std::map<std::string, int> kNames = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
      {"STOP", SIGSTOP}, {"ABRT", SIGABRT}, {"WINCH", SIGWINCH}, {"TTIN", SIGTTIN},
      {"TTOU", SIGTTOU}, {"ALRM", SIGALRM}};
  auto it = kNames.find(name);
  return it == kNames.end() ? -1 : it->second;
}

}  // namespace

json worker_settings(const config::Config& c, const config::GroupSpec& g) {
  bool root = geteuid() == 0;
  json j;
  j["role"] = "worker";
  j["group"] = config::group_to_json(g);
  j["default_user"] = c.user ? json(*c.user) : root ? json("www-data") : json(nullptr);
  j["default_group"] = c.group ? json(*c.group) : root ? json("www-data") : json(nullptr);
  j["python_home"] = opt_string(c.python_home);
  j["python_path"] = c.python_path;
  json preload = json::array();
  for (const auto& imp : c.imports) {
    if (imp.process_group != g.name) continue;
    preload.push_back({{"script", absolute_from(c, imp.script)},
                       {"application_group", expand_app_group(imp.application_group)},
                       {"callable_object", "application"},
                       {"kind", "import"}});
  }
  for (const config::Mount* m : all_mounts(c)) {
    if (!m->process_group || *m->process_group != g.name || !m->application_group) continue;
    if (m->script.find('$') != std::string::npos) continue;
    preload.push_back({{"script", absolute_from(c, m->script)},
                       {"application_group", expand_app_group(*m->application_group)},
                       {"callable_object", m->callable_object.value_or("application")},
                       {"kind", "alias"}});
  }
  j["preload"] = preload;
  j["log_level"] = c.log_level;
  return j;
}

ConfigDiff diff_configs(const config::Config& a, const config::Config& b,
                        const std::string& runtime_dir) {
  ConfigDiff d;
  std::map<std::string, const config::GroupSpec*> ga, gb;
  for (const auto& g : a.groups) ga[g.name] = &g;
  for (const auto& g : b.groups) gb[g.name] = &g;
  for (auto& [name, g] : gb) {
    auto it = ga.find(name);
    if (it == ga.end()) {
      d.added_groups.push_back(name);
    } else if (group_identity(a, *it->second, runtime_dir) != group_identity(b, *g, runtime_dir)) {
      d.changed_groups.push_back(name);
    } else {
      d.unchanged_groups.push_back(name);
    }
  }
  for (auto& [name, g] : ga) {
    if (!gb.count(name)) d.removed_groups.push_back(name);
  }
  std::set<std::string> la, lb;
  for (const auto& l : a.listen) la.insert(l.text());
  for (const auto& l : b.listen) lb.insert(l.text());
  for (const auto& t : lb)
    if (!la.count(t)) d.added_listen.push_back(t);
  for (const auto& t : la)
    if (!lb.count(t)) d.removed_listen.push_back(t);
  return d;
}

namespace {

struct Listener {
  std::string text;   // as configured
  std::string bound;  // as bound (port 0 resolved)
  int fd = -1;
};

struct GroupSocket {
  int fd = -1;
  std::string path;
  int backlog = 0;
};

struct RemovedGroup {
  std::unique_ptr<ProcessGroup> group;
  GroupSocket socket;
  bool socket_taken = false;  // re-added by a later reload: the new group owns it
};

class Daemon : public GroupHost, public ChildHost {
 public:
  explicit Daemon(const DaemonOptions& o) : opts_(o) {}
  int run();

  // GroupHost + ChildHost (the front end)
  uv_loop_t* loop() override { return &loop_; }
  std::string worker_path() override { return worker_path_; }
  void group_changed(ProcessGroup& g) override;
  SpawnSpec spawn_spec(const Child& child) override;
  std::string child_label(const Child&) override { return "frontend"; }
  double graceful_timeout() override;
  double shutdown_timeout() override { return 5; }
  void child_changed(Child&) override;

 private:
  config::ParseResult parse() {
    config::ParseOptions po;
    po.syntax.defines = opts_.defines;
    return config::parse_config_file(opts_.config_path, po);
  }
  int fail_start(const std::string& message);
  Status open_log();
  void reopen_logs();
  Status daemonize();
  void report_ready_to_parent(const std::string& error);
  Status open_listeners(const config::Config& c, std::vector<Listener>* out,
                        const std::vector<Listener>& reuse);
  Result<GroupSocket> open_group_socket(const config::Config& c, const config::GroupSpec& g);
  void close_group_socket(const GroupSocket& s);
  void start_frontend();
  json frontend_settings();
  void push_frontend_settings(bool force);
  void on_signal(const SignalEntry& e);
  Status reload(const std::string& why, json* errors);
  void begin_stop(bool now);
  void kill_everything();
  void check_progress();
  void finish();
  void check_settled();
  void on_control(const ControlRequest& r, std::shared_ptr<Responder> resp);
  json status_json(const std::vector<std::string>& only);
  void tap_line(const std::string& role, const std::string& line);
  void update_watch();
  std::vector<ProcessGroup*> select_groups(const std::vector<std::string>& names,
                                           std::string* unknown);

  DaemonOptions opts_;
  uv_loop_t loop_{};
  bool loop_open_ = false;
  config::Config config_;
  std::string runtime_dir_;
  Identity fe_id_{0, 0};
  std::string worker_path_, frontend_path_;
  std::vector<Listener> listeners_;
  std::map<std::string, GroupSocket> sockets_;
  std::map<std::string, std::unique_ptr<ProcessGroup>> groups_;
  std::vector<RemovedGroup> removed_;
  std::unique_ptr<Child> frontend_;
  int frontend_generation_ = 0;
  std::string frontend_sent_;
  Signals signals_;
  ControlServer control_;
  ScriptWatch watch_;
  Notifier notify_;
  enum class Phase { kRunning, kStopping, kStoppingNow, kDone } phase_ = Phase::kRunning;
  bool groups_told_to_stop_ = false;
  bool ready_sent_ = false;
  bool finishing_ = false;
  int interrupts_ = 0;
  int ready_fd_ = -1;  // -d: the parent waits on this pipe
  std::string pid_file_;
  std::string log_path_;
  int log_fd_ = -1;
  double started_at_ = 0;
  std::map<std::string, std::deque<std::string>> tails_;
  std::map<std::string, std::vector<std::shared_ptr<Responder>>> followers_;
};

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
    path = absolute_from(config_, el->path);
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
  return Status::ok();
}

void Daemon::reopen_logs() {
  if (frontend_ && frontend_->state() == ChildState::kRunning)
    frontend_->send_to_current(proto::FrameType::kSettings, R"({"reopen_logs": true})");
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
  auto pr = parse();
  if (!pr.ok()) {
    std::fputs(pr.diags.render_all().c_str(), stderr);
    std::fprintf(stderr, "wsgid: %s: configuration has errors; not starting\n",
                 opts_.config_path.c_str());
    return 1;
  }
  config_ = std::move(pr.config);
  if (config_.file.empty()) config_.file = opts_.config_path;
  runtime_dir_ = opts_.runtime_dir.empty() ? default_runtime_dir() : opts_.runtime_dir;
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
  for (const auto& d : pr.diags.all()) {
    if (d.severity == config::Severity::kWarning)
      log::warn("{}:{}:{}: {}", d.loc.file, d.loc.line, d.loc.col, d.message);
  }
  set_process_title(opts_.argc, opts_.argv, "wsgid: master -f " + opts_.config_path);

  uv_loop_init(&loop_);
  loop_open_ = true;
  started_at_ = static_cast<double>(uv_now(&loop_)) / 1000.0;
  notify_.init();
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
    std::string control_path = config_.control_socket
                                   ? absolute_from(config_, *config_.control_socket)
                                   : runtime_dir_ + "/control.sock";
    if (Status s = control_.start(&loop_, control_path,
                                  [this](const ControlRequest& r, std::shared_ptr<Responder> p) {
                                    on_control(r, std::move(p));
                                  });
        !s) {
      code = fail_start(s.message());
      break;
    }
    if (config_.pid_file || opts_.daemonize) {
      pid_file_ = config_.pid_file ? absolute_from(config_, *config_.pid_file)
                                   : runtime_dir_ + "/wsgid.pid";
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
    // Installed: sbin/wsgid, libexec/wsgid-worker, libexec/wsgid/wsgid-frontend;
    // build tree: supervisor/wsgid, worker/wsgid-worker, supervisor/frontend/...
    worker_path_ = find_program("WSGID_WORKER", {"wsgid-worker", "../worker/wsgid-worker",
                                                 "../libexec/wsgid-worker",
                                                 "../libexec/wsgid/wsgid-worker"});
    if (worker_path_.empty() && !config_.groups.empty()) {
      code = fail_start("wsgid-worker not found next to wsgid (or set WSGID_WORKER)");
      break;
    }
    frontend_path_ = find_program("WSGID_FRONTEND", {"wsgid-frontend", "frontend/wsgid-frontend",
                                                     "../libexec/wsgid/wsgid-frontend",
                                                     "../libexec/wsgid-frontend"});
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
    for (const auto& l : listeners_) log::notice("listening on {}", l.bound);
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
  frontend_.reset();
  groups_.clear();
  for (auto& r : removed_) {
    if (!r.socket_taken) close_group_socket(r.socket);
  }
  removed_.clear();
  for (auto& [name, s] : sockets_) close_group_socket(s);
  sockets_.clear();
  Reaper::uninstall();
  if (!pid_file_.empty()) unlink(pid_file_.c_str());
  report_ready_to_parent("stopped during start");
}

void Daemon::on_signal(const SignalEntry& e) {
  log::notice("signal {} received: {}", e.name, e.meaning);
  switch (e.action) {
    case SignalAction::kGracefulStop:
      if (phase_ == Phase::kRunning) begin_stop(false);
      break;
    case SignalAction::kInterrupt:
      if (++interrupts_ == 1 && phase_ == Phase::kRunning) {
        begin_stop(false);
      } else if (phase_ == Phase::kStopping) {
        begin_stop(true);
      } else if (phase_ == Phase::kStoppingNow) {
        kill_everything();
      }
      break;
    case SignalAction::kImmediateStop:
      if (phase_ == Phase::kStoppingNow) {
        kill_everything();
      } else if (phase_ != Phase::kDone) {
        begin_stop(true);
      }
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
      break;
  }
}

void Daemon::begin_stop(bool now) {
  phase_ = now ? Phase::kStoppingNow : Phase::kStopping;
  notify_.send(now ? "STOPPING=1\nSTATUS=stopping now" : "STOPPING=1\nSTATUS=stopping gracefully");
  log::notice("{} stop", now ? "immediate" : "graceful");
  if (now) {
    if (frontend_) frontend_->handle(ChildEvent::kStopNow);
    for (auto& [name, g] : groups_) g->stop(true);
    for (auto& r : removed_) r.group->stop(true);
    groups_told_to_stop_ = true;
  } else if (frontend_) {
    // The front end first: it stops accepting and finishes its requests while
    // the workers still serve them.
    frontend_->handle(ChildEvent::kStop);
  }
  check_progress();
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
  if (phase_ == Phase::kStopping || phase_ == Phase::kStoppingNow) {
    bool fe_done = !frontend_ || (frontend_->idle() && frontend_->state() != ChildState::kStopping &&
                                  frontend_->state() != ChildState::kRunning &&
                                  frontend_->state() != ChildState::kStarting);
    if (fe_done && !groups_told_to_stop_) {
      // Nothing reaches the TCP listeners any more: close them so clients get a
      // refusal, not a hang.
      for (auto& l : listeners_) close(l.fd);
      listeners_.clear();
      for (auto& [name, g] : groups_) g->stop(false);
      for (auto& r : removed_) r.group->stop(false);
      groups_told_to_stop_ = true;
    }
    bool all_idle = fe_done && removed_.empty();
    for (auto& [name, g] : groups_) all_idle = all_idle && g->idle();
    if (all_idle && groups_told_to_stop_ && !finishing_) {
      finishing_ = true;
      defer(&loop_, [this] { finish(); });
    }
    return;
  }
  push_frontend_settings(false);
  check_settled();
}

void Daemon::check_settled() {
  if (phase_ != Phase::kRunning || ready_sent_) return;
  for (auto& [name, g] : groups_) {
    if (!g->settled()) return;
  }
  if (frontend_ && frontend_->want_up() && frontend_->state() != ChildState::kRunning &&
      frontend_->state() != ChildState::kFatal)
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

double Daemon::graceful_timeout() {
  double t = 5;
  for (const auto& g : config_.groups) t = std::max(t, g.graceful_timeout);
  return t;
}

// --- sockets ---

Status Daemon::open_listeners(const config::Config& c, std::vector<Listener>* out,
                              const std::vector<Listener>& reuse) {
  std::vector<Listener> opened;
  for (const auto& addr : c.listen) {
    std::string text = addr.text();
    auto it = std::find_if(reuse.begin(), reuse.end(), [&](const Listener& l) { return l.text == text; });
    if (it != reuse.end()) {
      out->push_back(*it);
      continue;
    }
    auto fd = open_tcp_listener(addr, 511);
    if (!fd.is_ok()) {
      for (auto& l : opened) close(l.fd);
      // Roll back what was pushed from this call.
      out->clear();
      return fd.status();
    }
    Listener l{text, bound_address(fd.value()), fd.value()};
    opened.push_back(l);
    out->push_back(l);
  }
  return Status::ok();
}

Result<GroupSocket> Daemon::open_group_socket(const config::Config& c, const config::GroupSpec& g) {
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
  std::string path = group_socket_path(c, runtime_dir_, g.name);
  auto fd = open_unix_listener(path, o);
  if (!fd.is_ok()) return fd.status();
  return GroupSocket{fd.value(), path, g.listen_backlog};
}

void Daemon::close_group_socket(const GroupSocket& s) {
  if (s.fd < 0) return;
  close(s.fd);
  unlink(s.path.c_str());
}

// --- front end ---

void Daemon::start_frontend() {
  if (frontend_path_.empty()) {
    log::notice("no wsgid-frontend binary next to wsgid: running without a front end");
    return;
  }
  if (config_.listen.empty()) {
    log::notice("no Listen directive: running without a front end");
    return;
  }
  frontend_ = std::make_unique<Child>(this, 0);
  frontend_->handle(ChildEvent::kStart);
}

SpawnSpec Daemon::spawn_spec(const Child&) {
  SpawnSpec s;
  s.path = frontend_path_;
  s.argv = {"wsgid-frontend", "--control-fd=3"};
  for (const auto& l : listeners_) s.fds.push_back(l.fd);
  ++frontend_generation_;
  json j = frontend_settings();
  s.settings = j.dump();
  frontend_sent_ = s.settings;
  s.role = "frontend";
  return s;
}

json Daemon::frontend_settings() {
  std::map<std::string, std::string> paths, states;
  for (auto& [name, g] : groups_) {
    paths[name] = g->socket_path();
    if (g->stopped()) {
      states[name] = "stopped";
    } else if (g->down()) {
      states[name] = "down";
    }
  }
  json j = frontend::frontend_settings_to_json(config_, paths, states, frontend_generation_);
  // DESIGN.md "Names and defaults": the front end never runs as root; without
  // User/Group it runs as www-data.
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
  frontend_->send_to_current(proto::FrameType::kSettings, s);
}

// --- reload ---

Status Daemon::reload(const std::string& why, json* errors) {
  if (phase_ != Phase::kRunning) return Status::error("the daemon is stopping");
  log::notice("reloading {} ({})", opts_.config_path, why);
  auto pr = parse();
  *errors = json::array();
  for (const auto& d : pr.diags.all()) {
    std::string where = fmt::format("{}:{}:{}", d.loc.file, d.loc.line, d.loc.col);
    if (d.severity == config::Severity::kError) {
      log::error("reload: {}: {}", where, d.message);
      errors->push_back(where + ": " + d.message);
    } else if (d.severity == config::Severity::kWarning) {
      log::warn("reload: {}: {}", where, d.message);
    }
  }
  if (!pr.ok()) {
    std::string m = fmt::format("reload failed: {} has {} errors; keeping the running configuration",
                                opts_.config_path, pr.diags.error_count());
    log::error("{}", m);
    return Status::error(m);
  }
  config::Config next = std::move(pr.config);
  if (next.file.empty()) next.file = opts_.config_path;
  notify_.send("RELOADING=1\nSTATUS=reloading");
  ConfigDiff d = diff_configs(config_, next, runtime_dir_);

  // 1. Every new socket first; on any failure nothing changes.
  std::vector<Listener> new_listeners;
  if (Status s = open_listeners(next, &new_listeners, listeners_); !s) {
    log::error("reload failed: {}; keeping the running configuration", s.message());
    notify_.send("READY=1\nSTATUS=reload failed");
    return s;
  }
  std::map<std::string, GroupSocket> new_sockets;
  auto rollback = [&](const Status& s) {
    for (auto& l : new_listeners) {
      bool old = std::any_of(listeners_.begin(), listeners_.end(),
                             [&](const Listener& x) { return x.fd == l.fd; });
      if (!old) close(l.fd);
    }
    for (auto& [n, gs] : new_sockets) close_group_socket(gs);
    log::error("reload failed: {}; keeping the running configuration", s.message());
    notify_.send("READY=1\nSTATUS=reload failed");
    return s;
  };
  std::vector<std::string> need_socket = d.added_groups;
  for (const auto& name : d.changed_groups) {
    if (group_socket_path(next, runtime_dir_, name) != sockets_[name].path) need_socket.push_back(name);
  }
  for (const auto& name : need_socket) {
    // A group removed earlier and still draining keeps its socket: take it over.
    auto rit = std::find_if(removed_.begin(), removed_.end(), [&](const RemovedGroup& r) {
      return r.group && r.group->name() == name && !r.socket_taken &&
             r.socket.path == group_socket_path(next, runtime_dir_, name);
    });
    if (rit != removed_.end()) {
      new_sockets[name] = rit->socket;
      continue;
    }
    auto gs = open_group_socket(next, *next.find_group(name));
    if (!gs.is_ok()) return rollback(gs.status());
    new_sockets[name] = gs.value();
  }
  for (auto& r : removed_) {
    auto it = new_sockets.find(r.group ? r.group->name() : "");
    if (it != new_sockets.end() && it->second.fd == r.socket.fd) r.socket_taken = true;
  }

  // 2. Commit.
  std::vector<Listener> old_listeners = listeners_;
  listeners_ = new_listeners;
  for (const auto& l : old_listeners) {
    if (std::none_of(listeners_.begin(), listeners_.end(), [&](const Listener& x) { return x.fd == l.fd; })) {
      log::notice("reload: closing listener {}", l.bound);
      close(l.fd);
    }
  }
  for (const auto& l : listeners_) {
    if (std::none_of(old_listeners.begin(), old_listeners.end(), [&](const Listener& x) { return x.fd == l.fd; }))
      log::notice("reload: listening on {}", l.bound);
  }
  config::Config old = std::move(config_);
  config_ = std::move(next);
  log::Level lv;
  if (log::parse_level(config_.log_level, &lv)) log::set_level(lv);
  auto log_file = [](const config::Config& c) {
    return c.server.error_log ? absolute_from(c, c.server.error_log->path) : std::string();
  };
  if (log_file(old) != log_file(config_)) {
    if (Status s = open_log(); !s) log::error("reload: ErrorLog: {}", s.message());
  }

  for (const auto& name : d.removed_groups) {
    auto it = groups_.find(name);
    if (it == groups_.end()) continue;
    log::notice("reload: group {} removed: draining", name);
    RemovedGroup r;
    r.group = std::move(it->second);
    r.socket = sockets_[name];
    groups_.erase(it);
    sockets_.erase(name);
    r.group->stop(false);
    removed_.push_back(std::move(r));
  }
  for (const auto& name : d.changed_groups) {
    const config::GroupSpec& spec = *config_.find_group(name);
    ProcessGroup* g = groups_[name].get();
    auto ns = new_sockets.find(name);
    if (ns != new_sockets.end()) {
      GroupSocket old_socket = sockets_[name];
      sockets_[name] = ns->second;
      g->set_socket(ns->second.fd, ns->second.path);
      close_group_socket(old_socket);
    } else if (sockets_[name].backlog != spec.listen_backlog) {
      if (Status s = relisten(sockets_[name].fd, spec.listen_backlog); !s) {
        log::warn("reload: group {}: {}", name, s.message());
      }
      sockets_[name].backlog = spec.listen_backlog;
    }
    log::notice("reload: group {} changed: rolling restart", name);
    g->update(spec, worker_settings(config_, spec));
  }
  for (const auto& name : d.added_groups) {
    const config::GroupSpec& spec = *config_.find_group(name);
    sockets_[name] = new_sockets[name];
    log::notice("reload: group {} added", name);
    auto pg = std::make_unique<ProcessGroup>(this, spec, worker_settings(config_, spec),
                                             sockets_[name].fd, sockets_[name].path);
    ProcessGroup* raw = pg.get();
    groups_[name] = std::move(pg);
    raw->start();
  }
  if (!d.unchanged_groups.empty())
    log::notice("reload: {} groups unchanged", d.unchanged_groups.size());
  if (config_.control_socket != old.control_socket)
    log::warn("reload: WSGIControlSocket changes take effect at the next start");

  // 3. The front end: new fds need a new process; otherwise new settings.
  if (frontend_) {
    if (d.listen_changed()) {
      frontend_->replace("reload: Listen changed");
    } else {
      push_frontend_settings(true);
    }
  } else {
    start_frontend();
  }
  update_watch();
  ready_sent_ = false;
  log::notice("reload: {} added, {} removed, {} changed, {} unchanged groups",
              d.added_groups.size(), d.removed_groups.size(), d.changed_groups.size(),
              d.unchanged_groups.size());
  check_progress();
  return Status::ok();
}

void Daemon::update_watch() { watch_.set(script_files(config_)); }

// --- control ---

std::vector<ProcessGroup*> Daemon::select_groups(const std::vector<std::string>& names,
                                                 std::string* unknown) {
  std::vector<ProcessGroup*> v;
  bool all = names.empty() || std::find(names.begin(), names.end(), "all") != names.end();
  if (all) {
    for (auto& [n, g] : groups_) v.push_back(g.get());
    return v;
  }
  for (const auto& n : names) {
    auto it = groups_.find(n);
    if (it == groups_.end()) {
      *unknown = n;
      return {};
    }
    v.push_back(it->second.get());
  }
  return v;
}

json Daemon::status_json(const std::vector<std::string>& only) {
  json groups = json::array();
  for (auto& [name, g] : groups_) {
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    groups.push_back(g->status_json());
  }
  json listen = json::array();
  for (const auto& l : listeners_) listen.push_back(l.bound);
  std::string phase = phase_ == Phase::kRunning ? "running" : "stopping";
  json fe = nullptr;
  if (frontend_) fe = frontend_->status_json();
  return {{"ok", true},
          {"master",
           {{"pid", static_cast<long>(getpid())},
            {"uptime", static_cast<double>(uv_now(&loop_)) / 1000.0 - started_at_},
            {"config", opts_.config_path},
            {"state", phase},
            {"version", kVersion},
            {"listen", listen},
            {"control_socket", control_.path()}}},
          {"frontend", fe},
          {"groups", groups}};
}

void Daemon::on_control(const ControlRequest& r, std::shared_ptr<Responder> resp) {
  const std::string& cmd = r.command;
  auto need_groups = [&](std::vector<ProcessGroup*>* out) {
    if (r.args.empty()) {
      resp->finish(control_error("usage", cmd + " needs group names or 'all'"));
      return false;
    }
    std::string unknown;
    *out = select_groups(r.args, &unknown);
    if (!unknown.empty()) {
      resp->finish(control_error("no-such-group", fmt::format("no such group '{}'", unknown)));
      return false;
    }
    return true;
  };
  if (cmd == "status") {
    for (const auto& n : r.args) {
      if (n != "all" && !groups_.count(n)) {
        resp->finish(control_error("no-such-group", fmt::format("no such group '{}'", n)));
        return;
      }
    }
    for (auto& [n, g] : groups_) g->query_state();
    std::vector<std::string> only = r.args;
    if (std::find(only.begin(), only.end(), "all") != only.end()) only.clear();
    // Give the workers a moment to answer kStateQuery.
    auto* t = new uv_timer_t;
    uv_timer_init(&loop_, t);
    struct Ctx {
      Daemon* d;
      std::shared_ptr<Responder> resp;
      std::vector<std::string> only;
    };
    t->data = new Ctx{this, resp, only};
    uv_timer_start(t, [](uv_timer_t* h) {
      auto* c = static_cast<Ctx*>(h->data);
      if (c->d->phase_ != Phase::kDone) c->resp->finish(c->d->status_json(c->only));
      delete c;
      uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* x) { delete reinterpret_cast<uv_timer_t*>(x); });
    }, 200, 0);
    return;
  }
  if (phase_ != Phase::kRunning && cmd != "pid" && cmd != "version" && cmd != "help" &&
      cmd != "tail" && cmd != "shutdown") {
    resp->finish(control_error("failed", "the daemon is stopping"));
    return;
  }
  std::vector<ProcessGroup*> gs;
  if (cmd == "start") {
    if (!need_groups(&gs)) return;
    for (auto* g : gs) g->start();
    resp->finish({{"ok", true}});
  } else if (cmd == "stop") {
    if (!need_groups(&gs)) return;
    for (auto* g : gs) g->stop(r.now);
    resp->finish({{"ok", true}});
  } else if (cmd == "restart") {
    if (!need_groups(&gs)) return;
    for (auto* g : gs) g->restart(r.now, "wsgictl restart");
    resp->finish({{"ok", true}});
  } else if (cmd == "reload") {
    json errors;
    Status s = reload("wsgictl reload", &errors);
    if (s) {
      resp->finish({{"ok", true}});
    } else {
      json e = control_error("failed", s.message());
      e["errors"] = errors;
      resp->finish(e);
    }
  } else if (cmd == "check") {
    auto pr = parse();
    resp->finish({{"ok", pr.ok()},
                  {"diagnostics", pr.diags.render_all()},
                  {"errors", pr.diags.error_count()},
                  {"warnings", pr.diags.warning_count()}});
  } else if (cmd == "reopen") {
    reopen_logs();
    resp->finish({{"ok", true}});
  } else if (cmd == "pid") {
    if (r.args.empty()) {
      resp->finish({{"ok", true}, {"pid", static_cast<long>(getpid())}});
      return;
    }
    std::string unknown;
    gs = select_groups(r.args, &unknown);
    if (!unknown.empty()) {
      resp->finish(control_error("no-such-group", fmt::format("no such group '{}'", unknown)));
      return;
    }
    json pids = json::object();
    for (auto* g : gs) pids[g->name()] = g->pids();
    resp->finish({{"ok", true}, {"pids", pids}});
  } else if (cmd == "signal") {
    int sig = signal_number(r.args[0]);
    if (sig <= 0) {
      resp->finish(control_error("usage", fmt::format("unknown signal '{}'", r.args[0])));
      return;
    }
    std::vector<std::string> names(r.args.begin() + 1, r.args.end());
    std::string unknown;
    gs = select_groups(names, &unknown);
    if (!unknown.empty()) {
      resp->finish(control_error("no-such-group", fmt::format("no such group '{}'", unknown)));
      return;
    }
    for (auto* g : gs) g->signal(sig);
    resp->finish({{"ok", true}});
  } else if (cmd == "tail") {
    std::string who = r.args[0];
    std::string role = who == "master" ? "master" : who == "frontend" ? "frontend" : "worker " + who;
    if (who != "master" && who != "frontend" && !groups_.count(who)) {
      resp->finish(control_error("no-such-group", fmt::format("no such group '{}'", who)));
      return;
    }
    json lines = json::array();
    if (who == "master") {
      if (log_path_.empty()) {
        resp->finish(control_error("failed", "the master logs to stderr (no ErrorLog): nothing to tail"));
        return;
      }
      std::ifstream in(log_path_);
      std::deque<std::string> last;
      for (std::string l; std::getline(in, l);) {
        last.push_back(l);
        if (last.size() > static_cast<size_t>(r.lines)) last.pop_front();
      }
      for (auto& l : last) lines.push_back(l);
      resp->finish({{"ok", true}, {"lines", lines}});
      return;
    }
    const auto& q = tails_[role];
    size_t skip = q.size() > static_cast<size_t>(r.lines) ? q.size() - static_cast<size_t>(r.lines) : 0;
    for (size_t i = skip; i < q.size(); ++i) lines.push_back(q[i]);
    if (!r.follow) {
      resp->finish({{"ok", true}, {"lines", lines}});
      return;
    }
    resp->send({{"ok", true}, {"lines", lines}, {"follow", true}});
    followers_[role].push_back(resp);
  } else if (cmd == "shutdown") {
    resp->finish({{"ok", true}});
    if (phase_ == Phase::kRunning) {
      begin_stop(r.now);
    } else if (r.now && phase_ == Phase::kStopping) {
      begin_stop(true);
    }
  } else if (cmd == "version") {
    resp->finish({{"ok", true}, {"version", kVersion}});
  } else if (cmd == "help") {
    resp->finish({{"ok", true}, {"commands", control_commands()}});
  }
}

void Daemon::tap_line(const std::string& role, const std::string& line) {
  auto& q = tails_[role];
  q.push_back(line);
  if (q.size() > kTailLines) q.pop_front();
  auto it = followers_.find(role);
  if (it == followers_.end()) return;
  auto& v = it->second;
  std::erase_if(v, [](const std::shared_ptr<Responder>& r) { return r->closed(); });
  for (auto& r : v) r->send({{"line", line}});
}

}  // namespace

int run_daemon(const DaemonOptions& options) {
  Daemon d(options);
  return d.run();
}

}  // namespace wsgid::master
