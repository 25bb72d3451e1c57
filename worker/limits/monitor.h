// Monitor: the worker's limits that need a clock (the timeouts of mod_wsgi's
// WSGIDaemonProcess:
// https://modwsgi.readthedocs.io/en/master/configuration-directives/WSGIDaemonProcess.html),
// on two threads of their own.
//
// The monitor thread wakes every 200 ms and checks: restart-interval and
// inactivity-timeout (post a replacement request, like USR1), request-timeout
// per request thread (mod_wsgi 6's per-thread rule: a request older than
// request-timeout x (1 + ln threads) logs its Python stack and asks for a
// replacement; if no drain starts within graceful-timeout the worker stops
// itself), startup-timeout (a script load pending too long: exit) and
// deadlock-timeout (the GIL probe has not run for that long: exit at once, no
// drain). The probe thread takes the GIL in the main interpreter once a second,
// records the time, and writes the stack dumps the monitor asks for.
// Exits send kExiting through the control channel first. Both threads run until
// the process exits.
#pragma once

#include "common/status.h"
#include "worker/control_channel.h"
#include "worker/settings.h"
#include "worker/worker_state.h"

namespace wsgid::worker {

// The age at which a request counts as stuck: request-timeout x (1 + ln threads).
double request_timeout_limit(double request_timeout, int threads);

Status start_monitor(const WorkerSettings& settings, WorkerState* state, ControlChannel* control);

}  // namespace wsgid::worker
