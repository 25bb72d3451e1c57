#include "worker/request_loop.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "common/log.h"
#include "protocol/messages.h"
#include "protocol/started_page.h"
#include "worker/frame_channel.h"
#include "worker/request_io.h"
#include "worker/wsgi_app.h"
#include "worker/wsgi_environ.h"

namespace wsgid::worker {
namespace {

struct ThreadArgs {
  const WorkerSettings* settings;
  WorkerState* state;
  int listen_fd;
  int index;
};

int64_t realtime_us() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

class Server {
 public:
  Server(const ThreadArgs& a) : s_(*a.settings), st_(*a.state), listen_fd_(a.listen_fd), slot_(*a.state->slots[static_cast<size_t>(a.index)]) {}

  void run() {
    slot_.py_ident = static_cast<unsigned long>(pthread_self());
    timeout_ms_ = s_.socket_timeout > 0 ? static_cast<int>(s_.socket_timeout * 1000) : -1;
    st_.descriptor_reserve.refill();
    while (st_.take_accept_turn()) {
      int fd = accept_one();
      st_.end_accept_turn();
      if (fd == -2) break;  // stopping
      if (fd >= 0) serve_connection(fd);
      st_.descriptor_reserve.refill();
    }
    st_.live_threads.fetch_sub(1);
  }

 private:
  // A connection fd; -1: nothing this time (try again); -2: stopping.
  int accept_one() {
    for (;;) {
      struct pollfd p[2] = {{listen_fd_, POLLIN, 0}, {st_.wake_fd(), POLLIN, 0}};
      int r = ::poll(p, 2, -1);
      if (r < 0) {
        if (errno == EINTR) continue;
        log::error("{}", Status::sys("poll", "group socket").message());
        ::sleep(1);
        return -1;
      }
      if (p[1].revents & POLLIN) return -2;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) return fd;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) return accept_at_limit(errno);
      log::error("{}", Status::sys("accept4", "group socket").message());
      ::usleep(100 * 1000);
      return -1;
    }
  }

  // accept4() failed with EMFILE/ENFILE: the connection is taken with the spare
  // descriptor (worker/descriptor_reserve.h) -> its fd, or -1 after a pause.
  int accept_at_limit(int err) {
    std::string report;
    bool first = false;
    int fd = st_.descriptor_reserve.take(listen_fd_, err, &report, &first);
    if (!report.empty()) log::error("{}", report);
    if (first)
      st_.post({Event::Kind::kReplaceMe, "out of file descriptors",
                fmt::format("accept4(group socket): {}", std::strerror(err))});
    if (fd >= 0) return fd;
    ::usleep(100 * 1000);
    return -1;
  }

  void serve_connection(int fd) {
    FrameChannel ch(fd);
    ch.set_name("front-end connection");
    // Any read may bring a descriptor: the started page with HELLO, a
    // request body's client socket with BODY_SOCKET (PROTOCOL.md 5.1, 5.5).
    ch.accept_fds();
    std::string out;
    proto::append_hello(&out, static_cast<uint32_t>(getpid()));
    Status s = ch.write_all(out, timeout_ms_);
    proto::Frame f;
    proto::StartedPage page;
    if (s) {
      FrameChannel::Read r = ch.read(&f, timeout_ms_);
      if (r != FrameChannel::Read::kFrame || f.type != proto::FrameType::kHello || !proto::decode_hello(f.payload)) {
        log::warn("front-end connection closed: no valid HELLO{}", r == FrameChannel::Read::kError ? ": " + ch.error() : "");
        ch.close();
        return;
      }
      if (int pfd = ch.take_fd(); pfd >= 0) {
        auto mapped = proto::StartedPage::map(pfd);
        ::close(pfd);
        // Without it, STARTED frames say the same (protocol/PROTOCOL.md 5.2).
        if (mapped) page = std::move(*mapped);
        else log::warn("front-end connection: {}; sending STARTED frames instead", mapped.status().message());
      }
    }
    while (s) {
      if (st_.stopping()) {
        out.clear();
        proto::append_error(&out, 0, {proto::ErrorCode::kUnavailable, "connection closing"});
        (void)ch.write_all(out, 1000);
        break;
      }
      FrameChannel::Read r = ch.read(&f, -1, st_.wake_fd());
      if (r == FrameChannel::Read::kWoken) continue;
      if (r == FrameChannel::Read::kEof) break;
      if (r != FrameChannel::Read::kFrame) {
        log::warn("front-end connection closed: {}", ch.error());
        break;
      }
      if (f.type == proto::FrameType::kCancel) continue;  // late cancel of a finished request
      if (f.type != proto::FrameType::kRequestHead) {
        log::warn("front-end connection closed: expected REQUEST_HEAD, got {}", proto::type_name(f.type));
        break;
      }
      head_.assign(f.payload);
      if (!serve_request(&ch, f.request_id, page)) break;
    }
    ch.close();
  }

  // False when the connection cannot carry another request.
  bool serve_request(FrameChannel* ch, uint32_t rid, proto::StartedPage& page) {
    // A request the front end sent ahead and then withdrew (it went to
    // another worker): skipped, no frame sent for it (PROTOCOL.md 5.7).
    if (page.valid() && !page.claim(rid)) return skip_withdrawn(ch, rid, page);
    RequestIo io(ch, rid, timeout_ms_, &st_.last_activity_ms);
    RequestInfo info;
    Status s = scan_request_head(head_, &info);
    io.set_body_length(info.body_length);
    io.set_head_request(info.method == "HEAD");
    if (!s) {
      log::warn("request {}: malformed request head: {}", rid, s.message());
      io.fail(proto::ErrorCode::kBadRequest, s.message());
      return io.skip_body();
    }
    if (s_.queue_timeout > 0 && info.request_start_us > 0) {
      double waited = static_cast<double>(realtime_us() - info.request_start_us) / 1e6;
      if (waited > s_.queue_timeout) {
        log::warn("request {}: Queue timeout expired for WSGI daemon process '{}': waited {:.3f} s, queue-timeout is {} s",
                  rid, s_.name, waited, s_.queue_timeout);
        io.fail(proto::ErrorCode::kQueueTimeout, "Queue timeout expired");
        return io.skip_body();
      }
    }
    {
      std::lock_guard<std::mutex> lock(slot_.mu);
      slot_.request_id = rid;
      slot_.method.assign(info.method);
      slot_.uri.assign(info.uri);
    }
    // The application is called from here on: the front end may no longer
    // send the request to another worker as one never run.
    if (page.valid()) page.mark(rid);
    else if (!io.started()) return false;  // the front end is gone: nothing to run it for
    int64_t now = monotonic_ms();
    slot_.started_ms = now;
    slot_.timed_out = false;
    st_.last_activity_ms = now;
    slot_.conn_fd = ch->fd();
    // The state report (kState) counts the busy slots it lists.
    slot_.busy = true;
    st_.busy.fetch_add(1);
    run_request(&io, head_, info);
    st_.busy.fetch_sub(1);
    slot_.busy = false;
    slot_.conn_fd = -1;
    st_.last_activity_ms = monotonic_ms();
    uint64_t n = st_.requests.fetch_add(1) + 1;
    if (s_.maximum_requests > 0 && n == static_cast<uint64_t>(s_.maximum_requests)) {
      log::notice("maximum-requests ({}) reached: asking for a replacement", s_.maximum_requests);
      st_.post({Event::Kind::kReplaceMe, "maximum-requests", fmt::format("{} requests served", n)});
    }
    if (io.gone()) return false;
    return io.skip_body();
  }

  // Reads the withdrawn request's frames up to its REQUEST_END, then frees its
  // slot. False when the connection cannot carry another request.
  bool skip_withdrawn(FrameChannel* ch, uint32_t rid, proto::StartedPage& page) {
    proto::Frame f;
    for (;;) {
      FrameChannel::Read r = ch->read(&f, timeout_ms_);
      if (r != FrameChannel::Read::kFrame) {
        log::warn("request {}: front-end connection closed while skipping a withdrawn request: {}", rid,
                  r == FrameChannel::Read::kEof ? "end of stream" : ch->error());
        return false;
      }
      if (f.request_id == rid && f.type == proto::FrameType::kRequestEnd) break;
    }
    page.release_withdrawn(rid);
    return true;
  }

  const WorkerSettings& s_;
  WorkerState& st_;
  int listen_fd_;
  ThreadSlot& slot_;
  int timeout_ms_ = -1;
  std::string head_;
};

void* thread_main(void* p) {
  auto* args = static_cast<ThreadArgs*>(p);
  Server server(*args);
  delete args;
  server.run();
  return nullptr;
}

}  // namespace

Status start_request_threads(const WorkerSettings& settings, WorkerState* state, int listen_fd) {
  int listening = 0;
  socklen_t len = sizeof listening;
  if (getsockopt(listen_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0)
    return Status::sys("getsockopt", fmt::format("listen fd {}", listen_fd));
  if (!listening) return Status::error(fmt::format("listen fd {} is not a listening socket", listen_fd));
  int flags = fcntl(listen_fd, F_GETFL);
  if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return Status::sys("fcntl", fmt::format("listen fd {}", listen_fd));
  fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (settings.stack_size && *settings.stack_size > 0) {
    int err = pthread_attr_setstacksize(&attr, static_cast<size_t>(*settings.stack_size));
    if (err != 0) {
      pthread_attr_destroy(&attr);
      return Status::sys("pthread_attr_setstacksize", std::to_string(*settings.stack_size), err);
    }
  }
  for (int i = 0; i < settings.threads; ++i) {
    auto* args = new ThreadArgs{&settings, state, listen_fd, i};
    state->live_threads.fetch_add(1);
    pthread_t t;
    int err = pthread_create(&t, &attr, thread_main, args);
    if (err != 0) {
      delete args;
      state->live_threads.fetch_sub(1);
      pthread_attr_destroy(&attr);
      return Status::sys("pthread_create", fmt::format("request thread {}", i), err);
    }
  }
  pthread_attr_destroy(&attr);
  return Status::ok();
}

}  // namespace wsgid::worker
