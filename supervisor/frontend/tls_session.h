// TlsSession: the TLS layer of one client connection, with memory BIOs so
// that libuv keeps owning the socket and the loop stays one thread
// (docs/decisions.md): HttpConn hands it the bytes libuv read (receive(): the
// ciphertext goes into the read BIO, SSL_read gives the plaintext) and the
// bytes it wants to send (send(): SSL_write, then the write BIO is drained
// into the string HttpConn writes with uv_write). It never touches a socket,
// never blocks, and owns its SSL object only.
//
// SNI: at the ClientHello (before the version and the cipher are chosen, as
// mod_ssl does it) the session asks its picker for the context of the name
// the client sent and moves the connection to it (certificate, protocols,
// ciphers, client verification); no name, or the picker returns nullptr: the
// context given at construction (the address's first vhost) stays.
//
// Loop thread only. After the handshake, facts() tells what mod_ssl's
// variables say (SSL_PROTOCOL, SSL_CIPHER, SSL_TLS_SNI, SSL_SESSION_RESUMED,
// SSL_CLIENT_*).
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "supervisor/frontend/tls_facts.h"

namespace wsgid::frontend {

class TlsSession {
 public:
  // Returns the context for an SNI name, or nullptr to keep the current one.
  using Picker = std::function<SSL_CTX*(std::string_view name)>;

  // ctx: the context of the address's default server (SSL_new takes a reference).
  TlsSession(SSL_CTX* ctx, Picker picker);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Ciphertext from the client. Appends the plaintext it carried to *plain and
  // what must go back to the client (handshake records, alerts) to *wire.
  // Fails (the connection must close, after sending *wire) on a handshake or
  // record error, naming it ("TLS handshake: ... no shared cipher"), and when
  // the client sent close_notify ("TLS: the client closed").
  Status receive(const char* data, size_t len, std::string* plain, std::string* wire);
  // Encrypts plain and appends the records to *wire. Before the handshake is
  // done nothing is sent: the bytes wait and go out after it.
  Status send(std::string_view plain, std::string* wire);
  // Appends a close_notify alert to *wire (once).
  void close_notify(std::string* wire);

  bool handshake_done() const { return done_; }
  // True once, right after the receive() that completed the handshake.
  bool take_just_done() {
    bool j = just_done_;
    just_done_ = false;
    return j;
  }
  const TlsFacts& facts() const { return facts_; }
  // The SNI name the client sent ("" = none), lower case.
  const std::string& sni() const { return facts_.sni; }

  // ClientHello callback installed on every context by tls_context.cc.
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

}  // namespace wsgid::frontend
