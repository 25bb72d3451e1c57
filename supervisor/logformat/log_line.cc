// Rendering a compiled format: the per-directive functions of Apache 2.4's
// mod_log_config (log_remote_user, clf_log_bytes_sent, log_request_time ...).
#include "supervisor/logformat/log_line.h"

#include <pthread.h>
#include <unistd.h>

#include <charconv>
#include <ctime>

namespace wsgid::logformat {

namespace {

void append_num(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

void append_hex(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

void append_padded(std::string* out, uint64_t v, size_t width) {
  std::string digits;
  append_num(&digits, v);
  if (digits.size() < width) out->append(width - digits.size(), '0');
  out->append(digits);
}

// A value that may be absent: "-" when absent, escaped otherwise (an empty
// value logs nothing, as in Apache).
void append_item(std::string* out, std::optional<std::string_view> v) {
  if (!v) out->push_back('-');
  else append_escaped(out, *v);
}

// A value where "" means absent.
void append_or_dash(std::string* out, std::string_view v) {
  if (v.empty()) out->push_back('-');
  else append_escaped(out, v);
}

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// "[10/Oct/2000:13:55:36 -0700]", local time, English month names whatever the locale.
void append_clf_time(std::string* out, int64_t us) {
  time_t t = static_cast<time_t>(us / 1000000);
  struct tm tm {};
  localtime_r(&t, &tm);
  long off = tm.tm_gmtoff;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  out->push_back('[');
  append_padded(out, static_cast<uint64_t>(tm.tm_mday), 2);
  out->push_back('/');
  out->append(kMonths[tm.tm_mon % 12]);
  out->push_back('/');
  append_num(out, static_cast<uint64_t>(tm.tm_year + 1900));
  out->push_back(':');
  append_padded(out, static_cast<uint64_t>(tm.tm_hour), 2);
  out->push_back(':');
  append_padded(out, static_cast<uint64_t>(tm.tm_min), 2);
  out->push_back(':');
  append_padded(out, static_cast<uint64_t>(tm.tm_sec), 2);
  out->push_back(' ');
  out->push_back(sign);
  append_padded(out, static_cast<uint64_t>(off / 3600), 2);
  append_padded(out, static_cast<uint64_t>((off % 3600) / 60), 2);
  out->push_back(']');
}

void append_time(std::string* out, const Item& it, const LogRecord& r) {
  int64_t us = it.at_end ? r.end_us : r.start_us;
  switch (it.time) {
    case TimeForm::kClf: append_clf_time(out, us); break;
    case TimeForm::kSec: append_num(out, static_cast<uint64_t>(us / 1000000)); break;
    case TimeForm::kMsec: append_num(out, static_cast<uint64_t>(us / 1000)); break;
    case TimeForm::kUsec: append_num(out, static_cast<uint64_t>(us)); break;
    case TimeForm::kMsecFrac: append_padded(out, static_cast<uint64_t>((us / 1000) % 1000), 3); break;
    case TimeForm::kUsecFrac: append_padded(out, static_cast<uint64_t>(us % 1000000), 6); break;
    case TimeForm::kStrftime: {
      time_t t = static_cast<time_t>(us / 1000000);
      struct tm tm {};
      localtime_r(&t, &tm);
      char buf[512];  // Apache's MAX_STRING_LEN is larger; a longer result logs nothing
      size_t n = strftime(buf, sizeof buf, it.text.c_str(), &tm);
      out->append(buf, n);
      break;
    }
  }
}

// The Host header's name: without its port, lower-cased ("[::1]" kept whole).
void append_host(std::string* out, std::string_view host) {
  size_t end = host.size();
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close != std::string_view::npos) end = close + 1;
  } else if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    end = colon;
  }
  std::string lower(host.substr(0, end));
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  append_escaped(out, lower);
}

// Apache's log_cookie: the value after "NAME=" in the Cookie header, up to ';'.
std::optional<std::string_view> cookie(const Sources* s, std::string_view name) {
  if (!s) return std::nullopt;
  auto header = s->header_in("Cookie");
  if (!header) return std::nullopt;
  std::string_view h = *header;
  size_t at = 0;
  while (at < h.size()) {
    size_t end = h.find(';', at);
    if (end == std::string_view::npos) end = h.size();
    std::string_view pair = h.substr(at, end - at);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
    at = end + 1;
  }
  return std::nullopt;
}

void append_value(std::string* out, const Item& it, const LogRecord& r) {
  const Sources* src = r.sources;
  switch (it.field) {
    case Field::kLiteral: out->append(it.text); break;
    case Field::kRemoteAddr:
    case Field::kRemoteHost:
      append_or_dash(out, it.peer && !r.peer_ip.empty() ? r.peer_ip : r.remote_ip);
      break;
    case Field::kLocalAddr: append_or_dash(out, r.local_ip); break;
    case Field::kBodyBytesClf:
      if (r.body_bytes == 0) out->push_back('-');
      else append_num(out, r.body_bytes);
      break;
    case Field::kBodyBytes: append_num(out, r.body_bytes); break;
    case Field::kCookie: append_item(out, cookie(src, it.text)); break;
    case Field::kDurationUs:
      append_num(out, static_cast<uint64_t>(r.end_us > r.start_us ? r.end_us - r.start_us : 0));
      break;
    case Field::kDuration: {
      uint64_t us = static_cast<uint64_t>(r.end_us > r.start_us ? r.end_us - r.start_us : 0);
      switch (it.unit) {
        case DurationUnit::kSeconds: append_num(out, us / 1000000); break;
        case DurationUnit::kMillis: append_num(out, us / 1000); break;
        case DurationUnit::kMicros: append_num(out, us); break;
      }
      break;
    }
    case Field::kEnv: append_item(out, src ? src->env(it.text) : std::nullopt); break;
    case Field::kNote: append_item(out, src ? src->note(it.text) : std::nullopt); break;
    case Field::kHeaderIn: append_item(out, src ? src->header_in(it.text) : std::nullopt); break;
    case Field::kHeaderOut: append_item(out, src ? src->header_out(it.text) : std::nullopt); break;
    case Field::kFilename: append_or_dash(out, r.filename); break;
    case Field::kHandler: append_or_dash(out, r.handler); break;
    case Field::kProtocol: append_or_dash(out, r.protocol); break;
    case Field::kBytesIn: append_num(out, r.bytes_in); break;
    case Field::kBytesOut: append_num(out, r.bytes_out); break;
    case Field::kBytesAll: append_num(out, r.bytes_in + r.bytes_out); break;
    case Field::kKeepAlives: append_num(out, static_cast<uint64_t>(r.keepalives)); break;
    case Field::kLogname: out->push_back('-'); break;
    case Field::kLogId: append_or_dash(out, r.log_id); break;
    case Field::kMethod: append_or_dash(out, r.method); break;
    case Field::kPort:
      append_num(out, static_cast<uint64_t>(it.port == PortForm::kRemote ? r.remote_port
                                                                         : r.local_port));
      break;
    case Field::kPid:
      if (it.pid == PidForm::kPid) {
        append_num(out, static_cast<uint64_t>(r.pid > 0 ? r.pid : getpid()));
      } else {
        auto tid = static_cast<uint64_t>(pthread_self());
        if (it.pid == PidForm::kHexTid) append_hex(out, tid);
        else append_num(out, tid);
      }
      break;
    case Field::kQuery:
      if (size_t q = r.target.find('?'); q != std::string_view::npos) {
        out->push_back('?');
        append_escaped(out, r.target.substr(q + 1));
      }
      break;
    case Field::kRequestLine: {
      std::string line;
      line.append(r.method).append(" ").append(r.target);
      if (!r.protocol.empty()) line.append(" ").append(r.protocol);
      append_escaped(out, line);
      break;
    }
    case Field::kStatus:
      if (r.status <= 0) out->push_back('-');
      else append_num(out, static_cast<uint64_t>(r.status));
      break;
    case Field::kTime: append_time(out, it, r); break;
    case Field::kUser:
      if (!r.user) out->push_back('-');
      else if (r.user->empty()) out->append("\"\"");
      else append_escaped(out, *r.user);
      break;
    case Field::kUrlPath:
      append_or_dash(out, !r.path.empty() ? r.path : r.target.substr(0, r.target.find('?')));
      break;
    case Field::kServerName: append_or_dash(out, r.server_name); break;
    case Field::kHostName:
      if (!r.host.empty()) append_host(out, r.host);
      else append_or_dash(out, r.server_name);
      break;
    case Field::kConnStatus: out->push_back(r.conn_status); break;
  }
}

}  // namespace

void append_escaped(std::string* out, std::string_view v) {
  static const char hex[] = "0123456789abcdef";
  for (unsigned char c : v) {
    switch (c) {
      case '"': out->append("\\\""); continue;
      case '\\': out->append("\\\\"); continue;
      case '\b': out->append("\\b"); continue;
      case '\n': out->append("\\n"); continue;
      case '\r': out->append("\\r"); continue;
      case '\t': out->append("\\t"); continue;
      case '\v': out->append("\\v"); continue;
      default: break;
    }
    if (c < 0x20 || c >= 0x7f) {
      out->append("\\x");
      out->push_back(hex[c >> 4]);
      out->push_back(hex[c & 15]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

void render(const Format& format, const LogRecord& r, std::string* out) {
  for (const Item& it : format.items) {
    if (!it.statuses.empty()) {
      bool listed = false;
      for (int s : it.statuses) listed = listed || s == r.status;
      if (listed == it.negate) {
        out->push_back('-');
        continue;
      }
    }
    append_value(out, it, r);
  }
}

}  // namespace wsgid::logformat
