// HttpConn's redirects, rewrites and header rules (issue 11 point 4): the three
// places where a request meets rewrite_step.h. Kept apart from http_conn.cc,
// which calls them: rewrite_request() after the virtual host is chosen and
// before the Router maps the URL (mod_rewrite's and mod_alias's translate hooks
// run before any alias, as in Apache), environ_headers() when the environ is
// built, edit_head() when a response head is ended.
#include <llhttp.h>

#include <charconv>

#include "supervisor/frontend/http_conn.h"
#include "supervisor/frontend/header_edit.h"
#include "supervisor/frontend/rewrite_step.h"
#include "supervisor/rewrite/url.h"

namespace wsgid::frontend {
namespace {

// Apache's SERVER_NAME and SERVER_PORT with UseCanonicalName Off: the Host
// header's name (lower case) and its port, else the virtual host's ServerName
// (the main server's, then "localhost") and the port the client connected to.
void server_name_port(std::string_view host, const model::VirtualHost* vh,
                      const model::Config& config, int local_port, std::string* name,
                      unsigned* port) {
  *port = static_cast<unsigned>(local_port);
  std::string_view h = host, p;
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    if (close != std::string_view::npos) {
      if (close + 1 < h.size() && h[close + 1] == ':') p = h.substr(close + 2);
      h = h.substr(0, close + 1);
    }
  } else if (size_t c = h.rfind(':'); c != std::string_view::npos) {
    p = h.substr(c + 1);
    h = h.substr(0, c);
  }
  unsigned v = 0;
  if (!p.empty()) {
    auto r = std::from_chars(p.data(), p.data() + p.size(), v);
    if (r.ec == std::errc() && r.ptr == p.data() + p.size() && v > 0 && v < 65536) *port = v;
  }
  name->clear();
  for (char c : h) name->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  if (name->empty() && vh) *name = vh->server_name;
  if (name->empty()) *name = config.server.server_name;
  if (name->empty()) *name = "localhost";
}

}  // namespace

rewrite::RequestView HttpConn::rewrite_view(const model::VirtualHost* vh, std::string_view host,
                                            std::string_view query, bool with_headers,
                                            std::string* name,
                                            rewrite::HeaderList* headers) const {
  unsigned port = 0;
  // Behind nginx's uwsgi_pass, the port clients use is nginx's SERVER_PORT.
  int own_port = local_port_;
  if (!uwsgi_server_port_.empty()) own_port = std::stoi(uwsgi_server_port_);
  server_name_port(host, vh, router_->settings().config, own_port, name, &port);
  if (with_headers) *headers = header_list(request_headers());
  rewrite::RequestView r;
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  r.path = path_;
  r.query = query;
  r.has_query = url().find('?') != std::string_view::npos;
  r.https = tls_ != nullptr || uwsgi_https_;  // %{HTTPS}: TLS, or nginx's uwsgi HTTPS
  r.server_name = *name;
  r.server_port = port;
  r.remote_addr = remote_ip_;
  r.protocol = http10_ ? "HTTP/1.0" : "HTTP/1.1";
  r.headers = headers;
  return r;
}

std::string HttpConn::own_url(std::string_view host, std::string_view path) {
  std::string name;
  rewrite::HeaderList none;
  return rewrite::own_origin(rewrite_view(route_.vhost, host, {}, false, &name, &none)) +
         std::string(path);
}

void HttpConn::answer_rewrite(RewriteAnswer a) {
  if (a.location.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    // A Location that would split the response: never written.
    send_local(500, a.why + ": the Location would hold a line break", false);
    return;
  }
  local_location_ = std::move(a.location);
  send_local(a.status, a.why, false);
}

bool HttpConn::rewrite_request(const model::VirtualHost* vh, std::string_view host,
                               std::string_view query) {
  const RewriteStep& step = router_->rewrites();
  header_rules_ = step.headers_for(vh, path_, &header_scratch_);
  std::string name;
  rewrite::HeaderList headers;
  bool with_headers = step.reads_headers(vh) || step.has_section_redirects();
  rewrite::RequestView r = rewrite_view(vh, host, query, with_headers, &name, &headers);
  std::optional<RewriteAnswer> a = step.decide(vh, r);
  if (!a) return false;
  answer_rewrite(std::move(*a));
  return true;
}

bool HttpConn::section_redirect() {
  if (!router_->rewrites().has_section_redirects()) return false;
  std::string name;
  rewrite::HeaderList headers;
  rewrite::RequestView r =
      rewrite_view(route_.vhost, saved_host_, saved_query_, true, &name, &headers);
  std::optional<RewriteAnswer> a = router_->section_redirect(route_, path_, r);
  if (!a) return false;
  answer_rewrite(std::move(*a));
  return true;
}

RequestHeaders HttpConn::environ_headers() {
  if (!header_rules_ || !header_rules_->has_request_rules()) return request_headers();
  return edit_request_headers(request_headers(), *header_rules_, &edited_head_, &edited_spans_);
}

void HttpConn::edit_head() {
  edit_response_head(&out_, head_start_, *header_rules_,
                     target_ == Target::kLocal ? rewrite::HeaderRules::Origin::kError
                                               : rewrite::HeaderRules::Origin::kHandler);
}

}  // namespace wsgid::frontend
