// See stream_write.h.
#include "supervisor/frontend/stream_write.h"

namespace wsgid::frontend {

WriteResult write_or_queue(uv_stream_t* s, std::string* out, std::string* inflight,
                           uv_write_t* req, uv_write_cb cb, int* err) {
  uv_buf_t b = uv_buf_init(out->data(), static_cast<unsigned>(out->size()));
  int n = uv_try_write(s, &b, 1);
  if (n == static_cast<int>(out->size())) {
    out->clear();
    return WriteResult::kDone;
  }
  if (n < 0 && n != UV_EAGAIN) {
    *err = n;
    return WriteResult::kError;
  }
  if (n > 0) out->erase(0, static_cast<size_t>(n));
  inflight->swap(*out);
  out->clear();
  b = uv_buf_init(inflight->data(), static_cast<unsigned>(inflight->size()));
  if (int rc = uv_write(req, s, &b, 1, cb); rc < 0) {
    *err = rc;
    return WriteResult::kError;
  }
  return WriteResult::kQueued;
}

}  // namespace wsgid::frontend
