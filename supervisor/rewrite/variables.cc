// Server variables of the rewrite engines; see variables.h. Apache sources
// cited: modules/mappers/mod_rewrite.c (lookup_variable, lookup_header).
#include "supervisor/rewrite/variables.h"

#include "common/strings.h"

namespace wsgid::rewrite {
namespace {

// Variables lookup_variable() knows that wsgid provides. HTTP:Name is handled
// apart. The value of a header shorthand is the header's value.
struct Var {
  const char* name;
  const char* header;  // non-null: a request header
};
constexpr Var kVars[] = {
    {"HTTPS", nullptr},          {"SERVER_NAME", nullptr},    {"SERVER_PORT", nullptr},
    {"REQUEST_URI", nullptr},    {"REQUEST_METHOD", nullptr}, {"QUERY_STRING", nullptr},
    {"REQUEST_SCHEME", nullptr}, {"SERVER_PROTOCOL", nullptr}, {"REMOTE_ADDR", nullptr},
    {"HTTP_HOST", "Host"},       {"HTTP_USER_AGENT", "User-Agent"},
    {"HTTP_REFERER", "Referer"}, {"HTTP_COOKIE", "Cookie"},   {"HTTP_FORWARDED", "Forwarded"},
    {"HTTP_ACCEPT", "Accept"},   {"HTTP_PROXY_CONNECTION", "Proxy-Connection"},
};

bool is_http_colon(std::string_view name) {
  return name.size() > 5 && iequals(name.substr(0, 5), "HTTP:");
}

}  // namespace

bool known_variable(std::string_view name, bool with_http_colon) {
  if (is_http_colon(name)) return with_http_colon;
  for (const Var& v : kVars)
    if (name == v.name) return true;
  return false;
}

std::string_view header(const RequestView& r, std::string_view name) {
  if (r.headers == nullptr) return {};
  for (const auto& [k, v] : *r.headers)
    if (iequals(k, name)) return v;
  return {};
}

std::string lookup_variable(std::string_view name, const RequestView& r) {
  if (is_http_colon(name)) return std::string(header(r, name.substr(5)));
  for (const Var& v : kVars) {
    if (name != v.name) continue;
    if (v.header != nullptr) return std::string(header(r, v.header));
    if (name == "HTTPS") return r.https ? "on" : "off";
    if (name == "SERVER_NAME") return std::string(r.server_name);
    if (name == "SERVER_PORT") return std::to_string(r.server_port);
    if (name == "REQUEST_URI") return std::string(r.path);
    if (name == "REQUEST_METHOD") return std::string(r.method);
    if (name == "QUERY_STRING") return std::string(r.query);
    if (name == "REQUEST_SCHEME") return r.https ? "https" : "http";
    if (name == "SERVER_PROTOCOL") return std::string(r.protocol);
    if (name == "REMOTE_ADDR") return std::string(r.remote_addr);
  }
  return {};  // unreachable: add() refuses unknown names
}

}  // namespace wsgid::rewrite
