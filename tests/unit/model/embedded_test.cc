// embedded.h: which script aliases run in the front end's Python, and their files.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "model/embedded.h"
#include "supervisor/config/parser.h"

using namespace wsgid::config;
using namespace wsgid::model;

namespace {

Config parse_ok(const std::string& text) {
  ParseOptions o;
  o.check_files = false;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/srv";
  ParseResult r = parse_config_text("e.conf", text, o);
  INFO(r.diags.render_all());
  CHECK_FALSE(r.diags.has_errors());
  return std::move(r.config);
}

}  // namespace

TEST_CASE("embedded_scripts and config_has_embedded: the aliases no process group claims") {
  struct Case {
    const char* what;
    const char* config;
    bool restrict;  // WSGIRestrictEmbedded On (set after parsing: the
                    // parser refuses such an alias)
    bool embedded;
    std::set<std::string> scripts;
  } cases[] = {
      {"no alias", "", false, false, {}},
      {"an alias with no group", "WSGIScriptAlias /a /srv/a.wsgi\n", false, true, {"/srv/a.wsgi"}},
      {"relative to ServerRoot", "WSGIScriptAlias /a apps/a.wsgi\n", false, true, {"/srv/apps/a.wsgi"}},
      {"process-group= names a group",
       "WSGIDaemonProcess g\nWSGIScriptAlias /a /srv/a.wsgi process-group=g\n", false, false, {}},
      {"WSGIProcessGroup at server level",
       "WSGIDaemonProcess g\nWSGIProcessGroup g\nWSGIScriptAlias /a /srv/a.wsgi\n", false, false, {}},
      {"WSGIProcessGroup %{GLOBAL} is embedded",
       "WSGIProcessGroup %{GLOBAL}\nWSGIScriptAlias /a /srv/a.wsgi\n", false, true, {"/srv/a.wsgi"}},
      {"one of two aliases",
       "WSGIDaemonProcess g\nWSGIScriptAlias /a /srv/a.wsgi process-group=g\n"
       "WSGIScriptAlias /b /srv/b.wsgi\n",
       false, true, {"/srv/b.wsgi"}},
      {"a <Location> inside the alias runs embedded",
       "WSGIDaemonProcess g\nWSGIProcessGroup g\nWSGIScriptAlias /a /srv/a.wsgi\n"
       "<Location /a/x>\nWSGIProcessGroup %{GLOBAL}\n</Location>\n",
       false, true, {"/srv/a.wsgi"}},
      {"a back-reference target is not a file",
       "WSGIScriptAliasMatch ^/(\\w+) /srv/$1.wsgi\n", false, true, {}},
      {"WSGIRestrictEmbedded On: none runs", "WSGIScriptAlias /a /srv/a.wsgi\n", true, false, {}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Config cfg = parse_ok(c.config);
    cfg.restrict_embedded = c.restrict;
    CHECK(config_has_embedded(cfg) == c.embedded);
    CHECK(embedded_scripts(cfg) == c.scripts);
  }
}
