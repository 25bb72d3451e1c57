// RedirectList: mod_alias's Redirect, RedirectMatch, RedirectPermanent and
// RedirectTemp of one server or <VirtualHost> context, and their evaluation
// against a request, as Apache's translate_alias_redir() does it (mod_alias.c;
// https://httpd.apache.org/docs/2.4/mod/mod_alias.html).
//
// The configuration reader calls add() once per directive, in file order, with
// the arguments as the Apache-syntax tokenizer split them (quotes removed); the
// front end calls evaluate() for each request before Alias and WSGIScriptAlias
// (mod_alias runs its redirects first). A RedirectList is immutable once the
// configuration is read: evaluate() is const and may run on any thread.
//
// Semantics, as mod_alias has them:
// - Redirect [status] URL-path URL: URL-path matches whole path segments
//   ("/app" matches "/app" and "/app/x", not "/apple"; runs of '/' match runs
//   of '/'); the rest of the path, %-escaped, is appended to URL.
// - RedirectMatch [status] regex URL: the regex (PCRE, case-sensitive) is
//   matched against the decoded path; $0-$9 in URL are the captures, \c is c.
//   The result is escaped except for its query string and fragment.
// - status: permanent (301), temp (302, the default of Redirect and
//   RedirectMatch), seeother (303), gone (410), or a number. A 3xx needs a URL;
//   any other status must have none ("Redirect gone /old", "Redirect 404 /x").
// - A target that is a path ("/new") is made absolute with the request's own
//   scheme, server name and port. The request's query string is appended when
//   the target has none.
// - Entries are tried in configuration order; the first that matches decides.
// The <Location> forms of Redirect (no URL-path, or an expression) are not
// parsed here: the caller refuses them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/regex.h"
#include "common/status.h"
#include "supervisor/rewrite/request.h"

namespace wsgid::rewrite {

// 3xx.
inline bool is_redirect_status(int s) { return s >= 300 && s <= 399; }

// mod_alias's add_redirect_internal() reading a Redirect* directive's first
// argument: the status (the directive's default, 301 for RedirectPermanent and
// 302 otherwise, or the one a1 names: permanent, temp, seeother, gone, a
// number) and what a1 was: 1 a redirect status, -1 another status, 0 no status
// (a1 is the URL path).
struct RedirectStatus {
  int status;
  int grok;
};
RedirectStatus read_redirect_status(std::string_view directive, const std::string& a1);

// The answer to a request a redirect entry matched (translate_alias_redir()):
// for a 3xx status, `found` (the escaped target) made absolute with the
// request's own origin when it is a path, the request's query string appended
// when it has none, kServerError when it is no URL; for another status, kGone,
// kForbidden or kStatus.
Outcome redirect_outcome(int status, std::string found, const RequestView& r);

// try_alias_list() for a redirect's target: %-escapes all but the query string
// and fragment (apr_uri_parse + apr_uri_unparse(OMITQUERY) + ap_escape_uri).
std::string escape_redirect_target(std::string_view found);

class RedirectList {
 public:
  // True for the four directive names this class parses (case-insensitive).
  static bool handles(std::string_view directive);

  // Parses one directive. On error, returns Apache's message for it (and
  // records nothing):
  //   "Redirect takes one, two or three arguments, an optional status, then
  //    document to be redirected and destination URL" (and the TAKE2/TAKE23
  //    forms for the other three directives)
  //   "Redirect: invalid first argument (of three)"
  //   "URL to redirect to is missing"
  //   "Redirect to non-URL"
  //   "Redirect URL not valid for this status"
  //   "Regular expression could not be compiled. (<PCRE2's reason>)"
  // and wsgid's own for what Apache accepts but cannot mean:
  //   "<Directive>: a URL-path is needed", "<Directive>: status N is not a
  //    redirect (3xx) nor an error (4xx, 5xx) status".
  Status add(std::string_view directive, const std::vector<std::string>& args);

  // The first entry that matches r decides: kRedirect (status, Location),
  // kGone, kForbidden or kStatus (non-3xx statuses, no Location), or
  // kServerError when the target is not a URL (Apache: "cannot redirect ...").
  // kNone when no entry matches.
  Outcome evaluate(const RequestView& r) const;

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string path;        // URL-path, for Redirect
    std::optional<Regex> regex;  // RedirectMatch
    bool has_url = false;
    std::string url;
    int status = 302;
  };
  std::vector<Entry> entries_;
};

}  // namespace wsgid::rewrite
