#include "supervisor/authn/basic.h"

#include <cstdio>

#include "common/strings.h"
#include "supervisor/authn/base64.h"

namespace wsgid::authn {
namespace {

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7F; }
bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string hex(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", c);
  return buf;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<BasicCredentials> parse_basic_credentials(std::string_view header_value) {
  std::string_view v = trim_ows(header_value);
  if (v.empty()) return Status::error("no credentials");
  size_t sp = 0;
  while (sp < v.size() && !is_ows(v[sp])) ++sp;
  std::string_view scheme = v.substr(0, sp);
  if (!iequals(scheme, "Basic")) {
    return Status::error("authentication scheme '" + std::string(scheme) + "' is not Basic");
  }
  Result<std::string> decoded = decode_base64(trim_ows(v.substr(sp)));
  if (!decoded) return Status::error("Basic credentials: " + decoded.status().message());
  const std::string& text = *decoded;
  const size_t colon = text.find(':');
  if (colon == std::string::npos) {
    return Status::error("Basic credentials: no ':' between user and password");
  }
  BasicCredentials c{text.substr(0, colon), text.substr(colon + 1)};
  if (c.user.empty()) return Status::error("Basic credentials: empty user name");
  for (char ch : c.user) {
    if (is_control(static_cast<unsigned char>(ch))) {
      return Status::error("Basic credentials: control character " +
                           hex(static_cast<unsigned char>(ch)) + " in the user name");
    }
  }
  for (char ch : c.password) {
    if (is_control(static_cast<unsigned char>(ch))) {
      return Status::error("Basic credentials: control character in the password");
    }
  }
  return c;
}

Result<std::string> basic_challenge(std::string_view realm) {
  std::string out = "Basic realm=\"";
  for (size_t i = 0; i < realm.size(); ++i) {
    const auto c = static_cast<unsigned char>(realm[i]);
    if (is_control(c) && c != '\t') {
      return Status::error("AuthName: control character " + hex(c) + " in the realm");
    }
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      // An escape pair is kept as it is (ap_escape_quotes); a lone trailing
      // backslash is doubled so that it cannot escape the closing quote.
      out += '\\';
      if (i + 1 < realm.size()) {
        const auto next = static_cast<unsigned char>(realm[++i]);
        if (is_control(next) && next != '\t') {
          return Status::error("AuthName: control character " + hex(next) + " in the realm");
        }
        out += static_cast<char>(next);
      } else {
        out += '\\';
      }
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

}  // namespace wsgid::authn
