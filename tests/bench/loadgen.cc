// loadgen: a small HTTP/1.1 load client on loopback that measures what a restart
// costs (issue #7): one thread, epoll, N keep-alive connections (or, with
// --close, N clients that open a new connection per request and send
// "Connection: close"), each sending its next request as soon as the previous
// response is complete. It counts responses
// per status code, socket errors, timeouts, latency percentiles, req/s and the
// longest gap between two consecutive completed responses (across all
// connections), and when that gap began.
//
//   loadgen --url http://127.0.0.1:PORT/path [-c 16] [-d 10] [--timeout 2]
//           [--method GET|POST] [--body-size N] [--max-requests N] [--close] [--json]
//
// Counting (each request attempt ends exactly one way, so requests = ok + failed):
//   - a complete response: counted under its status code; 2xx = ok, else failed;
//   - a socket error: connect refused or failed, reset, EOF or a truncated or
//     malformed response before the response was complete. A request lost on a
//     kept-alive connection the server closed IS a socket error (as wrk counts it).
//     The connection is then closed and reopened; after a failed connect it waits
//     kConnectBackoff before the next attempt, so a closed port costs a bounded
//     number of errors per second instead of a busy loop;
//   - a timeout: no complete response --timeout seconds after the attempt began
//     (the connect included); the connection is closed (RST) and reopened.
// Latency runs from the start of the attempt (connect included for a new
// connection) to the last byte of the response. The gap is measured between
// consecutive completed responses, any status, and also from the last response
// to the end of the run (from the start when nothing answered), so a server
// that stops answering shows its whole silence; the start of the run to the
// first response (the connects) is not a gap. Requests still in flight when
// the run ends are not counted.
//
// It stops by itself after -d seconds or once --max-requests attempts have ended;
// SIGINT/SIGTERM end it early, with the summary. Exit 0 when it ran (even with
// failures), 2 on usage errors, 1 when it could not start (e.g. epoll_create).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr double kConnectBackoff = 0.005;    // seconds between failed connects, per connection
constexpr size_t kMaxHeaderBytes = 64 * 1024;  // a longer head is malformed
constexpr size_t kMaxLineBytes = 8 * 1024;     // chunk-size and trailer lines

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "80";
  std::string path = "/";
  int connections = 16;
  double duration = 10;
  double timeout = 2;
  std::string method = "GET";
  size_t body_size = 0;
  uint64_t max_requests = 0;  // 0 = no limit
  bool json = false;
  bool close = false;  // a new connection per request
  bool method_given = false;
};

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr,
               "loadgen: %s\n"
               "usage: loadgen --url http://HOST:PORT/PATH [-c CONNS] [-d SECONDS] [--timeout SECONDS]\n"
               "               [--method GET|POST] [--body-size N] [--max-requests N] [--close] [--json]\n"
               "exit codes: 0 it ran (even with failed requests), 2 usage error, 1 could not start\n",
               what.c_str());
  std::exit(2);
}

double parse_number(const std::string& opt, const std::string& text, double min) {
  std::string t = text;
  if (!t.empty() && t.back() == 's' && opt != "--body-size" && opt != "--max-requests" && opt != "-c") t.pop_back();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(t.c_str(), &end);
  if (t.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || v < min)
    usage_error(fmt::format("{}: bad value '{}'", opt, text));
  return v;
}

// http://host[:port][/path]
void parse_url(const std::string& url, Options& o) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) usage_error(fmt::format("--url: only http:// URLs: '{}'", url));
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  o.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty()) usage_error(fmt::format("--url: no host in '{}'", url));
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) usage_error(fmt::format("--url: bad host in '{}'", url));
    o.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') usage_error(fmt::format("--url: bad host in '{}'", url));
      o.port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    o.host = authority.substr(0, colon);
    if (colon != std::string::npos) o.port = authority.substr(colon + 1);
  }
  if (o.host.empty() || o.port.empty() ||
      o.port.find_first_not_of("0123456789") != std::string::npos || o.port.size() > 5)
    usage_error(fmt::format("--url: bad host or port in '{}'", url));
}

Options parse_args(int argc, char** argv) {
  Options o;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    bool has_inline = false;
    if (a.rfind("--", 0) == 0) {
      size_t eq = a.find('=');
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        has_inline = true;
      }
    }
    auto need = [&]() -> std::string {
      if (has_inline) return value;
      if (i + 1 >= argc) usage_error(fmt::format("{} needs a value", a));
      return argv[++i];
    };
    if (a == "--url") {
      parse_url(need(), o);
      have_url = true;
    } else if (a == "-c" || a == "--connections") {
      double v = parse_number("-c", need(), 1);
      if (v != std::floor(v) || v > 10000) usage_error("-c: between 1 and 10000 connections");
      o.connections = static_cast<int>(v);
    } else if (a == "-d" || a == "--duration") {
      o.duration = parse_number("-d", need(), 0.001);
    } else if (a == "--timeout") {
      o.timeout = parse_number("--timeout", need(), 0.001);
    } else if (a == "--method") {
      o.method = need();
      o.method_given = true;
      if (o.method != "GET" && o.method != "POST") usage_error(fmt::format("--method: GET or POST, not '{}'", o.method));
    } else if (a == "--body-size") {
      double v = parse_number("--body-size", need(), 0);
      if (v != std::floor(v) || v > (1 << 30)) usage_error("--body-size: a whole number of bytes up to 1 GiB");
      o.body_size = static_cast<size_t>(v);
    } else if (a == "--max-requests") {
      double v = parse_number("--max-requests", need(), 1);
      if (v != std::floor(v)) usage_error("--max-requests: a whole number");
      o.max_requests = static_cast<uint64_t>(v);
    } else if (a == "--close") {
      if (has_inline) usage_error("--close takes no value");
      o.close = true;
    } else if (a == "--json") {
      if (has_inline) usage_error("--json takes no value");
      o.json = true;
    } else if (a == "-h" || a == "--help") {
      std::printf(
          "usage: loadgen --url http://HOST:PORT/PATH [-c CONNS] [-d SECONDS] [--timeout SECONDS]\n"
          "               [--method GET|POST] [--body-size N] [--max-requests N] [--close] [--json]\n"
          "exit codes: 0 it ran (even with failed requests), 2 usage error, 1 could not start\n");
      std::exit(0);
    } else {
      usage_error(fmt::format("unknown argument '{}'", argv[i]));
    }
  }
  if (!have_url) usage_error("--url is required");
  if (o.body_size > 0 && !o.method_given) o.method = "POST";
  return o;
}

// Incremental HTTP/1.1 response framing: feed bytes, learn when one response is
// complete (and whether the connection stays open), or that it is malformed.
class ResponseParser {
 public:
  enum class Result { kNeedMore, kComplete, kMalformed };

  explicit ResponseParser(bool head_request) : head_request_(head_request) {}

  void reset() {
    state_ = State::kHead;
    buf_.clear();
    status_ = 0;
    keep_alive_ = true;
    remaining_ = 0;
  }

  // Consumes from data; on kComplete *used says how many bytes belonged to this
  // response (the rest is the start of a next one, which we never expect).
  Result feed(const char* data, size_t len, size_t* used) {
    size_t pos = 0;
    while (true) {
      switch (state_) {
        case State::kHead: {
          size_t old = buf_.size();
          buf_.append(data + pos, len - pos);
          size_t end = buf_.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
          if (end == std::string::npos) {
            if (buf_.size() > kMaxHeaderBytes) return Result::kMalformed;
            *used = len;
            return Result::kNeedMore;
          }
          pos += end + 4 - old;
          std::string head = buf_.substr(0, end + 2);
          buf_.clear();
          if (!parse_head(head)) return Result::kMalformed;
          if (status_ >= 100 && status_ < 200) {  // interim: the real one follows
            state_ = State::kHead;
            continue;
          }
          if (head_request_ || status_ == 204 || status_ == 304) {
            *used = pos;
            return Result::kComplete;
          }
          if (chunked_) {
            state_ = State::kChunkSize;
          } else if (content_length_) {
            remaining_ = *content_length_;
            state_ = State::kBody;
          } else {
            keep_alive_ = false;  // read until the server closes
            state_ = State::kUntilClose;
          }
          continue;
        }
        case State::kBody: {
          uint64_t take = std::min<uint64_t>(remaining_, len - pos);
          remaining_ -= take;
          pos += take;
          if (remaining_ == 0) {
            *used = pos;
            return Result::kComplete;
          }
          *used = len;
          return Result::kNeedMore;
        }
        case State::kChunkSize:
        case State::kChunkDataEnd:
        case State::kTrailer: {
          const char* start = data + pos;
          const char* nl = static_cast<const char*>(std::memchr(start, '\n', len - pos));
          if (!nl) {
            buf_.append(start, len - pos);
            if (buf_.size() > kMaxLineBytes) return Result::kMalformed;
            *used = len;
            return Result::kNeedMore;
          }
          buf_.append(start, nl - start + 1);
          pos += nl - start + 1;
          std::string line;
          line.swap(buf_);
          if (line.size() < 2 || line[line.size() - 2] != '\r') return Result::kMalformed;
          line.resize(line.size() - 2);
          if (state_ == State::kChunkDataEnd) {
            if (!line.empty()) return Result::kMalformed;
            state_ = State::kChunkSize;
          } else if (state_ == State::kTrailer) {
            if (line.empty()) {
              *used = pos;
              return Result::kComplete;
            }
          } else {
            size_t semi = line.find(';');
            std::string hex = line.substr(0, semi);
            while (!hex.empty() && (hex.back() == ' ' || hex.back() == '\t')) hex.pop_back();
            if (hex.empty() || hex.size() > 15 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
              return Result::kMalformed;
            remaining_ = std::stoull(hex, nullptr, 16);
            state_ = remaining_ == 0 ? State::kTrailer : State::kChunkData;
          }
          continue;
        }
        case State::kChunkData: {
          uint64_t take = std::min<uint64_t>(remaining_, len - pos);
          remaining_ -= take;
          pos += take;
          if (remaining_ == 0) {
            state_ = State::kChunkDataEnd;
            continue;
          }
          *used = len;
          return Result::kNeedMore;
        }
        case State::kUntilClose:
          *used = len;
          return Result::kNeedMore;
      }
    }
  }

  // The server closed the connection: completes a body read until close.
  bool complete_at_eof() const { return state_ == State::kUntilClose; }
  bool started() const { return state_ != State::kHead || !buf_.empty(); }
  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  enum class State { kHead, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailer, kUntilClose };

  static std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }
  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }

  // head = status line and header lines, each ending in CRLF.
  bool parse_head(const std::string& head) {
    size_t eol = head.find("\r\n");
    std::string_view line(head.data(), eol);
    // HTTP/1.x SP DDD [SP reason]
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') || line[8] != ' ')
      return false;
    for (int i = 9; i < 12; ++i)
      if (line[i] < '0' || line[i] > '9') return false;
    if (line.size() > 12 && line[12] != ' ') return false;
    status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (status_ < 100) return false;
    bool http10 = line[7] == '0';
    bool conn_close = false, conn_keep_alive = false;
    chunked_ = false;
    content_length_.reset();
    size_t pos = eol + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      std::string_view h(head.data() + pos, next - pos);
      pos = next + 2;
      size_t colon = h.find(':');
      if (colon == std::string_view::npos || colon == 0) return false;
      std::string name = lower(h.substr(0, colon));
      if (name.find_first_of(" \t") != std::string::npos) return false;
      std::string value = lower(trim(h.substr(colon + 1)));
      if (name == "content-length") {
        if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos)
          return false;
        uint64_t n = std::stoull(value);
        if (content_length_ && *content_length_ != n) return false;
        content_length_ = n;
      } else if (name == "transfer-encoding") {
        std::string_view v = value;
        size_t comma = v.rfind(',');
        std::string_view last = trim(comma == std::string_view::npos ? v : v.substr(comma + 1));
        if (last != "chunked") return false;  // we cannot frame anything else
        chunked_ = true;
      } else if (name == "connection") {
        if (value.find("close") != std::string::npos) conn_close = true;
        if (value.find("keep-alive") != std::string::npos) conn_keep_alive = true;
      }
    }
    keep_alive_ = !conn_close && (!http10 || conn_keep_alive);
    return true;
  }

  bool head_request_;
  State state_ = State::kHead;
  std::string buf_;
  int status_ = 0;
  bool keep_alive_ = true;
  bool chunked_ = false;
  std::optional<uint64_t> content_length_;
  uint64_t remaining_ = 0;
};

enum class ErrorKind { kConnect, kReset, kEof, kMalformed, kWrite };

struct Conn {
  int fd = -1;
  enum class State { kIdle, kBackoff, kConnecting, kSending, kReceiving } state = State::kIdle;
  Clock::time_point attempt_start{};  // when this request's attempt began (connect included)
  Clock::time_point backoff_until{};
  size_t sent = 0;
  ResponseParser parser{false};
  bool epollout = false;
  uint32_t generation = 0;  // bumped per socket: events of a closed socket are ignored
};

class LoadGen {
 public:
  explicit LoadGen(Options o) : opt_(std::move(o)), conns_(opt_.connections) {
    for (auto& c : conns_) c.parser = ResponseParser(false);
    std::string host_header = opt_.host.find(':') != std::string::npos ? "[" + opt_.host + "]" : opt_.host;
    request_ = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: wsgid-loadgen\r\n", opt_.method,
                           opt_.path, host_header, opt_.port);
    if (opt_.method == "POST" || opt_.body_size > 0)
      request_ += fmt::format("Content-Type: application/octet-stream\r\nContent-Length: {}\r\n", opt_.body_size);
    if (opt_.close) request_ += "Connection: close\r\n";
    request_ += "\r\n";
    request_.append(opt_.body_size, 'x');
  }

  int run() {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(opt_.host.c_str(), opt_.port.c_str(), &hints, &res);
    if (rc != 0) usage_error(fmt::format("getaddrinfo({}:{}): {}", opt_.host, opt_.port, gai_strerror(rc)));
    std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
    addr_len_ = res->ai_addrlen;
    family_ = res->ai_family;
    freeaddrinfo(res);

    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) return fail_start("epoll_create1");
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return fail_start("sigprocmask");
    sig_fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sig_fd_ < 0) return fail_start("signalfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kSignalTag;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, sig_fd_, &ev) != 0) return fail_start("epoll_ctl(signalfd)");
    signal(SIGPIPE, SIG_IGN);

    start_ = Clock::now();
    last_response_ = start_;
    end_ = start_ + std::chrono::duration_cast<Clock::duration>(Seconds(opt_.duration));
    for (size_t i = 0; i < conns_.size(); ++i) begin_attempt(i, start_);

    bool stop = false;
    std::vector<epoll_event> events(conns_.size() + 1);
    while (!stop) {
      Clock::time_point now = Clock::now();
      if (now >= end_ || done()) break;
      Clock::time_point wake = end_;
      for (auto& c : conns_) {
        if (c.state == Conn::State::kBackoff) wake = std::min(wake, c.backoff_until);
        else if (c.state != Conn::State::kIdle) wake = std::min(wake, c.attempt_start + timeout_dur());
      }
      int ms = static_cast<int>(std::ceil(Seconds(std::max(wake - now, Clock::duration::zero())).count() * 1000));
      int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), ms);
      if (n < 0 && errno != EINTR) return fail_start("epoll_wait");
      for (int k = 0; k < n; ++k) {
        if (events[k].data.u64 == kSignalTag) {
          signalfd_siginfo si;
          while (read(sig_fd_, &si, sizeof si) == sizeof si) stop = true;
          continue;
        }
        size_t i = events[k].data.u64 & 0xffffffffu;
        if (i >= conns_.size() || (events[k].data.u64 >> 32) != conns_[i].generation) continue;
        on_event(i, events[k].events);
      }
      now = Clock::now();
      for (size_t i = 0; i < conns_.size(); ++i) {
        Conn& c = conns_[i];
        if (c.state == Conn::State::kBackoff && now >= c.backoff_until) {
          c.state = Conn::State::kIdle;
          begin_attempt(i, now);
        } else if ((c.state == Conn::State::kConnecting || c.state == Conn::State::kSending ||
                    c.state == Conn::State::kReceiving) &&
                   now - c.attempt_start >= timeout_dur()) {
          ++timeouts_;
          ++ended_;
          close_conn(c, true);
          begin_attempt(i, now);
        }
      }
    }
    Clock::time_point stop_at = Clock::now();
    for (auto& c : conns_) close_conn(c, true);
    report(stop_at);
    return 0;
  }

 private:
  static constexpr uint64_t kSignalTag = ~uint64_t{0};

  Clock::duration timeout_dur() const {
    return std::chrono::duration_cast<Clock::duration>(Seconds(opt_.timeout));
  }

  uint64_t tag(size_t i) const { return (uint64_t{conns_[i].generation} << 32) | i; }

  bool done() const { return opt_.max_requests && ended_ >= opt_.max_requests; }

  int fail_start(const char* call) {
    std::fprintf(stderr, "loadgen: %s: %s\n", call, std::strerror(errno));
    return 1;
  }

  void close_conn(Conn& c, bool abortive) {
    if (c.fd >= 0) {
      if (abortive) {  // RST: no TIME_WAIT pile-up from abandoned connections
        linger l{1, 0};
        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      }
      close(c.fd);  // also removes it from the epoll set
      c.fd = -1;
    }
    c.state = Conn::State::kIdle;
    c.epollout = false;
  }

  void set_events(size_t i, bool want_out) {
    Conn& c = conns_[i];
    if (c.epollout == want_out) return;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want_out ? uint32_t{EPOLLOUT} : 0u);
    ev.data.u64 = tag(i);
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.epollout = want_out;
  }

  // A new request on connection i: on the open connection, or connect first.
  void begin_attempt(size_t i, Clock::time_point now) {
    Conn& c = conns_[i];
    if (opt_.max_requests && issued_ >= opt_.max_requests) {
      if (c.fd >= 0 && c.state == Conn::State::kIdle) close_conn(c, false);
      c.state = Conn::State::kIdle;
      return;
    }
    ++issued_;
    c.attempt_start = now;
    c.sent = 0;
    c.parser.reset();
    if (c.fd >= 0) {
      c.state = Conn::State::kSending;
      send_more(i);
      return;
    }
    c.fd = socket(family_, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      error(i, ErrorKind::kConnect, now);
      return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++c.generation;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
    ev.data.u64 = tag(i);
    c.epollout = true;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
      error(i, ErrorKind::kConnect, now);
      return;
    }
    int rc = connect(c.fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_);
    if (rc == 0) {
      c.state = Conn::State::kSending;
      send_more(i);
    } else if (errno == EINPROGRESS) {
      c.state = Conn::State::kConnecting;
    } else {
      error(i, ErrorKind::kConnect, now);
    }
  }

  // The attempt on connection i failed: count it, drop the connection, go on.
  void error(size_t i, ErrorKind kind, Clock::time_point now) {
    Conn& c = conns_[i];
    ++socket_errors_;
    ++error_kinds_[kind];
    ++ended_;
    close_conn(c, true);
    if (kind == ErrorKind::kConnect) {
      c.state = Conn::State::kBackoff;
      c.backoff_until = now + std::chrono::duration_cast<Clock::duration>(Seconds(kConnectBackoff));
    } else {
      begin_attempt(i, now);
    }
  }

  void send_more(size_t i) {
    Conn& c = conns_[i];
    while (c.sent < request_.size()) {
      ssize_t n = send(c.fd, request_.data() + c.sent, request_.size() - c.sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        set_events(i, true);
        return;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        // EPIPE / ECONNRESET: the server closed a kept-alive connection. A
        // response may still be readable (an early answer); try reading first.
        c.state = Conn::State::kReceiving;
        set_events(i, false);
        if (receive(i)) error(i, ErrorKind::kWrite, Clock::now());
        return;
      }
    }
    c.state = Conn::State::kReceiving;
    set_events(i, false);
  }

  void on_event(size_t i, uint32_t events) {
    Conn& c = conns_[i];
    if (c.fd < 0) return;
    Clock::time_point now = Clock::now();
    if (c.state == Conn::State::kConnecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        error(i, ErrorKind::kConnect, now);
        return;
      }
      c.state = Conn::State::kSending;
      send_more(i);
      return;
    }
    if (c.state == Conn::State::kSending && (events & EPOLLOUT)) send_more(i);
    if (c.fd >= 0 && (c.state == Conn::State::kSending || c.state == Conn::State::kReceiving) &&
        (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
      receive(i);
  }

  // Reads what is there. Returns false when the connection was closed (error
  // or completion with a new attempt started on a new connection).
  bool receive(size_t i) {
    Conn& c = conns_[i];
    char buf[65536];
    while (true) {
      ssize_t n = recv(c.fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      Clock::time_point now = Clock::now();
      if (n < 0) {
        error(i, ErrorKind::kReset, now);
        return false;
      }
      if (n == 0) {
        if (c.parser.complete_at_eof()) {
          complete(i, now, false);
          return false;
        }
        error(i, c.parser.started() ? ErrorKind::kMalformed : ErrorKind::kEof, now);
        return false;
      }
      size_t used = 0;
      switch (c.parser.feed(buf, static_cast<size_t>(n), &used)) {
        case ResponseParser::Result::kNeedMore:
          break;
        case ResponseParser::Result::kMalformed:
          error(i, ErrorKind::kMalformed, now);
          return false;
        case ResponseParser::Result::kComplete:
          if (used != static_cast<size_t>(n) || c.state != Conn::State::kReceiving || c.sent < request_.size()) {
            // Bytes after the response, or an answer before the whole request
            // went out: count the response, but do not reuse the connection.
            complete(i, now, false);
            return false;
          }
          complete(i, now, c.parser.keep_alive());
          return c.fd >= 0;
      }
    }
  }

  void complete(size_t i, Clock::time_point now, bool reuse) {
    Conn& c = conns_[i];
    int status = c.parser.status();
    ++status_[status];
    ++responses_;
    ++ended_;
    latencies_us_.push_back(static_cast<uint32_t>(std::min<int64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - c.attempt_start).count(), UINT32_MAX)));
    note_gap(now, responses_ == 1);
    if (!reuse || opt_.close) close_conn(c, false);
    c.state = Conn::State::kIdle;
    begin_attempt(i, now);
  }

  // first: this is the first response (the time before it is not a gap).
  void note_gap(Clock::time_point now, bool first) {
    Clock::duration gap = now - last_response_;
    if (!first && gap > max_gap_) {
      max_gap_ = gap;
      max_gap_at_ = last_response_;
    }
    last_response_ = now;
  }

  void report(Clock::time_point stop_at) {
    note_gap(stop_at, false);  // the silence after the last response counts too
    double duration = Seconds(stop_at - start_).count();
    std::sort(latencies_us_.begin(), latencies_us_.end());
    auto pct = [&](double p) -> double {
      if (latencies_us_.empty()) return 0;
      size_t idx = static_cast<size_t>(std::ceil(p / 100.0 * latencies_us_.size()));
      idx = std::clamp<size_t>(idx, 1, latencies_us_.size()) - 1;
      return latencies_us_[idx] / 1000.0;
    };
    uint64_t ok = 0, non2xx = 0;
    nlohmann::json status = nlohmann::json::object();
    for (auto& [code, n] : status_) {
      status[std::to_string(code)] = n;
      if (code >= 200 && code < 300) ok += n;
      else non2xx += n;
    }
    uint64_t failed = socket_errors_ + timeouts_ + non2xx;
    double rps = duration > 0 ? responses_ / duration : 0;
    double max_gap_ms = Seconds(max_gap_).count() * 1000;
    double max_gap_at = Seconds(max_gap_at_ - start_).count();
    auto round3 = [](double v) { return std::round(v * 1000) / 1000; };
    if (opt_.json) {
      nlohmann::json j = {
          {"requests", ok + failed},
          {"ok", ok},
          {"status", status},
          {"socket_errors", socket_errors_},
          {"timeouts", timeouts_},
          {"failed", failed},
          {"rps", round3(rps)},
          {"p50_ms", round3(pct(50))},
          {"p90_ms", round3(pct(90))},
          {"p99_ms", round3(pct(99))},
          {"max_ms", round3(latencies_us_.empty() ? 0 : latencies_us_.back() / 1000.0)},
          {"max_gap_ms", round3(max_gap_ms)},
          {"max_gap_at_s", round3(max_gap_at)},
          {"duration_s", round3(duration)},
          {"socket_error_kinds",
           {{"connect", error_kinds_[ErrorKind::kConnect]},
            {"reset", error_kinds_[ErrorKind::kReset]},
            {"eof", error_kinds_[ErrorKind::kEof]},
            {"write", error_kinds_[ErrorKind::kWrite]},
            {"malformed", error_kinds_[ErrorKind::kMalformed]}}},
      };
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::string codes;
      for (auto& [code, n] : status_) codes += fmt::format(" {}={}", code, n);
      std::printf(
          "%s %s, %d connections, %.2f s\n"
          "  requests %llu: ok %llu, failed %llu (socket errors %llu [connect %llu, reset %llu, eof %llu, "
          "write %llu, malformed %llu], timeouts %llu, non-2xx %llu)\n"
          "  status:%s\n"
          "  %.1f req/s; latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n"
          "  longest gap between responses %.3f ms, from %.3f s\n",
          opt_.method.c_str(), opt_.path.c_str(), opt_.connections, duration,
          static_cast<unsigned long long>(ok + failed), static_cast<unsigned long long>(ok),
          static_cast<unsigned long long>(failed), static_cast<unsigned long long>(socket_errors_),
          static_cast<unsigned long long>(error_kinds_[ErrorKind::kConnect]),
          static_cast<unsigned long long>(error_kinds_[ErrorKind::kReset]),
          static_cast<unsigned long long>(error_kinds_[ErrorKind::kEof]),
          static_cast<unsigned long long>(error_kinds_[ErrorKind::kWrite]),
          static_cast<unsigned long long>(error_kinds_[ErrorKind::kMalformed]),
          static_cast<unsigned long long>(timeouts_), static_cast<unsigned long long>(non2xx),
          codes.empty() ? " none" : codes.c_str(), rps, pct(50), pct(90), pct(99),
          latencies_us_.empty() ? 0.0 : latencies_us_.back() / 1000.0, max_gap_ms, max_gap_at);
    }
    std::fflush(stdout);
  }

  Options opt_;
  std::vector<Conn> conns_;
  std::string request_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  int family_ = AF_INET;
  int ep_ = -1;
  int sig_fd_ = -1;
  Clock::time_point start_{}, end_{}, last_response_{}, max_gap_at_{};
  Clock::duration max_gap_{};
  uint64_t issued_ = 0, ended_ = 0, responses_ = 0, socket_errors_ = 0, timeouts_ = 0;
  std::map<int, uint64_t> status_;
  std::map<ErrorKind, uint64_t> error_kinds_;
  std::vector<uint32_t> latencies_us_;
};

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_args(argc, argv);
  LoadGen gen(std::move(opt));
  return gen.run();
}
