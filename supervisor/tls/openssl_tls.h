// Inside wsgid-tls.so (tls_part.h): the OpenSSL classes behind tls::Contexts
// and tls::Session, and the helpers the unit tests call directly.
//
// OpenSslContexts: one SSL_CTX per TLS server, built from the front end's
// settings: the certificate material the master loaded (model::TlsMaterial,
// PEM text; the front end never opens a key file) and mod_ssl's directives as
// model::TlsSettings holds them:
//   SSLProtocol            -> the minimum and maximum protocol version (mod_ssl's
//                             rule: "all", "+X", "-X", a bare name replaces the set)
//   SSLCipherSuite         -> SSL_CTX_set_cipher_list (TLSv1.2 and older),
//                             SSL_CTX_set_ciphersuites (TLSv1.3)
//   SSLHonorCipherOrder    -> SSL_OP_CIPHER_SERVER_PREFERENCE
//   SSLSessionTickets Off  -> SSL_OP_NO_TICKET
//   SSLSessionCacheTimeout -> SSL_CTX_set_timeout (default 300 s, mod_ssl's)
//   SSLVerifyClient, SSLVerifyDepth, SSLCACertificateFile/Path -> the verify
//                             mode, depth (default 1) and trusted CAs
//   SSLOpenSSLConfCmd      -> SSL_CONF_cmd, last, as mod_ssl applies them
// Every context offers ALPN "http/1.1" (and nothing else), keeps a session
// cache, and runs the ClientHello callback of OpenSslSession that moves a
// connection to the context of the vhost its SNI name picks. A server whose
// context fails to build (a renewed key that does not match, a bad cipher
// string) keeps the context it had in the previous OpenSslContexts, and the
// failure is reported; a server with neither has no context: its handshakes
// fail.
//
// OpenSslSession: one connection's TLS with memory BIOs, so that libuv keeps
// owning the socket and the loop stays one thread (docs/decisions.md). SNI is
// handled at the ClientHello, before the version and the cipher are chosen, as
// mod_ssl does it. After the handshake, facts() tells what mod_ssl's variables
// say (SSL_PROTOCOL, SSL_CIPHER, SSL_TLS_SNI, SSL_SESSION_RESUMED, SSL_CLIENT_*).
#pragma once

#include <openssl/ssl.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "supervisor/tls/tls_part.h"

namespace wsgid::tls {

class OpenSslContexts final : public Contexts {
 public:
  static std::shared_ptr<const Contexts> build(const model::FrontendSettings& settings,
                                               const Contexts* previous,
                                               std::vector<std::string>* errors);
  ~OpenSslContexts() override;
  SSL_CTX* context(const model::FrontendSettings& settings, const model::VirtualHost* vh) const override;

 private:
  OpenSslContexts() = default;
  struct Entry {
    std::string identity;     // "<VirtualHost *:443> www.example.com"
    std::string fingerprint;  // the settings and material it was built from
    SSL_CTX* ctx = nullptr;   // one reference owned here
  };
  std::map<int, Entry> by_index_;  // vhost index, -1 = the main server
};

class OpenSslSession final : public Session {
 public:
  // ctx: the context of the address's default server (SSL_new takes a reference).
  OpenSslSession(SSL_CTX* ctx, Picker picker);
  ~OpenSslSession() override;
  OpenSslSession(const OpenSslSession&) = delete;
  OpenSslSession& operator=(const OpenSslSession&) = delete;

  Status receive(const char* data, size_t len, std::string* plain, std::string* wire) override;
  Status send(std::string_view plain, std::string* wire) override;
  void close_notify(std::string* wire) override;
  bool handshake_done() const override { return done_; }
  bool take_just_done() override {
    bool j = just_done_;
    just_done_ = false;
    return j;
  }
  const TlsFacts& facts() const override { return facts_; }

  // ClientHello callback installed on every context by build_tls_context().
  static int client_hello_cb(SSL* ssl, int* alert, void* arg);

 private:
  void drain(std::string* wire);
  void collect_facts();

  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  Picker picker_;
  bool done_ = false, just_done_ = false, notify_sent_ = false;
  std::string held_;  // plaintext sent before the handshake finished
  TlsFacts facts_;
};

// Builds one context. Errors name the directive.
Result<SSL_CTX*> build_tls_context(const model::TlsSettings& tls, const model::TlsMaterial& m);

// SSLProtocol's text -> OpenSSL's minimum and maximum version (0 = OpenSSL's
// default bound). Errors for an unknown name or an empty set.
Status protocol_range(std::string_view text, int* min_version, int* max_version);

// TlsPart::load_files and ::known_conf_cmd (tls_files.cc).
Result<model::TlsMaterial> load_tls_files(const model::TlsSettings& tls);
bool known_conf_cmd(const std::string& name);

}  // namespace wsgid::tls
