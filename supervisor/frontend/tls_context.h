// TlsContexts: one OpenSSL SSL_CTX per TLS server (the main server or a
// <VirtualHost> with SSLEngine on), built from the front end's settings: the
// certificate material the master loaded (model::TlsMaterial, PEM text; the
// front end never opens a key file) and mod_ssl's directives as
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
// cache, and runs the ClientHello callback of tls_session.h that moves a
// connection to the context of the vhost its SNI name picks.
//
// Built on the loop thread by Server::apply() at every kSettings; read-only
// afterwards (connections hold it by shared_ptr). A server whose context
// fails to build (a renewed key that does not match, a bad cipher string)
// keeps the context it had in the previous TlsContexts, and the failure is
// logged; a server with neither has no context: its handshakes fail.
#pragma once

#include <openssl/ssl.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "supervisor/frontend/settings.h"

namespace wsgid::frontend {

class TlsContexts {
 public:
  // Builds a context for every TLS server of settings. previous may be null.
  // *errors receives one line per server that failed ("<VirtualHost *:443>
  // www.example.com: SSLCipherSuite: no cipher matches 'FOO'").
  static std::shared_ptr<const TlsContexts> build(const Settings& settings,
                                                  const TlsContexts* previous,
                                                  std::vector<std::string>* errors);
  ~TlsContexts();
  TlsContexts(const TlsContexts&) = delete;
  TlsContexts& operator=(const TlsContexts&) = delete;

  // The context of vh (a vhost of the settings given to build(), or its
  // server); nullptr when vh speaks no TLS or has no usable certificate.
  SSL_CTX* context(const Settings& settings, const model::VirtualHost* vh) const;

  // mod_ssl's ssl_server_compatible(): two servers whose TLS settings are the
  // same (certificate files, protocols, ciphers, client verification) may
  // share a connection; a request whose Host picks an incompatible vhost than
  // the SNI name did gets 421 (http_conn.cc).
  static std::string compat_key(const model::TlsSettings& tls);

 private:
  TlsContexts() = default;
  struct Entry {
    std::string identity;  // "<VirtualHost *:443> www.example.com"
    std::string fingerprint;  // the settings and material it was built from
    SSL_CTX* ctx = nullptr;   // one reference owned here
  };
  std::map<int, Entry> by_index_;  // vhost index, -1 = the main server
};

// Builds one context (exposed for the unit tests). Errors name the directive.
Result<SSL_CTX*> build_tls_context(const model::TlsSettings& tls, const model::TlsMaterial& m);

// SSLProtocol's text -> OpenSSL's minimum and maximum version (0 = OpenSSL's
// default bound). Errors for an unknown name or an empty set.
Status protocol_range(std::string_view text, int* min_version, int* max_version);

}  // namespace wsgid::frontend
