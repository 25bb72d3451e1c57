// The control socket's commands (CONTROL.md): the command table
// (control_commands.h) and its handlers. Daemon::on_control() looks up the row of
// one validated request (control_server.cc parsed it), applies the row's checks
// and runs its handler, which answers through the Responder; Daemon::tap_line() keeps the last kTailLines lines per role
// ("worker NAME", "frontend", "master") and streams new ones to `tail -f`.
#include "supervisor/master/daemon_impl.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <deque>
#include <fstream>

#include <fmt/core.h>

#include "common/log.h"
#include "model/embedded.h"
#include "supervisor/master/control_commands.h"

namespace wsgid::master {

namespace {

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

const std::vector<ControlCommand>& control_command_table() {
  using C = CommandArgs;
  using D = Daemon;
  static const std::vector<ControlCommand> kTable = {
      // name       args                 while stopping  handler           usage
      {"status",   C::kOptionalGroups,   true,           &D::cmd_status,   "[GROUP...]"},
      {"start",    C::kGroups,           false,          &D::cmd_start,    "GROUP... or all"},
      {"stop",     C::kGroups,           false,          &D::cmd_stop,     "GROUP... or all; now"},
      {"restart",  C::kGroups,           false,          &D::cmd_restart,  "GROUP... or all; now"},
      {"reload",   C::kNone,             false,          &D::cmd_reload,   ""},
      {"check",    C::kNone,             false,          &D::cmd_check,    ""},
      {"reopen",   C::kNone,             false,          &D::cmd_reopen,   ""},
      {"pid",      C::kOptionalGroups,   true,           &D::cmd_pid,      "[GROUP...]"},
      {"signal",   C::kSignalAndGroups,  false,          &D::cmd_signal,   "SIG GROUP..."},
      {"tail",     C::kOneName,          true,           &D::cmd_tail,     "GROUP, frontend or master; lines, follow"},
      {"shutdown", C::kNone,             true,           &D::cmd_shutdown, "now"},
      {"version",  C::kNone,             true,           &D::cmd_version,  ""},
      {"help",     C::kNone,             true,           &D::cmd_help,     ""},
  };
  return kTable;
}

const ControlCommand* find_control_command(std::string_view name) {
  for (const ControlCommand& c : control_command_table()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void Daemon::on_control(const ControlRequest& r, std::shared_ptr<Responder> resp) {
  const ControlCommand* c = find_control_command(r.command);
  // parse_control_request() accepts only commands of the table.
  if (!c) log::bug("control request for a command outside the table", __FILE__, __LINE__);
  if (!c->while_stopping && phase_ != Phase::kRunning) {
    resp->finish(control_error("failed", "the daemon is stopping"));
    return;
  }
  if (c->args == CommandArgs::kGroups) {
    if (r.args.empty()) {
      resp->finish(control_error("usage", r.command + " needs group names or 'all'"));
      return;
    }
    // The embedded pool lives in the front end: it restarts (a new front end),
    // but never starts or stops on its own.
    bool explicit_pool = embedded_.present() &&
                         std::find(r.args.begin(), r.args.end(), model::kEmbeddedPoolName) != r.args.end();
    if (explicit_pool && r.command != "restart") {
      resp->finish(control_error(
          "usage", fmt::format("{} is the embedded pool: it runs in the front end, which starts and "
                               "stops with wsgid; `restart {}` replaces it",
                               model::kEmbeddedPoolName, model::kEmbeddedPoolName)));
      return;
    }
    std::vector<std::string> names = r.args;
    if (explicit_pool) {
      names = EmbeddedPool::without_pool(r.args);
      if (names.empty()) {
        (this->*c->handler)(r, resp);
        return;
      }
    }
    std::string unknown;
    select_groups(names, &unknown);
    if (!unknown.empty()) {
      resp->finish(control_error("no-such-group", fmt::format("no such group '{}'", unknown)));
      return;
    }
  }
  (this->*c->handler)(r, resp);
}

void Daemon::cmd_status(const ControlRequest& r, const std::shared_ptr<Responder>& resp) {
  for (const auto& n : r.args) {
    if (n != "all" && !groups_.count(n) && !(embedded_.present() && n == model::kEmbeddedPoolName)) {
      resp->finish(control_error("no-such-group", fmt::format("no such group '{}'", n)));
      return;
    }
  }
  for (auto& [n, g] : groups_) g->query_state();
  if (frontend_) frontend_->query_state();  // its requests, for the front end's and the pool's rows
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
}

void Daemon::cmd_start(const ControlRequest& r, const std::shared_ptr<Responder>& resp) {
  std::string unknown;
  for (auto* g : select_groups(r.args, &unknown)) g->start();
  resp->finish({{"ok", true}});
}

void Daemon::cmd_stop(const ControlRequest& r, const std::shared_ptr<Responder>& resp) {
  std::string unknown;
  for (auto* g : select_groups(r.args, &unknown)) g->stop(r.now);
  resp->finish({{"ok", true}});
}

void Daemon::cmd_restart(const ControlRequest& r, const std::shared_ptr<Responder>& resp) {
  std::string unknown;
  std::vector<std::string> names = EmbeddedPool::without_pool(r.args);
  if (!names.empty())
    for (auto* g : select_groups(names, &unknown)) g->restart(r.now, "wsgictl restart");
  if (frontend_ && embedded_.names_pool(r.args)) {
    // The embedded pool: a new front end, with a new Python (embedded_pool.h).
    if (r.now) {
      frontend_->handle(ChildEvent::kRestartNow);
    } else {
      frontend_->replace(fmt::format("wsgictl restart: embedded pool {}", model::kEmbeddedPoolName));
    }
  }
  resp->finish({{"ok", true}});
}

void Daemon::cmd_reload(const ControlRequest&, const std::shared_ptr<Responder>& resp) {
  json errors;
  Status s = reload("wsgictl reload", &errors);
  if (s) {
    json ok = {{"ok", true}};
    if (!errors.empty()) ok["warnings"] = errors;  // e.g. a renewed certificate that failed
    resp->finish(ok);
  } else {
    json e = control_error("failed", s.message());
    e["errors"] = errors;
    resp->finish(e);
  }
}

void Daemon::cmd_check(const ControlRequest&, const std::shared_ptr<Responder>& resp) {
  auto pr = parse();
  resp->finish({{"ok", pr.ok()},
                {"diagnostics", pr.diags.render_all()},
                {"errors", pr.diags.error_count()},
                {"warnings", pr.diags.warning_count()}});
}

void Daemon::cmd_reopen(const ControlRequest&, const std::shared_ptr<Responder>& resp) {
  reopen_logs();
  resp->finish({{"ok", true}});
}

void Daemon::cmd_pid(const ControlRequest& r, const std::shared_ptr<Responder>& resp) {
  if (r.args.empty()) {
    resp->finish({{"ok", true}, {"pid", static_cast<long>(getpid())}});
    return;
  }
  bool pool = embedded_.present() &&
              std::find(r.args.begin(), r.args.end(), model::kEmbeddedPoolName) != r.args.end();
  std::vector<std::string> names = pool ? EmbeddedPool::without_pool(r.args) : r.args;
  std::string unknown;
  std::vector<ProcessGroup*> gs;
  if (!pool || !names.empty()) gs = select_groups(names, &unknown);
  if (!unknown.empty()) {
    resp->finish(control_error("no-such-group", fmt::format("no such group '{}'", unknown)));
    return;
  }
  json pids = json::object();
  for (auto* g : gs) pids[g->name()] = g->pids();
  // The embedded pool's processes are the front end's.
  if (pool) pids[std::string(model::kEmbeddedPoolName)] = frontend_ ? frontend_->pids() : std::vector<int>{};
  resp->finish({{"ok", true}, {"pids", pids}});
}

void Daemon::cmd_signal(const ControlRequest& r, const std::shared_ptr<Responder>& resp) {
  int sig = signal_number(r.args[0]);
  if (sig <= 0) {
    resp->finish(control_error("usage", fmt::format("unknown signal '{}'", r.args[0])));
    return;
  }
  std::vector<std::string> names(r.args.begin() + 1, r.args.end());
  if (std::find(names.begin(), names.end(), model::kEmbeddedPoolName) != names.end()) {
    // The embedded pool is Python threads of the front end: a signal to it would
    // be a signal to the front end, which answers every site (TERM would stop
    // them all). Refused, with what does what the user likely wants.
    resp->finish(control_error(
        "usage",
        embedded_.present()
            ? fmt::format("{} is the embedded pool: its threads run in the front end, which "
                          "serves every site, so wsgid sends it no signal; `restart {}` replaces "
                          "it with no failed request",
                          model::kEmbeddedPoolName, model::kEmbeddedPoolName)
            : fmt::format("no embedded pool: no WSGIScriptAlias of this configuration runs "
                          "embedded ({} names it when one does)",
                          model::kEmbeddedPoolName)));
    return;
  }
  std::string unknown;
  std::vector<ProcessGroup*> gs = select_groups(names, &unknown);
  if (!unknown.empty()) {
    resp->finish(control_error("no-such-group", fmt::format("no such group '{}'", unknown)));
    return;
  }
  for (auto* g : gs) g->signal(sig);
  resp->finish({{"ok", true}});
}

void Daemon::cmd_tail(const ControlRequest& r, const std::shared_ptr<Responder>& resp) {
  std::string who = r.args[0];
  // The embedded pool's output is the front end's (embedded_pool.h).
  if (embedded_.present() && who == model::kEmbeddedPoolName) who = "frontend";
  std::string role = who == "master" ? "master" : who == "frontend" ? "frontend" : "worker " + who;
  if (who != "master" && who != "frontend" && !groups_.count(who)) {
    resp->finish(control_error("no-such-group", fmt::format("no such group '{}'", who)));
    return;
  }
  json lines = json::array();
  if (who == "master" && !r.follow && !log_path_.empty()) {
    // One-shot with an ErrorLog file: its last lines (the workers' captured
    // output among them). Otherwise the ring of the master's own lines below.
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
}

void Daemon::cmd_shutdown(const ControlRequest& r, const std::shared_ptr<Responder>& resp) {
  resp->finish({{"ok", true}});
  request_stop(r.now ? StopRequest::kNow : StopRequest::kGraceful);
}

void Daemon::cmd_version(const ControlRequest&, const std::shared_ptr<Responder>& resp) {
  resp->finish({{"ok", true}, {"version", kVersion}});
}

void Daemon::cmd_help(const ControlRequest&, const std::shared_ptr<Responder>& resp) {
  json usage = json::object();
  for (const ControlCommand& c : control_command_table()) usage[std::string(c.name)] = c.usage;
  resp->finish({{"ok", true}, {"commands", control_commands()}, {"usage", usage}});
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

}  // namespace wsgid::master
