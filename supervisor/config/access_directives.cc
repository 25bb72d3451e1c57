// Access control and authentication directives (issue 11 points 1 and 2): the
// Parser handlers for Require and its containers, <Limit>/<LimitExcept>,
// Order/Allow/Deny/Satisfy, AllowMethods, AuthMerging,
// AuthzSendForbiddenOnFailure, AuthType, AuthName, AuthBasicProvider,
// AuthUserFile and AuthGroupFile.
//
// Apache allows them only in per-directory sections (<Directory>,
// <DirectoryMatch>, <Files>, <FilesMatch>, <Location>, <LocationMatch>, and
// <Limit>/<Require*> inside those); elsewhere Apache says "not allowed here"
// and the directive table's context check (kDir) refuses them the same way.
// Inside a section every line goes to supervisor/authz's
// SectionBuilder, which answers with Apache's error for it, and is kept as
// written in the Block (config.h BlockAccess) for the front end to rebuild the
// same policy (supervisor/frontend/access_check.h). What wsgid does not
// implement is refused, fail closed: AuthType Digest and Form, and every
// authentication provider but `file` (mod_wsgi's `wsgi` included, whose
// WSGIAuthUserScript is refused too).
#include <string>
#include <vector>

#include "supervisor/authz/directives.h"
#include "supervisor/config/parser_internal.h"
#include "supervisor/config/values.h"

namespace wsgid::config::detail {

namespace {

// Every kDir scope of section() carries an AccessScope; this is a bug guard.
std::string no_access_scope(const std::string& name, const Scope& s) {
  return name + " not allowed here (" + where(s) + ")";
}

}  // namespace

void Parser::d_access(const Directive& d, Scope& s) {
  const authz::DirectiveInfo* info = authz::find_directive(d.name);
  std::string name = info ? std::string(info->name) : d.name;
  if (!s.access) {
    diags_->error(d.loc, no_access_scope(name, s));
    return;
  }
  std::vector<std::string> args = arg_texts(d);
  if (name == "AuthType" && args.size() == 1 && !iequals(args[0], "Basic") &&
      !iequals(args[0], "None")) {
    diags_->error(d.args[0].loc,
                  "AuthType " + args[0] +
                      " is refused: Apache would ask the clients of this path to authenticate "
                      "that way, and wsgid implements only AuthType Basic (fail closed)");
    return;
  }
  size_t provider = !args.empty() && iequals(args[0], "not") ? 1 : 0;
  if (name == "Require" && args.size() > provider && iequals(args[provider], "wsgi-group")) {
    diags_->error(d.loc, "Require wsgi-group is refused: mod_wsgi would check it with "
                         "WSGIAuthGroupScript's groups_for_user(), which wsgid does not "
                         "implement (fail closed)",
                  {"use 'Require group' with an AuthGroupFile"});
    return;
  }
  if (Status st = s.access->builder.directive(name, args); !st) {
    diags_->error(d.loc, st.message());
    return;
  }
  s.access->access.lines.push_back(AccessLine{name, std::move(args)});
}

void Parser::d_auth_basic_provider(const Directive& d, Scope& s) {
  if (!s.access) {
    diags_->error(d.loc, no_access_scope("AuthBasicProvider", s));
    return;
  }
  if (!nargs(d, "AuthBasicProvider", 1, SIZE_MAX)) return;
  for (const Arg& a : d.args) {
    if (iequals(a.text, "file")) continue;
    if (iequals(a.text, "wsgi")) {
      diags_->error(a.loc,
                    "AuthBasicProvider wsgi is refused: mod_wsgi would check the passwords of "
                    "this path with WSGIAuthUserScript's check_password(), which wsgid does not "
                    "implement (fail closed)",
                    {"use 'AuthBasicProvider file' with an AuthUserFile made by htpasswd"});
      continue;
    }
    diags_->error(a.loc, "AuthBasicProvider " + a.text +
                             " is refused: Apache would check the passwords of this path with "
                             "the '" + a.text +
                             "' provider, and wsgid implements only 'file' (fail closed)");
  }
}

void Parser::d_auth_file(const Directive& d, Scope& s) {
  const bool users = iequals(d.name, "AuthUserFile");
  const char* name = users ? "AuthUserFile" : "AuthGroupFile";
  if (!s.access) {
    diags_->error(d.loc, no_access_scope(name, s));
    return;
  }
  if (!nargs(d, name, 1, 1)) return;
  std::string path = resolve_path(d.args[0].text);
  (users ? s.access->access.user_file : s.access->access.group_file) = path;
}

void Parser::access_section(const Directive& d, Scope& s) {
  const authz::DirectiveInfo* info = authz::find_directive(d.name);
  std::string name = info ? std::string(info->name) : d.name;
  if (!check_context(d, ("<" + name + ">").c_str(), kDir, s)) return;
  if (!s.access) {
    diags_->error(d.loc, no_access_scope("<" + name + ">", s));
    return;
  }
  std::vector<std::string> args = arg_texts(d);
  if (Status st = s.access->builder.open(name, args); !st) diags_->error(d.loc, st.message());
  s.access->access.lines.push_back(AccessLine{"<" + name, args});
  // The body: access lines go to the builder, the other directives apply to the
  // enclosing section as in Apache (a <Limit> restricts only access control).
  Scope inner = s;
  walk(d.children, inner);
  if (Status st = s.access->builder.close(name); !st) diags_->error(d.loc, st.message());
  s.access->access.lines.push_back(AccessLine{"</" + name, {}});
}

BlockAccess Parser::end_access(const Directive& d, AccessScope* a) {
  Result<authz::SectionPolicy> policy = a->builder.finish();
  if (!policy) diags_->error(d.loc, policy.status().message());
  return std::move(a->access);
}

bool Parser::access_directive(const DirectiveInfo& info) {
  return info.handler == &Parser::d_access || info.handler == &Parser::d_auth_basic_provider ||
         info.handler == &Parser::d_auth_file;
}

}  // namespace wsgid::config::detail
