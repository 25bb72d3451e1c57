// mod_wsgi's WSGITrustedProxyHeaders / WSGITrustedProxies: the environ an
// application gets, row by row against wsgi_process_proxy_headers() and
// wsgi_process_forwarded_for() of mod_wsgi 4.9.4's src/server/mod_wsgi.c,
// through append_environ (what the worker decodes).
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"
#include "supervisor/frontend/cgi_environ.h"
#include "supervisor/frontend/trusted_proxy.h"

namespace wsgid::frontend {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;
using Env = std::map<std::string, std::string>;

struct Head {
  std::string buf = "/url";
  std::vector<HeaderSpan> spans;
  explicit Head(const Fields& fields) {
    for (const auto& [n, v] : fields) {
      HeaderSpan s{};
      s.name_off = static_cast<uint32_t>(buf.size());
      s.name_len = static_cast<uint32_t>(n.size());
      buf += n;
      s.value_off = static_cast<uint32_t>(buf.size());
      s.value_len = static_cast<uint32_t>(v.size());
      buf += v;
      spans.push_back(s);
    }
  }
  RequestHeaders view() const { return {buf, spans.data(), spans.size()}; }
};

// The environ keys this test is about, as the application would see them.
Env environ_of(const std::vector<std::string>& trusted, const std::vector<std::string>* proxies,
               const char* peer, const Fields& request_fields) {
  Fields fields = {{"Host", "backend:8000"}};
  fields.insert(fields.end(), request_fields.begin(), request_fields.end());
  Head head(fields);
  EnvironEdits edits;
  apply_trusted_proxy_headers(trusted, proxies, peer, head.view(), &edits);
  EnvironInput in;
  in.method = "GET";
  in.request_uri = "/app/x";
  in.host = "backend:8000";
  in.local_ip = "127.0.0.1";
  in.remote_ip = peer;
  in.local_port = 8000;
  in.edits = &edits;
  Route route;
  route.kind = Route::Kind::kWsgi;
  route.script_name = "/app";
  route.path_info = "/x";
  route.script_filename = "/srv/app.wsgi";
  EnvironScratch scratch;
  std::string out;
  REQUIRE(append_environ(in, head.view(), route, 1, &scratch, &out));
  proto::FrameReader reader;
  reader.feed(out);
  proto::Frame f{};
  REQUIRE(reader.next(&f) == proto::FrameReader::Result::kFrame);
  Result<proto::KeyValues> kv = proto::decode_request_head(f.payload);
  REQUIRE(kv.is_ok());
  Env env;
  for (const auto& [k, v] : kv.value())
    if (k == "REMOTE_ADDR" || k == "HTTPS" || k == "HTTP_HOST" || k == "SERVER_NAME" ||
        k == "SERVER_PORT" || k == "SCRIPT_NAME" || k == "mod_wsgi.mount_point" ||
        k.rfind("HTTP_X_", 0) == 0)
      env[std::string(k)] = std::string(v);
  return env;
}

const std::vector<std::string> kLocal = {"127.0.0.1"};
const std::vector<std::string> kChain = {"127.0.0.1", "10.0.0.0/8"};

}  // namespace

TEST_CASE("X-Forwarded-For walked back through WSGITrustedProxies") {
  struct Case {
    const char* what;
    const std::vector<std::string>* proxies;
    const char* peer;
    const char* xff;
    const char* remote_addr;
    const char* xff_after;  // nullptr: removed
  } cases[] = {
      {"no proxies listed: the first item, header kept", nullptr, "192.0.2.1",
       "1.1.1.1, 2.2.2.2", "1.1.1.1", "1.1.1.1, 2.2.2.2"},
      {"no proxies listed: leading spaces", nullptr, "192.0.2.1", "  1.1.1.1 ,2.2.2.2",
       "1.1.1.1", "  1.1.1.1 ,2.2.2.2"},
      {"trusted peer, untrusted last item: it is the client", &kLocal, "127.0.0.1",
       "6.6.6.6, 203.0.113.9", "203.0.113.9", "203.0.113.9"},
      {"trusted peer, chain of proxies", &kChain, "127.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.5",
       "203.0.113.9", "203.0.113.9, 10.0.0.5"},
      {"all items trusted: the first", &kChain, "127.0.0.1", "10.0.0.7, 10.0.0.5", "10.0.0.7",
       "10.0.0.7, 10.0.0.5"},
      {"an item that is not an address stops the walk", &kChain, "127.0.0.1",
       "1.1.1.1, junk, 10.0.0.5", "junk", "junk, 10.0.0.5"},
      {"peer not trusted: header removed, address kept", &kLocal, "127.0.0.2", "6.6.6.6",
       "127.0.0.2", nullptr},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Env env = environ_of({"X-Forwarded-For"}, c.proxies, c.peer, {{"X-Forwarded-For", c.xff}});
    CHECK(env["REMOTE_ADDR"] == c.remote_addr);
    if (c.xff_after) CHECK(env["HTTP_X_FORWARDED_FOR"] == c.xff_after);
    else CHECK(env.count("HTTP_X_FORWARDED_FOR") == 0);
  }
}

TEST_CASE("each header category: what a trusted peer rewrites, what an untrusted one loses") {
  struct Case {
    const char* what;
    std::vector<std::string> trusted;
    const char* peer;
    Fields fields;
    Env want;  // the keys of environ_of()
  } cases[] = {
      {"X-Real-IP as is", {"X-Real-IP"}, "127.0.0.1", {{"X-Real-IP", "203.0.113.9"}},
       {{"REMOTE_ADDR", "203.0.113.9"}, {"HTTP_X_REAL_IP", "203.0.113.9"}, {"HTTP_HOST", "backend:8000"},
        {"SERVER_NAME", "backend"}, {"SERVER_PORT", "8000"}, {"SCRIPT_NAME", "/app"}}},
      {"the client category: the unused headers go", {"X-Forwarded-For"}, "127.0.0.1",
       {{"X-Forwarded-For", "203.0.113.9"}, {"X-Real-IP", "6.6.6.6"}, {"X-Client-IP", "7.7.7.7"}},
       {{"REMOTE_ADDR", "203.0.113.9"}, {"HTTP_X_FORWARDED_FOR", "203.0.113.9"},
        {"HTTP_HOST", "backend:8000"}, {"SERVER_NAME", "backend"}, {"SERVER_PORT", "8000"},
        {"SCRIPT_NAME", "/app"}}},
      {"X-Forwarded-Proto https", {"X-Forwarded-Proto"}, "127.0.0.1",
       {{"X-Forwarded-Proto", "HTTPS"}, {"X-Forwarded-SSL", "on"}},
       {{"REMOTE_ADDR", "127.0.0.1"}, {"HTTPS", "1"}, {"HTTP_X_FORWARDED_PROTO", "HTTPS"},
        {"HTTP_HOST", "backend:8000"}, {"SERVER_NAME", "backend"}, {"SERVER_PORT", "8000"},
        {"SCRIPT_NAME", "/app"}}},
      {"X-Forwarded-Proto http", {"X-Forwarded-Proto"}, "127.0.0.1",
       {{"X-Forwarded-Proto", "http"}},
       {{"REMOTE_ADDR", "127.0.0.1"}, {"HTTP_X_FORWARDED_PROTO", "http"},
        {"HTTP_HOST", "backend:8000"}, {"SERVER_NAME", "backend"}, {"SERVER_PORT", "8000"},
        {"SCRIPT_NAME", "/app"}}},
      {"X-Forwarded-SSL flag", {"X-Forwarded-SSL"}, "127.0.0.1", {{"X-Forwarded-SSL", "true"}},
       {{"REMOTE_ADDR", "127.0.0.1"}, {"HTTPS", "1"}, {"HTTP_X_FORWARDED_SSL", "true"},
        {"HTTP_HOST", "backend:8000"}, {"SERVER_NAME", "backend"}, {"SERVER_PORT", "8000"},
        {"SCRIPT_NAME", "/app"}}},
      {"host, server, port", {"X-Forwarded-Host", "X-Forwarded-Server", "X-Forwarded-Port"},
       "127.0.0.1",
       {{"X-Forwarded-Host", "www.example.com:8443"}, {"X-Host", "evil"},
        {"X-Forwarded-Server", "www.example.com"}, {"X-Forwarded-Port", "8443"}},
       {{"REMOTE_ADDR", "127.0.0.1"}, {"HTTP_HOST", "www.example.com:8443"},
        {"HTTP_X_FORWARDED_HOST", "www.example.com:8443"},
        {"HTTP_X_FORWARDED_SERVER", "www.example.com"}, {"HTTP_X_FORWARDED_PORT", "8443"},
        {"SERVER_NAME", "www.example.com"}, {"SERVER_PORT", "8443"}, {"SCRIPT_NAME", "/app"}}},
      {"script name", {"X-Script-Name"}, "127.0.0.1",
       {{"X-Script-Name", "/prefix"}, {"X-Forwarded-Script-Name", "/other"}},
       {{"REMOTE_ADDR", "127.0.0.1"}, {"HTTP_X_SCRIPT_NAME", "/prefix"},
        {"HTTP_HOST", "backend:8000"}, {"SERVER_NAME", "backend"}, {"SERVER_PORT", "8000"},
        {"SCRIPT_NAME", "/prefix"}, {"mod_wsgi.mount_point", "/prefix"}}},
      {"untrusted peer: every named category removed, nothing applied",
       {"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Script-Name",
        "X-Forwarded-Port"},
       "127.0.0.2",
       {{"X-Forwarded-For", "6.6.6.6"}, {"X-Real-IP", "6.6.6.6"}, {"X-Forwarded-Proto", "https"},
        {"X-Scheme", "https"}, {"X-Forwarded-Host", "evil"}, {"X-Script-Name", "/evil"},
        {"X-Forwarded-Port", "1"}, {"X-Other", "kept"}},
       {{"REMOTE_ADDR", "127.0.0.2"}, {"HTTP_HOST", "backend:8000"}, {"SERVER_NAME", "backend"},
        {"SERVER_PORT", "8000"}, {"SCRIPT_NAME", "/app"}, {"HTTP_X_FORWARDED_PORT", "1"},
        {"HTTP_X_OTHER", "kept"}}},
      {"categories not named are left alone", {"X-Forwarded-Proto"}, "127.0.0.2",
       {{"X-Forwarded-For", "6.6.6.6"}},
       {{"REMOTE_ADDR", "127.0.0.2"}, {"HTTP_X_FORWARDED_FOR", "6.6.6.6"},
        {"HTTP_HOST", "backend:8000"}, {"SERVER_NAME", "backend"}, {"SERVER_PORT", "8000"},
        {"SCRIPT_NAME", "/app"}}},
  };
  for (const Case& c : cases) {
    Env env = environ_of(c.trusted, &kLocal, c.peer, c.fields);
    std::string got, want;
    for (const auto& [k, v] : env) got += k + "=" + v + "\n";
    for (const auto& [k, v] : c.want) want += k + "=" + v + "\n";
    INFO(c.what);
    CHECK(got == want);
  }
}

}  // namespace wsgid::frontend
