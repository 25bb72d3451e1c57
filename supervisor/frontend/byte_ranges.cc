// Byte ranges as Apache's byterange filter computes them (see the header).
#include "supervisor/frontend/byte_ranges.h"

#include <charconv>
#include <cstdio>
#include <random>

namespace wsgid::frontend {
namespace {

// ap_parse_strict_length: a digit first, then digits to the end.
bool strict_length(std::string_view s, int64_t* out) {
  if (s.empty() || s[0] < '0' || s[0] > '9') return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool iprefix(std::string_view s, std::string_view p) {
  if (s.size() < p.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != p[i]) return false;
  }
  return true;
}

}  // namespace

RangePlan plan_byte_ranges(std::string_view header, int64_t size, int max_ranges) {
  RangePlan whole;
  if (size <= 0 || !iprefix(header, "bytes=")) return whole;
  std::string_view rest = header.substr(6);
  std::vector<ByteRange> out;
  int overlaps = 0, reversals = 0;
  bool unsatisfiable = false, in_merge = false;
  int64_t ostart = 0, oend = 0, sum = 0;
  while (!rest.empty()) {
    // ap_getword(..., ','): up to the next ',' (or the end), which is consumed.
    size_t comma = rest.find(',');
    std::string_view cur = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (cur.empty()) break;
    size_t dash = cur.find('-');
    if (dash == std::string_view::npos) return whole;
    int64_t number = 0, start = 0, end = 0;
    if (dash == 0) {  // "-n": the last n bytes
      if (!strict_length(cur.substr(1), &number) || number < 1) return whole;
      start = size - number;
      end = size - 1;
    } else {
      if (!strict_length(cur.substr(0, dash), &number)) return whole;
      start = number;
      std::string_view e = cur.substr(dash + 1);
      if (!e.empty()) {
        if (!strict_length(e, &number)) return whole;
        end = number;
        if (start > end) return whole;
      } else {
        end = size - 1;
        if (start == 0) {  // "0-": the whole file as one range, the others ignored
          out.clear();
          sum = 0;
          in_merge = true;
          ostart = 0;
          oend = end;
          break;
        }
      }
    }
    if (start < 0) start = 0;
    if (start >= size) {
      unsatisfiable = true;
      continue;
    }
    if (end >= size) end = size - 1;
    if (!in_merge) {
      ostart = start;
      oend = end;
      in_merge = true;
      continue;
    }
    in_merge = false;
    if (start >= ostart && end <= oend) in_merge = true;
    if (start < ostart && end >= ostart - 1) {
      ostart = start;
      ++reversals;
      in_merge = true;
    }
    if (end >= oend && start <= oend + 1) {
      oend = end;
      in_merge = true;
    }
    if (in_merge) {
      ++overlaps;
      continue;
    }
    out.push_back({ostart, oend});
    sum += oend - ostart + 1;
    in_merge = true;
    ostart = start;
    oend = end;
  }
  if (in_merge) {
    out.push_back({ostart, oend});
    sum += oend - ostart + 1;
  } else if (out.empty() && unsatisfiable) {
    RangePlan none;
    none.kind = RangePlan::Kind::kUnsatisfiable;
    return none;
  }
  if (out.empty() || sum > size) return whole;
  const int limit = max_ranges == kMaxRangesDefault ? kDefaultMaxRanges : max_ranges;
  if ((limit >= 0 && static_cast<int64_t>(out.size()) > limit) ||
      overlaps > kDefaultMaxOverlaps || reversals > kDefaultMaxReversals)
    return whole;
  RangePlan plan;
  plan.kind = RangePlan::Kind::kPartial;
  plan.ranges = std::move(out);
  return plan;
}

Multipart plan_multipart(const std::vector<ByteRange>& ranges, int64_t size,
                         std::string_view content_type, std::string_view boundary) {
  Multipart m;
  for (const ByteRange& r : ranges) {
    std::string head = "\r\n--";
    head.append(boundary);
    head.append("\r\nContent-type: ");
    head.append(content_type);
    head.append("\r\nContent-range: bytes " + std::to_string(r.first) + "-" +
                std::to_string(r.last) + "/" + std::to_string(size) + "\r\n\r\n");
    m.length += static_cast<int64_t>(head.size()) + (r.last - r.first + 1);
    m.part_heads.push_back(std::move(head));
  }
  m.tail = "\r\n--";
  m.tail.append(boundary);
  m.tail.append("--\r\n");
  m.length += static_cast<int64_t>(m.tail.size());
  return m;
}

const std::string& multipart_boundary() {
  static const std::string boundary = [] {
    std::random_device rd;
    uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return std::string(buf);
  }();
  return boundary;
}

}  // namespace wsgid::frontend
