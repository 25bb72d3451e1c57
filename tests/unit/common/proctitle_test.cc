#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/proctitle.h"

namespace {

// The kernel's layout in one buffer: argv strings, then environment strings,
// each NUL-terminated, back to back.
struct FakeArea {
  std::string bytes;
  std::vector<char*> argv, envp;

  FakeArea(std::vector<std::string> args, std::vector<std::string> env) {
    for (const std::string& a : args) bytes += a + '\0';
    for (const std::string& e : env) bytes += e + '\0';
    size_t at = 0;
    for (const std::string& a : args) { argv.push_back(&bytes[at]); at += a.size() + 1; }
    argv.push_back(nullptr);
    for (const std::string& e : env) { envp.push_back(&bytes[at]); at += e.size() + 1; }
    envp.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(argv.size()) - 1; }
};

std::string read_file(const char* path) {
  std::string out;
  if (FILE* f = std::fopen(path, "rb")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

}  // namespace

TEST_CASE("title_area spans argv and the environment that follows it") {
  FakeArea a({"wsgid", "-f", "x.conf"}, {"A=1", "PATH=/bin"});
  wsgid::TitleArea t = wsgid::title_area(a.argc(), a.argv.data(), a.envp.data());
  CHECK(t.start == a.argv[0]);
  CHECK(t.size == a.bytes.size());

  // Without environment, or with one that lives elsewhere, argv only.
  t = wsgid::title_area(a.argc(), a.argv.data(), nullptr);
  CHECK(t.size == std::string("wsgid\0-f\0x.conf\0", 16).size());
  char elsewhere[] = "B=2";
  char* other_env[] = {elsewhere, nullptr};
  t = wsgid::title_area(a.argc(), a.argv.data(), other_env);
  CHECK(t.size == 16);

  // An argv string that is not contiguous ends the area.
  char detached[] = "-d";
  char* broken[] = {a.argv[0], detached, a.argv[2], nullptr};
  t = wsgid::title_area(3, broken, a.envp.data());
  CHECK(t.size == 6);

  CHECK(wsgid::title_area(0, a.argv.data(), nullptr).start == nullptr);
  CHECK(wsgid::title_area(1, nullptr, nullptr).size == 0);
}

TEST_CASE("write_title writes the title, a NUL and spaces, or cuts and says so") {
  struct Case { std::string title; size_t area; std::string bytes; std::string error; };
  const Case cases[] = {
      {"(wsgi:site1)", 16, std::string("(wsgi:site1)\0   ", 16), ""},
      {"exactly15bytes!", 16, std::string("exactly15bytes!\0", 16), ""},
      {"sixteen-bytes-xx", 16, std::string("sixteen-bytes-x\0", 16),
       "set_proctitle: title of 16 bytes does not fit in 15 bytes"},
      {"", 4, std::string("\0   ", 4), ""},
      {"ab", 1, std::string("?", 1), ""},       // too small: left alone
  };
  for (const Case& c : cases) {
    CAPTURE(c.title);
    std::string buf(c.area, '?');
    wsgid::Status s = wsgid::write_title({buf.data(), buf.size()}, c.title);
    CHECK(buf == c.bytes);
    CHECK(s.message() == c.error);
    CHECK(static_cast<bool>(s) == c.error.empty());
  }
}

TEST_CASE("set_proctitle rewrites this process's cmdline and comm") {
  wsgid::proctitle_init(0, nullptr);  // main()'s argv, captured at start
  REQUIRE(std::getenv("PATH") != nullptr);  // the environment survived the move
  wsgid::Status s = wsgid::set_proctitle("wsgid-unit", "unit-short-name-cut");
  CHECK(s.message() == "");
  CHECK(read_file("/proc/self/cmdline") == std::string("wsgid-unit\0", 11));
  CHECK(read_file("/proc/self/comm") == "unit-short-name\n");

  s = wsgid::set_proctitle("(wsgi:site1)");
  CHECK(static_cast<bool>(s));
  CHECK(read_file("/proc/self/cmdline") == std::string("(wsgi:site1)\0", 13));
  CHECK(read_file("/proc/self/comm") == "(wsgi:site1)\n");
}
