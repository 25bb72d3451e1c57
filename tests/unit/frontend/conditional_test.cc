// Conditional requests on static files (supervisor/frontend/conditional.h):
// Apache's ETag form, the entity-tag comparisons, and the precondition order
// of ap_meets_conditions(), case by case.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstring>
#include <string>

#include "model/config.h"
#include "supervisor/frontend/conditional.h"

using namespace wsgid::frontend;
using wsgid::model::kETagINode;
using wsgid::model::kETagMTime;
using wsgid::model::kETagSize;

namespace {

struct stat file_stat(ino_t ino, off_t size, time_t sec, long nsec) {
  struct stat st;
  std::memset(&st, 0, sizeof st);
  st.st_ino = ino;
  st.st_size = size;
  st.st_mtim.tv_sec = sec;
  st.st_mtim.tv_nsec = nsec;
  st.st_mtime = sec;
  return st;
}

}  // namespace

TEST_CASE("make_etag: Apache's \"<inode>-<size>-<mtime usec>\" in hex, weak when the file is new") {
  // mtime 1000 s + 5000 ns after the epoch: 1000000005 us = 0x3b9aca05.
  struct stat st = file_stat(0x2a, 0x1234, 1000, 5000);
  const int64_t later = 2000LL * 1000000;  // a second and more after the change
  struct Case {
    int bits;
    int64_t now_us;
    const char* etag;
  } cases[] = {
      {kETagMTime | kETagSize, later, "\"1234-3b9aca05\""},  // Apache 2.4's default
      {kETagINode | kETagMTime | kETagSize, later, "\"2a-1234-3b9aca05\""},
      {kETagSize, later, "\"1234\""},
      {kETagMTime, later, "\"3b9aca05\""},
      {kETagINode, later, "\"2a\""},
      {0, later, ""},  // FileETag None
      {kETagMTime | kETagSize, 1000LL * 1000000 + 900000, "W/\"1234-3b9aca05\""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.bits);
    CHECK(make_etag(c.bits, st, c.now_us) == c.etag);
  }
}

TEST_CASE("etag_list_matches: strong and weak comparison, lists and *") {
  struct Case {
    const char* list;
    const char* etag;
    bool strong, match;
  } cases[] = {
      {"\"a\"", "\"a\"", true, true},
      {"\"b\", \"a\"", "\"a\"", true, true},
      {"\"b\",\"c\"", "\"a\"", false, false},
      {"W/\"a\"", "\"a\"", true, false},
      {"W/\"a\"", "\"a\"", false, true},
      {"\"a\"", "W/\"a\"", false, true},
      {"\"a\"", "W/\"a\"", true, false},
      {"*", "\"a\"", true, true},
      {" * ", "", false, true},
      {"\"a\"", "", false, false},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.list));
    CAPTURE(std::string(c.etag));
    CHECK(etag_list_matches(c.list, c.etag, c.strong) == c.match);
  }
}

TEST_CASE("evaluate_preconditions: 412, 304 or the file, in RFC 9110's order") {
  const char* etag = "\"1234-3b9aca05\"";
  const time_t mtime = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  const time_t now = mtime + 3600;
  const char* at = "Sun, 06 Nov 1994 08:49:37 GMT";
  const char* before = "Sun, 06 Nov 1994 08:49:36 GMT";
  const char* future = "Sun, 06 Nov 2094 08:49:37 GMT";
  struct Case {
    const char* name;
    Preconditions p;
    int status;
  } cases[] = {
      {"none", {}, 0},
      {"If-Match holds it", {etag, "", "", "", "", false}, 0},
      {"If-Match *", {"*", "", "", "", "", false}, 0},
      {"If-Match another", {"\"x\"", "", "", "", "", false}, 412},
      {"If-Match weak", {"W/\"1234-3b9aca05\"", "", "", "", "", false}, 412},
      {"If-Unmodified-Since before", {"", before, "", "", "", false}, 412},
      {"If-Unmodified-Since at", {"", at, "", "", "", false}, 0},
      {"If-Unmodified-Since bad date", {"", "soon", "", "", "", false}, 0},
      {"If-Match wins over If-Unmodified-Since", {etag, before, "", "", "", false}, 0},
      {"If-None-Match holds it", {"", "", etag, "", "", false}, 304},
      {"If-None-Match weakly", {"", "", "W/\"1234-3b9aca05\"", "", "", false}, 304},
      {"If-None-Match *", {"", "", "*", "", "", false}, 304},
      {"If-None-Match another", {"", "", "\"x\"", "", "", false}, 0},
      {"If-None-Match another ignores If-Modified-Since", {"", "", "\"x\"", at, "", false}, 0},
      {"If-Modified-Since at", {"", "", "", at, "", false}, 304},
      {"If-Modified-Since before", {"", "", "", before, "", false}, 0},
      {"If-Modified-Since in the future", {"", "", "", future, "", false}, 0},
      {"If-Match fails before If-None-Match", {"\"x\"", "", etag, "", "", false}, 412},
      {"a matching If-Range wants the range", {"", "", etag, "", etag, true}, 0},
      {"a stale If-Range: 304", {"", "", etag, "", "\"x\"", true}, 304},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.name));
    CHECK(evaluate_preconditions(c.p, etag, mtime, now) == c.status);
  }
}

TEST_CASE("if_range_allows: a strong ETag, or the exact date of a file a minute old") {
  const char* etag = "\"1234-3b9aca05\"";
  const time_t mtime = 784111777;
  const char* at = "Sun, 06 Nov 1994 08:49:37 GMT";
  struct Case {
    const char* if_range;
    const char* etag;
    time_t now;
    bool allows;
  } cases[] = {
      {"", etag, mtime + 3600, true},
      {etag, etag, mtime + 3600, true},
      {"\"x\"", etag, mtime + 3600, false},
      {"W/\"1234-3b9aca05\"", "W/\"1234-3b9aca05\"", mtime + 3600, false},
      {at, etag, mtime + 3600, true},
      {at, etag, mtime + 30, false},
      {"Sun, 06 Nov 1994 08:49:38 GMT", etag, mtime + 3600, false},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.if_range));
    CHECK(if_range_allows(c.if_range, c.etag, mtime, c.now) == c.allows);
  }
}
