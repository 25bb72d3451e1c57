// Redirects, rewrites and header rules per virtual host; see rewrite_step.h.
#include "supervisor/frontend/rewrite_step.h"

#include "model/resolve.h"

namespace wsgid::frontend {

void RewriteStep::read(const std::vector<model::RewriteDirective>& list, Tables* t,
                       rewrite::RedirectList* redirects) {
  for (const model::RewriteDirective& d : list) {
    // The parser has checked every directive; one that fails here is left out,
    // as it was reported (and refused) there.
    if (rewrite::RedirectList::handles(d.name)) {
      if (redirects) (void)redirects->add(d.name, d.args);
    } else if (rewrite::RewriteRules::handles(d.name)) {
      (void)t->rewrites.add(d.name, d.args);
    } else if (rewrite::HeaderRules::handles(d.name)) {
      (void)t->headers.add(d.name, d.args);
    }
  }
}

void RewriteStep::read_locations(const std::vector<model::Block>& blocks, Tables* t) {
  for (const model::Block& b : blocks) {
    if (b.rewrite.empty()) continue;
    LocationRules l{&b, std::nullopt, {}};
    if (b.is_regex) {
      Result<Regex> re = Regex::compile(b.path);
      if (!re) continue;  // reported by the parser
      l.regex = *re;
    }
    for (const model::RewriteDirective& d : b.rewrite)
      if (rewrite::HeaderRules::handles(d.name)) (void)l.headers.add(d.name, d.args);
    t->locations.push_back(std::move(l));
  }
}

RewriteStep::RewriteStep(const model::Config& config) : config_(config) {
  const model::VirtualHost* server = &config.server;
  Tables& st = tables_[server];
  read(server->rewrite, &st, &st.redirects);
  read_locations(server->locations, &st);
  for (const model::VirtualHost& vh : config.vhosts) {
    Tables& t = tables_[&vh];
    // The server's header rules first; the vhost's own appended (merge order).
    t.headers.merge(st.headers);
    read(vh.rewrite, &t, &t.redirects);
    // mod_alias: the vhost's redirects, then the server's.
    for (const model::RewriteDirective& d : server->rewrite)
      if (rewrite::RedirectList::handles(d.name)) (void)t.redirects.add(d.name, d.args);
    t.rewrites.inherit_from(st.rewrites);
    t.locations = st.locations;
    read_locations(vh.locations, &t);
  }
}

const RewriteStep::Tables* RewriteStep::tables_for(const model::VirtualHost* vh) const {
  auto it = tables_.find(vh ? vh : &config_.server);
  return it == tables_.end() ? nullptr : &it->second;
}

std::optional<RewriteAnswer> RewriteStep::decide(const model::VirtualHost* vh,
                                                 const rewrite::RequestView& r) const {
  const Tables* t = tables_for(vh);
  if (!t) return std::nullopt;
  rewrite::Outcome o = t->rewrites.evaluate(r);
  const char* by = "RewriteRule";
  if (o.kind == rewrite::Outcome::Kind::kNone) {
    o = t->redirects.evaluate(r);
    by = "Redirect";
  }
  RewriteAnswer a;
  switch (o.kind) {
    case rewrite::Outcome::Kind::kNone:
      return std::nullopt;
    case rewrite::Outcome::Kind::kRedirect:
      a.status = o.status;
      a.location = std::move(o.location);
      a.why = std::string("redirected by ") + by;
      break;
    case rewrite::Outcome::Kind::kForbidden:
      a.status = 403;
      a.why = std::string("forbidden by ") + by;
      break;
    case rewrite::Outcome::Kind::kGone:
      a.status = 410;
      a.why = std::string("gone, by ") + by;
      break;
    case rewrite::Outcome::Kind::kStatus:
      a.status = o.status;
      a.why = std::string("status set by ") + by;
      break;
    case rewrite::Outcome::Kind::kServerError:
      a.status = 500;
      a.why = std::string(by) + ": " + o.reason;
      break;
  }
  return a;
}

bool RewriteStep::reads_headers(const model::VirtualHost* vh) const {
  const Tables* t = tables_for(vh);
  return t && t->rewrites.engine_on() && t->rewrites.rule_count() > 0;
}

const rewrite::HeaderRules* RewriteStep::headers_for(const model::VirtualHost* vh,
                                                     std::string_view url_path,
                                                     rewrite::HeaderRules* scratch) const {
  const Tables* t = tables_for(vh);
  if (!t) return nullptr;
  bool merged = false;
  for (const LocationRules& l : t->locations) {
    bool match = l.regex ? l.regex->match(url_path)
                         : model::location_matches(l.block->path, url_path);
    if (!match) continue;
    if (!merged) {
      *scratch = t->headers;
      merged = true;
    }
    scratch->merge(l.headers);
  }
  if (merged) return scratch;
  return t->headers.empty() ? nullptr : &t->headers;
}

}  // namespace wsgid::frontend
