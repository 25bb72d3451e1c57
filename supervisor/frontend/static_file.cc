#include "supervisor/frontend/static_file.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <algorithm>
#include <cstring>
#include <string>

#include "supervisor/frontend/conditional.h"
#include "supervisor/frontend/response_head.h"

namespace wsgid::frontend {

time_t parse_http_date(std::string_view text) {
  std::string t(text);
  struct tm tm;
  const char* formats[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                           "%a %b %e %H:%M:%S %Y"};
  for (const char* f : formats) {
    std::memset(&tm, 0, sizeof tm);
    const char* end = strptime(t.c_str(), f, &tm);
    if (end && *end == '\0') return timegm(&tm);
  }
  return -1;
}

size_t format_http_date(time_t t, char* buf) {
  struct tm tm;
  gmtime_r(&t, &tm);
  return strftime(buf, 30, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

int parse_range(std::string_view h, int64_t size, int64_t* first, int64_t* last) {
  if (h.substr(0, 6) != "bytes=") return 0;
  h.remove_prefix(6);
  if (h.find(',') != std::string_view::npos) return 0;
  size_t dash = h.find('-');
  if (dash == std::string_view::npos) return 0;
  std::string_view a = h.substr(0, dash), b = h.substr(dash + 1);
  auto num = [](std::string_view s, int64_t* out) {
    if (s.empty()) return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && *out >= 0;
  };
  int64_t x = 0, y = 0;
  if (a.empty()) {
    if (!num(b, &y)) return 0;
    if (y == 0) return 416;
    *first = y >= size ? 0 : size - y;
    *last = size - 1;
  } else {
    if (!num(a, &x)) return 0;
    if (b.empty()) y = size - 1;
    else if (!num(b, &y)) return 0;
    if (x >= size) return 416;
    if (y < x) return 0;
    *first = x;
    *last = y >= size ? size - 1 : y;
  }
  if (size == 0) return 416;
  return 206;
}

std::string_view content_type_for(std::string_view path) {
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
    return "application/octet-stream";
  std::string_view ext = path.substr(dot + 1);
  static const struct {
    const char* ext;
    const char* type;
  } table[] = {{"html", "text/html"}, {"htm", "text/html"}, {"css", "text/css"},
               {"js", "text/javascript"}, {"mjs", "text/javascript"},
               {"json", "application/json"}, {"txt", "text/plain"}, {"xml", "text/xml"},
               {"csv", "text/csv"}, {"png", "image/png"}, {"jpg", "image/jpeg"},
               {"jpeg", "image/jpeg"}, {"gif", "image/gif"}, {"svg", "image/svg+xml"},
               {"ico", "image/vnd.microsoft.icon"}, {"webp", "image/webp"},
               {"pdf", "application/pdf"}, {"woff", "font/woff"}, {"woff2", "font/woff2"},
               {"wasm", "application/wasm"}, {"gz", "application/gzip"},
               {"zip", "application/zip"}, {"mp4", "video/mp4"}, {"mp3", "audio/mpeg"}};
  for (const auto& e : table)
    if (ext == e.ext) return e.type;
  return "application/octet-stream";
}

void StaticFile::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

StaticFile::Answer StaticFile::open(const Request& req, std::string* out) {
  close();
  Answer a;
  if (!req.get_or_head) {
    a.status = 405;
    a.local = true;
    a.why = "static files answer GET and HEAD only";
    return a;
  }
  const std::string path(req.path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    a.status = err == EACCES ? 403 : 404;
    a.local = true;
    a.why = "open(" + path + "): " + std::strerror(err);
    return a;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    a.status = 403;
    a.local = true;
    a.why = "'" + path + "' is not a regular file";
    return a;
  }
  char date[32];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  const std::string etag = make_etag(
      req.etag_bits, st, static_cast<int64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000);
  Preconditions pre;
  pre.if_match = req.if_match;
  pre.if_unmodified_since = req.if_unmodified_since;
  pre.if_none_match = req.if_none_match;
  pre.if_modified_since = req.if_modified_since;
  pre.if_range = req.if_range;
  pre.has_range = !req.range.empty();
  const int cond = evaluate_preconditions(pre, etag, st.st_mtime, now.tv_sec);
  if (cond == 412) {
    ::close(fd);
    a.status = 412;
    a.local = true;
    a.why = "a precondition (If-Match or If-Unmodified-Since) failed for '" + path + "'";
    return a;
  }
  if (cond == 304) {
    // Apache's 304 keeps the validators, drops the content headers (http_filters.c).
    ::close(fd);
    a.status = 304;
    append_status_line(out, 304, reason_phrase(304));
    out->append("Last-Modified: ");
    out->append(date, format_http_date(st.st_mtime, date));
    out->append("\r\n");
    if (!etag.empty()) out->append("ETag: " + etag + "\r\n");
    // The byterange filter's Accept-Ranges stays too (Apache 2.4.71 sends it).
    out->append("Accept-Ranges: bytes\r\n");
    return a;
  }
  int64_t size = st.st_size, first = 0, last = size - 1;
  a.status = 200;
  if (!req.range.empty() && if_range_allows(req.if_range, etag, st.st_mtime, now.tv_sec)) {
    int r = parse_range(req.range, size, &first, &last);
    if (r == 416) {
      ::close(fd);
      a.status = 416;
      a.local = true;
      a.why = "no range of '" + std::string(req.range) + "' is within '" + path + "'";
      a.content_range = "bytes */" + std::to_string(size);
      return a;
    }
    if (r == 206) a.status = 206;
    else first = 0, last = size - 1;
  }
  append_status_line(out, a.status, reason_phrase(a.status));
  out->append("Content-Type: ");
  out->append(content_type_for(path));
  out->append("\r\nContent-Length: ");
  out->append(std::to_string(size == 0 ? 0 : last - first + 1));
  out->append("\r\nAccept-Ranges: bytes\r\nLast-Modified: ");
  out->append(date, format_http_date(st.st_mtime, date));
  out->append("\r\n");
  if (!etag.empty()) out->append("ETag: " + etag + "\r\n");
  if (a.status == 206) {
    out->append("Content-Range: bytes " + std::to_string(first) + "-" + std::to_string(last) +
                "/" + std::to_string(size) + "\r\n");
  }
  if (size == 0) {
    ::close(fd);
    return a;
  }
  fd_ = fd;
  off_ = first;
  end_ = last + 1;
  a.body = true;
  return a;
}

StaticFile::Pump StaticFile::pump(int sock, bool can_write, std::string* out, uint64_t* sent,
                                  std::string* why) {
  while (fd_ >= 0 && off_ < end_) {
    if (!can_write) return Pump::kWait;
    off_t off = off_;
    size_t want = static_cast<size_t>(std::min<int64_t>(end_ - off_, 1 << 20));
    ssize_t n = sendfile(sock, fd_, &off, want);
    if (n > 0) {
      off_ += n;
      *sent += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      // Not writable now: queue one chunk through libuv, which waits for us.
      size_t chunk = static_cast<size_t>(std::min<int64_t>(end_ - off_, 64 * 1024));
      size_t base = out->size();
      out->resize(base + chunk);
      ssize_t r = pread(fd_, out->data() + base, chunk, off_);
      if (r <= 0) {
        out->resize(base);
        *why = "reading the static file failed";
        return Pump::kFailed;
      }
      out->resize(base + static_cast<size_t>(r));
      off_ += r;
      *sent += static_cast<uint64_t>(r);
      return Pump::kQueued;
    }
    *why = n == 0 ? "static file shrank while being sent" : "sendfile() failed";
    return Pump::kFailed;
  }
  close();
  return Pump::kDone;
}

}  // namespace wsgid::frontend
