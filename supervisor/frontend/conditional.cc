#include "supervisor/frontend/conditional.h"

#include "model/config.h"
#include "supervisor/frontend/static_file.h"

namespace wsgid::frontend {

namespace {

void append_hex(std::string* out, uint64_t v) {
  static const char kHex[] = "0123456789abcdef";
  char buf[16];
  int n = 0;
  do {
    buf[n++] = kHex[v & 15];
    v >>= 4;
  } while (v);
  while (n) out->push_back(buf[--n]);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A date header that may be used: parsable and not in the future.
bool usable_date(std::string_view text, time_t now, time_t* out) {
  if (text.empty()) return false;
  time_t t = parse_http_date(trim(text));
  if (t < 0 || t > now) return false;
  *out = t;
  return true;
}

}  // namespace

std::string make_etag(int bits, const struct stat& st, int64_t now_us) {
  if (bits == 0) return "";
  const int64_t mtime_us =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000 + st.st_mtim.tv_nsec / 1000;
  std::string e;
  if (now_us - mtime_us < 1000000) e = "W/";
  e.push_back('"');
  bool first = true;
  auto part = [&](uint64_t v) {
    if (!first) e.push_back('-');
    first = false;
    append_hex(&e, v);
  };
  if (bits & model::kETagINode) part(static_cast<uint64_t>(st.st_ino));
  if (bits & model::kETagSize) part(static_cast<uint64_t>(st.st_size));
  if (bits & model::kETagMTime) part(static_cast<uint64_t>(mtime_us));
  e.push_back('"');
  return e;
}

bool etag_list_matches(std::string_view list, std::string_view etag, bool strong) {
  list = trim(list);
  if (list == "*") return true;
  if (etag.empty()) return false;
  const bool etag_weak = etag.substr(0, 2) == "W/";
  if (strong && etag_weak) return false;
  std::string_view opaque = etag_weak ? etag.substr(2) : etag;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view tag = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    const bool weak = tag.substr(0, 2) == "W/";
    if (weak) {
      if (strong) continue;
      tag.remove_prefix(2);
    }
    if (tag == opaque) return true;
  }
  return false;
}

int evaluate_preconditions(const Preconditions& p, std::string_view etag, time_t mtime,
                           time_t now) {
  time_t t = 0;
  if (!p.if_match.empty()) {
    if (!etag_list_matches(p.if_match, etag, true)) return 412;
  } else if (usable_date(p.if_unmodified_since, now, &t) && mtime > t) {
    return 412;
  }
  // A matching If-Range asks for part of this very file: never 304 (Apache).
  const bool range_wanted =
      p.has_range && !p.if_range.empty() && if_range_allows(p.if_range, etag, mtime, now);
  if (!p.if_none_match.empty()) {
    return etag_list_matches(p.if_none_match, etag, false) && !range_wanted ? 304 : 0;
  }
  if (usable_date(p.if_modified_since, now, &t) && mtime <= t && !range_wanted) return 304;
  return 0;
}

bool if_range_allows(std::string_view if_range, std::string_view etag, time_t mtime, time_t now) {
  if_range = trim(if_range);
  if (if_range.empty()) return true;
  if (if_range.front() == '"' || if_range.substr(0, 2) == "W/")
    return etag.substr(0, 2) != "W/" && if_range == etag;  // strong comparison
  time_t t = parse_http_date(if_range);
  return t >= 0 && t == mtime && now >= mtime + 60;
}

}  // namespace wsgid::frontend
