#include "supervisor/authn/cfg_lines.h"

#include <cctype>

namespace wsgid::authn {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string trim(std::string s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// substring_conf(): the word's bytes with "\\" and "\<quote>" unescaped.
std::string unescape(std::string_view w, char quote) {
  std::string out;
  out.reserve(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i] == '\\' && i + 1 < w.size() &&
        (w[i + 1] == '\\' || (quote != 0 && w[i + 1] == quote))) {
      ++i;
    }
    out += w[i];
  }
  return out;
}

}  // namespace

CfgLines split_cfg_lines(std::string_view text, size_t max_len) {
  CfgLines out;
  size_t pos = 0, number = 0;
  while (pos < text.size()) {
    std::string logical;
    const size_t first = number + 1;
    bool more = true;
    while (more && pos < text.size()) {
      ++number;
      size_t nl = text.find('\n', pos);
      const bool has_nl = nl != std::string_view::npos;
      std::string_view phys = text.substr(pos, has_nl ? nl - pos : std::string_view::npos);
      pos = has_nl ? nl + 1 : text.size();
      std::string_view body = phys;
      if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
      more = has_nl && !body.empty() && body.back() == '\\';
      if (more) body.remove_suffix(1);
      logical += body;
      if (logical.size() > max_len) {
        out.too_long_at = first;
        return out;
      }
    }
    std::string line = trim(std::move(logical));
    if (line.empty() || line[0] == '#') continue;
    out.lines.push_back({first, std::move(line)});
  }
  return out;
}

std::string_view cfg_getword(std::string_view* line, char stop) {
  const size_t at = line->find(stop);
  std::string_view word = line->substr(0, at);
  line->remove_prefix(word.size());
  while (!line->empty() && line->front() == stop) line->remove_prefix(1);
  return word;
}

std::string cfg_getword_conf(std::string_view* line) {
  std::string_view s = *line;
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  std::string word;
  if (!s.empty() && (s.front() == '"' || s.front() == '\'')) {
    const char quote = s.front();
    size_t end = 1;
    while (end < s.size() && s[end] != quote) {
      if (s[end] == '\\' && end + 1 < s.size() && (s[end + 1] == quote || s[end + 1] == '\\')) {
        end += 2;
      } else {
        ++end;
      }
    }
    word = unescape(s.substr(1, end - 1), quote);
    s.remove_prefix(end < s.size() ? end + 1 : end);
  } else {
    size_t end = 0;
    while (end < s.size() && !is_space(s[end])) ++end;
    word = unescape(s.substr(0, end), 0);
    s.remove_prefix(end);
  }
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  *line = s;
  return word;
}

}  // namespace wsgid::authn
