// The handlers of mod_alias's Redirect, RedirectMatch, RedirectPermanent and
// RedirectTemp, of mod_rewrite's RewriteEngine, RewriteOptions, RewriteCond,
// RewriteRule, RewriteBase and RewriteMap, and of mod_headers' Header and
// RequestHeader (issue 11 point 4). Each directive is read by the engine of
// supervisor/rewrite/ that will run it in the front end, so that every error
// Apache gives at start-up is given here, with Apache's text; the directive is
// then kept as written in the Config (config.h, RewriteDirective) for the front
// end to read again (supervisor/frontend/rewrite_step.h).
//
// Where they are implemented:
//  - Redirect*: at server level, in <VirtualHost>, and in <Location>,
//    <Directory>, <Files> and their Match forms with mod_alias's per-directory
//    meaning (supervisor/rewrite/section_redirect.h: the form without a
//    URL-path, `Redirect [status] URL`, evaluated before access control in a
//    <Location> and after it elsewhere; the URL-path forms in mod_alias's fixup
//    hook, after access control).
//  - The mod_rewrite directives: at server level and in <VirtualHost>. Inside
//    per-directory sections Apache runs them after the URL is mapped, on a path
//    relative to the directory; wsgid refuses them there.
//  - Header and RequestHeader: at server level, in <VirtualHost>, and in every
//    per-directory section (<Location>, <Directory>, <Files> and their Match
//    forms): the section's rules apply to the requests whose URL, or whose
//    mapped file (a static file, a WSGI script), the section matches, appended
//    to the less specific ones in Apache's merge order (rewrite_step.h).
// mod_rewrite's refusals (an internal rewrite, [P], RewriteMap ...) only count
// while RewriteEngine is On, which is known at the end of the configuration
// (a <VirtualHost> inherits the server's engine state): finish_rewrites() tells
// them then.
#include <map>

#include "supervisor/config/parser_internal.h"
#include "supervisor/config/values.h"
#include "supervisor/rewrite/headers.h"
#include "supervisor/rewrite/redirect.h"
#include "supervisor/rewrite/rewrite.h"
#include "supervisor/rewrite/section_redirect.h"

namespace wsgid::config::detail {

struct Parser::RewriteState {
  std::map<int, rewrite::RewriteRules> rules;  // by vhost index, -1 = server
  std::vector<SourceLoc> tags;                 // the tag given to add() -> where
};

namespace {

model::RewriteDirective keep(const Directive& d, const char* name) {
  model::RewriteDirective r;
  r.loc = d.loc;
  r.name = name;
  for (const Arg& a : d.args) r.args.push_back(a.text);
  return r;
}

}  // namespace

void Parser::d_redirect(const Directive& d, Scope& s) {
  const char* name = find_directive(d.name)->name;
  model::RewriteDirective r = keep(d, name);
  if (s.ctx == kDir) {
    // mod_alias's per-directory forms (section_redirect.h).
    rewrite::SectionRedirects check;
    if (Status st = check.add(name, r.args); !st) {
      diags_->error(d.loc, st.message());
      return;
    }
    s.section_rewrite->push_back(std::move(r));
    return;
  }
  rewrite::RedirectList check;
  if (Status st = check.add(name, r.args); !st) {
    diags_->error(d.loc, st.message());
    return;
  }
  s.vh->rewrite.push_back(std::move(r));
}

void Parser::d_rewrite(const Directive& d, Scope& s) {
  const char* name = find_directive(d.name)->name;
  if (s.ctx == kDir) {
    diags_->error(d.loc, rewrite::RewriteRules::per_directory_refusal(name, s.section));
    return;
  }
  if (!rewrite_) rewrite_ = std::make_shared<RewriteState>();
  model::RewriteDirective r = keep(d, name);
  int tag = static_cast<int>(rewrite_->tags.size());
  rewrite_->tags.push_back(d.loc);
  if (Status st = rewrite_->rules[s.vhost_index].add(name, r.args, tag); !st) {
    diags_->error(d.loc, st.message());
    return;
  }
  s.vh->rewrite.push_back(std::move(r));
}

void Parser::d_header(const Directive& d, Scope& s) {
  const char* name = find_directive(d.name)->name;
  model::RewriteDirective r = keep(d, name);
  rewrite::HeaderRules check;
  if (Status st = check.add(name, r.args); !st) {
    const std::string& m = st.message();
    diags_->error(d.loc, m.rfind(name, 0) == 0 ? m : std::string(name) + ": " + m);
    return;
  }
  if (s.ctx == kDir) {
    s.section_rewrite->push_back(std::move(r));  // set by section() for every kDir scope
    return;
  }
  s.vh->rewrite.push_back(std::move(r));
}

void Parser::finish_rewrites() {
  if (!rewrite_) return;
  auto report_all = [&](const rewrite::RewriteRules& rules) {
    for (const rewrite::Refusal& f : rules.refusals()) {
      SourceLoc at = f.tag >= 0 && static_cast<size_t>(f.tag) < rewrite_->tags.size()
                         ? rewrite_->tags[static_cast<size_t>(f.tag)]
                         : SourceLoc{};
      diags_->error(at, f.message);
    }
  };
  const rewrite::RewriteRules& server = rewrite_->rules[-1];
  report_all(server);
  for (size_t i = 0; i < config_.vhosts.size(); ++i) {
    rewrite::RewriteRules vh = rewrite_->rules[static_cast<int>(i)];
    vh.inherit_from(server);
    report_all(vh);
  }
}

}  // namespace wsgid::config::detail
