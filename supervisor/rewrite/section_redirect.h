// SectionRedirects: mod_alias's Redirect, RedirectMatch, RedirectPermanent and
// RedirectTemp inside one per-directory section (<Location>, <LocationMatch>,
// <Directory>, <DirectoryMatch>, <Files>, <FilesMatch>), read as
// add_redirect_internal() reads them when the directive has a section
// (cmd->path set; modules/mappers/mod_alias.c,
// https://httpd.apache.org/docs/2.4/mod/mod_alias.html#redirect).
//
// Two kinds of entries, Apache's:
// - The section's own redirect, without a URL-path: `Redirect [status] URL`
//   (the status understood as a redirect status and one more argument), `Redirect
//   URL` (one argument that is no status), or `Redirect gone|4xx|5xx` alone. URL
//   is an ap_expr string: literal text and %{NAME} server variables
//   (variables.h, without HTTP:Name); wsgid refuses the rest of ap_expr
//   (functions such as %{req:Name}, backslash escapes, $N back-references) at
//   start-up. The last one in a section wins, and in a merged path the last
//   section's (merge_alias_dir_config). Apache tries it in translate_name
//   (before access control, for a <Location>: the location walk has run) and
//   again in its fixup hook (after access control: a <Directory> or <Files>).
// - Entries with a URL-path or a regex (`Redirect [status] URL-path URL`,
//   `RedirectMatch [status] regex URL`, `RedirectPermanent URL-path URL`, ...):
//   matched against the whole URL path as at server level (redirect.h), in the
//   fixup hook only. In a merged path the later section's entries come first.
// The caller chooses the sections and the moment (supervisor/frontend/
// rewrite_step.h); evaluate_own() and list() answer for one section. Immutable
// once read; const methods run on any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "supervisor/rewrite/redirect.h"
#include "supervisor/rewrite/request.h"

namespace wsgid::rewrite {

class SectionRedirects {
 public:
  // Parses one directive of the section. Errors: RedirectList::add()'s, and
  //   "Cannot parse redirect expression 'URL': <why>" (Apache's words) for an
  //   unclosed %{, and wsgid's refusal of what ap_expr has beyond %{NAME}:
  //   "<Directive> URL: Apache would evaluate '...' as an ap_expr ...".
  Status add(std::string_view directive, const std::vector<std::string>& args);

  // True when the section has its own redirect (the first kind above).
  bool has_own() const { return own_.has_value(); }
  // The section's own redirect for r (kNone when it has none), as try_redirect()
  // and translate_alias_redir()/fixup_redir() answer: kRedirect with the
  // expanded, escaped URL made absolute and the query string appended (when
  // the URL has none), kGone/kForbidden/kStatus for a non-redirect status, or
  // kServerError for a target that is not a URL.
  Outcome evaluate_own(const RequestView& r) const;
  // The entries with a URL-path or a regex, in file order.
  const RedirectList& list() const { return list_; }
  bool empty() const { return !own_ && list_.empty(); }

 private:
  struct Own {
    int status = 302;
    bool has_url = false;
    std::string url;  // the ap_expr string
  };
  std::optional<Own> own_;
  RedirectList list_;
};

}  // namespace wsgid::rewrite
