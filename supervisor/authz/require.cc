#include "supervisor/authz/require.h"

#include <array>
#include <utility>

#include "common/strings.h"

namespace wsgid::authz {
namespace {

std::string join(const std::vector<std::string>& words, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < words.size(); ++i) {
    if (!out.empty()) out += ' ';
    out += words[i];
  }
  return out;
}

// Providers Apache has (in modules wsgid cannot honour) and why they are refused.
struct Refused {
  std::string_view name;
  std::string_view why;
};
constexpr std::array<Refused, 8> kRefused = {{
    {"env", "Require env is not supported: wsgid sets no variables from requests (no "
            "SetEnvIf), so it cannot grant what Apache grants when the variable is set; "
            "write Require ip or Require all"},
    {"host", "Require host is not supported: Apache grants when the client's double-reverse "
             "DNS name is in the domain, and wsgid does no DNS lookups; write Require ip "
             "with the clients' addresses"},
    {"forward-dns", "Require forward-dns is not supported: Apache grants when a DNS lookup "
                    "of the name gives the client's address, and wsgid does no DNS "
                    "lookups; write Require ip with the addresses"},
    {"expr", "Require expr is not supported: wsgid has no evaluator for Apache expressions; "
             "write the rule with Require ip, method, user or group inside "
             "<RequireAll>/<RequireAny>/<RequireNone>"},
    {"file-owner", "Require file-owner is not supported: wsgid does not compare the "
                   "authenticated user with the owner of the file served"},
    {"file-group", "Require file-group is not supported: wsgid does not compare the "
                   "user's groups with the group of the file served"},
    {"dbm-group", "Require dbm-group is not supported: wsgid reads groups from "
                  "AuthGroupFile or WSGIAuthGroupScript only"},
    {"dbd-group", "Require dbd-group is not supported: wsgid reads groups from "
                  "AuthGroupFile or WSGIAuthGroupScript only"},
}};

constexpr std::array<std::string_view, 8> kProviders = {
    "all", "ip", "local", "method", "valid-user", "user", "group", "wsgi-group"};

// The names of `Require user|group|wsgi-group`: mod_authz_user and
// mod_authz_groupfile read them as string expressions; a literal list is what
// wsgid takes.
Status take_names(std::string_view provider, const std::vector<std::string>& args,
                  std::size_t from, std::vector<std::string>& out) {
  for (std::size_t i = from; i < args.size(); ++i) {
    if (args[i].find("%{") != std::string::npos) {
      return Status::error("Require " + std::string(provider) + ": '" + args[i] +
                           "' is an expression (%{...}), which wsgid does not evaluate; "
                           "list the names");
    }
    out.push_back(args[i]);
  }
  return Status::ok();
}

// The provider's parse_require_line, or the refusal.
Result<Provider> parse_provider(const std::string& name, const std::vector<std::string>& args,
                                std::size_t from) {
  Provider p;
  if (name == "all") {
    p.kind = ProviderKind::kAll;
    std::string rest = join(args, from);
    if (iequals(rest, "granted")) {
      p.granted = true;
    } else if (!iequals(rest, "denied")) {
      return Status::error("Argument for 'Require all' must be 'granted' or 'denied'");
    }
    return p;
  }
  if (name == "ip") {
    p.kind = ProviderKind::kIp;
    if (from >= args.size()) return Status::error("'require ip' requires an argument");
    for (std::size_t i = from; i < args.size(); ++i) {
      Result<IpSpec> spec = parse_require_ip(args[i]);
      if (!spec) return spec.status();
      p.ips.push_back(*spec);
    }
    return p;
  }
  if (name == "local") {
    p.kind = ProviderKind::kLocal;  // Apache ignores any argument
    return p;
  }
  if (name == "valid-user") {
    p.kind = ProviderKind::kValidUser;  // Apache ignores any argument
    return p;
  }
  if (name == "method") {
    p.kind = ProviderKind::kMethod;
    std::set<std::string> names;
    for (std::size_t i = from; i < args.size(); ++i) {
      if (!is_known_method(args[i])) return Status::error("Invalid Method '" + args[i] + "'");
      names.insert(args[i]);
    }
    p.methods = MethodSet::only(std::move(names));
    return p;
  }
  if (name == "user" || name == "group" || name == "wsgi-group") {
    p.kind = name == "user" ? ProviderKind::kUser
             : name == "group" ? ProviderKind::kGroup
                               : ProviderKind::kWsgiGroup;
    if (Status s = take_names(name, args, from, p.names); !s) return s;
    return p;
  }
  for (const Refused& r : kRefused) {
    if (name == r.name) return Status::error(std::string(r.why));
  }
  if (name.rfind("ldap-", 0) == 0) {
    return Status::error("Require " + name + " is not supported: wsgid has no LDAP provider");
  }
  std::string msg = "Unknown Authz provider: " + name;
  for (std::string_view known : kProviders) {
    if (iequals(known, name)) msg += " (did you mean '" + std::string(known) + "'?)";
  }
  return Status::error(msg);
}

bool group_member(const std::vector<std::string>& groups, const std::string& wanted) {
  // mod_authz_groupfile and mod_wsgi look groups up in an apr_table_t, whose
  // keys compare without case.
  for (const std::string& g : groups) {
    if (iequals(g, wanted)) return true;
  }
  return false;
}

AuthzStatus check_provider(const Provider& p, const Request& r) {
  switch (p.kind) {
    case ProviderKind::kAll:
      return p.granted ? AuthzStatus::kGranted : AuthzStatus::kDenied;
    case ProviderKind::kIp:
      for (const IpSpec& spec : p.ips) {
        if (spec.matches(r.client)) return AuthzStatus::kGranted;
      }
      return AuthzStatus::kDenied;
    case ProviderKind::kLocal:
      return is_local(r.client, r.server) ? AuthzStatus::kGranted : AuthzStatus::kDenied;
    case ProviderKind::kMethod:
      return p.methods.contains(r.method) ? AuthzStatus::kGranted : AuthzStatus::kDenied;
    case ProviderKind::kValidUser:
      return r.user ? AuthzStatus::kGranted : AuthzStatus::kDeniedNoUser;
    case ProviderKind::kUser:
      if (!r.user) return AuthzStatus::kDeniedNoUser;
      for (const std::string& n : p.names) {
        if (n == *r.user) return AuthzStatus::kGranted;  // strcmp: case matters
      }
      return AuthzStatus::kDenied;
    case ProviderKind::kGroup:
    case ProviderKind::kWsgiGroup: {
      if (!r.user) return AuthzStatus::kDeniedNoUser;
      if (!r.groups) return AuthzStatus::kDenied;
      GroupSource source = p.kind == ProviderKind::kGroup ? GroupSource::kGroupFile
                                                          : GroupSource::kWsgiScript;
      Result<std::vector<std::string>> groups = r.groups(source, *r.user);
      if (!groups) return AuthzStatus::kDenied;
      for (const std::string& n : p.names) {
        if (group_member(*groups, n)) return AuthzStatus::kGranted;
      }
      return AuthzStatus::kDenied;
    }
  }
  return AuthzStatus::kDenied;
}

AuthzStatus apply(const RequireNode& node, const Request& r, RequireNode::Op parent_op) {
  if (!node.limited.contains(r.method)) {
    return parent_op == RequireNode::Op::kAnd ? AuthzStatus::kGranted : AuthzStatus::kNeutral;
  }
  AuthzStatus result = AuthzStatus::kNeutral;
  if (node.provider) {
    result = check_provider(*node.provider, r);
  } else {
    for (const RequireNode& child : node.children) {
      AuthzStatus c = apply(child, r, node.op);
      if (c == AuthzStatus::kGeneralError) return c;
      if (c == AuthzStatus::kNeutral) continue;
      if (node.op == RequireNode::Op::kAnd) {
        if (c == AuthzStatus::kDenied) {
          result = c;
          break;
        }
        if ((c == AuthzStatus::kDeniedNoUser && result != AuthzStatus::kDenied) ||
            result == AuthzStatus::kNeutral) {
          result = c;
        }
      } else {
        if (c == AuthzStatus::kGranted) {
          result = c;
          break;
        }
        if ((c == AuthzStatus::kDeniedNoUser && result == AuthzStatus::kDenied) ||
            result == AuthzStatus::kNeutral) {
          result = c;
        }
      }
    }
  }
  if (node.negate) {
    if (result == AuthzStatus::kGranted) {
      result = AuthzStatus::kDenied;
    } else if (result == AuthzStatus::kDenied || result == AuthzStatus::kDeniedNoUser) {
      // Not being refused is no reason to grant.
      result = AuthzStatus::kNeutral;
    }
  }
  return result;
}

// authz_core_check_section: flattens a negated child whose op differs from
// its parent's (De Morgan), then requires one non-negated child.
Status check_section(RequireNode& section, bool is_conf) {
  std::vector<RequireNode> flat;
  for (RequireNode& child : section.children) {
    if (!child.children.empty()) {
      if (Status s = check_section(child, false); !s) return s;
      if (child.negate && child.op != section.op) {
        for (RequireNode& grandchild : child.children) {
          grandchild.negate = !grandchild.negate;
          flat.push_back(std::move(grandchild));
        }
        continue;
      }
    }
    flat.push_back(std::move(child));
  }
  section.children = std::move(flat);
  for (const RequireNode& child : section.children) {
    if (!child.negate) return Status::ok();
  }
  return Status::error(
      (is_conf ? std::string("<Directory>, <Location>, or similar") : describe(section)) +
      " directive contains only negative authorization directives");
}

RequireNode default_section() {
  RequireNode n;
  n.op = RequireNode::Op::kOr;
  return n;
}

}  // namespace

std::string_view to_string(AuthzStatus s) {
  switch (s) {
    case AuthzStatus::kGranted: return "granted";
    case AuthzStatus::kDenied: return "denied";
    case AuthzStatus::kDeniedNoUser: return "denied (no authenticated user yet)";
    case AuthzStatus::kNeutral: return "neutral";
    case AuthzStatus::kGeneralError: return "error";
  }
  return "?";
}

std::string describe(const RequireNode& node) {
  if (node.provider) {
    return std::string("Require ") + (node.negate ? "not " : "") + node.provider_text;
  }
  bool all = node.op == RequireNode::Op::kAnd;
  std::string kind = all ? (node.negate ? "NotAll" : "All") : (node.negate ? "None" : "Any");
  return node.merged ? "AuthMerging " + kind : "<Require" + kind + ">";
}

AuthzStatus evaluate(const RequireNode& root, const Request& r) {
  return apply(root, r, RequireNode::Op::kAnd);
}

RequireNode& RequireBuilder::current() {
  if (!open_.empty()) return open_.back().node;
  if (!root_) root_ = default_section();
  return *root_;
}

Status RequireBuilder::add_require(const std::vector<std::string>& args,
                                   const MethodSet& limited) {
  RequireNode node;
  std::size_t i = 0;
  if (i < args.size() && iequals(args[i], "not")) {
    node.negate = true;
    ++i;
  }
  std::string name = i < args.size() ? args[i] : std::string();
  Result<Provider> provider = parse_provider(name, args, i + 1);
  if (!provider) {
    if (!open_.empty()) open_.back().had_error = true;
    return provider.status();
  }
  node.provider = std::move(*provider);
  node.provider_text = join(args, i);
  node.limited = limited;
  RequireNode& section = current();
  if (node.negate && section.op == RequireNode::Op::kOr) {
    if (!open_.empty()) open_.back().had_error = true;
    return Status::error("negative Require directive has no effect in " + describe(section) +
                         " directive");
  }
  section.limited = section.limited.unite(node.limited);
  section.children.push_back(std::move(node));
  return Status::ok();
}

void RequireBuilder::open(Container kind) {
  Frame f;
  f.node.op = kind == Container::kAll ? RequireNode::Op::kAnd : RequireNode::Op::kOr;
  f.node.negate = kind == Container::kNone;
  open_.push_back(std::move(f));
}

Status RequireBuilder::close() {
  if (open_.empty()) return Status::error("</Require...> without an open <Require...>");
  Frame f = std::move(open_.back());
  open_.pop_back();
  RequireNode section = std::move(f.node);
  if (section.children.empty()) {
    if (f.had_error) {  // the child's own error says it all
      if (!open_.empty()) open_.back().had_error = true;
      return Status::ok();
    }
    if (!open_.empty()) open_.back().had_error = true;
    return Status::error(describe(section) + " directive contains no authorization directives");
  }
  RequireNode& parent = current();
  if (section.negate && parent.op == RequireNode::Op::kOr) {
    if (!open_.empty()) open_.back().had_error = true;
    return Status::error(describe(section) + " directive has no effect in " + describe(parent) +
                         " directive");
  }
  parent.limited = parent.limited.unite(section.limited);
  if (!section.negate && section.op == parent.op) {
    for (RequireNode& child : section.children) parent.children.push_back(std::move(child));
  } else {
    parent.children.push_back(std::move(section));
  }
  return Status::ok();
}

Result<std::optional<RequireNode>> RequireBuilder::finish() {
  std::optional<RequireNode> root = std::move(root_);
  root_.reset();
  bool unclosed = !open_.empty();
  open_.clear();
  if (unclosed) return Status::error("<Require...> container not closed at the end of the section");
  if (root) {
    if (Status s = check_section(*root, true); !s) return s;
  }
  return root;
}

}  // namespace wsgid::authz
