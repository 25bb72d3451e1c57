// append_environ: the request facts -> RequestHeadWriter pairs (see the header).
#include "supervisor/frontend/cgi_environ.h"

#include <charconv>

#include "common/strings.h"
#include "protocol/messages.h"

namespace wsgid::frontend {
namespace {

// Header names become HTTP_ keys; names with '_' are dropped (Apache 2.4 does so
// that "X_Foo" cannot pose as "X-Foo"), as are names with other odd characters.
bool env_name(std::string_view name, std::string* key) {
  key->assign("HTTP_");
  for (char c : name) {
    if (c == '-') key->push_back('_');
    else if ((c >= 'a' && c <= 'z')) key->push_back(static_cast<char>(c - 'a' + 'A'));
    else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) key->push_back(c);
    else return false;
  }
  return true;
}

// SERVER_NAME's host part and SERVER_PORT's text from a Host value.
void split_host(std::string_view host, std::string_view* name, std::string_view* port) {
  *name = host;
  *port = {};
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close != std::string_view::npos) {
      if (close + 1 < host.size() && host[close + 1] == ':') *port = host.substr(close + 2);
      *name = host.substr(0, close + 1);
    }
  } else if (size_t c = host.rfind(':'); c != std::string_view::npos) {
    *port = host.substr(c + 1);
    *name = host.substr(0, c);
  }
}

// The last edit of name, or nullptr.
const HeaderEdit* find_edit(const EnvironEdits* edits, std::string_view name) {
  if (!edits) return nullptr;
  const HeaderEdit* found = nullptr;
  for (const HeaderEdit& e : edits->headers)
    if (iequals(e.name, name)) found = &e;
  return found;
}

// One pair for a field, by the rules of the header.
void add_field(proto::RequestHeadWriter* w, std::string_view name, std::string_view value,
               const Route& route, bool chunked, EnvironScratch* scratch) {
  if (iequals(name, "content-type")) {
    w->add("CONTENT_TYPE", value);
    return;
  }
  if (iequals(name, "content-length")) {
    if (!chunked) w->add("CONTENT_LENGTH", value);
    return;
  }
  if (iequals(name, "authorization") && !route.pass_authorization) return;
  if (iequals(name, "proxy")) return;  // httpoxy
  if (!env_name(name, &scratch->key)) return;
  w->add(scratch->key, value);
}

// The headers, one pair per name (see the header for the rules).
void add_headers(proto::RequestHeadWriter* w, const RequestHeaders& h, const Route& route,
                 bool chunked, const EnvironEdits* edits, EnvironScratch* scratch) {
  for (size_t i = 0; i < h.size(); ++i) {
    std::string_view name = h.name(i);
    std::string_view value = h.value(i);
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) seen = iequals(h.name(j), name);
    if (seen) continue;
    if (const HeaderEdit* e = find_edit(edits, name)) {
      if (e->value) add_field(w, name, *e->value, route, chunked, scratch);
      continue;
    }
    bool repeated = false;
    for (size_t j = i + 1; j < h.size() && !repeated; ++j) repeated = iequals(h.name(j), name);
    if (repeated) {
      scratch->joined.assign(value);
      for (size_t j = i + 1; j < h.size(); ++j)
        if (iequals(h.name(j), name)) {
          scratch->joined.append(", ");
          scratch->joined.append(h.value(j));
        }
      value = scratch->joined;
    }
    add_field(w, name, value, route, chunked, scratch);
  }
  if (!edits) return;
  // Edits that add a field the request did not have, once per name.
  for (size_t k = 0; k < edits->headers.size(); ++k) {
    const HeaderEdit& e = edits->headers[k];
    if (!e.value || find_edit(edits, e.name) != &e) continue;
    bool present = false;
    for (size_t i = 0; i < h.size() && !present; ++i) present = iequals(h.name(i), e.name);
    if (!present) add_field(w, e.name, *e.value, route, chunked, scratch);
  }
}

// mod_ssl's variables (ssl_engine_kernel.c ssl_hook_Fixup): HTTPS always,
// the rest by SSLOptions.
void add_tls(proto::RequestHeadWriter* w, const EnvironInput& in) {
  const wsgid::tls::TlsFacts& t = *in.tls;
  // The connection's own TLS wins over a trusted X-Forwarded-Proto.
  w->add("HTTPS", "on");
  if (in.tls_std_env_vars) {
    char num[24];
    auto add_num = [&](const char* key, int v) {
      auto r = std::to_chars(num, num + sizeof num, v);
      w->add(key, std::string_view(num, static_cast<size_t>(r.ptr - num)));
    };
    w->add("SSL_PROTOCOL", t.protocol);
    w->add("SSL_CIPHER", t.cipher);
    add_num("SSL_CIPHER_USEKEYSIZE", t.cipher_bits);
    add_num("SSL_CIPHER_ALGKEYSIZE", t.cipher_alg_bits);
    w->add("SSL_SESSION_RESUMED", t.resumed ? "Resumed" : "Initial");
    if (!t.sni.empty()) w->add("SSL_TLS_SNI", t.sni);
    w->add("SSL_SERVER_S_DN", t.server_s_dn);
    w->add("SSL_SERVER_I_DN", t.server_i_dn);
    w->add("SSL_CLIENT_VERIFY", t.client_verify);
    if (!t.client_s_dn.empty() || !t.client_cert.empty()) {
      w->add("SSL_CLIENT_S_DN", t.client_s_dn);
      w->add("SSL_CLIENT_I_DN", t.client_i_dn);
      w->add("SSL_CLIENT_M_SERIAL", t.client_serial);
    }
  }
  if (in.tls_export_cert_data && !t.client_cert.empty()) w->add("SSL_CLIENT_CERT", t.client_cert);
}

}  // namespace

void EnvironEdits::set_header(std::string_view name, std::optional<std::string> value) {
  headers.push_back({std::string(name), std::move(value)});
}

std::optional<std::string> environ_header(const RequestHeaders& headers,
                                          const EnvironEdits* edits, std::string_view name) {
  if (const HeaderEdit* e = find_edit(edits, name)) return e->value;
  std::optional<std::string> out;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (!iequals(headers.name(i), name)) continue;
    if (out) out->append(", ");
    else out.emplace();
    out->append(headers.value(i));
  }
  return out;
}

bool append_environ(const EnvironInput& in, const RequestHeaders& headers, const Route& route,
                    uint32_t request_id, EnvironScratch* scratch, std::string* out) {
  proto::RequestHeadWriter w(out, request_id);
  w.add("REQUEST_METHOD", in.method);
  const EnvironEdits* edits = in.edits;
  w.add("SCRIPT_NAME", edits && edits->script_name ? std::string_view(*edits->script_name)
                                                   : std::string_view(route.script_name));
  w.add("PATH_INFO", route.path_info);
  w.add("QUERY_STRING", in.query);
  w.add("REQUEST_URI", in.request_uri);
  w.add("SERVER_PROTOCOL", in.http10 ? "HTTP/1.0" : "HTTP/1.1");
  w.add("SERVER_SOFTWARE", "wsgid");
  w.add("GATEWAY_INTERFACE", "CGI/1.1");
  w.add("REQUEST_SCHEME", in.tls || in.https_scheme ? "https" : "http");
  // SERVER_NAME / SERVER_PORT as Apache with UseCanonicalName Off.
  std::string_view hname, hport;
  split_host(in.host, &hname, &hport);
  std::string& server_name = scratch->server_name;
  server_name.clear();
  if (hname.empty()) {
    const model::VirtualHost* vh = route.vhost;
    if (vh && !vh->server_name.empty()) server_name = vh->server_name;
    else server_name = in.default_server_name;
    if (server_name.empty()) server_name = "localhost";
  } else {
    for (char c : hname) server_name.push_back(lower(c));
  }
  if (edits && edits->server_name) server_name = *edits->server_name;
  w.add("SERVER_NAME", server_name);
  char num[24];
  if (hport.empty()) {
    auto r = std::to_chars(num, num + sizeof num, in.local_port);
    hport = std::string_view(num, static_cast<size_t>(r.ptr - num));
  }
  if (edits && edits->server_port) hport = *edits->server_port;
  w.add("SERVER_PORT", hport);
  w.add("SERVER_ADDR", in.local_ip);
  w.add("REMOTE_ADDR", edits && edits->remote_addr ? std::string_view(*edits->remote_addr)
                                                   : in.remote_ip);
  if (in.https_scheme && !in.tls) w.add("HTTPS", "on");
  else if (edits && edits->https.value_or(false) && !in.tls) w.add("HTTPS", "1");
  {
    char rp[12];
    auto r = std::to_chars(rp, rp + sizeof rp, in.remote_port);
    w.add("REMOTE_PORT", std::string_view(rp, static_cast<size_t>(r.ptr - rp)));
  }
  if (!in.remote_user.empty()) {
    w.add("REMOTE_USER", in.remote_user);
    w.add("AUTH_TYPE", in.auth_type);
  }
  w.add("SCRIPT_FILENAME", route.script_filename);
  if (in.tls) add_tls(&w, in);
  add_headers(&w, headers, route, in.chunked, edits, scratch);
  if (edits && edits->script_name) w.add("mod_wsgi.mount_point", *edits->script_name);
  w.add("mod_wsgi.process_group", route.group_name);
  w.add("mod_wsgi.application_group", route.application_group);
  w.add("mod_wsgi.callable_object", route.callable_object);
  w.add("mod_wsgi.script_reloading", route.script_reloading ? "1" : "0");
  w.add("mod_wsgi.request_id", in.request_id);
  auto r = std::to_chars(num, num + sizeof num, in.request_start_us);
  w.add("wsgid.request_start", std::string_view(num, static_cast<size_t>(r.ptr - num)));
  return w.finish();
}

}  // namespace wsgid::frontend
