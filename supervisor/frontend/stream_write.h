// Writing to a libuv stream from the front end's loop: try the kernel first,
// queue the rest. Shared by client connections (http_conn.h) and worker
// connections (upstream.h), which both keep two strings: out (bytes appended
// since the last write) and inflight (bytes handed to a uv_write that has not
// completed). Loop thread only; owns nothing.
#pragma once

#include <uv.h>

#include <string>
#include <string_view>

namespace wsgid::frontend {

enum class WriteResult {
  kDone,    // every byte of *out went to the kernel now; *out is empty
  kQueued,  // the rest moved to *inflight and a uv_write(req, cb) is in flight
  kError,   // the stream failed; *err holds the libuv error
};

// Writes *out (non-empty) to s with uv_try_write; when the kernel does not take
// it all at once, the buffer moves to *inflight (which must be empty: no write
// in flight), the written prefix included (no memmove; its size counts in the
// caller's write_pending() until the write completes), and the rest goes out
// with uv_write(req, s, cb). The caller sets req->data before calling.
WriteResult write_or_queue(uv_stream_t* s, std::string* out, std::string* inflight,
                           uv_write_t* req, uv_write_cb cb, int* err);

// Writes *out, then data, then tail with one uv_try_write, without copying data
// into *out first (a large response body, still in the frame reader's buffer).
// No write may be in flight. kDone: all of it went to the kernel, *out is
// empty. kQueued: the kernel took part (or nothing); the rest is now in *out
// (only data's unwritten part is copied) and the caller queues it
// (write_or_queue). kError: *err holds the libuv error.
WriteResult write_through(uv_stream_t* s, std::string* out, std::string_view data,
                          std::string_view tail, int* err);

}  // namespace wsgid::frontend
