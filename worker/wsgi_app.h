// Calling applications: one request through the runtime's handle() in the
// request's interpreter, and the preloads (WSGIImportScript, aliases naming both
// process-group and application-group) run before READY. A preload that fails
// is logged and not fatal (worker_main.cc): as in mod_wsgi, the script is loaded
// again by the next request that needs it, until it loads.
//
// Request threads call run_request() without the GIL; it takes the GIL in the
// interpreter of the request's application group for the duration of the call
// (the runtime releases it around every socket wait).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "worker/request_io.h"
#include "worker/settings.h"
#include "worker/wsgi_environ.h"

namespace wsgid::worker {

// Runs the application for one request whose head payload is `head`. On return
// io is completed (finished or failed: an exception gives kError 500 and the
// traceback in the log tagged with the request id; a missing callable 404).
void run_request(RequestIo* io, std::string_view head, const RequestInfo& info);

// Imports a script in its application group (mod_wsgi's module naming). Errors:
// "preload of '/x.wsgi' in application group 'g' failed: <exception line>" (the
// traceback is logged). A failed load leaves nothing behind: the next request
// to the script (run_request) executes it again.
Status preload_script(const Preload& preload);

}  // namespace wsgid::worker
