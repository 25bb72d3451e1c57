// RequestLoop: the worker's `threads` request threads. Each idle thread polls
// (group listening socket, wake fd) and accept4()s the shared non-blocking
// socket, so only idle threads take connections (docs/decisions.md 9, mod_wsgi's
// LIFO acceptor); it then serves that connection, one request at a time, until
// EOF.
// Once WorkerState::stop_accepting() is called, idle threads exit, and kept
// connections are closed between requests after a kError(0, 503, "connection
// closing"). The listening socket is never shut down: it is shared by the group.
//
// start() runs on the main thread; the threads run until they see the stop flag
// (WorkerState::live_threads counts them). Per request the thread updates its
// ThreadSlot, applies queue-timeout, runs the app (wsgi_app.h) and, after
// maximum-requests, posts a replacement request to the main thread.
#pragma once

#include "common/status.h"
#include "worker/settings.h"
#include "worker/worker_state.h"

namespace wsgid::worker {

// Starts settings.threads threads with settings.stack_size (if set). listen_fd
// is made non-blocking here. Errors: "pthread_create(request thread 3): ...".
Status start_request_threads(const WorkerSettings& settings, WorkerState* state, int listen_fd);

}  // namespace wsgid::worker
