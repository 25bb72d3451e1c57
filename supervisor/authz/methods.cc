#include "supervisor/authz/methods.h"

#include <algorithm>
#include <array>
#include <iterator>

namespace wsgid::authz {
namespace {

// Apache's built-in methods, modules/http/http_protocol.c
// ap_method_registry_init(); M_INVALID stands for any other name.
constexpr std::array<std::string_view, 27> kKnown = {
    "GET", "HEAD", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK",
    "VERSION-CONTROL", "CHECKOUT", "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL",
    "REPORT", "MKWORKSPACE", "MKACTIVITY", "BASELINE-CONTROL", "MERGE"};

std::set<std::string> canonical(std::set<std::string> names) {
  std::set<std::string> out;
  for (const std::string& n : names) out.emplace(canonical_method(n));
  return out;
}

std::set<std::string> minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

std::set<std::string> both(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

std::set<std::string> either(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out = a;
  out.insert(b.begin(), b.end());
  return out;
}

}  // namespace

std::string_view canonical_method(std::string_view method) {
  return method == "HEAD" ? std::string_view("GET") : method;
}

bool is_known_method(std::string_view method) {
  return std::find(kKnown.begin(), kKnown.end(), method) != kKnown.end();
}

MethodSet MethodSet::only(std::set<std::string> names) {
  return MethodSet(false, canonical(std::move(names)));
}

MethodSet MethodSet::all_except(std::set<std::string> names) {
  return MethodSet(true, canonical(std::move(names)));
}

bool MethodSet::contains(std::string_view method) const {
  bool named = names_.count(std::string(canonical_method(method))) != 0;
  return complement_ ? !named : named;
}

MethodSet MethodSet::intersect(const MethodSet& o) const {
  if (!complement_ && !o.complement_) return MethodSet(false, both(names_, o.names_));
  if (!complement_) return MethodSet(false, minus(names_, o.names_));
  if (!o.complement_) return MethodSet(false, minus(o.names_, names_));
  return MethodSet(true, either(names_, o.names_));
}

MethodSet MethodSet::unite(const MethodSet& o) const {
  if (!complement_ && !o.complement_) return MethodSet(false, either(names_, o.names_));
  if (!complement_) return MethodSet(true, minus(o.names_, names_));
  if (!o.complement_) return MethodSet(true, minus(names_, o.names_));
  return MethodSet(true, both(names_, o.names_));
}

std::string MethodSet::to_string() const {
  std::string out = complement_ ? (names_.empty() ? "all" : "all but") : "";
  for (const std::string& n : names_) {
    if (!out.empty()) out += ' ';
    out += n;
  }
  return out;
}

}  // namespace wsgid::authz
