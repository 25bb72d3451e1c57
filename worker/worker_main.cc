// wsgid-worker: one process of a WSGI process group, exec'd by the master as
// `wsgid-worker --control-fd=3 --listen-fd=4` (protocol/PROTOCOL.md
// 7.1). main() receives its settings over the control channel, sets its
// title and identity, starts Python, runs the preloads, starts the request,
// monitor and probe threads, sends READY (startup()), and then serves the control
// channel and signals (through a signalfd, worker/signals.h) on the main thread
// until it exits (ControlLoop).
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <Python.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "common/log.h"
#include "common/proctitle.h"
#include "protocol/frame.h"
#include "worker/control_channel.h"
#include "worker/identity.h"
#include "worker/interpreters.h"
#include "worker/limits/monitor.h"
#include "worker/request_io.h"
#include "worker/request_loop.h"
#include "worker/settings.h"
#include "worker/signals.h"
#include "worker/worker_state.h"
#include "worker/wsgi_app.h"
#include "worker/wsgi_runtime.h"

namespace wsgid::worker {
namespace {

constexpr char kUsage[] =
    "usage: wsgid-worker [--control-fd=N] [--listen-fd=N]\n"
    "A wsgid process-group worker; the wsgid master starts it (fd 3: control channel,\n"
    "fd 4: the group's listening socket). Not meant to be run by hand.\n"
    "Exit codes: 0 drained, shut down or service script returned; 1 failure; 2 usage.\n";

ControlChannel g_control;

[[noreturn]] void exit_with(const std::string& reason, const std::string& detail, int code) {
  g_control.send_exiting(reason, detail);
  if (code == 0) log::notice("exiting: {}{}{}", reason, detail.empty() ? "" : ": ", detail);
  else log::error("exiting: {}{}{}", reason, detail.empty() ? "" : ": ", detail);
  _exit(code);
}

int64_t rss_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long size = 0, resident = 0;
  int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE) : 0;
}

nlohmann::json state_json(const WorkerSettings& s, WorkerState& st) {
  nlohmann::json current = nlohmann::json::array();
  int64_t now = monotonic_ms();
  for (auto& slot : st.slots) {
    if (!slot->busy.load()) continue;
    std::lock_guard<std::mutex> lock(slot->mu);
    current.push_back({{"id", slot->request_id},
                       {"age", static_cast<double>(now - slot->started_ms.load()) / 1000},
                       {"method", slot->method},
                       {"uri", slot->uri}});
  }
  // busy is the number of slots listed, not st.busy read apart from them: a
  // request starting or ending during the scan would give a count that the
  // list does not match (busy 1 with no current request was seen).
  const size_t busy = current.size();
  return {{"requests", st.requests.load()}, {"busy", busy}, {"threads", s.threads},
          {"current", current}, {"rss", rss_bytes()}};
}

// threads=0: run the WSGIImportScript preloads on one thread; the process exits
// when they return (mod_wsgi's service mode).
struct Service {
  std::atomic<unsigned long> ident{0};
  std::string group;
};
Service g_service;

void service_main(const WorkerSettings* s, WorkerState* st) {
  g_service.ident = static_cast<unsigned long>(pthread_self());
  std::string detail = "service scripts returned";
  for (const Preload& p : s->preload) {
    g_service.group = p.application_group;
    Status r = preload_script(p);
    if (!r) {
      detail = r.message();
      break;
    }
  }
  st->live_threads.fetch_sub(1);
  if (!st->stopping()) st->post({Event::Kind::kStop, "service-script-exited", detail, 0});
}

void interrupt_service() {
  unsigned long ident = g_service.ident.load();
  if (ident == 0) return;
  Result<Interp*> in = Interpreters::find(g_service.group);
  if (!in) return;
  InterpScope scope(*in);
  PyThreadState_SetAsyncExc(ident, PyExc_SystemExit);
}

// What startup() hands to the control loop.
struct Started {
  WorkerSettings* settings;
  WorkerState* state;
  int sig_fd;
};

// Startup, in order: arguments, signals blocked (every thread inherits the mask)
// and read through a signalfd, the settings handshake, title, limits, identity
// and environment, Python, the monitor, the preloads and the request threads (or
// the service thread), then READY. A failure after the handshake exits with
// kExiting "startup-failure", but a failed preload, which is only logged;
// *exit_code is set when run() must return at once.
bool startup(int argc, char** argv, Started* out, int* exit_code) {
  int control_fd = 3, listen_fd = 4;
  for (int i = 1; i < argc; ++i) {
    std::string_view a(argv[i]);
    if (a.substr(0, 13) == "--control-fd=") control_fd = std::atoi(argv[i] + 13);
    else if (a.substr(0, 12) == "--listen-fd=") listen_fd = std::atoi(argv[i] + 12);
    else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      *exit_code = 0;
      return false;
    } else {
      std::fprintf(stderr, "wsgid-worker: unknown argument '%s'\n%s", argv[i], kUsage);
      *exit_code = 2;
      return false;
    }
  }
  *exit_code = 1;
  // One malloc arena for every thread instead of glibc's one per thread (up to
  // eight per core): each arena keeps what a large body left in it, so after
  // 1 MiB uploads on all 4 threads a worker held 8.9 MiB more private memory
  // with glibc's default and 1.9-3.4 MiB more with one arena, at the same CPU
  // per request: Python allocates under the GIL anyway (docs/decisions.md 49).
  // A MALLOC_ARENA_MAX in the worker's environment still wins.
  if (!std::getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 1);
  proctitle_init(argc, argv);
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask = worker_signal_mask();
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);  // every thread inherits this mask
  int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  log::init("worker");
  if (sig_fd < 0) {
    log::error("{}", Status::sys("signalfd", "worker signals").message());
    return false;
  }

  Status s = g_control.open(control_fd);
  if (!s) {
    log::error("{}", s.message());
    return false;
  }
  Result<std::string> text = g_control.handshake(30000);
  if (!text) {
    log::error("{}", text.status().message());
    exit_with("startup-failure", text.status().message(), 1);
  }
  Result<WorkerSettings> parsed = parse_settings(*text);
  if (!parsed) exit_with("startup-failure", parsed.status().message(), 1);
  static WorkerSettings settings = std::move(parsed).value();
  log::init(fmt::format("worker {}", settings.name));
  log::Level level;
  if (log::parse_level(settings.log_level, &level)) log::set_level(level);

  s = set_proctitle(settings.effective_title());
  if (!s) log::warn("{}", s.message());
  if (!(s = apply_limits(settings))) exit_with("startup-failure", s.message(), 1);
  if (!(s = apply_identity(settings))) exit_with("startup-failure", s.message(), 1);
  if (!(s = apply_environment(settings))) exit_with("startup-failure", s.message(), 1);
  // A change of credentials clears both of these: set them again.
  prctl(PR_SET_DUMPABLE, 1);  // keep core dumps possible, as mod_wsgi does
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) {
    log::error("the master (pid {}) went away during startup: exiting", parent);
    _exit(1);
  }

  static WorkerState state(settings.threads);
  if (!(s = Interpreters::start(settings))) exit_with("startup-failure", s.message(), 1);
  if (!(s = start_monitor(settings, &state, &g_control))) exit_with("startup-failure", s.message(), 1);

  if (settings.threads > 0) {
    // As mod_wsgi's daemons: a preload that fails is logged with its traceback
    // and the process serves on; a request to the script loads it again
    // (wsgi_runtime.py's load_script), so a fixed cause heals at the next one.
    for (const Preload& p : settings.preload) {
      if (!(s = preload_script(p)))
        log::error("{}; serving anyway: each request to this script retries it", s.message());
    }
    if (!(s = start_request_threads(settings, &state, listen_fd))) exit_with("startup-failure", s.message(), 1);
  } else {
    state.live_threads.fetch_add(1);
    std::thread(service_main, &settings, &state).detach();
  }
  if (!(s = g_control.send(proto::FrameType::kReady, nlohmann::json::object())))
    log::warn("cannot send READY: {}", s.message());
  log::notice("ready: {} threads, generation {}, index {}", settings.threads, settings.generation, settings.index);
  *out = Started{&settings, &state, sig_fd};
  return true;
}

// The main thread after READY: serves the control channel, the signals (as
// Events, worker/signals.h) and the events other threads post, until the worker
// exits. Two things can be under way: a replacement request (sent once) and a
// stop (no new requests; exits when every thread is done or at the deadline,
// which a later, shorter stop may move closer).
class ControlLoop {
 public:
  explicit ControlLoop(const Started& st) : settings_(*st.settings), state_(*st.state), sig_fd_(st.sig_fd) {}

  [[noreturn]] void run() {
    for (;;) {
      if (stop_active_) check_stop();
      struct pollfd p[3] = {{g_control.fd(), POLLIN, 0}, {sig_fd_, POLLIN, 0}, {state_.events_fd(), POLLIN, 0}};
      int r = ::poll(p, 3, stop_active_ ? 20 : 1000);
      if (r < 0 && errno != EINTR) {
        log::error("{}", Status::sys("poll", "control channel").message());
        _exit(1);
      }
      if (p[0].revents) read_control();
      if (p[1].revents) read_signals();
      if (p[2].revents) {
        for (Event& e : state_.take_events()) handle(e);
      }
    }
  }

 private:
  void handle(const Event& e) {
    if (e.kind == Event::Kind::kReplaceMe) replace(e.reason, e.detail);
    else begin_stop(e.reason, e.detail, e.timeout);
  }

  void replace(const std::string& reason, const std::string& detail) {
    if (replace_sent_ || stop_active_) {
      log::info("replacement already requested; not asking again for {}", reason);
      return;
    }
    replace_sent_ = true;
    replace_reason_ = reason;
    log::notice("asking the master for a replacement: {}{}{}", reason, detail.empty() ? "" : ": ", detail);
    Status r = g_control.send(proto::FrameType::kReplaceMe, {{"reason", reason}});
    if (!r) log::warn("cannot send REPLACE_ME: {}", r.message());
  }

  void begin_stop(const std::string& reason, const std::string& detail, double timeout) {
    int64_t deadline = monotonic_ms() + static_cast<int64_t>(timeout * 1000);
    if (stop_active_) {
      if (deadline < stop_deadline_) stop_deadline_ = deadline;
      return;
    }
    stop_active_ = true;
    stop_reason_ = reason;
    stop_detail_ = detail;
    stop_deadline_ = deadline;
    log::notice("stopping ({}): no new requests; {} in flight, up to {} s to finish", reason, state_.busy.load(), timeout);
    state_.stop_accepting();
    if (settings_.threads == 0) interrupt_service();
  }

  // Exits when every thread is done, or when the time to finish ran out.
  void check_stop() {
    int64_t now = monotonic_ms();
    if (state_.live_threads.load() == 0 && state_.busy.load() == 0) {
      // mod_wsgi's process_stopping event (subscribe_shutdown): every request
      // is done, so no thread holds the GIL; a replacement's drain is named
      // after why the replacement was asked for.
      std::string why = stop_reason_ == "drained" && !replace_reason_.empty() ? replace_reason_ : stop_reason_;
      publish_process_stopping_everywhere(why);
      exit_with(stop_reason_, stop_detail_, 0);
    }
    if (now < stop_deadline_) return;
    int busy = state_.busy.load();
    bool stuck = false;
    for (auto& slot : state_.slots) stuck = stuck || (slot->busy.load() && slot->timed_out.load());
    std::string detail = fmt::format("{} request(s) still running when the time to finish ran out", busy);
    if (busy == 0 && state_.live_threads.load() > 0) detail = "the service script did not stop in time";
    if (stuck) state_.answer_timed_out("request-timeout: the request ran too long; its worker process exits");
    exit_with(stuck ? "request-timeout" : stop_reason_, detail, stuck ? 1 : 0);
  }

  void read_control() {
    for (;;) {
      proto::Frame f;
      FrameChannel::Read rr = g_control.channel().read(&f, 0);
      if (rr == FrameChannel::Read::kTimeout) return;
      if (rr == FrameChannel::Read::kEof) {
        log::notice("control channel closed by the master: exiting now");
        _exit(0);
      }
      if (rr != FrameChannel::Read::kFrame) {
        log::error("control channel: {}: exiting now", g_control.channel().error());
        _exit(1);
      }
      if (f.type == proto::FrameType::kStateQuery) {
        Status ss = g_control.send(proto::FrameType::kState, state_json(settings_, state_));
        if (!ss) log::warn("cannot send STATE: {}", ss.message());
      } else if (f.type == proto::FrameType::kDrain) {
        double timeout = settings_.graceful_timeout;
        nlohmann::json j = nlohmann::json::parse(f.payload, nullptr, false);
        if (j.is_object() && j.contains("timeout") && j["timeout"].is_number()) timeout = j["timeout"].get<double>();
        begin_stop("drained", "", timeout);
      } else if (f.type == proto::FrameType::kSettings) {
        log::notice("new settings received: they apply to this worker's replacement, not to it");
      } else {
        log::warn("control channel: ignoring unexpected {} frame", proto::type_name(f.type));
      }
    }
  }

  void read_signals() {
    struct signalfd_siginfo si;
    while (::read(sig_fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      int sig = static_cast<int>(si.ssi_signo);
      std::optional<Event> e = signal_event(sig, settings_.shutdown_timeout);
      if (e) handle(*e);
      else log::info("signal {} ignored", strsignal(sig));
    }
  }

  const WorkerSettings& settings_;
  WorkerState& state_;
  int sig_fd_;
  bool replace_sent_ = false;
  std::string replace_reason_;
  bool stop_active_ = false;
  std::string stop_reason_, stop_detail_;
  int64_t stop_deadline_ = 0;
};

int run(int argc, char** argv) {
  Started started{};
  int exit_code = 0;
  if (!startup(argc, argv, &started, &exit_code)) return exit_code;
  ControlLoop(started).run();
}

}  // namespace
}  // namespace wsgid::worker

int main(int argc, char** argv) { return wsgid::worker::run(argc, argv); }
