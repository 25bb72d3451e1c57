// trace.h: TRACE as Apache's core answers it. Each row is what Debian 12's
// apache2 (2.4.71) answered to the same request.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "supervisor/frontend/trace.h"

using namespace wsgid::frontend;

namespace {

// A head buffer and its spans, as HttpConn builds them.
struct Head {
  std::string buf;
  std::vector<HeaderSpan> spans;
  explicit Head(const std::vector<std::pair<std::string, std::string>>& fields) {
    for (const auto& [n, v] : fields) {
      HeaderSpan s{};
      s.name_off = static_cast<uint32_t>(buf.size());
      s.name_len = static_cast<uint32_t>(n.size());
      buf += n;
      s.value_off = static_cast<uint32_t>(buf.size());
      s.value_len = static_cast<uint32_t>(v.size());
      buf += v;
      spans.push_back(s);
    }
  }
  RequestHeaders view() const { return RequestHeaders(buf, spans.data(), spans.size()); }
};

}  // namespace

TEST_CASE("trace_answer: TraceEnable On echoes, Off refuses, a body is refused") {
  const Head h({{"Host", "localhost"}, {"X-A", "1"}, {"x-a", "2"}, {"Cookie", "c=1"},
                {"Connection", "close"}});
  struct Row {
    const char* mirrors;
    bool enabled, has_body;
    int status;
    const char* body;
  } rows[] = {
      {"TraceEnable On (the default): 200, the request echoed, one name's fields merged", true,
       false, 200,
       "TRACE /sub/f.txt HTTP/1.1\r\nHost: localhost\r\nX-A: 1, 2\r\nCookie: c=1\r\n"
       "Connection: close\r\n\r\n"},
      {"TraceEnable On with a body: 413", true, true, 413, ""},
      {"TraceEnable Off: 405", false, false, 405, ""},
      {"TraceEnable Off with a body: 405 still", false, true, 405, ""},
  };
  for (const Row& r : rows) {
    CAPTURE(r.mirrors);
    TraceAnswer a = trace_answer(r.enabled, r.has_body, "TRACE /sub/f.txt HTTP/1.1", h.view());
    CHECK(a.status == r.status);
    CHECK(a.body == r.body);
    CHECK(a.why.empty() == (r.status == 200));
  }
  CHECK(trace_answer(false, false, "", h.view()).why == "TRACE denied by server configuration");
  CHECK(trace_answer(true, true, "", h.view()).why == "TRACE with a request body is not allowed");
}
