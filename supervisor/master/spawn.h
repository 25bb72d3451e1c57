// Process: one exec'd child of the master with its control channel and captured
// output; Reaper: the SIGCHLD watcher that collects every child's wait status.
//
// Process::start() forks and execs spec.path with the process contract of
// protocol/PROTOCOL.md 7.1:
// fd 0 = /dev/null, fds 1 and 2 = a pipe the master reads (each line is logged with
// the child's role and pid), fd 3 = the child's end of an AF_UNIX SOCK_STREAM
// socketpair (the control channel), fds 4.. = spec.fds in order (a worker's group
// socket, the front end's Listen sockets), then, with spec.fd_channel, one end of
// an AF_UNIX SOCK_SEQPACKET socketpair for descriptors (the front end's log files,
// common/fd_passing.h), on which spec.first_fds is queued before the child
// starts. The child runs in its own session
// (setsid, as UV_PROCESS_DETACHED), with every signal disposition reset to default
// and an empty signal mask; it sets PR_SET_PDEATHSIG itself after exec. Between
// fork and exec only async-signal-safe calls run; an exec failure is reported
// through a CLOEXEC pipe, so start() fails synchronously with "execv(PATH): ...".
//
// Why not uv_spawn: libuv reaps the child itself and reports only the exit code
// and signal number, and the issue requires logging core dumps ("exited on signal
// 11 (core dumped)"), which needs the raw wait status. The fork code follows
// libuv's uv__process_child_init (fds first moved above the target range, then
// dup2'd into place).
//
// The master sends kHello and kSettings (spec.settings) at once. Frames from the
// child go to the observer after its kHello was checked; a bad hello or a
// malformed frame is logged and the child is SIGKILLed. When the child exits,
// the Process first drains whatever the child wrote on its control channel and
// its output pipe (so a kExiting just before death is never lost), then calls
// ProcessObserver::on_exit exactly once. After that the owner calls destroy().
//
// Loop thread only. The Reaper must be installed (Reaper::install) before the
// first start() and outlives every Process.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd_passing.h"
#include "common/status.h"
#include "protocol/frame.h"

namespace wsgid::master {

struct SpawnSpec {
  std::string path;               // absolute path of the executable
  std::vector<std::string> argv;  // argv[0] first
  std::vector<int> fds;           // fds[i] becomes the child's fd 4 + i
  std::string settings;           // JSON text of the kSettings frame
  std::string role;               // "worker site1", "frontend": prefix of captured lines
  // Where captured output lines are written: -1 = the master's log (log::fd());
  // else an fd the caller keeps open as long as the process runs (a vhost's
  // ErrorLog for a group declared inside that <VirtualHost>).
  int output_fd = -1;
  // A descriptor channel as the child's fd 4 + fds.size() (the front end's
  // --log-fd); first_fds is sent on it at once (its fds stay the caller's).
  bool fd_channel = false;
  FdMessage first_fds;
};

// How a process ended.
struct ExitInfo {
  int wait_status = 0;      // as from waitpid()
  std::string reason;       // from kExiting, "" when none came
  std::string detail;       // from kExiting
  double uptime = 0;        // seconds since start
  bool ready = false;       // it had sent kReady
  // The last non-blank line it wrote on its output, without the log prefix
  // ("2026-12-04 21:50:00.123 [error] [worker site1 4711] "), at most 400 bytes.
  std::string last_line;
};

// "exited with status 1", "exited on signal 11 (core dumped)", then
// ": maximum-requests (detail)" when the child announced a reason.
std::string describe_exit(const ExitInfo& info);
// A process that died before kReady: "exited with status 3 during start-up: " and
// the announced reason (as describe_exit), else its last output line:
// "exited on signal 11 during start-up: Fatal Python error: ...".
std::string describe_failed_start(const ExitInfo& info);

class Process;

class ProcessObserver {
 public:
  virtual ~ProcessObserver() = default;
  // A frame after the child's kHello (kReady, kState, kReplaceMe, kLog ...;
  // kExiting is consumed by Process and reported in ExitInfo).
  virtual void on_frame(Process* p, const proto::Frame& frame) = 0;
  // Once, after the exit status and the child's last frames and output.
  virtual void on_exit(Process* p, const ExitInfo& info) = 0;
};

class Process {
 public:
  // Forks and execs; on success the observer gets events until destroy().
  static Result<Process*> start(uv_loop_t* loop, const SpawnSpec& spec,
                                ProcessObserver* observer);
  // Closes the handles and frees the Process once libuv is done with them. Only
  // after on_exit, or for a live process after kill(SIGKILL) when the owner no
  // longer cares (the Reaper still reaps it).
  void destroy();

  pid_t pid() const { return pid_; }
  bool exited() const { return exited_; }
  bool ready() const { return ready_; }
  double started_at() const { return started_at_; }  // seconds, loop clock
  const std::string& role() const { return role_; }

  // Queues one frame on the control channel (dropped after the channel closed).
  void send(proto::FrameType type, std::string_view payload);
  // Sends text and fds on the descriptor channel (SpawnSpec::fd_channel) at once,
  // before any frame queued after this call. Errors: no channel, the child's
  // exit, or send_fds()'s (a child that stopped reading).
  Status send_fds(std::string_view text, const std::vector<int>& fds);
  // Sends a signal to the process (SIGKILL goes to its whole process group);
  // does nothing once it has exited.
  void signal(int signum);
  // Arms (or re-arms) a timer that SIGKILLs the process after `seconds`.
  void kill_after(double seconds);
  // kDrain{"timeout": graceful} and SIGKILL past delay + graceful + shutdown + 1 s.
  // handover: a successor took this process's place (a rolling replacement);
  // sent as "handover": true in kDrain (the front end then keeps its idle
  // keep-alive connections for their next request instead of closing them).
  // delay: sent as "delay" (the front end's WSGIDrainDelay: it keeps serving,
  // not ready, that long before it drains).
  void drain(double graceful, double shutdown, bool handover = false, double delay = 0);
  // SIGTERM and SIGKILL past shutdown + 1 s.
  void terminate(double shutdown);
  bool stopping() const { return stopping_; }

  void set_observer(ProcessObserver* o) { observer_ = o; }
  void mark_ready() { ready_ = true; }

 private:
  friend class Reaper;
  Process() = default;
  void send_raw(std::string data);
  void on_wait_status(int status);
  void drain_fd(uv_pipe_t* pipe, bool control);
  void handle_control_bytes(const char* data, size_t n);
  void handle_output_bytes(const char* data, size_t n, bool flush);
  void note_line(std::string_view line);  // keeps last_line_
  void maybe_finish();
  void close_handle(uv_handle_t* h);
  static void on_control_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  static void on_output_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_closed(uv_handle_t* h);
  static void on_kill_timer(uv_timer_t* t);

  uv_loop_t* loop_ = nullptr;
  ProcessObserver* observer_ = nullptr;
  pid_t pid_ = 0;
  std::string role_;
  double started_at_ = 0;
  uv_pipe_t control_{};
  uv_pipe_t output_{};
  uv_timer_t kill_timer_{};
  bool control_open_ = false, output_open_ = false;
  int open_handles_ = 0;
  bool destroying_ = false;
  bool exited_ = false;
  bool finished_ = false;  // on_exit delivered
  bool hello_seen_ = false;
  bool ready_ = false;
  bool stopping_ = false;
  int wait_status_ = 0;
  proto::FrameReader reader_;
  std::string line_buf_;
  std::string last_line_;  // ExitInfo::last_line
  int output_fd_ = -1;  // SpawnSpec::output_fd
  int fd_channel_ = -1;  // the master's end of SpawnSpec::fd_channel
  std::string exit_reason_, exit_detail_;
  char read_buf_[65536];
};

// Collects wait statuses on SIGCHLD for every Process of this loop.
class Reaper {
 public:
  // Starts the SIGCHLD watcher. The handle is closed by uninstall().
  static Status install(uv_loop_t* loop);
  static void uninstall();
  static void add(Process* p);
  static void remove(Process* p);
  // Reaps now (also called from the SIGCHLD callback).
  static void reap();
  static size_t live();  // processes not reaped yet
};

// Every captured output line (as written to the log) is also passed to the tap,
// with the child's role ("worker site1", "frontend"); for `wsgictl tail`.
void set_output_tap(std::function<void(const std::string& role, const std::string& line)> tap);

// Runs fn on a later turn of the loop (to destroy objects whose callbacks may be
// on the stack now).
void defer(uv_loop_t* loop, std::function<void()> fn);

// Finds a sibling program: $ENV_NAME when set (a path; "none" or a path that is
// not executable = no program), else the first executable candidate: an
// absolute one as it is, a relative one as DIR/candidate with DIR = self_dir()
// (common/self_dir.h);
// "" when none exists.
std::string find_program(const char* env_name, const std::vector<std::string>& candidates);

}  // namespace wsgid::master
