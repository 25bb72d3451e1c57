// Listening sockets (sockets.h): paths, modes, and every error text.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "supervisor/master/sockets.h"

using namespace wsgid;
using namespace wsgid::master;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/wsgid-sockets-test-XXXXXX";
    REQUIRE(mkdtemp(t));
    path = t;
  }
  ~TempDir() { std::string cmd = "rm -rf " + path; (void)!system(cmd.c_str()); }
};

}  // namespace

TEST_CASE("unix listener: mode 0600, stale socket replaced, live one refused") {
  TempDir d;
  std::string p = d.path + "/wsgi.g.sock";
  UnixSocketOptions o;
  o.backlog = 5;
  auto a = open_unix_listener(p, o);
  REQUIRE(a.is_ok());
  struct stat st;
  REQUIRE(stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(S_ISSOCK(st.st_mode));
  auto b = open_unix_listener(p, o);
  REQUIRE_FALSE(b.is_ok());
  CHECK(b.status().message() == "another wsgid is listening on " + p);
  close(a.value());  // now stale: the file remains, nobody listens
  auto c = open_unix_listener(p, o);
  REQUIRE(c.is_ok());
  close(c.value());
}

TEST_CASE("unix listener: errors") {
  TempDir d;
  std::string file = d.path + "/plain";
  std::ofstream(file) << "x";
  UnixSocketOptions o;
  auto a = open_unix_listener(file, o);
  REQUIRE_FALSE(a.is_ok());
  CHECK(a.status().message() == file + ": exists and is not a socket");
  std::string longp = d.path + "/" + std::string(120, 'x');
  auto b = open_unix_listener(longp, o);
  REQUIRE_FALSE(b.is_ok());
  CHECK(b.status().message() == longp + ": socket path longer than 107 bytes");
  auto c = open_unix_listener(d.path + "/missing/dir.sock", o);
  REQUIRE_FALSE(c.is_ok());
  CHECK(c.status().message() == "bind(" + d.path + "/missing/dir.sock): No such file or directory");
}

TEST_CASE("tcp listener: port 0 is resolved, a busy port names the address") {
  model::ListenAddr addr;
  addr.host = "127.0.0.1";
  addr.port = 0;
  auto a = open_tcp_listener(addr, 16);
  REQUIRE(a.is_ok());
  std::string bound = bound_address(a.value());
  CHECK(bound.rfind("127.0.0.1:", 0) == 0);
  CHECK(bound != "127.0.0.1:0");
  model::ListenAddr again = addr;
  again.port = std::stoi(bound.substr(10));
  auto b = open_tcp_listener(again, 16);
  REQUIRE_FALSE(b.is_ok());
  CHECK(b.status().message() == "bind(" + bound + "): Address already in use");
  close(a.value());
}

TEST_CASE("runtime dir is created with the documented mode") {
  TempDir d;
  std::string p = d.path + "/a/b";
  REQUIRE(ensure_runtime_dir(p).is_ok());
  struct stat st;
  REQUIRE(stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == (geteuid() == 0 ? 0755 : 0700));
  std::string f = d.path + "/file";
  std::ofstream(f) << "x";
  auto s = ensure_runtime_dir(f);
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.message() == f + ": not a directory");
}
