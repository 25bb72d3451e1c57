#include "supervisor/frontend/static_file.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "supervisor/frontend/http_conn.h"

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

void HttpConn::close_file() {
  if (file_fd_ >= 0) {
    ::close(file_fd_);
    file_fd_ = -1;
  }
}

void HttpConn::serve_static() {
  if (parser_.method != HTTP_GET && parser_.method != HTTP_HEAD) {
    send_local(405, "static files answer GET and HEAD only", false);
    return;
  }
  const std::string& path = route_.static_path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    send_local(err == EACCES ? 403 : 404, "open(" + path + "): " + std::strerror(err), false);
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    send_local(403, "'" + path + "' is not a regular file", false);
    return;
  }
  std::string_view ims = header("if-modified-since");
  if (!ims.empty()) {
    time_t t = parse_http_date(ims);
    if (t >= 0 && st.st_mtime <= t) {
      ::close(fd);
      start_response_head(304, "Not Modified");
      char date[32];
      out_.append("Last-Modified: ");
      out_.append(date, format_http_date(st.st_mtime, date));
      out_.append("\r\n");
      finish_head(true);
      resp_done_ = true;
      write_out();
      finish_request();
      return;
    }
  }
  int64_t size = st.st_size, first = 0, last = size - 1;
  int status = 200;
  std::string_view range = header("range");
  if (!range.empty()) {
    int r = parse_range(range, size, &first, &last);
    if (r == 416) {
      ::close(fd);
      start_response_head(416, "Requested Range Not Satisfiable");
      out_.append("Content-Range: bytes */");
      out_.append(std::to_string(size));
      out_.append("\r\nContent-Length: 0\r\n");
      finish_head(true);
      resp_done_ = true;
      write_out();
      finish_request();
      return;
    }
    if (r == 206) status = 206;
    else first = 0, last = size - 1;
  }
  start_response_head(status, status == 206 ? "Partial Content" : "OK");
  out_.append("Content-Type: ");
  out_.append(content_type_for(path));
  out_.append("\r\nContent-Length: ");
  out_.append(std::to_string(size == 0 ? 0 : last - first + 1));
  out_.append("\r\nAccept-Ranges: bytes\r\nLast-Modified: ");
  char date[32];
  out_.append(date, format_http_date(st.st_mtime, date));
  out_.append("\r\n");
  if (status == 206) {
    out_.append("Content-Range: bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                std::to_string(size) + "\r\n");
  }
  finish_head(true);
  if (no_body_ || size == 0) {
    ::close(fd);
    resp_done_ = true;
    write_out();
    finish_request();
    return;
  }
  file_fd_ = fd;
  file_off_ = first;
  file_end_ = last + 1;
  write_out();  // the head; after_write() starts pump_file()
  if (!writing_ && file_fd_ >= 0 && out_.empty()) pump_file();
}

void HttpConn::pump_file() {
  int sock = -1;
  uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &sock);
  while (file_fd_ >= 0 && file_off_ < file_end_) {
    if (write_pending() > 0) return;  // after_write() calls back
    off_t off = file_off_;
    size_t want = static_cast<size_t>(std::min<int64_t>(file_end_ - file_off_, 1 << 20));
    ssize_t n = sendfile(sock, file_fd_, &off, want);
    if (n > 0) {
      file_off_ += n;
      resp_body_bytes_ += static_cast<uint64_t>(n);
      refresh_write_deadline();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      // Not writable now: queue one chunk through libuv, which waits for us.
      size_t chunk = static_cast<size_t>(std::min<int64_t>(file_end_ - file_off_, 64 * 1024));
      size_t base = out_.size();
      out_.resize(base + chunk);
      ssize_t r = pread(file_fd_, out_.data() + base, chunk, file_off_);
      if (r <= 0) {
        out_.resize(base);
        abort_connection("reading the static file failed");
        return;
      }
      out_.resize(base + static_cast<size_t>(r));
      file_off_ += r;
      resp_body_bytes_ += static_cast<uint64_t>(r);
      write_out();
      return;
    }
    abort_connection(n == 0 ? "static file shrank while being sent" : "sendfile() failed");
    return;
  }
  if (file_fd_ < 0) return;
  close_file();
  resp_done_ = true;
  finish_request();
}

}  // namespace wsgid::frontend
