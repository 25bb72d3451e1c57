// Loops: the front end's event loops (WSGIFrontendLoops, docs/decisions.md 52).
//
// Loop 0 is the process's main loop: its Server holds the listeners, the
// control channel, the signals and, when the configuration runs Python in the
// front end, the Python part (that configuration runs one loop). Loops 1..N-1
// are threads, each running its own libuv loop and its own Server: its client
// connections, its pools of worker connections, its timers, its access-log
// buffers and its counters. Loop 0 accepts every connection and hands it, as a
// descriptor, to the loop with the fewest connections (itself included), so
// the listeners, their drain and socket activation are exactly those of one
// loop: one accept queue, nothing reset when the front end stops.
//
// What crosses loops goes through this object: post() runs a function on
// another loop's thread (FIFO per loop: settings, log descriptors, the status
// report, the stop, handed-over connections), and on_others() runs one on
// every other loop and waits for all of them (the pages, `wsgictl status`,
// HAProxy's agent: their figures are the sum over loops). A group's capacity
// is shared through its GroupGate (upstream.h). Threads: post() and
// on_others() from any loop's thread; the rest from loop 0's.
#pragma once

#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"
#include "model/config.h"
#include "supervisor/frontend/settings.h"
#include "supervisor/tls/tls_part.h"

namespace wsgid::frontend {

class Server;

class Loops {
 public:
  using Task = std::function<void(Server&)>;

  // first: loop 0's Server, on the calling thread's loop.
  explicit Loops(Server* first);
  // close(): stops and joins the threads (their Servers shut down).
  ~Loops();
  Loops(const Loops&) = delete;
  Loops& operator=(const Loops&) = delete;

  // Starts count - 1 threads, each running setup() (made on this thread for
  // it; may be empty), then applying settings (with loop 0's TLS contexts)
  // before it serves. Errors: "pthread_create(front-end loop 2): ...".
  Status start(int count, const Settings& settings, std::shared_ptr<const tls::Contexts> tls,
               const std::function<Task()>& setup);
  int count() const { return static_cast<int>(loops_.size()); }

  // Stops the threads (their Servers shut down) and joins them; posts are
  // dropped from then on. Loop 0's thread; the destructor calls it.
  void close();

  // Runs task on loop i's thread soon. Any thread.
  void post(int i, Task task);
  // post() to every loop but 0.
  void post_others(const std::function<Task()>& make);
  // Runs task on every loop but `caller` (the calling thread's) and returns
  // when all have run it; meanwhile the caller runs what others ask of it the
  // same way, so two loops asking at once never wait for each other.
  void on_others(int caller, const Task& task);

  // The loop a new connection goes to: the fewest open (or being handed over).
  int pick();
  // Loop i's Server adopted a handed-over connection (pick() counted it).
  void adopted(int i) { loops_[static_cast<size_t>(i)]->handing.fetch_sub(1, std::memory_order_relaxed); }
  // Loop i's count of client connections.
  void set_connections(int i, size_t n) {
    loops_[static_cast<size_t>(i)]->connections.store(n, std::memory_order_relaxed);
  }
  size_t total_connections() const;

 private:
  struct SyncTask {
    const Task* task;
    int remaining;
  };
  struct Loop {
    Loops* owner = nullptr;
    int index = 0;
    uv_loop_t* uv = nullptr;  // loop 0: the main loop; others: own_uv
    uv_loop_t own_uv;
    Server* server = nullptr;
    uv_async_t* async = nullptr;  // freed by its close callback; sent to under mu_
    std::vector<Task> inbox;            // guarded by mu_
    std::vector<SyncTask*> sync_inbox;  // guarded by mu_
    std::atomic<size_t> connections{0};
    std::atomic<size_t> handing{0};
    std::thread thread;
    bool closing = false;  // guarded by mu_: no more posts
  };
  void run(Loop* l, const Settings* settings, std::shared_ptr<const tls::Contexts> tls, Task setup);
  // The loop's async handle, on its thread.
  void open_async(Loop* l);
  static void close_async(Loop* l);
  void drain_inbox(Loop* l);
  // Runs the SyncTasks in l's sync inbox; lock held on entry and exit.
  void serve_sync(Loop* l, std::unique_lock<std::mutex>& lock);

  std::vector<std::unique_ptr<Loop>> loops_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t next_ = 0;  // round robin among equals (loop 0's thread)
};

}  // namespace wsgid::frontend
