// The front end's shared read buffer and its libuv allocation callback.
//
// Every client read on a loop's thread lands in that thread's one 128 KiB
// buffer, consumed (parsed or copied) before the read callback returns, so a
// thousand idle keep-alive connections hold no read buffers at all. Worker connections read
// into their frame reader instead (upstream.cc): there are few of them, and a
// response body is then copied once less. Loop thread only.
#pragma once

#include <uv.h>

#include <cstddef>

namespace wsgid::frontend {

// A 64 KiB body with its head in one read (docs/decisions.md 59).
constexpr size_t kReadBufferSize = 128 * 1024;

// uv_alloc_cb handing out the shared buffer.
void io_alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);

}  // namespace wsgid::frontend
