// Path-string helpers shared by every part of wsgid: the directory part and the
// last component of a path, as string operations on '/' separators (no file-system access, no
// normalisation; std::filesystem::path::parent_path() would keep a trailing
// slash's empty name and differs on "/x"). Pure functions, safe from any thread.
#pragma once

#include <string_view>

namespace wsgid {

// The part of path before its last '/': "/etc/wsgid/wsgid.conf" -> "/etc/wsgid",
// "/wsgid.conf" -> "/", "a/b/" -> "a/b"; a path without '/' has no directory
// part and gives if_none ("" by default; "." where the caller wants the current
// directory). The result points into path or if_none.
constexpr std::string_view directory_of(std::string_view path, std::string_view if_none = {}) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return if_none;
  if (slash == 0) return path.substr(0, 1);
  return path.substr(0, slash);
}

// The part of path after its last '/': "/srv/app.wsgi" -> "app.wsgi", "app.wsgi"
// -> "app.wsgi", "a/b/" -> "". The result points into path.
constexpr std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace wsgid
