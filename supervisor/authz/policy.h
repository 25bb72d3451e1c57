// One configuration section's access settings, the merge of the sections
// that apply to a request, and the decision for the request: what Apache 2.4
// answers before any handler runs.
//
// SectionBuilder is driven by the config parser for one per-directory section
// (<Directory>, <DirectoryMatch>, <Files>, <FilesMatch>, <Location>,
// <LocationMatch>): it gets every directive and nested section named in
// directives.h, in file order (open()/close() for <RequireAll>, <RequireAny>,
// <RequireNone>, <Limit>, <LimitExcept>; directive() for the rest), and
// answers each with Apache's error or ok; the caller adds file:line. finish()
// ends the section. As in Apache, a section holds a module's settings only if
// it used one of that module's directives: Require/AuthMerging/
// AuthzSendForbiddenOnFailure (mod_authz_core), Order/Allow/Deny/Satisfy
// (mod_access_compat), AuthType/AuthName (mod_authn_core), AllowMethods
// (mod_allowmethods); what a section leaves out it inherits.
//
// MergedPolicy::apply() is one step of ap_merge_per_dir_configs (server/config.c)
// for these modules; the caller applies the sections in Apache's order
// (server/request.c: <Directory> shortest path first, <DirectoryMatch>,
// <Files>/<FilesMatch>, <Location>/<LocationMatch>; a <VirtualHost>'s after the
// server's). What a step does, per module (httpd's merge functions):
// mod_authz_core merge_authz_core_dir_config: a section with Require rules
// replaces the earlier rules unless it says `AuthMerging And|Or`, which
// combines "earlier AND/OR this" (and keeps the earlier rules if it has none);
// `AuthMerging Off` alone clears them. mod_access_compat has no merger: a later
// section with any of its directives replaces its rules whole. AuthType and
// AuthName: the later one set wins. AllowMethods: the later one set wins.
// Apache 2.2 rules (Order/Allow/Deny) and 2.4 rules (Require) on one path, in
// one section or merged from several, are both enforced, as httpd 2.4 does:
// each module merges its own settings, then ap_process_request_internal runs
// mod_access_compat's access checker (403 unless it admits) before
// mod_authz_core's Require (server/request.c, Satisfy All). Apache's "Upgrading
// to 2.4 from 2.2" ("Mixing old and new directives") discourages the mix and
// shows two examples; Apache 2.4.71 answers 403 to both, as the code says and
// this library does (the second example's "200" in that page is not what
// httpd does).
//
// decide() is the access part of ap_process_request_internal (Satisfy All):
// AllowMethods (405), then the 2.2 rules (403), then Require without a user
// (authorize_userless), and after authentication Require with the user
// (authorize_user). Pure values and functions; any thread.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "supervisor/authz/compat.h"
#include "supervisor/authz/methods.h"
#include "supervisor/authz/require.h"

namespace wsgid::authz {

enum class AuthMerging { kUnset, kOff, kAnd, kOr };

struct AllowMethods {
  bool enforce = false;  // false after `AllowMethods reset`
  MethodSet allowed;
};

struct SectionPolicy {
  std::string label;  // names the section in errors: "<Directory /srv> at site.conf:3"
  // mod_authz_core: present when the section used Require, AuthMerging or
  // AuthzSendForbiddenOnFailure.
  bool has_authz = false;
  std::optional<RequireNode> require;
  AuthMerging merging = AuthMerging::kUnset;
  std::optional<bool> forbidden_on_failure;
  std::optional<CompatRules> compat;        // mod_access_compat
  std::optional<std::string> auth_type;     // as written; "None" means none
  std::optional<std::string> auth_name;
  std::optional<AllowMethods> allow_methods;
};

class SectionBuilder {
 public:
  explicit SectionBuilder(std::string label);
  // A directive of directives.h that is not a section, with its arguments.
  // Errors are Apache's ("AuthMerging must be one of: Off | And | Or",
  // "Order not allowed here" inside <RequireAll>, ...) or wsgid's refusals.
  Status directive(std::string_view name, const std::vector<std::string>& args);
  // <RequireAll>, <RequireAny>, <RequireNone> (no arguments), <Limit METHODS>,
  // <LimitExcept METHODS>: `name` without '<'. Errors: "<Limit> directive
  // excludes all methods", "<Limit> directive specifies methods already
  // excluded", "TRACE cannot be controlled by <Limit>, see TraceEnable", ...
  // The section is open even after an error; close() it as usual.
  Status open(std::string_view name, const std::vector<std::string>& args);
  // The end of the innermost open section, whose name is given to check nesting.
  Status close(std::string_view name);
  // The section's settings; errors as RequireBuilder::finish(). Call once.
  Result<SectionPolicy> finish();

 private:
  struct Frame {
    std::string name;  // "RequireAll", "Limit", ...
    MethodSet saved_limited;
  };
  bool in_require_container() const;
  SectionPolicy policy_;
  RequireBuilder require_;
  std::vector<Frame> open_;
  MethodSet limited_ = MethodSet::all();
};

// Parses one section from (name, args) lines: a convenience for tests and for
// callers holding a section's text already split. Lines whose name starts with
// '<' open a section, "</" closes it. The first error is returned.
struct Line {
  std::string name;
  std::vector<std::string> args;
};
Result<SectionPolicy> build_section(std::string label, const std::vector<Line>& lines);

struct MergedPolicy {
  std::optional<RequireNode> require;
  std::optional<bool> forbidden_on_failure;
  std::optional<CompatRules> compat;
  std::optional<std::string> auth_type;
  std::optional<std::string> auth_name;
  std::optional<AllowMethods> allow_methods;

  // One merge step: `later` over *this.
  void apply(const SectionPolicy& later);
};

// Every step over `sections` (Apache's order, first = most general).
MergedPolicy merge(std::span<const SectionPolicy* const> sections);

enum class Verdict {
  kAllow,             // go on to the handler
  kForbidden,         // 403
  kAuthenticate,      // authenticate the user (401 + WWW-Authenticate when the
                      // credentials are missing or wrong), then decide() again
                      // with Request::user set
  kUnauthorized,      // 401 + WWW-Authenticate: the authenticated user is refused
  kServerError,       // 500
  kMethodNotAllowed,  // 405
};

struct Decision {
  Verdict verdict = Verdict::kAllow;
  int status = 0;      // the HTTP status (0 for kAllow and kAuthenticate)
  std::string reason;  // Apache's error-log words, for the log
};

// The answer for `r`. Without r.user this is the phase before authentication;
// with it, the one after. Apache's outcomes: no rule at all grants; AuthType
// without any Require is a 500 ("AuthType configured with no corresponding
// authorization directives"); DENIED_NO_USER asks for authentication when an
// AuthType (other than None) is set, and is a 500 otherwise (nothing could
// authenticate: Apache's "couldn't check user"); an AuthType without AuthName
// is a 500 ("need AuthName", mod_auth_basic); after authentication a refused
// user gets 401, or 403 with AuthzSendForbiddenOnFailure On.
Decision decide(const MergedPolicy& policy, const Request& r);

}  // namespace wsgid::authz
