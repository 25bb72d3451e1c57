// The worker settings message, both ends; see worker_settings.h.
#include "model/worker_settings.h"

#include <fmt/core.h>

#include "model/group_options.h"
#include "model/model_json.h"
#include "model/paths.h"

namespace wsgid::model {

using nlohmann::json;

namespace {

std::string expand_app_group(const std::string& ag) { return ag == "%{GLOBAL}" ? "" : ag; }

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

// Reads keys of one object; a missing key or null leaves *out unchanged. Errors
// name "where" + key ("group.threads", "preload[0].kind").
class Reader {
 public:
  Reader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  const json* find(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  Status must_be(std::string_view key, std::string_view what) const {
    return Status::error(fmt::format("settings: \"{}{}\" must be {}", where_, key, what));
  }
  Status integer(const char* key, int64_t* out) const {
    const json* v = find(key);
    if (!v) return Status::ok();
    if (!v->is_number_integer()) return must_be(key, "an integer");
    *out = v->get<int64_t>();
    return Status::ok();
  }
  Status integer(const char* key, int* out) const {
    int64_t x = *out;
    Status s = integer(key, &x);
    *out = static_cast<int>(x);
    return s;
  }
  Status boolean(const char* key, bool* out) const {
    const json* v = find(key);
    if (!v) return Status::ok();
    if (!v->is_boolean()) return must_be(key, "true or false");
    *out = v->get<bool>();
    return Status::ok();
  }
  Status string(const char* key, std::string* out) const {
    const json* v = find(key);
    if (!v) return Status::ok();
    if (!v->is_string()) return must_be(key, "a string");
    *out = v->get<std::string>();
    return Status::ok();
  }
  Status opt_string(const char* key, std::optional<std::string>* out) const {
    std::string s;
    if (!find(key)) return Status::ok();
    if (Status st = string(key, &s); !st) return st;
    *out = std::move(s);
    return Status::ok();
  }

 private:
  const json& obj_;
  std::string where_;
};

#define TRY(expr)             \
  do {                        \
    Status s_ = (expr);       \
    if (!s_) return s_;       \
  } while (0)

Status read_group(const json& j, WorkerSettings* w) {
  Reader r(j, "group.");
  GroupSpec& g = w->group;
  TRY(r.string("name", &g.name));
  if (g.name.empty()) return Status::error("settings: \"group.name\" is missing or empty");
  if (std::optional<OptionError> e = read_group_options(j, &g)) return r.must_be(e->key, e->expected);
  if (g.threads < 0 || g.threads > 65533)
    return Status::error(
        fmt::format("settings: \"group.threads\" is {}, expected 0..65533", g.threads));
  TRY(r.boolean("multiprocess", &g.processes_given));
  w->multithread = g.multithread();
  w->multiprocess = g.multiprocess();
  w->run_once = g.run_once();
  TRY(r.boolean("multithread", &w->multithread));
  TRY(r.boolean("run_once", &w->run_once));
  std::optional<std::string> title;
  TRY(r.opt_string("display_name", &title));
  w->title = title ? *title : g.display_name ? g.title() : std::string();
  return Status::ok();
}

Status read_preload(const Reader& top, const json& list, WorkerSettings* w) {
  if (!list.is_array()) return top.must_be("preload", "a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    if (!e.is_object()) return top.must_be("preload", "a list of objects");
    Reader r(e, fmt::format("preload[{}].", i));
    Preload p;
    TRY(r.string("script", &p.script));
    if (p.script.empty()) return r.must_be("script", "a non-empty path");
    TRY(r.string("application_group", &p.application_group));
    TRY(r.string("callable_object", &p.callable_object));
    TRY(r.string("kind", &p.kind));
    if (p.kind != "import" && p.kind != "alias") return r.must_be("kind", "\"import\" or \"alias\"");
    w->preload.push_back(std::move(p));
  }
  return Status::ok();
}

}  // namespace

bool WorkerSettings::operator==(const WorkerSettings& o) const {
  return index == o.index && generation == o.generation && same_group_options(group, o.group) &&
         multithread == o.multithread && multiprocess == o.multiprocess &&
         run_once == o.run_once && title == o.title && default_user == o.default_user &&
         default_group == o.default_group && python_home == o.python_home &&
         python_path == o.python_path && preload == o.preload && log_level == o.log_level;
}

WorkerSettings worker_settings_for(const Config& c, const GroupSpec& g, bool as_root) {
  WorkerSettings w;
  w.group = g;
  w.multithread = g.multithread();
  w.multiprocess = g.multiprocess();
  w.run_once = g.run_once();
  w.title = g.title();
  w.default_user = c.user ? c.user : as_root ? std::optional<std::string>("www-data") : std::nullopt;
  w.default_group =
      c.group ? c.group : as_root ? std::optional<std::string>("www-data") : std::nullopt;
  w.python_home = c.python_home;
  w.python_path = c.python_path;
  for (const ImportScript& imp : c.imports) {
    if (imp.process_group != g.name) continue;
    w.preload.push_back({from_server_root(c, imp.script), expand_app_group(imp.application_group),
                         "application", "import"});
  }
  auto add_aliases = [&](const VirtualHost& vh) {
    for (const Mount& m : vh.mounts) {
      if (!m.process_group || *m.process_group != g.name || !m.application_group) continue;
      if (m.script.find('$') != std::string::npos) continue;
      w.preload.push_back({from_server_root(c, m.script), expand_app_group(*m.application_group),
                           m.callable_object.value_or("application"), "alias"});
    }
  };
  add_aliases(c.server);
  for (const VirtualHost& vh : c.vhosts) add_aliases(vh);
  w.log_level = c.log_level;
  return w;
}

json worker_settings_to_json(const WorkerSettings& w) {
  json group = group_to_json(w.group);
  group["multithread"] = w.multithread;
  group["multiprocess"] = w.multiprocess;
  group["run_once"] = w.run_once;
  group["display_name"] = w.title;
  json preload = json::array();
  for (const Preload& p : w.preload)
    preload.push_back({{"script", p.script},
                       {"application_group", p.application_group},
                       {"callable_object", p.callable_object},
                       {"kind", p.kind}});
  json j;
  j["role"] = "worker";
  j["group"] = std::move(group);
  j["default_user"] = opt(w.default_user);
  j["default_group"] = opt(w.default_group);
  j["python_home"] = opt(w.python_home);
  j["python_path"] = w.python_path;
  j["preload"] = std::move(preload);
  j["log_level"] = w.log_level;
  return j;
}

Result<WorkerSettings> worker_settings_from_text(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::error("settings: not JSON");
  if (!j.is_object()) return Status::error("settings: not a JSON object");
  WorkerSettings w;
  Reader top(j, "");
  std::string role = "worker";
  TRY(top.string("role", &role));
  if (role != "worker")
    return Status::error(fmt::format("settings: role is \"{}\", expected \"worker\"", role));
  TRY(top.integer("index", &w.index));
  TRY(top.integer("generation", &w.generation));
  TRY(top.opt_string("default_user", &w.default_user));
  TRY(top.opt_string("default_group", &w.default_group));
  TRY(top.opt_string("python_home", &w.python_home));
  if (const json* path = top.find("python_path")) {
    // The same spelling as a group's python-path (an array, or "/a:/b").
    GroupSpec scratch;
    if (read_group_options(json{{"python-path", *path}}, &scratch))
      return top.must_be("python_path", "a list of strings");
    w.python_path = std::move(scratch.python_path);
  }
  TRY(top.string("log_level", &w.log_level));
  auto g = j.find("group");
  if (g == j.end() || !g->is_object()) return Status::error("settings: missing \"group\" object");
  TRY(read_group(*g, &w));
  if (const json* pl = top.find("preload")) TRY(read_preload(top, *pl, &w));
  return w;
}

}  // namespace wsgid::model
