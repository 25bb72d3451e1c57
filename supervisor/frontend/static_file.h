// StaticFile: one file answered for Alias / AliasMatch. HttpConn owns one per
// connection and drives it on the loop thread: open() decides the answer and
// writes the head's status and header lines, pump() sends the body. The object
// owns the open file descriptor (closed by close(), the next open() or the
// destructor); it never touches the socket but through the descriptor pump() is
// given, and never writes the end of the head (HttpConn's framing does).
//
// GET and HEAD only (other methods: 405). The file is opened and stat'ed on the
// loop thread (local files: page cache); a directory or an unreadable file is 403,
// a missing one 404. Last-Modified is always sent, and an ETag in Apache's form
// for the FileETag components in force (conditional.h); If-Match and
// If-Unmodified-Since answer 412, If-None-Match and If-Modified-Since 304 (with
// the ETag), as Apache's ap_meets_conditions(). A Range header (If-Range
// permitting) is planned as Apache's byterange filter does (byte_ranges.h): one
// range answers 206 with Content-Range, several 206 multipart/byteranges, none
// satisfiable 416. The body is a list of segments (a multipart part's head or
// the closing boundary, written through the output buffer; a file range, sent
// with sendfile(2) whenever the socket is writable; when it is not, one 64 KiB
// chunk is read into the output buffer for uv_write, whose completion resumes
// sendfile). The helpers at the end are pure and tested on their own.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace wsgid::frontend {

class StaticFile {
 public:
  StaticFile() = default;
  StaticFile(const StaticFile&) = delete;
  StaticFile& operator=(const StaticFile&) = delete;
  ~StaticFile() { close(); }

  // The request facts open() needs; "" for a header that is absent.
  struct Request {
    std::string_view path;  // the file (Route::static_path)
    bool get_or_head = true;
    std::string_view if_match;
    std::string_view if_unmodified_since;
    std::string_view if_none_match;
    std::string_view if_modified_since;
    std::string_view if_range;
    std::string_view range;
    int etag_bits = 6;  // FileETag's components (model::kETagDefault: MTime Size)
    int max_ranges = -1;  // MaxRanges: a count, or model::kMaxRanges{Default,None,Unlimited}
  };
  // What open() decided.
  struct Answer {
    // 200, 206 or 304: the status line and header lines (Content-Length
    // among them) were appended to *out. 403, 404, 405, 412 or 416 with local
    // set: nothing was appended, the caller answers with Apache's error page and
    // logs why; a 416 also gets content_range ("bytes */SIZE", RFC 9110 15.5.17,
    // which Apache's page leaves out).
    int status = 0;
    bool local = false;
    std::string why;
    std::string content_range;
    // A body follows: the file stays open for pump() (200/206 with bytes to send).
    bool body = false;
  };
  Answer open(const Request& req, std::string* out);

  enum class Pump {
    kDone,    // the whole range was sent; the file is closed
    kWait,    // the socket is busy (can_write false): call again once it is written
    kQueued,  // the socket was full: one chunk was appended to *out, write it, then call again
    kFailed,  // *why says what; the file stays open until close()
  };
  // sock -1 (a TLS connection): every chunk is read into *out (kQueued).
  // Sends the rest of the range on socket fd sock with sendfile(2) while
  // can_write (nothing of the caller's is queued on it); adds the bytes sent or
  // queued to *sent.
  Pump pump(int sock, bool can_write, std::string* out, uint64_t* sent, std::string* why);

  bool is_open() const { return fd_ >= 0; }
  void close();

 private:
  // One piece of the body: text first (when not empty), then bytes [off, end)
  // of the file.
  struct Segment {
    std::string text;
    int64_t off = 0, end = 0;
  };
  int fd_ = -1;
  std::vector<Segment> segments_;
  size_t next_ = 0;  // the segment being sent
};

// "Sun, 06 Nov 1994 08:49:37 GMT" (and the RFC 850 / asctime forms) -> time;
// -1 when unparsable.
time_t parse_http_date(std::string_view text);
// Formats t as an IMF-fixdate into buf (30 bytes needed); returns the length.
size_t format_http_date(time_t t, char* buf);

// Content-Type by file extension ("application/octet-stream" when unknown).
std::string_view content_type_for(std::string_view path);

}  // namespace wsgid::frontend
