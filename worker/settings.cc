#include "worker/settings.h"

#include <fmt/core.h>

namespace wsgid::worker {

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
  return display_title.empty() ? expand_title("", name) : display_title;
}

Result<WorkerSettings> parse_settings(std::string_view text) {
  Result<model::WorkerSettings> decoded = model::worker_settings_from_text(text);
  if (!decoded.is_ok()) return decoded.status();
  model::WorkerSettings& m = *decoded;
  WorkerSettings w;
  static_cast<model::GroupSpec&>(w) = std::move(m.group);
  w.index = m.index;
  w.generation = m.generation;
  w.multithread = m.multithread;
  w.multiprocess = m.multiprocess;
  w.run_once = m.run_once;
  w.display_title = std::move(m.title);
  w.default_user = std::move(m.default_user);
  w.default_group = std::move(m.default_group);
  w.preload = std::move(m.preload);
  w.log_level = std::move(m.log_level);
  // The group's python-home wins over WSGIPythonHome; WSGIPythonPath comes first.
  if (!w.python_home) w.python_home = std::move(m.python_home);
  m.python_path.insert(m.python_path.end(), w.python_path.begin(), w.python_path.end());
  w.python_path = std::move(m.python_path);
  return w;
}

}  // namespace wsgid::worker
