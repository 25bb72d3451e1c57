// parser.h: every directive in and out of its contexts, every WSGIDaemonProcess
// option (good value, bad value, default), every error and warning text.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "model/embedded.h"
#include "model/model_json.h"
#include "supervisor/config/parser.h"

using namespace wsgid::config;
using nlohmann::json;

namespace {

ParseResult parse(const std::string& text, bool check_files = false) {
  ParseOptions o;
  o.check_files = check_files;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv/root";
  return parse_config_text("t.conf", text, o);
}

std::string sev(Severity s) {
  return s == Severity::kError ? "error" : s == Severity::kWarning ? "warning" : "note";
}

// "LINE: severity: message" for every diagnostic.
std::vector<std::string> msgs(const ParseResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diags.all())
    out.push_back(std::to_string(d.loc.line) + ": " + sev(d.severity) + ": " + d.message);
  return out;
}

std::vector<std::string> errors(const ParseResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diags.all())
    if (d.severity == Severity::kError) out.push_back(d.message);
  return out;
}

// msgs() without the "serves no request" warnings of configs that have no alias.
std::vector<std::string> without_unreached(std::vector<std::string> v) {
  v.erase(std::remove_if(v.begin(), v.end(),
                         [](const std::string& m) {
                           return m.find("serves no request") != std::string::npos;
                         }),
          v.end());
  return v;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += x + "\n";
  return s;
}

enum : unsigned { S = 1, V = 2, L = 4, D = 8, I = 16 };

struct DirCase {
  const char* name;
  const char* args;
  unsigned contexts;
  const char* no_effect_why;  // nullptr: implemented; refused: what mod_wsgi would do
  bool refused = false;       // an error wherever it appears (fail closed)
  // Outside its contexts, the start of the handler's own refusal instead of the
  // table's "cannot appear" (the directives of rewrite_directives.cc, which say
  // what Apache would have done there; their texts: rewrite_directives_test.cc).
  const char* elsewhere = nullptr;
};

const DirCase kDirCases[] = {
    {"WSGIDaemonProcess", "g1 threads=2", S | V, nullptr},
    {"WSGIProcessGroup", "%{GLOBAL}", S | V | L | D, nullptr},
    {"WSGIApplicationGroup", "%{GLOBAL}", S | V | L | D, nullptr},
    {"WSGICallableObject", "app", S | V | L | D, nullptr},
    {"WSGIPassAuthorization", "On", S | V | L | D, nullptr},
    {"WSGIScriptReloading", "Off", S | V | L | D, nullptr},
    {"WSGIChunkedRequest", "On", S | V | L | D, nullptr},
    {"WSGIRestrictProcess", "%{GLOBAL}", S | V | L | D, nullptr},
    {"WSGIScriptAlias", "/x /srv/x.wsgi", S | V, nullptr},
    {"WSGIScriptAliasMatch", "^/x(.*) /srv/x.wsgi", S | V, nullptr},
    {"WSGIImportScript", "/srv/x.wsgi process-group=%{GLOBAL} application-group=%{GLOBAL}", S | V,
     nullptr},
    {"WSGIRestrictEmbedded", "Off", S, nullptr},
    {"WSGISocketPrefix", "run/wsgi", S, nullptr},
    {"WSGIPythonHome", "/venv", S, nullptr},
    {"WSGIPythonPath", "/a:/b", S | I, nullptr},
    {"WSGISocketRotation", "Off", S,
     "group socket paths never rotate in wsgid: they stay the same across reloads"},
    {"WSGIAcceptMutex", "default", S,
     "wsgid's worker threads take connections with poll() and accept4() on a shared "
     "non-blocking socket and need no accept mutex"},
    {"WSGIDestroyInterpreter", "Off", S, "wsgid does not implement it"},
    {"WSGIVerboseDebugging", "On", S, "use 'LogLevel debug' for wsgid's debug messages"},
    {"WSGIDontWriteBytecode", "On", S, "wsgid does not implement it"},
    {"WSGIPythonWarnings", "ignore", S, "wsgid does not implement it"},
    {"WSGIPythonOptimize", "1", S, "wsgid does not implement it"},
    {"WSGIPythonEggs", "/tmp/eggs", S,
     "wsgid does not implement it; python-eggs= on WSGIDaemonProcess sets PYTHON_EGG_CACHE for a "
     "group"},
    {"WSGIPythonHashSeed", "0", S, "wsgid does not implement it"},
    {"WSGISwitchInterval", "0.002", S | I,
     "wsgid does not implement it for embedded mode; switch-interval= on WSGIDaemonProcess sets it "
     "for a group"},
    {"WSGIPerInterpreterGIL", "On", S | I,
     "per-interpreter GIL sub-interpreters are not implemented by wsgid"},
    {"WSGIFreeThreading", "On", S | I, "free-threaded Python is not implemented by wsgid"},
    {"WSGIRestrictStdin", "Off", S, "wsgid does not implement it"},
    {"WSGIRestrictStdout", "Off", S, "wsgid does not implement it"},
    {"WSGIRestrictSignal", "Off", S, "wsgid does not implement it"},
    {"WSGICaseSensitivity", "On", S, "wsgid runs on Linux, whose file names are case-sensitive"},
    {"WSGIServerMetrics", "On", S, "there is no Apache scoreboard in wsgid"},
    {"WSGIDispatchScript", "/srv/d.py", S | V | L | D,
     "mod_wsgi would let this script pick the application group and callable of each request",
     true},
    {"WSGIHandlerScript", "h /srv/h.py", S | V | L | D,
     "mod_wsgi would answer the files of this handler (AddHandler/Action) with this script", true},
    {"WSGIPassApacheRequest", "On", S | V | L | D, "there is no Apache request object in wsgid"},
    {"WSGIErrorOverride", "On", S | V | L | D, "wsgid has no ErrorDocument to put in the app's place"},
    {"WSGIMapHEADToGET", "Off", S | V | L | D,
     "wsgid does not implement it; HEAD reaches the app as HEAD"},
    {"WSGIIgnoreActivity", "On", S | V | L | D, "wsgid does not implement it"},
    {"WSGITrustedProxyHeaders", "X-Forwarded-For", S | V | L | D, nullptr},
    {"WSGITrustedProxies", "127.0.0.1", S | V | L | D, nullptr},
    {"WSGIEnableSendfile", "On", S | V | L | D, "wsgid does not implement it"},
    {"WSGIAccessScript", "/srv/a.py", L | D, nullptr},
    {"WSGIAuthUserScript", "/srv/a.py application-group=%{GLOBAL}", L | D, nullptr},
    {"WSGIAuthGroupScript", "/srv/a.py", L | D, nullptr},
    {"WSGIGroupAuthoritative", "Off", L | D,
     "mod_wsgi would let other providers decide 'Require wsgi-group' for this path", true},
    {"WSGIMetricsService", "unix:/tmp/m.sock", S, "mod_wsgi's telemetry is not implemented by wsgid"},
    {"WSGISlowRequests", "2.0", S, "mod_wsgi's telemetry is not implemented by wsgid"},
    {"WSGIMetricsOptions", "None", S, "mod_wsgi's telemetry is not implemented by wsgid"},
    {"WSGITelemetryService", "unix:/tmp/t.sock", S, "mod_wsgi's telemetry is not implemented by wsgid"},
    {"WSGITelemetryOptions", "All", S, "mod_wsgi's telemetry is not implemented by wsgid"},
    {"WSGIReloadMechanism", "Process", S | V | L | D, "it was removed in mod_wsgi 4.0"},
    {"WSGIOutputBuffering", "On", S | V | L | D, "it was removed in mod_wsgi 4.0"},
    {"WSGILazyInitialization", "On", S, "it was removed in mod_wsgi 4.0"},
    {"WSGIPythonExecutable", "/usr/bin/python", S, "it was removed in mod_wsgi 4.0"},
    {"WSGIControlSocket", "/run/wsgid/c.sock", S, nullptr},
    {"WSGIDrainDelay", "5", S, nullptr},
    {"WSGIFrontendLoops", "2", S, nullptr},
    {"WSGIUwsgiTrustedPeers", "127.0.0.1", S, nullptr},
    {"Listen", "127.0.0.1:8080", S, nullptr},
    {"ServerName", "www.example.com", S | V, nullptr},
    {"ServerAlias", "example.com", V, nullptr},
    {"User", "www-data", S, nullptr},
    {"Group", "www-data", S, nullptr},
    {"PidFile", "run/wsgid.pid", S, nullptr},
    {"ServerRoot", "/srv", S, nullptr},
    {"ErrorLog", "logs/error.log", S | V, nullptr},
    {"CustomLog", "logs/access.log combined", S | V, nullptr},
    {"LogFormat", "\"%h %r\" short", S | V, nullptr},
    {"TransferLog", "logs/transfer.log", S | V, nullptr},
    {"LogLevel", "info", S | V | L | D, nullptr},  // outside server level: a warning
    {"Timeout", "30", S | V, nullptr},
    {"KeepAlive", "Off", S | V, nullptr},
    {"TraceEnable", "Off", S | V, nullptr},
    {"RemoteIPHeader", "X-Forwarded-For", S | V, nullptr},
    {"RemoteIPProxiesHeader", "X-Forwarded-By", S | V, nullptr},
    {"RemoteIPTrustedProxy", "192.0.2.1", S | V, nullptr},
    {"RemoteIPInternalProxy", "10.0.0.0/8", S | V, nullptr},
    {"RemoteIPTrustedProxyList", "/dev/null", S | V, nullptr},
    {"RemoteIPInternalProxyList", "/dev/null", S | V, nullptr},
    {"RemoteIPProxyProtocol", "On", S | V, nullptr},
    {"RemoteIPProxyProtocolExceptions", "127.0.0.1", S | V, nullptr},
    {"KeepAliveTimeout", "3", S | V, nullptr},
    {"MaxKeepAliveRequests", "50", S | V, nullptr},
    {"LimitRequestLine", "4096", S | V, nullptr},
    {"LimitRequestFieldSize", "4096", S | V, nullptr},
    {"LimitRequestFields", "50", S | V, nullptr},
    {"LimitRequestBody", "1048576", S | V | L | D, nullptr},
    {"RequestReadTimeout", "header=10 body=10", S | V, nullptr},
    {"ThreadsPerChild", "10", S, nullptr},
    {"Alias", "/static /srv/static", S | V, nullptr},
    {"AliasMatch", "^/s/(.*) /srv/static/$1", S | V, nullptr},
    {"SetHandler", "wsgi-script", S | V | L | D, nullptr},
    {"AddHandler", "wsgi-script .wsgi", S | V | L | D, nullptr},
    {"Options", "+ExecCGI", S | V | L | D, nullptr},
    {"DocumentRoot", "/srv/www", S | V, nullptr},
    {"DirectoryIndex", "index.html", S | V | L | D, nullptr},
    {"DirectorySlash", "Off", S | V | L | D, nullptr},
    {"FileETag", "MTime Size", S | V | L | D, nullptr},
    {"MaxRanges", "5", S | V | L | D, nullptr},
    {"Redirect", "/a http://x/", S | V | L | D, nullptr},
    {"RedirectMatch", "^/a http://x/", S | V | L | D, nullptr},
    {"RedirectPermanent", "/a http://x/", S | V | L | D, nullptr},
    {"RedirectTemp", "/a http://x/", S | V | L | D, nullptr},
    {"RewriteEngine", "On", S | V, nullptr, false, "RewriteEngine in <"},
    {"RewriteOptions", "Inherit", S | V, nullptr, false, "RewriteOptions in <"},
    {"RewriteCond", "%{HTTPS} off", S | V, nullptr, false, "RewriteCond in <"},
    {"RewriteRule", "^/a - [F]", S | V, nullptr, false, "RewriteRule in <"},
    {"RewriteBase", "/", 0, nullptr, false, "RewriteBase"},
    {"RewriteMap", "m txt:/x", S | V, nullptr, false, "RewriteMap in <"},
    {"Header", "set X-A b", S | V | L | D, nullptr},
    {"RequestHeader", "set X-A b", S | V | L | D, nullptr},
    // Access control and authentication (access_directives.cc).
    {"Require", "all granted", L | D, nullptr},
    {"AuthMerging", "Or", L | D, nullptr},
    {"AuthzSendForbiddenOnFailure", "On", L | D, nullptr},
    {"AuthType", "None", L | D, nullptr},
    {"AuthName", "\"Staff only\"", L | D, nullptr},
    {"AllowMethods", "GET POST", L | D, nullptr},
    {"Order", "deny,allow", L | D, nullptr},
    {"Allow", "from 10.0.0.0/8", L | D, nullptr},
    {"Deny", "from all", L | D, nullptr},
    {"Satisfy", "All", L | D, nullptr},
    {"AuthBasicProvider", "file", L | D, nullptr},
    {"AuthUserFile", "/etc/wsgid/htpasswd", L | D, nullptr},
    {"AuthGroupFile", "/etc/wsgid/groups", L | D, nullptr},
    // mod_ssl (ssl_directives.cc; their errors: ssl_directives_test.cc). The
    // per-directory forms that need renegotiation say so themselves.
    {"SSLEngine", "Off", S | V, nullptr},
    {"SSLCertificateFile", "/etc/ssl/a.pem", S | V, nullptr},
    {"SSLCertificateKeyFile", "/etc/ssl/a.key", S | V, nullptr},
    {"SSLCertificateChainFile", "/etc/ssl/chain.pem", S | V, nullptr},
    {"SSLCACertificateFile", "/etc/ssl/ca.pem", S | V, nullptr},
    {"SSLCACertificatePath", "/etc/ssl/ca", S | V, nullptr},
    {"SSLVerifyClient", "none", S | V, nullptr, false, "SSLVerifyClient inside <"},
    {"SSLVerifyDepth", "2", S | V, nullptr, false, "SSLVerifyDepth inside <"},
    {"SSLProtocol", "all -SSLv3", S | V, nullptr},
    {"SSLCipherSuite", "HIGH:!aNULL", S | V, nullptr, false, "SSLCipherSuite inside <"},
    {"SSLHonorCipherOrder", "On", S | V, nullptr},
    {"SSLSessionTickets", "Off", S | V, nullptr},
    {"SSLSessionCacheTimeout", "300", S | V, nullptr},
    {"SSLOpenSSLConfCmd", "Curves X25519", S | V, nullptr},
    {"SSLOptions", "+StdEnvVars", S | V | L | D, nullptr},
    {"SSLRequireSSL", "", L | D, nullptr},
};

struct Ctx {
  unsigned bit;
  const char* open;
  const char* close;
  const char* where;
};

const Ctx kCtxs[] = {
    {S, "", "", "at server level"},
    {V, "<VirtualHost *:80>\n", "</VirtualHost>\n", "inside <VirtualHost>"},
    {L, "<Location /a>\n", "</Location>\n", "inside <Location>"},
    {D, "<Directory /a>\n", "</Directory>\n", "inside <Directory>"},
};

std::string belongs(unsigned c) {
  if (c == (S | I)) return "it belongs at server level or in <WSGIInterpreterOptions>";
  if (c == S) return "it belongs at server level";
  if (c == (S | V)) return "it belongs at server level or in <VirtualHost>";
  if (c == V) return "it belongs in <VirtualHost>";
  if (c == (L | D)) return "it belongs in <Location>, <Directory> or <Files>";
  return "?";
}

}  // namespace

TEST_CASE("every directive wsgid knows is in this table, and only those") {
  std::set<std::string> table;
  for (const DirCase& c : kDirCases) table.insert(c.name);
  std::set<std::string> known;
  for (const std::string& n : known_directives()) known.insert(n);
  CHECK(table == known);
  CHECK(known.size() == std::size(kDirCases));
}

TEST_CASE("every directive is accepted in its contexts and refused outside them") {
  for (const DirCase& c : kDirCases) {
    for (const Ctx& ctx : kCtxs) {
      std::string text = std::string(ctx.open) + c.name + " " + c.args + "\n" + ctx.close;
      ParseResult r = parse(text);
      INFO(c.name << " " << ctx.where << "\n" << joined(msgs(r)));
      if ((c.contexts & ctx.bit) && c.refused) {
        std::vector<std::string> e = errors(r);
        REQUIRE(e.size() == 1);
        CHECK(e[0] == std::string(c.name) + " is refused: " + c.no_effect_why +
                          ", and wsgid does not implement it (fail closed: ignoring it could "
                          "serve this site more openly than Apache did)");
      } else if (c.contexts & ctx.bit) {
        CHECK(errors(r).empty());
        if (c.no_effect_why) {
          std::string want = std::string(c.name) + " has no effect in wsgid: " + c.no_effect_why +
                             "; ignored";
          bool found = false;
          for (const Diagnostic& d : r.diags.all())
            if (d.severity == Severity::kWarning && d.message == want) found = true;
          CHECK(found);
        }
      } else if (c.elsewhere) {
        std::vector<std::string> e = errors(r);
        REQUIRE(e.size() == 1);
        CHECK(e[0].find(c.elsewhere) == 0);
      } else {
        std::string want =
            std::string(c.name) + " cannot appear " + ctx.where + "; " + belongs(c.contexts);
        std::vector<std::string> e = errors(r);
        REQUIRE(e.size() == 1);
        CHECK(e[0] == want);
      }
    }
  }
}

TEST_CASE("interpreter directives inside <WSGIInterpreterOptions>") {
  ParseResult r = parse(
      "<WSGIInterpreterOptions process-group=a>\nWSGIPerInterpreterGIL On\nWSGIPythonPath /x\n"
      "WSGIProcessGroup a\n</WSGIInterpreterOptions>\n");
  CHECK(msgs(r) == std::vector<std::string>{
                       "1: warning: <WSGIInterpreterOptions> has no effect in wsgid: "
                       "per-interpreter GIL and free-threading options are not implemented; the "
                       "directives inside it are checked and ignored",
                       "4: error: WSGIProcessGroup cannot appear inside <WSGIInterpreterOptions>; "
                       "it belongs at server level, in <VirtualHost>, <Location>, <Directory> or "
                       "<Files>"});
}

TEST_CASE("sections: contexts, Apache sections, unknown sections") {
  struct Case {
    const char* text;
    std::vector<std::string> want;
  } cases[] = {
      {"<VirtualHost *:80>\n<VirtualHost *:81>\n</VirtualHost>\n</VirtualHost>\n",
       {"2: error: <VirtualHost> cannot appear inside <VirtualHost>; it belongs at server level"}},
      {"<Location /a>\n<Location /b>\n</Location>\n</Location>\n",
       {"2: error: <Location> cannot appear inside <Location>; it belongs at server level or in "
        "<VirtualHost>"}},
      {"<Location /a>\n<Files x.wsgi>\n</Files>\n</Location>\n",
       {"2: error: <Files> cannot appear inside <Location>; it belongs at server level, in "
        "<VirtualHost> or <Directory>"}},
      {"<Directory /a>\n<Files x.wsgi>\n</Files>\n</Directory>\n", {}},
      {"<Proxy *>\nRequire all granted\n</Proxy>\n",
       {"1: warning: <Proxy> is an Apache section wsgid does not implement; it is ignored with "
        "everything inside it (wsgid forwards nothing to other servers (ProxyPass is refused))"}},
      {"<Locaton /a>\n</Locaton>\n", {"1: error: unknown section <Locaton>"}},
      {"<LocationMatch \"(\">\n</LocationMatch>\n",
       {"1: error: invalid regular expression '(' in <LocationMatch>: "}},
      {"<Location a>\n</Location>\n",
       {"1: warning: <Location a> can match no request: its path does not begin with '/'"}},
      {"<VirtualHost *:x>\n</VirtualHost>\n",
       {"1: error: invalid address '*:x' in <VirtualHost>: expected host[:port] with a port from 1 "
        "to 65535"}},
  };
  for (const Case& c : cases) {
    ParseResult r = parse(c.text);
    std::vector<std::string> got = msgs(r);
    INFO(c.text << "\n" << joined(got));
    REQUIRE(got.size() == c.want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      if (c.want[i].back() == ' ')
        CHECK(got[i].rfind(c.want[i], 0) == 0);  // regex error text is the library's
      else
        CHECK(got[i] == c.want[i]);
    }
  }
  ParseResult r = parse("<Locaton /a>\n</Locaton>\n");
  REQUIRE(r.diags.all().size() == 1);
  CHECK(r.diags.all()[0].notes == std::vector<std::string>{"did you mean '<Location>'?"});
}

TEST_CASE("unknown directives: error with did-you-mean against every known name") {
  struct Case {
    const char* line;
    const char* message;
    const char* note;
  } cases[] = {
      {"WSGIDeamonProcess x", "unknown directive 'WSGIDeamonProcess'",
       "did you mean 'WSGIDaemonProcess'?"},
      {"WSGIScriptAlais /a /b", "unknown directive 'WSGIScriptAlais'",
       "did you mean 'WSGIScriptAlias'?"},
      {"Listn 80", "unknown directive 'Listn'", "did you mean 'Listen'?"},
      {"LoadModul x y", "unknown directive 'LoadModul'", "did you mean 'LoadModule'?"},
      {"Frobnicate 1", "unknown directive 'Frobnicate'", nullptr},
  };
  for (const Case& c : cases) {
    ParseResult r = parse(std::string(c.line) + "\n");
    INFO(c.line);
    REQUIRE(r.diags.all().size() == 1);
    const Diagnostic& d = r.diags.all()[0];
    CHECK(d.severity == Severity::kError);
    CHECK(d.message == c.message);
    if (c.note)
      CHECK(d.notes == std::vector<std::string>{c.note});
    else
      CHECK(d.notes.empty());
  }
}

// ---------------------------------------------------------------------------
// WSGIDaemonProcess options.

namespace {

struct OptCase {
  const char* key;
  const char* good;
  json good_json;     // the key's value in group_to_json after good
  json default_json;  // with the option absent
  const char* bad;
  const char* expected;  // after "expected "
};

const OptCase kOptCases[] = {
    {"processes", "3", 3, 1, "0", "an integer >= 1"},
    {"threads", "0", 0, 15, "65534", "an integer from 0 to 65533"},
    {"display-name", "%{GROUP}", "%{GROUP}", nullptr, "", "a non-empty value"},
    {"user", "#1000", "#1000", nullptr, "#x", "a user name or #uid"},
    {"group", "#1000", "#1000", nullptr, "#-1", "a group name or #gid"},
    {"supplementary-groups", "#10,#11", json::array({"#10", "#11"}), nullptr, "a,,b",
     "a comma-separated list of group names"},
    {"umask", "027", "0027", nullptr, "089", "an octal number such as 022"},
    {"home", "/srv", "/srv", nullptr, "", "a non-empty value"},
    {"lang", "C.UTF-8", "C.UTF-8", nullptr, "", "a non-empty value"},
    {"locale", "C.UTF-8", "C.UTF-8", nullptr, "", "a non-empty value"},
    {"chroot", "/jail", "/jail", nullptr, "", "a non-empty value"},
    {"cpu-priority", "-5", -5, 0, "21", "an integer from -20 to 20"},
    {"stack-size", "524288", 524288, nullptr, "0", "a number of bytes > 0"},
    {"socket-user", "www-data", "www-data", nullptr, "", "a non-empty value"},
    {"script-user", "bob", "bob", nullptr, "", "a non-empty value"},
    {"script-group", "staff", "staff", nullptr, "", "a non-empty value"},
    {"python-home", "/venv", "/venv", nullptr, "", "a non-empty value"},
    {"python-path", "/a:/b::/c", json::array({"/a", "/b", "/c"}), json::array(), nullptr, nullptr},
    {"python-eggs", "/tmp/eggs", "/tmp/eggs", nullptr, "", "a non-empty value"},
    {"switch-interval", "0.002", 0.002, nullptr, "0", "a number of seconds > 0 such as 0.005"},
    {"maximum-requests", "1000", 1000, 0, "-1", "an integer >= 0"},
    {"restart-interval", "3600", 3600.0, 0.0, "1.5", "a whole number of seconds >= 0"},
    {"inactivity-timeout", "300", 300.0, 0.0, "x", "a whole number of seconds >= 0"},
    {"startup-timeout", "15", 15.0, 0.0, "-1", "a whole number of seconds >= 0"},
    {"startup-retries", "5", 5, nullptr, "-1",
     "an integer >= 0 (the retries before giving up; leave it out to retry forever)"},
    {"graceful-timeout", "30", 30.0, 15.0, "30s", "a whole number of seconds >= 0"},
    {"eviction-timeout", "10", 10.0, 0.0, "", "a whole number of seconds >= 0"},
    {"shutdown-timeout", "10", 10.0, 5.0, "ten", "a whole number of seconds >= 0"},
    {"cpu-time-limit", "600", 600.0, 0.0, "1e3", "a whole number of seconds >= 0"},
    {"memory-limit", "1073741824", 1073741824, 0, "1G", "a number of bytes >= 0"},
    {"virtual-memory-limit", "2147483648", 2147483648LL, 0, "-5", "a number of bytes >= 0"},
    {"request-timeout", "60", 60.0, 0.0, "60.0", "a whole number of seconds >= 0"},
    {"interrupt-timeout", "10", 10.0, 0.0, "-10", "a whole number of seconds >= 0"},
    {"deadlock-timeout", "60", 60.0, 300.0, "off", "a whole number of seconds >= 0"},
    {"listen-backlog", "500", 500, 100, "0", "an integer from 1 to 65535"},
    {"connect-timeout", "5", 5.0, 15.0, "5.5", "a whole number of seconds >= 0"},
    {"socket-timeout", "30", 30.0, 60.0, "-30", "a whole number of seconds >= 0"},
    {"queue-timeout", "45", 45.0, 0.0, "45x", "a whole number of seconds >= 0"},
    {"response-socket-timeout", "20", 20.0, 60.0, "x20", "a whole number of seconds >= 0"},
    {"response-flush-delay", "250", 0.25, 0.005, "0.5", "a whole number of milliseconds >= 0"},
    {"send-buffer-size", "65536", 65536, nullptr, "511", "0 (the OS default) or a number of bytes >= 512"},
    {"receive-buffer-size", "0", 0, nullptr, "100", "0 (the OS default) or a number of bytes >= 512"},
    {"header-buffer-size", "65536", 65536, 32768, "8191", "a number of bytes >= 8192"},
    {"response-buffer-size", "65536", 65536, 8388608, "65535", "a number of bytes >= 65536"},
    {"server-metrics", "On", true, false, "yes", "On or Off"},
};

json group_json(const std::string& line) {
  ParseResult r = parse(line + "\n");
  INFO(line << "\n" << joined(msgs(r)));
  CHECK(errors(r).empty());
  REQUIRE(r.config.groups.size() == 1);
  return group_to_json(r.config.groups[0]);
}

}  // namespace

TEST_CASE("every WSGIDaemonProcess option: good value, bad value, default") {
  json defaults = group_json("WSGIDaemonProcess g");
  for (const OptCase& c : kOptCases) {
    INFO(c.key);
    json g = group_json(std::string("WSGIDaemonProcess g ") + c.key + "=" + c.good);
    CHECK(g[c.key] == c.good_json);
    CHECK(defaults[c.key] == c.default_json);
    if (c.bad) {
      ParseResult r = parse(std::string("WSGIDaemonProcess g ") + c.key + "=" + c.bad + "\n");
      std::vector<std::string> e = errors(r);
      REQUIRE(e.size() == 1);
      CHECK(e[0] == std::string("invalid value '") + c.bad + "' for " + c.key +
                        "=: expected " + c.expected);
      // The caret sits under the value.
      const Diagnostic& d = r.diags.all()[0];
      CHECK(d.loc.col == static_cast<int>(std::string("WSGIDaemonProcess g ").size() +
                                          std::string(c.key).size() + 2));
    }
  }
  // Every option of the table is tested, and group_to_json has no option we missed.
  std::set<std::string> tested;
  for (const OptCase& c : kOptCases) tested.insert(c.key);
  for (const auto& item : defaults.items()) {
    const std::string k = item.key();  // not a structured binding: clang 14 can't capture one
    if (k.find('-') != std::string::npos) CHECK_MESSAGE(tested.count(k), k);
  }
}

TEST_CASE("socket-timeout defaults to Timeout, response-socket-timeout to socket-timeout") {
  ParseResult r = parse(
      "WSGIDaemonProcess a\nWSGIDaemonProcess b socket-timeout=20\n"
      "WSGIDaemonProcess c response-socket-timeout=7\nTimeout 90\n");
  REQUIRE(r.config.groups.size() == 3);
  CHECK(r.config.groups[0].socket_timeout == 90);
  CHECK(r.config.groups[0].response_socket_timeout == 90);
  CHECK(r.config.groups[1].socket_timeout == 20);
  CHECK(r.config.groups[1].response_socket_timeout == 20);
  CHECK(r.config.groups[2].socket_timeout == 90);
  CHECK(r.config.groups[2].response_socket_timeout == 7);
}

TEST_CASE("quoted option values, as mod_wsgi reads them") {
  ParseResult r = parse("WSGIDaemonProcess g display-name='(wsgi) %{GROUP} x' threads=2\n");
  CHECK(errors(r).empty());
  REQUIRE(r.config.groups.size() == 1);
  CHECK(r.config.groups[0].display_name == "(wsgi) %{GROUP} x");
  CHECK(r.config.groups[0].title() == "(wsgi) g x");
  CHECK(r.config.groups[0].threads == 2);
}

TEST_CASE("WSGIDaemonProcess errors") {
  struct Case {
    const char* text;
    std::vector<std::string> want;
    std::vector<std::string> notes;  // of the first diagnostic
  } cases[] = {
      {"WSGIDaemonProcess site1 proceses=2 threads=15\n",
       {"1: error: unknown option 'proceses' to WSGIDaemonProcess"},
       {"did you mean 'processes'?"}},
      {"WSGIDaemonProcess site1 thread=2\n",
       {"1: error: unknown option 'thread' to WSGIDaemonProcess"},
       {"did you mean 'threads'?"}},
      {"WSGIDaemonProcess site1 frobnicate=2\n",
       {"1: error: unknown option 'frobnicate' to WSGIDaemonProcess"},
       {}},
      {"WSGIDaemonProcess site1 processes\n",
       {"1: error: option 'processes' to WSGIDaemonProcess needs a value: processes=VALUE"},
       {}},
      {"WSGIDaemonProcess\n", {"1: error: WSGIDaemonProcess needs a process group name"}, {}},
      {"WSGIDaemonProcess a/b\n",
       {"1: error: invalid process group name 'a/b': it may not be empty or hold '/' or '='"},
       {}},
      {"WSGIDaemonProcess site1\n\nWSGIDaemonProcess site1 threads=2\n",
       {"3: error: duplicate WSGIDaemonProcess group 'site1'"},
       {"'site1' is first defined at t.conf:1"}},
      {"WSGIDaemonProcess g user=root\n",
       {"1: error: user=root is root (uid 0): a daemon process group may not run as root, as in "
        "mod_wsgi"},
       {}},
      {"WSGIDaemonProcess g user=#0\n",
       {"1: error: user=#0 is root (uid 0): a daemon process group may not run as root, as in "
        "mod_wsgi"},
       {}},
      {"WSGIDaemonProcess g script-user=a script-group=b\n",
       {"1: warning: option 'script-user' to WSGIDaemonProcess is accepted but has no effect: "
        "wsgid does not check who owns the script files",
        "1: warning: option 'script-group' to WSGIDaemonProcess is accepted but has no effect: "
        "wsgid does not check who owns the script files",
        "1: error: WSGIDaemonProcess g: script-user= and script-group= cannot both be given"},
       {}},
      {"WSGIDaemonProcess g chroot=/srv/jail interrupt-timeout=5\n",
       {"1: warning: option 'chroot' to WSGIDaemonProcess is accepted but has no effect: wsgid "
        "does not chroot its workers (run wsgid in a container for that)",
        "1: warning: option 'interrupt-timeout' to WSGIDaemonProcess is accepted but has no "
        "effect: past request-timeout the process is replaced without first interrupting the "
        "request's thread"},
       {}},
      {"WSGIDaemonProcess g threads=2 threads=3\n",
       {"1: warning: option 'threads' is given twice to WSGIDaemonProcess; the last value wins"},
       {}},
      {"WSGIDaemonProcess g proceses=2 threads=x\n",
       {"1: error: unknown option 'proceses' to WSGIDaemonProcess",
        "1: error: invalid value 'x' for threads=: expected an integer from 0 to 65533"},
       {"did you mean 'processes'?"}},
  };
  for (const Case& c : cases) {
    ParseResult r = parse(c.text);
    INFO(c.text << joined(msgs(r)));
    CHECK(without_unreached(msgs(r)) == c.want);
    if (!r.diags.all().empty()) CHECK(r.diags.all()[0].notes == c.notes);
  }
  ParseResult r = parse("WSGIDaemonProcess site1 proceses=2 threads=15\n");
  REQUIRE(r.diags.all().size() == 2);
  CHECK(r.diags.all()[0].loc.col == 25);
  CHECK(r.diags.all()[0].loc.len == 8);
}

TEST_CASE("unknown users and groups are errors when the system is checked") {
  ParseResult r = parse("WSGIDaemonProcess g user=no-such-user-x group=no-such-group-x\n", true);
  CHECK(errors(r) == std::vector<std::string>{
                         "user=no-such-user-x: no such user on this system",
                         "group=no-such-group-x: no such group on this system"});
  CHECK(errors(parse("WSGIDaemonProcess g user=no-such-user-x\n", false)).empty());
}

TEST_CASE("the wsgi flags follow mod_wsgi") {
  struct Case {
    const char* opts;
    bool multithread, multiprocess, run_once;
  } cases[] = {
      {"threads=25", true, false, false},
      {"processes=1 threads=25", true, true, false},
      {"processes=2 threads=25", true, true, false},
      {"processes=5 threads=1", false, true, false},
      {"", true, false, false},
      {"threads=1", false, false, false},
      {"processes=1", true, true, false},
      {"threads=1 maximum-requests=1", false, false, true},
  };
  for (const Case& c : cases) {
    json g = group_json(std::string("WSGIDaemonProcess g ") + c.opts);
    INFO(c.opts);
    CHECK(g["multithread"] == c.multithread);
    CHECK(g["multiprocess"] == c.multiprocess);
    CHECK(g["run_once"] == c.run_once);
  }
}

// ---------------------------------------------------------------------------
// Other directives.

TEST_CASE("directive argument errors") {
  struct Case {
    const char* text;
    std::string want;
  } cases[] = {
      {"WSGIProcessGroup\n", "1: error: WSGIProcessGroup takes one argument, not 0"},
      {"WSGIProcessGroup a b\n", "1: error: WSGIProcessGroup takes one argument, not 2"},
      {"WSGIScriptAlias /a\n", "1: error: WSGIScriptAlias takes at least 2 arguments, not 1"},
      {"Listen\n", "1: error: Listen takes 1 to 2 arguments, not 0"},
      {"WSGIScriptReloading yes\n", "1: error: WSGIScriptReloading expects On or Off, not 'yes'"},
      {"WSGIPassAuthorization 1\n", "1: error: WSGIPassAuthorization expects On or Off, not '1'"},
      {"WSGIRestrictEmbedded maybe\n",
       "1: error: WSGIRestrictEmbedded expects On or Off, not 'maybe'"},
      {"KeepAlive sure\n", "1: error: KeepAlive expects On or Off, not 'sure'"},
      {"WSGIScriptAlias x /a.wsgi\n", "1: error: WSGIScriptAlias URL 'x' must begin with '/'"},
      {"WSGIScriptAlias /x /a.wsgi proces-group=a\n",
       "1: error: unknown option 'proces-group' to WSGIScriptAlias: expected process-group=, "
       "application-group=, callable-object= or pass-authorization="},
      {"WSGIScriptAlias /x /a.wsgi pass-authorization=yes\n",
       "1: error: invalid value 'yes' for pass-authorization=: expected On or Off"},
      {"WSGIScriptAliasMatch ( /a.wsgi\n",
       "1: error: invalid regular expression '(' in WSGIScriptAliasMatch: "},
      {"WSGIImportScript /a.wsgi process-group=%{GLOBAL}\n",
       "1: error: WSGIImportScript needs both process-group= and application-group="},
      {"WSGIImportScript /a.wsgi process-group=%{GLOBAL} application-group=%{RESOURCE}\n",
       "1: error: WSGIImportScript application-group= cannot hold an expansion other than "
       "%{GLOBAL}: the script is loaded before any request"},
      {"WSGIImportScript /a.wsgi process-grou=%{GLOBAL} application-group=%{GLOBAL}\n",
       "1: error: unknown option 'process-grou' to WSGIImportScript: expected process-group= or "
       "application-group="},
      {"WSGIProcessGroup sit1\nWSGIDaemonProcess site1\nWSGIScriptAlias / /a.wsgi\n",
       "1: error: no WSGIDaemonProcess defines the process group 'sit1'"},
      {"WSGIProcessGroup %{GLOBALS}\n",
       "1: error: unknown expansion '%{GLOBALS}' in WSGIProcessGroup: expected %{GLOBAL}, "
       "%{ENV:NAME}, %{RESOURCE}, %{SERVER} or %{HOST}"},
      {"WSGIApplicationGroup %{GLOBALS}\n",
       "1: warning: '%{GLOBALS}' is not an expansion mod_wsgi knows; it names an application "
       "group literally"},
      {"Listen 99999\n",
       "1: error: invalid Listen address '99999': expected [host:]port with a port from 0 to 65535"},
      {"Listen [::1\n", "1: error: invalid Listen address '[::1': expected [IPv6]:port"},
      {"Listen 8080 https\n",
       "1: error: the main server should be SSL-aware but has no certificate configured"},
      {"Listen 8080 spdy\n", "1: error: Listen protocol 'spdy' is not one wsgid serves"},
      {"WSGIDrainDelay -1\n",
       "1: error: invalid value '-1' for WSGIDrainDelay: expected a whole number of seconds >= 0 "
       "(0: drain at once, the default)"},
      {"WSGIDrainDelay 5s\n",
       "1: error: invalid value '5s' for WSGIDrainDelay: expected a whole number of seconds >= 0 "
       "(0: drain at once, the default)"},
      {"WSGIFrontendLoops 0\n",
       "1: error: invalid value '0' for WSGIFrontendLoops: expected 'auto' (one loop per four "
       "CPUs, the default) or a count from 1 to 64"},
      {"WSGIFrontendLoops 65\n",
       "1: error: invalid value '65' for WSGIFrontendLoops: expected 'auto' (one loop per four "
       "CPUs, the default) or a count from 1 to 64"},
      {"WSGIFrontendLoops two\n",
       "1: error: invalid value 'two' for WSGIFrontendLoops: expected 'auto' (one loop per four "
       "CPUs, the default) or a count from 1 to 64"},
      {"WSGIFrontendLoops 2\nWSGIScriptAlias / /a.wsgi\n",
       "1: warning: WSGIFrontendLoops 2: the front end runs one event loop, because Python runs in "
       "it (embedded mode)"},
      {"User root\n", "1: error: User root is root: wsgid never runs the front end or workers as root"},
      {"Timeout 0\n", "1: error: invalid value '0' for Timeout: expected a whole number of seconds >= 1"},
      {"<VirtualHost *:80>\nTimeout 5\n</VirtualHost>\n",
       "2: warning: Timeout inside <VirtualHost> is not supported by wsgid, which applies it "
       "server-wide; this value is ignored"},
      {"KeepAliveTimeout 5s\n",
       "1: error: invalid value '5s' for KeepAliveTimeout: expected whole seconds, or milliseconds "
       "with the suffix ms"},
      {"MaxKeepAliveRequests -1\n",
       "1: error: invalid value '-1' for MaxKeepAliveRequests: expected an integer >= 0 (0 = "
       "unlimited)"},
      {"LimitRequestLine 0\n",
       "1: error: invalid value '0' for LimitRequestLine: expected a number of bytes from 1 to 65536"},
      {"LimitRequestFieldSize 70000\n",
       "1: error: invalid value '70000' for LimitRequestFieldSize: expected a number of bytes from 1 "
       "to 65536"},
      {"LimitRequestFields x\n",
       "1: error: invalid value 'x' for LimitRequestFields: expected an integer from 0 to 32767 (0 = "
       "unlimited)"},
      {"LimitRequestBody -1\n",
       "1: error: invalid value '-1' for LimitRequestBody: expected a number of bytes >= 0 (0 = "
       "unlimited)"},
      {"ThreadsPerChild 0\n",
       "1: error: invalid value '0' for ThreadsPerChild: expected an integer from 1 to 65533"},
      {"RequestReadTimeout head=5\n",
       "1: error: invalid RequestReadTimeout argument 'head=5': expected "
       "header=SECONDS[-MAX][,MinRate=RATE] or body=..."},
      {"RequestReadTimeout header=20-40,MinRate=500\n",
       "1: warning: RequestReadTimeout 'header=20-40,MinRate=500': wsgid applies only the first "
       "timeout (20 seconds); the maximum and MinRate are ignored"},
      {"LogLevel loud\n",
       "1: error: invalid LogLevel 'loud': expected emerg, alert, crit, error, warn, notice, info, "
       "debug or trace1..trace8"},
      {"LogLevel info ssl:warn\n",
       "1: warning: per-module log level 'ssl:warn' is not supported by wsgid; ignored"},
      {"ErrorLog \"|/usr/bin/rotatelogs x\"\n",
       "1: warning: piped logs are not supported by wsgid; ErrorLog is ignored"},
      {"ErrorLog syslog:local1\n",
       "1: warning: ErrorLog to syslog is not supported by wsgid; ignored"},
      {"CustomLog logs/a.log combinded\n",
       "1: warning: unknown LogFormat nickname 'combinded': Apache would log it as literal text"},
      {"CustomLog logs/a.log common env=!x\n",
       "1: error: CustomLog condition 'env=!x' is refused: wsgid sets no environment variables "
       "(SetEnv, SetEnvIf and BrowserMatch are not implemented), so it cannot pick the requests "
       "Apache would log"},
      {"CustomLog \"|/usr/bin/rotatelogs /var/log/a.%Y 86400\" common\n",
       "1: error: piped logs are refused: wsgid writes CustomLog to files only"},
      {"CustomLog \"||/usr/bin/logger\" common\n",
       "1: error: piped logs are refused: wsgid writes CustomLog to files only"},
      {"LogFormat \"%h %Z\" odd\n", "1: error: unknown LogFormat directive '%Z'"},
      {"CustomLog logs/a.log \"%h %{ms}Q\"\n", "1: error: unknown LogFormat directive '%Q'"},
      {"CustomLog logs/a.log \"%h %\"\n", "1: error: '%' at the end of the format"},
      {"CustomLog logs/a.log \"%{min}T\"\n", "1: error: unknown unit 'min' in %{min}T"},
      {"AliasMatch ( /a\n", "1: error: invalid regular expression '(' in AliasMatch: "},
      {"TraceEnable maybe\n", "1: error: TraceEnable must be one of 'on', 'off', or 'extended'"},
      {"TraceEnable extended\n",
       "1: error: TraceEnable extended is refused: Apache would answer a TRACE request that has "
       "a body by echoing the body back, and wsgid answers such a request 413 as TraceEnable On "
       "does (fail closed)"},
      {"TraceEnable On Off\n", "1: error: TraceEnable takes one argument, not 2"},
  };
  for (const Case& c : cases) {
    ParseResult r = parse(c.text);
    std::vector<std::string> got = without_unreached(msgs(r));
    INFO(c.text << joined(got));
    REQUIRE(got.size() == 1);
    if (c.want.back() == ' ')
      CHECK(got[0].rfind(c.want, 0) == 0);
    else
      CHECK(got[0] == c.want);
  }
}

TEST_CASE("server directives fill the model") {
  ParseResult r = parse(
      "Listen 127.0.0.1:8080\nListen [::1]:8081\nListen 80\nUser www-data\nGroup www-data\n"
      "PidFile run/wsgid.pid\nTimeout 30\nKeepAlive Off\nKeepAliveTimeout 500ms\n"
      "MaxKeepAliveRequests 7\nLimitRequestLine 4000\nLimitRequestFieldSize 4001\n"
      "LimitRequestFields 12\nLimitRequestBody 1000\nRequestReadTimeout header=11 body=12\n"
      "ThreadsPerChild 9\nLogLevel info\nServerName Example.COM:8080\nErrorLog logs/e.log\n"
      "LogFormat \"%h %r\" short\nCustomLog logs/a.log short\nCustomLog /abs/b.log combined\n"
      "Alias /static static\nWSGIControlSocket run/c.sock\nWSGISocketPrefix run/wsgi\n"
      "WSGIPythonHome /venv\nWSGIPythonPath /a:/b\nWSGIRestrictEmbedded On\n"
      "WSGIScriptReloading Off\n");
  INFO(joined(msgs(r)));
  CHECK(r.diags.all().empty());
  const Config& c = r.config;
  REQUIRE(c.listen.size() == 3);
  CHECK(c.listen[0].text() == "127.0.0.1:8080");
  CHECK(c.listen[1].text() == "[::1]:8081");
  CHECK(c.listen[2].text() == "*:80");
  CHECK(c.user == "www-data");
  CHECK(c.group == "www-data");
  CHECK(c.pid_file == "/srv/root/run/wsgid.pid");
  CHECK(c.timeout == 30);
  CHECK_FALSE(c.keep_alive);
  CHECK(c.keep_alive_timeout == doctest::Approx(0.5));
  CHECK(c.max_keep_alive_requests == 7);
  CHECK(c.limit_request_line == 4000);
  CHECK(c.limit_request_field_size == 4001);
  CHECK(c.limit_request_fields == 12);
  CHECK(c.limit_request_body == 1000);
  CHECK(c.request_read_header_timeout == 11);
  CHECK(c.request_read_body_timeout == 12);
  CHECK(c.threads_per_child == 9);
  CHECK(c.log_level == "info");
  CHECK(c.server.server_name == "example.com");
  REQUIRE(c.server.error_log);
  CHECK(c.server.error_log->path == "/srv/root/logs/e.log");
  REQUIRE(c.server.custom_logs.size() == 2);
  CHECK(c.server.custom_logs[0].path == "/srv/root/logs/a.log");
  CHECK(c.server.custom_logs[0].format == "%h %r");
  CHECK(c.server.custom_logs[1].format ==
        "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"");
  REQUIRE(c.server.aliases.size() == 1);
  CHECK(c.server.aliases[0].path == "/srv/root/static");
  CHECK(c.control_socket == "/srv/root/run/c.sock");
  CHECK(c.socket_prefix == "/srv/root/run/wsgi");
  CHECK(c.python_home == "/venv");
  CHECK(c.python_path == std::vector<std::string>{"/a", "/b"});
  CHECK(c.restrict_embedded);
  CHECK_FALSE(c.script_reloading);
}

TEST_CASE("LogFormat errors point at the directive's column and say what to write") {
  struct Case {
    const char* text;
    int col, len;
    const char* note_start;
  } cases[] = {
      {"LogFormat \"%h %Z\" odd\n", 16, 1, "wsgid knows %% %a %A"},
      {"LogFormat %h%Z odd\n", 14, 1, "wsgid knows"},
      {"LogFormat \"\\\"%r\\\" %Z\" odd\n", 20, 1, "wsgid knows"},
      {"CustomLog a.log \"%h %{min}T\"\n", 23, 3, "write %{s}T, %{ms}T or %{us}T"},
      {"CustomLog a.log \"%{Referer i\"\n", 19, 10, "close the argument"},
  };
  for (const auto& c : cases) {
    ParseResult r = parse(c.text);
    INFO(c.text << joined(msgs(r)));
    REQUIRE(r.diags.all().size() >= 1);
    const Diagnostic& d = r.diags.all()[0];
    CHECK(d.severity == Severity::kError);
    CHECK(d.loc.line == 1);
    CHECK(d.loc.col == c.col);
    CHECK(d.loc.len == c.len);
    REQUIRE(d.notes.size() == 1);
    CHECK(d.notes[0].rfind(c.note_start, 0) == 0);
  }
  // TransferLog: the last LogFormat without a nickname, else Apache's CLF (%b).
  ParseResult t = parse("TransferLog a.log\nLogFormat \"%h %U\"\nTransferLog b.log\n"
                        "TransferLog \"|/usr/bin/logger\"\n");
  REQUIRE(t.config.server.custom_logs.size() == 2);
  CHECK(t.config.server.custom_logs[0].path == "/srv/root/a.log");
  CHECK(t.config.server.custom_logs[0].format == "%h %l %u %t \"%r\" %>s %b");
  CHECK(t.config.server.custom_logs[1].format == "%h %U");
  CHECK(errors(t) == std::vector<std::string>{
                         "piped logs are refused: wsgid writes TransferLog to files only"});
  // A bad LogFormat defines no nickname, and a CustomLog refused logs nothing.
  ParseResult r = parse("LogFormat \"%Z\" odd\nCustomLog a.log \"%Z\"\nCustomLog |x common\n");
  CHECK(errors(r).size() == 3);
  CHECK(r.config.server.custom_logs.empty());
  CHECK(parse("CustomLog a.log combined\n").config.server.custom_logs.size() == 1);
}

TEST_CASE("TraceEnable: Apache's default On, per virtual host, unset in a vhost = the server's") {
  struct Case {
    const char* text;
    bool server, vhost;  // Config::traces() for the server and for vhosts[0]
  } cases[] = {
      {"<VirtualHost *:80>\n</VirtualHost>\n", true, true},
      {"TraceEnable Off\n<VirtualHost *:80>\n</VirtualHost>\n", false, false},
      {"TraceEnable off\n<VirtualHost *:80>\nTraceEnable on\n</VirtualHost>\n", false, true},
      {"<VirtualHost *:80>\nTraceEnable Off\n</VirtualHost>\n", true, false},
  };
  for (const Case& c : cases) {
    ParseResult r = parse(c.text);
    INFO(c.text << joined(msgs(r)));
    CHECK(errors(r).empty());
    REQUIRE(r.config.vhosts.size() == 1);
    CHECK(r.config.traces(nullptr) == c.server);
    CHECK(r.config.traces(&r.config.vhosts[0]) == c.vhost);
  }
}

TEST_CASE("Listen's protocol argument and WSGIDrainDelay fill the model (issue 15)") {
  struct Case {
    const char* text;
    wsgid::model::ListenProtocol protocol;
  };
  const Case cases[] = {
      {"Listen 127.0.0.1:8080\n", wsgid::model::ListenProtocol::kHttp},
      {"Listen 127.0.0.1:8080 http\n", wsgid::model::ListenProtocol::kHttp},
      {"Listen 127.0.0.1:8080 HTTP\n", wsgid::model::ListenProtocol::kHttp},
      {"Listen 127.0.0.1:9000 haproxy-agent\n", wsgid::model::ListenProtocol::kHaproxyAgent},
      {"Listen 127.0.0.1:9001 uwsgi\n", wsgid::model::ListenProtocol::kUwsgi},
      {"Listen 127.0.0.1:9001 UWSGI\n", wsgid::model::ListenProtocol::kUwsgi},
  };
  for (const Case& c : cases) {
    ParseResult r = parse(c.text);
    INFO(c.text << joined(msgs(r)));
    CHECK(r.diags.all().empty());
    REQUIRE(r.config.listen.size() == 1);
    CHECK(r.config.listen[0].protocol == c.protocol);
    CHECK(r.config.drain_delay == 0);
  }
  ParseResult r = parse("Listen 80\nWSGIDrainDelay 12\n");
  CHECK(r.diags.all().empty());
  CHECK(r.config.drain_delay == 12);
}

TEST_CASE("WSGIFrontendLoops: a count or auto; Python in the front end makes it one (issue 16)") {
  using wsgid::model::frontend_loop_count;
  ParseResult r = parse("Listen 80\n");
  CHECK(r.config.frontend_loops == 0);
  CHECK(frontend_loop_count(r.config, 1) == 1);  // auto: one per four CPUs, at least one
  CHECK(frontend_loop_count(r.config, 7) == 1);
  CHECK(frontend_loop_count(r.config, 8) == 2);
  CHECK(frontend_loop_count(r.config, 1000) == 64);
  r = parse("Listen 80\nWSGIFrontendLoops 3\n");
  CHECK(r.diags.all().empty());
  CHECK(r.config.frontend_loops == 3);
  CHECK(frontend_loop_count(r.config, 2) == 3);
  r = parse("Listen 80\nWSGIFrontendLoops 3\nWSGIFrontendLoops AUTO\n");
  CHECK(r.config.frontend_loops == 0);
  // Embedded mode or an auth script: one loop, whatever was written.
  r = parse("Listen 80\nWSGIFrontendLoops 3\nWSGIDaemonProcess s\n"
            "WSGIScriptAlias / /a.wsgi process-group=s\n<Location />\nAuthType Basic\n"
            "AuthName x\nAuthBasicProvider wsgi\nWSGIAuthUserScript /auth.py\nRequire valid-user\n"
            "</Location>\n");
  INFO(joined(msgs(r)));
  CHECK(frontend_loop_count(r.config, 16) == 1);
  CHECK(wsgid::model::frontend_python_use(r.config) == "mod_wsgi's auth scripts");
  CHECK(msgs(r) == std::vector<std::string>{
                       "2: warning: WSGIFrontendLoops 3: the front end runs one event loop, "
                       "because Python runs in it (mod_wsgi's auth scripts)"});
}

TEST_CASE("Listen given twice is an error with a note") {
  ParseResult r = parse("Listen 8080\nListen *:8080\n");
  CHECK(msgs(r) == std::vector<std::string>{"2: error: Listen *:8080 is given twice"});
  REQUIRE(r.diags.all().size() == 1);
  CHECK(r.diags.all()[0].notes == std::vector<std::string>{"first given at t.conf:1"});
}

TEST_CASE("ServerRoot changes the base of later relative paths") {
  ParseResult r = parse("PidFile a.pid\nServerRoot /opt/w\nPidFile b.pid\n"
                        "WSGIScriptAlias / app/x.wsgi\n");
  CHECK(r.config.pid_file == "/opt/w/b.pid");
  CHECK(r.config.server_root == "/opt/w");
  REQUIRE(r.config.server.mounts.size() == 1);
  CHECK(r.config.server.mounts[0].script == "/opt/w/app/x.wsgi");
  ParseResult bad = parse("ServerRoot /no/such/dir/x\n", true);
  CHECK(msgs(bad) == std::vector<std::string>{"1: error: ServerRoot '/no/such/dir/x' is not a directory"});
}

TEST_CASE("virtual hosts: addresses, names, scoped settings") {
  ParseResult r = parse(
      "WSGIDaemonProcess g1\n"
      "<VirtualHost *:80 127.0.0.1:8080 [::1]:81>\nServerName www.example.com\n"
      "ServerAlias example.com *.example.org\nWSGIProcessGroup g1\nWSGIScriptAlias / /srv/a.wsgi\n"
      "WSGIDaemonProcess g2\nErrorLog logs/v.log\n</VirtualHost>\n");
  INFO(joined(msgs(r)));
  CHECK(r.diags.all().size() == 1);  // g2 serves nothing
  REQUIRE(r.config.vhosts.size() == 1);
  const VirtualHost& vh = r.config.vhosts[0];
  REQUIRE(vh.addrs.size() == 3);
  CHECK(vh.addrs[0].text() == "*:80");
  CHECK(vh.addrs[1].text() == "127.0.0.1:8080");
  CHECK(vh.addrs[2].text() == "[::1]:81");
  CHECK(vh.server_name == "www.example.com");
  CHECK(vh.server_aliases == std::vector<std::string>{"example.com", "*.example.org"});
  CHECK(vh.settings.process_group == "g1");
  REQUIRE(vh.mounts.size() == 1);
  CHECK(r.config.groups[1].vhost == 0);
  CHECK(r.config.groups[0].vhost == -1);
  REQUIRE(vh.error_log);
  CHECK(vh.error_log->path == "/srv/root/logs/v.log");
}

// Issue 12: LimitRequestBody and WSGIChunkedRequest in every context Apache and
// mod_wsgi allow, kept per scope (Keystone sets LimitRequestBody in its vhost).
TEST_CASE("LimitRequestBody and WSGIChunkedRequest are scoped settings") {
  ParseResult r = parse(
      "LimitRequestBody 1000\nWSGIChunkedRequest On\n"
      "<VirtualHost *:80>\nLimitRequestBody 114688\n"
      "<Location /up>\nLimitRequestBody 0\nWSGIChunkedRequest Off\n</Location>\n"
      "</VirtualHost>\n"
      "<Directory /srv/app>\nLimitRequestBody 5\n</Directory>\n");
  INFO(joined(msgs(r)));
  CHECK(r.diags.all().empty());
  const Config& c = r.config;
  CHECK(c.limit_request_body == 1000);
  CHECK(c.server.settings.limit_request_body == 1000);
  CHECK(c.server.settings.chunked_request == true);
  REQUIRE(c.vhosts.size() == 1);
  CHECK(c.vhosts[0].settings.limit_request_body == 114688);
  CHECK_FALSE(c.vhosts[0].settings.chunked_request);
  REQUIRE(c.vhosts[0].locations.size() == 1);
  CHECK(c.vhosts[0].locations[0].settings.limit_request_body == 0);
  CHECK(c.vhosts[0].locations[0].settings.chunked_request == false);
  REQUIRE(c.server.directories.size() == 1);
  CHECK(c.server.directories[0].settings.limit_request_body == 5);
  ParseResult bad = parse("<VirtualHost *:80>\nLimitRequestBody -1\nWSGIChunkedRequest maybe\n</VirtualHost>\n");
  CHECK(msgs(bad).size() == 2);
}

TEST_CASE("whole-config warnings") {
  struct Case {
    const char* text;
    std::vector<std::string> want;
  } cases[] = {
      {"WSGIDaemonProcess a\nWSGIScriptAlias /x /srv/x.wsgi\n",
       {"2: warning: WSGIScriptAlias /x runs embedded (in the front-end process, not in a daemon "
        "process group) although daemon process groups are defined",
        "1: warning: daemon process group 'a' serves no request: no script alias resolves to it"}},
      {"WSGIRestrictEmbedded On\nWSGIScriptAlias /x /srv/x.wsgi\n",
       {"2: error: WSGIScriptAlias /x would run embedded (in the front-end process), which "
        "WSGIRestrictEmbedded On forbids"}},
      {"WSGIScriptAlias /x /srv/x.wsgi\n", {}},  // embedded only: fine
      {"WSGIDaemonProcess a\nWSGIScriptAlias /x /srv/x.wsgi process-group=a\n", {}},
      {"WSGIDaemonProcess a\nWSGIDaemonProcess b\n<Location /x/admin>\nWSGIProcessGroup b\n"
       "</Location>\nWSGIScriptAlias /x /srv/x.wsgi process-group=a\n",
       // The alias's own option wins over <Location>, so nothing reaches b.
       {"2: warning: daemon process group 'b' serves no request: no script alias resolves to it"}},
      {"WSGIDaemonProcess a\nWSGIProcessGroup %{ENV:G}\nWSGIScriptAlias /x /srv/x.wsgi\n", {}},
      {"WSGIDaemonProcess a\nWSGIImportScript /srv/s.py process-group=a application-group=%{GLOBAL}\n",
       {}},
      {"WSGIDaemonProcess a\nWSGIDaemonProcess b\n<Location /x>\nWSGIProcessGroup a\n</Location>\n"
       "<Location /x>\nWSGIProcessGroup b\n</Location>\nWSGIScriptAlias /x /srv/x.wsgi\n",
       {"6: warning: <Location /x> is given twice with different process groups: this block (line "
        "6) selects 'b', the one at t.conf:3 selects 'a'; the later block wins, so 'b' serves /x",
        "1: warning: daemon process group 'a' serves no request: no script alias resolves to it"}},
      {"<VirtualHost *:80>\nServerName a.example\nWSGIDaemonProcess ga\n</VirtualHost>\n"
       "<VirtualHost *:80>\nServerName b.example\nWSGIScriptAlias /b /srv/b.wsgi process-group=ga\n"
       "</VirtualHost>\n"
       "<VirtualHost *:443>\nServerName a.example\nWSGIScriptAlias /a /srv/a.wsgi process-group=ga\n"
       "</VirtualHost>\n",
       {"7: warning: daemon process group 'ga', declared inside the <VirtualHost> at t.conf:1 "
        "(ServerName a.example), cannot serve /b of the <VirtualHost> at t.conf:5 (ServerName "
        "b.example): mod_wsgi answers such requests with 500"}},
      {"WSGIScriptAlias /x /srv/x.wsgi\nWSGIScriptAlias /x /srv/y.wsgi\n",
       {"2: warning: WSGIScriptAlias /x is given twice; the first, at t.conf:1, serves every request "
        "for it"}},
  };
  for (const Case& c : cases) {
    ParseResult r = parse(c.text);
    INFO(c.text << joined(msgs(r)));
    CHECK(msgs(r) == c.want);
  }
}

TEST_CASE("missing script files are warned about when files are checked") {
  ParseResult r = parse("WSGIScriptAlias /x /no/such/x.wsgi\n"
                        "WSGIScriptAliasMatch ^/y/(\\w+) /no/such/$1.wsgi\n"
                        "WSGIImportScript /no/such/s.py process-group=%{GLOBAL} "
                        "application-group=%{GLOBAL}\n",
                        true);
  CHECK(msgs(r) == std::vector<std::string>{
                       "1: warning: WSGIScriptAlias /x: script file '/no/such/x.wsgi' does not exist",
                       "3: warning: WSGIImportScript: script file '/no/such/s.py' does not exist"});
  CHECK(parse("WSGIScriptAlias /x /no/such/x.wsgi\n", false).diags.all().empty());
}

TEST_CASE("all errors of a file are reported at once") {
  ParseResult r = parse("Frob 1\nWSGIDaemonProcess g proceses=2\nListen x\nWSGIProcessGroup\n");
  CHECK(r.diags.error_count() == 4);
  CHECK_FALSE(r.ok());
}
