// RequestHeaders: the header fields of one parsed request, read in place.
//
// HttpConn collects a request head from llhttp's callbacks into one buffer (the
// URL, then each name and value back to back) plus one HeaderSpan per field; this
// view reads names and values out of that buffer as string_views, in request
// order, repeated names kept. It owns nothing: the buffer and the spans must stay
// alive and unchanged while the view is used. Pure, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/strings.h"

namespace wsgid::frontend {

// Where one field's name and value lie in the head buffer.
struct HeaderSpan {
  uint32_t name_off, name_len, value_off, value_len;
};

// Narrows h's value to exclude the OWS (SP, HTAB) at both of its ends (RFC 9110
// 5.5: "a field value does not include leading or trailing whitespace").
void trim_ows(std::string_view buffer, HeaderSpan* h);

class RequestHeaders {
 public:
  RequestHeaders(std::string_view buffer, const HeaderSpan* spans, size_t count)
      : buf_(buffer), spans_(spans), count_(count) {}

  size_t size() const { return count_; }
  std::string_view name(size_t i) const { return buf_.substr(spans_[i].name_off, spans_[i].name_len); }
  std::string_view value(size_t i) const {
    return buf_.substr(spans_[i].value_off, spans_[i].value_len);
  }
  // The first value of the field called name (any case), "" when there is none.
  std::string_view get(std::string_view name) const;
  // How many fields are called name (any case); *last gets the last one's value.
  int count(std::string_view name, std::string_view* last) const;

 private:
  std::string_view buf_;
  const HeaderSpan* spans_;
  size_t count_;
};

}  // namespace wsgid::frontend
