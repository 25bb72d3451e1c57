#include "supervisor/frontend/io_buffer.h"

namespace wsgid::frontend {

namespace {
// One per event loop's thread (loops.h); untouched, a thread's copy costs no memory.
alignas(64) thread_local char g_read_buffer[kReadBufferSize];
}  // namespace

void io_alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = g_read_buffer;
  buf->len = kReadBufferSize;
}

}  // namespace wsgid::frontend
