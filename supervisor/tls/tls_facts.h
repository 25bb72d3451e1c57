// What mod_ssl tells an application about its TLS connection: the values of
// its SSL_* variables (https://httpd.apache.org/docs/2.4/mod/mod_ssl.html,
// "Environment Variables"), filled once per connection by TlsSession
// (supervisor/tls/tls_part.h) after the handshake and written into the environ by
// cgi_environ.h under SSLOptions +StdEnvVars / +ExportCertData. Plain data,
// no OpenSSL types: any thread.
#pragma once

#include <string>

namespace wsgid::tls {

// mod_ssl's variables of one connection (ssl_engine_vars.c).
struct TlsFacts {
  std::string protocol;        // SSL_PROTOCOL: "TLSv1.3"
  std::string cipher;          // SSL_CIPHER: "TLS_AES_256_GCM_SHA384"
  int cipher_bits = 0;         // SSL_CIPHER_USEKEYSIZE
  int cipher_alg_bits = 0;     // SSL_CIPHER_ALGKEYSIZE
  std::string sni;             // SSL_TLS_SNI ("" = none sent)
  bool resumed = false;        // SSL_SESSION_RESUMED: "Resumed" / "Initial"
  std::string client_verify;   // SSL_CLIENT_VERIFY: NONE, SUCCESS, FAILED:reason
  std::string client_s_dn;     // SSL_CLIENT_S_DN (RFC 2253, as mod_ssl prints it)
  std::string client_i_dn;     // SSL_CLIENT_I_DN
  std::string client_serial;   // SSL_CLIENT_M_SERIAL (hex)
  std::string client_cert;     // SSL_CLIENT_CERT (PEM)
  std::string server_s_dn;     // SSL_SERVER_S_DN
  std::string server_i_dn;     // SSL_SERVER_I_DN
};

}  // namespace wsgid::tls
