#include "supervisor/frontend/readiness.h"

#include <algorithm>

namespace wsgid::frontend {

namespace {

// A process-group value: a literal group name, embedded ("" or %{GLOBAL}),
// or a template that may name any group.
void add_name(const std::optional<std::string>& v, std::vector<std::string>* out, bool* any) {
  if (!v || v->empty() || *v == "%{GLOBAL}") return;
  if (v->find("%{") != std::string::npos) {
    *any = true;
    return;
  }
  if (std::find(out->begin(), out->end(), *v) == out->end()) out->push_back(*v);
}

void add_vhost(const model::VirtualHost& vh, std::vector<std::string>* out, bool* any) {
  add_name(vh.settings.process_group, out, any);
  for (const model::Mount& m : vh.mounts) add_name(m.process_group, out, any);
  for (const model::Block& b : vh.locations) add_name(b.settings.process_group, out, any);
  for (const model::Block& b : vh.directories) add_name(b.settings.process_group, out, any);
}

}  // namespace

std::vector<std::string> groups_serving(const model::Config& config, const model::VirtualHost* vh) {
  std::vector<std::string> names;
  bool any = false;
  if (vh && vh != &config.server) add_vhost(*vh, &names, &any);
  add_vhost(config.server, &names, &any);
  if (any) {
    names.clear();
    for (const model::GroupSpec& g : config.groups) names.push_back(g.name);
  }
  return names;
}

bool group_live(const model::GroupEndpoint& ep, const model::StatusReport* report) {
  if (ep.state != "running") return false;
  if (!report) return true;
  const model::GroupReport* g = report->find(ep.name);
  if (!g) return false;  // the master has not reported the group yet (just added)
  return std::any_of(g->processes.begin(), g->processes.end(),
                     [](const model::ProcessReport& p) { return p.state == "RUNNING"; });
}

std::string not_ready_reason(const model::Config& config, const model::VirtualHost* vh,
                             const std::vector<model::GroupEndpoint>& groups,
                             const model::StatusReport* report, bool accepting) {
  if (!accepting) return "the front end is stopping";
  for (const std::string& name : groups_serving(config, vh)) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const model::GroupEndpoint& e) { return e.name == name; });
    if (it == groups.end()) return "group " + name + " is not configured";
    if (!group_live(*it, report)) return "group " + name + " has no live worker (" + it->state + ")";
  }
  return "";
}

}  // namespace wsgid::frontend
