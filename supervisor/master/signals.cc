#include "supervisor/master/signals.h"

#include <signal.h>

namespace wsgid::master {
namespace {

const std::vector<SignalEntry> kSignals = {
    {SIGTERM, "TERM", SignalAction::kGracefulStop, "graceful stop"},
    {SIGINT, "INT", SignalAction::kInterrupt, "graceful stop; the second one is immediate"},
    {SIGQUIT, "QUIT", SignalAction::kImmediateStop, "immediate stop"},
    {SIGHUP, "HUP", SignalAction::kReload, "reload the configuration"},
    {SIGUSR1, "USR1", SignalAction::kReopenLogs, "reopen log files"},
    {SIGUSR2, "USR2", SignalAction::kRollingRestart, "rolling restart of every group"},
};

}  // namespace

const std::vector<SignalEntry>& master_signals() { return kSignals; }

std::string_view signal_action_name(SignalAction a) {
  switch (a) {
    case SignalAction::kGracefulStop: return "graceful-stop";
    case SignalAction::kInterrupt: return "interrupt";
    case SignalAction::kImmediateStop: return "immediate-stop";
    case SignalAction::kReload: return "reload";
    case SignalAction::kReopenLogs: return "reopen-logs";
    case SignalAction::kRollingRestart: return "rolling-restart";
  }
  return "?";
}

int Signals::start(uv_loop_t* loop, Handler handler) {
  handler_ = std::move(handler);
  ::signal(SIGPIPE, SIG_IGN);
  for (const SignalEntry& e : kSignals) {
    auto* h = new uv_signal_t;
    uv_signal_init(loop, h);
    h->data = this;
    handles_.push_back(h);
    int r = uv_signal_start(h, on_signal, e.signum);
    if (r != 0) return r;
  }
  return 0;
}

void Signals::on_signal(uv_signal_t* h, int signum) {
  auto* self = static_cast<Signals*>(h->data);
  for (const SignalEntry& e : kSignals) {
    if (e.signum == signum) {
      self->handler_(e);
      return;
    }
  }
}

void Signals::close() {
  for (uv_signal_t* h : handles_) {
    uv_signal_stop(h);
    uv_close(reinterpret_cast<uv_handle_t*>(h),
             [](uv_handle_t* x) { delete reinterpret_cast<uv_signal_t*>(x); });
  }
  handles_.clear();
}

}  // namespace wsgid::master
