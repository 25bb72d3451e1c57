// HeaderRules: mod_headers' Header and RequestHeader directives of one context,
// and their application to a request's or a response's header list, as
// mod_headers.c does it (https://httpd.apache.org/docs/2.4/mod/mod_headers.html).
//
// The configuration reader calls add() once per directive, in file order, with
// the arguments as the Apache-syntax tokenizer split them (quotes removed).
// Contexts combine as Apache merges them: the server's rules, then the
// <VirtualHost>'s, then each matching section's, by merge() (which appends).
// The front end calls apply_request() on the request headers before the
// request goes to the application, and apply_response() on every response.
// Immutable after reading; the apply functions are const and run on any thread.
//
// Actions: set, setifempty, add, append, merge, unset, edit, edit* (Header and
// RequestHeader alike, as in Apache). A header name is matched without regard
// to case; "Name:" is accepted for "Name". Values take mod_headers' escapes
// (\\ \n \r \t; "%%" and a final "%" are '%'). edit's regex is PCRE with $N
// and \c in the replacement.
//
// `Header [onsuccess]` and `Header always` write to two different lists, as
// Apache's r->headers_out and r->err_headers_out: onsuccess rules act on the
// headers of a response a handler produced (the application, or a static
// file), whatever its status; always rules act on a list of their own that is
// sent with every response, including the ones wsgid generates itself (errors,
// redirects, 403s), where the onsuccess rules do not run. So, as in Apache,
// `Header always unset X` or `Header always edit X` cannot touch a header the
// application set, and `Header always set X` next to an application's X sends
// both (https://httpd.apache.org/docs/2.4/mod/mod_headers.html#header, the
// condition argument).
//
// Errors from add(), Apache's texts:
//   "first argument must be 'add', 'set', 'setifempty', 'append', 'merge',
//    'unset', 'echo', 'note', 'edit', or 'edit*'."
//   "Header edit requires a match and a substitution"
//   "Header edit regex could not be compiled" (+ PCRE2's reason)
//   "Too many arguments to directive", "header unset takes two arguments",
//   "Header requires three arguments", "Header has too many arguments",
//   "RequestHeader has too many arguments", "Unknown parameter: X",
//   "Unrecognized header format %X"
// and wsgid's refusals, each saying what Apache would have done: the env= and
// expr= conditions, `early`, a value given as expr=, the echo and note
// actions, the format tags %t %D %l %i %b %e %s (request time, duration, load,
// environment and SSL variables), and a value with a line break.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/regex.h"
#include "common/status.h"
#include "supervisor/rewrite/request.h"

namespace wsgid::rewrite {

class HeaderRules {
 public:
  enum class Origin {
    kHandler,  // the application's response, or a static file's
    // A response whose status and body wsgid writes itself: a redirect, 403,
    // 404, and also 502/503/504 after a worker failed. Apache sends all of
    // these through ap_send_error_response(), which drops the handler's output
    // filters (so the onsuccess rules) and runs only the "always" ones
    // (modules/http/http_protocol.c).
    kError,
  };

  // True for "Header" and "RequestHeader" (case-insensitive).
  static bool handles(std::string_view directive);

  Status add(std::string_view directive, const std::vector<std::string>& args);

  // Appends the rules of a more specific context (Apache's merge order).
  void merge(const HeaderRules& more);

  // RequestHeader rules, in order, on the request's headers.
  void apply_request(HeaderList* headers) const;

  // The headers to send with a response whose own headers are `headers` (the
  // application's, or the ones wsgid generated, such as Location): the
  // `always` list first, then `headers` after the onsuccess rules (for
  // kHandler only), as Apache's header filter overlays err_headers_out and
  // headers_out.
  HeaderList apply_response(HeaderList headers, Origin origin) const;

  bool empty() const { return request_.empty() && onsuccess_.empty() && always_.empty(); }
  bool has_request_rules() const { return !request_.empty(); }

 private:
  enum class Action { kSet, kSetIfEmpty, kAdd, kAppend, kMerge, kUnset, kEdit, kEditAll };
  struct Rule {
    Action action = Action::kSet;
    std::string name;
    std::string value;  // for edit: the replacement
    std::optional<Regex> regex;
  };
  static void apply(const std::vector<Rule>& rules, HeaderList* headers);

  std::vector<Rule> request_, onsuccess_, always_;
};

}  // namespace wsgid::rewrite
