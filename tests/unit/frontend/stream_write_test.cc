// stream_write.h on a real socket pair: what reaches the peer, in order, when
// the kernel takes all, part or none of a write.
#include "supervisor/frontend/stream_write.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

namespace wsgid::frontend {
namespace {

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

// A uv_pipe_t on one end of a UNIX stream pair with a small send buffer; the
// test reads the other end by hand.
struct Pair {
  uv_loop_t loop;
  uv_pipe_t pipe;
  int peer = -1;
  Pair() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int small = 4096;
    ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ::fcntl(sv[1], F_SETFL, O_NONBLOCK);
    peer = sv[1];
    uv_loop_init(&loop);
    uv_pipe_init(&loop, &pipe, 0);
    REQUIRE(uv_pipe_open(&pipe, sv[0]) == 0);
  }
  ~Pair() {
    uv_close(reinterpret_cast<uv_handle_t*>(&pipe), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    ::close(peer);
  }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&pipe); }
  // Everything the peer can read now.
  std::string drain() {
    std::string got;
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(peer, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
};

// Runs the loop until a queued write has completed, reading the peer meanwhile.
std::string finish(Pair* p, std::string* inflight) {
  std::string seen;
  while (!inflight->empty()) {
    seen += p->drain();
    uv_run(&p->loop, UV_RUN_NOWAIT);
  }
  return seen + p->drain();
}

void clear_inflight(uv_write_t* w, int) { static_cast<std::string*>(w->data)->clear(); }

TEST_CASE("write_or_queue: out, extra and tail all at once, nothing copied") {
  Pair p;
  std::string out = "HEAD\r\n", inflight;
  const std::string data = pattern(1000);
  uv_write_t req;
  req.data = &inflight;
  int err = 0;
  CHECK(write_or_queue(p.stream(), &out, data, "\r\n", &inflight, &req, clear_inflight, &err) ==
        WriteResult::kDone);
  CHECK(out.empty());
  CHECK(inflight.empty());
  CHECK(p.drain() == "HEAD\r\n" + data + "\r\n");
}

TEST_CASE("write_or_queue: what the kernel leaves goes out in order, only that is copied") {
  Pair p;
  for (const char* tail : {"", "\r\n"}) {
    for (const std::string& head : {std::string(), std::string("5000\r\n"), pattern(20000), pattern(300000)}) {
      for (const size_t n : {size_t(0), size_t(300000)}) {
        CAPTURE(head.size());
        CAPTURE(tail);
        CAPTURE(n);
        if (head.size() + n < 100000) continue;  // the kernel takes it all: the case above
        std::string out = head, inflight;
        const std::string data = pattern(n);
        uv_write_t req;
        req.data = &inflight;
        int err = 0;
        REQUIRE(write_or_queue(p.stream(), &out, data, tail, &inflight, &req, clear_inflight, &err) ==
                WriteResult::kQueued);
        CHECK(out.empty());
        if (head.size() < 1000) {
          // The kernel took at least the head: inflight holds the rest of data
          // and the tail, copied, and nothing of the head.
          CHECK(inflight.size() < data.size() + std::string_view(tail).size());
        }
        CHECK(finish(&p, &inflight) == head + data + tail);
      }
    }
  }
}

TEST_CASE("write_or_queue: a socket that takes nothing now gets everything later") {
  Pair p;
  // Fill the socket until it refuses.
  const std::string block = pattern(65536);
  std::string sent;
  for (;;) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(block.data()), static_cast<unsigned>(block.size()));
    int n = uv_try_write(p.stream(), &b, 1);
    if (n <= 0) break;
    sent.append(block, 0, static_cast<size_t>(n));
  }
  std::string out = "HEAD", inflight;
  const std::string data = pattern(70000);
  uv_write_t req;
  req.data = &inflight;
  int err = 0;
  REQUIRE(write_or_queue(p.stream(), &out, data, "END", &inflight, &req, clear_inflight, &err) ==
          WriteResult::kQueued);
  CHECK(inflight == "HEAD" + data + "END");
  CHECK(finish(&p, &inflight) == sent + "HEAD" + data + "END");
}

}  // namespace
}  // namespace wsgid::frontend
