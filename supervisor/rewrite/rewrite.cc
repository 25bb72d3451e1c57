// mod_rewrite's server-context engine, restricted to redirects, [F] and [G];
// see rewrite.h. Apache sources cited: modules/mappers/mod_rewrite.c
// (cmd_rewritecond, cmd_rewriterule, cmd_rewriterule_setflag, parseargline,
// do_expand, lookup_variable, apply_rewrite_cond, apply_rewrite_rule,
// apply_rewrite_list, splitout_queryargs, fully_qualify_uri, reduce_uri,
// escape_absolute_uri, hook_uri2file).
#include "supervisor/rewrite/rewrite.h"

#include <strings.h>

#include <cctype>
#include <cstdlib>

#include "common/strings.h"
#include "supervisor/rewrite/redirect.h"
#include "supervisor/rewrite/url.h"
#include "supervisor/rewrite/variables.h"

namespace wsgid::rewrite {
namespace {

// The captures of the last matched rule pattern ($N) or condition (%N).
struct BackRef {
  bool set = false;
  std::string source;
  std::vector<std::pair<size_t, size_t>> spans;  // begin == npos: unset

  void take(std::string subject, const RegexMatch& m) {
    set = true;
    source = std::move(subject);
    spans.clear();
    for (size_t i = 0; i < m.size(); ++i)
      spans.emplace_back(m.has(i) ? m.begin(i) : std::string::npos, m.end(i));
  }
  std::string_view group(size_t n) const {
    if (!set || n >= spans.size() || spans[n].first == std::string::npos) return {};
    return std::string_view(source).substr(spans[n].first, spans[n].second - spans[n].first);
  }
};

// find_closing_curly(): the '}' closing a "{" at s[0]-1, nested braces counted.
size_t closing_curly(std::string_view s, size_t from) {
  int depth = 1;
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

// The first thing in a TestString or Substitution that wsgid will not expand
// as Apache would ("" if none): ${map:key}, or a %{VAR} it does not provide.
std::string unsupported_expansion(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if ((s[i] != '%' && s[i] != '$') || i + 1 >= s.size() || s[i + 1] != '{') continue;
    size_t end = closing_curly(s, i + 2);
    if (end == std::string_view::npos) continue;
    std::string_view inner = s.substr(i + 2, end - i - 2);
    if (s[i] == '$') {
      if (inner.find(':') != std::string_view::npos)
        return "would look up ${" + std::string(inner) +
               "} in a RewriteMap, which wsgid does not implement";
    } else if (!known_variable(inner)) {
      return "would expand %{" + std::string(inner) +
             "}, a variable wsgid does not provide to rewrite rules";
    }
    i = end;
  }
  return {};
}

// do_expand(): "\c" is c; %{VAR}; $N from the rule, %N from the last matched
// condition (unset: empty). When tracking is given, mirrors the unsafe_qmark
// logic: a '?' that comes from an expansion before any literal '?' makes the
// result unsafe (Apache answers 403 unless [UnsafeAllow3F]).
std::string expand(std::string_view in, const RequestView& r, const BackRef& rule,
                   const BackRef& cond, bool track_qmark, bool qslast, bool* unsafe) {
  std::string out;
  bool tracking = track_qmark;
  auto expanded = [&](std::string_view piece) {
    out += piece;
    if (tracking && piece.find('?') != std::string_view::npos) {
      *unsafe = true;
      if (!qslast) tracking = false;
    }
  };
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\') {
      if (i + 1 < in.size()) ++i;
      out += in[i];
      continue;
    }
    if (c == '?') {
      if (tracking) {
        *unsafe = false;
        if (!qslast) tracking = false;
      }
      out += c;
      continue;
    }
    if ((c == '%' || c == '$') && i + 1 < in.size()) {
      char n = in[i + 1];
      if (n == '{') {
        size_t end = closing_curly(in, i + 2);
        if (end != std::string_view::npos && c == '%') {
          expanded(lookup_variable(in.substr(i + 2, end - i - 2), r));
          i = end;
          continue;
        }
        // "${...}" without ':' and unclosed braces are copied (map uses are refused).
      } else if (std::isdigit(static_cast<unsigned char>(n))) {
        expanded((c == '$' ? rule : cond).group(static_cast<size_t>(n - '0')));
        ++i;
        continue;
      }
    }
    out += c;
  }
  return out;
}

// compare_lexicography(): the longer string is the greater; equal lengths
// compare bytewise.
int compare_lexicography(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() > b.size() ? 1 : -1;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) > static_cast<unsigned char>(b[i]) ? 1 : -1;
  return 0;
}

// The flags field: "[a,b=c, d]" into (key, value) pairs (cmd_parseflagfield).
bool split_flags(std::string_view field, std::vector<std::pair<std::string, std::string>>* out) {
  if (field.size() < 2 || field.front() != '[' || field.back() != ']') return false;
  std::string_view body = field.substr(1, field.size() - 2);
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t comma = body.find(',', pos);
    std::string_view item = body.substr(pos, comma == std::string_view::npos ? body.npos : comma - pos);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) {
      size_t eq = item.find('=');
      out->emplace_back(std::string(item.substr(0, eq)),
                        eq == std::string_view::npos ? "" : std::string(item.substr(eq + 1)));
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return true;
}

// Statuses Apache knows (ap_index_of_response's table, modules/http/http_protocol.c).
bool known_status(int s) {
  static const int kKnown[] = {100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208,
                               226, 300, 301, 302, 303, 304, 305, 306, 307, 308, 400, 401, 402,
                               403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
                               416, 417, 418, 421, 422, 423, 424, 426, 428, 429, 431, 451, 500,
                               501, 502, 503, 504, 505, 506, 507, 508, 510, 511};
  for (int k : kKnown)
    if (k == s) return true;
  return false;
}

std::string quote_args(std::string_view directive, const std::vector<std::string>& args) {
  std::string s(directive);
  for (const std::string& a : args) s += " " + a;
  return s;
}

}  // namespace

bool RewriteRules::handles(std::string_view d) {
  return iequals(d, "RewriteEngine") || iequals(d, "RewriteOptions") ||
         iequals(d, "RewriteCond") || iequals(d, "RewriteRule") || iequals(d, "RewriteBase") ||
         iequals(d, "RewriteMap");
}

std::string RewriteRules::per_directory_refusal(std::string_view directive,
                                                std::string_view section) {
  return std::string(directive) + " in <" + std::string(section) +
         ">: Apache would apply it in per-directory context, after the URL is mapped to a "
         "file, matching the path relative to the directory; wsgid implements mod_rewrite "
         "only at server and <VirtualHost> level";
}

Status RewriteRules::add(std::string_view directive, const std::vector<std::string>& args,
                         int tag) {
  if (iequals(directive, "RewriteEngine")) {
    if (args.size() != 1 || (!iequals(args[0], "on") && !iequals(args[0], "off")))
      return Status::error("RewriteEngine must be On or Off");
    engine_set_ = true;
    engine_on_ = iequals(args[0], "on");
    return Status::ok();
  }
  if (iequals(directive, "RewriteOptions")) {
    if (args.empty()) return Status::error("RewriteOptions requires at least one argument");
    static const char* kKnown[] = {"inheritdown", "inheritdownbefore", "ignoreinherit",
                                   "allownoslash", "allowanyuri", "mergebase",
                                   "ignorecontextinfo", "legacyprefixdocroot",
                                   "longurloptimization", "unsafeprefixstat"};
    for (const std::string& o : args) {
      if (iequals(o, "inherit")) {
        inherit_ = true;
        continue;
      }
      if (iequals(o, "inheritbefore")) {
        inherit_ = inherit_before_ = true;
        continue;
      }
      bool known = false;
      for (const char* k : kKnown) known = known || iequals(o, k);
      if (!known) return Status::error("RewriteOptions: unknown option '" + o + "'");
      refusals_.push_back({tag, "RewriteOptions " + o +
                                    ": Apache would change how rules are inherited or matched; "
                                    "wsgid implements only RewriteOptions Inherit and "
                                    "InheritBefore"});
    }
    return Status::ok();
  }
  if (iequals(directive, "RewriteBase"))
    return Status::error("RewriteBase: only valid in per-directory config files");
  if (iequals(directive, "RewriteMap")) {
    refusals_.push_back({tag, quote_args(directive, args) +
                                  ": Apache would define a lookup map for ${map:key} in "
                                  "rules; wsgid does not implement RewriteMap"});
    return Status::ok();
  }
  if (iequals(directive, "RewriteCond")) return add_cond(args, tag);
  return add_rule(args, tag);
}

Status RewriteRules::add_cond(const std::vector<std::string>& args, int tag) {
  if (args.size() < 2)
    return Status::error("RewriteCond: bad argument line: at least two arguments required");
  Cond c;
  c.input = args[0];
  if (args.size() >= 3) {
    std::vector<std::pair<std::string, std::string>> flags;
    if (!split_flags(args[2], &flags)) return Status::error("RewriteCond: bad flag delimiters");
    for (const auto& [key, val] : flags) {
      if (iequals(key, "nocase") || iequals(key, "NC")) {
        c.nocase = true;
      } else if (iequals(key, "ornext") || iequals(key, "OR")) {
        c.ornext = true;
      } else if (iequals(key, "novary") || iequals(key, "NV")) {
        // Vary is not added (rewrite.h), so [NV] changes nothing.
      } else {
        return Status::error("RewriteCond: unknown flag '" + key + "'");
      }
    }
  }
  std::string_view p = args[1];
  if (!p.empty() && p[0] == '!') {
    c.negate = true;
    p.remove_prefix(1);
  }
  std::string what = "RewriteCond " + args[0] + " " + args[1];
  std::optional<Refusal> refusal;
  if (iequals(c.input, "expr")) {
    refusal = Refusal{tag, what + ": Apache would evaluate an ap_expr expression; wsgid does "
                                  "not implement expr conditions"};
  } else if (p.size() >= 2 && p[0] == '-') {
    if (p.size() == 2 && std::string_view("fsdxhLlUF").find(p[1]) != std::string_view::npos) {
      refusal = Refusal{tag, what + ": Apache would test the file system or run a sub-request "
                                    "(-" + std::string(1, p[1]) +
                                    "); wsgid does not implement file tests in RewriteCond"};
    } else if (p.size() > 3) {
      std::string_view op = p.substr(1, 2);
      std::optional<CondType> t;
      if (op == "lt") t = CondType::kIntLt;
      else if (op == "le") t = CondType::kIntLe;
      else if (op == "eq") t = CondType::kIntEq;
      else if (op == "gt") t = CondType::kIntGt;
      else if (op == "ge") t = CondType::kIntGe;
      else if (op == "ne") {
        t = CondType::kIntEq;
        c.negate = !c.negate;  // !-ne is -eq
      }
      if (t) {
        c.type = *t;
        p.remove_prefix(3);
      }
    }
  } else if (p.size() >= 2) {
    if (p[0] == '>' || p[0] == '<') {
      bool eq = p[1] == '=';
      c.type = p[0] == '>' ? (eq ? CondType::kStrGe : CondType::kStrGt)
                           : (eq ? CondType::kStrLe : CondType::kStrLt);
      p.remove_prefix(eq ? 2 : 1);
    } else if (p[0] == '=') {
      c.type = CondType::kStrEq;
      p.remove_prefix(1);
      if (p == "\"\"") p = {};  // ="" is the empty string
    }
  }
  // mod_rewrite ignores NC (with a warning) on the integer comparisons.
  if (c.type >= CondType::kIntLt) c.nocase = false;
  c.pattern = std::string(p);
  if (!refusal) {
    std::string why = unsupported_expansion(c.input);
    if (!why.empty()) refusal = Refusal{tag, what + ": Apache " + why};
  }
  if (c.type == CondType::kRegex && !refusal) {
    Result<Regex> re = Regex::compile(c.pattern, RegexOptions{c.nocase, true});
    if (!re)
      return Status::error("RewriteCond: cannot compile regular expression '" + c.pattern +
                           "' (" + re.status().message() + ")");
    c.regex = std::move(re.value());
  }
  pending_.push_back({std::move(c), std::move(refusal)});
  return Status::ok();
}

Status RewriteRules::add_rule(const std::vector<std::string>& args, int tag) {
  if (args.size() < 2)
    return Status::error("RewriteRule: bad argument line: at least two arguments required");
  std::vector<PendingCond> conds = std::move(pending_);  // the rule takes the conditions
  pending_.clear();
  Rule rule;
  std::string what = "RewriteRule " + args[0] + " " + args[1];
  if (args.size() >= 3) what += " " + args[2];
  std::vector<std::string> refused;  // "what Apache would have done" pieces
  if (args.size() >= 3) {
    std::vector<std::pair<std::string, std::string>> flags;
    if (!split_flags(args[2], &flags)) return Status::error("RewriteRule: bad flag delimiters");
    for (const auto& [key, val] : flags) {
      std::string k = lower(key);
      if (k == "l" || k == "last" || k == "end") {
        rule.last = true;  // [END] only differs from [L] for internal rewrites
      } else if (k == "nc" || k == "nocase") {
        rule.nocase = true;
      } else if (k == "ne" || k == "noescape") {
        rule.noescape = true;
      } else if (k == "qsa" || k == "qsappend") {
        rule.qsappend = true;
      } else if (k == "qsd" || k == "qsdiscard") {
        rule.qsdiscard = true;
      } else if (k == "qsl" || k == "qslast") {
        rule.qslast = true;
      } else if (k == "unsafeallow3f") {
        rule.allow3f = true;
      } else if (k == "ns" || k == "nosubreq" || k == "dpi" || k == "discardpath" ||
                 k == "discardpathinfo" || k == "unc" || k == "unsafeprefixstat") {
        // No effect in server context without internal rewrites or sub-requests.
      } else if (k == "f" || k == "forbidden") {
        rule.status_rule = rule.nosub = true;
        rule.code = 403;
      } else if (k == "g" || k == "gone") {
        rule.status_rule = rule.nosub = true;
        rule.code = 410;
      } else if (k == "r" || k == "redirect") {
        rule.redirect = true;
        if (!val.empty()) {
          int status = 0;
          if (iequals(val, "permanent")) status = 301;
          else if (iequals(val, "temp")) status = 302;
          else if (iequals(val, "seeother")) status = 303;
          else if (std::isdigit(static_cast<unsigned char>(val[0]))) status = std::atoi(val.c_str());
          if (!known_status(status))
            return Status::error("RewriteRule: invalid HTTP response code '" + val +
                                 "' for flag 'R'");
          if (!is_redirect_status(status)) rule.status_rule = rule.nosub = true;
          rule.code = status;
        }
      } else if (k == "p" || k == "proxy") {
        refused.push_back("would proxy the request through mod_proxy ([P])");
      } else if (k == "pt" || k == "passthrough") {
        refused.push_back("would pass the rewritten URL on to Alias and the other URL "
                          "mappers ([PT], an internal rewrite)");
      } else if (k == "e" || k == "env") {
        refused.push_back("would set the environment variable " + val + " ([E])");
      } else if (k == "co" || k == "cookie") {
        refused.push_back("would set the cookie " + val + " ([CO])");
      } else if (k == "t" || k == "type") {
        refused.push_back("would force the MIME type " + val + " ([T])");
      } else if (k == "h" || k == "handler") {
        refused.push_back("would force the handler " + val + " ([H])");
      } else if (k == "s" || k == "skip") {
        refused.push_back("would skip the next " + val + " rule(s) ([S])");
      } else if (k == "n" || k == "next") {
        refused.push_back("would run the rule set again on the rewritten URL ([N])");
      } else if (k == "c" || k == "chain") {
        refused.push_back("would chain this rule to the next one ([C])");
      } else if (k == "b" || k == "backrefescaping" || k == "bnp" || k == "backrefnoplus" ||
                 k == "bctls" || k == "bne") {
        refused.push_back("would escape the back-references ([" + key + "])");
      } else {
        return Status::error("RewriteRule: unknown flag '" + key + "'");
      }
    }
  }
  std::string_view pattern = args[0];
  if (!pattern.empty() && pattern[0] == '!') {
    rule.negate = true;
    pattern.remove_prefix(1);
  }
  Result<Regex> re = Regex::compile(pattern, RegexOptions{rule.nocase, true});
  if (!re)
    return Status::error("RewriteRule: cannot compile regular expression '" +
                         std::string(pattern) + "' (" + re.status().message() + ")");
  rule.pattern = std::string(pattern);
  rule.regex = std::move(re.value());
  rule.output = args[1];
  if (rule.output == "-") rule.nosub = true;
  if (!rule.output.empty() && rule.output.back() == '?') {
    if (rule.qsappend) {
      rule.qslast = true;
    } else {
      rule.qsnone = true;
      rule.output.pop_back();
    }
  } else if (rule.qsdiscard && rule.output.find('?') == std::string::npos) {
    rule.qsnone = true;
  }

  // Internal rewrites: a substitution that is neither "-", nor under [R], nor
  // an absolute URL (which mod_rewrite turns into a redirect by itself).
  if (!rule.nosub && !rule.redirect && absolute_url_prefix(rule.output) == 0) {
    refused.push_back("would rewrite the request internally to '" + args[1] +
                      "'; wsgid only redirects ([R] or an absolute URL) or answers [F]/[G]");
  }
  std::string why = unsupported_expansion(args[1]);
  if (!why.empty() && !rule.nosub) refused.push_back(why);

  bool any_refused = !refused.empty();
  if (any_refused) {
    std::string msg = what + ": Apache ";
    for (size_t i = 0; i < refused.size(); ++i) msg += (i ? "; and " : "") + refused[i];
    if (msg.find("wsgid") == std::string::npos) msg += "; wsgid does not implement that";
    refusals_.push_back({tag, std::move(msg)});
  }
  for (PendingCond& pc : conds) {
    if (pc.refusal) {
      refusals_.push_back(*pc.refusal);
      any_refused = true;
    }
    rule.conds.push_back(std::move(pc.cond));
  }
  if (!any_refused) rules_.push_back(std::move(rule));
  return Status::ok();
}

void RewriteRules::inherit_from(const RewriteRules& server) {
  if (!engine_set_) engine_on_ = server.engine_on_;
  if (!inherit_) return;
  std::vector<Rule> merged;
  if (inherit_before_) {
    merged = server.rules_;
    merged.insert(merged.end(), rules_.begin(), rules_.end());
  } else {
    merged = rules_;
    merged.insert(merged.end(), server.rules_.begin(), server.rules_.end());
  }
  rules_ = std::move(merged);
  // With the server's engine on, the server reports its own refusals; with it
  // off, they are this vhost's to report (it runs the inherited rules).
  if (!server.engine_on_)
    refusals_.insert(refusals_.end(), server.refusals_.begin(), server.refusals_.end());
}

std::vector<Refusal> RewriteRules::refusals() const {
  if (!engine_on_) return {};
  return refusals_;
}

namespace {

// The condition's test, apply_rewrite_cond(); captures go to *cond when a
// non-negated regex matches.
template <class CondT>
bool test_cond(const CondT& c, const std::string& input, BackRef* cond) {
  bool rc = false;
  auto cmp = [&](int want_min, int want_max) {
    int v = c.nocase ? strcasecmp(input.c_str(), c.pattern.c_str())
                     : compare_lexicography(input, c.pattern);
    v = v < 0 ? -1 : (v > 0 ? 1 : 0);
    return v >= want_min && v <= want_max;
  };
  int a = std::atoi(input.c_str()), b = std::atoi(c.pattern.c_str());
  using T = decltype(c.type);
  switch (c.type) {
    case T::kRegex: {
      RegexMatch m;
      rc = c.regex->match(input, &m);
      if (rc && !c.negate) cond->take(input, m);
      break;
    }
    case T::kStrLt: rc = cmp(-1, -1); break;
    case T::kStrLe: rc = cmp(-1, 0); break;
    case T::kStrEq:
      rc = c.nocase ? strcasecmp(input.c_str(), c.pattern.c_str()) == 0 : input == c.pattern;
      break;
    case T::kStrGt: rc = cmp(1, 1); break;
    case T::kStrGe: rc = cmp(0, 1); break;
    case T::kIntLt: rc = a < b; break;
    case T::kIntLe: rc = a <= b; break;
    case T::kIntEq: rc = a == b; break;
    case T::kIntGt: rc = a > b; break;
    case T::kIntGe: rc = a >= b; break;
  }
  return c.negate ? !rc : rc;
}

// splitout_queryargs(): takes the query string out of *url into *args.
template <class RuleT>
void split_query(const RuleT& rule, std::string* url, std::optional<std::string>* args) {
  if (rule.qsnone) {
    args->reset();
    return;
  }
  bool supports_query = false;
  size_t skip = absolute_url_prefix(*url, &supports_query);
  if (skip > 0 && !supports_query) {
    args->reset();
    return;
  }
  if (rule.qsdiscard) args->reset();
  size_t q = rule.qslast ? url->rfind('?') : url->find('?', skip);
  if (q == std::string::npos || q < skip) return;
  std::string qs = url->substr(q + 1);
  url->resize(q);
  if (rule.qsappend) {
    if (!qs.empty()) *args = qs + "&" + (args->has_value() ? **args : std::string());
  } else {
    *args = qs;
  }
  if (args->has_value()) {
    if ((*args)->empty()) args->reset();
    else if ((*args)->back() == '&') (*args)->pop_back();
  }
}

// escape_absolute_uri(): the part after "scheme://host/" (or after "mailto:")
// is escaped; the ldap:// special case is left out (no redirect uses it).
std::string escape_absolute(const std::string& url, size_t scheme) {
  size_t cp = scheme;
  if (url[cp - 1] == '/') {
    while (cp < url.size() && url[cp] != '/') ++cp;
    if (cp >= url.size() || cp + 1 >= url.size()) return url;
    ++cp;
  }
  return url.substr(0, cp) + escape_uri(url.substr(cp));
}

// reduce_uri(): does url name this server (same scheme, a name the request
// reached it by, same port)? Returns the local path it reduces to, if so.
std::optional<std::string> reduce(const std::string& url, const RequestView& r) {
  std::string scheme = r.https ? "https://" : "http://";
  if (url.size() <= scheme.size() || !iequals(std::string_view(url).substr(0, scheme.size()), scheme))
    return std::nullopt;
  size_t h = scheme.size(), cp = h;
  while (cp < url.size() && url[cp] != '/' && url[cp] != ':') ++cp;
  std::string host = url.substr(h, cp - h);
  unsigned port = r.https ? 443 : 80;
  std::string path = "/";
  if (cp < url.size() && url[cp] == ':') {
    size_t pe = url.find('/', cp);
    port = static_cast<unsigned>(std::atoi(url.substr(cp + 1, pe - cp - 1).c_str()));
    if (pe != std::string::npos) path = url.substr(pe);
  } else if (cp < url.size()) {
    path = url.substr(cp);
  }
  std::string_view host_header = header(r, "Host");
  host_header = host_header.substr(0, host_header.rfind(':') == std::string_view::npos ||
                                              host_header.back() == ']'
                                          ? host_header.size()
                                          : host_header.rfind(':'));
  bool ours = iequals(host, r.server_name) || (!host_header.empty() && iequals(host, host_header));
  if (!ours || port != r.server_port) return std::nullopt;
  return path;
}

bool has_ctl_or_space(std::string_view s) {
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

Outcome RewriteRules::evaluate(const RequestView& r) const {
  Outcome o;
  if (!engine_on_ || rules_.empty() || r.path.empty() || r.path[0] != '/') return o;
  std::string filename(r.path);
  std::optional<std::string> args;
  if (r.has_query) args = std::string(r.query);
  const std::optional<std::string> original_args = args;
  bool changed = false, noescape = false;
  int status = 0;

  for (const Rule& rule : rules_) {
    RegexMatch m;
    std::string subject = filename;
    bool matched = rule.regex->match(subject, &m);
    if (matched == rule.negate) continue;
    BackRef rule_ref, cond_ref;
    if (!rule.negate) rule_ref.take(subject, m);

    bool ok = true;
    for (size_t i = 0; i < rule.conds.size(); ++i) {
      const Cond& c = rule.conds[i];
      bool unused = false;
      std::string input = expand(c.input, r, rule_ref, cond_ref, false, false, &unused);
      bool rc = test_cond(c, input, &cond_ref);
      if (c.ornext) {
        if (!rc) continue;
        // True: skip the rest of this OR chain.
        while (i < rule.conds.size() && rule.conds[i].ornext) ++i;
      } else if (!rc) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;

    if (rule.nosub) {
      if (rule.status_rule) {
        if (args && has_ctl_or_space(*args)) {  // hook_uri2file's check comes first
          o.kind = Outcome::Kind::kForbidden;
          o.status = 403;
          o.reason = "Rewritten query string contains control characters or spaces";
          return o;
        }
        o.status = rule.code;
        o.kind = rule.code == 403   ? Outcome::Kind::kForbidden
                 : rule.code == 410 ? Outcome::Kind::kGone
                                    : Outcome::Kind::kStatus;
        return o;
      }
      if (rule.last) break;
      continue;
    }

    bool unsafe = false;
    std::string newuri =
        expand(rule.output, r, rule_ref, cond_ref, !rule.allow3f, rule.qslast, &unsafe);
    if (unsafe) {
      o.kind = Outcome::Kind::kForbidden;
      o.status = 403;
      o.reason = "Unsafe URL with %3f URL rewritten without UnsafeAllow3F";
      return o;
    }
    filename = std::move(newuri);
    split_query(rule, &filename, &args);
    if (rule.redirect) {
      // fully_qualify_uri()
      if (absolute_url_prefix(filename) == 0)
        filename = own_origin(r) + (filename.empty() || filename[0] != '/' ? "/" : "") + filename;
      status = rule.code;
    } else {
      std::optional<std::string> local = reduce(filename, r);
      if (local) {
        o.kind = Outcome::Kind::kServerError;
        o.status = 500;
        o.reason = "RewriteRule " + rule.pattern + " " + rule.output + ": '" + filename +
                   "' names this server, so Apache would rewrite the request internally to '" +
                   *local + "' (add [R] to redirect); wsgid does not rewrite internally";
        return o;
      }
      status = rule.code;
    }
    changed = true;
    noescape = rule.noescape;
    if (rule.last) break;
  }
  if (!changed) return o;

  // hook_uri2file(): the result is an absolute URL (internal results were
  // refused above).
  size_t skip = absolute_url_prefix(filename);
  bool will_escape = skip > 0 && !noescape;
  if (args && !will_escape && has_ctl_or_space(*args)) {
    o.kind = Outcome::Kind::kForbidden;
    o.status = 403;
    o.reason = "Rewritten query string contains control characters or spaces";
    return o;
  }
  if (skip == 0) {
    o.kind = Outcome::Kind::kServerError;
    o.status = 500;
    o.reason = "rewritten to '" + filename + "', which is not a URL";
    return o;
  }
  if (!noescape) filename = escape_absolute(filename, skip);
  if (args) {
    bool copy = noescape || (original_args && *args == *original_args);
    filename += "?" + (copy ? *args : escape_uri(*args));
  }
  o.kind = Outcome::Kind::kRedirect;
  o.status = is_redirect_status(status) ? status : 302;
  o.location = std::move(filename);
  return o;
}

}  // namespace wsgid::rewrite
