#include "supervisor/frontend/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/log.h"

namespace wsgid::frontend {

namespace {

void append_num(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

void append_or_dash(std::string* out, std::string_view v) {
  if (v.empty()) out->push_back('-');
  else out->append(v);
}

// Apache escapes quotes, backslashes and control characters in logged values.
void append_escaped(std::string* out, std::string_view v) {
  if (v.empty()) {
    out->push_back('-');
    return;
  }
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      static const char hex[] = "0123456789abcdef";
      out->append("\\x");
      out->push_back(hex[c >> 4]);
      out->push_back(hex[c & 15]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

void append_time(std::string* out, time_t t) {
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "[%d/%b/%Y:%H:%M:%S %z]", &tm);
  out->append(buf, n);
}

}  // namespace

AccessLog::~AccessLog() {
  flush();
  for (File* f : files_) {
    if (f->fd >= 0) ::close(f->fd);
    delete f;
  }
}

void AccessLog::open_file(File* f) {
  int fd = ::open(f->path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    log::error("frontend: open({}): {}", f->path, std::strerror(errno));
    return;
  }
  if (f->fd >= 0) ::close(f->fd);
  f->fd = fd;
}

void AccessLog::configure(const model::Config& config) {
  flush();
  // Files whose path the new settings still name stay open: the front end runs
  // as User and may not be able to open a root-owned log again (a reload must
  // not stop logging); only new paths are opened, removed ones closed.
  std::vector<File*> old;
  old.swap(files_);
  sinks_.clear();
  server_ = &config.server;
  auto file_for = [&](const std::string& path) {
    for (File* f : files_)
      if (f->path == path) return f;
    File* f = nullptr;
    for (File*& o : old) {
      if (o && o->path == path && o->fd >= 0) {
        f = o;
        o = nullptr;
        break;
      }
    }
    if (!f) {
      f = new File;
      f->path = path;
      open_file(f);
    }
    files_.push_back(f);
    return f;
  };
  auto add = [&](const model::VirtualHost* vh) {
    for (const auto& l : vh->custom_logs) {
      if (!l.path.empty() && l.path[0] == '|') continue;  // piped logs: not supported
      sinks_[vh].push_back({file_for(l.path), l.format});
    }
  };
  add(&config.server);
  for (const auto& vh : config.vhosts) add(&vh);
  for (File* f : old) {
    if (!f) continue;
    if (f->fd >= 0) ::close(f->fd);
    delete f;
  }
}

bool AccessLog::enabled_for(const model::VirtualHost* vhost) const {
  if (sinks_.count(vhost)) return true;
  return sinks_.count(server_) > 0;
}

void AccessLog::log(const model::VirtualHost* vhost, const LogRecord& r) {
  auto it = sinks_.find(vhost);
  if (it == sinks_.end()) it = sinks_.find(server_);
  if (it == sinks_.end()) return;
  for (const Sink& s : it->second) {
    format_line(s.format, r, &s.file->buf);
    s.file->buf.push_back('\n');
    if (s.file->buf.size() > 64 * 1024) flush();
  }
}

void AccessLog::flush() {
  for (File* f : files_) {
    if (f->buf.empty()) continue;
    if (f->fd >= 0) {
      size_t off = 0;
      while (off < f->buf.size()) {
        ssize_t n = ::write(f->fd, f->buf.data() + off, f->buf.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
    }
    f->buf.clear();
  }
}

void AccessLog::reopen() {
  flush();
  for (File* f : files_) open_file(f);
}

void AccessLog::format_line(std::string_view fmt, const LogRecord& r, std::string* out) {
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c != '%') {
      if (c == '\\' && i + 1 < fmt.size()) {
        char n = fmt[++i];
        out->push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n);
      } else {
        out->push_back(c);
      }
      continue;
    }
    if (++i >= fmt.size()) break;
    std::string_view arg;
    if (fmt[i] == '{') {
      size_t close = fmt.find('}', i);
      if (close == std::string_view::npos) break;
      arg = fmt.substr(i + 1, close - i - 1);
      i = close + 1;
      if (i >= fmt.size()) break;
    }
    // Skip Apache's status conditions and '<' / '>' modifiers.
    while (i < fmt.size() && (fmt[i] == '>' || fmt[i] == '<' || fmt[i] == '!' || fmt[i] == ',' ||
                              (fmt[i] >= '0' && fmt[i] <= '9')))
      ++i;
    if (i >= fmt.size()) break;
    switch (fmt[i]) {
      case '%': out->push_back('%'); break;
      case 'a': case 'h': append_or_dash(out, r.remote_ip); break;
      case 'A': append_or_dash(out, r.local_ip); break;
      case 'l': out->push_back('-'); break;
      case 'u':
        if (r.user.empty()) out->push_back('-');
        else append_escaped(out, r.user);
        break;
      case 't': append_time(out, r.start); break;
      case 'r':
        append_escaped(out, r.method);
        out->push_back(' ');
        append_escaped(out, r.url);
        out->push_back(' ');
        append_escaped(out, r.protocol);
        break;
      case 's': append_num(out, static_cast<uint64_t>(r.status)); break;
      case 'b':
        if (r.body_bytes == 0) out->push_back('-');
        else append_num(out, r.body_bytes);
        break;
      case 'B': append_num(out, r.body_bytes); break;
      case 'D': append_num(out, r.duration_us); break;
      case 'T': append_num(out, r.duration_us / 1000000); break;
      case 'm': append_escaped(out, r.method); break;
      case 'U': {
        std::string_view u = r.url.substr(0, r.url.find('?'));
        append_escaped(out, u);
        break;
      }
      case 'q': {
        size_t q = r.url.find('?');
        if (q != std::string_view::npos) append_escaped(out, r.url.substr(q));
        break;
      }
      case 'H': append_escaped(out, r.protocol); break;
      case 'v': append_or_dash(out, r.server_name); break;
      case 'V': append_escaped(out, r.host.empty() ? r.server_name : r.host); break;
      case 'p': append_num(out, static_cast<uint64_t>(r.local_port)); break;
      case 'P': append_num(out, static_cast<uint64_t>(getpid())); break;
      case 'L': append_or_dash(out, r.request_id); break;
      case 'i':
        append_escaped(out, r.header ? r.header(r.header_ctx, arg) : std::string_view());
        break;
      case 'e':
        if (arg == "mod_wsgi.process_group") append_or_dash(out, r.group);
        else if (arg == "mod_wsgi.application_group") append_or_dash(out, r.application_group);
        else if (arg == "mod_wsgi.request_id") append_or_dash(out, r.request_id);
        else if (arg == "wsgid.worker_pid") {
          if (r.worker_pid > 0) append_num(out, static_cast<uint64_t>(r.worker_pid));
          else out->push_back('-');
        } else if (arg == "wsgid.error") append_escaped(out, r.error);
        else out->push_back('-');
        break;
      default: out->push_back('-'); break;
    }
  }
}

}  // namespace wsgid::frontend
