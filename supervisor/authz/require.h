// The authorization tree of Apache 2.4's mod_authz_core: `Require` lines and
// the <RequireAll>, <RequireAny>, <RequireNone> containers of one
// configuration section, built as the config parser reads them, and evaluated
// for a request to one of Apache's authz_status values.
//
// The semantics are httpd's modules/aaa/mod_authz_core.c: add_authz_provider
// and add_authz_section build the tree (several Require lines are an implicit
// <RequireAny>; a container whose kind equals its parent's is spliced into it;
// a negated Require or <RequireNone> directly in a <RequireAny> "has no
// effect" and is an error), authz_core_check_section checks it at the end of
// the section (De Morgan flattening; a container holding only negative
// directives is an error) and apply_authz_sections evaluates it (three-valued
// AND/OR with DENIED_NO_USER, negation turns GRANTED into DENIED and any
// denial into NEUTRAL, a node whose `limited` methods exclude the request's
// is GRANTED under an AND and NEUTRAL under an OR). Providers are those of
// mod_authz_core (all, method), mod_authz_host (ip, local), mod_authz_user
// (valid-user, user), mod_authz_groupfile (group) and mod_wsgi (wsgi-group);
// env, host, forward-dns, expr, file-owner, file-group and every other name
// are refused with a text that says why (Apache docs: mod_authz_core
// "Authorization Containers", mod_authz_host, mod_authz_user).
//
// Who drives it: the section builder in policy.h, which also owns the
// <Limit>/<LimitExcept> stack and passes its method set in. The tree is a
// plain value (copyable, immutable once built); evaluate() is pure apart from
// the group callback it calls, and runs on whatever thread calls it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "supervisor/authz/ip.h"
#include "supervisor/authz/methods.h"

namespace wsgid::authz {

// Apache's authz_status (include/mod_auth.h).
enum class AuthzStatus { kDenied, kGranted, kNeutral, kGeneralError, kDeniedNoUser };
// Apache's words: "granted", "denied", "denied (no authenticated user yet)", "neutral".
std::string_view to_string(AuthzStatus s);

// Which list of groups a group provider asks for.
enum class GroupSource {
  kGroupFile,   // Require group: the AuthGroupFile of the request's section
  kWsgiScript,  // Require wsgi-group: mod_wsgi's WSGIAuthGroupScript groups_for_user()
};

// The groups `user` belongs to, or an error (file unreadable, script raised),
// which denies as mod_authz_groupfile and mod_wsgi deny. A callback that is
// empty means "not configured" (no AuthGroupFile / no WSGIAuthGroupScript):
// the group providers then deny, as Apache does ("No group file was specified").
using GroupLookup =
    std::function<Result<std::vector<std::string>>(GroupSource, std::string_view user)>;

// What the tree looks at. Pointers and views must outlive the evaluate() call.
struct Request {
  Address client;               // r->useragent_addr
  Address server;               // the local address of the connection (Require local)
  std::string_view method;      // the request method, "HEAD" counts as GET
  std::optional<std::string> user;  // r->user: set only after authentication
  GroupLookup groups;
};

enum class ProviderKind { kAll, kIp, kLocal, kMethod, kValidUser, kUser, kGroup, kWsgiGroup };

struct Provider {
  ProviderKind kind = ProviderKind::kAll;
  bool granted = false;           // kAll: granted or denied
  std::vector<IpSpec> ips;        // kIp
  MethodSet methods;              // kMethod
  std::vector<std::string> names; // kUser, kGroup, kWsgiGroup
};

// One node of Apache's authz_section_conf list: a Require line (provider set)
// or a container (children, combined with op).
struct RequireNode {
  enum class Op { kAnd, kOr };
  std::optional<Provider> provider;
  std::string provider_text;  // "ip 10.0.0.0/8": the Require line after "not"
  Op op = Op::kOr;
  bool negate = false;
  bool merged = false;        // made by AuthMerging And/Or, not a container
  MethodSet limited;          // the methods this node applies to
  std::vector<RequireNode> children;
};

// Apache's format_authz_command: "Require not ip 10.0.0.1", "<RequireAll>",
// "<RequireNone>", "<RequireAny>", "AuthMerging All".
std::string describe(const RequireNode& node);

// apply_authz_sections(r, root, AUTHZ_LOGIC_AND): the section's result.
AuthzStatus evaluate(const RequireNode& root, const Request& r);

enum class Container { kAll, kAny, kNone };

// Builds one section's tree. Each call returns Apache's error for the
// directive it was given (the caller adds file:line); after an error the
// builder stays usable and later calls report their own errors, but a section
// with any error must not be used.
class RequireBuilder {
 public:
  // One `Require` line: args are the words after "Require" ("not", the
  // provider name, its arguments). `limited` is the <Limit> mask in force.
  Status add_require(const std::vector<std::string>& args, const MethodSet& limited);
  // <RequireAll>, <RequireAny>, <RequireNone>: every add_require and open
  // until the matching close() goes inside.
  void open(Container kind);
  // </Require...>: checks and attaches the innermost open container. Errors:
  // "<RequireAll> directive contains no authorization directives",
  // "<RequireNone> directive has no effect in <RequireAny> directive".
  Status close();
  bool in_container() const { return !open_.empty(); }
  // The end of the section: checks (authz_core_check_section) and returns the
  // tree, or nullopt when the section has no Require at all. Error: "<Directory>,
  // <Location>, or similar directive contains only negative authorization
  // directives" (or the same for a nested container). Leaves the builder empty.
  Result<std::optional<RequireNode>> finish();

 private:
  struct Frame {
    RequireNode node;
    bool had_error = false;
  };
  RequireNode& current();
  std::optional<RequireNode> root_;  // conf->section
  std::vector<Frame> open_;
};

}  // namespace wsgid::authz
