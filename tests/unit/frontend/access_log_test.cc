// AccessLog: which file each vhost's lines go to, who opens the files (the
// master's passed descriptors, or the front end itself standalone), reopen.
// What each directive logs is tested in tests/unit/logformat.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "supervisor/frontend/access_log.h"

using namespace wsgid::frontend;
using wsgid::logformat::LogRecord;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/wsgid-access-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

LogRecord request(const char* target, int status = 200) {
  LogRecord r;
  r.status = status;
  r.target = target;
  return r;
}

}  // namespace

TEST_CASE("lines go to the vhost's CustomLog, else to the server's, in each file's format") {
  TempDir d;
  std::string a = d.path + "/a.log", b = d.path + "/b.log";
  wsgid::model::Config c;
  c.server.custom_logs.push_back({{}, a, "server %>s %U"});
  c.vhosts.resize(2);
  c.vhosts[0].custom_logs.push_back({{}, b, "vhost %U %b"});
  c.vhosts[0].custom_logs.push_back({{}, a, "both %U"});
  AccessLog log;
  log.configure(c);
  CHECK(log.enabled_for(&c.vhosts[1]));
  log.log(&c.server, request("/s"));
  log.log(&c.vhosts[0], request("/v"));
  log.log(&c.vhosts[1], request("/other", 404));
  log.flush();
  CHECK(read(a) == "server 200 /s\nboth /v\nserver 404 /other\n");
  CHECK(read(b) == "vhost /v -\n");
  wsgid::model::Config none;
  none.vhosts.resize(1);
  AccessLog off;
  off.configure(none);
  CHECK_FALSE(off.enabled_for(&none.server));
  CHECK_FALSE(off.enabled_for(&none.vhosts[0]));
}

TEST_CASE("standalone: configure() keeps a file open when its path stays, opens only new paths") {
  TempDir d;
  std::string a = d.path + "/a.log", b = d.path + "/b.log";
  wsgid::model::Config c;
  c.server.custom_logs.push_back({{}, a, "%s %U"});
  AccessLog log;
  log.configure(c);
  log.log(&c.server, request("/one"));
  log.flush();
  // A reload that keeps the path keeps the open file. Unlinking the file shows
  // it: a kept descriptor writes into the unlinked file, a reopen would create a.log.
  REQUIRE(::unlink(a.c_str()) == 0);
  wsgid::model::Config c2;
  c2.server.custom_logs.push_back({{}, a, "%s %U"});
  c2.server.custom_logs.push_back({{}, b, "%U"});
  log.configure(c2);
  log.log(&c2.server, request("/two"));
  log.flush();
  CHECK(::access(a.c_str(), F_OK) != 0);
  CHECK(read(b) == "/two\n");
  // reopen() (USR1, logrotate) does open the path again.
  log.reopen();
  log.log(&c2.server, request("/three"));
  log.flush();
  CHECK(read(a) == "200 /three\n");
}

TEST_CASE("with the master's descriptors, the front end never opens a path itself") {
  TempDir d;
  std::string a = d.path + "/a.log", elsewhere = d.path + "/elsewhere.log";
  // The master opened "a.log" as another file: lines must land where the
  // descriptor points, and no file may appear at the path.
  int fd = ::open(elsewhere.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  REQUIRE(fd >= 0);
  AccessLog log;
  REQUIRE(log.take_passed("{\"paths\": [\"" + a + "\"]}", {fd}));
  wsgid::model::Config c;
  c.server.custom_logs.push_back({{}, a, "%U"});
  std::string b = d.path + "/b.log";
  c.server.custom_logs.push_back({{}, b, "b %U"});  // no descriptor sent for it
  log.configure(c);
  log.log(&c.server, request("/x"));
  log.flush();
  CHECK(read(elsewhere) == "/x\n");
  CHECK(::access(a.c_str(), F_OK) != 0);
  CHECK(::access(b.c_str(), F_OK) != 0);
  // reopen(): the next set of descriptors (logrotate moved the file).
  std::string rotated = d.path + "/rotated.log";
  int fd2 = ::open(rotated.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  REQUIRE(fd2 >= 0);
  REQUIRE(log.take_passed("{\"paths\": [\"" + a + "\"]}", {fd2}));
  log.reopen();
  log.log(&c.server, request("/y"));
  log.flush();
  CHECK(read(elsewhere) == "/x\n");
  CHECK(read(rotated) == "/y\n");
  CHECK(::access(a.c_str(), F_OK) != 0);
  // A malformed message is refused and its descriptors closed.
  int fd3 = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  wsgid::Status s = log.take_passed("{\"paths\": []}", {fd3});
  CHECK_FALSE(s);
  CHECK(s.message() ==
        "fd message: expected {\"paths\": [...]} with one path per descriptor (1 descriptors)");
  CHECK(fcntl(fd3, F_GETFD) == -1);
}
