// The control socket's commands (CONTROL.md): Daemon::on_control() executes
// one validated request (control_server.cc parsed it) and answers through its
// Responder; Daemon::tap_line() keeps the last kTailLines lines per role
// ("worker NAME", "frontend", "master") and streams new ones to `tail -f`.
#include "supervisor/master/daemon_impl.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <deque>
#include <fstream>

#include <fmt/core.h>

#include "common/log.h"

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

}  // namespace wsgid::master
