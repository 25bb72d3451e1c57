// Apache 2.2's host-based access control as Apache 2.4's mod_access_compat
// keeps it: `Order`, `Allow from`, `Deny from` (and `Satisfy`) of one
// configuration section, and the yes/no check_dir_access answers for a request.
//
// Semantics from httpd's modules/aaa/mod_access_compat.c and its manual
// ("Order" table): Deny,Allow (the default) denies whom a Deny matches unless
// an Allow matches too, and admits everyone else; Allow,Deny admits whom an
// Allow matches unless a Deny matches; Mutual-failure admits whom an Allow
// matches and no Deny does. Each directive inside <Limit>/<LimitExcept>
// applies only to those methods (the caller passes the method set in force);
// a later Order for a method replaces an earlier one. Arguments: `all`, full
// and partial addresses, CIDR and netmask (ip.h). Refused, with a text that
// says why: `env=` (wsgid sets no request variables), host names (they need DNS),
// `Satisfy Any`. The section builder in policy.h drives it; plain values, any
// thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "supervisor/authz/ip.h"
#include "supervisor/authz/methods.h"

namespace wsgid::authz {

enum class Order { kDenyAllow, kAllowDeny, kMutualFailure };

class CompatRules {
 public:
  // `Order ARG`. Errors: "Order takes one argument, 'allow,deny', 'deny,allow',
  // or 'mutual-failure'" and Apache's "unknown order".
  Status set_order(const std::vector<std::string>& args, const MethodSet& limited);
  // `Allow ARGS` (allow = true) or `Deny ARGS`: "from" then one or more specs.
  // On an error nothing of the line is kept. Errors, Apache's words after the
  // directive and argument: "allow and deny must be followed by 'from'", "An IP
  // address was expected", "The specified IP address is invalid.", "The
  // specified network mask is invalid.", "No comments are allowed here"; and
  // wsgid's refusals of env= and host names.
  Status add(bool allow, const std::vector<std::string>& args, const MethodSet& limited);
  // `Satisfy All|Any`: All is Apache's default and is accepted; Any is refused
  // (wsgid would have to let either host or user rules admit alone).
  Status set_satisfy(const std::vector<std::string>& args);

  // True when the section holds Order, Allow or Deny (Satisfy All alone
  // changes nothing an access check answers).
  bool has_rules() const { return !orders_.empty() || !allows_.empty() || !denies_.empty(); }
  // check_dir_access: true = OK, false = 403.
  bool admits(const Address& client, std::string_view method) const;

 private:
  struct Rule {
    MethodSet limited;
    bool all = false;
    std::optional<IpSpec> ip;  // when !all
  };
  bool any_matches(const std::vector<Rule>& rules, const Address& client,
                   std::string_view method) const;
  std::vector<std::pair<MethodSet, Order>> orders_;
  std::vector<Rule> allows_;
  std::vector<Rule> denies_;
};

}  // namespace wsgid::authz
