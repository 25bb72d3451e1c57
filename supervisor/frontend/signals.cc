#include "supervisor/frontend/signals.h"

#include <signal.h>

namespace wsgid::frontend {
namespace {

using A = FrontendSignalAction;

const std::vector<FrontendSignal> kSignals = {
    {SIGTERM, "TERM", A::kGracefulStop, "graceful stop"},
    {SIGINT, "INT", A::kGracefulStop, "graceful stop"},
    {SIGUSR1, "USR1", A::kReopenLogs, "reopen the access logs"},
    {SIGHUP, "HUP", A::kIgnore, "ignored: the master reloads and sends new settings"},
};

}  // namespace

const std::vector<FrontendSignal>& frontend_signals() { return kSignals; }

int FrontendSignals::start(uv_loop_t* loop, Handler handler) {
  handler_ = std::move(handler);
  ::signal(SIGPIPE, SIG_IGN);
  for (const FrontendSignal& s : kSignals) {
    auto* h = new uv_signal_t;
    uv_signal_init(loop, h);
    h->data = this;
    handles_.push_back(h);
    int r = uv_signal_start(h, on_signal, s.signum);
    if (r != 0) return r;
  }
  return 0;
}

void FrontendSignals::on_signal(uv_signal_t* h, int signum) {
  auto* self = static_cast<FrontendSignals*>(h->data);
  for (const FrontendSignal& s : kSignals) {
    if (s.signum == signum) {
      self->handler_(s);
      return;
    }
  }
}

void FrontendSignals::close() {
  for (uv_signal_t* h : handles_) {
    uv_signal_stop(h);
    uv_close(reinterpret_cast<uv_handle_t*>(h),
             [](uv_handle_t* x) { delete reinterpret_cast<uv_signal_t*>(x); });
  }
  handles_.clear();
}

}  // namespace wsgid::frontend
