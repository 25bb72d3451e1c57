// mod_alias's redirects; see redirect.h. Apache sources cited:
// modules/mappers/mod_alias.c (add_redirect_internal, alias_matches,
// try_alias_list, translate_alias_redir), server/util.c (ap_pregsub).
#include "supervisor/rewrite/redirect.h"

#include <cctype>
#include <cstdlib>

#include "common/strings.h"
#include "supervisor/rewrite/url.h"

namespace wsgid::rewrite {
namespace {


// Apache's alias_matches(): the number of bytes of uri the URL-path matched,
// 0 for no match. Runs of '/' match runs of '/'; the last segment must match
// whole.
size_t alias_matches(std::string_view uri, std::string_view alias) {
  size_t a = 0, u = 0;
  while (a < alias.size()) {
    if (alias[a] == '/') {
      if (u >= uri.size() || uri[u] != '/') return 0;
      while (a < alias.size() && alias[a] == '/') ++a;
      while (u < uri.size() && uri[u] == '/') ++u;
    } else {
      if (u >= uri.size() || uri[u] != alias[a]) return 0;
      ++u;
      ++a;
    }
  }
  if (!alias.empty() && alias.back() != '/' && u < uri.size() && uri[u] != '/') return 0;
  return u;
}

// ap_pregsub(): $0-$9 are captures (an unset one is empty), "\c" is c.
std::string pregsub(std::string_view tmpl, const RegexMatch& m) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c == '$' && i + 1 < tmpl.size() && std::isdigit(static_cast<unsigned char>(tmpl[i + 1]))) {
      out += m.group(static_cast<size_t>(tmpl[++i] - '0'));
      continue;
    }
    if (c == '\\' && i + 1 < tmpl.size()) c = tmpl[++i];
    out += c;
  }
  return out;
}

std::string arity_error(std::string_view directive) {
  std::string d(directive);
  if (iequals(directive, "Redirect"))
    return d + " takes one, two or three arguments, an optional status, then document to be "
               "redirected and destination URL";
  if (iequals(directive, "RedirectMatch"))
    return d + " takes two or three arguments, an optional status, then a regular expression "
               "and destination URL";
  return d + " takes two arguments, a document to be redirected, then the destination URL";
}

}  // namespace

// try_alias_list() for a redirect: escape all but the query and fragment
// (apr_uri_parse + apr_uri_unparse(OMITQUERY) + ap_escape_uri).
std::string escape_redirect_target(std::string_view found) {
  size_t cut = found.find_first_of("?#");
  std::string out = escape_uri(found.substr(0, cut));
  if (cut == std::string_view::npos) return out;
  std::string_view rest = found.substr(cut);
  if (rest[0] == '?') {
    size_t hash = rest.find('#');
    out += rest.substr(0, hash);  // "?query"
    if (hash != std::string_view::npos) out += rest.substr(hash);
  } else {
    out += rest;  // "#fragment"
  }
  return out;
}

bool RedirectList::handles(std::string_view d) {
  return iequals(d, "Redirect") || iequals(d, "RedirectMatch") ||
         iequals(d, "RedirectPermanent") || iequals(d, "RedirectTemp");
}

RedirectStatus read_redirect_status(std::string_view directive, const std::string& a1) {
  RedirectStatus r{iequals(directive, "RedirectPermanent") ? 301 : 302, 1};
  if (iequals(a1, "permanent")) {
    r.status = 301;
  } else if (iequals(a1, "temp")) {
    r.status = 302;
  } else if (iequals(a1, "seeother")) {
    r.status = 303;
  } else if (iequals(a1, "gone")) {
    r = {410, -1};
  } else if (!a1.empty() && std::isdigit(static_cast<unsigned char>(a1[0]))) {
    r.status = std::atoi(a1.c_str());
    if (!is_redirect_status(r.status)) r.grok = -1;
  } else {
    r.grok = 0;
  }
  return r;
}

Status RedirectList::add(std::string_view directive, const std::vector<std::string>& args) {
  const bool regex = iequals(directive, "RedirectMatch");
  const bool take2 = iequals(directive, "RedirectPermanent") || iequals(directive, "RedirectTemp");
  size_t n = args.size();
  if ((take2 && n != 2) || (regex && (n < 2 || n > 3)) || (!take2 && !regex && (n < 1 || n > 3)))
    return Status::error(arity_error(directive));

  auto [status, grok] = read_redirect_status(directive, args[0]);
  if (n == 3 && grok == 0) return Status::error("Redirect: invalid first argument (of three)");

  const std::string* fake = n >= 2 ? &args[1] : nullptr;
  const std::string* url = n >= 3 ? &args[2] : nullptr;
  if (n < 3 && grok == 0) {
    fake = &args[0];
    url = n >= 2 ? &args[1] : nullptr;
  }
  if (fake == nullptr) return Status::error(std::string(directive) + ": a URL-path is needed");
  if (grok != 0 && !is_redirect_status(status) && (status < 400 || status > 599))
    return Status::error(std::string(directive) + ": status " + std::to_string(status) +
                         " is not a redirect (3xx) nor an error (4xx, 5xx) status");

  Entry e;
  if (regex) {
    Result<Regex> re = Regex::compile(*fake);
    if (!re) {
      return Status::error("Regular expression could not be compiled. (" + re.status().message() +
                           ")");
    }
    e.regex = std::move(re.value());
  }
  if (is_redirect_status(status)) {
    if (url == nullptr) return Status::error("URL to redirect to is missing");
    // PR#35314 in mod_alias: a path is allowed, made absolute per request.
    if (!regex && !is_url(*url) && (*url)[0] != '/') return Status::error("Redirect to non-URL");
  } else if (url != nullptr) {
    return Status::error("Redirect URL not valid for this status");
  }
  e.path = *fake;
  e.has_url = url != nullptr;
  if (url != nullptr) e.url = *url;
  e.status = status;
  entries_.push_back(std::move(e));
  return Status::ok();
}

Outcome RedirectList::evaluate(const RequestView& r) const {
  Outcome o;
  if (!r.path.empty() && r.path[0] != '/') return o;  // translate_alias_redir declines
  for (const Entry& e : entries_) {
    std::string found;
    if (e.regex) {
      RegexMatch m;
      if (!e.regex->match(r.path, &m)) continue;
      if (e.has_url) found = escape_redirect_target(pregsub(e.url, m));
    } else {
      size_t l = alias_matches(r.path, e.path);
      if (l == 0) continue;
      if (e.has_url) found = e.url + escape_uri(r.path.substr(l));
    }
    return redirect_outcome(e.status, std::move(found), r);
  }
  return o;
}

Outcome redirect_outcome(int status, std::string found, const RequestView& r) {
  Outcome o;
  o.status = status;
  if (!is_redirect_status(status)) {
    o.kind = status == 410   ? Outcome::Kind::kGone
             : status == 403 ? Outcome::Kind::kForbidden
                             : Outcome::Kind::kStatus;
    return o;
  }
  // RedirectRelative is Off (Apache's default): a path becomes a URL.
  if (!found.empty() && found[0] == '/') found = own_origin(r) + found;
  if (!is_url(found)) {
    o.kind = Outcome::Kind::kServerError;
    o.status = 500;
    o.reason = "cannot redirect '" + std::string(r.path) + "' to '" + found +
               "'; target is not a valid absoluteURI or abs_path";
    return o;
  }
  if (r.has_query && found.find('?') == std::string::npos) {
    found += '?';
    found += r.query;
  }
  o.kind = Outcome::Kind::kRedirect;
  o.location = std::move(found);
  return o;
}

}  // namespace wsgid::rewrite
