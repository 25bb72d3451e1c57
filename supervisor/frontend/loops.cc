#include "supervisor/frontend/loops.h"

#include <pthread.h>
#include <signal.h>

#include <fmt/core.h>

#include <system_error>

#include "common/log.h"
#include "supervisor/frontend/server.h"

namespace wsgid::frontend {

Loops::Loops(Server* first) {
  auto l = std::make_unique<Loop>();
  l->owner = this;
  l->uv = first->loop();
  l->server = first;
  open_async(l.get());
  loops_.push_back(std::move(l));
}

void Loops::open_async(Loop* l) {
  l->async = new uv_async_t;
  uv_async_init(l->uv, l->async, [](uv_async_t* a) {
    auto* loop = static_cast<Loop*>(a->data);
    loop->owner->drain_inbox(loop);
  });
  l->async->data = l;
}

void Loops::close_async(Loop* l) {
  uv_close(reinterpret_cast<uv_handle_t*>(l->async),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
}

Loops::~Loops() { close(); }

Status Loops::start(int count, const Settings& settings, std::shared_ptr<const tls::Contexts> tls,
                    const std::function<Task()>& setup) {
  if (count <= 1 || loops_.size() > 1) return Status::ok();
  for (int i = 1; i < count; ++i) {
    auto l = std::make_unique<Loop>();
    l->owner = this;
    l->index = i;
    loops_.push_back(std::move(l));
  }
  // The threads take no signal: libuv's handlers and the control channel are
  // loop 0's, as with one loop.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  Status st = Status::ok();
  size_t started = 1;
  for (; started < loops_.size(); ++started) {
    Loop* l = loops_[started].get();
    try {
      l->thread = std::thread(&Loops::run, this, l, &settings, tls, setup ? setup() : Task());
    } catch (const std::system_error& e) {
      st = Status::error(fmt::format("pthread_create(front-end loop {}): {}", l->index + 1, e.what()));
      break;
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  {
    // Each thread has its loop, its async handle and its Server (settings
    // applied: run() copied them) before anything is posted to it.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] {
      for (size_t i = 1; i < started; ++i)
        if (!loops_[i]->server) return false;
      return true;
    });
  }
  if (!st) {
    // Those that started stop again; the front end runs with none of them.
    loops_.resize(started);
    close();
    loops_.resize(1);
  }
  return st;
}

void Loops::run(Loop* l, const Settings* settings, std::shared_ptr<const tls::Contexts> tls,
                Task setup) {
  pthread_setname_np(pthread_self(), fmt::format("wsgid: loop {}", l->index + 1).c_str());
  uv_loop_init(&l->own_uv);
  l->uv = &l->own_uv;
  {
    Server server(l->uv);
    server.join_loops(this, l->index);
    open_async(l);
    if (setup) setup(server);
    server.apply_shared(*settings, std::move(tls));
    {
      std::lock_guard<std::mutex> lock(mu_);
      l->server = &server;  // start() returns: settings may go now
    }
    cv_.notify_all();
    uv_run(l->uv, UV_RUN_DEFAULT);
  }
  uv_loop_close(l->uv);
}

void Loops::close() {
  std::vector<Loop*> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& l : loops_) {
      if (l->closing) continue;
      l->closing = true;
      // Whoever waits in on_others() for this loop waits no more.
      for (SyncTask* t : l->sync_inbox) --t->remaining;
      l->sync_inbox.clear();
      if (l->index > 0 && l->thread.joinable()) threads.push_back(l.get());
    }
  }
  cv_.notify_all();
  for (Loop* l : threads) {
    // Its last task: shut its Server down and let its loop end.
    std::lock_guard<std::mutex> lock(mu_);
    l->inbox.push_back([l](Server& s) {
      s.shutdown();
      close_async(l);
    });
    uv_async_send(l->async);
  }
  for (Loop* l : threads) l->thread.join();
  if (!loops_.empty() && loops_[0]->async) {
    close_async(loops_[0].get());
    loops_[0]->async = nullptr;
  }
}

void Loops::post(int i, Task task) {
  Loop* l = loops_[static_cast<size_t>(i)].get();
  std::lock_guard<std::mutex> lock(mu_);  // held: close() cannot free the handle meanwhile
  if (l->closing) return;
  l->inbox.push_back(std::move(task));
  uv_async_send(l->async);
}

void Loops::post_others(const std::function<Task()>& make) {
  for (int i = 1; i < count(); ++i) post(i, make());
}

void Loops::drain_inbox(Loop* l) {
  std::unique_lock<std::mutex> lock(mu_);
  serve_sync(l, lock);
  std::vector<Task> tasks;
  tasks.swap(l->inbox);
  lock.unlock();
  for (Task& t : tasks) t(*l->server);
}

void Loops::serve_sync(Loop* l, std::unique_lock<std::mutex>& lock) {
  while (!l->sync_inbox.empty()) {
    std::vector<SyncTask*> tasks;
    tasks.swap(l->sync_inbox);
    lock.unlock();
    for (SyncTask* t : tasks) (*t->task)(*l->server);
    lock.lock();
    for (SyncTask* t : tasks) --t->remaining;
    cv_.notify_all();
  }
}

void Loops::on_others(int caller, const Task& task) {
  if (loops_.size() < 2) return;
  SyncTask t{&task, 0};
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& l : loops_) {
    if (l->index == caller || l->closing) continue;
    l->sync_inbox.push_back(&t);
    ++t.remaining;
    uv_async_send(l->async);
  }
  cv_.notify_all();  // a loop waiting in its own on_others() serves ours meanwhile
  Loop* me = loops_[static_cast<size_t>(caller)].get();
  while (t.remaining > 0) {
    if (!me->sync_inbox.empty()) {
      serve_sync(me, lock);
      continue;
    }
    cv_.wait(lock);
  }
}

int Loops::pick() {
  size_t n = loops_.size(), best = 0, best_load = SIZE_MAX;
  for (size_t k = 0; k < n; ++k) {
    size_t i = (next_ + k) % n;
    size_t load = loops_[i]->connections.load(std::memory_order_relaxed) +
                  loops_[i]->handing.load(std::memory_order_relaxed);
    if (load < best_load) {
      best_load = load;
      best = i;
    }
  }
  next_ = (best + 1) % n;
  if (best != 0) loops_[best]->handing.fetch_add(1, std::memory_order_relaxed);
  return static_cast<int>(best);
}

size_t Loops::total_connections() const {
  size_t n = 0;
  for (const auto& l : loops_) n += l->connections.load(std::memory_order_relaxed);
  return n;
}

}  // namespace wsgid::frontend
