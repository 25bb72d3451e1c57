// UwsgiPacketReader (uwsgi_packet.h): the packets nginx's uwsgi module sends,
// whole, one byte at a time and at every split, become the HTTP head the
// parser reads; every fault is an error with its sentence; UWSGI_* magic
// variables are ignored; random bytes never crash it or make it read past the
// block.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "supervisor/frontend/uwsgi_packet.h"

namespace wsgid::frontend {
namespace {

using State = UwsgiPacketReader::State;
using Vars = std::vector<std::pair<std::string, std::string>>;

void le16(std::string* s, size_t v) {
  s->push_back(static_cast<char>(v & 0xff));
  s->push_back(static_cast<char>((v >> 8) & 0xff));
}

std::string vars_block(const Vars& vars) {
  std::string b;
  for (const auto& [k, v] : vars) {
    le16(&b, k.size());
    b += k;
    le16(&b, v.size());
    b += v;
  }
  return b;
}

std::string packet(const std::string& block, int modifier1 = 0) {
  std::string p;
  p.push_back(static_cast<char>(modifier1));
  le16(&p, block.size());
  p.push_back(0);
  return p + block;
}

std::string packet(const Vars& vars) { return packet(vars_block(vars)); }

// What nginx sends for "POST /app/x?a=1" with uwsgi_params.
const Vars kNginx = {
    {"QUERY_STRING", "a=1"},      {"REQUEST_METHOD", "POST"},
    {"CONTENT_TYPE", "text/plain"}, {"CONTENT_LENGTH", "5"},
    {"REQUEST_URI", "/app/x?a=1"}, {"PATH_INFO", "/app/x"},
    {"DOCUMENT_ROOT", "/usr/share/nginx/html"}, {"SERVER_PROTOCOL", "HTTP/1.1"},
    {"REQUEST_SCHEME", "http"},   {"REMOTE_ADDR", "192.0.2.7"},
    {"REMOTE_PORT", "51000"},     {"SERVER_PORT", "8080"},
    {"SERVER_NAME", "example.org"}, {"HTTP_HOST", "example.org:8080"},
    {"HTTP_USER_AGENT", "curl/7.88"}, {"HTTP_X_FORWARDED_FOR", "10.0.0.1"},
    {"HTTP_CONTENT_LENGTH", "5"}, {"HTTP_CONTENT_TYPE", "text/plain"},
    {"HTTP_CONNECTION", "keep-alive"}, {"HTTP_EXPECT", "100-continue"},
    {"UWSGI_SCRIPT", "evil:app"}, {"UWSGI_CHDIR", "/tmp"}};

const char* kNginxHead =
    "POST /app/x?a=1 HTTP/1.1\r\n"
    "Host: example.org:8080\r\n"
    "Content-Length: 5\r\n"
    "Content-Type: text/plain\r\n"
    "User-Agent: curl/7.88\r\n"
    "X-Forwarded-For: 10.0.0.1\r\n"
    "\r\n";

struct Outcome {
  State state;
  size_t used;
  UwsgiRequest request;
  std::string error;
};

Outcome read_all(const std::string& bytes) {
  UwsgiPacketReader r;
  size_t used = 0;
  State st = r.feed(bytes, &used);
  return {st, used, r.request(), r.error()};
}

std::string error_of(const std::string& bytes) {
  Outcome o = read_all(bytes);
  CHECK(o.state == State::kError);
  return o.error;
}

std::string error_of(const Vars& vars) { return error_of(packet(vars)); }

TEST_CASE("uwsgi: nginx's packet becomes the HTTP head; the body is left") {
  const std::string p = packet(kNginx);
  Outcome o = read_all(p + "hello");
  REQUIRE(o.state == State::kDone);
  CHECK(o.used == p.size());
  CHECK(o.request.head == kNginxHead);
  CHECK(o.request.remote_ip == "192.0.2.7");
  CHECK(o.request.remote_port == 51000);
  CHECK_FALSE(o.request.https);
  CHECK(o.request.server_port == "8080");
}

TEST_CASE("uwsgi: every split of the packet gives the same request") {
  const std::string p = packet(kNginx) + "hello";
  for (size_t cut = 0; cut < p.size() - 5; ++cut) {
    UwsgiPacketReader r;
    size_t used = 0;
    State st = r.feed(p.substr(0, cut), &used);
    CHECK(used == cut);
    REQUIRE(st == State::kNeedMore);
    st = r.feed(p.substr(cut), &used);
    REQUIRE(st == State::kDone);
    CHECK(cut + used == p.size() - 5);
    CHECK(r.request().head == kNginxHead);
  }
  // One byte at a time.
  UwsgiPacketReader r;
  size_t i = 0, used = 0;
  State st = State::kNeedMore;
  for (; st == State::kNeedMore && i < p.size(); ++i) st = r.feed(p.substr(i, 1), &used);
  CHECK(st == State::kDone);
  CHECK(i == p.size() - 5);
}

TEST_CASE("uwsgi: the target from PATH_INFO and QUERY_STRING, the scheme, HTTP/1.0") {
  Outcome o = read_all(packet(Vars{{"REQUEST_METHOD", "GET"},
                                   {"PATH_INFO", "/a b/%?#\xc3\xa9"},
                                   {"QUERY_STRING", "x=1&y=%20"},
                                   {"SERVER_PROTOCOL", "HTTP/1.0"},
                                   {"HTTPS", "on"}}));
  REQUIRE(o.state == State::kDone);
  CHECK(o.request.head == "GET /a%20b/%25%3F%23%C3%A9?x=1&y=%20 HTTP/1.0\r\n\r\n");
  CHECK(o.request.https);
  CHECK(o.request.remote_ip.empty());
  CHECK(o.request.server_port.empty());

  for (const Vars& v : {Vars{{"HTTPS", "1"}}, Vars{{"REQUEST_SCHEME", "HTTPS"}},
                        Vars{{"UWSGI_SCHEME", "https"}}}) {
    Vars all = {{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/"}};
    all.insert(all.end(), v.begin(), v.end());
    Outcome s = read_all(packet(all));
    REQUIRE(s.state == State::kDone);
    CHECK(s.request.https);
  }
  for (const Vars& v : {Vars{{"HTTPS", "off"}}, Vars{{"REQUEST_SCHEME", "http"}}, Vars{}}) {
    Vars all = {{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/"}};
    all.insert(all.end(), v.begin(), v.end());
    Outcome s = read_all(packet(all));
    REQUIRE(s.state == State::kDone);
    CHECK_FALSE(s.request.https);
  }
}

TEST_CASE("uwsgi: SERVER_NAME is the Host without HTTP_HOST; h2's protocol is HTTP/1.1") {
  Outcome o = read_all(packet(Vars{{"REQUEST_METHOD", "GET"},
                                   {"REQUEST_URI", "/"},
                                   {"SERVER_NAME", "b.example"},
                                   {"SERVER_PROTOCOL", "HTTP/2.0"},
                                   {"HTTP_ACCEPT", "*/*"},
                                   {"HTTP_ACCEPT", "text/html"}}));
  REQUIRE(o.state == State::kDone);
  CHECK(o.request.head ==
        "GET / HTTP/1.1\r\nHost: b.example\r\nAccept: */*\r\nAccept: text/html\r\n\r\n");
}

TEST_CASE("uwsgi: the first HTTP_HOST wins (nginx's param before the client's field)") {
  Outcome o = read_all(packet(Vars{{"REQUEST_METHOD", "GET"},
                                   {"REQUEST_URI", "/"},
                                   {"HTTP_HOST", "a.example"},
                                   {"HTTP_HOST", "b.example:8080"}}));
  REQUIRE(o.state == State::kDone);
  CHECK(o.request.head == "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
}

TEST_CASE("uwsgi: UWSGI_* magic variables and unknown vars are ignored") {
  Outcome o = read_all(packet(Vars{{"UWSGI_SCRIPT", "x"},
                                   {"UWSGI_PYHOME", "/venv"},
                                   {"UWSGI_APPID", "a"},
                                   {"SCRIPT_NAME", "/nope"},
                                   {"HTTP_BAD-NAME", "v"},
                                   {"HTTP_", "v"},
                                   {"REQUEST_METHOD", "GET"},
                                   {"REQUEST_URI", "/"}}));
  REQUIRE(o.state == State::kDone);
  CHECK(o.request.head == "GET / HTTP/1.1\r\n\r\n");
}

TEST_CASE("uwsgi: modifier1 other than 0 is refused at the header") {
  UwsgiPacketReader r;
  size_t used = 0;
  std::string p = packet(vars_block({{"REQUEST_METHOD", "GET"}}), 5);
  CHECK(r.feed(p.substr(0, 4), &used) == State::kError);
  CHECK(r.error() ==
        "modifier1 is 5: wsgid serves only 0 (a WSGI request), as nginx's uwsgi_pass sends it");
}

TEST_CASE("uwsgi: malformed vars blocks, each with its sentence") {
  std::string block = vars_block({{"REQUEST_METHOD", "GET"}});
  CHECK(error_of(packet(block + "\x01")) == "the vars block ends inside a key size at offset 21");
  CHECK(error_of(packet(block + std::string("\x00\x00", 2))) ==
        "an empty key at offset 21 of the vars block");
  CHECK(error_of(packet(std::string("\x10\x00" "AB", 4))) ==
        "a key of 16 bytes at offset 0 runs past the vars block (4 bytes)");
  CHECK(error_of(packet(std::string("\x01\x00" "A\x09\x00" "abc", 8))) ==
        "the value of A (9 bytes) runs past the vars block (8 bytes)");
  CHECK(error_of(packet(std::string())) == "no REQUEST_METHOD var");
  CHECK(error_of(Vars{{"REQUEST_URI", "/"}}) == "no REQUEST_METHOD var");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "GET"}}) == "neither REQUEST_URI nor PATH_INFO is given");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "GET"}, {"REQUEST_METHOD", "POST"}, {"REQUEST_URI", "/"}}) ==
        "REQUEST_METHOD is given twice");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "G T"}, {"REQUEST_URI", "/"}}) ==
        "REQUEST_METHOD holds a space or control byte");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/a b"}}) ==
        "REQUEST_URI holds a space or control byte");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/\r\nX: y"}}) ==
        "REQUEST_URI holds a space or control byte");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/"}, {"QUERY_STRING", "a b"}}) ==
        "QUERY_STRING holds a space or control byte");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/"}, {"HTTP_X_A", "1\r\nX-B: 2"}}) ==
        "the value of HTTP_X_A holds a CR, LF or NUL byte");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/"}, {"SERVER_NAME", "a\nb"}}) ==
        "SERVER_NAME holds a CR, LF or NUL byte");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "POST"}, {"REQUEST_URI", "/"}, {"CONTENT_LENGTH", "-1"}}) ==
        "CONTENT_LENGTH '-1' is not a decimal number");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "POST"}, {"REQUEST_URI", "/"},
                      {"CONTENT_LENGTH", "99999999999999999999"}}) ==
        "CONTENT_LENGTH '99999999999999999999' is not a decimal number");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/"}, {"CONTENT_TYPE", std::string("a\0b", 3)}}) ==
        "CONTENT_TYPE holds a CR, LF or NUL byte");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/"}, {"REMOTE_ADDR", "example.org"}}) ==
        "REMOTE_ADDR 'example.org' is not an IP address");
  CHECK(error_of(Vars{{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/"}, {"REMOTE_PORT", "65536"}}) ==
        "REMOTE_PORT '65536' is not a port number (0..65535)");
}

TEST_CASE("uwsgi: the largest vars block a u16 can declare is read whole") {
  // 65535 bytes of vars: the method, the target and one big field.
  Vars v = {{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/"}};
  size_t base = vars_block(v).size();
  std::string key = "HTTP_X_BIG";
  v.push_back({key, std::string(65535 - base - 4 - key.size(), 'a')});
  std::string block = vars_block(v);
  REQUIRE(block.size() == 65535);
  Outcome o = read_all(packet(block));
  REQUIRE(o.state == State::kDone);
  CHECK(o.used == 65539);
  // The field is 65K: LimitRequestFieldSize (8190 by default) refuses it in
  // the parser, as for HTTP; the reader's job is only the packet.
  CHECK(o.request.head.size() > 65000);
}

TEST_CASE("uwsgi: random bytes never crash the reader nor read past what it was given") {
  std::mt19937 rng(15);
  for (int round = 0; round < 3000; ++round) {
    std::string bytes(rng() % 300, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
    if (round % 2 && bytes.size() >= 4) {
      bytes[0] = 0;  // modifier1 0: exercise the vars parser
      {
        size_t n = bytes.size() - 4 + (rng() % 8);
        bytes[1] = static_cast<char>(n & 0xff);
        bytes[2] = static_cast<char>(n >> 8);
      }
    }
    UwsgiPacketReader r;
    size_t at = 0;
    State st = State::kNeedMore;
    while (st == State::kNeedMore && at < bytes.size()) {
      size_t n = 1 + rng() % 40;
      std::string piece = bytes.substr(at, n);
      size_t used = 0;
      st = r.feed(piece, &used);
      REQUIRE(used <= piece.size());
      if (st == State::kNeedMore) CHECK(used == piece.size());
      at += used;
      if (st != State::kNeedMore) break;
    }
    if (st == State::kDone) CHECK(r.request().head.find("\r\n\r\n") != std::string::npos);
    if (st == State::kError) CHECK_FALSE(r.error().empty());
  }
}

}  // namespace
}  // namespace wsgid::frontend
