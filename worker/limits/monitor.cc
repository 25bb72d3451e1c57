#include "worker/limits/monitor.h"

#include <unistd.h>

#include <fmt/core.h>

#include <cmath>
#include <thread>
#include <vector>

#include "common/log.h"
#include "worker/interpreters.h"
#include "worker/request_io.h"
#include "worker/wsgi_runtime.h"

namespace wsgid::worker {
namespace {

std::mutex g_dump_mu;
std::vector<std::pair<uint32_t, unsigned long>> g_dumps;  // (request id, thread ident)

[[noreturn]] void exit_now(ControlChannel* control, const std::string& reason, const std::string& detail) {
  control->send_exiting(reason, detail);
  _exit(1);
}

void probe_loop(WorkerState* st) {
  for (;;) {
    Interpreters::enter(Interpreters::main_interp());
    st->last_gil_ms = monotonic_ms();
    std::vector<std::pair<uint32_t, unsigned long>> dumps;
    {
      std::lock_guard<std::mutex> lock(g_dump_mu);
      dumps.swap(g_dumps);
    }
    for (auto [rid, ident] : dumps) {
      std::string stack = Interpreters::stack_of(ident);
      if (stack.empty()) {
        log::error("request {}: the thread is not running Python code (blocked in C?)", rid);
        continue;
      }
      log::error("request {}: Python stack of the thread:", rid);
      size_t pos = 0;
      while (pos < stack.size()) {
        size_t nl = stack.find('\n', pos);
        if (nl == std::string::npos) nl = stack.size();
        log::error("request {}: {}", rid, stack.substr(pos, nl - pos));
        pos = nl + 1;
      }
    }
    Interpreters::leave();
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

void monitor_loop(const WorkerSettings* sp, WorkerState* st, ControlChannel* control) {
  const WorkerSettings& s = *sp;
  bool restart_sent = false, inactivity_sent = false;
  int64_t request_timeout_at = 0;  // when request-timeout last fired
  double limit = request_timeout_limit(s.request_timeout, s.threads);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    int64_t now = monotonic_ms();
    if (s.deadlock_timeout > 0 && now - st->last_gil_ms.load() > static_cast<int64_t>(s.deadlock_timeout * 1000)) {
      std::string detail = fmt::format("the Python GIL was not released for {} s (deadlock-timeout)", s.deadlock_timeout);
      log::error("{}: exiting at once", detail);
      st->answer_gil_holder(st->last_gil_ms.load(), "deadlock-timeout: " + detail);
      exit_now(control, "deadlock-timeout", detail);
    }
    int64_t since = g_startup_pending_since.load();
    if (s.startup_timeout > 0 && since > 0 && now - since > static_cast<int64_t>(s.startup_timeout * 1000)) {
      std::string detail = fmt::format("the WSGI script did not load within {} s (startup-timeout)", s.startup_timeout);
      log::error("{}: exiting", detail);
      exit_now(control, "startup-timeout", detail);
    }
    if (st->stopping()) continue;
    if (s.restart_interval > 0 && !restart_sent && now - st->start_ms >= static_cast<int64_t>(s.restart_interval * 1000)) {
      restart_sent = true;
      log::notice("restart-interval ({} s) reached: asking for a replacement", s.restart_interval);
      st->post({Event::Kind::kReplaceMe, "restart-interval", fmt::format("up for {} s", s.restart_interval)});
    }
    if (s.inactivity_timeout > 0 && !inactivity_sent && st->busy.load() == 0 &&
        now - st->last_activity_ms.load() >= static_cast<int64_t>(s.inactivity_timeout * 1000)) {
      inactivity_sent = true;
      log::notice("inactivity-timeout ({} s) reached: asking for a replacement", s.inactivity_timeout);
      st->post({Event::Kind::kReplaceMe, "inactivity-timeout", fmt::format("idle for {} s", s.inactivity_timeout)});
    }
    if (limit > 0) {
      for (auto& slot : st->slots) {
        if (!slot->busy.load() || slot->timed_out.load()) continue;
        int64_t age = now - slot->started_ms.load();
        if (age < static_cast<int64_t>(limit * 1000)) continue;
        slot->timed_out = true;
        uint32_t rid;
        std::string method, uri;
        {
          std::lock_guard<std::mutex> lock(slot->mu);
          rid = slot->request_id;
          method = slot->method;
          uri = slot->uri;
        }
        log::error("request {} ({} {}) has run for {:.1f} s, past request-timeout ({} s x (1 + ln {} threads) = {:.1f} s): asking for a replacement",
                   rid, method, uri, static_cast<double>(age) / 1000, s.request_timeout, s.threads, limit);
        {
          std::lock_guard<std::mutex> lock(g_dump_mu);
          g_dumps.emplace_back(rid, slot->py_ident.load());
        }
        if (request_timeout_at == 0) request_timeout_at = now;
        st->post({Event::Kind::kReplaceMe, "request-timeout",
                  fmt::format("request {} ran for more than {:.1f} s", rid, limit)});
      }
      if (request_timeout_at > 0 && now - request_timeout_at > static_cast<int64_t>(s.graceful_timeout * 1000)) {
        request_timeout_at = 0;
        st->post({Event::Kind::kStop, "request-timeout", "no drain request within graceful-timeout after request-timeout",
                  s.shutdown_timeout});
      }
    }
  }
}

}  // namespace

double request_timeout_limit(double request_timeout, int threads) {
  if (request_timeout <= 0) return 0;
  return request_timeout * (1.0 + std::log(static_cast<double>(threads > 1 ? threads : 1)));
}

Status start_monitor(const WorkerSettings& settings, WorkerState* state, ControlChannel* control) {
  try {
    std::thread(probe_loop, state).detach();
    std::thread(monitor_loop, &settings, state, control).detach();
  } catch (const std::system_error& e) {
    return Status::error(fmt::format("std::thread(monitor): {}", e.what()));
  }
  return Status::ok();
}

}  // namespace wsgid::worker
