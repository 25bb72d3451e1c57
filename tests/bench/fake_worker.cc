// fake_worker: a C++ stand-in for wsgid-worker on the request protocol, to test and
// measure the front end alone (no Python). Same shape as the real worker: N threads
// each block in accept() on one UNIX socket and serve a connection until EOF, one
// request at a time.
//
//   fake_worker SOCKET_PATH [THREADS]
//
// Answers by PATH_INFO (SCRIPT_NAME + PATH_INFO, really):
//   /hello or anything else  200 text/plain "Hello, world!" (Content-Length 13)
//   /echo       200, the request body back (Content-Length = body size); a body
//               handed over (BODY_SOCKET, PROTOCOL.md 5.5) is read from the
//               client's socket and BODY_TAKEN sent; other paths leave it unread
//   /sleep      10 ms sleep, then hello
//   /stream     three body chunks, no Content-Length (the front end chunks it)
//   /big?N      N MiB of 'x' in 64 KiB frames, no Content-Length
//   /environ    200 text/plain, the environ as "KEY=VALUE\n" lines (sorted)
//   /die        sends STARTED, then closes the connection without answering (the
//               front end sends a GET once more, then answers 502)
//   /die_once   the same the first time it is asked (per process), then hello
//   /error      kError 500 before the head
//   /close      answers, then sends kError(0, 503 "connection closing") and closes
//   /closing_notice   does not answer: sends kError(0, 503 "connection closing")
//               and closes, as a draining worker does (the front end retries)
//   /notice_once      the same the first time it is asked (per process), then hello
// Prints "ready" on stdout once listening.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"

namespace proto = wsgid::proto;

namespace {

std::atomic<int> g_notices{0};
std::atomic<int> g_deaths{0};

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

void respond(std::string* out, uint32_t id, int status, const std::string& body, bool length,
             const char* type = "text/plain") {
  proto::ResponseHead h;
  h.status = static_cast<uint16_t>(status);
  h.reason = status == 200 ? "OK" : "Error";
  h.headers.push_back({"Content-Type", type});
  if (length) h.headers.push_back({"Content-Length", std::to_string(body.size())});
  proto::append_response_head(out, id, h);
  if (!body.empty()) proto::append_frame(out, proto::FrameType::kResponseBody, id, body);
  proto::append_frame(out, proto::FrameType::kResponseEnd, id, {});
}

void serve(int fd) {
  std::string out;
  proto::append_hello(&out, static_cast<uint32_t>(getpid()));
  if (!write_all(fd, out)) return;
  proto::FrameReader reader;
  std::vector<char> buf(64 * 1024);
  bool hello = false, in_request = false;
  uint32_t id = 0;
  std::string path, query, body;
  std::vector<std::pair<std::string, std::string>> env;
  int client = -1;  // the descriptor the last recvmsg() brought (a BODY_SOCKET's)
  for (;;) {
    struct iovec iov = {buf.data(), buf.size()};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      if (client >= 0) ::close(client);
      std::memcpy(&client, CMSG_DATA(c), sizeof client);
    }
    reader.feed(buf.data(), static_cast<size_t>(n));
    proto::Frame f;
    for (;;) {
      auto r = reader.next(&f);
      if (r == proto::FrameReader::Result::kNeedMore) break;
      if (r == proto::FrameReader::Result::kError) return;
      if (!hello) {
        if (f.type != proto::FrameType::kHello) return;
        hello = true;
        continue;
      }
      switch (f.type) {
        case proto::FrameType::kRequestHead: {
          in_request = true;
          id = f.request_id;
          path.clear();
          query.clear();
          body.clear();
          env.clear();
          std::string script;
          (void)proto::for_each_pair(f.payload, [&](std::string_view k, std::string_view v) {
            if (k == "PATH_INFO") path = std::string(v);
            else if (k == "SCRIPT_NAME") script = std::string(v);
            else if (k == "QUERY_STRING") query = std::string(v);
            env.push_back({std::string(k), std::string(v)});
          });
          path = script + path;
          break;
        }
        case proto::FrameType::kRequestBody:
          if (path.size() >= 5 && path.compare(path.size() - 5, 5, "/echo") == 0)
            body.append(f.payload);
          break;
        case proto::FrameType::kBodySocket: {
          auto b = proto::decode_body_socket(f.payload);
          if (!b || client < 0) return;
          const bool echo = path.size() >= 5 && path.compare(path.size() - 5, 5, "/echo") == 0;
          uint64_t taken = 0;
          while (echo && taken < b->length) {
            char chunk[65536];
            ssize_t k = ::recv(client, chunk, std::min<uint64_t>(sizeof chunk, b->length - taken), MSG_DONTWAIT);
            if (k > 0) {
              body.append(chunk, static_cast<size_t>(k));
              taken += static_cast<uint64_t>(k);
            } else if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
              struct pollfd p = {client, POLLIN, 0};
              if (::poll(&p, 1, 10000) <= 0) break;
            } else {
              break;
            }
          }
          ::close(client);
          client = -1;
          if (echo) {
            std::string t;
            proto::append_body_taken(&t, id, {taken, taken == b->length ? proto::TakenHow::kDone : proto::TakenHow::kClientClosed});
            if (!write_all(fd, t)) return;
          }
          break;
        }
        case proto::FrameType::kCancel:
          return;
        case proto::FrameType::kRequestEnd: {
          if (!in_request) return;
          in_request = false;
          out.clear();
          auto ends = [&](const char* s) {
            size_t l = std::strlen(s);
            return path.size() >= l && path.compare(path.size() - l, l, s) == 0;
          };
          const bool notice = ends("/closing_notice") || (ends("/notice_once") && g_notices.fetch_add(1) == 0);
          // STARTED before "running" anything, as wsgid-worker does (PROTOCOL.md 5.2).
          if (!notice) proto::append_frame(&out, proto::FrameType::kStarted, id, {});
          if (ends("/echo")) {
            respond(&out, id, 200, body, true, "application/octet-stream");
          } else if (ends("/sleep")) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            respond(&out, id, 200, "Hello, world!", true);
          } else if (ends("/stream")) {
            proto::ResponseHead h;
            h.status = 200;
            h.reason = "OK";
            h.headers.push_back({"Content-Type", "text/plain"});
            proto::append_response_head(&out, id, h);
            for (const char* part : {"one\n", "two\n", "three\n"})
              proto::append_frame(&out, proto::FrameType::kResponseBody, id, part);
            proto::append_frame(&out, proto::FrameType::kResponseEnd, id, {});
          } else if (ends("/big")) {
            long mib = std::max(1L, std::atol(query.c_str()));
            proto::ResponseHead h;
            h.status = 200;
            h.reason = "OK";
            proto::append_response_head(&out, id, h);
            if (!write_all(fd, out)) return;
            std::string chunk;
            std::string data(64 * 1024, 'x');
            proto::append_frame(&chunk, proto::FrameType::kResponseBody, id, data);
            for (long i = 0; i < mib * 16; ++i)
              if (!write_all(fd, chunk)) return;
            out.clear();
            proto::append_frame(&out, proto::FrameType::kResponseEnd, id, {});
          } else if (ends("/environ")) {
            std::sort(env.begin(), env.end());
            std::string text;
            for (auto& [k, v] : env) text += k + "=" + v + "\n";
            respond(&out, id, 200, text, true);
          } else if (ends("/die") || (ends("/die_once") && g_deaths.fetch_add(1) == 0)) {
            write_all(fd, out);  // started, then died before the response head
            return;
          } else if (ends("/error")) {
            proto::append_error(&out, id, {proto::ErrorCode::kAppError, "ValueError: boom"});
          } else if (notice) {
            proto::append_error(&out, 0, {proto::ErrorCode::kUnavailable, "connection closing"});
            write_all(fd, out);
            return;
          } else if (ends("/close")) {
            respond(&out, id, 200, "Hello, world!", true);
            proto::append_error(&out, 0, {proto::ErrorCode::kUnavailable, "connection closing"});
            write_all(fd, out);
            return;
          } else {
            respond(&out, id, 200, "Hello, world!", true);
          }
          if (!write_all(fd, out)) return;
          break;
        }
        default:
          return;
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fake_worker SOCKET_PATH [THREADS]\n");
    return 2;
  }
  int threads = argc > 2 ? std::atoi(argv[2]) : 4;
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
  unlink(argv[1]);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 100) != 0) {
    std::perror("fake_worker: bind/listen");
    return 1;
  }
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([lfd] {
      for (;;) {
        int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EINTR) continue;
          return;
        }
        serve(fd);
        ::close(fd);
      }
    });
  std::printf("ready\n");
  std::fflush(stdout);
  for (auto& t : pool) t.join();
  return 0;
}
