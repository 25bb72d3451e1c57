// Loads and checks the TLS files of each server; see tls_material.h.
#include "supervisor/master/tls_material.h"

#include <dirent.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "common/openssl_errors.h"

namespace wsgid::master {

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

// The identity of a server across reloads.
std::string identity(const model::VirtualHost& v, bool main_server) {
  if (main_server) return "the main server";
  std::string s = "<VirtualHost";
  for (const auto& a : v.addrs) s += " " + a.text();
  s += ">";
  if (!v.server_name.empty()) s += " " + v.server_name;
  return s;
}

template <class F>
void each_tls_server(const model::Config& c, F f) {
  if (c.server.tls.on()) f(-1, c.server, identity(c.server, true));
  for (size_t i = 0; i < c.vhosts.size(); ++i)
    if (c.vhosts[i].tls.on()) f(static_cast<int>(i), c.vhosts[i], identity(c.vhosts[i], false));
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

std::vector<std::string> TlsMaterialStore::load(const model::Config& config) {
  std::vector<std::string> errors;
  std::map<std::string, model::TlsMaterial> next;
  each_tls_server(config, [&](int, const model::VirtualHost& v, const std::string& id) {
    auto m = load_tls_files(v.tls);
    if (m) {
      next[id] = std::move(m.value());
      return;
    }
    auto old = loaded_.find(id);
    if (old != loaded_.end()) {
      next[id] = old->second;
      errors.push_back(id + ": " + m.status().message() +
                       "; the certificate loaded before keeps serving");
    } else {
      errors.push_back(id + ": " + m.status().message());
    }
  });
  loaded_ = std::move(next);
  return errors;
}

std::map<int, model::TlsMaterial> TlsMaterialStore::by_index(const model::Config& config) const {
  std::map<int, model::TlsMaterial> out;
  each_tls_server(config, [&](int index, const model::VirtualHost&, const std::string& id) {
    auto it = loaded_.find(id);
    if (it != loaded_.end()) out[index] = it->second;
  });
  return out;
}

}  // namespace wsgid::master
