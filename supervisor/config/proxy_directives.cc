// The directives that say which proxies to believe: mod_wsgi's
// WSGITrustedProxyHeaders and WSGITrustedProxies (what the application sees,
// supervisor/frontend/trusted_proxy.h) and mod_remoteip's RemoteIP* (the client
// address of access control and the access log too, supervisor/frontend/
// remote_ip.h and proxy_protocol.h). Each argument is checked here, so the front
// end never meets one that does not parse.
#include <cstdint>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "model/proxy_headers.h"
#include "supervisor/authz/ip.h"
#include "supervisor/config/parser_internal.h"

namespace wsgid::config::detail {
namespace {

// A header name as mod_wsgi's wsgi_http2env() and Apache take it: letters,
// digits and '-'.
bool header_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  return true;
}

std::string known_proxy_headers() {
  std::string out;
  for (const model::ProxyHeaderInfo& h : model::kProxyHeaders) {
    if (!out.empty()) out += ", ";
    out += h.name;
  }
  return out;
}

// An address or CIDR as apr_ipsubnet_create() takes it, with the message to
// give when it does not parse; "" when it does.
std::string address_problem(const std::string& text, const char* directive) {
  authz::SpecError why;
  if (authz::IpSpec::parse(text, &why)) return "";
  if (why == authz::SpecError::kNotAnAddress)
    return std::string(directive) + ": '" + text +
           "' is not an IP address: wsgid resolves no host names here";
  if (why == authz::SpecError::kBadMask)
    return std::string(directive) + ": '" + text + "' has an invalid netmask or prefix length";
  return std::string(directive) + ": '" + text + "' is not a valid IP address";
}

const char* const kAddressNote =
    "write an address (192.0.2.10, 2001:db8::1) or a network (10.0.0.0/8, 2001:db8::/32)";

}  // namespace

// mod_wsgi's wsgi_set_trusted_proxy_headers: the names add up within a scope;
// mod_wsgi accepts any name, but only those of model/proxy_headers.h do anything.
void Parser::d_trusted_proxy_headers(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGITrustedProxyHeaders", 1, SIZE_MAX)) return;
  std::vector<std::string> names;
  for (const Arg& a : d.args) {
    if (!header_token(a.text)) {
      diags_->error(a.loc,
                    "WSGITrustedProxyHeaders: '" + a.text +
                        "' is not a header name (letters, digits and '-')",
                    {"write the header as the proxy sends it: X-Forwarded-For"});
      return;
    }
    if (const model::ProxyHeaderInfo* h = model::find_proxy_header(a.text)) {
      names.emplace_back(h->name);
    } else {
      std::vector<std::string_view> names;
      for (const model::ProxyHeaderInfo& h : model::kProxyHeaders) names.push_back(h.name);
      std::string_view near = closest(a.text, names);
      diags_->warning(a.loc,
                      "WSGITrustedProxyHeaders: mod_wsgi 4.9 knows no header '" + a.text +
                          "'; it has no effect",
                      {near.empty() ? "the headers it knows: " + known_proxy_headers()
                                    : "did you mean '" + std::string(near) + "'?"});
    }
  }
  trusted_header_lines_.push_back(d.loc);
  if (!s.settings->trusted_proxy_headers) s.settings->trusted_proxy_headers.emplace();
  for (std::string& n : names) s.settings->trusted_proxy_headers->push_back(std::move(n));
}

// mod_wsgi's wsgi_set_trusted_proxies: addresses and networks, adding up within
// a scope.
void Parser::d_trusted_proxies(const Directive& d, Scope& s) {
  if (!nargs(d, "WSGITrustedProxies", 1, SIZE_MAX)) return;
  for (const Arg& a : d.args) {
    std::string problem = address_problem(a.text, "WSGITrustedProxies");
    if (!problem.empty()) {
      diags_->error(a.loc, problem, {kAddressNote});
      return;
    }
  }
  trusted_proxies_seen_ = true;
  if (!s.settings->trusted_proxies) s.settings->trusted_proxies.emplace();
  for (const Arg& a : d.args) s.settings->trusted_proxies->push_back(a.text);
}

// RemoteIPHeader and RemoteIPProxiesHeader: one header name, per server or vhost.
void Parser::d_remoteip_header(const Directive& d, Scope& s) {
  bool proxies = iequals(d.name, "RemoteIPProxiesHeader");
  const char* name = proxies ? "RemoteIPProxiesHeader" : "RemoteIPHeader";
  if (!nargs(d, name, 1, 1)) return;
  const Arg& a = d.args[0];
  if (!header_token(a.text)) {
    diags_->error(a.loc, std::string(name) + ": '" + a.text +
                             "' is not a header name (letters, digits and '-')",
                  {proxies ? "write RemoteIPProxiesHeader X-Forwarded-By"
                           : "write RemoteIPHeader X-Forwarded-For"});
    return;
  }
  (proxies ? s.vh->remoteip_proxies_header : s.vh->remoteip_header) = a.text;
}

// RemoteIPTrustedProxy / RemoteIPInternalProxy: addresses and networks, one list
// per server or vhost (mod_remoteip's proxymatch_ip).
void Parser::d_remoteip_proxy(const Directive& d, Scope& s) {
  bool internal = iequals(d.name, "RemoteIPInternalProxy");
  const char* name = internal ? "RemoteIPInternalProxy" : "RemoteIPTrustedProxy";
  if (!nargs(d, name, 1, SIZE_MAX)) return;
  for (const Arg& a : d.args) {
    std::string problem = address_problem(a.text, name);
    if (!problem.empty()) {
      diags_->error(a.loc, problem, {kAddressNote});
      return;
    }
  }
  if (!s.vh->remoteip_proxies) s.vh->remoteip_proxies.emplace();
  for (const Arg& a : d.args) s.vh->remoteip_proxies->push_back({a.text, internal});
}

// RemoteIPTrustedProxyList / RemoteIPInternalProxyList FILE: the same, one or
// more addresses a line, '#' to the end of a line a comment (mod_remoteip's
// proxylist_read); read now, as Apache reads it at start and on reload.
void Parser::d_remoteip_proxy_list(const Directive& d, Scope& s) {
  bool internal = iequals(d.name, "RemoteIPInternalProxyList");
  const char* name = internal ? "RemoteIPInternalProxyList" : "RemoteIPTrustedProxyList";
  if (!nargs(d, name, 1, 1)) return;
  const Arg& a = d.args[0];
  std::string path = resolve_path(a.text);
  std::ifstream in(path);
  if (!in) {
    diags_->error(a.loc, std::string(name) + ": cannot open '" + path + "'",
                  {"write the path of a readable file with one proxy address or network a line"});
    return;
  }
  std::vector<model::RemoteIPProxySpec> found;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      if (w[0] == '#') break;
      std::string problem = address_problem(w, name);
      if (!problem.empty()) {
        diags_->error(a.loc, problem + " (line " + std::to_string(n) + " of " + path + ")",
                      {kAddressNote});
        return;
      }
      found.push_back({w, internal});
    }
  }
  if (!s.vh->remoteip_proxies) s.vh->remoteip_proxies.emplace();
  for (auto& f : found) s.vh->remoteip_proxies->push_back(std::move(f));
}

// RemoteIPProxyProtocol On|Off (per address:port of the scope: the main
// server's = every Listen) and RemoteIPProxyProtocolExceptions (server-wide
// wherever it is written, as mod_remoteip keeps it on the main server).
void Parser::d_remoteip_proxy_protocol(const Directive& d, Scope& s) {
  if (iequals(d.name, "RemoteIPProxyProtocolExceptions")) {
    if (!nargs(d, "RemoteIPProxyProtocolExceptions", 1, SIZE_MAX)) return;
    for (const Arg& a : d.args) {
      std::string problem = address_problem(a.text, "RemoteIPProxyProtocolExceptions");
      if (!problem.empty()) {
        diags_->error(a.loc, problem, {kAddressNote});
        return;
      }
    }
    for (const Arg& a : d.args) config_.proxy_protocol_exceptions.push_back(a.text);
    return;
  }
  if (!nargs(d, "RemoteIPProxyProtocol", 1, 1)) return;
  if (auto v = on_off(d, "RemoteIPProxyProtocol", d.args[0])) s.vh->remoteip_proxy_protocol = *v;
}

// Ours: the peers a `Listen ... uwsgi` socket accepts (docs/decisions.md 45).
// The first line replaces the default (127.0.0.0/8 and ::1); later lines add.
void Parser::d_uwsgi_trusted_peers(const Directive& d, Scope&) {
  if (!nargs(d, "WSGIUwsgiTrustedPeers", 1, SIZE_MAX)) return;
  for (const Arg& a : d.args) {
    std::string problem = address_problem(a.text, "WSGIUwsgiTrustedPeers");
    if (!problem.empty()) {
      diags_->error(a.loc, problem, {kAddressNote});
      return;
    }
  }
  if (!uwsgi_peers_seen_) config_.uwsgi_trusted_peers.clear();
  uwsgi_peers_seen_ = true;
  for (const Arg& a : d.args) config_.uwsgi_trusted_peers.push_back(a.text);
}

// mod_wsgi trusts every peer when no WSGITrustedProxies is given (kept for
// compatibility): say what that means at each WSGITrustedProxyHeaders line.
void Parser::finish_proxies() {
  if (trusted_proxies_seen_) return;
  for (const SourceLoc& at : trusted_header_lines_)
    diags_->warning(at,
                    "WSGITrustedProxyHeaders without WSGITrustedProxies trusts these headers "
                    "from every client, as mod_wsgi does: any client can set its own "
                    "REMOTE_ADDR and scheme",
                    {"add 'WSGITrustedProxies ADDRESS...' with the address of your proxy "
                     "(127.0.0.1 for a proxy on this machine)"});
}

}  // namespace wsgid::config::detail
