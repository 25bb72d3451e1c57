// The status report to the front end (model/status_report.h, issue 14): what
// the master alone knows about its children and itself, for the front end's
// metrics and status pages. Pushed on change from check_progress() (every
// child's state change ends there) and after each reload, never asked for, so
// the front end answers a scrape from what it holds (docs/decisions.md 38).
#include <sys/types.h>

#include "supervisor/master/daemon_impl.h"

namespace wsgid::master {

model::StatusReport Daemon::status_report() {
  model::StatusReport r;
  r.started = unix_at_loop_zero_ + started_at_;
  r.reloads = reloads_;
  r.failed_reloads = failed_reloads_;
  r.version = kVersion;
  for (auto& [name, g] : groups_) {
    model::GroupReport gr;
    gr.name = name;
    if (auto it = restarts_.find(name); it != restarts_.end()) gr.restarts = it->second;
    for (Child* c : g->children()) {
      model::ProcessReport p;
      p.index = c->index();
      p.pid = c->pid();
      p.state = std::string(state_name(c->state()));
      double at = c->current_started_at();
      p.started = p.pid > 0 && at > 0 ? unix_at_loop_zero_ + at : 0;
      p.last_exit = c->last_exit();
      gr.processes.push_back(std::move(p));
    }
    r.groups.push_back(std::move(gr));
  }
  return r;
}

void Daemon::push_frontend_status() {
  if (!frontend_ || frontend_->state() != ChildState::kRunning) return;
  json j = {{"status", model::status_report_to_json(status_report())}};
  std::string text = j.dump();
  if (text == status_sent_ && frontend_->pid() == status_sent_pid_) return;
  status_sent_ = std::move(text);
  status_sent_pid_ = frontend_->pid();
  frontend_->send_to_current(proto::FrameType::kSettings, status_sent_);
}

}  // namespace wsgid::master
