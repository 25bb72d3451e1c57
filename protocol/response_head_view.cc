// ResponseHeadView: one validating pass in parse(), then plain reads (see the header).
#include "protocol/response_head_view.h"

#include <fmt/core.h>

#include "protocol/messages.h"

namespace wsgid::proto {
namespace {

constexpr uint16_t kMinStatus = 100, kMaxStatus = 999;
constexpr size_t kPairHeader = 6;  // u16 name length, u32 value length

}  // namespace

Result<ResponseHeadView> ResponseHeadView::parse(std::string_view payload) {
  if (payload.size() < 4)
    return Status::error(fmt::format(
        "response head: payload length {} is shorter than the 4-byte status and reason length",
        payload.size()));
  ResponseHeadView v;
  v.status_ = detail::get16(payload.data());
  if (v.status_ < kMinStatus || v.status_ > kMaxStatus)
    return Status::error(fmt::format("response head: status {} is out of range {}..{}",
                                     v.status_, kMinStatus, kMaxStatus));
  const uint16_t rlen = detail::get16(payload.data() + 2);
  if (payload.size() - 4 < rlen)
    return Status::error(fmt::format("response head: reason length {} exceeds the remaining {} bytes",
                                     rlen, payload.size() - 4));
  v.reason_ = payload.substr(4, rlen);
  const size_t base = 4 + size_t{rlen};
  v.pairs_ = payload.substr(base);
  auto fail = [base](size_t at, std::string_view what) {
    return Status::error(fmt::format("response head: {} at offset {}", what, base + at));
  };
  const std::string_view p = v.pairs_;
  size_t pos = 0;
  while (pos < p.size()) {
    if (p.size() - pos < kPairHeader) return fail(pos, "truncated pair header");
    const uint16_t klen = detail::get16(p.data() + pos);
    const uint32_t vlen = detail::get32(p.data() + pos + 2);
    if (klen == 0) return fail(pos, "empty key");
    if (p.size() - pos - kPairHeader < klen || p.size() - pos - kPairHeader - klen < vlen)
      return fail(pos, "pair longer than the payload");
    if (++v.count_ > kMaxPairs) return fail(pos, "too many pairs");
    pos += kPairHeader + klen + vlen;
  }
  return v;
}

ResponseHeadView::Iterator::Iterator(std::string_view pairs, size_t pos)
    : pairs_(pairs), pos_(pos) {
  load();
}

// The pair at pos_; parse() proved that it lies inside pairs_.
void ResponseHeadView::Iterator::load() {
  if (pos_ >= pairs_.size()) return;
  const char* p = pairs_.data() + pos_;
  const uint16_t klen = detail::get16(p);
  const uint32_t vlen = detail::get32(p + 2);
  current_ = {pairs_.substr(pos_ + kPairHeader, klen), pairs_.substr(pos_ + kPairHeader + klen, vlen)};
}

ResponseHeadView::Iterator& ResponseHeadView::Iterator::operator++() {
  pos_ += kPairHeader + current_.first.size() + current_.second.size();
  load();
  return *this;
}

}  // namespace wsgid::proto
