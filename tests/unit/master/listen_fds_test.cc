// Socket activation (listen_fds.h) and the watchdog interval (notify.h): the
// variables as sd_listen_fds(3) and sd_watchdog_enabled(3) read them, and which
// Listen takes which passed socket.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

#include "supervisor/master/listen_fds.h"
#include "supervisor/master/notify.h"

using namespace wsgid;
using namespace wsgid::master;

namespace {

sockaddr_storage v4(const char* ip, int port) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(inet_pton(AF_INET, ip, &a->sin_addr) == 1);
  return ss;
}

sockaddr_storage v6(const char* ip, int port) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(static_cast<uint16_t>(port));
  REQUIRE(inet_pton(AF_INET6, ip, &a->sin6_addr) == 1);
  return ss;
}

model::ListenAddr listen(const char* host, int port) {
  model::ListenAddr a;
  a.host = host;
  a.port = port;
  return a;
}

}  // namespace

TEST_CASE("parse_listen_fds: the variables as sd_listen_fds reads them") {
  struct Row {
    const char *pid, *fds, *names;
    pid_t self;
    bool ok;
    bool present;
    int count;
    std::vector<std::string> names_out;
    std::string error;
  };
  const Row rows[] = {
      {nullptr, nullptr, nullptr, 42, true, false, 0, {}, ""},
      {"42", nullptr, nullptr, 42, true, false, 0, {}, ""},           // no LISTEN_FDS
      {nullptr, "2", nullptr, 42, true, false, 0, {}, ""},            // no LISTEN_PID
      {"41", "2", "a:b", 42, true, false, 0, {}, ""},                 // a parent's
      {"42", "2", "a:b", 42, true, true, 2, {"a", "b"}, ""},
      {"42", "2", nullptr, 42, true, true, 2, {"", ""}, ""},          // unnamed
      {"42", "3", "a", 42, true, true, 3, {"a", "", ""}, ""},         // short
      {"42", "1", "a:b", 42, true, true, 1, {"a"}, ""},               // long
      {"42", "0", "", 42, true, true, 0, {}, ""},
      {"x", "2", nullptr, 42, false, false, 0, {}, "LISTEN_PID: 'x' is not a number"},
      {"42", "two", nullptr, 42, false, false, 0, {}, "LISTEN_FDS: 'two' is not a number"},
      {"42", "-1", nullptr, 42, false, false, 0, {}, "LISTEN_FDS: '-1' is not a number"},
      {"42", "5000", nullptr, 42, false, false, 0, {}, "LISTEN_FDS: 5000 sockets is more than 4096"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.fds);
    CAPTURE(r.pid);
    auto got = parse_listen_fds(r.pid, r.fds, r.names, r.self);
    REQUIRE(got.is_ok() == r.ok);
    if (!r.ok) {
      CHECK(got.status().message() == r.error);
      continue;
    }
    REQUIRE(got.value().has_value() == r.present);
    if (!r.present) continue;
    CHECK(got.value()->count == r.count);
    CHECK(got.value()->names == r.names_out);
  }
}

TEST_CASE("listen_matches: a Listen takes the socket bound to its address and port") {
  struct Row {
    model::ListenAddr listen;
    sockaddr_storage bound;
    bool match;
  };
  const Row rows[] = {
      {listen("127.0.0.1", 8080), v4("127.0.0.1", 8080), true},
      {listen("127.0.0.1", 8080), v4("127.0.0.1", 8081), false},   // port
      {listen("127.0.0.1", 8080), v4("127.0.0.2", 8080), false},   // address
      {listen("127.0.0.1", 8080), v4("0.0.0.0", 8080), false},     // wildcard is not 127.0.0.1
      {listen("127.0.0.1", 8080), v6("::ffff:127.0.0.1", 8080), true},  // mapped
      {listen("", 8080), v4("0.0.0.0", 8080), true},               // `Listen 8080`
      {listen("", 8080), v6("::", 8080), true},                    // ListenStream=8080
      {listen("", 8080), v4("127.0.0.1", 8080), false},
      {listen("::1", 80), v6("::1", 80), true},
      {listen("::1", 80), v4("127.0.0.1", 80), false},
      {listen("127.0.0.1", 0), v4("127.0.0.1", 0), false},         // port 0: any free port
  };
  for (const auto& r : rows) {
    CAPTURE(r.listen.text());
    CHECK(listen_matches(r.listen, r.bound) == r.match);
  }
}

TEST_CASE("take_matching: each socket goes to one Listen, in the pool's order") {
  std::vector<InheritedSocket> pool(2);
  pool[0].fd = 3;
  pool[0].addr = v4("127.0.0.1", 8080);
  pool[1].fd = 4;
  pool[1].addr = v4("127.0.0.1", 8081);
  CHECK_FALSE(take_matching(listen("127.0.0.1", 9000), &pool));
  auto s = take_matching(listen("127.0.0.1", 8081), &pool);
  REQUIRE(s);
  CHECK(s->fd == 4);
  CHECK(pool.size() == 1);
  CHECK_FALSE(take_matching(listen("127.0.0.1", 8081), &pool));
  CHECK(take_matching(listen("127.0.0.1", 8080), &pool)->fd == 3);
  CHECK(pool.empty());
}

TEST_CASE("unmatched_message: names the socket and the Listen line to write") {
  InheritedSocket s;
  s.fd = 4;
  s.name = "http";
  s.bound = "127.0.0.1:9999";
  CHECK(describe(s) == "fd 4 (http)");
  CHECK(unmatched_message(s, "/etc/wsgid/wsgid.conf") ==
        "socket activation: systemd passed fd 4 (http) bound to 127.0.0.1:9999, and no Listen "
        "directive of /etc/wsgid/wsgid.conf asks for it; add 'Listen 127.0.0.1:9999' there, or "
        "remove that ListenStream= from the socket unit (wsgid takes a passed socket only for a "
        "Listen of the same address and port)");
  s.name.clear();
  s.bound = "[::]:80";
  CHECK(describe(s) == "fd 4");
  CHECK(unmatched_message(s, "a.conf").find("add 'Listen 80' there") != std::string::npos);
}

TEST_CASE("parse_watchdog_usec: WATCHDOG_USEC as sd_watchdog_enabled reads it") {
  struct Row {
    const char *usec, *pid;
    uint64_t want;
  };
  const Row rows[] = {
      {nullptr, nullptr, 0},       {"", nullptr, 0},         {"30000000", nullptr, 30000000},
      {"30000000", "42", 30000000}, {"30000000", "41", 0},   {"0", nullptr, 0},
      {"-5", nullptr, 0},          {"3s", nullptr, 0},       {"30000000", "x", 0},
  };
  for (const auto& r : rows) {
    CAPTURE(r.usec);
    CAPTURE(r.pid);
    CHECK(parse_watchdog_usec(r.usec, r.pid, 42) == r.want);
  }
}
