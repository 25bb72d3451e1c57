#include "supervisor/frontend/io_buffer.h"

namespace wsgid::frontend {

namespace {
alignas(64) char g_read_buffer[kReadBufferSize];
}  // namespace

void io_alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = g_read_buffer;
  buf->len = kReadBufferSize;
}

}  // namespace wsgid::frontend
