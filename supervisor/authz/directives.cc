#include "supervisor/authz/directives.h"

#include <strings.h>

#include <array>

namespace wsgid::authz {
namespace {

constexpr unsigned kAuthcfg = kPerDirectory | kLimit | kRequireContainer;  // OR_AUTHCFG
constexpr unsigned kLimitClass = kPerDirectory | kLimit;                   // OR_LIMIT
constexpr unsigned kAccessConf = kPerDirectory | kLimit;                   // ACCESS_CONF

constexpr std::array<DirectiveInfo, 15> kDirectives = {{
    {"Require", false, kAuthcfg, "[not] PROVIDER [ARGS...]", "mod_authz_core"},
    {"RequireAll", true, kAuthcfg, "no arguments", "mod_authz_core"},
    {"RequireAny", true, kAuthcfg, "no arguments", "mod_authz_core"},
    {"RequireNone", true, kAuthcfg, "no arguments", "mod_authz_core"},
    {"AuthMerging", false, kAuthcfg, "Off | And | Or", "mod_authz_core"},
    {"AuthzSendForbiddenOnFailure", false, kAuthcfg, "On | Off", "mod_authz_core"},
    {"Limit", true, kAuthcfg, "METHOD [METHOD...]", "core"},
    {"LimitExcept", true, kAuthcfg, "METHOD [METHOD...]", "core"},
    {"AuthType", false, kAuthcfg, "Basic | None", "mod_authn_core"},
    {"AuthName", false, kAuthcfg, "REALM", "mod_authn_core"},
    {"AllowMethods", false, kAccessConf, "reset | METHOD [METHOD...]", "mod_allowmethods"},
    {"Order", false, kLimitClass, "Deny,Allow | Allow,Deny | Mutual-failure", "mod_access_compat"},
    {"Allow", false, kLimitClass, "from all | ADDRESS [ADDRESS...]", "mod_access_compat"},
    {"Deny", false, kLimitClass, "from all | ADDRESS [ADDRESS...]", "mod_access_compat"},
    {"Satisfy", false, kAuthcfg, "All", "mod_access_compat"},
}};

}  // namespace

std::span<const DirectiveInfo> directives() { return kDirectives; }

const DirectiveInfo* find_directive(std::string_view name) {
  for (const DirectiveInfo& d : kDirectives) {
    if (d.name.size() == name.size() && strncasecmp(d.name.data(), name.data(), name.size()) == 0) {
      return &d;
    }
  }
  return nullptr;
}

}  // namespace wsgid::authz
