#include "supervisor/authz/compat.h"

#include "common/strings.h"

namespace wsgid::authz {
Status CompatRules::set_order(const std::vector<std::string>& args, const MethodSet& limited) {
  if (args.size() != 1) {
    return Status::error("Order takes one argument, 'allow,deny', 'deny,allow', or "
                         "'mutual-failure'");
  }
  Order o;
  if (iequals(args[0], "allow,deny")) {
    o = Order::kAllowDeny;
  } else if (iequals(args[0], "deny,allow")) {
    o = Order::kDenyAllow;
  } else if (iequals(args[0], "mutual-failure")) {
    o = Order::kMutualFailure;
  } else {
    return Status::error("Order " + args[0] + ": unknown order (write 'allow,deny', "
                         "'deny,allow' or 'mutual-failure', without spaces)");
  }
  orders_.emplace_back(limited, o);
  return Status::ok();
}

Status CompatRules::add(bool allow, const std::vector<std::string>& args,
                        const MethodSet& limited) {
  std::string directive = allow ? "Allow" : "Deny";
  if (args.size() < 2) {
    return Status::error(directive + " requires at least two arguments, 'from' followed by "
                         "hostnames or IP-address wildcards");
  }
  if (!iequals(args[0], "from")) return Status::error("allow and deny must be followed by 'from'");
  std::vector<Rule> rules;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& where = args[i];
    std::string q = directive + " from " + where + ": ";
    Rule r;
    r.limited = limited;
    if (where.size() >= 4 && iequals(std::string_view(where).substr(0, 4), "env=")) {
      return Status::error(q + "env= is not supported: wsgid sets no variables from requests "
                               "(no SetEnvIf), so it cannot " +
                           (allow ? "admit" : "refuse") +
                           " whom Apache would by the variable; write the addresses");
    }
    if (iequals(where, "all")) {
      r.all = true;
      rules.push_back(std::move(r));
      continue;
    }
    SpecError why{};
    r.ip = IpSpec::parse(where, &why);
    if (r.ip) {
      rules.push_back(std::move(r));
      continue;
    }
    bool slash = where.find('/') != std::string::npos;
    if (why == SpecError::kBadAddress) return Status::error(q + "The specified IP address is invalid.");
    if (why == SpecError::kBadMask) return Status::error(q + "The specified network mask is invalid.");
    if (slash) return Status::error(q + "An IP address was expected");
    if (where.find('#') != std::string::npos) return Status::error(q + "No comments are allowed here");
    return Status::error(q + "host names are not supported: Apache " +
                         (allow ? "admits" : "refuses") +
                         " the clients whose double-reverse DNS name is in that domain, and "
                         "wsgid does no DNS lookups; write the clients' addresses");
  }
  std::vector<Rule>& list = allow ? allows_ : denies_;
  for (Rule& r : rules) list.push_back(std::move(r));
  return Status::ok();
}

Status CompatRules::set_satisfy(const std::vector<std::string>& args) {
  if (args.size() != 1) return Status::error("Satisfy takes one argument, 'any' or 'all'");
  if (iequals(args[0], "all")) return Status::ok();
  if (iequals(args[0], "any")) {
    return Status::error("Satisfy Any is not supported: with it Apache admits a client that "
                         "passes either the host rules or the user rules; write the rule as "
                         "<RequireAny> with Require ip and Require valid-user");
  }
  return Status::error("Satisfy either 'any' or 'all'.");
}

bool CompatRules::any_matches(const std::vector<Rule>& rules, const Address& client,
                              std::string_view method) const {
  for (const Rule& r : rules) {
    if (!r.limited.contains(method)) continue;
    if (r.all || r.ip->matches(client)) return true;
  }
  return false;
}

bool CompatRules::admits(const Address& client, std::string_view method) const {
  Order order = Order::kDenyAllow;
  for (const auto& [limited, o] : orders_) {
    if (limited.contains(method)) order = o;
  }
  switch (order) {
    case Order::kAllowDeny: {
      bool ok = any_matches(allows_, client, method);
      if (any_matches(denies_, client, method)) ok = false;
      return ok;
    }
    case Order::kDenyAllow: {
      bool ok = true;
      if (any_matches(denies_, client, method)) ok = false;
      if (any_matches(allows_, client, method)) ok = true;
      return ok;
    }
    case Order::kMutualFailure:
      return any_matches(allows_, client, method) && !any_matches(denies_, client, method);
  }
  return false;
}

}  // namespace wsgid::authz
