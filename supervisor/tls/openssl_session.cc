// One connection's TLS over memory BIOs; see openssl_tls.h.
#include "supervisor/tls/openssl_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/tls1.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>

#include "supervisor/tls/openssl_errors.h"

namespace wsgid::tls {

namespace {

std::string error_text() { return openssl_errors("unknown error"); }

// mod_ssl's DN form (ssl_var_lookup_ssl_cert_dn_oneline without
// LegacyDNStringFormat): X509_NAME_print_ex with XN_FLAG_RFC2253 and UTF-8
// kept as is (no ASN1_STRFLGS_ESC_MSB).
std::string dn_text(const X509_NAME* name) {
  if (!name) return "";
  BIO* b = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<size_t>(n > 0 ? n : 0));
  BIO_free(b);
  return s;
}

std::string pem_of(X509* x) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<size_t>(n > 0 ? n : 0));
  BIO_free(b);
  return s;
}

// The host_name of a server_name extension (RFC 6066 3), "" when malformed.
std::string sni_from_extension(const unsigned char* p, size_t len) {
  if (len < 2) return "";
  size_t list = (static_cast<size_t>(p[0]) << 8) | p[1];
  if (list + 2 != len) return "";
  p += 2;
  len -= 2;
  while (len >= 3) {
    unsigned type = p[0];
    size_t n = (static_cast<size_t>(p[1]) << 8) | p[2];
    if (n + 3 > len) return "";
    if (type == TLSEXT_NAMETYPE_host_name) {
      std::string name(reinterpret_cast<const char*>(p + 3), n);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return name;
    }
    p += 3 + n;
    len -= 3 + n;
  }
  return "";
}

}  // namespace

OpenSslSession::OpenSslSession(SSL_CTX* ctx, Picker picker) : picker_(std::move(picker)) {
  ssl_ = SSL_new(ctx);
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio_, -1);  // "no data yet", never EOF
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_accept_state(ssl_);
  SSL_set_app_data(ssl_, this);
}

OpenSslSession::~OpenSslSession() { SSL_free(ssl_); }

int OpenSslSession::client_hello_cb(SSL* ssl, int* alert, void*) {
  auto* self = static_cast<OpenSslSession*>(SSL_get_app_data(ssl));
  if (!self) return SSL_CLIENT_HELLO_SUCCESS;
  const unsigned char* ext = nullptr;
  size_t len = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) != 1)
    return SSL_CLIENT_HELLO_SUCCESS;
  self->facts_.sni = sni_from_extension(ext, len);
  if (self->facts_.sni.empty() || !self->picker_) return SSL_CLIENT_HELLO_SUCCESS;
  SSL_CTX* ctx = self->picker_(self->facts_.sni);
  if (!ctx || ctx == SSL_get_SSL_CTX(ssl)) return SSL_CLIENT_HELLO_SUCCESS;
  // mod_ssl's ssl_set_vhost_ctx(): the vhost's certificate, and what the
  // connection copied from the first context at SSL_new.
  if (!SSL_set_SSL_CTX(ssl, ctx)) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  SSL_clear_options(ssl, 0xFFFFFFFFFFFFFFFFULL);
  SSL_set_options(ssl, SSL_CTX_get_options(ctx));
  SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(ctx));
  SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(ctx));
  SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx), SSL_CTX_get_verify_callback(ctx));
  SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(ctx));
  if (STACK_OF(X509_NAME)* cas = SSL_CTX_get_client_CA_list(ctx))
    SSL_set_client_CA_list(ssl, SSL_dup_CA_list(cas));
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  std::string list;
  for (int i = 0; ciphers && i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    if (SSL_CIPHER_get_protocol_id(c) >> 8 == 0x13) continue;  // TLSv1.3 suites below
    if (!list.empty()) list += ':';
    list += SSL_CIPHER_get_name(c);
  }
  std::string suites;
  for (int i = 0; ciphers && i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    if (SSL_CIPHER_get_protocol_id(c) >> 8 != 0x13) continue;
    if (!suites.empty()) suites += ':';
    suites += SSL_CIPHER_get_name(c);
  }
  if (!list.empty()) SSL_set_cipher_list(ssl, list.c_str());
  if (!suites.empty()) SSL_set_ciphersuites(ssl, suites.c_str());
  ERR_clear_error();
  return SSL_CLIENT_HELLO_SUCCESS;
}

void OpenSslSession::drain(std::string* wire) {
  char buf[16384];
  int n;
  while ((n = BIO_read(wbio_, buf, sizeof buf)) > 0) wire->append(buf, static_cast<size_t>(n));
}

Status OpenSslSession::receive(const char* data, size_t len, std::string* plain, std::string* wire) {
  while (len > 0) {
    int w = BIO_write(rbio_, data, static_cast<int>(std::min<size_t>(len, 1 << 30)));
    if (w <= 0) return Status::error("TLS: cannot buffer the client's bytes");
    data += w;
    len -= static_cast<size_t>(w);
  }
  if (!done_) {
    int r = SSL_do_handshake(ssl_);
    drain(wire);
    if (r != 1) {
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Status::ok();
      std::string why = "TLS handshake failed: " + error_text();
      ERR_clear_error();
      return Status::error(why);
    }
    done_ = just_done_ = true;
    collect_facts();
    if (!held_.empty()) {
      std::string h;
      h.swap(held_);
      if (Status s = send(h, wire); !s) return s;
    }
  }
  char buf[16384];
  for (;;) {
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      plain->append(buf, static_cast<size_t>(n));
      continue;
    }
    int e = SSL_get_error(ssl_, n);
    drain(wire);  // a key update or session ticket may want to go out
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Status::ok();
    if (e == SSL_ERROR_ZERO_RETURN) return Status::error("TLS: the client closed (close_notify)");
    std::string why = "TLS: " + error_text();
    ERR_clear_error();
    return Status::error(why);
  }
}

Status OpenSslSession::send(std::string_view plain, std::string* wire) {
  if (!done_) {
    held_.append(plain);
    return Status::ok();
  }
  while (!plain.empty()) {
    int n = SSL_write(ssl_, plain.data(), static_cast<int>(std::min<size_t>(plain.size(), 1 << 30)));
    if (n <= 0) {
      std::string why = "TLS: writing failed: " + error_text();
      ERR_clear_error();
      drain(wire);
      return Status::error(why);
    }
    plain.remove_prefix(static_cast<size_t>(n));
  }
  drain(wire);
  return Status::ok();
}

void OpenSslSession::close_notify(std::string* wire) {
  if (notify_sent_ || !done_) return;
  notify_sent_ = true;
  SSL_shutdown(ssl_);
  ERR_clear_error();
  drain(wire);
}

void OpenSslSession::collect_facts() {
  facts_.protocol = SSL_get_version(ssl_);
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl_)) {
    facts_.cipher = SSL_CIPHER_get_name(c);
    facts_.cipher_bits = SSL_CIPHER_get_bits(c, &facts_.cipher_alg_bits);
  }
  facts_.resumed = SSL_session_reused(ssl_) == 1;
  if (X509* own = SSL_get_certificate(ssl_)) {
    facts_.server_s_dn = dn_text(X509_get_subject_name(own));
    facts_.server_i_dn = dn_text(X509_get_issuer_name(own));
  }
  X509* peer = SSL_get1_peer_certificate(ssl_);
  if (!peer) {
    facts_.client_verify = "NONE";
    return;
  }
  long v = SSL_get_verify_result(ssl_);
  facts_.client_verify = v == X509_V_OK ? "SUCCESS"
                                        : std::string("FAILED:") + X509_verify_cert_error_string(v);
  facts_.client_s_dn = dn_text(X509_get_subject_name(peer));
  facts_.client_i_dn = dn_text(X509_get_issuer_name(peer));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(peer), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      facts_.client_serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  facts_.client_cert = pem_of(peer);
  X509_free(peer);
}

}  // namespace wsgid::tls
