// Rendering: every directive's text for one request, Apache's "-" and "0"
// cases, escaping, status conditions and the time forms.
#include <doctest/doctest.h>

#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <string>

#include "supervisor/logformat/log_line.h"

using namespace wsgid::logformat;

namespace {

class FakeSources : public Sources {
 public:
  std::map<std::string, std::string> in, out, env_vars, notes;
  static std::optional<std::string_view> get(const std::map<std::string, std::string>& m,
                                             std::string_view k) {
    auto it = m.find(std::string(k));
    if (it == m.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  std::optional<std::string_view> header_in(std::string_view n) const override { return get(in, n); }
  std::optional<std::string_view> header_out(std::string_view n) const override { return get(out, n); }
  std::optional<std::string_view> env(std::string_view n) const override { return get(env_vars, n); }
  std::optional<std::string_view> note(std::string_view n) const override { return get(notes, n); }
};

std::string line(const char* format, const LogRecord& r) {
  Compiled c = compile(format);
  REQUIRE_FALSE(c.error);
  std::string out;
  render(c.format, r, &out);
  return out;
}

struct Utc {
  Utc() {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

}  // namespace

TEST_CASE("render: every directive for one request") {
  Utc utc;
  FakeSources src;
  src.in = {{"Referer", "http://ref/"}, {"User-Agent", "curl/8 \"q\""}, {"X-Empty", ""},
            {"Cookie", "a=1; sid=xyz; b=2"}};
  src.out = {{"Content-Type", "text/plain"}, {"Set-Cookie", "k=v, j=w"}};
  src.env_vars = {{"mod_wsgi.process_group", "site1"}};
  src.notes = {{"error-notes", "worker died"}};
  LogRecord r;
  r.remote_ip = "10.0.0.1";
  r.local_ip = "127.0.0.1";
  r.remote_port = 50000;
  r.local_port = 8080;
  r.method = "GET";
  r.target = "/a%20b/c?x=1&y=2";
  r.path = "/a b/c";
  r.protocol = "HTTP/1.1";
  r.server_name = "example.com";
  r.host = "WWW.Example.com:8080";
  r.status = 200;
  r.body_bytes = 13;
  r.bytes_in = 120;
  r.bytes_out = 250;
  r.start_us = 971186136'000000 + 123456;  // 10/Oct/2000:13:55:36.123456 UTC
  r.end_us = r.start_us + 2'345'678;
  r.keepalives = 3;
  r.conn_status = '+';
  r.filename = "/srv/app.wsgi";
  r.handler = "wsgi-script";
  r.log_id = "abc.1";
  r.user = "alice";
  r.pid = 4711;
  r.sources = &src;
  std::string tid = std::to_string(static_cast<unsigned long>(pthread_self()));
  char hextid[32];
  snprintf(hextid, sizeof hextid, "%lx", static_cast<unsigned long>(pthread_self()));
  struct Case {
    const char* format;
    std::string want;
  } cases[] = {
      {"%a %{c}a %h %{c}h %A", "10.0.0.1 10.0.0.1 10.0.0.1 10.0.0.1 127.0.0.1"},
      {"%b %B", "13 13"},
      {"%{sid}C %{a}C %{b}C %{nope}C", "xyz 1 2 -"},
      {"%D", "2345678"},
      {"%{mod_wsgi.process_group}e %{HOME}e", "site1 -"},
      {"%f %R", "/srv/app.wsgi wsgi-script"},
      {"%H %m", "HTTP/1.1 GET"},
      {"%{Referer}i|%{User-Agent}i|%{X-Empty}i|%{Nope}i", "http://ref/|curl/8 \\\"q\\\"||-"},
      {"%I %O %S", "120 250 370"},
      {"%k", "3"},
      {"%l", "-"},
      {"%L", "abc.1"},
      {"%{error-notes}n %{other}n", "worker died -"},
      {"%{Content-Type}o %{Set-Cookie}o %{ETag}o", "text/plain k=v, j=w -"},
      {"%p %{canonical}p %{local}p %{remote}p", "8080 8080 8080 50000"},
      {"%P %{pid}P", "4711 4711"},
      {"%{tid}P", tid},
      {"%{hextid}P", hextid},
      {"%q", "?x=1&y=2"},
      {"%r", "GET /a%20b/c?x=1&y=2 HTTP/1.1"},
      {"%s %>s %<s", "200 200 200"},
      {"%t", "[10/Oct/2000:13:55:36 +0000]"},
      {"%{begin}t %{end}t", "[10/Oct/2000:13:55:36 +0000] [10/Oct/2000:13:55:38 +0000]"},
      {"%{%Y-%m-%d %H:%M:%S}t", "2000-10-10 13:55:36"},
      {"%{end:%H:%M:%S}t %{begin:%S}t", "13:55:38 36"},
      {"%{sec}t %{msec}t %{usec}t", "971186136 971186136123 971186136123456"},
      {"%{msec_frac}t %{usec_frac}t %{end:msec_frac}t", "123 123456 469"},
      {"%T %{s}T %{ms}T %{us}T", "2 2 2345 2345678"},
      {"%u", "alice"},
      {"%U", "/a b/c"},
      {"%v %V", "example.com www.example.com"},
      {"%X", "+"},
      {"100%% \\t", "100% \t"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.format));
    CHECK(line(c.format, r) == c.want);
  }
}

TEST_CASE("render: behind mod_remoteip %a and %h are the client, %{c}a and %{c}h the peer") {
  LogRecord r;
  r.remote_ip = "203.0.113.9";
  r.peer_ip = "127.0.0.1";
  r.local_ip = "127.0.0.1";
  CHECK(line("%a %{c}a %h %{c}h", r) == "203.0.113.9 127.0.0.1 203.0.113.9 127.0.0.1");
  r.peer_ip = "";  // no proxy: the peer is the client
  CHECK(line("%a %{c}a", r) == "203.0.113.9 203.0.113.9");
}

TEST_CASE("render: Apache's values for none: '-', '0', '\"\"'") {
  LogRecord r;
  r.target = "/x";
  struct Case {
    const char* format;
    const char* want;
  } cases[] = {
      {"%b %B", "- 0"},
      {"%u", "-"},
      {"%f %R %L %a %A %v %V %m %H", "- - - - - - - - -"},
      {"%s", "-"},
      {"%q|", "|"},
      {"%{Referer}i %{X}o %{V}e %{N}n %{c}C", "- - - - -"},
      {"%I %O %S %k %D %T", "0 0 0 0 0 0"},
      {"%X", "-"},
      {"%U", "/x"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.format));
    CHECK(line(c.format, r) == c.want);
  }
  r.user = "";
  CHECK(line("%u", r) == "\"\"");
  r.target = "/x?";
  CHECK(line("%q", r) == "?");
  r.conn_status = 'X';
  CHECK(line("%X", r) == "X");
  r.server_name = "srv";
  CHECK(line("%V", r) == "srv");
  r.host = "[::1]:8080";
  CHECK(line("%V", r) == "[::1]");
  r.pid = 0;
  CHECK(line("%P", r) == std::to_string(getpid()));
}

TEST_CASE("render: escaping as ap_escape_logitem") {
  FakeSources src;
  src.in = {{"X", std::string("a\"b\\c\bd\ne\rf\tg\vh\x01i\x7fj\xc3\xa9", 21)}};
  LogRecord r;
  r.sources = &src;
  CHECK(line("%{X}i", r) == "a\\\"b\\\\c\\bd\\ne\\rf\\tg\\vh\\x01i\\x7fj\\xc3\\xa9");
  r.user = "bob \"x\"";
  CHECK(line("%u", r) == "bob \\\"x\\\"");
  r.method = "GET";
  r.target = "/\"q";
  r.protocol = "HTTP/1.0";
  CHECK(line("\"%r\"", r) == "\"GET /\\\"q HTTP/1.0\"");
}

TEST_CASE("render: status conditions") {
  FakeSources src;
  src.in = {{"User-agent", "ua"}, {"Referer", "ref"}};
  LogRecord r;
  r.sources = &src;
  struct Case {
    int status;
    const char* format;
    const char* want;
  } cases[] = {
      {400, "%400,501{User-agent}i", "ua"},
      {501, "%400,501{User-agent}i", "ua"},
      {200, "%400,501{User-agent}i", "-"},
      {200, "%!200,304{Referer}i", "-"},
      {304, "%!200,304{Referer}i", "-"},
      {404, "%!200,304{Referer}i", "ref"},
      {404, "%404s %!404s", "404 -"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.format));
    CAPTURE(c.status);
    r.status = c.status;
    CHECK(line(c.format, r) == c.want);
  }
}
