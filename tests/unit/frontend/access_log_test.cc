// Access log formats (Apache's LogFormat directives plus ours).
#include <doctest/doctest.h>

#include <unistd.h>

#include <string>

#include "supervisor/frontend/access_log.h"

using namespace wsgid::frontend;

namespace {
std::string_view headers(const void*, std::string_view name) {
  if (name == "Referer") return "http://ref/";
  if (name == "User-Agent") return "curl/8 \"quoted\"";
  return {};
}
}  // namespace

TEST_CASE("LogFormat directives") {
  LogRecord r;
  r.remote_ip = "10.0.0.1";
  r.local_ip = "127.0.0.1";
  r.local_port = 8080;
  r.method = "GET";
  r.url = "/a/b?x=1";
  r.protocol = "HTTP/1.1";
  r.server_name = "example.com";
  r.status = 200;
  r.body_bytes = 13;
  r.duration_us = 1534;
  r.start = 0;
  r.worker_pid = 4711;
  r.request_id = "abc.1";
  r.group = "site1";
  r.header = headers;
  struct Case {
    const char* format;
    std::string want;
  } cases[] = {
      {"%h %l %u \"%r\" %>s %b", "10.0.0.1 - - \"GET /a/b?x=1 HTTP/1.1\" 200 13"},
      {"\"%{Referer}i\" \"%{User-Agent}i\"", "\"http://ref/\" \"curl/8 \\\"quoted\\\"\""},
      {"%D %T", "1534 0"},
      {"%m %U %q %H", "GET /a/b ?x=1 HTTP/1.1"},
      {"%v %p %A", "example.com 8080 127.0.0.1"},
      {"%{mod_wsgi.process_group}e %{wsgid.worker_pid}e %L %{mod_wsgi.request_id}e",
       "site1 4711 abc.1 abc.1"},
      {"%{wsgid.error}e %{Nope}i %X 100%%", "- - - 100%"},
      {"%P", std::to_string(getpid())},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.format));
    std::string out;
    AccessLog::format_line(c.format, r, &out);
    CHECK(out == c.want);
  }
  r.body_bytes = 0;
  std::string out;
  AccessLog::format_line("%b %B", r, &out);
  CHECK(out == "- 0");
}

TEST_CASE("configure() keeps a file open when its path stays, opens only new paths") {
  char tmpl[] = "/tmp/wsgid-access-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  std::string a = dir + "/a.log", b = dir + "/b.log";
  wsgid::model::Config c;
  c.server.custom_logs.push_back({{}, a, "%s %U"});
  AccessLog log;
  log.configure(c);
  LogRecord r;
  r.status = 200;
  r.url = "/one";
  log.log(&c.server, r);
  log.flush();
  // The front end runs as User and could not open a root-owned file again: a
  // reload that keeps the path keeps the open file. Unlinking the file shows it:
  // a kept descriptor writes into the unlinked file, a reopen would create a.log.
  REQUIRE(::unlink(a.c_str()) == 0);
  wsgid::model::Config c2;
  c2.server.custom_logs.push_back({{}, a, "%s %U"});
  c2.server.custom_logs.push_back({{}, b, "%U"});
  log.configure(c2);
  r.url = "/two";
  log.log(&c2.server, r);
  log.flush();
  CHECK(::access(a.c_str(), F_OK) != 0);
  CHECK(::access(b.c_str(), F_OK) == 0);
  // reopen() (USR1, logrotate) does open the path again.
  log.reopen();
  log.log(&c2.server, r);
  log.flush();
  CHECK(::access(a.c_str(), F_OK) == 0);
  ::unlink(a.c_str());
  ::unlink(b.c_str());
  ::rmdir(dir.c_str());
}
