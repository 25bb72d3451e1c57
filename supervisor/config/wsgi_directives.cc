// The mod_wsgi directives but WSGIDaemonProcess (daemon_options.cc): which
// group and interpreter serve a scope, script aliases, import scripts, and the
// server-wide Python and socket settings. Parser handlers; see
// parser_internal.h and the table in directives.cc.
//
// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside
// libstdc++'s std::regex (std::function in _StateT); silence it for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <algorithm>
#include <regex>

#include "supervisor/config/parser_internal.h"
#include "model/embedded.h"
#include "model/resolve.h"
#include "supervisor/config/values.h"

namespace wsgid::config::detail {

void Parser::check_group_name_ref(const std::string& value, const SourceLoc& at,
                                  const char* what) {
  if (value.empty() || value == "%{GLOBAL}") return;
  if (value[0] == '%') {
    if (!is_known_expansion(value))
      diags_->error(at, std::string("unknown expansion '") + value + "' in " + what +
                            ": expected %{GLOBAL}, %{ENV:NAME}, %{RESOURCE}, %{SERVER} or %{HOST}");
    return;
  }
  group_refs_.emplace_back(value, at);
}

void Parser::check_app_group(const std::string& value, const SourceLoc& at) {
  if (value.size() > 2 && value[0] == '%' && value[1] == '{' && !is_known_expansion(value)) {
    std::vector<std::string_view> known = {"%{GLOBAL}", "%{RESOURCE}", "%{SERVER}", "%{HOST}"};
    std::string_view near = closest(value, known);
    std::vector<std::string> notes;
    if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
    diags_->warning(at, "'" + value +
                            "' is not an expansion mod_wsgi knows; it names an application "
                            "group literally",
                    notes);
  }
}

void Parser::d_process_group(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGIProcessGroup", 1, 1)) return;
  check_group_name_ref(d.args[0].text, d.args[0].loc, "WSGIProcessGroup");
  s.settings->process_group = d.args[0].text;
}

void Parser::d_application_group(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGIApplicationGroup", 1, 1)) return;
  check_app_group(d.args[0].text, d.args[0].loc);
  s.settings->application_group = d.args[0].text;
}

void Parser::d_callable_object(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGICallableObject", 1, 1)) return;
  s.settings->callable_object = d.args[0].text;
}

void Parser::d_pass_authorization(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGIPassAuthorization", 1, 1)) return;
  if (auto v = on_off(d, "WSGIPassAuthorization", d.args[0])) s.settings->pass_authorization = *v;
}

void Parser::d_script_reloading(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGIScriptReloading", 1, 1)) return;
  if (auto v = on_off(d, "WSGIScriptReloading", d.args[0])) {
    s.settings->script_reloading = *v;
    if (s.ctx == kServer) config_.script_reloading = *v;
  }
}

void Parser::d_chunked_request(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGIChunkedRequest", 1, 1)) return;
  if (auto v = on_off(d, "WSGIChunkedRequest", d.args[0])) s.settings->chunked_request = *v;
}

void Parser::d_restrict_process(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGIRestrictProcess", 1, SIZE_MAX)) return;
  std::vector<std::string> names;
  for (const Arg& a : d.args) {
    check_group_name_ref(a.text, a.loc, "WSGIRestrictProcess");
    names.push_back(a.text);
  }
  s.settings->restrict_process = names;
}

void Parser::d_restrict_embedded(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIRestrictEmbedded", 1, 1)) return;
  if (auto v = on_off(d, "WSGIRestrictEmbedded", d.args[0])) config_.restrict_embedded = *v;
}

void Parser::d_socket_prefix(const Directive& d, Scope&) {
  if (!nargs(d, "WSGISocketPrefix", 1, 1)) return;
  config_.socket_prefix = resolve_path(d.args[0].text);
}

void Parser::d_python_home(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIPythonHome", 1, 1)) return;
  config_.python_home = d.args[0].text;
}

void Parser::d_python_path(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIPythonPath", 1, 1)) return;
  std::string p = d.args[0].text;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    if (end > start) config_.python_path.push_back(p.substr(start, end - start));
    start = end + 1;
  }
}

void Parser::d_control_socket(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIControlSocket", 1, 1)) return;
  config_.control_socket = resolve_path(d.args[0].text);
}

// Ours: how long a graceful stop keeps serving, not ready, before it drains
// (docs/decisions.md 42). Whole seconds, as Timeout.
void Parser::d_drain_delay(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIDrainDelay", 1, 1)) return;
  auto v = int_arg(d, "WSGIDrainDelay", d.args[0], 0, kMaxSeconds,
                   "a whole number of seconds >= 0 (0: drain at once, the default)");
  if (v) config_.drain_delay = static_cast<double>(*v);
}

// Ours: the front end's event loops (docs/decisions.md 52). "auto" (the
// default) is one per four CPUs; Python in the front end makes it one
// (check_frontend_loops warns when a count above 1 is written).
void Parser::d_frontend_loops(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIFrontendLoops", 1, 1)) return;
  config_.frontend_loops_loc = d.loc;
  if (iequals(d.args[0].text, "auto")) {
    config_.frontend_loops = 0;
    return;
  }
  auto v = int_arg(d, "WSGIFrontendLoops", d.args[0], 1, model::kMaxFrontendLoops,
                   "'auto' (one loop per four CPUs, the default) or a count from 1 to 64");
  static_assert(model::kMaxFrontendLoops == 64);
  if (v) config_.frontend_loops = static_cast<int>(*v);
}

void Parser::d_script_alias(const Directive& d, Scope& s) {
  bool match = iequals(d.name, "WSGIScriptAliasMatch");
  const char* name = match ? "WSGIScriptAliasMatch" : "WSGIScriptAlias";
  if (!nargs(d, name, 2, SIZE_MAX)) return;
  Mount m;
  m.loc = d.loc;
  m.is_match = match;
  m.url = d.args[0].text;
  m.script = resolve_path(d.args[1].text);
  if (match) {
    try {
      std::regex re(m.url, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      diags_->error(d.args[0].loc,
                    "invalid regular expression '" + m.url + "' in " + name + ": " + e.what());
      return;
    }
  } else if (m.url.empty() || m.url[0] != '/') {
    diags_->error(d.args[0].loc, std::string(name) + " URL '" + m.url + "' must begin with '/'");
    return;
  }
  static const std::vector<std::string_view> kKeys = {"process-group", "application-group",
                                                      "callable-object", "pass-authorization"};
  for (const KeyValue& kv : key_values(d, 2)) {
    if (!kv.has_eq || std::find(kKeys.begin(), kKeys.end(), kv.key) == kKeys.end()) {
      std::string_view near = closest(kv.key, kKeys);
      std::vector<std::string> notes;
      if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
      diags_->error(kv.key_loc, "unknown option '" + kv.key + "' to " + name +
                                    ": expected process-group=, application-group=, "
                                    "callable-object= or pass-authorization=",
                    notes);
      continue;
    }
    if (kv.key == "process-group") {
      check_group_name_ref(kv.value, kv.value_loc, "process-group=");
      m.process_group = kv.value;
    } else if (kv.key == "application-group") {
      check_app_group(kv.value, kv.value_loc);
      m.application_group = kv.value;
    } else if (kv.key == "callable-object") {
      m.callable_object = kv.value;
    } else {
      if (iequals(kv.value, "on"))
        m.pass_authorization = true;
      else if (iequals(kv.value, "off"))
        m.pass_authorization = false;
      else
        diags_->error(kv.value_loc,
                      "invalid value '" + kv.value + "' for pass-authorization=: expected On or Off");
    }
  }
  for (const Mount& other : s.vh->mounts) {
    if (other.is_match == m.is_match && other.url == m.url) {
      diags_->warning(d.loc, std::string(name) + " " + m.url + " is given twice; the first, at " +
                                 loc_text(other.loc) + ", serves every request for it");
      break;
    }
  }
  s.vh->mounts.push_back(std::move(m));
}

void Parser::d_import_script(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIImportScript", 1, SIZE_MAX)) return;
  ImportScript is;
  is.loc = d.loc;
  is.script = resolve_path(d.args[0].text);
  bool pg = false, ag = false, unknown = false;
  for (const KeyValue& kv : key_values(d, 1)) {
    if (kv.has_eq && kv.key == "process-group") {
      pg = true;
      check_group_name_ref(kv.value, kv.value_loc, "process-group=");
      is.process_group = kv.value == "%{GLOBAL}" ? "" : kv.value;
    } else if (kv.has_eq && kv.key == "application-group") {
      ag = true;
      check_app_group(kv.value, kv.value_loc);
      is.application_group = kv.value == "%{GLOBAL}" ? "" : kv.value;
    } else {
      std::vector<std::string_view> keys = {"process-group", "application-group"};
      std::string_view near = closest(kv.key, keys);
      std::vector<std::string> notes;
      if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
      diags_->error(kv.key_loc, "unknown option '" + kv.key +
                                    "' to WSGIImportScript: expected process-group= or "
                                    "application-group=",
                    notes);
      unknown = true;
    }
  }
  if (unknown) return;
  if (!pg || !ag) {
    diags_->error(d.loc, "WSGIImportScript needs both process-group= and application-group=");
    return;
  }
  if (is.application_group.find("%{") != std::string::npos)
    diags_->error(d.loc, "WSGIImportScript application-group= cannot hold an expansion other "
                         "than %{GLOBAL}: the script is loaded before any request");
  config_.imports.push_back(is);
}

}  // namespace wsgid::config::detail
