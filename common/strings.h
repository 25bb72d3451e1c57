// ASCII string helpers shared by every part of wsgid: case-insensitive equality
// and lower-casing, as Apache's directive names, option values and HTTP header
// names need them. ASCII only, independent of the locale: bytes outside 'A'..'Z'
// compare and copy as they are (a UTF-8 name is never folded). Pure functions,
// safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace wsgid {

// c with 'A'..'Z' mapped to 'a'..'z'; every other byte unchanged.
constexpr char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// s with 'A'..'Z' mapped to 'a'..'z'.
inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// True when a and b have the same length and the same bytes but for ASCII case.
// Embedded NUL bytes are compared like any other byte.
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// True when s begins with prefix, ignoring ASCII case.
constexpr bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// True for a character of an HTTP token (RFC 9110 5.6.2 tchar): ALPHA, DIGIT
// and !#$%&'*+-.^_`|~.
constexpr bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace wsgid
