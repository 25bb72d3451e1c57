// RewriteStep: the front end's redirects, rewrites and header edits (mod_alias's
// Redirect*, mod_rewrite, mod_headers; issue 11 point 4), built from the
// directives the parser kept as written (config.h, RewriteDirective) into the
// engines of supervisor/rewrite/.
//
// The Router builds one RewriteStep per kSettings, from its own copy of the
// Config, and keeps it beside its tables; a connection reaches it through the
// Router it holds for the request, so a reload never changes the rules under a
// request in flight. Immutable once built; the const methods may run on any
// thread (the front end calls them on its loop thread).
//
// Per request, in Apache's order (mod_rewrite's and mod_alias's translate hooks
// run before any alias maps the URL, https://httpd.apache.org/docs/2.4/mod/mod_alias.html):
//  1. decide(): the virtual host's mod_rewrite rules (with the server's engine
//     state, and its rules under RewriteOptions Inherit), then the own redirect
//     (`Redirect [status] URL`, no URL-path) of the last <Location>/<LocationMatch>
//     matching the URL that has one (Apache's location walk runs before
//     translate_name, whose try_redirect() sees it), then its Redirect*
//     entries followed by the server's (mod_alias's merge puts the vhost's
//     first). The first that answers decides: a redirect (301, 302, 303, 307,
//     308 with Location), 403 ([F]), 410 ([G], Redirect gone), another status
//     a `Redirect 4xx` asked for, or 500 where Apache would have done something
//     wsgid refuses to do.
//  2. headers_for(): the Header and RequestHeader rules of the server, then of
//     the virtual host, then of each <Location>/<LocationMatch> that matches the
//     URL path, server-level sections first (mod_headers appends the rules of a
//     more specific context to the less specific ones). That is what Apache has
//     before the URL is mapped (its location walk runs before translate_name),
//     for the answers of step 1. Once the Router has mapped the URL to a file,
//     section_headers() gives the rules of every section that applies, in
//     Apache's merge order (model::Resolver::sections(): <Directory> shortest
//     first, <DirectoryMatch>, <Files>/<FilesMatch>, then <Location>), so a
//     <Directory> or <Files> section's rules edit the responses served from its
//     files: static files and WSGI scripts.
//  1b. fixup(): once the URL is mapped and the access phase has passed, as
//     mod_alias's fixup_redir(): the own redirect of the last section with one
//     (a <Directory> or <Files> one: a <Location>'s answered in step 1), then
//     the URL-path and regex entries of the sections, the last section's first
//     (merge_alias_dir_config appends the earlier sections' after the later's).
//  3. header_edit.h applies the RequestHeader rules to a copy of the request's
//     header fields before the environ is built (so that the application sees
//     them as HTTP_*), and the Header rules to the response head.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/regex.h"
#include "model/config.h"
#include "supervisor/rewrite/headers.h"
#include "supervisor/rewrite/redirect.h"
#include "supervisor/rewrite/rewrite.h"
#include "supervisor/rewrite/section_redirect.h"

namespace wsgid::frontend {

// What step 1 asks the connection to answer instead of routing the request.
struct RewriteAnswer {
  int status = 0;
  std::string location;  // a redirect's Location; "" for the others
  std::string why;       // for the log
};

class RewriteStep {
 public:
  // config must outlive the RewriteStep (the Router's own copy): the tables are
  // keyed by the addresses of its VirtualHosts. Directives that do not read
  // (the parser has reported them) are left out.
  explicit RewriteStep(const model::Config& config);
  RewriteStep(const RewriteStep&) = delete;
  RewriteStep& operator=(const RewriteStep&) = delete;

  // Step 1 for a request to vh (the server or one of config's vhosts). nullopt:
  // go on to the aliases and the application.
  std::optional<RewriteAnswer> decide(const model::VirtualHost* vh,
                                      const rewrite::RequestView& r) const;

  // Step 1b for a request to vh, with the sections that apply to it
  // (model::Resolver::sections(), merge order). nullopt: go on to the handler.
  std::optional<RewriteAnswer> fixup(const model::VirtualHost* vh,
                                     const std::vector<const model::Block*>& sections,
                                     const rewrite::RequestView& r) const;
  // Whether any section holds Header/RequestHeader rules, or Redirect*: when
  // not, section_headers() adds nothing to headers_for() and fixup() answers
  // nullopt, and the caller need not list the sections.
  bool has_section_headers() const { return !block_headers_.empty(); }
  bool has_section_redirects() const { return !block_redirects_.empty(); }

  // True when vh's mod_rewrite engine is on with rules: decide() then needs
  // the request's headers (RequestView::headers) for %{HTTP_HOST} and the like.
  bool reads_headers(const model::VirtualHost* vh) const;

  // Step 2: the rules for a request to url_path (decoded, normalized) on vh;
  // nullptr when there are none. When <Location> rules apply, they are merged
  // into *scratch, which is returned; else the pointer is into this object.
  const rewrite::HeaderRules* headers_for(const model::VirtualHost* vh, std::string_view url_path,
                                          rewrite::HeaderRules* scratch) const;

  // Step 2 once the URL is mapped: vh's rules, then those of each of sections
  // (pointers into config, in merge order; blocks without rules are skipped).
  // Same return and scratch rules as headers_for().
  const rewrite::HeaderRules* section_headers(const model::VirtualHost* vh,
                                              const std::vector<const model::Block*>& sections,
                                              rewrite::HeaderRules* scratch) const;

 private:
  struct LocationRules {
    const model::Block* block;
    std::optional<Regex> regex;  // <LocationMatch>, <Location ~>
    rewrite::HeaderRules headers;
  };
  struct Tables {
    rewrite::RewriteRules rewrites;
    rewrite::RedirectList redirects;         // the vhost's own, then the server's
    rewrite::HeaderRules headers;            // server's, then the vhost's
    std::vector<LocationRules> locations;    // server's, then the vhost's
  };
  static void read(const std::vector<model::RewriteDirective>& list, Tables* t,
                   rewrite::RedirectList* redirects);
  static void read_locations(const std::vector<model::Block>& blocks, Tables* t);
  void read_blocks(const std::vector<model::Block>& blocks);
  const Tables* tables_for(const model::VirtualHost* vh) const;

  const model::Config& config_;
  std::map<const model::VirtualHost*, Tables> tables_;
  // The Header/RequestHeader rules of every section that has some.
  std::map<const model::Block*, rewrite::HeaderRules> block_headers_;
  // The Redirect* of every section that has some.
  std::map<const model::Block*, rewrite::SectionRedirects> block_redirects_;
};

}  // namespace wsgid::frontend
