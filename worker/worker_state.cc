#include "worker/worker_state.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "protocol/messages.h"
#include "worker/request_io.h"

namespace wsgid::worker {

WorkerState::WorkerState(int threads) {
  for (int i = 0; i < threads; ++i) slots.push_back(std::make_unique<ThreadSlot>());
  start_ms = monotonic_ms();
  last_activity_ms = start_ms;
  last_gil_ms = start_ms;
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  events_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0 || events_fd_ < 0) log::bug(std::string("eventfd: ") + std::strerror(errno), __FILE__, __LINE__);
}

namespace {

// kError 502 for the slot's request, written without blocking.
void answer_slot(ThreadSlot* slot, const std::string& message) {
  int fd = slot->conn_fd.load();
  if (fd < 0) return;
  uint32_t rid;
  {
    std::lock_guard<std::mutex> lock(slot->mu);
    rid = slot->request_id;
  }
  std::string out;
  proto::append_error(&out, rid, {static_cast<proto::ErrorCode>(502), message});
  ssize_t n = ::send(fd, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)n;
}

}  // namespace

void WorkerState::answer_timed_out(const std::string& message) {
  for (auto& slot : slots)
    if (slot->busy.load() && slot->timed_out.load()) answer_slot(slot.get(), message);
}

void WorkerState::answer_gil_holder(int64_t gil_since_ms, const std::string& message) {
  ThreadSlot* holder = nullptr;
  int candidates = 0;
  for (auto& slot : slots) {
    if (!slot->busy.load() || slot->started_ms.load() > gil_since_ms) continue;
    holder = slot.get();
    ++candidates;
  }
  if (candidates == 1) answer_slot(holder, message);
}

void WorkerState::stop_accepting() {
  if (stopping_.exchange(true)) return;
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof one);
  (void)n;
  { std::lock_guard<std::mutex> lock(accept_mu_); }
  accept_cv_.notify_all();
}

bool WorkerState::take_accept_turn() {
  std::unique_lock<std::mutex> lock(accept_mu_);
  accept_cv_.wait(lock, [this] { return !accept_taken_ || stopping_.load(); });
  if (stopping_.load()) return false;
  accept_taken_ = true;
  return true;
}

void WorkerState::end_accept_turn() {
  {
    std::lock_guard<std::mutex> lock(accept_mu_);
    accept_taken_ = false;
  }
  accept_cv_.notify_one();
}

void WorkerState::post(Event e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  uint64_t one = 1;
  ssize_t n = ::write(events_fd_, &one, sizeof one);
  (void)n;
}

std::deque<Event> WorkerState::take_events() {
  uint64_t v;
  ssize_t n = ::read(events_fd_, &v, sizeof v);
  (void)n;
  std::lock_guard<std::mutex> lock(mu_);
  std::deque<Event> out;
  out.swap(events_);
  return out;
}

}  // namespace wsgid::worker
