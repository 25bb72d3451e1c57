// wsgictl's pure parts (supervisor/ctl/ctl.h, format.h, client.h's
// socket_from_config): the command line, every usage error text, the request
// each command sends, the status table, and reply -> exit status.
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "supervisor/config/parser.h"
#include "supervisor/ctl/client.h"
#include "supervisor/ctl/ctl.h"
#include "supervisor/ctl/format.h"

using namespace wsgid::ctl;
using nlohmann::json;
using Words = std::vector<std::string>;

TEST_CASE("parse_args: global options and the command words") {
  struct Case {
    Words argv;
    std::string socket, config;
    bool json, help, version;
    Words words;
  };
  const Case cases[] = {
      {{}, "", "", false, false, false, {}},
      {{"status"}, "", "", false, false, false, {"status"}},
      {{"-s", "/x.sock", "status", "site1"}, "/x.sock", "", false, false, false, {"status", "site1"}},
      {{"--socket=/y", "--json", "pid"}, "/y", "", true, false, false, {"pid"}},
      {{"-f", "/etc/w.conf", "tail", "-f", "site1"}, "", "/etc/w.conf", false, false, false,
       {"tail", "-f", "site1"}},
      {{"--config=/c", "restart", "--now", "a"}, "", "/c", false, false, false,
       {"restart", "--now", "a"}},
      {{"-h"}, "", "", false, true, false, {}},
      {{"--version"}, "", "", false, false, true, {}},
      {{"--", "-weird"}, "", "", false, false, false, {"-weird"}},
      // after the command, as in git and systemctl
      {{"status", "--json"}, "", "", true, false, false, {"status"}},
      {{"status", "-s", "/x.sock", "site1"}, "/x.sock", "", false, false, false,
       {"status", "site1"}},
      {{"restart", "--now", "site1", "--socket=/y"}, "/y", "", false, false, false,
       {"restart", "--now", "site1"}},
      {{"tail", "-f", "site1", "--config", "/c"}, "", "/c", false, false, false,
       {"tail", "-f", "site1"}},
      {{"status", "-f", "/c"}, "", "/c", false, false, false, {"status"}},
      {{"signal", "-9", "site1", "--json"}, "", "", true, false, false, {"signal", "-9", "site1"}},
      {{"status", "--help"}, "", "", false, false, false, {"status", "--help"}},
      {{"status", "--", "--json"}, "", "", false, false, false, {"status", "--", "--json"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.argv.size());
    auto o = parse_args(c.argv);
    REQUIRE(o.is_ok());
    CHECK(o->socket == c.socket);
    CHECK(o->config == c.config);
    CHECK(o->json == c.json);
    CHECK(o->help == c.help);
    CHECK(o->version == c.version);
    CHECK(o->words == c.words);
  }
  auto d = parse_args({"-D", "PROD", "-D", "X", "status"});
  REQUIRE(d.is_ok());
  CHECK(d->defines == Words{"PROD", "X"});
}

TEST_CASE("parse_args: errors") {
  const std::pair<Words, const char*> cases[] = {
      {{"-s"}, "option -s needs a value"},
      {{"-f"}, "option -f needs a value"},
      {{"-D"}, "option -D needs a value"},
      {{"--json", "-x", "status"}, "unknown option '-x'"},
      {{"--sock", "/x"}, "unknown option '--sock'"},
      {{"status", "-s"}, "option -s needs a value"},
  };
  for (const auto& [argv, text] : cases) {
    auto o = parse_args(argv);
    REQUIRE_FALSE(o.is_ok());
    CHECK(o.status().message() == text);
  }
}

TEST_CASE("parse_command: commands and their requests") {
  struct Case {
    Words words;
    const char* request;  // to_request(...).dump()
  };
  const Case cases[] = {
      {{"status"}, R"({"args":[],"command":"status"})"},
      {{"status", "a", "b"}, R"({"args":["a","b"],"command":"status"})"},
      {{"start", "all"}, R"({"args":["all"],"command":"start"})"},
      {{"stop", "a"}, R"({"args":["a"],"command":"stop"})"},
      {{"stop", "--now", "a"}, R"({"args":["a"],"command":"stop","now":true})"},
      {{"restart", "a", "--now"}, R"({"args":["a"],"command":"restart","now":true})"},
      {{"reload"}, R"({"args":[],"command":"reload"})"},
      {{"check"}, R"({"args":[],"command":"check"})"},
      {{"reopen"}, R"({"args":[],"command":"reopen"})"},
      {{"pid"}, R"({"args":[],"command":"pid"})"},
      {{"pid", "a"}, R"({"args":["a"],"command":"pid"})"},
      {{"signal", "USR1", "a", "b"}, R"({"args":["USR1","a","b"],"command":"signal"})"},
      {{"signal", "-9", "a"}, R"({"args":["-9","a"],"command":"signal"})"},
      {{"tail", "a"}, R"({"args":["a"],"command":"tail","lines":100})"},
      {{"tail", "-f", "master"}, R"({"args":["master"],"command":"tail","follow":true,"lines":100})"},
      {{"tail", "-n", "5", "frontend"}, R"({"args":["frontend"],"command":"tail","lines":5})"},
      {{"tail", "-n0", "a"}, R"({"args":["a"],"command":"tail","lines":0})"},
      {{"tail", "--follow", "--lines", "7", "a"},
       R"({"args":["a"],"command":"tail","follow":true,"lines":7})"},
      {{"shutdown"}, R"({"args":[],"command":"shutdown"})"},
      {{"shutdown", "--now"}, R"({"args":[],"command":"shutdown","now":true})"},
      {{"version"}, R"({"args":[],"command":"version"})"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.request);
    auto r = parse_command(c.words);
    REQUIRE(r.is_ok());
    CHECK(to_request(*r).dump() == c.request);
    CHECK(needs_daemon(*r));
  }
  for (const Words& w : {Words{"restart", "--help"}, Words{"tail", "-f", "-h"}}) {
    auto r = parse_command(w);
    REQUIRE(r.is_ok());
    CHECK(r->name == "help");
    CHECK(r->args == Words{w[0]});
  }
  for (const Words& w : {Words{"help"}, Words{"help", "tail"}, Words{"quit"}, Words{"exit"}}) {
    auto r = parse_command(w);
    REQUIRE(r.is_ok());
    CHECK_FALSE(needs_daemon(*r));
  }
}

TEST_CASE("parse_command: usage errors (exact texts)") {
  const std::pair<Words, const char*> cases[] = {
      {{"bogus"}, "unknown command 'bogus'"},
      {{"statsu"}, "unknown command 'statsu' (did you mean 'status'?)"},
      {{"relaod"}, "unknown command 'relaod' (did you mean 'reload'?)"},
      {{"restrat", "a"}, "unknown command 'restrat' (did you mean 'restart'?)"},
      {{"start"}, "start needs group names or 'all'"},
      {{"stop"}, "stop needs group names or 'all'"},
      {{"stop", "--now"}, "stop needs group names or 'all'"},
      {{"restart", "--now"}, "restart needs group names or 'all'"},
      {{"start", "--now", "a"}, "start: unknown option '--now'"},
      {{"status", "--now"}, "status: unknown option '--now'"},
      {{"tail", "-x", "a"}, "tail: unknown option '-x'"},
      {{"reload", "x"}, "reload takes no arguments"},
      {{"check", "x"}, "check takes no arguments"},
      {{"reopen", "x"}, "reopen takes no arguments"},
      {{"version", "x"}, "version takes no arguments"},
      {{"quit", "x"}, "quit takes no arguments"},
      {{"shutdown", "x"}, "shutdown takes no arguments besides --now"},
      {{"signal"}, "signal needs a signal name and at least one group"},
      {{"signal", "USR1"}, "signal needs a signal name and at least one group"},
      {{"tail"}, "tail takes one group name, 'frontend' or 'master'"},
      {{"tail", "a", "b"}, "tail takes one group name, 'frontend' or 'master'"},
      {{"tail", "-n"}, "-n needs a number of lines"},
      {{"tail", "-n", "x", "a"}, "-n must be an integer from 0 to 100000"},
      {{"tail", "-n", "-1", "a"}, "-n must be an integer from 0 to 100000"},
      {{"tail", "-n100001", "a"}, "-n must be an integer from 0 to 100000"},
      {{"help", "a", "b"}, "help takes at most one command name"},
      {{"help", "nope"}, "no such command 'nope'"},
  };
  for (const auto& [words, text] : cases) {
    CAPTURE(text);
    auto r = parse_command(words);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message() == text);
  }
}

TEST_CASE("usage_error_json: the shape of a daemon's usage error") {
  CHECK(json::parse(usage_error_json("stop needs group names or 'all'")) ==
        json({{"ok", false}, {"code", "usage"}, {"error", "stop needs group names or 'all'"}}));
}

TEST_CASE("split_words") {
  CHECK(*split_words("  status  a\tb ") == Words{"status", "a", "b"});
  CHECK(*split_words("signal 'USR1' \"my group\"") == Words{"signal", "USR1", "my group"});
  CHECK(*split_words("tail ''") == Words{"tail", ""});
  CHECK(split_words("").value().empty());
  auto bad = split_words("status 'a");
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message() == "unterminated quote");
}

TEST_CASE("exit_code_for: reply -> LSB exit status") {
  const std::pair<const char*, int> cases[] = {
      {R"({"ok": true})", 0},
      {R"({"ok": false, "code": "usage", "error": "x"})", 2},
      {R"({"ok": false, "code": "no-such-group", "error": "x"})", 4},
      {R"({"ok": false, "code": "failed", "error": "x"})", 1},
      {R"({"ok": false, "code": "permission", "error": "x"})", 1},
      {R"({"ok": false, "code": "not-running", "error": "x"})", 3},
      {R"({"ok": false, "code": "something-new", "error": "x"})", 1},
      {R"({"ok": false, "diagnostics": "x"})", 1},
      {R"({"error": "no ok"})", 1},
      {R"([1, 2])", 1},
  };
  for (const auto& [text, code] : cases) {
    CAPTURE(text);
    CHECK(exit_code_for(json::parse(text)) == code);
  }
}

TEST_CASE("format_uptime, format_size, format_age") {
  const std::pair<double, const char*> uptimes[] = {
      {0, "0:00:00"},     {5.9, "0:00:05"},       {65, "0:01:05"},
      {3600, "1:00:00"},  {97384, "27:03:04"},    {-1, "-"},
  };
  for (const auto& [s, text] : uptimes) CHECK(format_uptime(s) == text);
  const std::pair<int64_t, const char*> sizes[] = {
      {0, "0B"},
      {1023, "1023B"},
      {1024, "1.0K"},
      {1536, "1.5K"},
      {31457280, "30.0M"},
      {32715571, "31.2M"},
      {1048575, "1.0M"},
      {int64_t{3} << 30, "3.0G"},
      {int64_t{5} << 40, "5.0T"},
      {-5, "-"},
  };
  for (const auto& [b, text] : sizes) {
    CAPTURE(b);
    CHECK(format_size(b) == text);
  }
  CHECK(format_age(0.44) == "0.4s");
  CHECK(format_age(12) == "12.0s");
  CHECK(format_age(7384) == "2:03:04");
  CHECK(format_age(-1) == "-");
}

TEST_CASE("align_columns") {
  CHECK(align_columns({{"a", "bb", "c"}, {"aaa", "b", "last col"}}) ==
        "a    bb  c\n"
        "aaa  b   last col\n");
  CHECK(align_columns({{"x", ""}}) == "x\n");
}

namespace {

const char* kStatus = R"({
  "ok": true,
  "master": {"pid": 100, "uptime": 50.0, "state": "running", "version": "0.1.0"},
  "frontend": {"index": 0, "state": "RUNNING", "pid": 101, "uptime": 49.5, "requests": null,
               "current": null, "rss": 4194304, "last_exit": null, "successor_pid": null,
               "retiring": []},
  "groups": [
    {"name": "site1", "state": "RUNNING", "processes": [
      {"index": 0, "state": "RUNNING", "pid": 4711, "uptime": 3725.2, "requests": 17, "busy": 1,
       "current": [{"id": 9, "age": 0.42, "method": "GET", "uri": "/x"}], "rss": 32715571,
       "last_exit": "exited on signal 9", "successor_pid": null, "retiring": []},
      {"index": 1, "state": "RUNNING", "pid": 4712, "uptime": 5.0, "requests": 0, "busy": 0,
       "current": [], "rss": 31457280, "last_exit": null, "successor_pid": 4790,
       "retiring": [4705]}]},
    {"name": "api", "state": "STOPPED", "processes": [
      {"index": 0, "state": "EXITED", "pid": null, "uptime": null, "requests": null,
       "current": null, "rss": null, "last_exit": "drained", "successor_pid": null,
       "retiring": []}]}
  ]})";

}  // namespace

TEST_CASE("format_status: the table, STOPPED, and whether all run") {
  bool running = true;
  std::string t = format_status(json::parse(kStatus), true, &running);
  CHECK(t ==
        "NAME      STATE    PID   UPTIME   REQS  CURRENT  RSS    LAST EXIT\n"
        "frontend  RUNNING  101   0:00:49  -     -        4.0M   -\n"
        "site1:0   RUNNING  4711  1:02:05  17    0.4s     31.2M  exited on signal 9\n"
        "site1:1   RUNNING  4712  0:00:05  0     -        30.0M  replacement pid 4790 starting; "
        "draining pid 4705\n"
        "api:0     STOPPED  -     -        -     -        -      drained\n");
  CHECK_FALSE(running);
  // Without the front end and the stopped group: everything runs.
  json j = json::parse(kStatus);
  j["groups"].erase(1);
  t = format_status(j, false, &running);
  CHECK(running);
  CHECK(t.find("frontend") == std::string::npos);
  // Several requests in progress: the oldest age and the count.
  j["groups"][0]["processes"][0]["current"].push_back({{"id", 10}, {"age", 2.5}});
  t = format_status(j, false, &running);
  CHECK(t.find(" 2.5s(2) ") != std::string::npos);
}

TEST_CASE("format_status: a group in BACKOFF shows its last cause and the next try") {
  setenv("TZ", "UTC", 1);
  tzset();
  json j = json::parse(R"({"ok": true, "groups": [
    {"name": "graphite", "state": "BACKOFF", "processes": [
      {"index": 0, "state": "BACKOFF", "pid": null, "uptime": null, "requests": null,
       "current": null, "rss": null, "start_failures": 3,
       "last_exit": "exited with status 3 during start-up: ImportError: no module named x",
       "next_try_in": 3.5, "next_try_at": 1796421303.2, "successor_pid": null,
       "retiring": []}]}]})");
  bool running = true;
  std::string t = format_status(j, false, &running);
  CHECK(t ==
        "NAME        STATE    PID  UPTIME  REQS  CURRENT  RSS  LAST EXIT\n"
        "graphite:0  BACKOFF  -    -       -     -        -    exited with status 3 during "
        "start-up: ImportError: no module named x; next try in 3.5s at 21:55:03\n");
  CHECK_FALSE(running);
}

TEST_CASE("render_reply: words and exit statuses") {
  auto cmd = [](Words w) { return parse_command(w).value(); };
  json ok = {{"ok", true}};
  struct Case {
    Words words;
    json reply;
    const char* out;
    const char* err;
    int code;
  };
  const Case cases[] = {
      {{"start", "a", "b"}, ok, "a b: starting\n", "", 0},
      {{"stop", "all"}, ok, "all: stopping\n", "", 0},
      {{"stop", "--now", "a"}, ok, "a: stopping now (SIGTERM)\n", "", 0},
      {{"restart", "a"}, ok, "a: restarting (rolling)\n", "", 0},
      {{"restart", "--now", "a"}, ok, "a: restarting now (SIGTERM, then respawn)\n", "", 0},
      {{"reload"}, ok, "configuration reloaded\n", "", 0},
      {{"reload"},
       {{"ok", true},
        {"warnings", {"TLS: <VirtualHost *:443> a: SSLCertificateKeyFile /k.pem: the key does not "
                      "match the certificate of SSLCertificateFile /c.pem; the certificate loaded "
                      "before keeps serving"}}},
       "configuration reloaded\n",
       "wsgictl: warning: TLS: <VirtualHost *:443> a: SSLCertificateKeyFile /k.pem: the key does "
       "not match the certificate of SSLCertificateFile /c.pem; the certificate loaded before "
       "keeps serving\n",
       0},
      {{"reopen"}, ok, "log files reopened\n", "", 0},
      {{"pid"}, {{"ok", true}, {"pid", 100}}, "100\n", "", 0},
      {{"pid", "a"}, {{"ok", true}, {"pids", {{"a", {5, 6}}}}}, "5\n6\n", "", 0},
      {{"pid", "all"}, {{"ok", true}, {"pids", {{"a", {5, 6}}, {"b", {7}}}}}, "a: 5 6\nb: 7\n", "", 0},
      {{"signal", "USR1", "a"}, ok, "a: sent USR1\n", "", 0},
      {{"tail", "a"}, {{"ok", true}, {"lines", {"one", "two"}}}, "one\ntwo\n", "", 0},
      {{"shutdown"}, ok, "wsgid is shutting down\n", "", 0},
      {{"shutdown", "--now"}, ok, "wsgid is shutting down now\n", "", 0},
      {{"version"}, {{"ok", true}, {"version", "0.1.0"}}, "wsgictl 0.1.0\nwsgid 0.1.0\n", "", 0},
      {{"stop", "nope"}, {{"ok", false}, {"code", "no-such-group"}, {"error", "no such group 'nope'"}},
       "", "wsgictl: no such group 'nope'\n", 4},
      {{"signal", "FOO", "a"}, {{"ok", false}, {"code", "usage"}, {"error", "unknown signal 'FOO'"}},
       "", "wsgictl: unknown signal 'FOO'\n", 2},
      {{"status"},
       {{"ok", false}, {"code", "permission"},
        {"error", "permission denied: uid 33 may not control this wsgid (only root and uid 0)"}},
       "", "wsgictl: permission denied: uid 33 may not control this wsgid (only root and uid 0)\n", 1},
      {{"reload"},
       {{"ok", false}, {"code", "failed"}, {"error", "reload failed: /c has 1 errors"},
        {"errors", {"/c:3:1: unknown directive 'Bogus'"}}},
       "", "wsgictl: reload failed: /c has 1 errors\n/c:3:1: unknown directive 'Bogus'\n", 1},
      {{"check"}, {{"ok", true}, {"diagnostics", ""}, {"errors", 0}, {"warnings", 0}},
       "configuration is valid (0 errors, 0 warnings)\n", "", 0},
      {{"check"},
       {{"ok", false}, {"diagnostics", "/c:3:1: error: x\n"}, {"errors", 1}, {"warnings", 1}},
       "/c:3:1: error: x\n", "wsgictl: configuration is not valid (1 error, 1 warning)\n", 1},
      {{"status"}, json::parse(kStatus), nullptr, "", 3},
  };
  for (const auto& c : cases) {
    CAPTURE(c.words[0]);
    Rendered r = render_reply(cmd(c.words), c.reply, false);
    if (c.out) CHECK(r.out == c.out);
    CHECK(r.err == c.err);
    CHECK(r.code == c.code);
    // --json: the reply itself, the same exit status, nothing on stderr.
    Rendered j = render_reply(cmd(c.words), c.reply, true);
    CHECK(j.code == c.code);
    CHECK(j.err == "");
    json back = json::parse(j.out);
    CHECK(back["ok"] == c.reply["ok"]);
  }
  CHECK(json::parse(render_reply(cmd({"version"}), {{"ok", true}, {"version", "0.1.0"}}, true).out) ==
        json({{"ok", true}, {"version", "0.1.0"}, {"wsgictl", "0.1.0"}}));
  // --json: indented, except tail -f (one object a line).
  json tailf = {{"ok", true}, {"lines", {"a"}}, {"follow", true}};
  CHECK(render_reply(cmd({"tail", "-f", "x"}), tailf, true).out ==
        "{\"follow\":true,\"lines\":[\"a\"],\"ok\":true}\n");
  CHECK(render_reply(cmd({"tail", "x"}), tailf, true).out ==
        "{\n  \"follow\": true,\n  \"lines\": [\n    \"a\"\n  ],\n  \"ok\": true\n}\n");
}

TEST_CASE("socket_from_config: WSGIControlSocket, relative paths, the default") {
  struct Case {
    const char* file;
    const char* text;
    const char* socket;
  };
  const Case cases[] = {
      {"/etc/wsgid/wsgid.conf", "", "/run/x/control.sock"},
      {"/etc/wsgid/wsgid.conf", "WSGIControlSocket /tmp/c.sock\n", "/tmp/c.sock"},
      {"/etc/wsgid/wsgid.conf", "WSGIControlSocket run/c.sock\n", "/etc/wsgid/run/c.sock"},
      {"/etc/wsgid/wsgid.conf", "ServerRoot /srv/w\nWSGIControlSocket c.sock\n", "/srv/w/c.sock"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    wsgid::config::ParseOptions po;
    po.check_files = false;
    auto r = wsgid::config::parse_config_text(c.file, c.text, po);
    if (r.config.file.empty()) r.config.file = c.file;
    CHECK(socket_from_config(r.config, "/run/x") == c.socket);
  }
  // A relative config path: its directory (the parser's default ServerRoot) is
  // taken from the current directory.
  wsgid::config::ParseOptions po;
  po.check_files = false;
  auto r = wsgid::config::parse_config_text("wsgid.conf", "WSGIControlSocket c.sock\n", po);
  CHECK(socket_from_config(r.config, "/run/x") ==
        std::filesystem::current_path().string() + "/c.sock");
}

TEST_CASE("control_socket_path: -s, then -f, then $WSGICTL_SOCKET, then the default config") {
  Options o;
  o.socket = "/s.sock";
  o.config = "/nonexistent/x.conf";
  CHECK(*control_socket_path(o, "/env.sock") == "/s.sock");
  o.socket.clear();
  auto bad = control_socket_path(o, "/env.sock");
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message() == "cannot read /nonexistent/x.conf: No such file or directory");
  o.config.clear();
  CHECK(*control_socket_path(o, "/env.sock", "/nonexistent/d.conf") == "/env.sock");
  std::string dflt = *control_socket_path(o, nullptr, "/nonexistent/d.conf");
  CHECK(dflt.size() > std::string("/control.sock").size());
  CHECK(dflt.substr(dflt.size() - 13) == "/control.sock");
}

TEST_CASE("usage and help texts name every command and the exit statuses") {
  std::string u = usage_text();
  for (const auto& c : commands()) {
    std::string name = c.name;
    if (name == "quit" || name == "exit") continue;
    CHECK(u.find("  " + name + " ") != std::string::npos);
    CHECK(help_text(name).rfind("usage: " + name, 0) == 0);
  }
  CHECK(u.find("7 wsgid is not reachable") != std::string::npos);
  CHECK(u.find("4 no such group") != std::string::npos);
  CHECK(help_text("").find("tail [-f] [-n N] GROUP|frontend|master") != std::string::npos);
}
