#include "supervisor/frontend/uwsgi_packet.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace wsgid::frontend {

namespace {

uint16_t le16(const char* p) {
  return static_cast<uint16_t>(static_cast<unsigned char>(p[0]) |
                               (static_cast<unsigned char>(p[1]) << 8));
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A key's text for a log line: printable ASCII kept, other bytes as \xNN.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 64)) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  if (s.size() > 64) out += "...";
  return out;
}

bool decimal(std::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

bool target_byte_bad(unsigned char c) { return c <= 0x20 || c == 0x7f; }

bool field_value_bad(std::string_view v) {
  return v.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// The vars that are read once; HTTP_* and the rest may repeat.
enum Single {
  kMethod, kUri, kPathInfo, kQuery, kProtocol, kServerName, kServerPort, kContentLength,
  kContentType, kRemoteAddr, kRemotePort, kHttps, kRequestScheme, kUwsgiScheme, kSingles
};
constexpr std::array<std::string_view, kSingles> kSingleNames = {
    "REQUEST_METHOD", "REQUEST_URI",    "PATH_INFO",      "QUERY_STRING",   "SERVER_PROTOCOL",
    "SERVER_NAME",    "SERVER_PORT",    "CONTENT_LENGTH", "CONTENT_TYPE",   "REMOTE_ADDR",
    "REMOTE_PORT",    "HTTPS",          "REQUEST_SCHEME", "UWSGI_SCHEME"};

// HTTP_* vars that do not become fields (see the header).
constexpr std::array<std::string_view, 8> kDroppedFields = {
    "CONTENT_LENGTH", "CONTENT_TYPE", "TRANSFER_ENCODING", "CONNECTION",
    "UPGRADE",        "KEEP_ALIVE",   "TE",                "EXPECT"};

// PATH_INFO as a target path: nginx sends it decoded, so '%', '?', '#' and
// bytes a target may not hold are encoded again.
void append_encoded_path(std::string* out, std::string_view path) {
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : path) {
    if (target_byte_bad(c) || c >= 0x80 || c == '%' || c == '?' || c == '#') {
      out->push_back('%');
      out->push_back(hex[c >> 4]);
      out->push_back(hex[c & 15]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

}  // namespace

bool uwsgi_vars_to_request(std::string_view vars, UwsgiRequest* out, std::string* why) {
  std::array<std::optional<std::string_view>, kSingles> single;
  std::string fields;  // "Name: value\r\n" lines from HTTP_* vars
  std::optional<std::string_view> http_host;
  size_t pos = 0;
  while (pos < vars.size()) {
    const size_t at = pos;
    if (vars.size() - pos < 2) {
      *why = "the vars block ends inside a key size at offset " + std::to_string(at);
      return false;
    }
    size_t klen = le16(vars.data() + pos);
    pos += 2;
    if (klen == 0) {
      *why = "an empty key at offset " + std::to_string(at) + " of the vars block";
      return false;
    }
    if (vars.size() - pos < klen + 2) {
      *why = "a key of " + std::to_string(klen) + " bytes at offset " + std::to_string(at) +
             " runs past the vars block (" + std::to_string(vars.size()) + " bytes)";
      return false;
    }
    std::string_view key = vars.substr(pos, klen);
    pos += klen;
    size_t vlen = le16(vars.data() + pos);
    pos += 2;
    if (vars.size() - pos < vlen) {
      *why = "the value of " + printable(key) + " (" + std::to_string(vlen) +
             " bytes) runs past the vars block (" + std::to_string(vars.size()) + " bytes)";
      return false;
    }
    std::string_view val = vars.substr(pos, vlen);
    pos += vlen;

    bool known = false;
    for (size_t i = 0; i < kSingles; ++i) {
      if (key != kSingleNames[i]) continue;
      if (single[i]) {
        *why = std::string(key) + " is given twice";
        return false;
      }
      single[i] = val;
      known = true;
      break;
    }
    if (known || key.size() <= 5 || key.substr(0, 5) != "HTTP_") continue;
    std::string_view name = key.substr(5);
    bool good = true;
    for (char c : name)
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
        good = false;
    if (!good) continue;
    bool dropped = false;
    for (std::string_view d : kDroppedFields) dropped = dropped || iequal(name, d);
    if (dropped) continue;
    if (field_value_bad(val)) {
      *why = "the value of " + std::string(key) + " holds a CR, LF or NUL byte";
      return false;
    }
    if (iequal(name, "HOST")) {
      // The first wins: Debian's uwsgi_params sets HTTP_HOST to $host, and
      // nginx's params come before the client's fields.
      if (!http_host) http_host = val;
      continue;
    }
    // HTTP_X_FORWARDED_FOR -> X-Forwarded-For
    bool upper = true;
    for (char c : name) {
      if (c == '_') {
        fields.push_back('-');
        upper = true;
        continue;
      }
      if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      fields.push_back(c);
      upper = false;
    }
    fields.append(": ").append(val).append("\r\n");
  }

  auto get = [&](Single s) { return single[s].value_or(std::string_view()); };
  std::string_view method = get(kMethod);
  if (method.empty()) {
    *why = "no REQUEST_METHOD var";
    return false;
  }
  for (unsigned char c : method) {
    if (target_byte_bad(c)) {
      *why = "REQUEST_METHOD holds a space or control byte";
      return false;
    }
  }
  std::string& h = out->head;
  h.assign(method);
  h.push_back(' ');
  if (!get(kUri).empty()) {
    for (unsigned char c : get(kUri)) {
      if (target_byte_bad(c)) {
        *why = "REQUEST_URI holds a space or control byte";
        return false;
      }
    }
    h.append(get(kUri));
  } else if (!get(kPathInfo).empty()) {
    append_encoded_path(&h, get(kPathInfo));
    if (!get(kQuery).empty()) {
      for (unsigned char c : get(kQuery)) {
        if (target_byte_bad(c)) {
          *why = "QUERY_STRING holds a space or control byte";
          return false;
        }
      }
      h.push_back('?');
      h.append(get(kQuery));
    }
  } else {
    *why = "neither REQUEST_URI nor PATH_INFO is given";
    return false;
  }
  h.append(get(kProtocol) == "HTTP/1.0" ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  std::string_view host = http_host ? *http_host : get(kServerName);
  if (!host.empty()) {
    if (field_value_bad(host)) {
      *why = "SERVER_NAME holds a CR, LF or NUL byte";
      return false;
    }
    h.append("Host: ").append(host).append("\r\n");
  }
  if (!get(kContentLength).empty()) {
    uint64_t n = 0;
    if (!decimal(get(kContentLength), UINT64_MAX / 10, &n)) {
      *why = "CONTENT_LENGTH '" + printable(get(kContentLength)) + "' is not a decimal number";
      return false;
    }
    h.append("Content-Length: ").append(std::to_string(n)).append("\r\n");
  }
  if (!get(kContentType).empty()) {
    if (field_value_bad(get(kContentType))) {
      *why = "CONTENT_TYPE holds a CR, LF or NUL byte";
      return false;
    }
    h.append("Content-Type: ").append(get(kContentType)).append("\r\n");
  }
  h.append(fields);
  h.append("\r\n");

  out->remote_ip.clear();
  out->remote_port = 0;
  if (!get(kRemoteAddr).empty()) {
    std::string ip(get(kRemoteAddr));
    unsigned char buf[16];
    if (ip.size() > 45 || (inet_pton(AF_INET, ip.c_str(), buf) != 1 &&
                           inet_pton(AF_INET6, ip.c_str(), buf) != 1)) {
      *why = "REMOTE_ADDR '" + printable(ip) + "' is not an IP address";
      return false;
    }
    out->remote_ip = ip;
  }
  if (!get(kRemotePort).empty()) {
    uint64_t port = 0;
    if (!decimal(get(kRemotePort), 65535, &port)) {
      *why = "REMOTE_PORT '" + printable(get(kRemotePort)) + "' is not a port number (0..65535)";
      return false;
    }
    out->remote_port = static_cast<int>(port);
  }
  out->https = iequal(get(kHttps), "on") || get(kHttps) == "1" ||
               iequal(get(kRequestScheme), "https") || iequal(get(kUwsgiScheme), "https");
  out->server_port.clear();
  uint64_t sport = 0;
  if (decimal(get(kServerPort), 65535, &sport) && sport > 0) out->server_port = get(kServerPort);
  return true;
}

UwsgiPacketReader::State UwsgiPacketReader::fail(std::string why) {
  error_ = std::move(why);
  return State::kError;
}

UwsgiPacketReader::State UwsgiPacketReader::feed(std::string_view data, size_t* used) {
  size_t want = kHeaderSize;
  if (buf_.size() >= kHeaderSize) want += le16(buf_.data() + 1);
  size_t take = 0;
  while (take < data.size()) {
    size_t n = std::min(want - buf_.size(), data.size() - take);
    buf_.append(data.substr(take, n));
    take += n;
    if (buf_.size() == kHeaderSize && want == kHeaderSize) {
      auto modifier1 = static_cast<unsigned char>(buf_[0]);
      if (modifier1 != 0) {
        *used = take;
        return fail("modifier1 is " + std::to_string(modifier1) +
                    ": wsgid serves only 0 (a WSGI request), as nginx's uwsgi_pass sends it");
      }
      want += le16(buf_.data() + 1);
    }
    if (buf_.size() == want) break;
  }
  *used = take;
  if (buf_.size() < kHeaderSize || buf_.size() < want) return State::kNeedMore;
  std::string why;
  if (!uwsgi_vars_to_request(std::string_view(buf_).substr(kHeaderSize), &request_, &why))
    return fail(std::move(why));
  return State::kDone;
}

}  // namespace wsgid::frontend
