// RewriteRules: the mod_rewrite directives of one server or <VirtualHost>
// context (RewriteEngine, RewriteOptions, RewriteCond, RewriteRule; RewriteBase
// and RewriteMap are refused), restricted to what a rule may do without an
// internal rewrite: an external redirect, 403 ([F]) or 410 ([G]). Evaluation
// follows mod_rewrite's hook_uri2file() for rules in server context
// (modules/mappers/mod_rewrite.c; https://httpd.apache.org/docs/2.4/mod/mod_rewrite.html,
// https://httpd.apache.org/docs/2.4/rewrite/flags.html).
//
// The configuration reader calls add() once per directive, in file order, with
// the arguments as the Apache-syntax tokenizer split them (quotes removed) and a
// `tag` of its choosing (its file:line, say); then, for a <VirtualHost>,
// inherit_from(server) (RewriteEngine is inherited from the server, the rules
// only with RewriteOptions Inherit, as in Apache); then refusals(). The front
// end calls evaluate() per request, before Redirect and Alias (mod_rewrite's
// translate hook runs before mod_alias's). Immutable after reading: evaluate()
// is const and runs on any thread.
//
// Errors from add(), the ones Apache gives at start-up (its texts):
//   "RewriteEngine must be On or Off"
//   "RewriteCond: bad argument line: at least two arguments required"
//   "RewriteRule: bad argument line: at least two arguments required"
//   "RewriteCond: bad flag delimiters", "RewriteRule: bad flag delimiters"
//   "RewriteCond: unknown flag 'X'", "RewriteRule: unknown flag 'X'"
//   "RewriteRule: invalid HTTP response code 'N' for flag 'R'"
//   "RewriteCond: cannot compile regular expression 'P'" (+ PCRE2's reason)
//   "RewriteRule: cannot compile regular expression 'P'" (+ PCRE2's reason)
//   "RewriteOptions: unknown option 'X'"
//   "RewriteBase: only valid in per-directory config files"
// Refusals: what Apache would run but wsgid will not (an internal rewrite,
// [P], [PT], [E=], [CO=], [T=], [H=], [S=], [N], [C], [B], RewriteMap,
// RewriteOptions other than Inherit/InheritBefore, file tests in RewriteCond,
// variables wsgid does not provide). add() records them, with the tag, instead
// of failing: Apache ignores every rule while RewriteEngine is Off, so they are
// errors only when the engine is on, which is known once the context (and the
// server it inherits from) is read. refusals() returns them then; each message
// names the directive and says what Apache would have done.
//
// Flags accepted with no effect here, as in server context without internal
// rewrites or sub-requests: NS, DPI, UNC, UnsafePrefixStat, END (same as L),
// and NV on a RewriteCond (see Vary below).
//
// Rules in per-directory context (<Directory>, <Location>, .htaccess) are not
// this class's: the caller refuses them with per_directory_refusal(), since
// Apache runs them after the URL is mapped to a file, on the path relative to
// the directory (https://httpd.apache.org/docs/2.4/rewrite/tech.html).
//
// Variables: %{HTTPS} ("on"/"off"), %{HTTP_HOST}, %{SERVER_NAME},
// %{SERVER_PORT}, %{REQUEST_URI} (the decoded path, as mod_rewrite has it, no
// query), %{REQUEST_METHOD}, %{QUERY_STRING}, %{REQUEST_SCHEME},
// %{SERVER_PROTOCOL}, %{REMOTE_ADDR}, %{HTTP:Name} and the header shorthands
// %{HTTP_USER_AGENT}, %{HTTP_REFERER}, %{HTTP_COOKIE}, %{HTTP_FORWARDED},
// %{HTTP_ACCEPT}, %{HTTP_PROXY_CONNECTION}. mod_rewrite adds the headers a
// condition read to Vary; that header would be lost on a redirect anyway
// (Apache drops headers_out on one), so wsgid does not add it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/regex.h"
#include "common/status.h"
#include "supervisor/rewrite/request.h"

namespace wsgid::rewrite {

struct Refusal {
  int tag = 0;          // as given to add()
  std::string message;  // "RewriteRule ^/a /b: ..."
};

class RewriteRules {
 public:
  // True for the directive names this class parses (case-insensitive):
  // RewriteEngine, RewriteOptions, RewriteCond, RewriteRule, RewriteBase,
  // RewriteMap.
  static bool handles(std::string_view directive);

  // The refusal text for a mod_rewrite directive met inside <Directory>,
  // <Location> or their Match forms: "RewriteRule in <Location>: Apache would
  // apply it in per-directory context, ...".
  static std::string per_directory_refusal(std::string_view directive, std::string_view section);

  // Parses one directive; see the contract above for the errors and refusals.
  Status add(std::string_view directive, const std::vector<std::string>& args, int tag = 0);

  // For a <VirtualHost>: takes the server's RewriteEngine state when the vhost
  // set none, and the server's rules when the vhost has RewriteOptions Inherit
  // (after its own rules) or InheritBefore (before them); the server's
  // refusals come along when the server's engine is off (otherwise the server
  // reports them itself). Call once, before refusals() and evaluate().
  void inherit_from(const RewriteRules& server);

  bool engine_on() const { return engine_on_; }
  // The refusals recorded by add() (and inherited), if the engine is on;
  // empty otherwise. RewriteCond lines left without a RewriteRule are ignored
  // as Apache ignores them.
  std::vector<Refusal> refusals() const;
  size_t rule_count() const { return rules_.size(); }

  // Runs the rule set over r. kNone when the engine is off, no rule changed the
  // URL, or r.path does not begin with '/'. kRedirect with the status ([R=code],
  // 302 by default) and the Location as mod_rewrite builds it (fully
  // qualified, escaped unless [NE], query string per [QSA]/[QSD]/a '?' in the
  // substitution). kForbidden / kGone for [F] / [G] (and kStatus for [R=4xx/5xx]).
  // kForbidden also where mod_rewrite answers 403 at run time (a '?' that came
  // from a back-reference without UnsafeAllow3F; a query string with spaces or
  // control characters under [NE]). kServerError when a rule's absolute URL
  // names this very server, which mod_rewrite would reduce to an internal
  // rewrite ("self-reduction"): the reason says so.
  Outcome evaluate(const RequestView& r) const;

 private:
  enum class CondType { kRegex, kStrLt, kStrLe, kStrEq, kStrGt, kStrGe,
                        kIntLt, kIntLe, kIntEq, kIntGt, kIntGe };
  struct Cond {
    std::string input;    // TestString, expanded per request
    std::string pattern;  // without the leading '!' and operator
    CondType type = CondType::kRegex;
    std::optional<Regex> regex;
    bool negate = false, nocase = false, ornext = false;
  };
  struct Rule {
    std::string pattern;
    std::optional<Regex> regex;
    bool negate = false;
    std::string output;  // substitution (a trailing '?' removed under QSNONE)
    std::vector<Cond> conds;
    bool nosub = false, redirect = false, last = false, noescape = false, nocase = false;
    bool qsappend = false, qsdiscard = false, qslast = false, qsnone = false;
    bool allow3f = false;
    bool status_rule = false;  // [F], [G], [R=non-3xx]
    int code = 302;
  };
  struct PendingCond {
    Cond cond;
    std::optional<Refusal> refusal;
  };

  Status add_cond(const std::vector<std::string>& args, int tag);
  Status add_rule(const std::vector<std::string>& args, int tag);

  bool engine_set_ = false, engine_on_ = false;
  bool inherit_ = false, inherit_before_ = false;
  std::vector<Rule> rules_;
  std::vector<PendingCond> pending_;  // RewriteCond lines awaiting their rule
  std::vector<Refusal> refusals_;
};

}  // namespace wsgid::rewrite
