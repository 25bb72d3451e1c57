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

// The headers, one pair per name (see the header for the rules).
void add_headers(proto::RequestHeadWriter* w, const RequestHeaders& h, const Route& route,
                 bool chunked, EnvironScratch* scratch) {
  for (size_t i = 0; i < h.size(); ++i) {
    std::string_view name = h.name(i);
    std::string_view value = h.value(i);
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) seen = iequals(h.name(j), name);
    if (seen) continue;
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
    if (iequals(name, "content-type")) {
      w->add("CONTENT_TYPE", value);
      continue;
    }
    if (iequals(name, "content-length")) {
      if (!chunked) w->add("CONTENT_LENGTH", value);
      continue;
    }
    if (iequals(name, "authorization") && !route.pass_authorization) continue;
    if (iequals(name, "proxy")) continue;  // httpoxy
    if (!env_name(name, &scratch->key)) continue;
    w->add(scratch->key, value);
  }
}

// mod_ssl's variables (ssl_engine_kernel.c ssl_hook_Fixup): HTTPS always,
// the rest by SSLOptions.
void add_tls(proto::RequestHeadWriter* w, const EnvironInput& in) {
  const TlsFacts& t = *in.tls;
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

bool append_environ(const EnvironInput& in, const RequestHeaders& headers, const Route& route,
                    uint32_t request_id, EnvironScratch* scratch, std::string* out) {
  proto::RequestHeadWriter w(out, request_id);
  w.add("REQUEST_METHOD", in.method);
  w.add("SCRIPT_NAME", route.script_name);
  w.add("PATH_INFO", route.path_info);
  w.add("QUERY_STRING", in.query);
  w.add("REQUEST_URI", in.request_uri);
  w.add("SERVER_PROTOCOL", in.http10 ? "HTTP/1.0" : "HTTP/1.1");
  w.add("SERVER_SOFTWARE", "wsgid");
  w.add("GATEWAY_INTERFACE", "CGI/1.1");
  w.add("REQUEST_SCHEME", in.tls ? "https" : "http");
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
  w.add("SERVER_NAME", server_name);
  char num[24];
  if (hport.empty()) {
    auto r = std::to_chars(num, num + sizeof num, in.local_port);
    hport = std::string_view(num, static_cast<size_t>(r.ptr - num));
  }
  w.add("SERVER_PORT", hport);
  w.add("SERVER_ADDR", in.local_ip);
  w.add("REMOTE_ADDR", in.remote_ip);
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
  add_headers(&w, headers, route, in.chunked, scratch);
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
