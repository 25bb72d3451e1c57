// The SSL_CTX of each TLS server; see openssl_tls.h.
#include "supervisor/tls/openssl_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>

#include "supervisor/tls/openssl_errors.h"
#include "common/strings.h"

namespace wsgid::tls {

namespace {

std::string ssl_errors() { return openssl_errors("no details from OpenSSL"); }

struct ProtocolName {
  const char* name;
  int version;
};
const ProtocolName kVersions[] = {{"SSLv3", SSL3_VERSION},     {"TLSv1", TLS1_VERSION},
                                  {"TLSv1.1", TLS1_1_VERSION}, {"TLSv1.2", TLS1_2_VERSION},
                                  {"TLSv1.3", TLS1_3_VERSION}};

// ALPN: http/1.1 when the client offers it; otherwise no protocol is agreed
// (the client then speaks HTTP/1.1 or gives up), as mod_ssl with Protocols http/1.1.
int alpn_select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
  for (unsigned i = 0; i < inlen;) {
    unsigned n = in[i];
    if (i + 1 + n > inlen) break;
    if (n == sizeof kHttp11 && std::memcmp(in + i + 1, kHttp11, n) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + n;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

Status add_certs(const std::string& pem, const char* what, const std::function<bool(X509*)>& take) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  int n = 0;
  while (X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) {
    ++n;
    if (!take(x)) {
      BIO_free(b);
      return Status::error(std::string(what) + ": " + ssl_errors());
    }
  }
  BIO_free(b);
  ERR_clear_error();
  if (n == 0) return Status::error(std::string(what) + ": no certificate");
  return Status::ok();
}

}  // namespace

Status protocol_range(std::string_view text, int* min_version, int* max_version) {
  // mod_ssl's ssl_cmd_protocol_parse(): "all" adds every protocol, "+X" adds,
  // "-X" removes, a bare name replaces the set.
  unsigned set = 0;
  const unsigned all = (1u << std::size(kVersions)) - 1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view tok = text.substr(pos, end - pos);
    pos = end + 1;
    if (tok.empty()) continue;
    char action = 0;
    if (tok[0] == '+' || tok[0] == '-') {
      action = tok[0];
      tok.remove_prefix(1);
    }
    unsigned bits = 0;
    if (iequals(tok, "SSLv2")) continue;  // gone from OpenSSL; mod_ssl 2.4 ignores it too
    if (iequals(tok, "all")) bits = all;
    for (size_t i = 0; i < std::size(kVersions); ++i)
      if (iequals(tok, kVersions[i].name)) bits = 1u << i;
    if (!bits) return Status::error("SSLProtocol: unknown protocol '" + std::string(tok) + "'");
    if (action == '-') set &= ~bits;
    else if (action == '+') set |= bits;
    else set = bits;
  }
  if (!set) return Status::error("SSLProtocol '" + std::string(text) + "' leaves no protocol");
  int lo = 0, hi = 0;
  for (size_t i = 0; i < std::size(kVersions); ++i) {
    if (!(set & (1u << i))) continue;
    if (!lo) lo = kVersions[i].version;
    hi = kVersions[i].version;
  }
  *min_version = lo;
  *max_version = hi;
  return Status::ok();
}

Result<SSL_CTX*> build_tls_context(const model::TlsSettings& t, const model::TlsMaterial& m) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return Status::error("SSL_CTX_new: " + ssl_errors());
  auto fail = [&](const std::string& why) -> Result<SSL_CTX*> {
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return Status::error(why);
  };
  // The certificate, its chain, the key (the master checked they match).
  bool first = true;
  Status s = add_certs(m.cert_chain, "SSLCertificateFile", [&](X509* x) {
    bool ok = first ? SSL_CTX_use_certificate(ctx, x) == 1 : SSL_CTX_add0_chain_cert(ctx, x) == 1;
    if (first) X509_free(x);
    first = false;
    return ok;
  });
  if (!s) return fail(s.message());
  BIO* kb = BIO_new_mem_buf(m.key.data(), static_cast<int>(m.key.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, const_cast<char*>(""));
  BIO_free(kb);
  if (!key) return fail("SSLCertificateKeyFile: " + ssl_errors());
  int ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return fail("SSLCertificateKeyFile: the key does not match the certificate");
  // Protocols, ciphers, options.
  int lo = 0, hi = 0;
  if (Status p = protocol_range(t.protocol.value_or("all -SSLv3"), &lo, &hi); !p)
    return fail(p.message());
  SSL_CTX_set_min_proto_version(ctx, lo);
  SSL_CTX_set_max_proto_version(ctx, hi);
  if (t.cipher_suite && SSL_CTX_set_cipher_list(ctx, t.cipher_suite->c_str()) != 1)
    return fail("SSLCipherSuite '" + *t.cipher_suite + "': no cipher matches (" + ssl_errors() + ")");
  if (t.cipher_suite_tls13 && SSL_CTX_set_ciphersuites(ctx, t.cipher_suite_tls13->c_str()) != 1)
    return fail("SSLCipherSuite TLSv1.3 '" + *t.cipher_suite_tls13 + "': no cipher suite matches");
  uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
  if (t.honor_cipher_order.value_or(false)) opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  if (!t.session_tickets.value_or(true)) opts |= SSL_OP_NO_TICKET;
  SSL_CTX_set_options(ctx, opts);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_timeout(ctx, t.session_cache_timeout.value_or(300));
  static const unsigned char kSid[] = "wsgid";
  SSL_CTX_set_session_id_context(ctx, kSid, sizeof kSid - 1);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(ctx, alpn_select, nullptr);
  SSL_CTX_set_client_hello_cb(ctx, OpenSslSession::client_hello_cb, nullptr);
  // Client certificates.
  const std::string verify = t.verify_client.value_or("none");
  if (!m.ca.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    Status c = add_certs(m.ca, "SSLCACertificateFile", [&](X509* x) {
      bool good = X509_STORE_add_cert(store, x) == 1 && SSL_CTX_add_client_CA(ctx, x) == 1;
      X509_free(x);
      return good;
    });
    if (!c) return fail(c.message());
  }
  if (verify != "none") {
    int mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
    if (verify == "require") mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
  }
  SSL_CTX_set_verify_depth(ctx, t.verify_depth.value_or(1));
  // SSLOpenSSLConfCmd, last: it may override any of the above.
  if (!t.conf_cmds.empty()) {
    SSL_CONF_CTX* cc = SSL_CONF_CTX_new();
    SSL_CONF_CTX_set_flags(cc, SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_SERVER |
                                   SSL_CONF_FLAG_CERTIFICATE | SSL_CONF_FLAG_SHOW_ERRORS);
    SSL_CONF_CTX_set_ssl_ctx(cc, ctx);
    for (const auto& [name, value] : t.conf_cmds) {
      if (SSL_CONF_cmd(cc, name.c_str(), value.c_str()) <= 0) {
        SSL_CONF_CTX_free(cc);
        return fail("SSLOpenSSLConfCmd " + name + " '" + value + "': " + ssl_errors());
      }
    }
    SSL_CONF_CTX_finish(cc);
    SSL_CONF_CTX_free(cc);
  }
  return ctx;
}

std::shared_ptr<const Contexts> OpenSslContexts::build(const model::FrontendSettings& settings,
                                                       const Contexts* previous_part,
                                                       std::vector<std::string>* errors) {
  // Every Contexts of this process was built here.
  const auto* previous = static_cast<const OpenSslContexts*>(previous_part);
  std::shared_ptr<OpenSslContexts> out(new OpenSslContexts());
  const model::Config& c = settings.config;
  auto one = [&](int index, const model::VirtualHost& v) {
    if (!v.tls.on()) return;
    Entry e;
    e.identity = server_identity(v, index < 0);
    auto mat = settings.tls_material.find(index);
    std::string why;
    if (mat == settings.tls_material.end()) {
      why = "no certificate was loaded for it (see the master's log)";
    } else {
      e.fingerprint = compat_key(v.tls) + mat->second.cert_chain + mat->second.key + mat->second.ca;
      if (previous) {
        // Unchanged since the last settings: keep the context (and its session cache).
        for (const auto& [i, old] : previous->by_index_)
          if (old.identity == e.identity && old.fingerprint == e.fingerprint && old.ctx) {
            SSL_CTX_up_ref(old.ctx);
            e.ctx = old.ctx;
            out->by_index_[index] = std::move(e);
            return;
          }
      }
      auto ctx = build_tls_context(v.tls, mat->second);
      if (ctx) {
        e.ctx = ctx.value();
        out->by_index_[index] = std::move(e);
        return;
      }
      why = ctx.status().message();
    }
    if (previous) {
      for (const auto& [i, old] : previous->by_index_)
        if (old.identity == e.identity && old.ctx) {
          SSL_CTX_up_ref(old.ctx);
          e.ctx = old.ctx;
          e.fingerprint = old.fingerprint;
          out->by_index_[index] = std::move(e);
          errors->push_back(out->by_index_[index].identity + ": " + why +
                            "; the certificate loaded before keeps serving");
          return;
        }
    }
    errors->push_back(e.identity + ": " + why + "; its TLS handshakes will fail");
  };
  one(-1, c.server);
  for (size_t i = 0; i < c.vhosts.size(); ++i) one(static_cast<int>(i), c.vhosts[i]);
  return out;
}

OpenSslContexts::~OpenSslContexts() {
  for (auto& [i, e] : by_index_) SSL_CTX_free(e.ctx);
}

SSL_CTX* OpenSslContexts::context(const model::FrontendSettings& settings, const model::VirtualHost* vh) const {
  const model::Config& c = settings.config;
  int index = -1;
  if (vh && vh != &c.server) {
    if (c.vhosts.empty() || vh < &c.vhosts.front() || vh > &c.vhosts.back()) return nullptr;
    index = static_cast<int>(vh - &c.vhosts.front());
  }
  auto it = by_index_.find(index);
  return it == by_index_.end() ? nullptr : it->second.ctx;
}

}  // namespace wsgid::tls
