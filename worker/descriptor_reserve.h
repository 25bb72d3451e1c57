// DescriptorReserve: one spare descriptor (an open /dev/null) that the thread
// accepting on the group socket gives up when accept4() fails with EMFILE or
// ENFILE: an application that leaks files, or a low RLIMIT_NOFILE. Without it
// the front end's connection would wait in the socket's backlog until its
// timeout (a hang); with it the connection is taken and served (the request
// runs; whatever the application cannot open is its own error, a 500).
//
// The process is then degraded (its other threads cannot take connections), so
// the first exhaustion also asks the master for a replacement, as
// maximum-requests does: the replacement starts, this process drains, no
// request fails. The log gets one line per run of failures and at most one a
// minute while it lasts (common/failure_report.h).
//
// One instance per worker, in WorkerState. take() runs on the thread holding
// the accept turn (one at a time); refill() on any request thread; both are
// safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/failure_report.h"

namespace wsgid::worker {

class DescriptorReserve {
 public:
  DescriptorReserve() = default;
  ~DescriptorReserve();
  DescriptorReserve(const DescriptorReserve&) = delete;
  DescriptorReserve& operator=(const DescriptorReserve&) = delete;

  // Opens the spare if it is not open (best effort: at the limit it stays
  // empty until a later call finds a free descriptor).
  void refill();
  // After accept4(listen_fd) failed with err (EMFILE or ENFILE): closes the
  // spare and accepts again -> the connection's fd, or -1 when the spare was
  // already gone or the backlog was empty. *report is set to the log line to
  // write now ("" when rate-limited) and *first to true on the first exhaustion
  // of this process (ask for a replacement then).
  int take(int listen_fd, int err, std::string* report, bool* first);

 private:
  std::atomic<int> fd_{-1};
  std::mutex mu_;  // guards report_ and ever_
  FailureReport report_;
  bool ever_ = false;
};

}  // namespace wsgid::worker
