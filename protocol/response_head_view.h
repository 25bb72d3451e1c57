// ResponseHeadView: a RESPONSE_HEAD payload (messages.h, PROTOCOL.md "Response
// head") read in place, without copying or allocating: the status, the reason and
// the header pairs as string_views into the payload.
//
// parse() checks the layout once (status range, reason length, every pair inside
// the payload, at most kMaxPairs pairs); afterwards the accessors and the header
// iteration cannot fail. It does not check the bytes of the reason and the headers
// (CR, LF, NUL): decode_response_head() does, on top of this view, and the front
// end, which reads worker heads with this view on its hot path, drops such headers
// itself. Pure, any thread. The view borrows the payload: it must stay alive and
// unchanged while the view or any string_view taken from it is in use.
//
// parse() errors (N, M: decimal values seen; offsets count from the start of the
// payload), the same texts as decode_response_head's layout errors:
//   "response head: payload length N is shorter than the 4-byte status and reason length"
//   "response head: status N is out of range 100..999"
//   "response head: reason length N exceeds the remaining M bytes"
//   "response head: truncated pair header at offset N"   (fewer than 6 bytes left)
//   "response head: empty key at offset N"
//   "response head: pair longer than the payload at offset N"
//   "response head: too many pairs at offset N"           (pair kMaxPairs + 1)
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace wsgid::proto {

class ResponseHeadView {
 public:
  using Header = std::pair<std::string_view, std::string_view>;  // name, value

  // Walks the header pairs in payload order (duplicates kept). Only valid over a
  // view that parse() accepted.
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Header;
    using difference_type = std::ptrdiff_t;
    using pointer = const Header*;
    using reference = const Header&;

    Iterator() = default;
    reference operator*() const { return current_; }
    pointer operator->() const { return &current_; }
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const Iterator& o) const { return pos_ == o.pos_; }

   private:
    friend class ResponseHeadView;
    Iterator(std::string_view pairs, size_t pos);
    void load();
    std::string_view pairs_;
    size_t pos_ = 0;
    Header current_;
  };

  ResponseHeadView() = default;
  // The view of payload, or the first layout fault (texts above).
  static Result<ResponseHeadView> parse(std::string_view payload);

  uint16_t status() const { return status_; }
  std::string_view reason() const { return reason_; }  // may be empty
  size_t header_count() const { return count_; }
  Iterator begin() const { return Iterator(pairs_, 0); }
  Iterator end() const { return Iterator(pairs_, pairs_.size()); }

 private:
  uint16_t status_ = 0;
  std::string_view reason_;
  std::string_view pairs_;  // the header pairs, to the end of the payload
  size_t count_ = 0;
};

}  // namespace wsgid::proto
