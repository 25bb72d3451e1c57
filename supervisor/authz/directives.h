// The directives and sections this library owns, with the contexts Apache
// allows them in, for the config parser to validate before it hands a
// directive to policy.h's SectionBuilder.
//
// Contexts follow each directive's override class in httpd (OR_AUTHCFG,
// OR_LIMIT, ACCESS_CONF: "directory" context in Apache's manual): the
// per-directory sections, never the server or <VirtualHost> top level (the
// parser answers "X not allowed here" there, as Apache does). Inside
// <RequireAll>/<RequireAny>/<RequireNone> Apache walks with OR_AUTHCFG only
// (mod_authz_core add_authz_section), so Order, Allow, Deny and AllowMethods
// are not allowed there: kRequireContainer marks the ones that are.
// Static data; any thread.
#pragma once

#include <span>
#include <string_view>

namespace wsgid::authz {

enum Context : unsigned {
  kDirectory = 1u << 0,
  kDirectoryMatch = 1u << 1,
  kFiles = 1u << 2,
  kFilesMatch = 1u << 3,
  kLocation = 1u << 4,
  kLocationMatch = 1u << 5,
  kLimit = 1u << 6,          // <Limit> and <LimitExcept>
  kRequireContainer = 1u << 7,
  kPerDirectory = kDirectory | kDirectoryMatch | kFiles | kFilesMatch | kLocation | kLocationMatch,
};

struct DirectiveInfo {
  std::string_view name;     // Apache's spelling; "RequireAll" for <RequireAll>
  bool section;              // written as <Name ...> ... </Name>
  unsigned contexts;         // Context bits where it may appear
  std::string_view syntax;   // what the arguments look like, for "expects ..." texts
  std::string_view source;   // the Apache module (its manual page) that defines it
};

// Every entry: Require, RequireAll, RequireAny, RequireNone, Limit,
// LimitExcept, AuthMerging, AuthzSendForbiddenOnFailure, AuthType, AuthName,
// AllowMethods, Order, Allow, Deny, Satisfy.
std::span<const DirectiveInfo> directives();
// The entry for `name` (case-insensitive, without '<'), or nullptr.
const DirectiveInfo* find_directive(std::string_view name);

}  // namespace wsgid::authz
