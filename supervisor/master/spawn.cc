#include "supervisor/master/spawn.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/log_writes.h"
#include "common/self_dir.h"
#include "protocol/messages.h"

namespace wsgid::master {
namespace {

constexpr size_t kMaxLine = 16 * 1024;  // longer output lines are split

double loop_seconds(uv_loop_t* loop) { return static_cast<double>(uv_now(loop)) / 1000.0; }

// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void child_exec(int* src, int n, int errfd, const char* path, char* const* argv) {
  setsid();
  // Move the error pipe and every source above the target range [0, n) so that
  // the dup2 calls below never overwrite a source still needed.
  if (errfd < n) errfd = fcntl(errfd, F_DUPFD_CLOEXEC, n);
  for (int i = 0; i < n; ++i) {
    if (src[i] < n) src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, n);
  }
  for (int i = 0; i < n; ++i) {
    if (src[i] < 0 || dup2(src[i], i) < 0) {
      int err = errno;
      (void)!write(errfd, &err, sizeof err);
      _exit(127);
    }
  }
  // Anything else inherited (ours are CLOEXEC already; our parent's may not be).
  syscall(SYS_close_range, static_cast<unsigned>(n), ~0u, CLOSE_RANGE_CLOEXEC);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &sa, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execv(path, argv);
  int err = errno;
  (void)!write(errfd, &err, sizeof err);
  _exit(127);
}

bool looks_like_log_line(std::string_view s) {
  // "2026-11-27 13:45:00" : lines the child formatted with common/log.h.
  if (s.size() < 19) return false;
  static constexpr const char* kShape = "dddd-dd-dd dd:dd:dd";
  for (size_t i = 0; i < 19; ++i) {
    char c = kShape[i];
    if (c == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != c) return false;
  }
  return true;
}

// The message of a line the child formatted with common/log.h ("STAMP [level]
// [role pid] message"); any other line as it is.
std::string_view log_message(std::string_view s) {
  if (!looks_like_log_line(s)) return s;
  size_t roles = s.find("] [");
  size_t end = roles == std::string_view::npos ? roles : s.find("] ", roles + 3);
  return end == std::string_view::npos ? s : s.substr(end + 2);
}

std::function<void(const std::string&, const std::string&)> g_tap;

void write_captured(const std::string& role, pid_t pid, std::string_view text, int out_fd) {
  std::string line;
  if (looks_like_log_line(text)) {
    line.assign(text);
  } else {
    line = fmt::format("{} [error] [{} {}] {}", log::timestamp(), role, pid, text);
  }
  if (g_tap) g_tap(role, line);
  line += '\n';
  log::write_text(out_fd >= 0 ? out_fd : log::fd(), line);
}

struct WriteReq {
  uv_write_t req;
  std::string data;
};

// Reaper state (one loop per master process).
uv_signal_t* g_sigchld = nullptr;
std::map<pid_t, Process*>* g_procs = nullptr;

}  // namespace

std::string describe_exit(const ExitInfo& info) {
  std::string s;
  int st = info.wait_status;
  if (WIFEXITED(st)) {
    s = fmt::format("exited with status {}", WEXITSTATUS(st));
  } else if (WIFSIGNALED(st)) {
    s = fmt::format("exited on signal {}{}", WTERMSIG(st), WCOREDUMP(st) ? " (core dumped)" : "");
  } else {
    s = fmt::format("exited with wait status {:#x}", st);
  }
  if (!info.reason.empty()) {
    s += ": ";
    s += info.reason;
    if (!info.detail.empty()) s += fmt::format(" ({})", info.detail);
  }
  return s;
}

std::string describe_failed_start(const ExitInfo& info) {
  ExitInfo plain = info;
  plain.reason.clear();
  std::string s = describe_exit(plain) + " during start-up";
  if (!info.reason.empty()) {
    s += ": " + info.reason;
    if (!info.detail.empty()) s += fmt::format(" ({})", info.detail);
  } else if (!info.last_line.empty()) {
    s += ": " + info.last_line;
  }
  return s;
}

Result<Process*> Process::start(uv_loop_t* loop, const SpawnSpec& spec, ProcessObserver* observer) {
  int sv[2], out[2], errp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return Status::sys("socketpair", spec.role);
  if (pipe2(out, O_CLOEXEC) < 0) {
    Status s = Status::sys("pipe2", spec.role);
    close(sv[0]);
    close(sv[1]);
    return s;
  }
  if (pipe2(errp, O_CLOEXEC) < 0) {
    Status s = Status::sys("pipe2", spec.role);
    close(sv[0]); close(sv[1]); close(out[0]); close(out[1]);
    return s;
  }
  int fdc[2] = {-1, -1};
  if (spec.fd_channel) {
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fdc) < 0) {
      Status s = Status::sys("socketpair", spec.role + " fd channel");
      close(sv[0]); close(sv[1]); close(out[0]); close(out[1]); close(errp[0]); close(errp[1]);
      return s;
    }
    // Queued now: the child finds it before the kSettings frame sent below.
    if (Status s = wsgid::send_fds(fdc[0], spec.role + " fd channel", spec.first_fds.text,
                            spec.first_fds.fds);
        !s)
      log::error("{}: {}", spec.role, s.message());
  }
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  std::vector<int> src = {devnull, out[1], out[1], sv[1]};
  for (int fd : spec.fds) src.push_back(fd);
  if (fdc[1] >= 0) src.push_back(fdc[1]);
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const char* path = spec.path.c_str();

  // Signals stay blocked across fork (as libuv does): a signal that reached the
  // child before it reset its handlers would run the master's handler there.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) child_exec(src.data(), static_cast<int>(src.size()), errp[1], path, argv.data());
  int fork_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(errp[1]);
  close(out[1]);
  close(sv[1]);
  if (fdc[1] >= 0) close(fdc[1]);
  if (devnull >= 0) close(devnull);
  if (pid < 0) {
    close(errp[0]); close(out[0]); close(sv[0]);
    if (fdc[0] >= 0) close(fdc[0]);
    // EAGAIN: a process limit (the cgroup's pids.max, or RLIMIT_NPROC for a
    // non-root master), not a fault of the child: its group backs off and
    // retries like a child that died in start-up.
    std::string m = Status::sys("fork", spec.role, fork_err).message();
    if (const char* name = strerrorname_np(fork_err)) m += fmt::format(" ({})", name);
    if (fork_err == EAGAIN)
      m += ": a process limit was reached (pids.max of the daemon's cgroup, or RLIMIT_NPROC)";
    return Status::error(m);
  }
  int child_err = 0;
  ssize_t r;
  do {
    r = read(errp[0], &child_err, sizeof child_err);
  } while (r < 0 && errno == EINTR);
  close(errp[0]);
  if (r == static_cast<ssize_t>(sizeof child_err)) {
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    close(out[0]);
    close(sv[0]);
    if (fdc[0] >= 0) close(fdc[0]);
    return Status::sys("execv", spec.path, child_err);
  }

  auto* p = new Process();
  p->loop_ = loop;
  p->observer_ = observer;
  p->pid_ = pid;
  p->role_ = spec.role;
  p->output_fd_ = spec.output_fd;
  p->fd_channel_ = fdc[0];
  p->started_at_ = loop_seconds(loop);
  uv_pipe_init(loop, &p->control_, 0);
  uv_pipe_init(loop, &p->output_, 0);
  uv_timer_init(loop, &p->kill_timer_);
  p->control_.data = p;
  p->output_.data = p;
  p->kill_timer_.data = p;
  p->open_handles_ = 3;
  int e1 = uv_pipe_open(&p->control_, sv[0]);
  int e2 = uv_pipe_open(&p->output_, out[0]);
  if (e1 == 0) {
    p->control_open_ = true;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&p->control_), on_alloc, on_control_read);
  } else {
    close(sv[0]);
  }
  if (e2 == 0) {
    p->output_open_ = true;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&p->output_), on_alloc, on_output_read);
  } else {
    close(out[0]);
  }
  Reaper::add(p);
  std::string first;
  proto::append_hello(&first);
  proto::append_frame(&first, proto::FrameType::kSettings, 0, spec.settings);
  p->send_raw(std::move(first));
  return p;
}

void Process::send(proto::FrameType type, std::string_view payload) {
  std::string data;
  proto::append_frame(&data, type, 0, payload);
  send_raw(std::move(data));
}

Status Process::send_fds(std::string_view text, const std::vector<int>& fds) {
  if (fd_channel_ < 0) return Status::error(role_ + ": no descriptor channel");
  if (exited_) return Status::error(role_ + ": exited");
  return wsgid::send_fds(fd_channel_, role_ + " fd channel", text, fds);
}

void Process::send_raw(std::string data) {
  if (!control_open_) return;
  auto* w = new WriteReq();
  w->data = std::move(data);
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int e = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&control_), &buf, 1,
                   [](uv_write_t* req, int) { delete static_cast<WriteReq*>(req->data); });
  if (e != 0) delete w;
}

void Process::signal(int signum) {
  if (exited_ || pid_ <= 0) return;
  if (signum == SIGKILL) {
    if (::kill(-pid_, SIGKILL) == 0) return;
  }
  ::kill(pid_, signum);
}

void Process::kill_after(double seconds) {
  if (exited_) return;
  uint64_t ms = seconds <= 0 ? 0 : static_cast<uint64_t>(seconds * 1000.0);
  uv_timer_start(&kill_timer_, on_kill_timer, ms, 0);
}

void Process::drain(double graceful, double shutdown, bool handover, double delay) {
  stopping_ = true;
  nlohmann::json j = {{"timeout", graceful}};
  if (handover) j["handover"] = true;
  if (delay > 0) j["delay"] = delay;
  send(proto::FrameType::kDrain, j.dump());
  kill_after(delay + graceful + shutdown + 1.0);
}

void Process::terminate(double shutdown) {
  stopping_ = true;
  signal(SIGTERM);
  kill_after(shutdown + 1.0);
}

void Process::on_kill_timer(uv_timer_t* t) {
  auto* p = static_cast<Process*>(t->data);
  if (p->exited_) return;
  log::warn("{} pid {} did not exit in time; sending SIGKILL", p->role_, p->pid_);
  p->signal(SIGKILL);
}

void Process::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* p = static_cast<Process*>(h->data);
  *buf = uv_buf_init(p->read_buf_, sizeof p->read_buf_);
}

void Process::on_control_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* p = static_cast<Process*>(s->data);
  if (n > 0) {
    p->handle_control_bytes(buf->base, static_cast<size_t>(n));
  } else if (n < 0) {
    // EOF or error: the child closed its end (it is exiting).
    if (p->control_open_) {
      p->control_open_ = false;
      p->close_handle(reinterpret_cast<uv_handle_t*>(&p->control_));
    }
    p->maybe_finish();
  }
}

void Process::on_output_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* p = static_cast<Process*>(s->data);
  if (n > 0) {
    p->handle_output_bytes(buf->base, static_cast<size_t>(n), false);
  } else if (n < 0) {
    p->handle_output_bytes(nullptr, 0, true);
    if (p->output_open_) {
      p->output_open_ = false;
      p->close_handle(reinterpret_cast<uv_handle_t*>(&p->output_));
    }
    p->maybe_finish();
  }
}

void Process::handle_control_bytes(const char* data, size_t n) {
  reader_.feed(data, n);
  proto::Frame f;
  for (;;) {
    auto r = reader_.next(&f);
    if (r == proto::FrameReader::Result::kNeedMore) return;
    if (r == proto::FrameReader::Result::kError) {
      log::error("{} pid {}: control channel: {}; killing it", role_, pid_, reader_.error());
      signal(SIGKILL);
      if (control_open_) {
        control_open_ = false;
        close_handle(reinterpret_cast<uv_handle_t*>(&control_));
      }
      return;
    }
    if (!hello_seen_) {
      if (f.type != proto::FrameType::kHello) {
        log::error("{} pid {}: control channel: first frame is {}, not HELLO; killing it", role_,
                   pid_, proto::type_name(f.type));
        signal(SIGKILL);
        return;
      }
      auto v = proto::decode_hello(f.payload);
      if (!v.is_ok()) {
        log::error("{} pid {}: control channel: {}; killing it", role_, pid_, v.status().message());
        signal(SIGKILL);
        return;
      }
      hello_seen_ = true;
      continue;
    }
    if (f.type == proto::FrameType::kExiting) {
      auto j = nlohmann::json::parse(f.payload, nullptr, false);
      if (j.is_object()) {
        if (j.contains("reason") && j["reason"].is_string()) exit_reason_ = j["reason"];
        if (j.contains("detail") && j["detail"].is_string()) exit_detail_ = j["detail"];
      }
      continue;
    }
    if (f.type == proto::FrameType::kReady) ready_ = true;
    if (observer_ && !finished_) observer_->on_frame(this, f);
    if (destroying_) return;
  }
}

void Process::handle_output_bytes(const char* data, size_t n, bool flush) {
  if (n > 0) line_buf_.append(data, n);
  size_t start = 0;
  for (;;) {
    size_t nl = line_buf_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(line_buf_.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    note_line(line);
    write_captured(role_, pid_, line, output_fd_);
    start = nl + 1;
  }
  line_buf_.erase(0, start);
  while (line_buf_.size() >= kMaxLine) {
    write_captured(role_, pid_, std::string_view(line_buf_).substr(0, kMaxLine), output_fd_);
    line_buf_.erase(0, kMaxLine);
  }
  if (flush && !line_buf_.empty()) {
    note_line(line_buf_);
    write_captured(role_, pid_, line_buf_, output_fd_);
    line_buf_.clear();
  }
}

void Process::note_line(std::string_view line) {
  std::string_view m = log_message(line);
  if (m.find_first_not_of(" \t") == std::string_view::npos) return;
  last_line_.assign(m.substr(0, 400));
}

// Reads what is left in a pipe right now (the child is dead: everything it wrote
// is in the kernel buffer), then closes the handle.
void Process::drain_fd(uv_pipe_t* pipe, bool control) {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(pipe), &fd) == 0) {
    for (int rounds = 0; rounds < 64; ++rounds) {
      ssize_t n = ::read(fd, read_buf_, sizeof read_buf_);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (control) {
        handle_control_bytes(read_buf_, static_cast<size_t>(n));
        if (!control_open_) return;  // closed on a protocol error
      } else {
        handle_output_bytes(read_buf_, static_cast<size_t>(n), false);
      }
    }
  }
  if (!control) handle_output_bytes(nullptr, 0, true);
  if (control) {
    control_open_ = false;
  } else {
    output_open_ = false;
  }
  close_handle(reinterpret_cast<uv_handle_t*>(pipe));
}

void Process::on_wait_status(int status) {
  exited_ = true;
  wait_status_ = status;
  uv_timer_stop(&kill_timer_);
  if (control_open_) drain_fd(&control_, true);
  if (output_open_) drain_fd(&output_, false);
  maybe_finish();
}

void Process::maybe_finish() {
  if (!exited_ || finished_ || destroying_) return;
  finished_ = true;
  if (control_open_) {
    control_open_ = false;
    close_handle(reinterpret_cast<uv_handle_t*>(&control_));
  }
  if (output_open_) {
    output_open_ = false;
    close_handle(reinterpret_cast<uv_handle_t*>(&output_));
  }
  ExitInfo info;
  info.wait_status = wait_status_;
  info.reason = exit_reason_;
  info.detail = exit_detail_;
  info.uptime = loop_seconds(loop_) - started_at_;
  info.ready = ready_;
  info.last_line = last_line_;
  if (observer_) observer_->on_exit(this, info);
}

void Process::close_handle(uv_handle_t* h) {
  if (uv_is_closing(h)) return;
  uv_close(h, on_closed);
}

void Process::on_closed(uv_handle_t* h) {
  auto* p = static_cast<Process*>(h->data);
  if (--p->open_handles_ == 0 && p->destroying_) delete p;
}

void Process::destroy() {
  destroying_ = true;
  observer_ = nullptr;
  if (!exited_) Reaper::remove(this);
  if (fd_channel_ >= 0) {
    close(fd_channel_);
    fd_channel_ = -1;
  }
  if (control_open_) {
    control_open_ = false;
    close_handle(reinterpret_cast<uv_handle_t*>(&control_));
  }
  if (output_open_) {
    output_open_ = false;
    close_handle(reinterpret_cast<uv_handle_t*>(&output_));
  }
  close_handle(reinterpret_cast<uv_handle_t*>(&kill_timer_));
  // Handles not yet closed by now were closed earlier; count what remains.
  if (open_handles_ == 0) delete this;
}

// --- Reaper ---

Status Reaper::install(uv_loop_t* loop) {
  if (g_sigchld) return Status::ok();
  g_procs = new std::map<pid_t, Process*>();
  g_sigchld = new uv_signal_t;
  uv_signal_init(loop, g_sigchld);
  int e = uv_signal_start(g_sigchld, [](uv_signal_t*, int) { reap(); }, SIGCHLD);
  if (e != 0) return Status::error(fmt::format("uv_signal_start(SIGCHLD): {}", uv_strerror(e)));
  return Status::ok();
}

void Reaper::uninstall() {
  if (!g_sigchld) return;
  uv_signal_stop(g_sigchld);
  uv_close(reinterpret_cast<uv_handle_t*>(g_sigchld),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_signal_t*>(h); });
  g_sigchld = nullptr;
  delete g_procs;
  g_procs = nullptr;
}

void Reaper::add(Process* p) {
  if (g_procs) (*g_procs)[p->pid()] = p;
}

void Reaper::remove(Process* p) {
  if (!g_procs) return;
  auto it = g_procs->find(p->pid());
  if (it != g_procs->end() && it->second == p) it->second = nullptr;  // reaped silently
}

void Reaper::reap() {
  for (int i = 0; i < 4096; ++i) {
    int st = 0;
    pid_t pid = waitpid(-1, &st, WNOHANG);
    if (pid <= 0) return;
    if (!g_procs) continue;
    auto it = g_procs->find(pid);
    if (it == g_procs->end()) continue;
    Process* p = it->second;
    g_procs->erase(it);
    if (p) p->on_wait_status(st);
  }
}

size_t Reaper::live() { return g_procs ? g_procs->size() : 0; }

void set_output_tap(std::function<void(const std::string&, const std::string&)> tap) {
  g_tap = std::move(tap);
}

void defer(uv_loop_t* loop, std::function<void()> fn) {
  auto* t = new uv_timer_t;
  uv_timer_init(loop, t);
  t->data = new std::function<void()>(std::move(fn));
  uv_timer_start(t, [](uv_timer_t* h) {
    auto* f = static_cast<std::function<void()>*>(h->data);
    (*f)();
    delete f;
    uv_close(reinterpret_cast<uv_handle_t*>(h),
             [](uv_handle_t* x) { delete reinterpret_cast<uv_timer_t*>(x); });
  }, 0, 0);
}

std::string find_program(const char* env_name, const std::vector<std::string>& candidates) {
  if (const char* e = getenv(env_name); e && *e) return access(e, X_OK) == 0 ? e : "";
  std::string dir = self_dir();
  if (dir.empty()) return "";
  for (const std::string& c : candidates) {
    std::string p = c.starts_with('/') ? c : dir + "/" + c;
    struct stat st;
    if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0) {
      char buf[PATH_MAX];
      return realpath(p.c_str(), buf) ? std::string(buf) : p;
    }
  }
  return "";
}

}  // namespace wsgid::master
