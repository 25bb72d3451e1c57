// MethodSet: a set of HTTP method names, as Apache's method bit masks
// (`ap_method_mask_t`) hold them for <Limit>, <LimitExcept>, `Require method`,
// `AllowMethods` and the `limited` mask of every Require line.
//
// A set is either "these methods" or "every method except these", so that
// <LimitExcept GET> also covers methods nobody named (Apache gives every
// unregistered method the one M_INVALID bit, which ~GET includes). Names are
// case-sensitive, as ap_method_number_of() compares them; HEAD is GET (Apache
// registers "HEAD" as M_GET, modules/http/http_protocol.c), so a set holding
// GET holds HEAD. Plain values, no shared state, any thread.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace wsgid::authz {

class MethodSet {
 public:
  MethodSet() = default;  // empty
  static MethodSet all() { return MethodSet(true, {}); }
  static MethodSet only(std::set<std::string> names);
  static MethodSet all_except(std::set<std::string> names);

  bool contains(std::string_view method) const;
  bool empty() const { return !complement_ && names_.empty(); }
  MethodSet intersect(const MethodSet& other) const;
  MethodSet unite(const MethodSet& other) const;
  bool operator==(const MethodSet& other) const = default;
  // "GET POST", "all", "all but GET POST": for error texts and tests.
  std::string to_string() const;

 private:
  MethodSet(bool complement, std::set<std::string> names)
      : complement_(complement), names_(std::move(names)) {}
  bool complement_ = false;
  std::set<std::string> names_;  // canonical: HEAD stored as GET
};

// GET for HEAD, the name itself otherwise.
std::string_view canonical_method(std::string_view method);
// One of the 27 methods Apache knows without a <Limit> registering it
// (ap_method_registry_init: GET, HEAD, PUT, POST, DELETE, CONNECT, OPTIONS,
// TRACE, PATCH and the WebDAV ones). `Require method` and `AllowMethods`
// accept only these ("Invalid Method 'X'" otherwise).
bool is_known_method(std::string_view method);

}  // namespace wsgid::authz
