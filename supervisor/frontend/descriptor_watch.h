// DescriptorWatch: notices that the front end is at its RLIMIT_NOFILE and says
// so in the log, once and then at most once a minute (common/failure_report.h),
// and once more when descriptors are free again.
//
// At the limit, accept() fails with EMFILE and libuv's reserve descriptor
// (uv__emfile_trick in src/unix/stream.c) accepts and closes every waiting
// connection, so the process never spins on a backlog it cannot empty; but
// libuv does that silently. Server::sweep() calls check() every 250 ms: one
// fcntl(F_DUPFD) probe (and a close) tells whether a descriptor is free. The
// connections already open are served meanwhile; only new ones are closed.
// A request that needs a new connection to a worker at the limit gets one: the
// Server closes the oldest idle client connections to make room (as nginx
// reuses keep-alive connections when it runs out, ngx_drain_connections), and
// closed_idle() says so.
//
// raise_descriptor_limit() runs once at start: one connection is one
// descriptor, and the soft limit a service gets (1024 under systemd, kept low
// for programs that still use select()) would cap the front end near 1,000
// connections; libuv uses epoll, so the front end takes the hard limit, as Go's
// runtime and systemd.exec(5)'s advice on LimitNOFILE= suggest.
//
// Loop thread only; owned by the Server.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/failure_report.h"

namespace wsgid::frontend {

// Raises the soft RLIMIT_NOFILE to the hard one; logs the change at info.
void raise_descriptor_limit();

class DescriptorWatch {
 public:
  // Probes at now_ms (loop clock) and logs per the contract above;
  // connections is the number of client connections open (for the message).
  void check(int64_t now_ms, size_t connections);
  bool at_limit() const { return report_.failing(); }
  // The Server closed n idle client connections to connect to a worker at the
  // limit: logged once, then at most once a minute.
  void closed_idle(int64_t now_ms, size_t n);

 private:
  FailureReport report_;
  FailureReport reuse_report_;
};

}  // namespace wsgid::frontend
