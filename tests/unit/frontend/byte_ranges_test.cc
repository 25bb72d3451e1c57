// Byte ranges as Apache 2.4's byterange filter plans them (byte_ranges.h): each
// row is what ap_set_byterange and ap_byterange_filter decide for that header.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/frontend/byte_ranges.h"

namespace wsgid::frontend {
namespace {

using Kind = RangePlan::Kind;

TEST_CASE("Range headers planned as Apache's byterange filter") {
  struct Case {
    const char* header;
    int64_t size;
    Kind kind;
    std::vector<std::pair<int64_t, int64_t>> ranges;  // kPartial
    int max_ranges = kMaxRangesDefault;
  };
  const std::vector<Case> cases = {
      // One range.
      {"bytes=0-9", 100, Kind::kPartial, {{0, 9}}},
      {"BYTES=0-9", 100, Kind::kPartial, {{0, 9}}},        // the unit in any case
      {"bytes=90-", 100, Kind::kPartial, {{90, 99}}},
      {"bytes=-10", 100, Kind::kPartial, {{90, 99}}},
      {"bytes=-200", 100, Kind::kPartial, {{0, 99}}},      // start cut to 0
      {"bytes=50-500", 100, Kind::kPartial, {{50, 99}}},   // end cut to the size
      {"bytes=100-", 100, Kind::kUnsatisfiable, {}},
      {"bytes=100-200", 100, Kind::kUnsatisfiable, {}},
      // Syntax errors void the whole header: the whole file.
      {"bytes=-0", 100, Kind::kWhole, {}},
      {"bytes=5-1", 100, Kind::kWhole, {}},
      {"items=0-1", 100, Kind::kWhole, {}},
      {"bytes=x-1", 100, Kind::kWhole, {}},
      {"bytes=0-1,5", 100, Kind::kWhole, {}},              // no '-'
      {"bytes=0-9, 20-29", 100, Kind::kWhole, {}},         // a space is no digit
      {"bytes=+1-2", 100, Kind::kWhole, {}},
      {"bytes=", 100, Kind::kWhole, {}},
      // Several ranges: merged when they overlap or touch, in request order.
      {"bytes=0-9,20-29", 100, Kind::kPartial, {{0, 9}, {20, 29}}},
      {"bytes=20-29,0-9", 100, Kind::kPartial, {{20, 29}, {0, 9}}},
      {"bytes=0-9,10-19", 100, Kind::kPartial, {{0, 19}}},  // adjacent
      {"bytes=0-9,5-19,40-49", 100, Kind::kPartial, {{0, 19}, {40, 49}}},
      {"bytes=10-19,0-12", 100, Kind::kPartial, {{0, 19}}},  // a reversal
      {"bytes=2-3,0-9", 100, Kind::kPartial, {{0, 9}}},      // the second holds the first
      {"bytes=0-9,-5", 100, Kind::kPartial, {{0, 9}, {95, 99}}},
      {"bytes=0-9,200-300,20-29", 100, Kind::kPartial, {{0, 9}, {20, 29}}},
      {"bytes=200-300,300-", 100, Kind::kUnsatisfiable, {}},
      {"bytes=5-9,0-,20-29", 100, Kind::kPartial, {{0, 99}}},  // "0-" wins
      {"bytes=0-1,,4-5", 100, Kind::kPartial, {{0, 1}}},        // an empty spec ends it
      {"bytes=0-59,50-99,0-99", 100, Kind::kPartial, {{0, 99}}},
      {"bytes=0-59,70-99,0-39", 100, Kind::kWhole, {}},  // the merged lengths pass the size
      // An empty file is served whole.
      {"bytes=0-9", 0, Kind::kWhole, {}},
      // MaxRanges.
      {"bytes=0-0,2-2,4-4", 100, Kind::kWhole, {}, 2},
      {"bytes=0-0,2-2", 100, Kind::kPartial, {{0, 0}, {2, 2}}, 2},
      {"bytes=0-9", 100, Kind::kWhole, {}, kMaxRangesNone},
      {"bytes=0-0,2-2,4-4", 100, Kind::kPartial, {{0, 0}, {2, 2}, {4, 4}}, kMaxRangesUnlimited},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.header), " size ", c.size, " MaxRanges ", c.max_ranges);
    RangePlan p = plan_byte_ranges(c.header, c.size, c.max_ranges);
    CHECK(p.kind == c.kind);
    std::vector<std::pair<int64_t, int64_t>> got;
    for (const ByteRange& r : p.ranges) got.emplace_back(r.first, r.last);
    CHECK(got == c.ranges);
  }
}

TEST_CASE("MaxRanges default: 200 ranges, 20 overlaps, 20 reversals") {
  auto spec = [](int n, int step, int len) {
    std::string h = "bytes=";
    for (int i = 0; i < n; ++i) {
      if (i) h += ',';
      h += std::to_string(i * step) + "-" + std::to_string(i * step + len - 1);
    }
    return h;
  };
  CHECK(plan_byte_ranges(spec(200, 2, 1), 1000).ranges.size() == 200);
  CHECK(plan_byte_ranges(spec(201, 2, 1), 1000).kind == Kind::kWhole);
  CHECK(plan_byte_ranges(spec(21, 1, 1), 1000).ranges.size() == 1);  // 20 adjacent merges
  CHECK(plan_byte_ranges(spec(22, 1, 1), 1000).kind == Kind::kWhole);  // 21 overlaps
  std::string back = "bytes=";
  for (int i = 21; i >= 0; --i) back += std::to_string(i) + "-" + std::to_string(i) + (i ? "," : "");
  CHECK(plan_byte_ranges(back, 1000).kind == Kind::kWhole);  // 21 reversals
}

TEST_CASE("multipart/byteranges body as Apache writes it") {
  Multipart m = plan_multipart({{0, 9}, {20, 29}}, 100, "text/plain", "5e0f1e2d3c4b5a69");
  REQUIRE(m.part_heads.size() == 2);
  CHECK(m.part_heads[0] ==
        "\r\n--5e0f1e2d3c4b5a69\r\nContent-type: text/plain\r\nContent-range: bytes 0-9/100\r\n\r\n");
  CHECK(m.part_heads[1] ==
        "\r\n--5e0f1e2d3c4b5a69\r\nContent-type: text/plain\r\nContent-range: bytes 20-29/100\r\n\r\n");
  CHECK(m.tail == "\r\n--5e0f1e2d3c4b5a69--\r\n");
  CHECK(m.length == static_cast<int64_t>(m.part_heads[0].size() + m.part_heads[1].size() +
                                         m.tail.size()) + 20);
  const std::string& b = multipart_boundary();
  CHECK(b.size() == 16);
  CHECK(b.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(&multipart_boundary() == &b);  // one per process
}

}  // namespace
}  // namespace wsgid::frontend
