// Path-string helpers shared by every part of wsgid: the directory part of a
// path, as a string operation on '/' separators (no file-system access, no
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

}  // namespace wsgid
