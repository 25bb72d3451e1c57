// mod_headers; see headers.h. Apache sources cited: modules/metadata/mod_headers.c
// (header_cmd, header_inout_cmd, parse_format_tag, parse_misc_string,
// do_headers_fixup, process_regexp, ap_headers_output_filter,
// ap_headers_error_filter), and APR's tables (apr_table_setn, apr_table_mergen:
// case-insensitive names; set replaces the first and drops the others; merge
// appends ", value" to the first).
#include "supervisor/rewrite/headers.h"

#include <cctype>
#include <cstring>

#include "common/strings.h"

namespace wsgid::rewrite {
namespace {

// parse_format_string(): literal text with \\ \r \n \t escapes, "%%" and a
// final "%"; any other tag is an error (Apache's text for unknown tags).
Result<std::string> parse_value(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      char n = s[i + 1];
      if (n == '\\' || n == 'r' || n == 'n' || n == 't') {
        out += n == '\\' ? '\\' : n == 'r' ? '\r' : n == 'n' ? '\n' : '\t';
        ++i;
        continue;
      }
      out += c;  // copied verbatim, the next character too
      continue;
    }
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 1 >= s.size() || s[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    size_t t = i + 1;
    if (s[t] == '{') {
      size_t close = s.find('}', t);
      t = close == std::string_view::npos ? s.size() : close + 1;
    }
    char tag = t < s.size() ? s[t] : '\0';
    static const char* kKnown = "tDlibes";
    if (tag == '\0' || std::strchr(kKnown, tag) == nullptr)
      return Status::error(std::string("Unrecognized header format %") + tag);
    return Status::error(std::string("the header format %") + tag +
                         " would have Apache insert request data (time, duration, load, an "
                         "environment or SSL variable); wsgid does not implement header formats");
  }
  if (out.find_first_of("\r\n") != std::string::npos)
    return Status::error("a header value with a line break would split the header; wsgid "
                         "refuses it");
  return out;
}

// ap_pregsub(): $N and \c.
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

// process_regexp(): the first match replaced, or every match for edit*, with
// PCRE2's rule after an empty match (as pcre2_substitute and Perl's /g).
std::string edit_value(const Regex& re, std::string_view value, std::string_view repl, bool all) {
  RegexMatch m;
  if (!re.match(value, &m)) return std::string(value);
  std::string out(value.substr(0, m.begin(0)));
  out += pregsub(repl, m);
  size_t offset = m.end(0);
  if (all) {
    size_t match_start = m.begin(0);
    while (offset < value.size()) {
      bool after_empty = match_start == offset;
      RegexMatch n;
      if (!re.match(value, &n, offset, after_empty, after_empty)) {
        if (!after_empty) break;
        out += value[offset++];
        continue;
      }
      out += value.substr(offset, n.begin(0) - offset);
      out += pregsub(repl, n);
      offset = n.end(0);
      match_start = n.begin(0);
    }
  }
  if (offset < value.size()) out += value.substr(offset);
  return out;
}

HeaderList::iterator find(HeaderList* h, std::string_view name) {
  for (auto it = h->begin(); it != h->end(); ++it)
    if (iequals(it->first, name)) return it;
  return h->end();
}

void unset(HeaderList* h, std::string_view name) {
  std::erase_if(*h, [&](const auto& kv) { return iequals(kv.first, name); });
}

// The merge action's token test (a modified ap_get_token() in mod_headers):
// is `v` already one of the comma-separated tokens of `list` (quotes kept)?
bool has_token(std::string_view list, std::string_view v) {
  size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && std::isspace(static_cast<unsigned char>(list[i]))) ++i;
    size_t start = i;
    while (i < list.size() && list[i] != ',') {
      if (list[i++] == '"') {
        while (i < list.size())
          if (list[i++] == '"') break;
      }
    }
    if (list.substr(start, i - start) == v) return true;
    if (i < list.size()) ++i;
  }
  return false;
}

}  // namespace

bool HeaderRules::handles(std::string_view d) {
  return iequals(d, "Header") || iequals(d, "RequestHeader");
}

Status HeaderRules::add(std::string_view directive, const std::vector<std::string>& args) {
  const bool response = iequals(directive, "Header");
  size_t i = 0;
  auto next = [&]() -> const std::string* { return i < args.size() ? &args[i++] : nullptr; };
  static const std::string kEmpty;
  const std::string* action = next();
  if (action == nullptr) action = &kEmpty;
  bool always = false;
  if (response && iequals(*action, "always")) {
    always = true;
    action = next();
    if (action == nullptr) action = &kEmpty;
  } else if (response && iequals(*action, "onsuccess")) {
    action = next();
    if (action == nullptr) action = &kEmpty;
  }
  const std::string* hdr = next();
  const std::string* value = next();
  const std::string* subs = next();
  const std::string* envclause = next();
  if (i < args.size()) return Status::error(std::string(directive) + " has too many arguments");

  Rule rule;
  const std::string& a = *action;
  if (iequals(a, "set")) rule.action = Action::kSet;
  else if (iequals(a, "setifempty")) rule.action = Action::kSetIfEmpty;
  else if (iequals(a, "add")) rule.action = Action::kAdd;
  else if (iequals(a, "append")) rule.action = Action::kAppend;
  else if (iequals(a, "merge")) rule.action = Action::kMerge;
  else if (iequals(a, "unset")) rule.action = Action::kUnset;
  else if (iequals(a, "edit")) rule.action = Action::kEdit;
  else if (iequals(a, "edit*")) rule.action = Action::kEditAll;
  else if (iequals(a, "echo") || iequals(a, "note"))
    return Status::error(std::string(directive) + " " + a + ": Apache would " +
                         (iequals(a, "echo") ? "copy matching request headers into the response"
                                             : "copy the header into a request note") +
                         "; wsgid does not implement " + a);
  else
    return Status::error(
        "first argument must be 'add', 'set', 'setifempty', 'append', 'merge', 'unset', "
        "'echo', 'note', 'edit', or 'edit*'.");

  const bool edit = rule.action == Action::kEdit || rule.action == Action::kEditAll;
  if (edit) {
    if (subs == nullptr) return Status::error("Header edit requires a match and a substitution");
    Result<Regex> re = Regex::compile(value != nullptr ? *value : kEmpty);
    if (!re)
      return Status::error("Header edit regex could not be compiled (" + re.status().message() +
                           ")");
    rule.regex = std::move(re.value());
  } else {
    if (envclause != nullptr) return Status::error("Too many arguments to directive");
    envclause = subs;
  }
  if (rule.action == Action::kUnset) {
    if (value != nullptr) {
      if (envclause != nullptr) return Status::error("header unset takes two arguments");
      envclause = value;
      value = nullptr;
    }
  } else if (value == nullptr) {
    return Status::error("Header requires three arguments");
  }
  if (envclause != nullptr) {
    const std::string& e = *envclause;
    if (iequals(e, "early"))
      return Status::error(std::string(directive) +
                           " ... early: Apache would apply it before the request is mapped; "
                           "wsgid does not implement early headers");
    if (istarts_with(e, "env=") || istarts_with(e, "expr="))
      return Status::error(std::string(directive) + " ... " + e +
                           ": Apache would apply the rule only when the condition holds; "
                           "wsgid does not implement env= and expr= conditions");
    return Status::error("Unknown parameter: " + e);
  }
  rule.name = hdr != nullptr ? *hdr : kEmpty;
  if (size_t colon = rule.name.find(':'); colon != std::string::npos) rule.name.resize(colon);

  if (rule.action != Action::kUnset) {
    std::string_view fmt = edit ? std::string_view(*subs) : std::string_view(*value);
    if (istarts_with(fmt, "expr="))
      return Status::error(std::string(directive) + " " + rule.name +
                           " expr=...: Apache would compute the value from an expression; "
                           "wsgid does not implement value expressions");
    Result<std::string> v = parse_value(fmt);
    if (!v) return v.status();
    rule.value = std::move(v.value());
  }
  (response ? (always ? always_ : onsuccess_) : request_).push_back(std::move(rule));
  return Status::ok();
}

void HeaderRules::merge(const HeaderRules& more) {
  request_.insert(request_.end(), more.request_.begin(), more.request_.end());
  onsuccess_.insert(onsuccess_.end(), more.onsuccess_.begin(), more.onsuccess_.end());
  always_.insert(always_.end(), more.always_.begin(), more.always_.end());
}

void HeaderRules::apply(const std::vector<Rule>& rules, HeaderList* h) {
  for (const Rule& r : rules) {
    auto first = find(h, r.name);
    switch (r.action) {
      case Action::kAdd:
        h->emplace_back(r.name, r.value);
        break;
      case Action::kAppend:
        if (first == h->end()) h->emplace_back(r.name, r.value);
        else first->second += ", " + r.value;
        break;
      case Action::kMerge:
        if (first == h->end()) h->emplace_back(r.name, r.value);
        else if (!has_token(first->second, r.value)) first->second += ", " + r.value;
        break;
      case Action::kSet:
        if (first == h->end()) {
          h->emplace_back(r.name, r.value);
        } else {
          first->second = r.value;
          size_t keep = static_cast<size_t>(first - h->begin());
          size_t idx = 0;
          std::erase_if(*h, [&](const auto& kv) {
            return idx++ != keep && iequals(kv.first, r.name);
          });
        }
        break;
      case Action::kSetIfEmpty:
        if (first == h->end()) h->emplace_back(r.name, r.value);
        break;
      case Action::kUnset:
        unset(h, r.name);
        break;
      case Action::kEdit:
      case Action::kEditAll: {
        if (first == h->end()) break;
        HeaderList edited;
        for (const auto& [k, v] : *h)
          if (iequals(k, r.name))
            edited.emplace_back(k, edit_value(*r.regex, v, r.value, r.action == Action::kEditAll));
        unset(h, r.name);
        h->insert(h->end(), edited.begin(), edited.end());
        break;
      }
    }
  }
}

void HeaderRules::apply_request(HeaderList* headers) const { apply(request_, headers); }

HeaderList HeaderRules::apply_response(HeaderList headers, Origin origin) const {
  HeaderList err;
  apply(always_, &err);
  if (origin == Origin::kHandler) apply(onsuccess_, &headers);
  err.insert(err.end(), headers.begin(), headers.end());
  return err;
}

}  // namespace wsgid::rewrite
