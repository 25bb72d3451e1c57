// append_environ: the environ a request routed to a group gets, from the request
// facts alone (no socket, no loop). Each row asserts what the front end sends today.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"
#include "supervisor/frontend/cgi_environ.h"

namespace wsgid::frontend {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// A head buffer and its spans, laid out as HttpConn collects them.
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

EnvironInput base_input() {
  EnvironInput in;
  in.method = "GET";
  in.request_uri = "/app/x?a=1";
  in.query = "a=1";
  in.host = "example.org";
  in.local_ip = "127.0.0.1";
  in.remote_ip = "127.0.0.2";
  in.local_port = 8080;
  in.remote_port = 54321;
  in.request_id = "abc-7";
  in.request_start_us = 1700000000123456;
  return in;
}

Route base_route() {
  Route r;
  r.kind = Route::Kind::kWsgi;
  r.group = 0;
  r.group_name = "site1";
  r.script_filename = "/srv/app.wsgi";
  r.script_name = "/app";
  r.path_info = "/x";
  r.application_group = "example.org|/app";
  r.callable_object = "application";
  return r;
}

// The environ as the worker decodes it.
proto::KeyValues environ_of(const EnvironInput& in, const Fields& fields, const Route& route) {
  Head head(fields);
  EnvironScratch scratch;
  std::string out;
  REQUIRE(append_environ(in, head.view(), route, 7, &scratch, &out));
  proto::FrameReader reader;
  reader.feed(out);
  proto::Frame f{};
  REQUIRE(reader.next(&f) == proto::FrameReader::Result::kFrame);
  CHECK(f.type == proto::FrameType::kRequestHead);
  CHECK(f.request_id == 7);
  Result<proto::KeyValues> kv = proto::decode_request_head(f.payload);
  REQUIRE(kv.is_ok());
  return *kv;
}

std::optional<std::string> get(const proto::KeyValues& kv, std::string_view key) {
  std::optional<std::string> found;
  for (const auto& [k, v] : kv)
    if (k == key) {
      REQUIRE_FALSE(found.has_value());  // every key at most once
      found = v;
    }
  return found;
}

TEST_CASE("the fixed keys, in order") {
  proto::KeyValues kv = environ_of(base_input(), {{"Host", "example.org"}}, base_route());
  const proto::KeyValues expected = {
      {"REQUEST_METHOD", "GET"},
      {"SCRIPT_NAME", "/app"},
      {"PATH_INFO", "/x"},
      {"QUERY_STRING", "a=1"},
      {"REQUEST_URI", "/app/x?a=1"},
      {"SERVER_PROTOCOL", "HTTP/1.1"},
      {"SERVER_SOFTWARE", "wsgid"},
      {"GATEWAY_INTERFACE", "CGI/1.1"},
      {"REQUEST_SCHEME", "http"},
      {"SERVER_NAME", "example.org"},
      {"SERVER_PORT", "8080"},
      {"SERVER_ADDR", "127.0.0.1"},
      {"REMOTE_ADDR", "127.0.0.2"},
      {"REMOTE_PORT", "54321"},
      {"SCRIPT_FILENAME", "/srv/app.wsgi"},
      {"HTTP_HOST", "example.org"},
      {"mod_wsgi.process_group", "site1"},
      {"mod_wsgi.application_group", "example.org|/app"},
      {"mod_wsgi.callable_object", "application"},
      {"mod_wsgi.script_reloading", "1"},
      {"mod_wsgi.request_id", "abc-7"},
      {"wsgid.request_start", "1700000000123456"},
  };
  CHECK(kv == expected);
}

TEST_CASE("headers -> environ keys") {
  struct Case {
    const char* what;
    Fields fields;
    bool pass_authorization;
    bool chunked;
    std::vector<std::pair<const char*, std::optional<std::string>>> expect;
  };
  const std::vector<Case> cases = {
      {"name upper-cased, '-' as '_'", {{"X-Forwarded-For", "1.2.3.4"}}, false, false,
       {{"HTTP_X_FORWARDED_FOR", "1.2.3.4"}}},
      {"digits kept", {{"X-B3-TraceId", "t"}}, false, false, {{"HTTP_X_B3_TRACEID", "t"}}},
      {"'_' in a name: dropped", {{"X_Foo", "1"}}, false, false,
       {{"HTTP_X_FOO", std::nullopt}}},
      {"odd byte in a name: dropped", {{"X.Foo", "1"}}, false, false,
       {{"HTTP_X.FOO", std::nullopt}, {"HTTP_X_FOO", std::nullopt}}},
      {"repeated names joined with \", \"", {{"Accept", "a"}, {"X", "1"}, {"accept", "b"}}, false, false,
       {{"HTTP_ACCEPT", "a, b"}, {"HTTP_X", "1"}}},
      {"empty value kept", {{"X-Empty", ""}}, false, false, {{"HTTP_X_EMPTY", ""}}},
      {"Content-Type and Content-Length lose HTTP_", {{"Content-Type", "text/plain"}, {"Content-Length", "5"}}, false, false,
       {{"CONTENT_TYPE", "text/plain"}, {"CONTENT_LENGTH", "5"}, {"HTTP_CONTENT_TYPE", std::nullopt},
        {"HTTP_CONTENT_LENGTH", std::nullopt}}},
      {"no CONTENT_LENGTH for a chunked body", {{"Content-Length", "5"}}, false, true,
       {{"CONTENT_LENGTH", std::nullopt}, {"HTTP_CONTENT_LENGTH", std::nullopt}}},
      {"no CONTENT_TYPE/LENGTH without the headers", {}, false, false,
       {{"CONTENT_TYPE", std::nullopt}, {"CONTENT_LENGTH", std::nullopt}}},
      {"Authorization hidden by default", {{"Authorization", "Basic eDp5"}}, false, false,
       {{"HTTP_AUTHORIZATION", std::nullopt}}},
      {"Authorization with WSGIPassAuthorization On", {{"Authorization", "Basic eDp5"}}, true, false,
       {{"HTTP_AUTHORIZATION", "Basic eDp5"}}},
      {"Proxy never (httpoxy)", {{"Proxy", "http://evil"}}, true, false, {{"HTTP_PROXY", std::nullopt}}},
      {"HTTPS never set", {{"X-Forwarded-Proto", "https"}}, false, false,
       {{"HTTPS", std::nullopt}, {"HTTP_X_FORWARDED_PROTO", "https"}}},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    EnvironInput in = base_input();
    in.chunked = c.chunked;
    Route route = base_route();
    route.pass_authorization = c.pass_authorization;
    proto::KeyValues kv = environ_of(in, c.fields, route);
    for (const auto& [key, value] : c.expect) {
      INFO(key);
      CHECK(get(kv, key) == value);
    }
  }
}

TEST_CASE("SERVER_NAME and SERVER_PORT as UseCanonicalName Off") {
  struct Case {
    const char* what;
    std::string host;
    std::string vhost_name;    // the route's vhost ServerName ("" = no vhost)
    std::string default_name;  // the main server's
    const char* name;
    const char* port;
  };
  const std::vector<Case> cases = {
      {"host without port", "example.org", "", "", "example.org", "8080"},
      {"host with port", "example.org:81", "", "", "example.org", "81"},
      {"host lower-cased", "EXAMPLE.Org", "", "", "example.org", "8080"},
      {"IPv6 literal", "[::1]", "", "", "[::1]", "8080"},
      {"IPv6 literal with port", "[::1]:9000", "", "", "[::1]", "9000"},
      {"no host: the vhost's name", "", "vh.example", "main.example", "vh.example", "8080"},
      {"no host, no vhost: the main server's", "", "", "main.example", "main.example", "8080"},
      {"no host, no name anywhere", "", "", "", "localhost", "8080"},
      {"port only", ":82", "vh.example", "", "vh.example", "82"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    EnvironInput in = base_input();
    in.host = c.host;
    in.default_server_name = c.default_name;
    model::VirtualHost vh;
    vh.server_name = c.vhost_name;
    Route route = base_route();
    route.vhost = c.vhost_name.empty() ? nullptr : &vh;
    proto::KeyValues kv = environ_of(in, {}, route);
    CHECK(get(kv, "SERVER_NAME") == c.name);
    CHECK(get(kv, "SERVER_PORT") == c.port);
  }
}

TEST_CASE("request facts -> their keys") {
  struct Case {
    const char* what;
    void (*edit)(EnvironInput*, Route*);
    const char* key;
    const char* value;
  };
  const std::vector<Case> cases = {
      {"HTTP/1.0", [](EnvironInput* in, Route*) { in->http10 = true; }, "SERVER_PROTOCOL", "HTTP/1.0"},
      {"method", [](EnvironInput* in, Route*) { in->method = "POST"; }, "REQUEST_METHOD", "POST"},
      {"no query", [](EnvironInput* in, Route*) { in->query = ""; }, "QUERY_STRING", ""},
      {"IPv6 peer", [](EnvironInput* in, Route*) { in->remote_ip = "::1"; }, "REMOTE_ADDR", "::1"},
      {"remote port 65535", [](EnvironInput* in, Route*) { in->remote_port = 65535; }, "REMOTE_PORT", "65535"},
      {"root mount: empty SCRIPT_NAME", [](EnvironInput*, Route* r) { r->script_name = ""; r->path_info = "/app/x"; }, "SCRIPT_NAME", ""},
      {"root mount: PATH_INFO is the path", [](EnvironInput*, Route* r) { r->script_name = ""; r->path_info = "/app/x"; }, "PATH_INFO", "/app/x"},
      {"script reloading off", [](EnvironInput*, Route* r) { r->script_reloading = false; }, "mod_wsgi.script_reloading", "0"},
      {"embedded mode: empty process group", [](EnvironInput*, Route* r) { r->group = -1; r->group_name = ""; }, "mod_wsgi.process_group", ""},
      {"uwsgi HTTPS: the scheme", [](EnvironInput* in, Route*) { in->https_scheme = true; }, "REQUEST_SCHEME", "https"},
      {"uwsgi HTTPS: HTTPS on", [](EnvironInput* in, Route*) { in->https_scheme = true; }, "HTTPS", "on"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    EnvironInput in = base_input();
    Route route = base_route();
    c.edit(&in, &route);
    CHECK(get(environ_of(in, {}, route), c.key) == c.value);
  }
}

TEST_CASE("a head over the protocol's limits is refused and leaves the buffer alone") {
  EnvironInput in = base_input();
  const std::string huge(proto::kMaxPayload, 'v');
  Head head({{"X-Big", huge}});
  EnvironScratch scratch;
  std::string out = "before";
  CHECK_FALSE(append_environ(in, head.view(), base_route(), 1, &scratch, &out));
  CHECK(out == "before");
}

}  // namespace
}  // namespace wsgid::frontend
