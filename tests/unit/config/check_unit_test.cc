// The timeout lints of `wsgid --check`: request-timeout against socket-timeout
// (checks.h) and, with --unit, a systemd unit's TimeoutStopSec and KillMode
// against the groups' graceful-timeout + shutdown-timeout (check_unit.h).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "supervisor/check.h"
#include "supervisor/check_unit.h"
#include "supervisor/config/parser.h"

using namespace wsgid;
using namespace wsgid::config;
namespace fs = std::filesystem;

namespace {

ParseResult parse(const std::string& text) {
  ParseOptions o;
  o.check_files = false;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv/root";
  return parse_config_text("t.conf", text, o);
}

std::vector<std::string> warnings_about(const Diagnostics& d, const std::string& needle) {
  std::vector<std::string> out;
  for (const Diagnostic& x : d.all())
    if (x.severity == Severity::kWarning && x.message.find(needle) != std::string::npos)
      out.push_back(x.loc.file + ":" + std::to_string(x.loc.line) + ":" + std::to_string(x.loc.col) +
                    ": " + x.message);
  return out;
}

// A temp dir removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/wsgid-unit-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    fs::path p = path / name;
    std::ofstream(p) << text;
    return p.string();
  }
};

const char* kApp = "WSGIScriptAlias / /srv/app.wsgi process-group=app\n";

}  // namespace

TEST_CASE("request-timeout longer than socket-timeout is a warning at request-timeout") {
  struct Case {
    std::string conf;
    std::vector<std::string> want;
  };
  std::vector<Case> cases = {
      {"WSGIDaemonProcess app request-timeout=90\n",
       {"t.conf:1:23: request-timeout=90 of daemon process group 'app' is longer than its "
        "socket-timeout=60 (from Timeout 60): the front end answers 504 after 60 s, before "
        "request-timeout can act"}},
      {"Timeout 30\nWSGIDaemonProcess app request-timeout=45\n",
       {"t.conf:2:23: request-timeout=45 of daemon process group 'app' is longer than its "
        "socket-timeout=30 (from Timeout 30): the front end answers 504 after 30 s, before "
        "request-timeout can act"}},
      {"WSGIDaemonProcess app socket-timeout=10 request-timeout=11\n",
       {"t.conf:1:41: request-timeout=11 of daemon process group 'app' is longer than its "
        "socket-timeout=10: the front end answers 504 after 10 s, before request-timeout can "
        "act"}},
      // equal, shorter, off: nothing to say
      {"WSGIDaemonProcess app request-timeout=60\n", {}},
      {"WSGIDaemonProcess app request-timeout=30 socket-timeout=31\n", {}},
      {"WSGIDaemonProcess app\n", {}},
      {"Timeout 300\nWSGIDaemonProcess app request-timeout=120\n", {}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.conf);
    ParseResult r = parse(c.conf + kApp);
    CHECK(r.ok());
    CHECK(warnings_about(r.diags, "request-timeout=") == c.want);
  }
  ParseResult r = parse(std::string("WSGIDaemonProcess app socket-timeout=5 request-timeout=9\n") + kApp);
  REQUIRE(r.diags.all().size() == 1);
  CHECK(r.diags.all()[0].notes == std::vector<std::string>{
                                      "write socket-timeout=10 or more on this WSGIDaemonProcess, "
                                      "or a request-timeout below 5",
                                      "socket-timeout is set at t.conf:1"});
}

TEST_CASE("parse_time_span reads systemd time spans") {
  struct Case {
    const char* text;
    double want;  // -1 = not a time span
  };
  Case cases[] = {{"90", 90},        {"90s", 90},        {"1min 30s", 90}, {"1min30s", 90},
                  {"2.5s", 2.5},     {"500ms", 0.5},     {"5m", 300},      {"1h", 3600},
                  {"2 min", 120},    {"1d", 86400},      {" 20 ", 20},     {"x", -1},
                  {"", -1},          {"10 parsecs", -1}, {"s", -1},        {"1minute", 60}};
  for (const Case& c : cases) {
    CAPTURE(c.text);
    std::optional<double> t = parse_time_span(c.text);
    if (c.want < 0) {
      CHECK(!t);
    } else {
      REQUIRE(t);
      CHECK(*t == doctest::Approx(c.want));
    }
  }
  CHECK(std::isinf(*parse_time_span("infinity")));
}

TEST_CASE("--unit: TimeoutStopSec against graceful-timeout + shutdown-timeout, and KillMode") {
  TempDir dir;
  struct Case {
    std::string service;  // the [Service] body
    std::string groups;   // WSGIDaemonProcess lines
    std::vector<std::string> want;
  };
  const std::string head = "[Unit]\nDescription=wsgid\n\n[Service]\nType=notify\n";  // [Service] on line 4
  std::vector<Case> cases = {
      // mod_wsgi's defaults: 15 + 5 = 20 s, within 30 s and within systemd's 90 s
      {"TimeoutStopSec=30\nKillMode=mixed\n", "WSGIDaemonProcess app\n", {}},
      {"KillMode=mixed\n", "WSGIDaemonProcess app\n", {}},
      {"TimeoutStopSec=infinity\nKillMode=mixed\n",
       "WSGIDaemonProcess app graceful-timeout=600\n", {}},
      {"TimeoutStopSec=10\nKillMode=mixed\n", "WSGIDaemonProcess app\n",
       {"u:6:16: TimeoutStopSec=10 is shorter than a graceful stop of this configuration: daemon "
        "process group 'app' may take graceful-timeout=15 + shutdown-timeout=5 = 20 s to stop; "
        "systemd would SIGKILL the requests still running"}},
      // the longest group is named; a later assignment wins; TimeoutSec sets it too
      {"TimeoutStopSec=300\nTimeoutSec=1min\nKillMode=mixed\n",
       "WSGIDaemonProcess a\nWSGIDaemonProcess b graceful-timeout=60 shutdown-timeout=10\n",
       {"u:7:12: TimeoutStopSec=60 is shorter than a graceful stop of this configuration: daemon "
        "process group 'b' may take graceful-timeout=60 + shutdown-timeout=10 = 70 s to stop; "
        "systemd would SIGKILL the requests still running"}},
      // unset: systemd's default 90 s
      {"KillMode=mixed\n", "WSGIDaemonProcess app graceful-timeout=100\n",
       {"u:4:1: TimeoutStopSec is not set, and systemd's default 90 s is shorter than a graceful "
        "stop of this configuration: daemon process group 'app' may take graceful-timeout=100 + "
        "shutdown-timeout=5 = 105 s to stop; systemd would SIGKILL the requests still running"}},
      // an empty assignment resets to the default
      {"TimeoutStopSec=10\nTimeoutStopSec=\nKillMode=mixed\n", "WSGIDaemonProcess app\n", {}},
      {"TimeoutStopSec=30\n", "WSGIDaemonProcess app\n",
       {"u:4:1: KillMode is not set: systemd's default, control-group, sends SIGTERM to every "
        "wsgid process at once, so workers stop without the master's drain and requests queued "
        "for them fail"}},
      {"TimeoutStopSec=30\nKillMode=control-group\n", "WSGIDaemonProcess app\n",
       {"u:7:10: KillMode=control-group sends SIGTERM to every wsgid process at once, so workers "
        "stop without the master's drain and requests queued for them fail"}},
      {"TimeoutStopSec=30\nKillMode=process\n", "WSGIDaemonProcess app\n",
       {"u:7:10: KillMode=process leaves the front end and the workers running when systemd "
        "gives up on the master"}},
      // a continued line and comments
      {"# TimeoutStopSec=1\n; KillMode=none\nTimeoutStopSec=1min \\\n 30s\nKillMode=mixed\n",
       "WSGIDaemonProcess app graceful-timeout=100\n",
       {"u:8:16: TimeoutStopSec=90 is shorter than a graceful stop of this configuration: daemon "
        "process group 'app' may take graceful-timeout=100 + shutdown-timeout=5 = 105 s to "
        "stop; systemd would SIGKILL the requests still running"}},
      {"TimeoutStopSec=soon\nKillMode=mixed\n", "WSGIDaemonProcess app\n",
       {"u:6:16: TimeoutStopSec=soon is not a systemd time span; systemd ignores it"}},
  };
  int n = 0;
  for (const Case& c : cases) {
    CAPTURE(c.service);
    CAPTURE(c.groups);
    std::string unit = dir.write("u" + std::to_string(n++) + ".service", head + c.service);
    ParseResult r = parse(c.groups + "WSGIScriptAlias / /srv/app.wsgi process-group=app\n");
    Result<UnitSettings> u = read_unit(unit, &r.diags);
    REQUIRE(u);
    lint_unit(r.config, *u, &r.diags);
    std::vector<std::string> got;
    for (const Diagnostic& d : r.diags.all())
      if (d.loc.file == unit)
        got.push_back("u:" + std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " +
                      d.message);
    CHECK(got == c.want);
  }
}

TEST_CASE("run_check with --unit: rendered at the unit's line, exit 0; unreadable unit: exit 1") {
  TempDir dir;
  std::string conf = dir.write("wsgid.conf",
                               "WSGIDaemonProcess app graceful-timeout=30 shutdown-timeout=10\n"
                               "WSGIScriptAlias / /srv/app.wsgi process-group=app\n");
  std::string unit = dir.write("wsgid.service",
                               "[Service]\nType=notify\nTimeoutStopSec=20\nKillMode=mixed\n");
  CheckOptions o;
  o.config_path = conf;
  o.check_files = false;
  o.unit_path = unit;
  std::ostringstream out, err;
  CHECK(run_check(o, out, err) == 0);
  CHECK(err.str().find(unit + ":3:16: warning: TimeoutStopSec=20 is shorter than a graceful stop "
                              "of this configuration") != std::string::npos);
  CHECK(err.str().find("TimeoutStopSec=20\n") != std::string::npos);  // the line is shown
  CHECK(err.str().find("write TimeoutStopSec=45 (graceful-timeout + shutdown-timeout + a margin) "
                       "in [Service]") != std::string::npos);
  CHECK(err.str().find("'app' is defined at " + conf + ":1\n") != std::string::npos);
  CHECK(err.str().find("wsgid: " + conf + " is valid\n") != std::string::npos);

  o.unit_path = (dir.path / "missing.service").string();
  std::ostringstream out2, err2;
  CHECK(run_check(o, out2, err2) == 1);
  CHECK(err2.str().find("wsgid: cannot read the unit: open(" + o.unit_path +
                        "): No such file or directory\n") != std::string::npos);
}
