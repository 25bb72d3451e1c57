// See stream_write.h.
#include "supervisor/frontend/stream_write.h"

#include <algorithm>

namespace wsgid::frontend {

WriteResult write_or_queue(uv_stream_t* s, std::string* out, std::string_view extra,
                           std::string_view tail, std::string* inflight, uv_write_t* req,
                           uv_write_cb cb, int* err) {
  uv_buf_t b[3];
  unsigned nb = 0;
  for (std::string_view v : {std::string_view(*out), extra, tail})
    if (!v.empty()) b[nb++] = uv_buf_init(const_cast<char*>(v.data()), static_cast<unsigned>(v.size()));
  const size_t total = out->size() + extra.size() + tail.size();
  int n = nb == 0 ? 0 : uv_try_write(s, b, nb);
  if (n < 0 && n != UV_EAGAIN) {
    *err = n;
    return WriteResult::kError;
  }
  size_t done = n > 0 ? static_cast<size_t>(n) : 0;
  if (done == total) {
    out->clear();
    return WriteResult::kDone;
  }
  // Keep what the kernel did not take, in order: out's rest, extra's, tail's.
  size_t offset = 0;
  if (done < out->size()) {
    inflight->swap(*out);  // the written prefix stays: freed when the write completes
    offset = done;
    done = 0;
  } else {
    done -= out->size();
  }
  out->clear();
  const size_t from_extra = std::min(done, extra.size());
  inflight->append(extra.substr(from_extra));
  inflight->append(tail.substr(done - from_extra));
  uv_buf_t rest = uv_buf_init(inflight->data() + offset, static_cast<unsigned>(inflight->size() - offset));
  if (int rc = uv_write(req, s, &rest, 1, cb); rc < 0) {
    *err = rc;
    return WriteResult::kError;
  }
  return WriteResult::kQueued;
}

}  // namespace wsgid::frontend
