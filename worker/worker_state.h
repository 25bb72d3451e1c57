// WorkerState: what the threads of one worker share: counters for kState, one
// slot per request thread (its current request, for kState and request-timeout),
// the stop flag with its wake fd, and the event queue through which request and
// monitor threads ask the main (control) thread to act.
//
// One instance, created by worker_main before any thread starts and alive until
// _exit. Atomics and a mutex make every member safe from any thread; nothing
// here touches Python.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "worker/descriptor_reserve.h"

namespace wsgid::worker {

struct ThreadSlot {
  std::atomic<bool> busy{false};
  std::atomic<int64_t> started_ms{0};   // CLOCK_MONOTONIC ms when the request began
  std::atomic<bool> timed_out{false};   // request-timeout already fired for this request
  std::atomic<unsigned long> py_ident{0};  // PyThread ident, for stack dumps
  std::atomic<int> conn_fd{-1};         // the front-end connection of the request in flight
  std::mutex mu;                        // guards the strings
  uint32_t request_id = 0;
  std::string method;
  std::string uri;
};

// Requests from other threads to the main thread.
struct Event {
  enum class Kind { kReplaceMe, kStop } kind;
  std::string reason;   // kReplaceMe reason, or kExiting reason for kStop
  std::string detail;
  double timeout = 0;   // kStop: seconds to let in-flight requests finish
};

class WorkerState {
 public:
  explicit WorkerState(int threads);

  std::vector<std::unique_ptr<ThreadSlot>> slots;
  std::atomic<uint64_t> requests{0};
  std::atomic<int> busy{0};
  std::atomic<int> live_threads{0};
  std::atomic<int64_t> last_activity_ms;
  std::atomic<int64_t> last_gil_ms;
  DescriptorReserve descriptor_reserve;  // for accept4() at EMFILE
  int64_t start_ms;

  // Stop accepting: idle threads wake (wake_fd turns readable for good) and exit.
  void stop_accepting();

  // One idle thread at a time waits in poll()/accept4() on the group socket (the
  // others wait here), so a new connection wakes one thread of this process, not
  // all of them (mod_wsgi's idle-thread stack has the same aim). False: stopping.
  bool take_accept_turn();
  void end_accept_turn();
  bool stopping() const { return stopping_.load(); }
  // Just before the process exits because of what one of its requests did,
  // answers the requests the death is attributed to with kError(code, message)
  // on their connections, without blocking, so that the front end does not send
  // them to another worker (protocol/PROTOCOL.md 5.3); the others in flight die
  // unattributed and may be sent again. request-timeout: the timed-out ones.
  // deadlock-timeout (gil_since_ms = when the GIL was last seen free): the one
  // request that started before then, when only one did (a request that started
  // later never held the GIL); with several, none. Best effort: a request whose
  // thread is writing at that moment may get its frame cut, which the front end
  // treats as an unattributed death.
  void answer_timed_out(const std::string& message);
  void answer_gil_holder(int64_t gil_since_ms, const std::string& message);
  int wake_fd() const { return wake_fd_; }

  // Queues an event for the main thread and makes events_fd() readable.
  void post(Event e);
  // Takes every queued event (main thread).
  std::deque<Event> take_events();
  int events_fd() const { return events_fd_; }

 private:
  std::atomic<bool> stopping_{false};
  int wake_fd_ = -1;
  int events_fd_ = -1;
  std::mutex mu_;
  std::deque<Event> events_;
  std::mutex accept_mu_;
  std::condition_variable accept_cv_;
  bool accept_taken_ = false;
};

}  // namespace wsgid::worker
