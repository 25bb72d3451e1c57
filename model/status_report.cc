#include "model/status_report.h"

namespace wsgid::model {

namespace {

using json = nlohmann::json;

Status bad(const std::string& path, const char* what) {
  return Status::error("status: '" + path + "' " + what);
}

Status get_num(const json& o, const char* key, const std::string& path, double* out, bool nullable) {
  auto it = o.find(key);
  if (it == o.end() || (nullable && it->is_null())) return Status::ok();
  if (!it->is_number()) return bad(path + key, "must be a number");
  *out = it->get<double>();
  return Status::ok();
}

Status get_uint(const json& o, const char* key, const std::string& path, uint64_t* out) {
  auto it = o.find(key);
  if (it == o.end()) return Status::ok();
  if (!it->is_number_unsigned()) return bad(path + key, "must be an integer >= 0");
  *out = it->get<uint64_t>();
  return Status::ok();
}

Status get_str(const json& o, const char* key, const std::string& path, std::string* out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return Status::ok();
  if (!it->is_string()) return bad(path + key, "must be a string");
  *out = it->get<std::string>();
  return Status::ok();
}

#define TRY(expr)       \
  do {                  \
    Status s_ = (expr); \
    if (!s_) return s_; \
  } while (0)

}  // namespace

const GroupReport* StatusReport::find(const std::string& name) const {
  for (const GroupReport& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

json status_report_to_json(const StatusReport& r) {
  json groups = json::array();
  for (const GroupReport& g : r.groups) {
    json procs = json::array();
    for (const ProcessReport& p : g.processes)
      procs.push_back({{"index", p.index},
                       {"pid", p.pid > 0 ? json(p.pid) : json(nullptr)},
                       {"state", p.state},
                       {"started", p.started > 0 ? json(p.started) : json(nullptr)},
                       {"last_exit", p.last_exit.empty() ? json(nullptr) : json(p.last_exit)}});
    groups.push_back({{"name", g.name}, {"restarts", g.restarts}, {"processes", procs}});
  }
  return {{"started", r.started},
          {"reloads", r.reloads},
          {"failed_reloads", r.failed_reloads},
          {"version", r.version},
          {"groups", groups}};
}

Result<StatusReport> status_report_from_json(const json& j) {
  if (!j.is_object()) return Status::error("status: must be an object");
  StatusReport r;
  TRY(get_num(j, "started", "", &r.started, false));
  TRY(get_uint(j, "reloads", "", &r.reloads));
  TRY(get_uint(j, "failed_reloads", "", &r.failed_reloads));
  TRY(get_str(j, "version", "", &r.version));
  auto gs = j.find("groups");
  if (gs == j.end()) return r;
  if (!gs->is_array()) return bad("groups", "must be an array");
  for (size_t i = 0; i < gs->size(); ++i) {
    const json& gj = (*gs)[i];
    std::string path = "groups[" + std::to_string(i) + "].";
    if (!gj.is_object()) return bad(path.substr(0, path.size() - 1), "must be an object");
    GroupReport g;
    auto name = gj.find("name");
    if (name == gj.end() || !name->is_string()) return bad(path + "name", "must be a string");
    g.name = name->get<std::string>();
    if (auto rs = gj.find("restarts"); rs != gj.end()) {
      if (!rs->is_object()) return bad(path + "restarts", "must be an object");
      for (auto it = rs->begin(); it != rs->end(); ++it) {
        if (!it->is_number_unsigned()) return bad(path + "restarts." + it.key(), "must be an integer >= 0");
        g.restarts[it.key()] = it->get<uint64_t>();
      }
    }
    if (auto ps = gj.find("processes"); ps != gj.end()) {
      if (!ps->is_array()) return bad(path + "processes", "must be an array");
      for (size_t k = 0; k < ps->size(); ++k) {
        const json& pj = (*ps)[k];
        std::string pp = path + "processes[" + std::to_string(k) + "].";
        if (!pj.is_object()) return bad(pp.substr(0, pp.size() - 1), "must be an object");
        ProcessReport p;
        if (auto x = pj.find("index"); x != pj.end()) {
          if (!x->is_number_integer()) return bad(pp + "index", "must be an integer");
          p.index = x->get<int>();
        }
        if (auto x = pj.find("pid"); x != pj.end() && !x->is_null()) {
          if (!x->is_number_integer()) return bad(pp + "pid", "must be an integer");
          p.pid = x->get<pid_t>();
        }
        TRY(get_str(pj, "state", pp, &p.state));
        TRY(get_num(pj, "started", pp, &p.started, true));
        TRY(get_str(pj, "last_exit", pp, &p.last_exit));
        g.processes.push_back(std::move(p));
      }
    }
    r.groups.push_back(std::move(g));
  }
  return r;
}

}  // namespace wsgid::model
