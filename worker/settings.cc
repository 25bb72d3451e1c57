#include "worker/settings.h"

#include <nlohmann/json.hpp>

#include <fmt/core.h>

#include <cmath>
#include <cstdlib>

namespace wsgid::worker {
namespace {

using nlohmann::json;

// Each getter leaves *out unchanged for a missing key or null, and returns a
// non-ok Status naming "where.key" for a value of the wrong type.
class Reader {
 public:
  Reader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  const json* find(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  Status type_error(const char* key, const char* what) const {
    return Status::error(fmt::format("settings: \"{}{}\" must be {}", where_, key, what));
  }
  Status number(const char* key, double* out) const {
    const json* v = find(key);
    if (!v) return Status::ok();
    if (!v->is_number()) return type_error(key, "a number");
    *out = v->get<double>();
    if (!std::isfinite(*out) || *out < 0) return type_error(key, "a number >= 0");
    return Status::ok();
  }
  Status integer(const char* key, int64_t* out) const {
    const json* v = find(key);
    if (!v) return Status::ok();
    if (!v->is_number_integer()) return type_error(key, "an integer");
    *out = v->get<int64_t>();
    return Status::ok();
  }
  Status integer(const char* key, int* out) const {
    int64_t x = *out;
    Status s = integer(key, &x);
    *out = static_cast<int>(x);
    return s;
  }
  Status opt_integer(const char* key, std::optional<int64_t>* out) const {
    const json* v = find(key);
    if (!v) return Status::ok();
    if (!v->is_number_integer()) return type_error(key, "an integer");
    *out = v->get<int64_t>();
    return Status::ok();
  }
  Status boolean(const char* key, bool* out) const {
    const json* v = find(key);
    if (!v) return Status::ok();
    if (!v->is_boolean()) return type_error(key, "true or false");
    *out = v->get<bool>();
    return Status::ok();
  }
  Status string(const char* key, std::string* out) const {
    const json* v = find(key);
    if (!v) return Status::ok();
    if (!v->is_string()) return type_error(key, "a string");
    *out = v->get<std::string>();
    return Status::ok();
  }
  Status opt_string(const char* key, std::optional<std::string>* out) const {
    const json* v = find(key);
    if (!v) return Status::ok();
    if (!v->is_string()) return type_error(key, "a string");
    *out = v->get<std::string>();
    return Status::ok();
  }
  // A JSON array of strings, or one string split at any of `seps`.
  Status list(const char* key, const char* seps, std::optional<std::vector<std::string>>* out) const {
    const json* v = find(key);
    if (!v) return Status::ok();
    std::vector<std::string> items;
    if (v->is_string()) {
      std::string s = v->get<std::string>();
      size_t start = 0;
      while (start <= s.size()) {
        size_t end = s.find_first_of(seps, start);
        if (end == std::string::npos) end = s.size();
        if (end > start) items.push_back(s.substr(start, end - start));
        start = end + 1;
      }
    } else if (v->is_array()) {
      for (const json& e : *v) {
        if (!e.is_string()) return type_error(key, "a list of strings");
        items.push_back(e.get<std::string>());
      }
    } else {
      return type_error(key, "a list of strings");
    }
    *out = std::move(items);
    return Status::ok();
  }

 private:
  const json& obj_;
  std::string where_;
};

#define TRY(expr) do { Status s_ = (expr); if (!s_) return s_; } while (0)

Status parse_group(const json& g, WorkerSettings* w) {
  Reader r(g, "group.");
  TRY(r.string("name", &w->name));
  if (w->name.empty()) return Status::error("settings: \"group.name\" is missing or empty");
  TRY(r.integer("processes", &w->processes));
  TRY(r.integer("threads", &w->threads));
  if (w->threads < 0 || w->threads > 65533)
    return Status::error(fmt::format("settings: \"group.threads\" is {}, expected 0..65533", w->threads));
  w->multithread = w->threads != 1;
  TRY(r.boolean("multithread", &w->multithread));
  TRY(r.boolean("multiprocess", &w->multiprocess));
  TRY(r.integer("maximum-requests", &w->maximum_requests));
  w->run_once = w->threads == 1 && w->maximum_requests == 1;
  TRY(r.boolean("run_once", &w->run_once));
  std::optional<std::string> raw_display, display;
  TRY(r.opt_string("display-name", &raw_display));
  TRY(r.opt_string("display_name", &display));
  if (display) w->title = *display;
  else if (raw_display) w->title = expand_title(*raw_display, w->name);
  TRY(r.opt_string("user", &w->user));
  TRY(r.opt_string("group", &w->group));
  TRY(r.list("supplementary-groups", ",", &w->supplementary_groups));
  if (const json* u = r.find("umask")) {
    if (u->is_number_integer()) {
      w->umask = u->get<int>();
    } else if (u->is_string()) {
      const std::string s = u->get<std::string>();
      char* end = nullptr;
      long v = std::strtol(s.c_str(), &end, 8);
      if (s.empty() || *end != '\0' || v < 0 || v > 0777)
        return r.type_error("umask", "an octal mode");
      w->umask = static_cast<int>(v);
    } else {
      return r.type_error("umask", "an integer or an octal string");
    }
    if (*w->umask < 0 || *w->umask > 0777) return r.type_error("umask", "an octal mode");
  }
  TRY(r.opt_string("home", &w->home));
  TRY(r.opt_string("lang", &w->lang));
  TRY(r.opt_string("locale", &w->locale));
  TRY(r.opt_integer("stack-size", &w->stack_size));
  TRY(r.integer("cpu-priority", &w->cpu_priority));
  std::optional<std::string> home;
  TRY(r.opt_string("python-home", &home));
  if (home) w->python_home = home;
  std::optional<std::vector<std::string>> path;
  TRY(r.list("python-path", ":", &path));
  if (path) w->python_path.insert(w->python_path.end(), path->begin(), path->end());
  TRY(r.opt_string("python-eggs", &w->python_eggs));
  if (r.find("switch-interval")) {
    double si = 0;
    TRY(r.number("switch-interval", &si));
    w->switch_interval = si;
  }
  TRY(r.number("restart-interval", &w->restart_interval));
  TRY(r.number("inactivity-timeout", &w->inactivity_timeout));
  TRY(r.number("startup-timeout", &w->startup_timeout));
  TRY(r.number("graceful-timeout", &w->graceful_timeout));
  TRY(r.number("eviction-timeout", &w->eviction_timeout));
  TRY(r.number("shutdown-timeout", &w->shutdown_timeout));
  TRY(r.number("cpu-time-limit", &w->cpu_time_limit));
  TRY(r.integer("memory-limit", &w->memory_limit));
  TRY(r.integer("virtual-memory-limit", &w->virtual_memory_limit));
  TRY(r.number("request-timeout", &w->request_timeout));
  TRY(r.number("deadlock-timeout", &w->deadlock_timeout));
  TRY(r.number("socket-timeout", &w->socket_timeout));
  TRY(r.number("queue-timeout", &w->queue_timeout));
  return Status::ok();
}

}  // namespace

std::string expand_title(std::string_view display_name, std::string_view group) {
  if (display_name.empty()) return fmt::format("wsgid-worker {}", group);
  if (display_name == "%{GROUP}") return fmt::format("(wsgi:{})", group);
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t hit = display_name.find("%{GROUP}", pos);
    if (hit == std::string_view::npos) break;
    out.append(display_name.substr(pos, hit - pos));
    out.append(group);
    pos = hit + 8;
  }
  out.append(display_name.substr(pos));
  return out;
}

std::string WorkerSettings::effective_title() const {
  return title.empty() ? expand_title("", name) : title;
}

Result<WorkerSettings> parse_settings(std::string_view text) {
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
  std::optional<std::string> home;
  TRY(top.opt_string("python_home", &home));
  w.python_home = home;  // group's python-home (below) wins
  std::optional<std::vector<std::string>> path;
  TRY(top.list("python_path", ":", &path));
  if (path) w.python_path = *path;
  TRY(top.string("log_level", &w.log_level));
  auto g = j.find("group");
  if (g == j.end() || !g->is_object()) return Status::error("settings: missing \"group\" object");
  TRY(parse_group(*g, &w));
  if (const json* pl = top.find("preload")) {
    if (!pl->is_array()) return top.type_error("preload", "a list");
    for (size_t i = 0; i < pl->size(); ++i) {
      const json& e = (*pl)[i];
      if (!e.is_object()) return top.type_error("preload", "a list of objects");
      Reader r(e, fmt::format("preload[{}].", i));
      Preload p;
      TRY(r.string("script", &p.script));
      if (p.script.empty()) return r.type_error("script", "a non-empty path");
      TRY(r.string("application_group", &p.application_group));
      TRY(r.string("callable_object", &p.callable_object));
      TRY(r.string("kind", &p.kind));
      if (p.kind != "import" && p.kind != "alias") return r.type_error("kind", "\"import\" or \"alias\"");
      w.preload.push_back(std::move(p));
    }
  }
  return w;
}

}  // namespace wsgid::worker
