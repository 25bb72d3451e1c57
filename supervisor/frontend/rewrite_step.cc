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

void RewriteStep::read_blocks(const std::vector<model::Block>& blocks) {
  for (const model::Block& b : blocks) {
    rewrite::HeaderRules rules;
    for (const model::RewriteDirective& d : b.rewrite)
      if (rewrite::HeaderRules::handles(d.name)) (void)rules.add(d.name, d.args);
    if (!rules.empty()) block_headers_.emplace(&b, std::move(rules));
    rewrite::SectionRedirects redirects;
    for (const model::RewriteDirective& d : b.rewrite)
      if (rewrite::RedirectList::handles(d.name)) (void)redirects.add(d.name, d.args);
    if (!redirects.empty()) block_redirects_.emplace(&b, std::move(redirects));
  }
}

RewriteStep::RewriteStep(const model::Config& config) : config_(config) {
  read_blocks(config.server.locations);
  read_blocks(config.server.directories);
  for (const model::VirtualHost& vh : config.vhosts) {
    read_blocks(vh.locations);
    read_blocks(vh.directories);
  }
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

namespace {

std::optional<RewriteAnswer> answer(rewrite::Outcome o, const char* by);

}  // namespace

std::optional<RewriteAnswer> RewriteStep::decide(const model::VirtualHost* vh,
                                                 const rewrite::RequestView& r) const {
  const Tables* t = tables_for(vh);
  if (!t) return std::nullopt;
  rewrite::Outcome o = t->rewrites.evaluate(r);
  const char* by = "RewriteRule";
  if (o.kind == rewrite::Outcome::Kind::kNone && !block_redirects_.empty()) {
    // The own redirect of the last matching <Location> with one.
    const rewrite::SectionRedirects* own = nullptr;
    for (const LocationRules& l : t->locations) {
      auto it = block_redirects_.find(l.block);
      if (it == block_redirects_.end() || !it->second.has_own()) continue;
      bool match = l.regex ? l.regex->match(r.path) : model::location_matches(l.block->path, r.path);
      if (match) own = &it->second;
    }
    if (own) {
      o = own->evaluate_own(r);
      by = "Redirect in <Location>";
    }
  }
  if (o.kind == rewrite::Outcome::Kind::kNone) {
    o = t->redirects.evaluate(r);
    by = "Redirect";
  }
  return answer(std::move(o), by);
}

std::optional<RewriteAnswer> RewriteStep::fixup(const model::VirtualHost*,
                                                const std::vector<const model::Block*>& sections,
                                                const rewrite::RequestView& r) const {
  if (block_redirects_.empty()) return std::nullopt;
  const rewrite::SectionRedirects* own = nullptr;
  for (const model::Block* b : sections) {
    auto it = block_redirects_.find(b);
    if (it != block_redirects_.end() && it->second.has_own()) own = &it->second;
  }
  if (own) return answer(own->evaluate_own(r), "Redirect in a section");
  for (auto b = sections.rbegin(); b != sections.rend(); ++b) {
    auto it = block_redirects_.find(*b);
    if (it == block_redirects_.end()) continue;
    rewrite::Outcome o = it->second.list().evaluate(r);
    if (o.kind != rewrite::Outcome::Kind::kNone) return answer(std::move(o), "Redirect in a section");
  }
  return std::nullopt;
}

namespace {

std::optional<RewriteAnswer> answer(rewrite::Outcome o, const char* by) {
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

}  // namespace

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

const rewrite::HeaderRules* RewriteStep::section_headers(
    const model::VirtualHost* vh, const std::vector<const model::Block*>& sections,
    rewrite::HeaderRules* scratch) const {
  const Tables* t = tables_for(vh);
  if (!t) return nullptr;
  bool merged = false;
  for (const model::Block* b : sections) {
    auto it = block_headers_.find(b);
    if (it == block_headers_.end()) continue;
    if (!merged) {
      *scratch = t->headers;
      merged = true;
    }
    scratch->merge(it->second);
  }
  if (merged) return scratch;
  return t->headers.empty() ? nullptr : &t->headers;
}

}  // namespace wsgid::frontend
