// Access control and authentication directives (issue 11 points 1 and 2): the
// Parser handlers for Require and its containers, <Limit>/<LimitExcept>,
// Order/Allow/Deny/Satisfy, AllowMethods, AuthMerging,
// AuthzSendForbiddenOnFailure, AuthType, AuthName, AuthBasicProvider,
// AuthUserFile, AuthGroupFile, and mod_wsgi's WSGIAuthUserScript,
// WSGIAuthGroupScript and WSGIAccessScript.
//
// Apache allows them only in per-directory sections (<Directory>,
// <DirectoryMatch>, <Files>, <FilesMatch>, <Location>, <LocationMatch>, and
// <Limit>/<Require*> inside those); elsewhere Apache says "not allowed here"
// and the directive table's context check (kDir) refuses them the same way.
// Inside a section every line goes to supervisor/authz's
// SectionBuilder, which answers with Apache's error for it, and is kept as
// written in the Block (config.h BlockAccess) for the front end to rebuild the
// same policy (supervisor/frontend/access_check.h). The providers and the
// scripts are kept as values beside the lines. What wsgid does not implement is
// refused, fail closed: AuthType Digest and Form, and every authentication
// provider but `file` and mod_wsgi's `wsgi`. As in Apache, a script no provider
// or Require names is accepted and does nothing (WSGIAuthUserScript without
// `AuthBasicProvider wsgi`: the passwords are checked by `file`).
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
  std::vector<std::string> names;
  bool ok = true;
  for (const Arg& a : d.args) {
    if (iequals(a.text, "file") || iequals(a.text, "wsgi")) {
      names.push_back(iequals(a.text, "file") ? "file" : "wsgi");
      continue;
    }
    ok = false;
    diags_->error(a.loc, "AuthBasicProvider " + a.text +
                             " is refused: Apache would check the passwords of this path with "
                             "the '" + a.text +
                             "' provider, and wsgid implements only 'file' and mod_wsgi's "
                             "'wsgi' (fail closed)");
  }
  if (ok) s.access->access.basic_providers = std::move(names);
}

void Parser::d_auth_script(const Directive& d, Scope& s) {
  const char* name = iequals(d.name, "WSGIAuthUserScript")    ? "WSGIAuthUserScript"
                     : iequals(d.name, "WSGIAuthGroupScript") ? "WSGIAuthGroupScript"
                                                              : "WSGIAccessScript";
  if (!s.access) {
    diags_->error(d.loc, no_access_scope(name, s));
    return;
  }
  if (!nargs(d, name, 1, SIZE_MAX)) return;
  AuthScript script;
  script.path = resolve_path(d.args[0].text);
  bool ok = true;
  for (const KeyValue& kv : key_values(d, 1)) {
    if (kv.has_eq && kv.key == "application-group") {
      if (kv.value.empty()) {
        diags_->error(kv.value_loc, std::string(name) + " application-group= needs a name",
                      {"write application-group=%{GLOBAL} for the main interpreter"});
        ok = false;
        continue;
      }
      // mod_wsgi's wsgi_server_group(): only these three expand for these scripts.
      if (kv.value.size() > 2 && kv.value[0] == '%' && kv.value[1] == '{' &&
          kv.value != "%{GLOBAL}" && kv.value != "%{SERVER}" && kv.value != "%{HOST}") {
        std::vector<std::string_view> known = {"%{GLOBAL}", "%{SERVER}", "%{HOST}"};
        std::string_view near = closest(kv.value, known);
        std::vector<std::string> notes;
        if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
        diags_->warning(kv.value_loc,
                        "'" + kv.value + "' is not an expansion mod_wsgi knows for " + name +
                            " (only %{GLOBAL}, %{SERVER} and %{HOST}); it names an "
                            "application group literally",
                        notes);
      }
      script.application_group = kv.value;
      continue;
    }
    std::vector<std::string_view> keys = {"application-group"};
    std::string_view near = closest(kv.key, keys);
    std::vector<std::string> notes;
    if (!near.empty()) notes.push_back("did you mean 'application-group'?");
    notes.push_back("mod_wsgi runs " + std::string(name) +
                    " in the front end's Python and takes only application-group=");
    diags_->error(kv.key_loc, "unknown option '" + kv.key + "' to " + name, notes);
    ok = false;
  }
  if (!ok) return;
  BlockAccess& a = s.access->access;
  std::string_view n(name);
  (n == "WSGIAuthUserScript"    ? a.auth_user_script
   : n == "WSGIAuthGroupScript" ? a.auth_group_script
                                : a.access_script) = std::move(script);
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
         info.handler == &Parser::d_auth_file || info.handler == &Parser::d_auth_script;
}

}  // namespace wsgid::config::detail
