#include "supervisor/rewrite/url.h"

#include <cctype>
#include <cstring>

#include "common/strings.h"

namespace wsgid::rewrite {
namespace {

struct Scheme {
  const char* prefix;
  bool query;
};

// mod_rewrite.c is_absolute_uri(), in its order.
constexpr Scheme kSchemes[] = {
    {"ajp://", true},   {"balancer://", true}, {"ftp://", false},  {"fcgi://", true},
    {"gopher://", false}, {"http://", true},   {"https://", true}, {"h2://", true},
    {"h2c://", true},   {"ldap://", false},    {"mailto:", true},  {"news:", false},
    {"nntp://", false}, {"scgi://", true},     {"ws://", true},    {"wss://", true},
};

}  // namespace

std::string escape_uri(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || (c != 0 && std::strchr("$-_.+!*'(),:;@&=/~", c) != nullptr)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

size_t absolute_url_prefix(std::string_view url, bool* supports_query) {
  if (supports_query != nullptr) *supports_query = false;
  if (url.empty() || url[0] == '/' || url.size() <= 5) return 0;
  for (const Scheme& s : kSchemes) {
    if (istarts_with(url, s.prefix)) {
      if (supports_query != nullptr) *supports_query = s.query;
      return std::strlen(s.prefix);
    }
  }
  if (istarts_with(url, "unix:")) {
    if (supports_query != nullptr) *supports_query = true;
    return (url.size() > 6 && url[5] == '/' && url[6] == '/') ? 7 : 5;
  }
  return 0;
}

bool is_url(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '+' ||
                          s[i] == '-' || s[i] == '.'))
    ++i;
  return i > 0 && i < s.size() && s[i] == ':';
}

std::string own_origin(const RequestView& r) {
  std::string out = r.https ? "https://" : "http://";
  bool v6 = r.server_name.find(':') != std::string_view::npos &&
            (r.server_name.empty() || r.server_name[0] != '[');
  if (v6) out += '[';
  out += r.server_name;
  if (v6) out += ']';
  unsigned def = r.https ? 443 : 80;
  if (r.server_port != def) out += ":" + std::to_string(r.server_port);
  return out;
}

}  // namespace wsgid::rewrite
