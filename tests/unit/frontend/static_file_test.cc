// Static file helpers: HTTP dates, ranges, content types.
#include <doctest/doctest.h>

#include <string>

#include "supervisor/frontend/static_file.h"

using namespace wsgid::frontend;

TEST_CASE("HTTP dates") {
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == 784111777);
  CHECK(parse_http_date("yesterday") == -1);
  char buf[32];
  size_t n = format_http_date(784111777, buf);
  CHECK(std::string(buf, n) == "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST_CASE("Range headers") {
  struct Case {
    const char* header;
    int64_t size;
    int result;
    int64_t first, last;
  } cases[] = {
      {"bytes=0-9", 100, 206, 0, 9},    {"bytes=90-", 100, 206, 90, 99},
      {"bytes=-10", 100, 206, 90, 99},  {"bytes=-200", 100, 206, 0, 99},
      {"bytes=50-500", 100, 206, 50, 99}, {"bytes=100-", 100, 416, 0, 0},
      {"bytes=-0", 100, 416, 0, 0},     {"bytes=5-1", 100, 0, 0, 0},
      {"bytes=0-1,5-6", 100, 0, 0, 0},  {"items=0-1", 100, 0, 0, 0},
      {"bytes=x-1", 100, 0, 0, 0},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.header));
    int64_t f = -1, l = -1;
    CHECK(parse_range(c.header, c.size, &f, &l) == c.result);
    if (c.result == 206) {
      CHECK(f == c.first);
      CHECK(l == c.last);
    }
  }
}

TEST_CASE("content types") {
  CHECK(content_type_for("/a/b.css") == "text/css");
  CHECK(content_type_for("/a/b.tar.gz") == "application/gzip");
  CHECK(content_type_for("/a.d/b") == "application/octet-stream");
  CHECK(content_type_for("x.png") == "image/png");
}
