// Writing to a libuv stream from the front end's loop: try the kernel first,
// queue the rest. Shared by client connections (http_conn.h) and worker
// connections (upstream.h), which both keep two strings: out (bytes appended
// since the last write) and inflight (bytes handed to a uv_write that has not
// completed). Loop thread only; owns nothing.
#pragma once

#include <uv.h>

#include <string>

namespace wsgid::frontend {

enum class WriteResult {
  kDone,    // every byte of *out went to the kernel now; *out is empty
  kQueued,  // the rest moved to *inflight and a uv_write(req, cb) is in flight
  kError,   // the stream failed; *err holds the libuv error
};

// Writes *out (non-empty) to s with uv_try_write; whatever the kernel does not
// take at once moves to *inflight (which must be empty: no write in flight) and
// goes out with uv_write(req, s, cb). The caller sets req->data before calling.
WriteResult write_or_queue(uv_stream_t* s, std::string* out, std::string* inflight,
                           uv_write_t* req, uv_write_cb cb, int* err);

}  // namespace wsgid::frontend
