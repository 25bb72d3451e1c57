// RequestIo and FrameChannel over a real socketpair (no Python involved).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "protocol/messages.h"
#include "tests/unit/worker/socket_pair.h"
#include "worker/frame_channel.h"
#include "worker/request_io.h"

using namespace wsgid;
using namespace wsgid::worker;

namespace {

using Pair = testing::SocketPair;

std::string frame(proto::FrameType t, std::string_view payload = {}) {
  std::string out;
  proto::append_frame(&out, t, 5, payload);
  return out;
}

}  // namespace

TEST_CASE("RequestIo: body frames, end, then skip") {
  Pair p;
  FrameChannel ch(p.worker);
  std::atomic<int64_t> activity{0};
  RequestIo io(&ch, 5, 1000, &activity);
  p.send(frame(proto::FrameType::kRequestBody, "hello") + frame(proto::FrameType::kRequestBody, "") +
         frame(proto::FrameType::kRequestBody, " world") + frame(proto::FrameType::kRequestEnd));
  REQUIRE(io.fetch() == RequestIo::Fetch::kData);
  CHECK(io.pending() == "hello");
  io.consume(2);
  CHECK(io.pending() == "llo");
  CHECK(activity.load() > 0);
  REQUIRE(io.fetch() == RequestIo::Fetch::kData);  // the empty chunk is skipped
  CHECK(io.pending() == " world");
  CHECK(io.fetch() == RequestIo::Fetch::kEnd);
  CHECK(io.body_ended());
  CHECK(io.fetch() == RequestIo::Fetch::kEnd);
  CHECK(io.skip_body());
  CHECK(io.bytes_in() == 11);
}

TEST_CASE("RequestIo: cancel, EOF, timeout and frames out of place") {
  {
    Pair p;
    FrameChannel ch(p.worker);
    RequestIo io(&ch, 5, 1000, nullptr);
    p.send(frame(proto::FrameType::kCancel));
    CHECK(io.fetch() == RequestIo::Fetch::kGone);
    CHECK(io.gone());
  }
  {
    Pair p;
    FrameChannel ch(p.worker);
    RequestIo io(&ch, 5, 1000, nullptr);
    close(p.front);
    p.front = -1;
    CHECK(io.fetch() == RequestIo::Fetch::kGone);
  }
  {
    Pair p;
    FrameChannel ch(p.worker);
    RequestIo io(&ch, 5, 50, nullptr);
    CHECK(io.fetch() == RequestIo::Fetch::kTimeout);
    CHECK(io.error() == "timed out after 50 ms waiting for the request body");
  }
  {
    Pair p;
    FrameChannel ch(p.worker);
    RequestIo io(&ch, 5, 1000, nullptr);
    p.send(frame(proto::FrameType::kResponseEnd));
    CHECK(io.fetch() == RequestIo::Fetch::kError);
    CHECK(io.error() == "unexpected RESPONSE_END frame in a request body");
  }
  {
    Pair p;
    FrameChannel ch(p.worker);
    RequestIo io(&ch, 5, 1000, nullptr);
    p.send(std::string("\x7f\0\0\0\0\0\0\0\0\0\0\0", 12));
    CHECK(io.fetch() == RequestIo::Fetch::kError);
    CHECK(io.error() == "frame type 0x7f is unknown");
  }
}

TEST_CASE("RequestIo: a small response is one write; big bodies are split in 64 KiB frames") {
  Pair p;
  FrameChannel ch(p.worker);
  RequestIo io(&ch, 5, 1000, nullptr);
  proto::ResponseHead head{200, "OK", {{"Content-Type", "text/plain"}}};
  io.set_head(head);
  io.append_body("hi");
  CHECK(p.frames().empty());
  REQUIRE(io.finish().is_ok());
  CHECK(io.finished());
  auto f = p.frames();
  REQUIRE(f.size() == 3);
  CHECK(f[0].first == proto::FrameType::kResponseHead);
  auto decoded = proto::decode_response_head(f[0].second);
  REQUIRE(decoded.is_ok());
  CHECK(decoded->status == 200);
  CHECK(decoded->headers[0].second == "text/plain");
  CHECK(f[1] == std::make_pair(proto::FrameType::kResponseBody, std::string("hi")));
  CHECK(f[2].first == proto::FrameType::kResponseEnd);

  Pair q;
  FrameChannel ch2(q.worker);
  RequestIo big(&ch2, 5, 1000, nullptr);
  big.set_head(head);
  big.append_body(std::string(150000, 'x'));
  REQUIRE(big.flush().is_ok());
  auto g = q.frames();
  REQUIRE(g.size() == 4);
  CHECK(g[1].second.size() == 65536);
  CHECK(g[2].second.size() == 65536);
  CHECK(g[3].second.size() == 150000 - 2 * 65536);
}

TEST_CASE("RequestIo::fail: before the head drops the buffered response; after it follows the body") {
  Pair p;
  FrameChannel ch(p.worker);
  RequestIo io(&ch, 5, 1000, nullptr);
  io.set_head({200, "OK", {}});
  io.append_body("partial");
  io.fail(proto::ErrorCode::kAppError, "Internal Server Error");
  auto f = p.frames();
  REQUIRE(f.size() == 1);
  CHECK(f[0].first == proto::FrameType::kError);
  auto e = proto::decode_error(f[0].second);
  REQUIRE(e.is_ok());
  CHECK(e->code == proto::ErrorCode::kAppError);
  CHECK(e->message == "Internal Server Error");
  CHECK(io.failed());

  Pair q;
  FrameChannel ch2(q.worker);
  RequestIo after(&ch2, 5, 1000, nullptr);
  after.set_head({200, "OK", {}});
  after.append_body("sent");
  REQUIRE(after.flush().is_ok());
  after.fail(proto::ErrorCode::kAppError, "Internal Server Error");
  after.fail(proto::ErrorCode::kAppError, "twice");  // no-op
  auto g = q.frames();
  REQUIRE(g.size() == 3);
  CHECK(g[2].first == proto::FrameType::kError);
}

TEST_CASE("RequestIo: a cancel after the body ended stops the response at the next flush") {
  Pair p;
  FrameChannel ch(p.worker);
  RequestIo io(&ch, 5, 1000, nullptr);
  p.send(frame(proto::FrameType::kRequestEnd) + frame(proto::FrameType::kCancel));
  REQUIRE(io.fetch() == RequestIo::Fetch::kEnd);
  io.set_head({200, "OK", {}});
  io.append_body("x");
  Status s = io.flush();
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.message() == "the client went away");
  CHECK(io.gone());
  CHECK(p.frames().empty());
}

TEST_CASE("FrameChannel: wake fd, timeout, EOF, write to a closed peer") {
  Pair p;
  FrameChannel ch(p.worker);
  int wake = eventfd(0, EFD_NONBLOCK);
  proto::Frame f;
  CHECK(ch.read(&f, 30) == FrameChannel::Read::kTimeout);
  uint64_t one = 1;
  REQUIRE(write(wake, &one, sizeof one) == 8);
  CHECK(ch.read(&f, -1, wake) == FrameChannel::Read::kWoken);
  // A buffered whole frame wins over the wake fd.
  p.send(frame(proto::FrameType::kRequestEnd));
  CHECK(ch.read(&f, -1, wake) == FrameChannel::Read::kFrame);
  close(wake);
  close(p.front);
  p.front = -1;
  CHECK(ch.read(&f, 1000) == FrameChannel::Read::kEof);
  ch.set_name("front-end connection");
  Status s = ch.write_all("data", 100);
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.message() == "write(front-end connection): Broken pipe");
}

namespace {

// Counts the waits FrameChannel brackets (the GIL is released only there).
struct CountingHook final : WaitHook {
  int before = 0, after = 0;
  void before_wait() override { ++before; }
  void after_wait() override { ++after; }
};

}  // namespace

TEST_CASE("WaitHook: called around real waits only, never for calls that complete at once") {
  Pair p;
  FrameChannel ch(p.worker);
  RequestIo io(&ch, 5, 50, nullptr);
  CountingHook hook;
  io.set_wait_hook(&hook);
  // Bytes already there: no wait, so the GIL would stay held.
  p.send(frame(proto::FrameType::kRequestBody, "abc"));
  REQUIRE(io.fetch() == RequestIo::Fetch::kData);
  CHECK(hook.before == 0);
  // Nothing there: the wait is bracketed.
  CHECK(io.fetch() == RequestIo::Fetch::kTimeout);
  CHECK(hook.before >= 1);
  CHECK(hook.after == hook.before);
  // A small write completes at once.
  int waits = hook.before;
  io.set_head({200, "OK", {}});
  REQUIRE(io.send_body("hi", true, false).is_ok());
  CHECK(hook.before == waits);
}

TEST_CASE("RequestIo::read_into: across frames, stops at n or at the end of the body") {
  const struct {
    std::vector<std::string> chunks;
    size_t n;
    size_t want;
    RequestIo::Fetch why;
  } cases[] = {
      {{"hello", " ", "world"}, 11, 11, RequestIo::Fetch::kData},
      {{"hello", " ", "world"}, 7, 7, RequestIo::Fetch::kData},
      {{"hello", " ", "world"}, 100, 11, RequestIo::Fetch::kEnd},
      {{}, 10, 0, RequestIo::Fetch::kEnd},
      {{std::string(70000, 'x'), std::string(70000, 'y')}, 140000, 140000, RequestIo::Fetch::kData},
  };
  for (const auto& c : cases) {
    Pair p;
    FrameChannel ch(p.worker);
    RequestIo io(&ch, 5, 1000, nullptr);
    std::string all;
    std::string wire;
    for (const auto& s : c.chunks) {
      all += s;
      for (size_t off = 0; off < s.size(); off += proto::kBodyChunk)
        wire += frame(proto::FrameType::kRequestBody, std::string_view(s).substr(off, proto::kBodyChunk));
    }
    wire += frame(proto::FrameType::kRequestEnd);
    // Written from another thread: the whole body may not fit the socket buffer.
    std::thread writer([&] { p.send(wire); });
    std::string got(c.n, '\0');
    RequestIo::Fetch why;
    size_t n = io.read_into(got.data(), c.n, &why);
    writer.join();
    CHECK(n == c.want);
    CHECK(why == c.why);
    CHECK(got.substr(0, n) == all.substr(0, n));
  }
}

TEST_CASE("RequestIo::send_body: large blocks written from where they lie, in 64 KiB frames, END with them") {
  const struct {
    size_t size;
    bool end;
    size_t body_frames;
  } cases[] = {
      {10, true, 1},
      {RequestIo::kCopyLimit, true, 1},
      {65536, true, 1},
      {65537, false, 2},
      {150000, true, 3},
  };
  for (const auto& c : cases) {
    Pair p;
    FrameChannel ch(p.worker);
    RequestIo io(&ch, 5, 1000, nullptr);
    io.set_head({200, "OK", {}});
    std::string data(c.size, 'z');
    data[c.size - 1] = 'q';
    std::thread reader;
    std::vector<std::pair<proto::FrameType, std::string>> f;
    // Read on another thread: the write may not fit the socket buffer.
    reader = std::thread([&] {
      fcntl(p.front, F_SETFL, 0);
      proto::FrameReader r;
      char buf[65536];
      size_t frames_wanted = 1 + c.body_frames + (c.end ? 1 : 0);
      while (f.size() < frames_wanted) {
        ssize_t n = read(p.front, buf, sizeof buf);
        if (n <= 0) break;
        r.feed(buf, static_cast<size_t>(n));
        proto::Frame fr;
        while (r.next(&fr) == proto::FrameReader::Result::kFrame) f.emplace_back(fr.type, std::string(fr.payload));
      }
    });
    REQUIRE(io.send_body(data, false, c.end).is_ok());
    // A non-final block below kBodyChunk stays buffered: flush it for the reader.
    if (!c.end) REQUIRE(io.flush().is_ok());
    reader.join();
    CHECK(io.finished() == c.end);
    REQUIRE(f.size() == 1 + c.body_frames + (c.end ? 1 : 0));
    CHECK(f[0].first == proto::FrameType::kResponseHead);
    std::string body;
    for (size_t i = 1; i <= c.body_frames; ++i) {
      CHECK(f[i].first == proto::FrameType::kResponseBody);
      CHECK(f[i].second.size() <= proto::kBodyChunk);
      body += f[i].second;
    }
    CHECK(body == data);
    if (c.end) CHECK(f.back().first == proto::FrameType::kResponseEnd);
    CHECK(io.bytes_out() > c.size);
  }
}

namespace {

// A body of n bytes that shows a lost, doubled or misplaced byte.
std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  return s;
}

// REQUEST_BODY frames of kBodyChunk, REQUEST_END, then the next request's
// head: written in pieces of `piece` bytes from another thread (the socket
// holds less than the body), so that frames arrive split anywhere.
std::thread send_body(int fd, const std::string& body, size_t piece) {
  std::string bytes;
  for (size_t off = 0; off < body.size(); off += proto::kBodyChunk)
    bytes += frame(proto::FrameType::kRequestBody, std::string_view(body).substr(off, proto::kBodyChunk));
  bytes += frame(proto::FrameType::kRequestEnd);
  proto::append_frame(&bytes, proto::FrameType::kRequestHead, 6, "next");
  return std::thread([fd, bytes = std::move(bytes), piece] {
    for (size_t off = 0; off < bytes.size();) {
      ssize_t w = write(fd, bytes.data() + off, std::min(piece, bytes.size() - off));
      if (w <= 0) return;
      off += static_cast<size_t>(w);
    }
  });
}

}  // namespace

TEST_CASE("RequestIo: a large body is received straight into the caller's memory, exactly") {
  const std::string body = pattern(5 * proto::kBodyChunk + 1234);
  // read_into() sizes: the way frameworks read (64 KiB), odd sizes that cross
  // frame boundaries, one byte, more than a frame.
  const std::vector<std::vector<size_t>> plans = {{65536}, {10000, 1, 70000, 333}, {1 << 20}};
  for (size_t piece : {size_t{1} << 20, size_t{4096}, size_t{65549}}) {
    for (const auto& plan : plans) {
      CAPTURE(piece);
      CAPTURE(plan[0]);
      Pair p;
      FrameChannel ch(p.worker);
      std::thread writer = send_body(p.front, body, piece);
      std::string got;
      {
        RequestIo io(&ch, 5, 5000, nullptr);
        size_t i = 0;
        RequestIo::Fetch why = RequestIo::Fetch::kData;
        while (why == RequestIo::Fetch::kData) {
          std::string buf(plan[i++ % plan.size()], '\0');
          size_t n = io.read_into(buf.data(), buf.size(), &why);
          got.append(buf.data(), n);
        }
        CHECK(why == RequestIo::Fetch::kEnd);
        CHECK(io.bytes_in() == body.size());
        CHECK(io.skip_body());
      }
      writer.join();
      CHECK(got.size() == body.size());
      CHECK(got == body);
      // All but what came with a frame's header went past the buffer.
      CHECK(ch.payload_bytes() >= body.size() - body.size() / 4);
      // The channel stands at the next frame.
      proto::Frame f;
      REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
      CHECK(f.type == proto::FrameType::kRequestHead);
      CHECK(f.payload == "next");
    }
  }
}

TEST_CASE("RequestIo: views (fetch) and reads into memory mixed within a large frame") {
  const std::string body = pattern(3 * proto::kBodyChunk);
  Pair p;
  FrameChannel ch(p.worker);
  std::thread writer = send_body(p.front, body, 8192);
  std::string got;
  {
    RequestIo io(&ch, 5, 5000, nullptr);
    for (int turn = 0;; ++turn) {
      if (turn % 2 == 0) {
        RequestIo::Fetch r = io.pending().empty() ? io.fetch() : RequestIo::Fetch::kData;
        if (r == RequestIo::Fetch::kEnd) break;
        REQUIRE(r == RequestIo::Fetch::kData);
        std::string_view v = io.pending().substr(0, 5000);
        got.append(v);
        io.consume(v.size());
      } else {
        char buf[30000];
        RequestIo::Fetch why;
        got.append(buf, io.read_into(buf, sizeof buf, &why));
        if (why == RequestIo::Fetch::kEnd) break;
        REQUIRE(why == RequestIo::Fetch::kData);
      }
    }
    CHECK(io.skip_body());
  }
  writer.join();
  CHECK(got == body);
  proto::Frame f;
  REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
  CHECK(f.type == proto::FrameType::kRequestHead);
}

TEST_CASE("RequestIo: the front end leaving or stalling within a payload read into memory") {
  std::string bytes;
  proto::append_header(&bytes, proto::FrameType::kRequestBody, 5, proto::kBodyChunk);
  bytes += std::string(100, 'a');
  SUBCASE("EOF: gone, the bytes before it counted") {
    Pair p;
    FrameChannel ch(p.worker);
    RequestIo io(&ch, 5, 1000, nullptr);
    p.send(bytes);
    std::string tail(20000, 'b');
    REQUIRE(write(p.front, tail.data(), tail.size()) == static_cast<ssize_t>(tail.size()));
    close(p.front);
    p.front = -1;
    std::string buf(proto::kBodyChunk, '\0');
    RequestIo::Fetch why;
    size_t n = io.read_into(buf.data(), buf.size(), &why);
    CHECK(why == RequestIo::Fetch::kGone);
    CHECK(n == 100 + tail.size());
    CHECK(io.gone());
  }
  SUBCASE("nothing more: socket-timeout") {
    Pair p;
    FrameChannel ch(p.worker);
    RequestIo io(&ch, 5, 100, nullptr);
    p.send(bytes);
    std::string buf(proto::kBodyChunk, '\0');
    RequestIo::Fetch why;
    size_t n = io.read_into(buf.data(), buf.size(), &why);
    CHECK(why == RequestIo::Fetch::kTimeout);
    CHECK(n == 100);
    CHECK(io.error() == "timed out after 100 ms waiting for the request body");
  }
}

TEST_CASE("RequestIo: what follows a payload read into memory is read as frames when it is not a body") {
  const std::string body = pattern(proto::kBodyChunk);
  std::string bytes;
  proto::append_header(&bytes, proto::FrameType::kRequestBody, 5, proto::kBodyChunk);
  SUBCASE("a refusal (ERROR with its text) right after the payload") {
    Pair p;
    FrameChannel ch(p.worker);
    RequestIo io(&ch, 5, 1000, nullptr);
    p.send(bytes);  // the header alone: its payload is read into memory
    std::string rest = body;
    proto::append_error(&rest, 5, {proto::ErrorCode::kBadRequest, "request body exceeds LimitRequestBody"});
    std::thread writer([&] { REQUIRE(write(p.front, rest.data(), rest.size()) == static_cast<ssize_t>(rest.size())); });
    std::string buf(4 * proto::kBodyChunk, '\0');
    RequestIo::Fetch why;
    std::string got;
    size_t n;
    while ((n = io.read_into(buf.data(), buf.size(), &why)) > 0 && why == RequestIo::Fetch::kData) got.append(buf.data(), n);
    if (why != RequestIo::Fetch::kData) got.append(buf.data(), n);
    writer.join();
    CHECK(why == RequestIo::Fetch::kGone);
    CHECK(got == body);
    CHECK(io.refusal() == "request body exceeds LimitRequestBody");
  }
  SUBCASE("an empty body frame, a small one, then the end") {
    Pair p;
    FrameChannel ch(p.worker);
    RequestIo io(&ch, 5, 1000, nullptr);
    p.send(bytes);
    std::string rest = body + frame(proto::FrameType::kRequestBody, "") + frame(proto::FrameType::kRequestBody, "tail") +
                       frame(proto::FrameType::kRequestEnd);
    std::thread writer([&] { REQUIRE(write(p.front, rest.data(), rest.size()) == static_cast<ssize_t>(rest.size())); });
    std::string buf(4 * proto::kBodyChunk, '\0');
    RequestIo::Fetch why = RequestIo::Fetch::kData;
    std::string got;
    while (why == RequestIo::Fetch::kData) got.append(buf.data(), io.read_into(buf.data(), buf.size(), &why));
    writer.join();
    CHECK(why == RequestIo::Fetch::kEnd);
    CHECK(got == body + "tail");
    CHECK(ch.payload_bytes() == body.size());
  }
}

TEST_CASE("RequestIo: a body left unread within a payload read into memory is skipped") {
  const std::string body = pattern(4 * proto::kBodyChunk);
  Pair p;
  FrameChannel ch(p.worker);
  std::thread writer = send_body(p.front, body, 8192);
  {
    RequestIo io(&ch, 5, 5000, nullptr);
    std::string buf(100000, '\0');
    RequestIo::Fetch why;
    REQUIRE(io.read_into(buf.data(), buf.size(), &why) == buf.size());
    CHECK(std::string_view(buf) == std::string_view(body).substr(0, buf.size()));
    CHECK(io.skip_body());
    CHECK(io.body_ended());
  }
  writer.join();
  proto::Frame f;
  REQUIRE(ch.read(&f, 1000) == FrameChannel::Read::kFrame);
  CHECK(f.type == proto::FrameType::kRequestHead);
  CHECK(f.payload == "next");
}
