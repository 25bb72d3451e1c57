// The worker settings message (model/worker_settings.h) and the option table
// (model/group_options.h): what the master encodes the worker decodes to the
// same value, groups compare by their options and not by where they are written.
#include <doctest/doctest.h>

#include <string>

#include "model/group_options.h"
#include "model/model_json.h"
#include "model/worker_settings.h"
#include "supervisor/config/parser.h"

using namespace wsgid;
using nlohmann::json;

namespace {

model::Config parse_ok(const std::string& text) {
  config::ParseOptions o;
  o.check_files = false;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv";
  config::ParseResult r = config::parse_config_text("/etc/m.conf", text, o);
  INFO(r.diags.render_all());
  CHECK_FALSE(r.diags.has_errors());
  return std::move(r.config);
}

}  // namespace

TEST_CASE("worker settings: the worker decodes what the master encodes") {
  const char* configs[] = {
      "WSGIDaemonProcess a\n",
      "User app\nGroup app\nWSGIPythonHome /venv\nWSGIPythonPath /lib1:/lib2\nLogLevel info\n"
      "WSGIDaemonProcess c processes=5 threads=1 maximum-requests=1 display-name=%{GROUP} "
      "user=#1000 group=#1000 supplementary-groups=#5,#6 umask=0027 home=/srv lang=C.UTF-8 "
      "python-path=/a:/b switch-interval=0.002 request-timeout=10 queue-timeout=16 "
      "send-buffer-size=1024 server-metrics=On\n"
      "WSGIImportScript imp.wsgi process-group=c application-group=%{GLOBAL}\n"
      "WSGIScriptAlias /x /srv/x.wsgi process-group=c application-group=app "
      "callable-object=app\n",
  };
  for (const char* text : configs) {
    CAPTURE(text);
    model::Config c = parse_ok(text);
    for (bool root : {false, true}) {
      model::WorkerSettings sent = model::worker_settings_for(c, c.groups.back(), root);
      json wire = model::worker_settings_to_json(sent);
      Result<model::WorkerSettings> got = model::worker_settings_from_text(wire.dump());
      REQUIRE(got.is_ok());
      CHECK(*got == sent);
      // Everything comes back but where the group is written ("defined_at").
      json again = model::worker_settings_to_json(*got);
      CHECK(again["group"]["defined_at"] == "");
      wire["group"].erase("defined_at");
      again["group"].erase("defined_at");
      CHECK(again == wire);
    }
  }
  model::Config c = parse_ok(configs[1]);
  model::WorkerSettings w = model::worker_settings_for(c, c.groups[0], false);
  CHECK(w.title == "(wsgi:c)");
  CHECK_FALSE(w.multithread);
  CHECK(w.multiprocess);
  CHECK(w.run_once);
  CHECK(*w.default_user == "app");
  CHECK(w.python_path == std::vector<std::string>{"/lib1", "/lib2"});
  CHECK(w.log_level == "info");
  REQUIRE(w.preload.size() == 2);
  CHECK(w.preload[0].script == "/srv/imp.wsgi");
  CHECK(w.preload[0].application_group == "");
  CHECK(w.preload[0].kind == "import");
  CHECK(w.preload[1].callable_object == "app");
  CHECK(w.preload[1].kind == "alias");
  CHECK_FALSE(model::worker_settings_for(parse_ok("WSGIDaemonProcess a\n"),
                                         parse_ok("WSGIDaemonProcess a\n").groups[0], false)
                  .default_user);
  CHECK(*model::worker_settings_for(parse_ok("WSGIDaemonProcess a\n"),
                                    parse_ok("WSGIDaemonProcess a\n").groups[0], true)
             .default_user == "www-data");
}

TEST_CASE("groups compare by their options, not by where they are written") {
  model::Config base = parse_ok("WSGIDaemonProcess g threads=4\n");
  model::Config moved = parse_ok("\n\nWSGIDaemonProcess  g  threads=4\n");
  CHECK(model::same_group_options(base.groups[0], moved.groups[0]));
  const char* changed[] = {
      "WSGIDaemonProcess g threads=5\n",
      "WSGIDaemonProcess h threads=4\n",
      "WSGIDaemonProcess g threads=4 processes=1\n",  // processes= given: multiprocess
      "WSGIDaemonProcess g threads=4 umask=0022\n",
      "WSGIDaemonProcess g threads=4 python-path=/x\n",
      "WSGIDaemonProcess g threads=4 listen-backlog=50\n",
      "WSGIDaemonProcess g threads=4 response-flush-delay=10\n",
      "WSGIDaemonProcess g threads=4 server-metrics=On\n",
  };
  for (const char* text : changed) {
    CAPTURE(text);
    CHECK_FALSE(model::same_group_options(base.groups[0], parse_ok(text).groups[0]));
  }
}

TEST_CASE("an option of the wrong type names the key and what it should be") {
  struct Case {
    json j;
    const char* key;
    const char* expected;
  } cases[] = {
      {{{"threads", "2"}}, "threads", "an integer"},
      {{{"request-timeout", -1}}, "request-timeout", "a number >= 0"},
      {{{"request-timeout", "x"}}, "request-timeout", "a number"},
      {{{"server-metrics", 1}}, "server-metrics", "true or false"},
      {{{"home", 1}}, "home", "a string"},
      {{{"supplementary-groups", 1}}, "supplementary-groups", "a list of strings"},
      {{{"umask", "0999"}}, "umask", "an octal mode"},
      {{{"umask", 01000}}, "umask", "an octal mode"},
      {{{"umask", 1.5}}, "umask", "an integer or an octal string"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.j.dump());
    model::GroupSpec g;
    std::optional<model::OptionError> e = model::read_group_options(c.j, &g);
    REQUIRE(e.has_value());
    CHECK(std::string(e->key) == c.key);
    CHECK(std::string(e->expected) == c.expected);
  }
}
