// libFuzzer target for the LogFormat compiler and the line renderer
// (supervisor/logformat).
//
// The input is a format string as a config could hold it (up to 4 KiB).
// Invariants, each an abort when broken:
//   - compile() either fails with a non-empty message and hint and an offset
//     and length inside the input, and no items; or succeeds;
//   - a compiled format renders for an empty request and for a full one, and
//     rendering twice gives the same line (no state between calls);
//   - a format without '%' is one literal (or nothing), whatever its escapes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "supervisor/logformat/log_format.h"
#include "supervisor/logformat/log_line.h"

namespace {

using namespace wsgid::logformat;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "logformat_fuzz: broken invariant: %s\n", what);
    std::abort();
  }
}

class Values : public Sources {
 public:
  std::optional<std::string_view> header_in(std::string_view n) const override {
    if (n.size() % 2) return std::nullopt;
    return std::string_view("a=1; sid=\"x\\y\"\n");
  }
  std::optional<std::string_view> header_out(std::string_view n) const override { return n; }
  std::optional<std::string_view> env(std::string_view) const override { return std::nullopt; }
  std::optional<std::string_view> note(std::string_view n) const override { return n; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Compiled c = compile(text);
  if (c.error) {
    check(!c.error->message.empty() && !c.error->hint.empty(), "error text");
    check(c.error->offset <= size && c.error->offset + c.error->length <= size + 1, "error place");
    check(c.format.items.empty(), "no items after an error");
    return 0;
  }
  if (text.find('%') == std::string_view::npos)
    check(c.format.items.size() <= 1, "a literal format is one item");
  Values values;
  LogRecord full;
  full.remote_ip = "10.0.0.1";
  full.method = "GET";
  full.target = "/a?b";
  full.protocol = "HTTP/1.1";
  full.host = "[::1]:80";
  full.status = 404;
  full.start_us = 1;
  full.end_us = 2000003;
  full.user = "";
  full.sources = &values;
  for (const LogRecord& r : {LogRecord(), full}) {
    std::string a, b;
    render(c.format, r, &a);
    render(c.format, r, &b);
    check(a == b, "the same line twice");
  }
  return 0;
}
