// mod_ssl's directives (supervisor/config/ssl_directives.cc) and the Listen
// protocol (server_directives.cc): what each records, Apache's TLS-or-not
// rules per address, and every refusal with its location and text.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/config/parser.h"
#include "supervisor/config/parser_internal.h"

using namespace wsgid::config;

namespace {

ParseResult parse(const std::string& text) {
  ParseOptions o;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv/root";
  o.check_files = false;
  return parse_config_text("t.conf", text, o);
}

// "line:col: error|warning: message" of each diagnostic, less the
// "serves no request" and the listen-coverage warnings.
std::vector<std::string> diags(const ParseResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diags.all()) {
    if (d.message.find("serves no request") != std::string::npos) continue;
    out.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " +
                  (d.severity == Severity::kError ? "error: " : "warning: ") + d.message);
  }
  return out;
}

const char kCert[] =
    "SSLCertificateFile /etc/letsencrypt/live/a/fullchain.pem\n"
    "SSLCertificateKeyFile /etc/letsencrypt/live/a/privkey.pem\n";

}  // namespace

TEST_CASE("Listen's protocol is Apache's: https by name, or port 443 without one") {
  using P = wsgid::model::ListenProtocol;
  struct Case {
    const char* arg;
    int port;
    bool known;
    P want;
  } cases[] = {
      {"", 443, true, P::kHttps},     {"", 80, true, P::kHttp},
      {"", 8443, true, P::kHttp},     {"https", 8443, true, P::kHttps},
      {"HTTPS", 80, true, P::kHttps}, {"http", 443, true, P::kHttp},
      {"ftp", 21, false, P::kHttp},   {"haproxy-agent", 9000, true, P::kHaproxyAgent},
  };
  for (const Case& c : cases) {
    INFO(c.arg, " ", c.port);
    auto p = detail::listen_protocol(c.arg, c.port);
    CHECK(p.has_value() == c.known);
    if (p) CHECK(*p == c.want);
  }
  ParseResult r = parse("Listen 127.0.0.1:8443 gopher\n");
  REQUIRE(diags(r).size() == 1);
  CHECK(diags(r)[0] == "1:23: error: Listen protocol 'gopher' is not one wsgid serves");
}

TEST_CASE("a TLS vhost records mod_ssl's settings, the main server's merged in") {
  ParseResult r = parse(std::string("Listen 443\nSSLProtocol all -SSLv3 -TLSv1 -TLSv1.1\n"
                                    "SSLSessionTickets off\n<VirtualHost *:443>\nServerName a\n"
                                    "SSLEngine on\n") +
                        kCert +
                        "SSLCertificateChainFile chain.pem\n"
                        "SSLCACertificateFile /etc/ssl/ca.pem\nSSLVerifyClient optional\n"
                        "SSLVerifyDepth 2\nSSLCipherSuite HIGH:!aNULL\n"
                        "SSLCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384\nSSLHonorCipherOrder on\n"
                        "SSLSessionCacheTimeout 600\nSSLOpenSSLConfCmd Curves X25519:P-256\n"
                        "SSLOptions +StdEnvVars +ExportCertData\n"
                        "<Location /admin>\nSSLRequireSSL\n</Location>\n</VirtualHost>\n");
  CHECK(diags(r).empty());
  REQUIRE(r.config.vhosts.size() == 1);
  const auto& t = r.config.vhosts[0].tls;
  CHECK(t.on());
  CHECK(*t.certificate_file == "/etc/letsencrypt/live/a/fullchain.pem");
  CHECK(*t.certificate_key_file == "/etc/letsencrypt/live/a/privkey.pem");
  CHECK(*t.certificate_chain_file == "/srv/root/chain.pem");  // against ServerRoot
  CHECK(*t.ca_certificate_file == "/etc/ssl/ca.pem");
  CHECK(*t.verify_client == "optional");
  CHECK(*t.verify_depth == 2);
  CHECK(*t.protocol == "all -SSLv3 -TLSv1 -TLSv1.1");  // from the main server
  CHECK(*t.session_tickets == false);                   // from the main server
  CHECK(*t.cipher_suite == "HIGH:!aNULL");
  CHECK(*t.cipher_suite_tls13 == "TLS_AES_256_GCM_SHA384");
  CHECK(*t.honor_cipher_order);
  CHECK(*t.session_cache_timeout == 600);
  REQUIRE(t.conf_cmds.size() == 1);
  CHECK(t.conf_cmds[0].first == "Curves");
  CHECK(*t.std_env_vars);
  CHECK(*t.export_cert_data);
  REQUIRE(r.config.vhosts[0].locations.size() == 1);
  CHECK(*r.config.vhosts[0].locations[0].settings.require_ssl);
  CHECK(r.config.listen[0].https());
}

TEST_CASE("which servers speak TLS, and the refusals of a mismatch, as Apache decides") {
  struct Case {
    std::string text;
    bool vhost_tls;          // the first vhost's (or the main server's) TLS after the checks
    std::vector<std::string> want;
  } cases[] = {
      // Apache turns SSLEngine on for an https Listen.
      {"Listen 443\n<VirtualHost *:443>\n" + std::string(kCert) + "</VirtualHost>\n", true, {}},
      {"Listen 8443 https\n<VirtualHost *:8443>\n" + std::string(kCert) + "</VirtualHost>\n", true,
       {}},
      // A plain vhost stays plain.
      {"Listen 80\n<VirtualHost *:80>\n</VirtualHost>\n", false, {}},
      // SSLEngine on needs a TLS Listen.
      {"Listen 8443\n<VirtualHost *:8443>\nSSLEngine on\n" + std::string(kCert) + "</VirtualHost>\n",
       true,
       {"3:1: error: SSLEngine on for this <VirtualHost>, but its Listen *:8443 is plain HTTP"}},
      // And a TLS Listen is never served in the clear.
      {"Listen 443\n<VirtualHost *:443>\nSSLEngine off\n</VirtualHost>\n", false,
       {"3:1: error: SSLEngine off on a TLS address (Listen *:443): wsgid never serves a TLS "
        "address in the clear"}},
      // No certificate: Apache's AH02572.
      {"Listen 443\n<VirtualHost *:443>\nSSLEngine on\n</VirtualHost>\n", true,
       {"3:1: error: this <VirtualHost> should be SSL-aware but has no certificate configured"}},
      {"Listen 443\n", true,
       {"1:8: error: the main server should be SSL-aware but has no certificate configured"}},
      {"Listen 443\n" + std::string(kCert), true, {}},
      // One vhost on a TLS and a plain Listen.
      {"Listen 443\nListen 80\n<VirtualHost *:443 *:80>\n" + std::string(kCert) + "</VirtualHost>\n",
       false,
       {"3:2: error: this <VirtualHost> is served on a TLS Listen (*:443) and on a plain one "
        "(*:80): Apache would pick TLS or not per address"}},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    ParseResult r = parse(c.text);
    std::vector<std::string> got = diags(r);
    CHECK(got == c.want);
    const auto& vh = r.config.vhosts.empty() ? r.config.server : r.config.vhosts[0];
    CHECK(vh.tls.on() == c.vhost_tls);
  }
}

TEST_CASE("each SSL directive error names its place and says what to write instead") {
  struct Case {
    const char* lines;  // inside <VirtualHost *:443> (line 3 on), or a <Location> where shown
    const char* want;   // the first diagnostic
  } cases[] = {
      {"SSLEngine optional", "3:11: error: SSLEngine optional is refused: it upgrades plain HTTP "
                             "to TLS (RFC 2817), which no browser does and wsgid does not "
                             "implement"},
      {"SSLEngine maybe", "3:11: error: SSLEngine expects On or Off, not 'maybe'"},
      {"SSLVerifyClient optional_no_ca",
       "3:17: error: SSLVerifyClient optional_no_ca is refused: it lets in clients whose "
       "certificate no CA vouches for, and wsgid does not implement it"},
      {"SSLVerifyClient sometimes",
       "3:17: error: SSLVerifyClient expects none, optional or require, not 'sometimes'"},
      {"SSLVerifyDepth -1", "3:16: error: invalid value '-1' for SSLVerifyDepth: expected a depth "
                            "from 0 to 100"},
      {"SSLProtocol all -SSLv2 +TLSv1.4", "3:24: error: SSLProtocol: unknown protocol '+TLSv1.4'"},
      {"SSLCipherSuite QUIC FOO", "3:16: error: SSLCipherSuite: unknown protocol 'QUIC'"},
      {"SSLOpenSSLConfCmd NoSuchCommand 1",
       "3:19: error: SSLOpenSSLConfCmd: OpenSSL has no configuration command 'NoSuchCommand'"},
      {"SSLOptions +StdEnvVars ExportCertData",
       "3:1: error: SSLOptions mixes options with and without '+'/'-'"},
      {"SSLOptions +Bogus", "3:12: error: SSLOptions: unknown option '+Bogus'"},
      {"SSLOptions +FakeBasicAuth",
       "3:12: error: SSLOptions FakeBasicAuth is refused: Apache would take the client "
       "certificate's subject as the Basic user name, and wsgid does not implement it (fail "
       "closed)"},
      {"<Location /a>\nSSLVerifyClient require\n</Location>",
       "4:1: error: SSLVerifyClient inside <Location> is refused: mod_ssl would renegotiate the "
       "TLS connection for this path (to ask for a client certificate or other ciphers), and "
       "wsgid does not renegotiate"},
      {"<Location /a>\nSSLCipherSuite HIGH\n</Location>",
       "4:1: error: SSLCipherSuite inside <Location> is refused: mod_ssl would renegotiate the "
       "TLS connection for this path (to ask for a client certificate or other ciphers), and "
       "wsgid does not renegotiate"},
      {"<Location /a>\nSSLOptions +StdEnvVars\n</Location>",
       "4:1: warning: SSLOptions inside <Location> is ignored: wsgid applies SSLOptions per "
       "<VirtualHost>"},
      {"SSLRequireSSL", "3:1: error: SSLRequireSSL cannot appear inside <VirtualHost>; it belongs "
                        "in <Location>, <Directory> or <Files>"},
  };
  for (const Case& c : cases) {
    INFO(c.lines);
    ParseResult r = parse(std::string("Listen 443\n<VirtualHost *:443>\n") + c.lines + "\n" +
                          kCert + "</VirtualHost>\n");
    std::vector<std::string> got = diags(r);
    REQUIRE(!got.empty());
    CHECK(got[0] == c.want);
  }
  // StrictRequire is what wsgid does anyway (SSLRequireSSL before any access
  // rule; Satisfy Any, which could lift it in Apache, is refused): no word, at
  // any level.
  for (const char* lines : {"SSLOptions +StrictRequire", "<Location /a>\nSSLRequireSSL\n"
                            "SSLOptions +StrictRequire\nRequire all granted\n</Location>"}) {
    INFO(lines);
    ParseResult ok = parse(std::string("Listen 443\n<VirtualHost *:443>\n") + lines + "\n" +
                           kCert + "</VirtualHost>\n");
    for (const std::string& d : diags(ok)) FAIL_CHECK(d);
  }
  // The notes say what to write.
  ParseResult r = parse("Listen 8443\n<VirtualHost *:8443>\nSSLEngine on\n" + std::string(kCert) +
                        "</VirtualHost>\n");
  REQUIRE(r.diags.all().size() >= 1);
  REQUIRE(!r.diags.all()[0].notes.empty());
  CHECK(r.diags.all()[0].notes[0].find("write 'Listen *:8443 https'") == 0);
}
