// The seed article's configurations (tests/data/config/seed/, verbatim) and the
// fixtures in good/ and bad/: the flags, the routes and every diagnostic.
// Runs with the working directory tests/data/config (meson's workdir).
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "supervisor/check.h"
#include "model/model_json.h"
#include "supervisor/config/parser.h"

using namespace wsgid::config;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

ParseResult parse_file(const std::string& path, bool check_files = true) {
  ParseOptions o;
  o.check_files = check_files;
  return parse_config_file(path, o);
}

std::vector<std::string> msgs(const ParseResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diags.all()) {
    std::string s = d.severity == Severity::kError ? "error" : "warning";
    out.push_back(std::to_string(d.loc.line) + ": " + s + ": " + d.message);
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += x + "\n";
  return s;
}

const std::string kL = "\xE2\x80\x9C";   // “
const std::string kR = "\xE2\x80\x9D";   // ”
const std::string kDP = "\xE2\x80\xB3";  // ″

}  // namespace

TEST_CASE("the four modes as one config give the article's flags") {
  ParseResult r = parse_file("good/four-modes.conf");
  INFO(r.diags.render_all());
  CHECK(r.diags.all().empty());
  json j = config_to_json(r.config);
  struct Want {
    const char* name;
    int processes, threads;
    bool multithread, multiprocess;
  } want[] = {{"winnt", 1, 25, true, false},
              {"winnt1", 1, 25, true, true},
              {"worker", 2, 25, true, true},
              {"prefork", 5, 1, false, true}};
  REQUIRE(j["groups"].size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    const json& g = j["groups"][i];
    INFO(want[i].name);
    CHECK(g["name"] == want[i].name);
    CHECK(g["processes"] == want[i].processes);
    CHECK(g["threads"] == want[i].threads);
    CHECK(g["multithread"] == want[i].multithread);
    CHECK(g["multiprocess"] == want[i].multiprocess);
    CHECK(g["run_once"] == false);
    CHECK(g["display_name"] == std::string("(wsgi:") + want[i].name + ")");
    CHECK(j["mounts"][i]["process_group"] == want[i].name);
  }
}

TEST_CASE("each mode of the article, verbatim") {
  struct Case {
    const char* file;
    bool multithread, multiprocess;
  } cases[] = {{"seed/winnt.conf", true, false},
               {"seed/winnt-processes1.conf", true, true},
               {"seed/worker.conf", true, true},
               {"seed/prefork.conf", false, true}};
  for (const Case& c : cases) {
    ParseResult r = parse_file(c.file);
    INFO(c.file);
    // A lone group with no alias: the one warning says so.
    CHECK(msgs(r) == std::vector<std::string>{"1: warning: daemon process group 'example' serves "
                                              "no request: no script alias resolves to it"});
    REQUIRE(r.config.groups.size() == 1);
    CHECK(r.config.groups[0].multithread() == c.multithread);
    CHECK(r.config.groups[0].multiprocess() == c.multiprocess);
  }
}

TEST_CASE("the article's embedded and daemon examples, verbatim") {
  ParseResult e = parse_file("seed/embedded.conf");
  CHECK(msgs(e) == std::vector<std::string>{
                       "1: warning: WSGIScriptAlias /path: script file '/path-to-wsgi' does not exist"});
  json je = config_to_json(e.config);
  CHECK(je["mounts"][0]["process_group"].is_null());

  ParseResult d = parse_file("seed/daemon.conf");
  CHECK(msgs(d) == std::vector<std::string>{
                       "8: warning: WSGIScriptAlias /path: script file '/path-to-wsgi' does not exist"});
  json jd = config_to_json(d.config);
  CHECK(jd["mounts"][0]["process_group"] == "site1");
  CHECK(jd["groups"][0]["display_name"] == "(wsgi:site1)");
}

TEST_CASE("the article's shared daemon: both projects in 'default'") {
  ParseResult r = parse_file("seed/shared-default.conf");
  std::string root = fs::absolute("seed").lexically_normal().string();
  std::vector<std::string> got = msgs(r);
  INFO(joined(got));
  // Four typographic quotes (syntax.h), then the two script files that cannot exist.
  REQUIRE(got.size() == 6);
  for (size_t i = 0; i < 4; ++i) CHECK(got[i].find("typographic quote U+") != std::string::npos);
  CHECK(got[4] == "5: warning: WSGIScriptAlias /project1: script file '" + root + "/" + kL +
                      "/home/website/project1.wsgi" + kR + "' does not exist");
  CHECK(got[5] == "7: warning: WSGIScriptAlias /project2: script file '" + root + "/" + kL +
                      "/home/website/project2.wsgi" + kR + "' does not exist");
  REQUIRE(r.diags.all().size() == 6);
  CHECK(r.diags.all()[4].notes ==
        std::vector<std::string>{
            "the path holds the typographic quote U+201C (" + kL +
            "), which is not a quote: it is part of the file name (a path that starts with one is "
            "relative to ServerRoot); write the path with ASCII quotes \"...\" or none"});
  json j = config_to_json(r.config);
  CHECK(j["mounts"][0]["process_group"] == "default");
  CHECK(j["mounts"][1]["process_group"] == "default");
  CHECK(j["mounts"][0]["application_group"] == "%{RESOURCE}");
}

TEST_CASE("the article's last example, verbatim: every fact, with the quotes' consequences") {
  ParseResult r = parse_file("seed/separate-groups.conf");
  std::string root = fs::absolute("seed").lexically_normal().string();
  std::string loc = "<Location " + kL + "/project1" + kDP + ">";
  std::vector<std::string> got = msgs(r);
  INFO(joined(got));
  CHECK(r.ok());
  // syntax.h's typographic-quote warnings come first: two per quoted argument.
  std::vector<int> quote_lines = {5, 5, 8, 8, 10, 10, 13, 13};
  for (size_t i = 0; i < quote_lines.size(); ++i) {
    CHECK(got[i].rfind(std::to_string(quote_lines[i]) + ": warning: typographic quote U+", 0) == 0);
  }
  std::vector<std::string> want = {
      // The quotes stay in the path, so neither block can match /project1 ...
      "5: warning: " + loc + " can match no request: its path does not begin with '/'",
      "10: warning: " + loc + " can match no request: its path does not begin with '/'",
      // ... the repeated <Location>: both lines, and which wins ...
      "10: warning: " + loc +
          " is given twice with different process groups: this block (line 10) selects 'site2', "
          "the one at seed/separate-groups.conf:5 selects 'site1'; the later block wins, so "
          "'site2' serves " + kL + "/project1" + kDP,
      // ... both aliases run embedded ...
      "8: warning: WSGIScriptAlias /project1 runs embedded (in the front-end process, not in a "
      "daemon process group) although daemon process groups are defined",
      "13: warning: WSGIScriptAlias /project2 runs embedded (in the front-end process, not in a "
      "daemon process group) although daemon process groups are defined",
      // ... so no group serves anything ...
      "1: warning: daemon process group 'site1' serves no request: no script alias resolves to it",
      "3: warning: daemon process group 'site2' serves no request: no script alias resolves to it",
      // ... and the script paths, quotes included, do not exist.
      "8: warning: WSGIScriptAlias /project1: script file '" + root + "/" + kL +
          "/home/website/project1.wsgi" + kR + "' does not exist",
      "13: warning: WSGIScriptAlias /project2: script file '" + root + "/" + kL +
          "/home/website/project2.wsgi" + kR + "' does not exist",
  };
  REQUIRE(got.size() == quote_lines.size() + want.size());
  for (size_t i = 0; i < want.size(); ++i) CHECK(got[quote_lines.size() + i] == want[i]);
  // The notes that tie it together.
  const auto& all = r.diags.all();
  CHECK(all[quote_lines.size()].notes ==
        std::vector<std::string>{"the path starts with the typographic quote U+201C (" + kL +
                                 "), which is not a quote: it is part of the path; write \"/...\" "
                                 "with ASCII quotes or none"});
  CHECK(all[quote_lines.size() + 5].notes ==
        std::vector<std::string>{
            "the <Location " + kL + "/project1" + kDP +
                "> at seed/separate-groups.conf:5 that selects it is overridden by the later one "
                "at seed/separate-groups.conf:10",
            "the <Location " + kL + "/project1" + kDP +
                "> at seed/separate-groups.conf:5 that selects it can match no request: its path "
                "does not begin with '/'"});
}

TEST_CASE("the last example with ASCII quotes: exactly three diagnostics") {
  ParseResult r = parse_file("bad/separate-groups-ascii.conf", false);
  std::vector<std::string> got = msgs(r);
  INFO(joined(got));
  CHECK(got == std::vector<std::string>{
                   "10: warning: <Location /project1> is given twice with different process "
                   "groups: this block (line 10) selects 'site2', the one at "
                   "bad/separate-groups-ascii.conf:5 selects 'site1'; the later block wins, so "
                   "'site2' serves /project1",
                   "13: warning: WSGIScriptAlias /project2 runs embedded (in the front-end "
                   "process, not in a daemon process group) although daemon process groups are "
                   "defined",
                   "1: warning: daemon process group 'site1' serves no request: no script alias "
                   "resolves to it"});
  json j = config_to_json(r.config);
  CHECK(j["mounts"][0]["url"] == "/project1");
  CHECK(j["mounts"][0]["process_group"] == "site2");
  CHECK(j["mounts"][1]["process_group"].is_null());
  REQUIRE(r.diags.all().size() == 3);
  CHECK(r.diags.all()[2].notes ==
        std::vector<std::string>{"the <Location /project1> at bad/separate-groups-ascii.conf:5 "
                                 "that selects it is overridden by the later one at "
                                 "bad/separate-groups-ascii.conf:10"});
}

TEST_CASE("good/full.conf is clean; bad/many-errors.conf reports every error at once") {
  ParseResult good = parse_file("good/full.conf");
  INFO(good.diags.render_all());
  CHECK(good.diags.all().empty());

  ParseResult bad = parse_file("bad/many-errors.conf");
  CHECK(msgs(bad) == std::vector<std::string>{
                         "2: error: unknown directive 'WSGIDeamonProcess'",
                         "3: error: unknown option 'proceses' to WSGIDaemonProcess",
                         "4: error: invalid value 'lots' for threads=: expected an integer from 0 "
                         "to 65533",
                         "4: error: user=root is root (uid 0): a daemon process group may not run "
                         "as root, as in mod_wsgi",
                         "5: error: duplicate WSGIDaemonProcess group 'site1'",
                         "7: error: WSGIDaemonProcess cannot appear inside <Location>; it belongs "
                         "at server level or in <VirtualHost>",
                         "10: error: invalid Listen address '70000': expected [host:]port with a "
                         "port from 0 to 65535",
                         "9: error: no WSGIDaemonProcess defines the process group 'sit2'",
                         "3: warning: daemon process group 'site1' serves no request: no script "
                         "alias resolves to it",
                         "4: warning: daemon process group 'site2' serves no request: no script "
                         "alias resolves to it",
                         "9: warning: WSGIScriptAlias /x: script file '" +
                             fs::absolute("bad").lexically_normal().string() +
                             "/apps/x.wsgi' does not exist"});
}

TEST_CASE("run_check: exit status, stderr, --json on stdout, the timeouts note") {
  std::ostringstream out, err;
  wsgid::CheckOptions o;
  o.config_path = "good/four-modes.conf";
  CHECK(wsgid::run_check(o, out, err) == 0);
  CHECK(out.str().empty());
  // No Listen: a warning only (issue 12 point 2: the master would refuse to start).
  CHECK(err.str() ==
        "good/four-modes.conf: warning: no Listen directive: wsgid would not start with this "
        "file as its main configuration (Apache: \"no listening sockets available, shutting "
        "down\")\n"
        "good/four-modes.conf: note: fine for a site file that a main configuration includes; "
        "otherwise add 'Listen 80' (Debian's Apache keeps it in ports.conf)\n"
        "good/four-modes.conf: 1 warning generated.\n"
        "note: daemon process groups 'winnt', 'winnt1', 'worker', 'prefork' leave off "
        "mod_wsgi-express's recommended timeouts: queue-timeout=45 request-timeout=60 "
        "startup-timeout=15 deadlock-timeout=60 (mod_wsgi's defaults keep them off only for "
        "backward compatibility)\nwsgid: good/four-modes.conf is valid\n");

  std::ostringstream out2, err2;
  o.config_path = "good/full.conf";
  o.json = true;
  CHECK(wsgid::run_check(o, out2, err2) == 0);
  CHECK(err2.str().empty());
  json j = json::parse(out2.str());
  CHECK(j["groups"][0]["name"] == "app");
  CHECK(j["listen"] == json::array({"127.0.0.1:8080", "[::1]:8081"}));

  std::ostringstream out3, err3;
  o.config_path = "bad/many-errors.conf";
  CHECK(wsgid::run_check(o, out3, err3) == 1);
  CHECK(out3.str().empty());
  CHECK(err3.str().find("bad/many-errors.conf:3:25: error: unknown option 'proceses' to "
                        "WSGIDaemonProcess") != std::string::npos);
  CHECK(err3.str().find("wsgid: bad/many-errors.conf is not valid\n") != std::string::npos);
}
