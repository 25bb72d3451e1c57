#include "worker/request_io.h"

#include <poll.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "common/status.h"

namespace wsgid::worker {

int64_t monotonic_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

RequestIo::RequestIo(FrameChannel* channel, uint32_t request_id, int timeout_ms,
                     std::atomic<int64_t>* activity)
    : ch_(channel), id_(request_id), timeout_ms_(timeout_ms), activity_(activity) {
  ch_->set_direct_min(kDirectMin);
}

RequestIo::~RequestIo() {
  ch_->set_direct_min(0);
  if (client_fd_ >= 0) ::close(client_fd_);
  if (resp_fd_ >= 0) ::close(resp_fd_);
}

void RequestIo::touch() {
  if (activity_) activity_->store(monotonic_ms(), std::memory_order_relaxed);
}

RequestIo::Fetch RequestIo::fetch() {
  Fetch r = next_piece();
  if (r != Fetch::kData || !pending().empty()) return r;
  // The payload is in the socket (or the client's); the caller wants a view of it.
  const uint64_t left = client_fd_ >= 0 ? client_left_ : ch_->payload_left();
  scratch_.resize(left < proto::kBodyChunk ? left : proto::kBodyChunk);
  size_t got = 0;
  r = read_direct(scratch_.data(), scratch_.size(), &got);
  if (r != Fetch::kData) return r;
  pending_ = std::string_view(scratch_.data(), got);
  pending_pos_ = 0;
  return Fetch::kData;
}

RequestIo::Fetch RequestIo::read_failed(FrameChannel::Read r) {
  switch (r) {
    case FrameChannel::Read::kEof:
      gone_ = true;
      return Fetch::kGone;
    case FrameChannel::Read::kTimeout:
      error_ = fmt::format("timed out after {} ms waiting for the request body", timeout_ms_);
      return Fetch::kTimeout;
    default:  // kWoken, kError
      error_ = ch_->error();
      gone_ = true;
      return Fetch::kError;
  }
}

RequestIo::Fetch RequestIo::read_direct(char* dst, size_t n, size_t* got) {
  if (client_fd_ >= 0) return read_client(dst, n, got);
  FrameChannel::Read r = ch_->read_payload(dst, n, got, timeout_ms_, hook_);
  if (r != FrameChannel::Read::kFrame) return read_failed(r);
  bytes_in_ += *got;
  touch();
  return Fetch::kData;
}

RequestIo::Fetch RequestIo::next_piece() {
  if (gone_) return Fetch::kGone;
  if (body_ended_) return Fetch::kEnd;
  pending_ = {};
  pending_pos_ = 0;
  if (ch_->payload_left() > 0 || client_fd_ >= 0) return Fetch::kData;
  for (;;) {
    proto::Frame f;
    FrameChannel::Read r = ch_->read(&f, timeout_ms_, -1, hook_);
    if (r == FrameChannel::Read::kPartial) {
      // A REQUEST_BODY frame, its payload mostly still in the socket.
      touch();
      pending_ = f.payload;
      bytes_in_ += f.payload.size();
      return Fetch::kData;
    }
    if (r != FrameChannel::Read::kFrame) return read_failed(r);
    touch();
    switch (f.type) {
      case proto::FrameType::kRequestBody:
        if (f.payload.empty()) continue;
        pending_ = f.payload;
        bytes_in_ += f.payload.size();
        return Fetch::kData;
      case proto::FrameType::kRequestEnd:
        body_ended_ = true;
        return Fetch::kEnd;
      case proto::FrameType::kBodySocket: {
        Fetch r = begin_handover(f.payload);
        if (r != Fetch::kData || client_fd_ < 0) {
          if (r != Fetch::kData) return r;
          continue;  // skipping: closed unread
        }
        return Fetch::kData;
      }
      case proto::FrameType::kCancel:
        gone_ = true;
        return Fetch::kGone;
      case proto::FrameType::kError: {
        // The front end refused the rest of the body (PROTOCOL.md 5.2).
        Result<proto::ErrorMessage> e = proto::decode_error(f.payload);
        refusal_ = e.is_ok() ? e->message : "the front end refused the request body";
        gone_ = true;
        return Fetch::kGone;
      }
      default:
        error_ = fmt::format("unexpected {} frame in a request body", proto::type_name(f.type));
        gone_ = true;
        return Fetch::kError;
    }
  }
}

size_t RequestIo::read_into(char* dst, size_t n, Fetch* why) {
  size_t got = 0;
  *why = Fetch::kData;
  while (got < n) {
    if (pending().empty()) {
      Fetch r = next_piece();
      if (r != Fetch::kData) {
        *why = r;
        break;
      }
    }
    if (pending().empty()) {
      // Payload in the socket: received into dst by the kernel, no copy here.
      size_t k = 0;
      Fetch r = read_direct(dst + got, n - got, &k);
      got += k;
      if (r != Fetch::kData) {
        *why = r;
        break;
      }
      continue;
    }
    std::string_view p = pending();
    size_t take = p.size() < n - got ? p.size() : n - got;
    std::memcpy(dst + got, p.data(), take);
    consume(take);
    got += take;
  }
  return got;
}

RequestIo::Fetch RequestIo::begin_handover(std::string_view payload) {
  const int fd = ch_->take_fd();
  Result<proto::BodySocket> b = proto::decode_body_socket(payload);
  if (!b || fd < 0 || client_fd_ >= 0) {
    if (fd >= 0) ::close(fd);
    error_ = !b ? b.status().message() : fd < 0 ? "BODY_SOCKET frame without its descriptor" : "a second BODY_SOCKET frame";
    log::warn("request {}: {}: closing the front-end connection", id_, error_);
    gone_ = true;
    return Fetch::kError;
  }
  if (skipping_) {
    // The application is done without reading the body: the front end read
    // the response's end before any BODY_TAKEN, which says none was taken.
    ::close(fd);
    return Fetch::kData;
  }
  client_fd_ = fd;
  client_left_ = b->length;
  client_timeout_ms_ = b->timeout_ms > 0 ? static_cast<int>(b->timeout_ms) : -1;
  return Fetch::kData;
}

void RequestIo::end_handover(proto::TakenHow how) {
  if (client_fd_ < 0) return;
  ::close(client_fd_);
  client_fd_ = -1;
  proto::append_body_taken(&out_, id_, {client_taken_, how});
}

RequestIo::Fetch RequestIo::read_client(char* dst, size_t n, size_t* got) {
  *got = 0;
  const size_t want = n < client_left_ ? n : static_cast<size_t>(client_left_);
  proto::TakenHow how = proto::TakenHow::kClientClosed;
  for (;;) {
    ssize_t r = ::recv(client_fd_, dst, want, MSG_DONTWAIT);
    if (r > 0) {
      *got = static_cast<size_t>(r);
      client_left_ -= *got;
      client_taken_ += *got;
      bytes_in_ += *got;
      touch();
      if (client_left_ == 0) {
        // The whole body: the front end reads the client again (and parses
        // the next request) as soon as it knows.
        end_handover(proto::TakenHow::kDone);
        (void)write_out(false);
      }
      return Fetch::kData;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd p = {client_fd_, POLLIN, 0};
      if (hook_) hook_->before_wait();
      int k = ::poll(&p, 1, client_timeout_ms_);
      int saved = errno;
      if (hook_) hook_->after_wait();
      if (k > 0 || (k < 0 && saved == EINTR)) continue;
      if (k == 0) {
        how = proto::TakenHow::kTimeout;
        refusal_ = "timed out reading the request body (RequestReadTimeout body)";
      } else {
        refusal_ = Status::sys("poll", "the client's connection", saved).message();
      }
    } else {
      refusal_ = r == 0 ? std::string("the client closed the connection before the end of the request body")
                        : Status::sys("recv", "the client's connection").message();
    }
    break;
  }
  // The front end answers the client (408) or closes it; the request stops as
  // on a refusal (PROTOCOL.md 5.2).
  end_handover(how);
  (void)write_out(false);
  gone_ = true;
  return Fetch::kGone;
}

bool RequestIo::skip_body() {
  if (client_fd_ >= 0) {
    end_handover(proto::TakenHow::kDone);
    if (!write_out(false)) return false;
  }
  skipping_ = true;
  pending_ = {};
  pending_pos_ = 0;
  while (!body_ended_) {
    Fetch r = fetch();
    if (r == Fetch::kEnd) break;
    if (r != Fetch::kData) return false;
  }
  return !gone_;
}

void RequestIo::set_head(const proto::ResponseHead& head) {
  proto::append_response_head(&out_, id_, head);
  head_set_ = true;
  resp_no_body_ = proto::response_has_no_body(head_request_, head.status);
  for (const auto& [name, value] : head.headers) {
    if (name.size() != 14 || strncasecmp(name.data(), "content-length", 14) != 0) continue;
    // Digits only, as the front end reads it; anything else asks for nothing.
    int64_t n = 0;
    bool ok = !value.empty() && value.size() <= 18;
    for (char c : value) ok = ok && c >= '0' && c <= '9' && ((n = n * 10 + (c - '0')), true);
    resp_length_ = ok ? n : -1;
    break;
  }
}

bool RequestIo::want_socket() {
  if (resp_asked_ || !head_set_ || head_written_ || gone_ || client_fd_ >= 0 || resp_no_body_ ||
      resp_length_ < static_cast<int64_t>(kSocketMin))
    return false;
  return read_end_if_body_came();
}

bool RequestIo::read_end_if_body_came() {
  if (body_ended_) return true;
  // The whole body came (none, for most requests): the front end sends its
  // REQUEST_END right behind it.
  return body_length_ >= 0 && bytes_in_ == static_cast<uint64_t>(body_length_) && pending().empty() &&
         ch_->payload_left() == 0 && next_piece() == Fetch::kEnd;
}

Status RequestIo::ask_socket() {
  resp_asked_ = true;
  proto::append_socket_ask(&out_, id_, {static_cast<uint64_t>(resp_length_)});
  Status s = write_out(false);
  if (!s) return s;
  for (;;) {
    proto::Frame f;
    FrameChannel::Read r = ch_->read_new(&f, timeout_ms_, -1, hook_);
    if (r == FrameChannel::Read::kFrame && for_later(f)) continue;
    if (r != FrameChannel::Read::kFrame) {
      gone_ = true;
      if (r == FrameChannel::Read::kTimeout) error_ = fmt::format("no RESPONSE_SOCKET within {} ms", timeout_ms_);
      else if (r != FrameChannel::Read::kEof) error_ = ch_->error();
      return Status::error(r == FrameChannel::Read::kEof ? "the client went away" : error_);
    }
    touch();
    if (f.type == proto::FrameType::kCancel) {
      gone_ = true;
      return Status::error("the client went away");
    }
    if (f.type != proto::FrameType::kResponseSocket) {
      error_ = fmt::format("unexpected {} frame while waiting for RESPONSE_SOCKET", proto::type_name(f.type));
      break;
    }
    const int fd = ch_->take_fd();
    Result<proto::ResponseSocket> g = proto::decode_response_socket(f.payload);
    if (g && g->granted && fd >= 0) {
      resp_fd_ = fd;
      resp_out_ = true;
      resp_left_ = static_cast<uint64_t>(resp_length_);
      resp_timeout_ms_ = g->timeout_ms > 0 ? static_cast<int>(g->timeout_ms) : -1;
      resp_head_.assign(g->head);
      return Status::ok();
    }
    if (fd >= 0) ::close(fd);
    if (g && !g->granted) return Status::ok();  // RESPONSE_BODY frames, as usual
    error_ = !g ? g.status().message() : "RESPONSE_SOCKET granted without its descriptor";
    break;
  }
  log::warn("request {}: {}: closing the front-end connection", id_, error_);
  gone_ = true;
  return Status::error(error_);
}

void RequestIo::end_response_socket(proto::TakenHow how) {
  if (resp_fd_ < 0) return;
  ::close(resp_fd_);
  resp_fd_ = -1;
  proto::append_response_sent(&out_, id_, {resp_sent_, how});
}

bool RequestIo::wait_client_writable() {
  struct pollfd p = {resp_fd_, POLLOUT, 0};
  for (;;) {
    if (hook_) hook_->before_wait();
    int n = ::poll(&p, 1, resp_timeout_ms_);
    int saved = errno;
    if (hook_) hook_->after_wait();
    if (n > 0) return true;
    if (n < 0 && saved == EINTR) continue;
    if (n == 0) {
      resp_timed_out_ = true;
      error_ = fmt::format("timed out after {} ms writing the response to the client (Timeout)", resp_timeout_ms_);
    } else {
      error_ = Status::sys("poll", "the client's connection", saved).message();
    }
    return false;
  }
}

Status RequestIo::client_write_failed(proto::TakenHow how) {
  // The front end closes the client's connection; the application's write
  // raises, as it does when the front end reports the client gone.
  if (!resp_timed_out_) how = proto::TakenHow::kClientClosed;
  end_response_socket(how);
  (void)write_out(false);
  gone_ = true;
  return Status::error(error_.empty() ? std::string("the client went away") : error_);
}

Status RequestIo::write_client(std::string_view data) {
  if (resp_fd_ < 0) {
    gone_ = true;
    return Status::error(error_.empty() ? std::string("the client went away") : error_);
  }
  if (data.size() > resp_left_) data = data.substr(0, static_cast<size_t>(resp_left_));
  while (!data.empty() || resp_head_pos_ < resp_head_.size()) {
    // The head with the body's first bytes: one send, as the front end would.
    struct iovec iov[2];
    struct msghdr msg = {};
    msg.msg_iov = iov;
    const size_t head_left = resp_head_.size() - resp_head_pos_;
    if (head_left > 0) iov[msg.msg_iovlen++] = {resp_head_.data() + resp_head_pos_, head_left};
    if (!data.empty()) iov[msg.msg_iovlen++] = {const_cast<char*>(data.data()), data.size()};
    ssize_t k;
    if (data.size() >= kReleaseMin && hook_) {
      hook_->before_wait();
      k = ::sendmsg(resp_fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      const int saved = errno;
      hook_->after_wait();
      errno = saved;
    } else {
      k = ::sendmsg(resp_fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    if (k > 0) {
      size_t n = static_cast<size_t>(k);
      const size_t h = n < head_left ? n : head_left;
      resp_head_pos_ += h;
      n -= h;
      data.remove_prefix(n);
      resp_left_ -= n;
      resp_sent_ += n;
      bytes_out_ += static_cast<uint64_t>(k);
      touch();
      continue;
    }
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_client_writable()) continue;
      return client_write_failed(proto::TakenHow::kTimeout);
    }
    return client_write_failed(proto::TakenHow::kClientClosed);
  }
  return Status::ok();
}

void RequestIo::append_body(std::string_view data) {
  while (!data.empty()) {
    size_t n = data.size() < proto::kBodyChunk ? data.size() : proto::kBodyChunk;
    proto::append_frame(&out_, proto::FrameType::kResponseBody, id_, data.substr(0, n));
    data.remove_prefix(n);
  }
}

bool RequestIo::check_cancel() {
  // Only once the body is complete: before that, readable bytes are body frames
  // the application may still read.
  if (!body_ended_ || gone_) return gone_;
  proto::Frame f;
  FrameChannel::Read r;
  do {
    if (!ch_->readable_now()) return false;
    r = ch_->read_new(&f, 0);
  } while (r == FrameChannel::Read::kFrame && for_later(f));
  if (r == FrameChannel::Read::kTimeout) return false;
  // Anything else (kCancel, EOF, an error, a frame out of turn) ends the request.
  gone_ = true;
  if (r == FrameChannel::Read::kFrame && f.type != proto::FrameType::kCancel)
    error_ = fmt::format("unexpected {} frame during a response", proto::type_name(f.type));
  return true;
}

bool RequestIo::for_later(const proto::Frame& f) {
  if (f.request_id == id_ || f.request_id == 0) return false;
  ch_->keep_for_later(f);
  return true;
}

Status RequestIo::flush() { return write_out(true); }

Status RequestIo::write_out(bool look_for_cancel) {
  if (out_.empty()) return Status::ok();
  if (look_for_cancel && check_cancel()) {
    out_.clear();
    return Status::error("the client went away");
  }
  Status s = ch_->write_all(out_, timeout_ms_, hook_);
  if (head_set_) head_written_ = true;
  bytes_out_ += out_.size();
  out_.clear();
  touch();
  if (!s) gone_ = true;
  return s;
}

Status RequestIo::finish() {
  end_handover(proto::TakenHow::kDone);
  if (resp_fd_ >= 0 && resp_head_pos_ < resp_head_.size()) {
    // No body came: the head still goes out (the front end counts it sent).
    Status s = write_client({});
    if (!s) return s;
  }
  end_response_socket(proto::TakenHow::kDone);
  // No look for a cancel: the response is complete with this write.
  proto::append_frame(&out_, proto::FrameType::kResponseEnd, id_, {});
  Status s = write_out(false);
  if (s) finished_ = true;
  return s;
}

Status RequestIo::send_body(std::string_view data, bool flush, bool end) {
  if (resp_no_body_) {
    if (end) return finish();
    // The head at the first write (a streamed answer's head is not held
    // back), then only the look for a cancel that a write makes.
    (void)read_end_if_body_came();  // a CANCEL is looked for after it only
    if (!out_.empty()) return write_out(true);
    if (check_cancel()) return Status::error("the client went away");
    return Status::ok();
  }
  if (!resp_asked_ && want_socket()) {
    Status s = ask_socket();
    if (!s) return s;
  }
  if (resp_out_) {
    Status s = write_client(data);
    if (!s || !end) return s;
    return finish();
  }
  if (data.size() < kCopyLimit) {
    append_body(data);
    if (end) return finish();
    if (flush || out_.size() >= proto::kBodyChunk) return write_out(true);
    return Status::ok();
  }
  // As write_out(): look for a cancel unless this write completes the response.
  if (!end && check_cancel()) {
    out_.clear();
    return Status::error("the client went away");
  }
  if (end) end_handover(proto::TakenHow::kDone);
  Status s = write_with(data, end);
  if (s && end) finished_ = true;
  return s;
}

Status RequestIo::send_file(int fd, int64_t offset, bool* used) {
  *used = false;
  struct stat st;
  if (resp_no_body_) {
    *used = true;  // nothing of the file goes out: it is not read
    return Status::ok();
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || offset < 0) return Status::ok();
  if (!resp_asked_ && want_socket()) {
    Status s = ask_socket();
    if (!s) return s;
  }
  if (!resp_out_) return Status::ok();
  *used = true;
  Status s = write_client({});  // the head the front end gave
  if (!s) return s;
  off_t off = static_cast<off_t>(offset);
  while (resp_left_ > 0) {
    const size_t want = resp_left_ < (size_t{1} << 30) ? static_cast<size_t>(resp_left_) : size_t{1} << 30;
    if (hook_) hook_->before_wait();
    ssize_t k = ::sendfile(resp_fd_, fd, &off, want);
    const int saved = errno;
    if (hook_) hook_->after_wait();
    if (k > 0) {
      resp_left_ -= static_cast<uint64_t>(k);
      resp_sent_ += static_cast<uint64_t>(k);
      bytes_out_ += static_cast<uint64_t>(k);
      touch();
      continue;
    }
    if (k == 0) break;  // the file ends before the Content-Length: a short body
    if (saved == EINTR) continue;
    if (saved == EAGAIN) {
      if (wait_client_writable()) continue;
      return client_write_failed(proto::TakenHow::kTimeout);
    }
    if (saved != EPIPE && saved != ECONNRESET) error_ = Status::sys("sendfile", "the response's file", saved).message();
    return client_write_failed(proto::TakenHow::kClientClosed);
  }
  return Status::ok();
}

Status RequestIo::write_with(std::string_view data, bool end) {
  const size_t chunks = (data.size() + proto::kBodyChunk - 1) / proto::kBodyChunk;
  std::string headers;  // reserved up front: the iovecs point into it
  headers.reserve(proto::kHeaderSize * (chunks + 1));
  std::vector<struct iovec> iov;
  iov.reserve(2 * chunks + 2);
  iov.push_back({out_.data(), out_.size()});
  for (size_t off = 0; off < data.size(); off += proto::kBodyChunk) {
    size_t n = data.size() - off < proto::kBodyChunk ? data.size() - off : proto::kBodyChunk;
    proto::append_header(&headers, proto::FrameType::kResponseBody, id_, static_cast<uint32_t>(n));
    iov.push_back({headers.data() + headers.size() - proto::kHeaderSize, proto::kHeaderSize});
    iov.push_back({const_cast<char*>(data.data() + off), n});
  }
  if (end) {
    proto::append_header(&headers, proto::FrameType::kResponseEnd, id_, 0);
    iov.push_back({headers.data() + headers.size() - proto::kHeaderSize, proto::kHeaderSize});
  }
  const uint64_t total = out_.size() + headers.size() + data.size();
  Status s = ch_->write_all(iov.data(), iov.size(), timeout_ms_, hook_);
  if (head_set_) head_written_ = true;
  bytes_out_ += total;
  out_.clear();
  touch();
  if (!s) gone_ = true;
  return s;
}

Status RequestIo::started() {
  std::string f;
  proto::append_header(&f, proto::FrameType::kStarted, id_, 0);
  Status s = ch_->write_all(f, timeout_ms_, hook_);
  if (!s) gone_ = true;
  return s;
}

void RequestIo::fail(proto::ErrorCode code, std::string_view message) {
  if (finished_ || failed_) return;
  failed_ = true;
  if (!head_written_) out_.clear();
  end_handover(proto::TakenHow::kDone);
  end_response_socket(proto::TakenHow::kDone);
  proto::ErrorMessage err{code, std::string(message)};
  proto::append_error(&out_, id_, err);
  if (gone_) {
    out_.clear();
    return;
  }
  Status s = ch_->write_all(out_, timeout_ms_, hook_);
  out_.clear();
  if (!s) gone_ = true;
}

}  // namespace wsgid::worker
