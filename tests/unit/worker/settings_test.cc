#include <doctest/doctest.h>

#include <string>

#include "worker/limits/monitor.h"
#include "worker/settings.h"

using wsgid::worker::expand_title;
using wsgid::worker::parse_settings;
using wsgid::worker::request_timeout_limit;

TEST_CASE("expand_title: mod_wsgi's (wsgi:NAME), %{GROUP} anywhere, default") {
  struct Case { const char* display; const char* group; const char* want; };
  const Case cases[] = {
      {"%{GROUP}", "site1", "(wsgi:site1)"},
      {"%{GROUP}", "a-very-long-group-name-indeed", "(wsgi:a-very-long-group-name-indeed)"},
      {"app-%{GROUP}", "s", "app-s"},
      {"%{GROUP}-%{GROUP}", "s", "s-s"},
      {"plain title", "s", "plain title"},
      {"", "s", "wsgid-worker s"},
      {"%{GROUP", "s", "%{GROUP"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.display);
    CHECK(expand_title(c.display, c.group) == c.want);
  }
}

TEST_CASE("parse_settings: the contract's example") {
  auto r = parse_settings(R"J({"role": "worker", "index": 2, "generation": 7,
    "group": {"name": "site1", "processes": 2, "threads": 15, "maximum-requests": null,
              "python-path": ["/srv/site1"], "multithread": true, "multiprocess": true,
              "run_once": false, "display_name": "(wsgi:site1)", "request-timeout": 60,
              "queue-timeout": 45, "umask": "0027", "supplementary-groups": "a,b",
              "memory-limit": 1073741824, "stack-size": 524288, "home": "/srv"},
    "default_user": "www-data", "default_group": "www-data",
    "python_home": null, "python_path": ["/opt/global"],
    "preload": [{"script": "/abs/x.wsgi", "application_group": "",
                 "callable_object": "application", "kind": "import"}],
    "log_level": "info"})J");
  REQUIRE(r.is_ok());
  const auto& s = *r;
  CHECK(s.index == 2);
  CHECK(s.generation == 7);
  CHECK(s.name == "site1");
  CHECK(s.threads == 15);
  CHECK(s.multithread);
  CHECK(s.multiprocess);
  CHECK_FALSE(s.run_once);
  CHECK(s.maximum_requests == 0);
  CHECK(s.effective_title() == "(wsgi:site1)");
  CHECK(s.request_timeout == 60);
  CHECK(s.queue_timeout == 45);
  CHECK(s.deadlock_timeout == 300);  // mod_wsgi default kept
  CHECK(s.graceful_timeout == 15);
  CHECK(s.shutdown_timeout == 5);
  CHECK(*s.umask == 027);
  CHECK(*s.supplementary_groups == std::vector<std::string>{"a", "b"});
  CHECK(s.memory_limit == 1073741824);
  CHECK(*s.stack_size == 524288);
  CHECK(*s.home == "/srv");
  CHECK(s.python_path == std::vector<std::string>{"/opt/global", "/srv/site1"});
  CHECK_FALSE(s.python_home.has_value());
  CHECK(*s.default_user == "www-data");
  REQUIRE(s.preload.size() == 1);
  CHECK(s.preload[0].script == "/abs/x.wsgi");
  CHECK(s.preload[0].kind == "import");
  CHECK(s.log_level == "info");
}

TEST_CASE("parse_settings: defaults, display-name without display_name, flags") {
  auto r = parse_settings(R"J({"group": {"name": "g", "threads": 1, "maximum-requests": 1,
                                        "display-name": "%{GROUP}", "python-path": "/a:/b"}})J");
  REQUIRE(r.is_ok());
  CHECK(r->effective_title() == "(wsgi:g)");
  CHECK_FALSE(r->multithread);
  CHECK(r->run_once);
  CHECK(r->python_path == std::vector<std::string>{"/a", "/b"});
  auto d = parse_settings(R"J({"group": {"name": "g"}})J");
  REQUIRE(d.is_ok());
  CHECK(d->threads == 15);
  CHECK(d->effective_title() == "wsgid-worker g");
  CHECK(d->socket_timeout == 60);
}

TEST_CASE("parse_settings: every error message") {
  struct Case { const char* json; const char* error; };
  const Case cases[] = {
      {"{", "settings: not JSON"},
      {"[]", "settings: not a JSON object"},
      {R"J({"role": "frontend", "group": {"name": "g"}})J", "settings: role is \"frontend\", expected \"worker\""},
      {R"J({"role": "worker"})J", "settings: missing \"group\" object"},
      {R"J({"group": {"threads": 2}})J", "settings: \"group.name\" is missing or empty"},
      {R"J({"group": {"name": "g", "threads": "2"}})J", "settings: \"group.threads\" must be an integer"},
      {R"J({"group": {"name": "g", "threads": 70000}})J", "settings: \"group.threads\" is 70000, expected 0..65533"},
      {R"J({"group": {"name": "g", "request-timeout": "60"}})J", "settings: \"group.request-timeout\" must be a number"},
      {R"J({"group": {"name": "g", "queue-timeout": -1}})J", "settings: \"group.queue-timeout\" must be a number >= 0"},
      {R"J({"group": {"name": "g", "multithread": 1}})J", "settings: \"group.multithread\" must be true or false"},
      {R"J({"group": {"name": "g", "user": 33}})J", "settings: \"group.user\" must be a string"},
      {R"J({"group": {"name": "g", "umask": "999"}})J", "settings: \"group.umask\" must be an octal mode"},
      {R"J({"group": {"name": "g", "umask": true}})J", "settings: \"group.umask\" must be an integer or an octal string"},
      {R"J({"group": {"name": "g", "python-path": [1]}})J", "settings: \"group.python-path\" must be a list of strings"},
      {R"J({"group": {"name": "g"}, "preload": {}})J", "settings: \"preload\" must be a list"},
      {R"J({"group": {"name": "g"}, "preload": [1]})J", "settings: \"preload\" must be a list of objects"},
      {R"J({"group": {"name": "g"}, "preload": [{"script": ""}]})J", "settings: \"preload[0].script\" must be a non-empty path"},
      {R"J({"group": {"name": "g"}, "preload": [{"script": "/x", "kind": "other"}]})J",
       "settings: \"preload[0].kind\" must be \"import\" or \"alias\""},
      {R"J({"group": {"name": "g"}, "index": 1.5})J", "settings: \"index\" must be an integer"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.json);
    auto r = parse_settings(c.json);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message() == c.error);
  }
}

TEST_CASE("request_timeout_limit: mod_wsgi 6's per-thread rule") {
  CHECK(request_timeout_limit(0, 15) == 0);
  CHECK(request_timeout_limit(60, 1) == doctest::Approx(60));
  CHECK(request_timeout_limit(60, 0) == doctest::Approx(60));
  CHECK(request_timeout_limit(10, 10) == doctest::Approx(33.026).epsilon(0.001));
  CHECK(request_timeout_limit(10, 25) == doctest::Approx(42.189).epsilon(0.001));
}
