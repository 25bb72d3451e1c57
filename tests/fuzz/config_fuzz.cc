// libFuzzer target for the configuration parser: syntax.h + parser.h on any
// text, with no file access (check_files=false, allow_include=false). Renders
// every diagnostic, builds the JSON model and resolves every mount, and checks
// the invariants below (abort on a broken one, so the fuzzer reports it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "model/model_json.h"
#include "model/resolve.h"
#include "supervisor/config/parser.h"

using namespace wsgid::config;
using namespace wsgid::model;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  ParseOptions o;
  o.check_files = false;
  o.syntax.allow_include = false;
  o.syntax.server_root = "/fuzz";
  ParseResult r = parse_config_text("fuzz.conf", text, o);

  // Counts agree with the list; every diagnostic renders with its message.
  size_t errors = 0, warnings = 0;
  for (const Diagnostic& d : r.diags.all()) {
    if (d.severity == Severity::kError) ++errors;
    if (d.severity == Severity::kWarning) ++warnings;
    require(!d.message.empty());
    std::string shown = r.diags.render(d);
    require(shown.find(d.message) != std::string::npos);
    require(!shown.empty() && shown.back() == '\n');
  }
  require(errors == r.diags.error_count());
  require(warnings == r.diags.warning_count());
  require(r.ok() == (errors == 0));
  (void)r.diags.render_all();

  // The model: JSON that parses back, groups that survive the round trip.
  const Config& c = r.config;
  nlohmann::json j = config_to_json(c);
  require(nlohmann::json::parse(j.dump()) == j);
  require(j["groups"].size() == c.groups.size());
  for (const GroupSpec& g : c.groups) {
    require(g.processes >= 1 && g.threads >= 0 && g.threads <= 65533);
    nlohmann::json gj = group_to_json(g);
    wsgid::Result<GroupSpec> back = group_from_json(gj);
    require(back.is_ok());
    nlohmann::json gj2 = group_to_json(*back);
    gj.erase("defined_at");
    gj2.erase("defined_at");
    require(gj == gj2);
  }

  // Every mount resolves and splits its own URL without trouble.
  Resolver res(c);
  auto host = [&](const VirtualHost& vh, int index) {
    for (const Mount& m : vh.mounts) {
      std::string url = m.is_match ? "/x" : m.url;
      auto s = res.split(m, url);
      if (!m.is_match && !m.url.empty() && m.url[0] == '/') require(s.has_value());
      Route route = res.resolve(index, m, url, s ? s->script_file : m.script);
      ExpandContext ctx;
      ctx.server_name = vh.server_name;
      ctx.script_name = s ? std::string_view(s->script_name) : std::string_view();
      (void)expand_application_group(route.application_group, ctx);
    }
  };
  host(c.server, -1);
  for (size_t i = 0; i < c.vhosts.size(); ++i) host(c.vhosts[i], static_cast<int>(i));
  return 0;
}
