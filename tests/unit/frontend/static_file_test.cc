// Static file helpers: HTTP dates, content types (ranges: byte_ranges_test.cc).
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

TEST_CASE("content types") {
  CHECK(content_type_for("/a/b.css") == "text/css");
  CHECK(content_type_for("/a/b.tar.gz") == "application/gzip");
  CHECK(content_type_for("/a.d/b") == "application/octet-stream");
  CHECK(content_type_for("x.png") == "image/png");
}
