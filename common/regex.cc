#include "common/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

namespace wsgid {

std::string_view RegexMatch::group(size_t n) const {
  if (!has(n)) return {};
  return subject_.substr(spans_[n].begin, spans_[n].end - spans_[n].begin);
}

Result<Regex> Regex::compile(std::string_view pattern, RegexOptions options) {
  uint32_t flags = 0;
  if (options.caseless) flags |= PCRE2_CASELESS;
  if (options.apache_defaults) flags |= PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY;
  int err = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()),
                                   pattern.size(), flags, &err, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    return Status::error(std::string(reinterpret_cast<const char*>(buf)) + " at offset " +
                         std::to_string(offset) + " of '" + std::string(pattern) + "'");
  }
  Regex r;
  r.pattern_ = std::string(pattern);
  r.options_ = options;
  r.code_ = std::shared_ptr<pcre2_code>(code, pcre2_code_free);
  return r;
}

bool Regex::match(std::string_view subject, RegexMatch* m, size_t start_offset,
                  bool notempty_atstart, bool anchored) const {
  // Match data per call: a shared Regex stays usable from any thread.
  std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> data(
      pcre2_match_data_create_from_pattern(code_.get(), nullptr), pcre2_match_data_free);
  if (!data) return false;
  uint32_t flags = 0;
  if (notempty_atstart) flags |= PCRE2_NOTEMPTY_ATSTART;
  if (anchored) flags |= PCRE2_ANCHORED;
  int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                       subject.size(), start_offset, flags, data.get(), nullptr);
  if (rc < 0) return false;  // PCRE2_ERROR_NOMATCH or a limit: no match
  if (m != nullptr) {
    uint32_t pairs = pcre2_get_ovector_count(data.get());
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.get());
    m->subject_ = subject;
    m->spans_.assign(pairs, RegexMatch::Span{});
    for (uint32_t i = 0; i < pairs; ++i) {
      if (ov[2 * i] == PCRE2_UNSET) continue;
      m->spans_[i] = RegexMatch::Span{ov[2 * i], ov[2 * i + 1], true};
    }
  }
  return true;
}

}  // namespace wsgid
