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

TEST_CASE("write_through: all at once, nothing copied into out") {
  Pair p;
  std::string out = "HEAD\r\n";
  const std::string data = pattern(1000);
  int err = 0;
  CHECK(write_through(p.stream(), &out, data, "\r\n", &err) == WriteResult::kDone);
  CHECK(out.empty());
  CHECK(p.drain() == "HEAD\r\n" + data + "\r\n");
}

TEST_CASE("write_through: what the kernel leaves is kept in order, then queued") {
  Pair p;
  for (const char* tail : {"", "\r\n"}) {
    for (const std::string head : {std::string(), std::string("5000\r\n"), pattern(20000)}) {
      CAPTURE(head.size());
      CAPTURE(tail);
      std::string out = head;
      const std::string data = pattern(300000);
      int err = 0;
      REQUIRE(write_through(p.stream(), &out, data, tail, &err) == WriteResult::kQueued);
      std::string got = p.drain();
      // What the peer has, then what is left in out, is the whole message.
      CHECK(got.size() < head.size() + data.size());
      CHECK(got + out == head + data + tail);
      // The rest goes out through write_or_queue, from an offset when partial.
      std::string inflight;
      uv_write_t req;
      std::string expected = out;
      std::string seen;
      while (!out.empty() || !inflight.empty()) {
        if (inflight.empty()) {
          req.data = &inflight;
          WriteResult r = write_or_queue(p.stream(), &out, &inflight, &req,
                                         [](uv_write_t* w, int) { static_cast<std::string*>(w->data)->clear(); },
                                         &err);
          REQUIRE(r != WriteResult::kError);
        }
        seen += p.drain();
        uv_run(&p.loop, UV_RUN_NOWAIT);
      }
      seen += p.drain();
      CHECK(seen == expected);
    }
  }
}

}  // namespace
}  // namespace wsgid::frontend
