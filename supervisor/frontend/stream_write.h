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

// Writes *out, then extra, then tail (either view may be empty; extra is a
// large response or request body piece still in the frame reader's buffer, sent
// without copying it into *out first) with one uv_try_write. kDone: the kernel
// took all of it; *out is empty. Otherwise what it left goes out with
// uv_write(req, s, cb) from *inflight (which must be empty: no write in flight):
// *out's buffer itself when part of it is left, the written prefix included (no
// memmove; its size counts in the caller's write_pending() until the write
// completes), with the unwritten rest of extra and tail appended (the only
// copy); kQueued. kError: *err holds the libuv error. The caller sets req->data
// before calling.
WriteResult write_or_queue(uv_stream_t* s, std::string* out, std::string_view extra,
                           std::string_view tail, std::string* inflight, uv_write_t* req,
                           uv_write_cb cb, int* err);

}  // namespace wsgid::frontend
