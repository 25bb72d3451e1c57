// The TLS layer of the front end without sockets (supervisor/tls/openssl_tls.h,
// linked here from its static library): a real OpenSSL client on memory BIOs
// talks to an OpenSslSession
// built from PEM text, as HttpConn drives it; SNI moves the connection to the
// named server's context; SSLProtocol's parsing; mod_ssl's variables; the
// environ keys of cgi_environ.h over TLS.
#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <map>
#include <string>
#include <vector>

#include "protocol/frame.h"
#include "protocol/messages.h"
#include "supervisor/frontend/cgi_environ.h"
#include "supervisor/tls/openssl_tls.h"

using namespace wsgid::frontend;
using namespace wsgid::tls;

namespace {

// A self-signed certificate for cn, as PEM text.
wsgid::model::TlsMaterial make_cert(const std::string& cn) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("wsgid test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  auto pem = [](auto write) {
    BIO* b = BIO_new(BIO_s_mem());
    write(b);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string s(data, static_cast<size_t>(n));
    BIO_free(b);
    return s;
  };
  wsgid::model::TlsMaterial m;
  m.cert_chain = pem([&](BIO* b) { PEM_write_bio_X509(b, x); });
  m.key = pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(x);
  EVP_PKEY_free(key);
  return m;
}

// A client on memory BIOs.
struct Client {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = nullptr;
  BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
  explicit Client(const char* sni, int max_version = 0) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    if (max_version) SSL_CTX_set_max_proto_version(ctx, max_version);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
    ssl = SSL_new(ctx);
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
    if (sni) SSL_set_tlsext_host_name(ssl, sni);
  }
  ~Client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  std::string take() {
    std::string s;
    char buf[16384];
    int n;
    while ((n = BIO_read(out, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
    return s;
  }
  void give(const std::string& s) { BIO_write(in, s.data(), static_cast<int>(s.size())); }
};

// Runs the handshake to its end: true when both sides finished.
bool handshake(Client* c, OpenSslSession* s, std::string* error) {
  for (int i = 0; i < 10; ++i) {
    SSL_do_handshake(c->ssl);
    std::string to_server = c->take(), plain, to_client;
    if (!to_server.empty()) {
      wsgid::Status st = s->receive(to_server.data(), to_server.size(), &plain, &to_client);
      c->give(to_client);
      if (!st) {
        *error = st.message();
        return false;
      }
    }
    if (SSL_is_init_finished(c->ssl) && s->handshake_done()) return true;
  }
  return false;
}

wsgid::model::TlsSettings settings(const char* protocol = nullptr) {
  wsgid::model::TlsSettings t;
  t.engine = true;
  if (protocol) t.protocol = protocol;
  return t;
}

}  // namespace

TEST_CASE("SSLProtocol becomes OpenSSL's version range, mod_ssl's rule") {
  struct Case {
    const char* text;
    int min, max;
    const char* error;
  } cases[] = {
      {"all", SSL3_VERSION, TLS1_3_VERSION, ""},
      {"all -SSLv3", TLS1_VERSION, TLS1_3_VERSION, ""},
      {"all -SSLv3 -TLSv1 -TLSv1.1", TLS1_2_VERSION, TLS1_3_VERSION, ""},
      {"-all +TLSv1.3", TLS1_3_VERSION, TLS1_3_VERSION, ""},
      {"TLSv1.2", TLS1_2_VERSION, TLS1_2_VERSION, ""},
      {"TLSv1.2 +TLSv1.3", TLS1_2_VERSION, TLS1_3_VERSION, ""},
      {"all -TLSv1.3", SSL3_VERSION, TLS1_2_VERSION, ""},
      {"-all", 0, 0, "SSLProtocol '-all' leaves no protocol"},
      {"all -QUIC", 0, 0, "SSLProtocol: unknown protocol 'QUIC'"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    int lo = -1, hi = -1;
    wsgid::Status s = protocol_range(c.text, &lo, &hi);
    CHECK(s.message() == c.error);
    if (s) CHECK((lo == c.min && hi == c.max));
  }
}

TEST_CASE("a TLS session over memory BIOs: handshake, SNI, data both ways, facts") {
  auto a = make_cert("a.test"), b = make_cert("b.test");
  auto ctx_a = build_tls_context(settings(), a);
  auto ctx_b = build_tls_context(settings(), b);
  REQUIRE(ctx_a);
  REQUIRE(ctx_b);
  struct Case {
    const char* sni;
    const char* want_cn;
  } cases[] = {{"b.test", "CN=b.test"}, {"a.test", "CN=a.test"}, {nullptr, "CN=a.test"},
               {"other.test", "CN=a.test"}};
  for (const Case& c : cases) {
    const std::string label = c.sni ? c.sni : "(no SNI)";
    INFO(label);
    std::string asked;
    OpenSslSession s(*ctx_a, [&](std::string_view name) -> SSL_CTX* {
      asked = std::string(name);
      return name == "b.test" ? *ctx_b : nullptr;
    });
    Client cl(c.sni);
    std::string err;
    REQUIRE_MESSAGE(handshake(&cl, &s, &err), err);
    CHECK(asked == (c.sni ? c.sni : ""));
    CHECK(s.take_just_done());
    CHECK_FALSE(s.take_just_done());
    const TlsFacts& f = s.facts();
    CHECK(f.protocol == "TLSv1.3");
    CHECK_FALSE(f.cipher.empty());
    CHECK(f.cipher_bits > 0);
    CHECK(f.sni == (c.sni ? c.sni : ""));
    CHECK(f.server_s_dn == std::string(c.want_cn) + ",O=wsgid test");
    CHECK(f.client_verify == "NONE");
    CHECK_FALSE(f.resumed);
    const unsigned char* proto = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(cl.ssl, &proto, &len);
    CHECK(std::string(reinterpret_cast<const char*>(proto), len) == "http/1.1");
    // Client -> server, then a large response back.
    SSL_write(cl.ssl, "GET / HTTP/1.1\r\n\r\n", 18);
    std::string wire = cl.take(), plain, back;
    REQUIRE(s.receive(wire.data(), wire.size(), &plain, &back));
    CHECK(plain == "GET / HTTP/1.1\r\n\r\n");
    std::string big(300000, 'x');
    std::string records;
    REQUIRE(s.send(big, &records));
    cl.give(back + records);
    std::string got;
    char buf[65536];
    int n;
    while ((n = SSL_read(cl.ssl, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    CHECK(got == big);
    // close_notify reaches the client.
    std::string bye;
    s.close_notify(&bye);
    cl.give(bye);
    CHECK(SSL_read(cl.ssl, buf, sizeof buf) == 0);
    CHECK(SSL_get_error(cl.ssl, 0) == SSL_ERROR_ZERO_RETURN);
  }
  SSL_CTX_free(*ctx_a);
  SSL_CTX_free(*ctx_b);
}

TEST_CASE("SSLProtocol TLSv1.3 only refuses a TLSv1.2 client; a bad setting names itself") {
  auto a = make_cert("a.test");
  auto ctx = build_tls_context(settings("-all +TLSv1.3"), a);
  REQUIRE(ctx);
  OpenSslSession s(*ctx, nullptr);
  Client cl("a.test", TLS1_2_VERSION);
  std::string err;
  CHECK_FALSE(handshake(&cl, &s, &err));
  CHECK(err.find("TLS handshake failed: ") == 0);
  CHECK(err.find("unsupported protocol") != std::string::npos);
  SSL_CTX_free(*ctx);

  struct Bad {
    const char* cipher;
    const char* conf_name;
    const char* want;
  } bads[] = {
      {"NO-SUCH-CIPHER", nullptr, "SSLCipherSuite 'NO-SUCH-CIPHER': no cipher matches"},
      {nullptr, "Curves", "SSLOpenSSLConfCmd Curves 'NoSuchCurve': "},
  };
  for (const Bad& bad : bads) {
    auto t = settings();
    if (bad.cipher) t.cipher_suite = bad.cipher;
    if (bad.conf_name) t.conf_cmds.emplace_back(bad.conf_name, "NoSuchCurve");
    auto r = build_tls_context(t, a);
    REQUIRE_FALSE(r);
    CHECK(r.status().message().find(bad.want) == 0);
  }
  wsgid::model::TlsMaterial mismatched = a;
  mismatched.key = make_cert("b.test").key;
  auto r = build_tls_context(settings(), mismatched);
  REQUIRE_FALSE(r);
  CHECK(r.status().message() == "SSLCertificateKeyFile: the key does not match the certificate");
}

TEST_CASE("the environ over TLS: HTTPS, the scheme, and mod_ssl's variables by SSLOptions") {
  TlsFacts f;
  f.protocol = "TLSv1.3";
  f.cipher = "TLS_AES_128_GCM_SHA256";
  f.cipher_bits = f.cipher_alg_bits = 128;
  f.sni = "a.test";
  f.client_verify = "SUCCESS";
  f.client_s_dn = "CN=client,O=wsgid test";
  f.client_i_dn = "CN=ca";
  f.client_cert = "-----BEGIN CERTIFICATE-----\n";
  struct Case {
    bool tls, std_env, export_cert;
    std::vector<std::string> present, absent;
  } cases[] = {
      {false, true, true, {"REQUEST_SCHEME=http"}, {"HTTPS", "SSL_PROTOCOL", "SSL_CLIENT_CERT"}},
      {true, false, false, {"REQUEST_SCHEME=https", "HTTPS=on"}, {"SSL_PROTOCOL", "SSL_CLIENT_CERT"}},
      {true, true, false,
       {"HTTPS=on", "SSL_PROTOCOL=TLSv1.3", "SSL_CIPHER=TLS_AES_128_GCM_SHA256",
        "SSL_TLS_SNI=a.test", "SSL_SESSION_RESUMED=Initial", "SSL_CLIENT_VERIFY=SUCCESS",
        "SSL_CLIENT_S_DN=CN=client,O=wsgid test", "SSL_CLIENT_I_DN=CN=ca",
        "SSL_CIPHER_USEKEYSIZE=128"},
       {"SSL_CLIENT_CERT"}},
      {true, false, true, {"SSL_CLIENT_CERT=-----BEGIN CERTIFICATE-----\n"}, {"SSL_PROTOCOL"}},
  };
  for (const Case& c : cases) {
    INFO(c.tls, c.std_env, c.export_cert);
    EnvironInput in;
    in.method = "GET";
    in.request_uri = "/";
    in.host = "a.test";
    in.local_port = 8443;
    if (c.tls) in.tls = &f;
    in.tls_std_env_vars = c.std_env;
    in.tls_export_cert_data = c.export_cert;
    Route route;
    std::string head;
    EnvironScratch scratch;
    std::string hs;
    RequestHeaders headers{hs, nullptr, 0};
    REQUIRE(append_environ(in, headers, route, 1, &scratch, &head));
    auto req = wsgid::proto::decode_request_head(std::string_view(head).substr(wsgid::proto::kHeaderSize));
    REQUIRE(req.is_ok());
    std::map<std::string, std::string> env;
    for (const auto& [k, v] : *req) env[std::string(k)] = std::string(v);
    for (const std::string& p : c.present) {
      size_t eq = p.find('=');
      CHECK_MESSAGE(env[p.substr(0, eq)] == p.substr(eq + 1), p);
    }
    for (const std::string& a : c.absent) CHECK_MESSAGE(env.count(a) == 0, a);
  }
}
