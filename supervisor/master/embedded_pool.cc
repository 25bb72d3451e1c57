#include "supervisor/master/embedded_pool.h"

#include <sys/stat.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "model/embedded.h"
#include "model/frontend_settings.h"

namespace wsgid::master {

namespace {

int64_t mtime_ns(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// What the front end builds its routes and its Python from: the front-end
// settings without what never needs a new Python (the groups' endpoints and
// states, Listen, the request limits, LogLevel, the generation). A Listen change
// replaces the front end anyway (docs/decisions.md 17).
nlohmann::json pool_inputs(const model::Config& config) {
  nlohmann::json j = model::frontend_settings_to_json(config, {}, {}, 0);
  for (const char* key : {"groups", "generation", "listen", "listen_protocols", "limits", "log_level"})
    j.erase(key);
  // TLS settings reach the running front end in its settings: no new Python for them.
  j["server"].erase("tls");
  for (auto& v : j["vhosts"]) v.erase("tls");
  return j;
}

}  // namespace

void EmbeddedPool::configure(const model::Config& config) {
  present_ = model::config_has_embedded(config);
  threads_ = config.threads_per_child > 0 ? config.threads_per_child : 25;
  auto files = model::embedded_scripts(config);
  scripts_.assign(files.begin(), files.end());
  // A script a reload adds runs in the running pool from now on, as the file is
  // now; one a reload removes no longer runs there.
  std::erase_if(spawned_, [&](const auto& kv) { return !files.count(kv.first); });
  for (const std::string& s : scripts_)
    if (!spawned_.count(s)) spawned_[s] = mtime_ns(s);
}

void EmbeddedPool::spawned() {
  spawned_.clear();
  for (const std::string& s : scripts_) spawned_[s] = mtime_ns(s);
}

std::string EmbeddedPool::replace_reason(const model::Config& current,
                                         const model::Config& next) const {
  if (!present_) return "";
  if (pool_inputs(current) != pool_inputs(next)) return "the embedded pool's configuration changed";
  for (const auto& [path, mtime] : spawned_) {
    if (mtime_ns(path) != mtime) return "script " + path + " changed";
  }
  return "";
}

bool EmbeddedPool::names_pool(const std::vector<std::string>& names) const {
  if (!present_) return false;
  return std::any_of(names.begin(), names.end(), [](const std::string& n) {
    return n == "all" || n == model::kEmbeddedPoolName;
  });
}

std::vector<std::string> EmbeddedPool::without_pool(const std::vector<std::string>& names) {
  std::vector<std::string> v;
  for (const std::string& n : names)
    if (n != model::kEmbeddedPoolName) v.push_back(n);
  return v;
}

}  // namespace wsgid::master
