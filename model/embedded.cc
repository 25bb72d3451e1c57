#include "model/embedded.h"

#include <functional>
#include <vector>

#include "model/paths.h"
#include "model/resolve.h"

namespace wsgid::model {

namespace {

// Calls visit(mount) for each script alias that runs embedded at its own URL or
// at the path of a <Location> inside it; stops at the first visit() that
// returns true, and returns true then.
bool for_each_embedded_mount(const Config& config, const std::function<bool(const Mount&)>& visit) {
  Resolver resolver(config);
  auto embedded_in = [&](const VirtualHost& owner, int index) {
    for (const Mount& m : owner.mounts) {
      std::vector<int> hosts;
      hosts.push_back(index);
      if (index < 0)
        for (size_t i = 0; i < config.vhosts.size(); ++i) hosts.push_back(static_cast<int>(i));
      bool embedded = false;
      for (int h : hosts) {
        std::vector<std::string> urls;
        urls.push_back(m.is_match ? std::string() : m.url);
        auto add_locs = [&](const VirtualHost& vh) {
          if (m.is_match) return;
          for (const Block& b : vh.locations)
            if (!b.is_regex && b.settings.process_group &&
                (alias_match_length(m.url, b.path) > 0 || location_matches(b.path, m.url)))
              urls.push_back(b.path);
        };
        add_locs(config.server);
        if (h >= 0) add_locs(config.vhosts[static_cast<size_t>(h)]);
        for (const std::string& u : urls)
          if (!resolver.resolve(h, m, u, m.script).process_group) embedded = true;
      }
      if (embedded && visit(m)) return true;
    }
    return false;
  };
  if (embedded_in(config.server, -1)) return true;
  for (size_t i = 0; i < config.vhosts.size(); ++i)
    if (embedded_in(config.vhosts[i], static_cast<int>(i))) return true;
  return false;
}

}  // namespace

bool config_has_embedded(const Config& config) {
  if (config.restrict_embedded) return false;
  if (for_each_embedded_mount(config, [](const Mount&) { return true; })) return true;
  return handler_may_run_embedded(config);
}

bool handler_may_run_embedded(const Config& config) {
  if (config.restrict_embedded) return false;
  auto names_group = [](const ScopeSettings& s) {
    return s.process_group && !s.process_group->empty() && *s.process_group != kEmbeddedPoolName;
  };
  auto is_handler = [](const ScopeSettings& s) {
    return (s.handlers.set_handler && *s.handlers.set_handler == "wsgi-script") ||
           !s.handlers.wsgi_extensions.empty();
  };
  auto host = [&](const VirtualHost& vh, bool outer_group) {
    bool group = outer_group || names_group(vh.settings);
    if (is_handler(vh.settings) && !group) return true;
    for (const auto* list : {&vh.locations, &vh.directories})
      for (const Block& b : *list)
        if (is_handler(b.settings) && !group && !names_group(b.settings)) return true;
    return false;
  };
  bool server_group = names_group(config.server.settings);
  if (host(config.server, false)) return true;
  for (const VirtualHost& vh : config.vhosts)
    if (host(vh, server_group)) return true;
  return false;
}

std::set<std::string> embedded_scripts(const Config& config) {
  std::set<std::string> files;
  if (config.restrict_embedded) return files;
  for_each_embedded_mount(config, [&](const Mount& m) {
    if (m.script.find('$') == std::string::npos) files.insert(from_server_root(config, m.script));
    return false;
  });
  return files;
}

namespace {

bool block_has_scripts(const Block& b) {
  return b.access.auth_user_script || b.access.auth_group_script || b.access.access_script;
}

bool host_has_scripts(const VirtualHost& vh) {
  for (const auto* list : {&vh.locations, &vh.directories})
    for (const Block& b : *list)
      if (block_has_scripts(b)) return true;
  return false;
}

}  // namespace

bool config_has_auth_scripts(const Config& config) {
  if (host_has_scripts(config.server)) return true;
  for (const VirtualHost& vh : config.vhosts)
    if (host_has_scripts(vh)) return true;
  return false;
}

std::string_view frontend_python_use(const Config& config) {
  if (config_has_embedded(config)) return "embedded mode";
  if (config_has_auth_scripts(config)) return "mod_wsgi's auth scripts";
  return "";
}

int frontend_loop_count(const Config& config, int cpus) {
  if (!frontend_python_use(config).empty()) return 1;
  int n = config.frontend_loops > 0 ? config.frontend_loops : cpus / 4;
  return n < 1 ? 1 : n > kMaxFrontendLoops ? kMaxFrontendLoops : n;
}

}  // namespace wsgid::model
