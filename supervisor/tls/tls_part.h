// TlsPart: wsgid's OpenSSL, loaded only when the configuration uses TLS
// (docs/decisions.md 51).
//
// Everything that calls OpenSSL lives in one shared module, wsgid-tls.so,
// installed beside wsgid-frontend and linked to libssl and libcrypto; wsgid,
// wsgid-frontend and wsgictl do not link them. Each process loads the module
// with dlopen() the first time it needs it:
//   the configuration parser  an SSLOpenSSLConfCmd line (is the command one
//                             OpenSSL knows? known_conf_cmd)
//   the master                a server with SSLEngine on (its certificate and key
//                             read and checked as root: load_files,
//                             master/tls_material.h)
//   the front end             the same (its SSL_CTXs and one Session per TLS
//                             connection: build_contexts, new_session)
// A site served over plain HTTP (behind a balancer that terminates TLS, the
// common case) never maps OpenSSL: its relocated data is private to each
// process that maps it (about 1 MiB of PSS in the master and the front end
// together, and 1 MiB more of shared pages). The module cannot be unloaded once
// loaded (OpenSSL's atexit handlers), and is not.
//
// The module's sources (openssl_tls.h) do not log; its copies of wsgid's
// libraries (model, common) share nothing with the process's but the types
// passed through this interface, built by the same compiler in the same build.
// Contexts and Session: loop thread only, as before they moved here.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/config.h"
#include "model/frontend_settings.h"
#include "supervisor/tls/tls_facts.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX: opaque outside the module

namespace wsgid::tls {

using SslCtx = ssl_ctx_st;

// One SSL_CTX per TLS server (the main server or a <VirtualHost> with SSLEngine
// on), built from the front end's settings (openssl_tls.h says how each of
// mod_ssl's directives maps to OpenSSL). Read-only once built; connections
// hold it by shared_ptr.
class Contexts {
 public:
  virtual ~Contexts() = default;
  // The context of vh (a vhost of the settings it was built from, or their
  // server); nullptr when vh speaks no TLS or has no usable certificate.
  virtual SslCtx* context(const model::FrontendSettings& settings, const model::VirtualHost* vh) const = 0;
};

// The TLS layer of one client connection, over memory BIOs: HttpConn hands it
// the bytes libuv read and the bytes it wants to send; it never touches a
// socket and never blocks. SNI: at the ClientHello the session asks its picker
// for the context of the name the client sent and moves the connection to it;
// no name, or the picker returns nullptr: the context given at creation stays.
class Session {
 public:
  // Returns the context for an SNI name, or nullptr to keep the current one.
  using Picker = std::function<SslCtx*(std::string_view name)>;
  virtual ~Session() = default;
  // Ciphertext from the client. Appends the plaintext it carried to *plain and
  // what must go back to the client (handshake records, alerts) to *wire.
  // Fails (the connection must close, after sending *wire) on a handshake or
  // record error, naming it ("TLS handshake: ... no shared cipher"), and when
  // the client sent close_notify ("TLS: the client closed").
  virtual Status receive(const char* data, size_t len, std::string* plain, std::string* wire) = 0;
  // Encrypts plain and appends the records to *wire. Before the handshake is
  // done nothing is sent: the bytes wait and go out after it.
  virtual Status send(std::string_view plain, std::string* wire) = 0;
  // Appends a close_notify alert to *wire (once).
  virtual void close_notify(std::string* wire) = 0;
  virtual bool handshake_done() const = 0;
  // True once, right after the receive() that completed the handshake.
  virtual bool take_just_done() = 0;
  // mod_ssl's variables of the connection, after the handshake.
  virtual const TlsFacts& facts() const = 0;
  // The SNI name the client sent ("" = none), lower case.
  const std::string& sni() const { return facts().sni; }
};

class TlsPart {
 public:
  virtual ~TlsPart() = default;
  // Whether OpenSSL's configuration commands know name for a server
  // (SSLOpenSSLConfCmd).
  virtual bool known_conf_cmd(const std::string& name) = 0;
  // Reads and checks the files of one TLS server (master/tls_material.h).
  // Errors name the file and what is wrong ("SSLCertificateKeyFile
  // /etc/ssl/k.pem: the key does not match the certificate of
  // SSLCertificateFile /etc/ssl/c.pem").
  virtual Result<model::TlsMaterial> load_files(const model::TlsSettings& tls) = 0;
  // A context for every TLS server of settings. previous (built by this part)
  // may be null: an unchanged server keeps its context (and session cache); a
  // server whose context fails to build keeps the one it had. *errors
  // receives one line per server that failed.
  virtual std::shared_ptr<const Contexts> build_contexts(const model::FrontendSettings& settings,
                                                         const Contexts* previous,
                                                         std::vector<std::string>* errors) = 0;
  // ctx: the context of the address's default server (a reference is taken).
  virtual std::unique_ptr<Session> new_session(SslCtx* ctx, Session::Picker picker) = 0;
};

// mod_ssl's ssl_server_compatible(): two servers whose TLS settings are the
// same (certificate files, protocols, ciphers, client verification) may share
// a connection; a request whose Host picks a vhost incompatible with the one
// the SNI name picked gets 421 (frontend/http_conn.cc).
std::string compat_key(const model::TlsSettings& tls);
// Whether a server of config has SSLEngine on: the processes then load the part.
bool uses_tls(const model::Config& config);
// "the main server", "<VirtualHost *:443> www.example.com": a TLS server's name
// in errors, and its identity across reloads.
std::string server_identity(const model::VirtualHost& v, bool main_server);

// The module's one entry point, looked up by name.
using TlsPartEntry = TlsPart* (*)();
inline constexpr const char* kTlsPartEntry = "wsgid_tls_part";
inline constexpr const char* kTlsModuleName = "wsgid-tls.so";

// Where the module is ("" when nowhere; *looked, when given, lists where it was
// looked for): see load_tls_part().
std::string module_path(std::string* looked = nullptr);
// Loads the module the first time -> the part; nullptr with *error
// ("dlopen(PATH): ...") when it cannot. The module is $WSGID_TLS_MODULE when
// set, else the first of these that exists: wsgid-tls.so beside the running
// executable (the installed front end), tls/ or ../tls/ from there (the build
// tree), LIBEXECDIR/wsgid/ (the installed master and wsgictl). Loop thread (or
// the only thread).
TlsPart* load_tls_part(std::string* error);
// The part when loaded, else nullptr (never loads).
TlsPart* loaded_tls_part();

}  // namespace wsgid::tls
