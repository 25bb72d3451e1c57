// Test helper: runs a libuv loop on this thread until done() or limit_ms.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

namespace wsgid::frontend {

inline void run_until(uv_loop_t* loop, const std::function<bool()>& done, uint64_t limit_ms = 10000) {
  uv_timer_t t;
  uv_timer_init(loop, &t);
  auto deadline = uv_now(loop) + limit_ms;
  while (!done() && uv_now(loop) < deadline) {
    uv_timer_start(&t, [](uv_timer_t*) {}, 5, 0);
    uv_run(loop, UV_RUN_ONCE);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
}

}  // namespace wsgid::frontend
