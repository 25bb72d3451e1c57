#include "supervisor/authz/policy.h"

#include <set>
#include <utility>

#include "common/strings.h"
#include "supervisor/authz/directives.h"

namespace wsgid::authz {
namespace {

bool is_require_container(std::string_view name) {
  return iequals(name, "RequireAll") || iequals(name, "RequireAny") ||
         iequals(name, "RequireNone");
}

Status take_one(const DirectiveInfo& d, const std::vector<std::string>& args) {
  if (args.size() == 1) return Status::ok();
  return Status::error(std::string(d.name) + " takes one argument, " + std::string(d.syntax));
}

// mod_allowmethods am_allowmethods (the plain list and `reset`).
Status parse_allow_methods(const std::vector<std::string>& args, AllowMethods& out) {
  if (args.empty()) return Status::error("AllowMethods: No method or 'reset' keyword given");
  if (args.size() == 1 && iequals(args[0], "reset")) {
    out = AllowMethods{};
    return Status::ok();
  }
  std::set<std::string> names;
  for (const std::string& m : args) {
    if (!m.empty() && (m[0] == '+' || m[0] == '-')) {
      return Status::error("AllowMethods " + m + ": the +METHOD/-METHOD form is not in "
                           "Apache 2.4; list every method allowed");
    }
    if (!is_known_method(m)) return Status::error("AllowMethods: Invalid Method '" + m + "'");
    names.insert(m);
  }
  out.enforce = true;
  out.allowed = MethodSet::only(std::move(names));
  return Status::ok();
}

bool has_auth_type(const MergedPolicy& p) {
  return p.auth_type && !iequals(*p.auth_type, "None");
}

Decision answer(Verdict v, int status, std::string reason) {
  return Decision{v, status, std::move(reason)};
}

}  // namespace

SectionBuilder::SectionBuilder(std::string label) { policy_.label = std::move(label); }

bool SectionBuilder::in_require_container() const {
  for (const Frame& f : open_) {
    if (is_require_container(f.name)) return true;
  }
  return false;
}

Status SectionBuilder::directive(std::string_view name, const std::vector<std::string>& args) {
  const DirectiveInfo* d = find_directive(name);
  if (d == nullptr || d->section) {
    return Status::error(std::string(name) + " is not an access control directive");
  }
  if (in_require_container() && !(d->contexts & kRequireContainer)) {
    return Status::error(std::string(d->name) + " not allowed here");
  }
  std::string_view n = d->name;
  if (n == "Require") {
    policy_.has_authz = true;
    return require_.add_require(args, limited_);
  }
  if (n == "AuthMerging") {
    policy_.has_authz = true;
    if (args.size() == 1 && iequals(args[0], "Off")) {
      policy_.merging = AuthMerging::kOff;
    } else if (args.size() == 1 && iequals(args[0], "And")) {
      policy_.merging = AuthMerging::kAnd;
    } else if (args.size() == 1 && iequals(args[0], "Or")) {
      policy_.merging = AuthMerging::kOr;
    } else {
      return Status::error("AuthMerging must be one of: Off | And | Or");
    }
    return Status::ok();
  }
  if (n == "AuthzSendForbiddenOnFailure") {
    policy_.has_authz = true;
    if (args.size() == 1 && iequals(args[0], "On")) {
      policy_.forbidden_on_failure = true;
    } else if (args.size() == 1 && iequals(args[0], "Off")) {
      policy_.forbidden_on_failure = false;
    } else {
      return Status::error("AuthzSendForbiddenOnFailure must be On or Off");
    }
    return Status::ok();
  }
  if (n == "AuthType" || n == "AuthName") {
    if (Status s = take_one(*d, args); !s) return s;
    (n == "AuthType" ? policy_.auth_type : policy_.auth_name) = args[0];
    return Status::ok();
  }
  if (n == "AllowMethods") {
    AllowMethods am;
    if (Status s = parse_allow_methods(args, am); !s) return s;
    policy_.allow_methods = std::move(am);
    return Status::ok();
  }
  if (!policy_.compat) policy_.compat.emplace();
  if (n == "Order") return policy_.compat->set_order(args, limited_);
  if (n == "Allow") return policy_.compat->add(true, args, limited_);
  if (n == "Deny") return policy_.compat->add(false, args, limited_);
  return policy_.compat->set_satisfy(args);  // Satisfy
}

Status SectionBuilder::open(std::string_view name, const std::vector<std::string>& args) {
  const DirectiveInfo* d = find_directive(name);
  if (d == nullptr || !d->section) {
    return Status::error("<" + std::string(name) + "> is not an access control section");
  }
  std::string tag = "<" + std::string(d->name) + ">";
  open_.push_back(Frame{std::string(d->name), limited_});
  if (is_require_container(d->name)) {
    policy_.has_authz = true;
    require_.open(d->name == "RequireAll"   ? Container::kAll
                  : d->name == "RequireAny" ? Container::kAny
                                            : Container::kNone);
    if (!args.empty()) return Status::error(tag + " directive doesn't take additional arguments");
    return Status::ok();
  }
  // ap_limit_section (server/core.c).
  if (args.empty()) return Status::error(tag + " directive requires additional arguments");
  bool except = d->name == "LimitExcept";
  std::set<std::string> names;
  for (const std::string& m : args) {
    if (m == "TRACE" && !except) return Status::error("TRACE cannot be controlled by <Limit>, see TraceEnable");
    names.insert(m);
  }
  MethodSet asked = except ? MethodSet::all_except(names) : MethodSet::only(names);
  MethodSet now = limited_.intersect(asked);
  if (now.empty()) return Status::error(tag + " directive excludes all methods");
  if (now == limited_) return Status::error(tag + " directive specifies methods already excluded");
  limited_ = now;
  return Status::ok();
}

Status SectionBuilder::close(std::string_view name) {
  if (open_.empty() || !iequals(open_.back().name, name)) {
    return Status::error("</" + std::string(name) + "> without matching <" + std::string(name) +
                         "> section");
  }
  Frame f = std::move(open_.back());
  open_.pop_back();
  limited_ = f.saved_limited;
  if (is_require_container(f.name)) return require_.close();
  return Status::ok();
}

Result<SectionPolicy> SectionBuilder::finish() {
  if (!open_.empty()) {
    return Status::error("<" + open_.back().name + "> section not closed");
  }
  Result<std::optional<RequireNode>> tree = require_.finish();
  if (!tree) return tree.status();
  policy_.require = std::move(*tree);
  return std::move(policy_);
}

Result<SectionPolicy> build_section(std::string label, const std::vector<Line>& lines) {
  SectionBuilder b(std::move(label));
  for (const Line& l : lines) {
    Status s;
    if (l.name.rfind("</", 0) == 0) {
      s = b.close(std::string_view(l.name).substr(2));
    } else if (!l.name.empty() && l.name[0] == '<') {
      s = b.open(std::string_view(l.name).substr(1), l.args);
    } else {
      s = b.directive(l.name, l.args);
    }
    if (!s) return s;
  }
  return b.finish();
}

void MergedPolicy::apply(const SectionPolicy& later) {
  // merge_authz_core_dir_config (modules/aaa/mod_authz_core.c).
  if (later.has_authz) {
    if (later.merging == AuthMerging::kUnset && !later.require && require) {
      // Only AuthzSendForbiddenOnFailure: not a new authz config.
    } else if (later.merging == AuthMerging::kOff || later.merging == AuthMerging::kUnset ||
               !(require || later.require)) {
      require = later.require;
    } else if (require && later.require) {
      RequireNode both;
      both.op = later.merging == AuthMerging::kAnd ? RequireNode::Op::kAnd : RequireNode::Op::kOr;
      both.merged = true;
      both.limited = require->limited.unite(later.require->limited);
      both.children.push_back(std::move(*require));
      both.children.push_back(*later.require);
      require = std::move(both);
    } else if (later.require) {
      require = later.require;
    }
    if (later.forbidden_on_failure) forbidden_on_failure = later.forbidden_on_failure;
  }
  // mod_access_compat has no merger: the later config replaces the earlier.
  if (later.compat) compat = later.compat;
  // merge_authn_core_dir_config; am_merge_conf.
  if (later.auth_type) auth_type = later.auth_type;
  if (later.auth_name) auth_name = later.auth_name;
  if (later.allow_methods) allow_methods = later.allow_methods;
}

MergedPolicy merge(std::span<const SectionPolicy* const> sections) {
  MergedPolicy merged;
  for (const SectionPolicy* s : sections) merged.apply(*s);
  return merged;
}

Decision decide(const MergedPolicy& p, const Request& r) {
  // mod_allowmethods runs first of the access checkers (APR_HOOK_REALLY_FIRST).
  if (p.allow_methods && p.allow_methods->enforce && !p.allow_methods->allowed.contains(r.method)) {
    return answer(Verdict::kMethodNotAllowed, 405,
                  "client method denied by server configuration: '" + std::string(r.method) + "'");
  }
  if (p.compat && !p.compat->admits(r.client, r.method)) {
    return answer(Verdict::kForbidden, 403, "client denied by server configuration");
  }
  bool auth_type = has_auth_type(p);
  if (!p.require) {
    if (auth_type) {
      return answer(Verdict::kServerError, 500,
                    "AuthType configured with no corresponding authorization directives");
    }
    return answer(Verdict::kAllow, 0, "authorization result: granted (no directives)");
  }
  AuthzStatus result = evaluate(*p.require, r);
  if (result == AuthzStatus::kGranted) return answer(Verdict::kAllow, 0, "authorization result: granted");
  if (result == AuthzStatus::kGeneralError) {
    return answer(Verdict::kServerError, 500, "authorization error");
  }
  if (!r.user) {  // authorize_userless
    if (result != AuthzStatus::kDeniedNoUser) {
      return answer(Verdict::kForbidden, 403, "client denied by server configuration");
    }
    if (!auth_type) {
      return answer(Verdict::kServerError, 500,
                    "configuration error: couldn't check user (a Require needs a user and no "
                    "AuthType is set)");
    }
    if (!p.auth_name) return answer(Verdict::kServerError, 500, "need AuthName");
    return answer(Verdict::kAuthenticate, 0, "authorization needs an authenticated user");
  }
  // authorize_user, after authentication.
  if (result == AuthzStatus::kDeniedNoUser) {
    return answer(Verdict::kUnauthorized, 401, "authorization failure (no authenticated user)");
  }
  std::string why = "user " + *r.user + ": authorization failure";
  if (!auth_type) return answer(Verdict::kForbidden, 403, "client denied by server configuration");
  if (p.forbidden_on_failure.value_or(false)) return answer(Verdict::kForbidden, 403, why);
  return answer(Verdict::kUnauthorized, 401, why);
}

}  // namespace wsgid::authz
