// mod_alias's redirects inside a per-directory section; see section_redirect.h.
// Apache sources cited: modules/mappers/mod_alias.c (add_redirect_internal,
// try_redirect, translate_alias_redir, fixup_redir).
#include "supervisor/rewrite/section_redirect.h"

#include <cctype>
#include <cstdlib>

#include "common/strings.h"
#include "supervisor/rewrite/redirect.h"
#include "supervisor/rewrite/url.h"
#include "supervisor/rewrite/variables.h"

namespace wsgid::rewrite {
namespace {

// The ap_expr string: "" when wsgid expands it as Apache would, else why not.
// *apache is set when Apache itself would refuse it at start-up.
std::string check_expression(std::string_view url, bool* apache) {
  *apache = false;
  for (size_t i = 0; i < url.size(); ++i) {
    char c = url[i];
    if (c == '\\')
      return "a backslash escape, which wsgid does not read in redirect expressions";
    if (c == '$' && i + 1 < url.size() && std::isdigit(static_cast<unsigned char>(url[i + 1])))
      return "the back-reference $" + std::string(1, url[i + 1]) +
             ", which wsgid does not expand in redirect expressions";
    if (c != '%' || i + 1 >= url.size() || url[i + 1] != '{') continue;
    size_t end = url.find('}', i + 2);
    if (end == std::string_view::npos) {
      *apache = true;
      return "'%{' without its closing '}'";
    }
    std::string_view name = url.substr(i + 2, end - i - 2);
    if (name.find(':') != std::string_view::npos)
      return "the function %{" + std::string(name) +
             "}, which wsgid does not expand in redirect expressions";
    if (!known_variable(name, false))
      return "%{" + std::string(name) + "}, a variable wsgid does not provide to redirect "
             "expressions";
    i = end;
  }
  return {};
}

std::string expand(std::string_view url, const RequestView& r) {
  std::string out;
  for (size_t i = 0; i < url.size(); ++i) {
    if (url[i] == '%' && i + 1 < url.size() && url[i + 1] == '{') {
      size_t end = url.find('}', i + 2);
      out += lookup_variable(url.substr(i + 2, end - i - 2), r);
      i = end;
      continue;
    }
    out += url[i];
  }
  return out;
}

}  // namespace

Status SectionRedirects::add(std::string_view directive, const std::vector<std::string>& args) {
  const bool plain = iequals(directive, "Redirect");
  const bool regex = iequals(directive, "RedirectMatch");
  const size_t n = args.size();
  const bool arity_ok = plain ? (n >= 1 && n <= 3) : regex ? (n == 2 || n == 3) : n == 2;
  if (!arity_ok || !RedirectList::handles(directive)) return list_.add(directive, args);

  // add_redirect_internal(): the directive's status, then the first argument.
  auto [status, grok] = read_redirect_status(directive, args[0]);

  if ((grok > 0 && n == 2) || (grok == 0 && n == 1)) {
    // The section's own redirect: "Redirect [status] URL".
    const std::string& url = grok ? args[1] : args[0];
    bool apache = false;
    std::string why = check_expression(url, &apache);
    if (apache) return Status::error("Cannot parse redirect expression '" + url + "': " + why);
    if (!why.empty())
      return Status::error(std::string(directive) + " " + url +
                           ": Apache would evaluate it as an ap_expr string with " + why +
                           " (fail closed); write the URL literally or with %{NAME} variables");
    own_ = Own{status, true, url};
    return Status::ok();
  }
  if (grok < 0 && n == 1) {
    // "Redirect gone" or "Redirect 404" alone: the section answers that status.
    if (status < 400 || status > 599)
      return Status::error(std::string(directive) + ": status " + std::to_string(status) +
                           " is not a redirect (3xx) nor an error (4xx, 5xx) status");
    own_ = Own{status, false, {}};
    return Status::ok();
  }
  if (grok > 0 && n == 1) return Status::error("URL to redirect to is missing");
  return list_.add(directive, args);
}

Outcome SectionRedirects::evaluate_own(const RequestView& r) const {
  if (!own_ || (!r.path.empty() && r.path[0] != '/')) return {};
  std::string found = own_->has_url ? escape_redirect_target(expand(own_->url, r)) : std::string();
  return redirect_outcome(own_->status, std::move(found), r);
}

}  // namespace wsgid::rewrite
