// mod_ssl's directives (issue 13): the Parser handler d_ssl() that fills
// model::TlsSettings of the server or a <VirtualHost>, and SSLRequireSSL of a
// per-directory section; check_tls() decides, once every directive is read,
// which servers speak TLS and on which Listen (Apache's rules), and merges the
// main server's settings into each vhost as mod_ssl merges its server configs.
// The meaning of each directive is mod_ssl's
// (https://httpd.apache.org/docs/2.4/mod/mod_ssl.html); those wsgid does not
// implement are in apache_directives.cc (refused or warned).
#include <set>

#include "supervisor/config/parser_internal.h"
#include "supervisor/config/values.h"
#include "supervisor/tls/tls_part.h"

namespace wsgid::config::detail {

namespace {

// SSLv2 is accepted and means nothing (mod_ssl 2.4 warns that it is gone);
// old configurations say "-SSLv2".
const char* const kProtocols[] = {"all", "SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

// One SSLProtocol token: [+-]NAME with NAME a protocol mod_ssl knows.
bool protocol_token(std::string_view t) {
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) t.remove_prefix(1);
  for (const char* p : kProtocols)
    if (iequals(t, p)) return true;
  return false;
}

}  // namespace

void Parser::d_ssl(const Directive& d, Scope& s) {
  const DirectiveInfo* info = find_directive(d.name);
  const std::string name = info ? info->name : d.name;
  const bool dir = s.ctx == kDir;
  model::TlsSettings& t = s.vh->tls;
  auto path_arg = [&](std::optional<std::string>* field) {
    if (!nargs(d, name.c_str(), 1, 1)) return;
    *field = resolve_path(d.args[0].text);
  };
  if (name == "SSLRequireSSL") {
    if (!nargs(d, name.c_str(), 0, 0)) return;
    s.settings->require_ssl = true;
    return;
  }
  if (name == "SSLOptions") {
    if (!nargs(d, name.c_str(), 1, SIZE_MAX)) return;
    std::optional<bool> std_env, export_cert;
    bool relative = false, absolute = false;
    for (const Arg& a : d.args) {
      std::string_view v = a.text;
      char sign = 0;
      if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
        sign = v[0];
        v.remove_prefix(1);
      }
      (sign ? relative : absolute) = true;
      const bool on = sign != '-';
      if (iequals(v, "StdEnvVars")) {
        std_env = on;
      } else if (iequals(v, "ExportCertData")) {
        export_cert = on;
      } else if (iequals(v, "FakeBasicAuth")) {
        diags_->error(a.loc, "SSLOptions FakeBasicAuth is refused: Apache would take the client "
                             "certificate's subject as the Basic user name, and wsgid does not "
                             "implement it (fail closed)",
                      {"remove FakeBasicAuth and use SSLVerifyClient require with a CA that "
                       "issues only the certificates you let in"});
        return;
      } else if (iequals(v, "StrictRequire")) {
        // What wsgid always does: its SSLRequireSSL answers 403 before any
        // access rule, and Satisfy Any (with which mod_ssl, without
        // StrictRequire, lets other rules override it) is refused.
      } else if (iequals(v, "OptRenegotiate") || iequals(v, "LegacyDNStringFormat")) {
        diags_->warning(a.loc, "SSLOptions " + std::string(v) +
                                   " is not implemented by wsgid; ignored (it only matters for "
                                   "per-directory renegotiation, which wsgid refuses, or for a DN "
                                   "format from before Apache 2.3.2)");
      } else {
        diags_->error(a.loc, "SSLOptions: unknown option '" + a.text + "'",
                      {"mod_ssl's options are StdEnvVars, ExportCertData, FakeBasicAuth, "
                       "StrictRequire, OptRenegotiate, LegacyDNStringFormat"});
        return;
      }
    }
    if (relative && absolute) {
      diags_->error(d.loc, "SSLOptions mixes options with and without '+'/'-'",
                    {"write every option with '+' or '-' (mod_ssl refuses the mix too)"});
      return;
    }
    if (dir) {
      if (!std_env && !export_cert) return;  // nothing per-directory wsgid leaves aside
      diags_->warning(d.loc, "SSLOptions inside <" + s.section +
                                 "> is ignored: wsgid applies SSLOptions per <VirtualHost>",
                      {"write it in the <VirtualHost> (or at server level) to give its "
                       "applications the SSL_* variables"});
      return;
    }
    if (absolute) {
      t.std_env_vars = std_env.value_or(false);
      t.export_cert_data = export_cert.value_or(false);
    } else {
      if (std_env) t.std_env_vars = *std_env;
      if (export_cert) t.export_cert_data = *export_cert;
    }
    return;
  }
  if (dir) {
    // Per-directory SSLVerifyClient, SSLVerifyDepth and SSLCipherSuite make
    // mod_ssl renegotiate the connection (or refuse it) for that path.
    diags_->error(d.loc, name + " inside <" + s.section + "> is refused: mod_ssl would "
                         "renegotiate the TLS connection for this path (to ask for a client "
                         "certificate or other ciphers), and wsgid does not renegotiate",
                  {"move " + name + " into the <VirtualHost>, so that it applies at the handshake"});
    return;
  }
  if (name == "SSLEngine") {
    if (!nargs(d, name.c_str(), 1, 1)) return;
    const std::string& v = d.args[0].text;
    if (iequals(v, "optional")) {
      diags_->error(d.args[0].loc, "SSLEngine optional is refused: it upgrades plain HTTP to "
                                   "TLS (RFC 2817), which no browser does and wsgid does not "
                                   "implement",
                    {"write 'SSLEngine on' on a TLS address"});
      return;
    }
    if (iequals(v, "addr")) {
      diags_->error(d.args[0].loc, "SSLEngine addr is not implemented by wsgid",
                    {"write 'SSLEngine on' in each TLS <VirtualHost>"});
      return;
    }
    if (auto b = on_off(d, name.c_str(), d.args[0])) {
      t.engine = *b;
      t.engine_loc = d.loc;
    }
    return;
  }
  if (name == "SSLCertificateFile") {
    if (t.certificate_file) {
      diags_->error(d.loc, "SSLCertificateFile is given twice here: wsgid serves one certificate "
                           "per server (mod_ssl's second one, for another key type, is not "
                           "implemented)",
                    {"keep one SSLCertificateFile (an RSA or an ECDSA certificate)"});
      return;
    }
    return path_arg(&t.certificate_file);
  }
  if (name == "SSLCertificateKeyFile") return path_arg(&t.certificate_key_file);
  if (name == "SSLCertificateChainFile") return path_arg(&t.certificate_chain_file);
  if (name == "SSLCACertificateFile") return path_arg(&t.ca_certificate_file);
  if (name == "SSLCACertificatePath") return path_arg(&t.ca_certificate_path);
  if (name == "SSLVerifyClient") {
    if (!nargs(d, name.c_str(), 1, 1)) return;
    std::string v = lower(d.args[0].text);
    if (v == "optional_no_ca") {
      diags_->error(d.args[0].loc, "SSLVerifyClient optional_no_ca is refused: it lets in "
                                   "clients whose certificate no CA vouches for, and wsgid does "
                                   "not implement it",
                    {"write 'SSLVerifyClient optional' with SSLCACertificateFile naming the CA"});
      return;
    }
    if (v != "none" && v != "optional" && v != "require") {
      diags_->error(d.args[0].loc, "SSLVerifyClient expects none, optional or require, not '" +
                                       d.args[0].text + "'");
      return;
    }
    t.verify_client = v;
    return;
  }
  if (name == "SSLVerifyDepth") {
    if (!nargs(d, name.c_str(), 1, 1)) return;
    if (auto v = int_arg(d, name.c_str(), d.args[0], 0, 100, "a depth from 0 to 100"))
      t.verify_depth = static_cast<int>(*v);
    return;
  }
  if (name == "SSLProtocol") {
    if (!nargs(d, name.c_str(), 1, SIZE_MAX)) return;
    std::string all;
    for (const Arg& a : d.args) {
      if (!protocol_token(a.text)) {
        diags_->error(a.loc, "SSLProtocol: unknown protocol '" + a.text + "'",
                      {"mod_ssl's protocols are all, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, "
                       "each with an optional '+' or '-'"});
        return;
      }
      if (!all.empty()) all += ' ';
      all += a.text;
    }
    t.protocol = all;
    return;
  }
  if (name == "SSLCipherSuite") {
    if (!nargs(d, name.c_str(), 1, 2)) return;
    if (d.args.size() == 2) {
      const std::string& p = d.args[0].text;
      if (iequals(p, "TLSv1.3")) {
        t.cipher_suite_tls13 = d.args[1].text;
      } else if (iequals(p, "SSL")) {
        t.cipher_suite = d.args[1].text;
      } else {
        diags_->error(d.args[0].loc, "SSLCipherSuite: unknown protocol '" + p + "'",
                      {"write 'SSLCipherSuite TLSv1.3 LIST' or 'SSLCipherSuite [SSL] LIST'"});
      }
      return;
    }
    t.cipher_suite = d.args[0].text;
    return;
  }
  if (name == "SSLHonorCipherOrder" || name == "SSLSessionTickets") {
    if (!nargs(d, name.c_str(), 1, 1)) return;
    if (auto b = on_off(d, name.c_str(), d.args[0]))
      (name == "SSLHonorCipherOrder" ? t.honor_cipher_order : t.session_tickets) = *b;
    return;
  }
  if (name == "SSLSessionCacheTimeout") {
    if (!nargs(d, name.c_str(), 1, 1)) return;
    if (auto v = int_arg(d, name.c_str(), d.args[0], 0, 86400 * 365, "a number of seconds"))
      t.session_cache_timeout = static_cast<int>(*v);
    return;
  }
  if (name == "SSLOpenSSLConfCmd") {
    if (!nargs(d, name.c_str(), 2, 2)) return;
    // OpenSSL answers, from the module a TLS configuration loads anyway
    // (supervisor/tls/tls_part.h).
    std::string why;
    tls::TlsPart* part = tls::load_tls_part(&why);
    if (!part) {
      diags_->error(d.args[0].loc, "SSLOpenSSLConfCmd: cannot ask OpenSSL whether it knows '" +
                                       d.args[0].text + "': " + why,
                    {"install wsgid-tls.so beside wsgid-frontend (meson install does), or set "
                     "WSGID_TLS_MODULE to its path"});
      return;
    }
    if (!part->known_conf_cmd(d.args[0].text)) {
      diags_->error(d.args[0].loc, "SSLOpenSSLConfCmd: OpenSSL has no configuration command '" +
                                       d.args[0].text + "'",
                    {"the commands are OpenSSL's SSL_CONF_cmd names (man SSL_CONF_cmd), e.g. "
                     "Curves, MinProtocol, Options, CipherString"});
      return;
    }
    t.conf_cmds.emplace_back(d.args[0].text, d.args[1].text);
    return;
  }
}

namespace {

// Fields of a vhost's TlsSettings left unset take the main server's (mod_ssl's
// cfgMerge of the server config into each vhost).
void merge_tls(const model::TlsSettings& s, model::TlsSettings* v) {
  if (!v->engine && s.engine) {
    v->engine = s.engine;
    v->engine_loc = s.engine_loc;
  }
  auto m = [](auto& field, const auto& base) {
    if (!field) field = base;
  };
  m(v->certificate_file, s.certificate_file);
  m(v->certificate_key_file, s.certificate_key_file);
  m(v->certificate_chain_file, s.certificate_chain_file);
  m(v->ca_certificate_file, s.ca_certificate_file);
  m(v->ca_certificate_path, s.ca_certificate_path);
  m(v->verify_client, s.verify_client);
  m(v->verify_depth, s.verify_depth);
  m(v->protocol, s.protocol);
  m(v->cipher_suite, s.cipher_suite);
  m(v->cipher_suite_tls13, s.cipher_suite_tls13);
  m(v->honor_cipher_order, s.honor_cipher_order);
  m(v->session_tickets, s.session_tickets);
  m(v->session_cache_timeout, s.session_cache_timeout);
  m(v->std_env_vars, s.std_env_vars);
  m(v->export_cert_data, s.export_cert_data);
  if (v->conf_cmds.empty()) v->conf_cmds = s.conf_cmds;
}

// Whether listen l serves a vhost address a (same port; same host, or either a wildcard).
bool serves(const ListenAddr& l, const ListenAddr& a) {
  if (l.port != a.port) return false;
  return l.host.empty() || a.host.empty() || l.host == a.host || a.host == "*";
}

void check_server_tls(const Config& c, VirtualHost* vh, const std::vector<const ListenAddr*>& ls,
                      Diagnostics* diags) {
  const ListenAddr* https = nullptr;
  const ListenAddr* http = nullptr;
  for (const ListenAddr* l : ls) (l->https() ? https : http) = l;
  model::TlsSettings& t = vh->tls;
  const ListenAddr* any = https ? https : http;
  const SourceLoc at = t.engine ? t.engine_loc : vh->loc.line || !any ? vh->loc : any->loc;
  const std::string what = vh == &c.server ? "the main server" : "this <VirtualHost>";
  if (https && http) {
    diags->error(vh->loc.line ? vh->loc : https->loc,
                 what + " is served on a TLS Listen (" + https->text() + ") and on a plain one (" +
                     http->text() + "): Apache would pick TLS or not per address",
                 {"give TLS and plain HTTP separate <VirtualHost>s"});
    return;
  }
  if (https) {
    if (t.engine && !*t.engine) {
      diags->error(at, "SSLEngine off on a TLS address (Listen " + https->text() +
                           "): wsgid never serves a TLS address in the clear",
                   {"write 'SSLEngine on', or 'Listen " + https->text() + " http' if this port "
                    "really is plain HTTP"});
      return;
    }
    t.engine = true;  // Apache turns it on for an https Listen
  } else if (http && t.on()) {
    diags->error(at, "SSLEngine on for " + what + ", but its Listen " + http->text() +
                         " is plain HTTP",
                 {"write 'Listen " + http->text() + " https' (Apache serves TLS on a Listen "
                  "whose protocol is https, or on port 443)"});
    return;
  }
  if (t.on() && !t.certificate_file) {
    diags->error(at, what + " should be SSL-aware but has no certificate configured",
                 {"write 'SSLCertificateFile /etc/letsencrypt/live/NAME/fullchain.pem' and "
                  "'SSLCertificateKeyFile /etc/letsencrypt/live/NAME/privkey.pem'"});
  }
}

}  // namespace

void check_tls(Config* c, Diagnostics* diags) {
  for (VirtualHost& v : c->vhosts) merge_tls(c->server.tls, &v.tls);
  std::set<const ListenAddr*> covered;
  for (VirtualHost& v : c->vhosts) {
    std::vector<const ListenAddr*> ls;
    for (const ListenAddr& a : v.addrs)
      for (const ListenAddr& l : c->listen)
        if (serves(l, a)) {
          ls.push_back(&l);
          covered.insert(&l);
        }
    check_server_tls(*c, &v, ls, diags);
  }
  std::vector<const ListenAddr*> rest;
  for (const ListenAddr& l : c->listen)
    if (!covered.count(&l)) rest.push_back(&l);
  check_server_tls(*c, &c->server, rest, diags);
}

}  // namespace wsgid::config::detail
