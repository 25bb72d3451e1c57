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

#include "supervisor/frontend/byte_ranges.h"
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
  segments_.clear();
  next_ = 0;
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
    out->append(req.max_ranges == kMaxRangesNone ? "Accept-Ranges: none\r\n"
                                                 : "Accept-Ranges: bytes\r\n");
    return a;
  }
  const int64_t size = st.st_size;
  const std::string_view accept_ranges =
      req.max_ranges == kMaxRangesNone ? "Accept-Ranges: none\r\n" : "Accept-Ranges: bytes\r\n";
  RangePlan plan;
  if (!req.range.empty() && if_range_allows(req.if_range, etag, st.st_mtime, now.tv_sec))
    plan = plan_byte_ranges(req.range, size, req.max_ranges);
  if (plan.kind == RangePlan::Kind::kUnsatisfiable) {
    ::close(fd);
    a.status = 416;
    a.local = true;
    a.why = "no range of '" + std::string(req.range) + "' is within '" + path + "'";
    a.content_range = "bytes */" + std::to_string(size);
    return a;
  }
  if (plan.kind == RangePlan::Kind::kWhole) plan.ranges = {{0, size - 1}};
  a.status = plan.kind == RangePlan::Kind::kPartial ? 206 : 200;
  const std::string_view type = content_type_for(path);
  append_status_line(out, a.status, reason_phrase(a.status));
  Multipart parts;
  const bool multipart = plan.ranges.size() > 1;
  if (multipart) {
    parts = plan_multipart(plan.ranges, size, type, multipart_boundary());
    out->append("Content-Type: multipart/byteranges; boundary=" + multipart_boundary());
    out->append("\r\nContent-Length: " + std::to_string(parts.length));
  } else {
    out->append("Content-Type: ");
    out->append(type);
    out->append("\r\nContent-Length: ");
    out->append(std::to_string(size == 0 ? 0 : plan.ranges[0].last - plan.ranges[0].first + 1));
  }
  out->append("\r\n");
  out->append(accept_ranges);
  out->append("Last-Modified: ");
  out->append(date, format_http_date(st.st_mtime, date));
  out->append("\r\n");
  if (!etag.empty()) out->append("ETag: " + etag + "\r\n");
  if (a.status == 206 && !multipart) {
    const ByteRange& r = plan.ranges[0];
    out->append("Content-Range: bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) +
                "/" + std::to_string(size) + "\r\n");
  }
  if (size == 0) {
    ::close(fd);
    return a;
  }
  fd_ = fd;
  segments_.clear();
  next_ = 0;
  for (size_t i = 0; i < plan.ranges.size(); ++i) {
    Segment seg;
    if (multipart) seg.text = std::move(parts.part_heads[i]);
    seg.off = plan.ranges[i].first;
    seg.end = plan.ranges[i].last + 1;
    segments_.push_back(std::move(seg));
  }
  if (multipart) segments_.push_back({std::move(parts.tail), 0, 0});
  a.body = true;
  return a;
}

StaticFile::Pump StaticFile::pump(int sock, bool can_write, std::string* out, uint64_t* sent,
                                  std::string* why) {
  while (fd_ >= 0 && next_ < segments_.size()) {
    Segment& seg = segments_[next_];
    if (!seg.text.empty()) {
      // A multipart head or tail: through the output buffer, in order.
      if (!can_write) return Pump::kWait;
      out->append(seg.text);
      *sent += seg.text.size();
      seg.text.clear();
      return Pump::kQueued;
    }
    if (seg.off >= seg.end) {
      ++next_;
      continue;
    }
    if (!can_write) return Pump::kWait;
    off_t off = seg.off;
    size_t want = static_cast<size_t>(std::min<int64_t>(seg.end - seg.off, 1 << 20));
    ssize_t n = -1;
    errno = EAGAIN;  // sock -1: every chunk through *out (a TLS connection)
    if (sock >= 0) n = sendfile(sock, fd_, &off, want);
    if (n > 0) {
      seg.off += n;
      *sent += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      // Not writable now: queue one chunk through libuv, which waits for us.
      size_t chunk = static_cast<size_t>(std::min<int64_t>(seg.end - seg.off, 64 * 1024));
      size_t base = out->size();
      out->resize(base + chunk);
      ssize_t r = pread(fd_, out->data() + base, chunk, seg.off);
      if (r <= 0) {
        out->resize(base);
        *why = "reading the static file failed";
        return Pump::kFailed;
      }
      out->resize(base + static_cast<size_t>(r));
      seg.off += r;
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
