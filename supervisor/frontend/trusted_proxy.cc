// apply_trusted_proxy_headers: mod_wsgi's trusted proxy headers (see the header).
#include "supervisor/frontend/trusted_proxy.h"

#include <optional>

#include "common/strings.h"
#include "model/proxy_headers.h"
#include "supervisor/authz/ip.h"

namespace wsgid::frontend {
namespace {

using model::ProxyHeaderCategory;
using model::ProxyHeaderValue;

constexpr int kCategories = 4;  // kClient .. kScriptName

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

class ProxyList {
 public:
  explicit ProxyList(const std::vector<std::string>& specs) {
    for (const std::string& s : specs) {
      authz::SpecError why;
      if (auto spec = authz::IpSpec::parse(s, &why)) specs_.push_back(*spec);
    }
  }
  // An address (text) that parses and matches one of the specs.
  bool trusts(std::string_view ip) const {
    std::optional<authz::Address> a = authz::Address::parse(ip);
    if (!a) return false;
    for (const authz::IpSpec& s : specs_)
      if (s.matches(*a)) return true;
    return false;
  }

 private:
  std::vector<authz::IpSpec> specs_;
};

// wsgi_process_forwarded_for().
void forwarded_for(std::string_view value, const ProxyList* proxies, EnvironEdits* edits) {
  if (!proxies) {
    // The first item, as the client claims it; X-Forwarded-For is left as is.
    size_t comma = value.find(',');
    std::string_view first = trim(value.substr(0, comma));
    if (!first.empty()) edits->remote_addr = std::string(first);
    return;
  }
  std::vector<std::string_view> items;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    // mod_wsgi skips leading space, then takes the item up to the comma.
    while (!item.empty() && is_space(item.front())) item.remove_prefix(1);
    if (item.empty() && comma == std::string_view::npos) break;
    items.push_back(trim(item));
  }
  if (items.empty()) return;
  int first = -1;
  for (int i = static_cast<int>(items.size()) - 1; i >= 0; --i) {
    if (!proxies->trusts(items[static_cast<size_t>(i)])) break;
    first = i;
  }
  size_t from = first < 0 ? items.size() - 1 : static_cast<size_t>(first > 0 ? first - 1 : 0);
  edits->remote_addr = std::string(items[from]);
  std::string list;
  for (size_t i = from; i < items.size(); ++i) {
    if (i > from) list += ", ";
    list += items[i];
  }
  edits->set_header("X-Forwarded-For", std::move(list));
}

bool word_is(std::string_view v, std::initializer_list<std::string_view> words) {
  for (std::string_view w : words)
    if (iequals(v, w)) return true;
  return false;
}

}  // namespace

void apply_trusted_proxy_headers(const std::vector<std::string>& headers,
                                 const std::vector<std::string>* proxies,
                                 std::string_view remote_addr, const RequestHeaders& request,
                                 EnvironEdits* edits) {
  if (headers.empty()) return;
  std::optional<ProxyList> list;
  if (proxies) list.emplace(*proxies);
  bool trusted = !list || list->trusts(remote_addr);
  bool matched[kCategories] = {};
  const model::ProxyHeaderInfo* used[kCategories] = {};
  for (const std::string& name : headers) {
    const model::ProxyHeaderInfo* info = model::find_proxy_header(name);
    if (!info) continue;  // mod_wsgi knows no such header: no effect
    int cat = static_cast<int>(info->category);
    if (cat < kCategories) matched[cat] = true;
    if (!trusted) continue;
    std::optional<std::string> value = environ_header(request, edits, info->name);
    if (!value) continue;
    switch (info->value) {
      case ProxyHeaderValue::kForwardedFor:
        forwarded_for(*value, list ? &*list : nullptr, edits);
        break;
      case ProxyHeaderValue::kAddress:
        edits->remote_addr = *value;
        break;
      case ProxyHeaderValue::kProto:
        if (iequals(*value, "https")) edits->https = true;
        else if (iequals(*value, "http")) edits->https = false;
        break;
      case ProxyHeaderValue::kFlag:
        if (word_is(*value, {"on", "true", "1"})) edits->https = true;
        else if (word_is(*value, {"off", "false", "0"})) edits->https = false;
        break;
      case ProxyHeaderValue::kHttpHost:
        edits->set_header("Host", *value);
        break;
      case ProxyHeaderValue::kServerName:
        edits->server_name = *value;
        break;
      case ProxyHeaderValue::kServerPort:
        edits->server_port = *value;
        break;
      case ProxyHeaderValue::kScriptName:
        edits->script_name = *value;
        break;
    }
    if (cat < kCategories) used[cat] = info;
  }
  // Knock out the headers of each named category but the one that was used.
  for (const model::ProxyHeaderInfo& h : model::kProxyHeaders) {
    int cat = static_cast<int>(h.category);
    if (cat >= kCategories || !matched[cat] || used[cat] == &h) continue;
    edits->set_header(h.name, std::nullopt);
  }
}

}  // namespace wsgid::frontend
