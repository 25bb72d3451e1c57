// ChunkedBody: every accepted shape and every error, fed whole, one byte at a
// time and at random splits (the decoder must not care where reads end).
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <string_view>

#include "supervisor/frontend/chunked_body.h"

namespace wsgid::frontend {
namespace {

struct Outcome {
  ChunkedBody::State state;
  std::string body;
  std::string error;
  size_t consumed = 0;  // bytes of the input the body took (kDone)
};

// Feeds input in pieces of the sizes split() gives, as HttpConn does.
template <typename Split>
Outcome decode(std::string_view input, Split split, ChunkedBody::Limits limits = {}) {
  ChunkedBody d(limits);
  Outcome o;
  size_t pos = 0;
  while (pos < input.size() && d.state() == ChunkedBody::State::kMore) {
    std::string_view piece = input.substr(pos, split(input.size() - pos));
    // The decoder may stop early (after data); give it the rest of the piece.
    while (!piece.empty() && d.state() == ChunkedBody::State::kMore) {
      std::string_view data;
      size_t n = d.feed(piece, &data);
      o.body.append(data);
      piece.remove_prefix(n);
      pos += n;
    }
  }
  o.state = d.state();
  o.error = d.error();
  o.consumed = pos;
  CHECK(d.data_bytes() == o.body.size());
  return o;
}

struct Case {
  const char* name;
  std::string input;
  const char* body;   // expected body when accepted
  const char* error;  // nullptr: accepted; "" : needs more bytes
};

const Case kCases[] = {
    // Accepted (RFC 9112 7.1).
    {"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", nullptr},
    {"two chunks, hex sizes", "3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n", "abc0123456789", nullptr},
    {"upper and lower hex", "a\r\n0123456789\r\nB\r\n0123456789a\r\n0\r\n\r\n",
     "01234567890123456789a", nullptr},
    {"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", nullptr},
    {"empty body", "0\r\n\r\n", "", nullptr},
    {"an extension", "5;a=b\r\nhello\r\n0\r\n\r\n", "hello", nullptr},
    {"BWS around ; and = (issue 12)", "5 ; a=b\r\nhello\r\n0\r\n\r\n", "hello", nullptr},
    {"BWS everywhere", "5\t; a = b ;c\t=\t\"d e\" ; f\r\nhello\r\n0 ; g\r\n\r\n", "hello", nullptr},
    {"name without value", "5;name\r\nhello\r\n0\r\n\r\n", "hello", nullptr},
    {"quoted value with escapes", "5;a=\"x\\\"y;z\"\r\nhello\r\n0\r\n\r\n", "hello", nullptr},
    {"whitespace before CRLF", "5 \r\nhello\r\n0\r\n\r\n", "hello", nullptr},
    {"trailers", "5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-Other:two words\r\n\r\n", "hello", nullptr},
    {"data holding CRLF and 0", "7\r\n\r\n0\r\n\r\n\r\n0\r\n\r\n", "\r\n0\r\n\r\n", nullptr},
    // Errors (400).
    {"no size", "\r\nhello\r\n", "", "chunk size is not a hexadecimal number"},
    {"negative size", "-1\r\n", "", "chunk size is not a hexadecimal number"},
    {"size with 0x", "0x5\r\nhello\r\n", "", "invalid character after the chunk size"},
    {"size overflow", "10000000000000000\r\n", "", "chunk size too large"},
    {"bare LF after size", "5\nhello\r\n0\r\n\r\n", "", "invalid character after the chunk size"},
    {"CR without LF", "5\rhello", "", "chunk-size line not ended by CRLF"},
    {"data too long", "3\r\nhello\r\n", "hel", "chunk data not followed by CRLF"},
    {"data without CRLF", "5\r\nhello0\r\n\r\n", "hello", "chunk data not followed by CRLF"},
    {"data with bare LF", "5\r\nhello\n0\r\n\r\n", "hello", "chunk data not followed by CRLF"},
    {"; without name", "5;\r\nhello\r\n", "", "chunk extension without a name"},
    {"; then =", "5;=b\r\nhello\r\n", "", "chunk extension without a name"},
    {"= without value", "5;a=\r\nhello\r\n", "", "chunk extension '=' without a value"},
    {"space inside name", "5;a b\r\nhello\r\n", "", "invalid character in a chunk extension"},
    {"two values", "5;a=b c\r\nhello\r\n", "", "invalid character in a chunk extension"},
    {"unterminated quote", "5;a=\"b\r\nhello\r\n", "", "unterminated quoted string in a chunk extension"},
    {"control in quote", std::string("5;a=\"\x01\"\r\n"), "", "invalid character in a quoted chunk extension"},
    {"obs-fold in trailers", "0\r\nX: 1\r\n  more\r\n\r\n", "", "malformed trailer field"},
    {"trailer without colon", "0\r\nX 1\r\n\r\n", "", "malformed trailer field name"},
    {"trailer with bare LF", "0\r\nX: 1\n\r\n", "", "control character in a trailer field"},
    {"last CRLF missing", "0\r\n\r\r", "", "chunked body not ended by CRLF"},
    // Incomplete: more bytes wanted.
    {"cut in the size line", "5;a=b", "", ""},
    {"cut in data", "5\r\nhel", "hel", ""},
    {"cut before the last CRLF", "5\r\nhello\r\n0\r\n", "hello", ""},
};

TEST_CASE("chunked bodies: the table, whole, byte by byte and at random splits") {
  std::mt19937 rng(12);
  for (const Case& c : kCases) {
    INFO(c.name);
    auto whole = [](size_t left) { return left; };
    auto bytewise = [](size_t) { return size_t{1}; };
    auto random = [&](size_t left) {
      return std::uniform_int_distribution<size_t>(1, left)(rng);
    };
    for (int how = 0; how < 3; ++how) {
      INFO("split " << how);
      Outcome o = how == 0 ? decode(c.input, whole)
                  : how == 1 ? decode(c.input, bytewise) : decode(c.input, random);
      CHECK(o.body == c.body);
      if (!c.error) {
        CHECK(o.state == ChunkedBody::State::kDone);
        CHECK(o.consumed == c.input.size());
      } else if (std::string_view(c.error).empty()) {
        CHECK(o.state == ChunkedBody::State::kMore);
      } else {
        CHECK(o.state == ChunkedBody::State::kError);
        CHECK(o.error == c.error);
      }
    }
  }
}

TEST_CASE("chunked bodies: the bytes after the body are left for the next request") {
  std::string next = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string in = "3;x = y\r\nabc\r\n0\r\n\r\n" + next;
  Outcome o = decode(in, [](size_t left) { return left; });
  CHECK(o.state == ChunkedBody::State::kDone);
  CHECK(o.body == "abc");
  CHECK(in.substr(o.consumed) == next);
}

TEST_CASE("chunked bodies: limits on lines and trailer fields") {
  ChunkedBody::Limits lim;
  lim.line = 8;
  lim.trailer_line = 6;
  lim.trailer_fields = 1;
  auto whole = [](size_t left) { return left; };
  CHECK(decode("5;abcd\r\nhello\r\n0\r\n\r\n", whole, lim).state == ChunkedBody::State::kDone);
  CHECK(decode("5;abcdefgh\r\nhello\r\n", whole, lim).error ==
        "chunk-size line too long (its extensions)");
  CHECK(decode("0\r\nX: 123\r\n\r\n", whole, lim).state == ChunkedBody::State::kDone);
  CHECK(decode("0\r\nX: 1234\r\n\r\n", whole, lim).error ==
        "trailer field exceeds LimitRequestFieldSize");
  CHECK(decode("0\r\nX: 1\r\nY: 2\r\n\r\n", whole, lim).error ==
        "more trailer fields than LimitRequestFields");
}

TEST_CASE("chunked bodies: a large body passes as views of the input, never copied") {
  // 64 chunks of 1 MiB: the decoder keeps no byte of it.
  std::string chunk(1 << 20, 'x');
  ChunkedBody d;
  uint64_t total = 0;
  std::string line = "100000\r\n";
  for (int i = 0; i < 64; ++i) {
    std::string_view data;
    CHECK(d.feed(line, &data) == line.size());
    CHECK(data.empty());
    CHECK(d.feed(chunk, &data) == chunk.size());
    CHECK(data.data() == chunk.data());
    CHECK(data.size() == chunk.size());
    total += data.size();
    CHECK(d.feed("\r\n", &data) == 2);
  }
  std::string_view data;
  CHECK(d.feed("0\r\n\r\n", &data) == 5);
  CHECK(d.state() == ChunkedBody::State::kDone);
  CHECK(total == 64u << 20);
  CHECK(sizeof(ChunkedBody) < 128);
}

}  // namespace
}  // namespace wsgid::frontend
