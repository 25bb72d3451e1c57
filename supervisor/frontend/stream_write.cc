// See stream_write.h.
#include "supervisor/frontend/stream_write.h"

#include <algorithm>

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
  // The written prefix stays in *inflight (no memmove of the rest): it is freed
  // with the rest when the write completes.
  const size_t done = n > 0 ? static_cast<size_t>(n) : 0;
  inflight->swap(*out);
  out->clear();
  b = uv_buf_init(inflight->data() + done, static_cast<unsigned>(inflight->size() - done));
  if (int rc = uv_write(req, s, &b, 1, cb); rc < 0) {
    *err = rc;
    return WriteResult::kError;
  }
  return WriteResult::kQueued;
}

WriteResult write_through(uv_stream_t* s, std::string* out, std::string_view data,
                          std::string_view tail, int* err) {
  uv_buf_t b[3];
  unsigned nb = 0;
  if (!out->empty()) b[nb++] = uv_buf_init(out->data(), static_cast<unsigned>(out->size()));
  b[nb++] = uv_buf_init(const_cast<char*>(data.data()), static_cast<unsigned>(data.size()));
  if (!tail.empty()) b[nb++] = uv_buf_init(const_cast<char*>(tail.data()), static_cast<unsigned>(tail.size()));
  const size_t total = out->size() + data.size() + tail.size();
  int n = uv_try_write(s, b, nb);
  if (n < 0 && n != UV_EAGAIN) {
    *err = n;
    return WriteResult::kError;
  }
  size_t done = n > 0 ? static_cast<size_t>(n) : 0;
  if (done == total) {
    out->clear();
    return WriteResult::kDone;
  }
  // Keep what the kernel did not take, in order: out's rest, data's, tail's.
  const size_t from_out = std::min(done, out->size());
  out->erase(0, from_out);
  done -= from_out;
  const size_t from_data = std::min(done, data.size());
  out->append(data.substr(from_data));
  done -= from_data;
  out->append(tail.substr(done));
  return WriteResult::kQueued;
}

}  // namespace wsgid::frontend
