// TlsPart's file checks: each TLS server's certificate, chain, key and CA
// files read and checked (the master's, as root), and SSLOpenSSLConfCmd's
// command names; see openssl_tls.h.
#include <dirent.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "supervisor/tls/openssl_errors.h"
#include "supervisor/tls/openssl_tls.h"

namespace wsgid::tls {

namespace {

Result<std::string> read_file(const std::string& directive, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(directive + " " + path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ssl_error() { return openssl_errors("no PEM data"); }

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
Bio mem_bio(const std::string& s) { return Bio(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())), &BIO_free); }

// The number of certificates in pem (0 with *why set when the first is bad).
int count_certs(const std::string& pem, std::string* why) {
  Bio b = mem_bio(pem);
  int n = 0;
  while (X509* x = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)) {
    X509_free(x);
    ++n;
  }
  if (n == 0) *why = ssl_error();
  ERR_clear_error();
  return n;
}

}  // namespace

Result<model::TlsMaterial> load_tls_files(const model::TlsSettings& t) {
  if (!t.certificate_file) return Status::error("no SSLCertificateFile");
  const std::string& cert_path = *t.certificate_file;
  model::TlsMaterial m;
  auto cert = read_file("SSLCertificateFile", cert_path);
  if (!cert) return cert.status();
  std::string why;
  if (count_certs(*cert, &why) == 0)
    return Status::error("SSLCertificateFile " + cert_path + ": no certificate in it (" + why + ")");
  m.cert_chain = *cert;
  if (t.certificate_chain_file) {
    auto chain = read_file("SSLCertificateChainFile", *t.certificate_chain_file);
    if (!chain) return chain.status();
    if (count_certs(*chain, &why) == 0)
      return Status::error("SSLCertificateChainFile " + *t.certificate_chain_file +
                           ": no certificate in it (" + why + ")");
    if (!m.cert_chain.empty() && m.cert_chain.back() != '\n') m.cert_chain += '\n';
    m.cert_chain += *chain;
  }
  // The key: SSLCertificateKeyFile, else the certificate file (mod_ssl's rule).
  const std::string key_directive = t.certificate_key_file ? "SSLCertificateKeyFile" : "SSLCertificateFile";
  const std::string key_path = t.certificate_key_file.value_or(cert_path);
  auto key = read_file(key_directive, key_path);
  if (!key) return key.status();
  Bio kb = mem_bio(*key);
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, const_cast<char*>(""));
  if (!pkey)
    return Status::error(key_directive + " " + key_path + ": no private key in it, or one with a "
                         "pass phrase (" + ssl_error() + "); wsgid reads unencrypted keys only");
  Bio cb = mem_bio(m.cert_chain);
  X509* leaf = PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr);
  bool match = leaf && X509_check_private_key(leaf, pkey) == 1;
  X509_free(leaf);
  EVP_PKEY_free(pkey);
  ERR_clear_error();
  if (!match)
    return Status::error(key_directive + " " + key_path + ": the key does not match the "
                         "certificate of SSLCertificateFile " + cert_path);
  m.key = *key;
  if (t.ca_certificate_file) {
    auto ca = read_file("SSLCACertificateFile", *t.ca_certificate_file);
    if (!ca) return ca.status();
    if (count_certs(*ca, &why) == 0)
      return Status::error("SSLCACertificateFile " + *t.ca_certificate_file +
                           ": no certificate in it (" + why + ")");
    m.ca = *ca;
  }
  if (t.ca_certificate_path) {
    // Every file of the directory that holds certificates, each content once
    // (c_rehash's hash links point to the same files).
    std::set<std::string> seen;
    DIR* d = opendir(t.ca_certificate_path->c_str());
    if (!d)
      return Status::error("SSLCACertificatePath " + *t.ca_certificate_path + ": " +
                           std::strerror(errno));
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      auto f = read_file("SSLCACertificatePath", *t.ca_certificate_path + "/" + name);
      if (f && seen.insert(*f).second && count_certs(*f, &why) > 0) {
        if (!m.ca.empty() && m.ca.back() != '\n') m.ca += '\n';
        m.ca += *f;
      }
    }
    closedir(d);
  }
  if (t.verify_client && *t.verify_client != "none" && m.ca.empty())
    return Status::error("SSLVerifyClient " + *t.verify_client +
                         " needs SSLCACertificateFile or SSLCACertificatePath (the CAs that "
                         "sign client certificates)");
  return m;
}

bool known_conf_cmd(const std::string& name) {
  SSL_CONF_CTX* c = SSL_CONF_CTX_new();
  SSL_CONF_CTX_set_flags(c, SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_SERVER | SSL_CONF_FLAG_CERTIFICATE |
                                SSL_CONF_FLAG_SHOW_ERRORS);
  int t = SSL_CONF_cmd_value_type(c, name.c_str());
  SSL_CONF_CTX_free(c);
  return t != SSL_CONF_TYPE_UNKNOWN;
}

}  // namespace wsgid::tls
