#include "supervisor/master/access_log_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace wsgid::master {

namespace {

int open_log(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

}  // namespace

AccessLogFiles::~AccessLogFiles() { close_all(); }

void AccessLogFiles::close_all() {
  for (auto& [path, fd] : files_)
    if (fd >= 0) ::close(fd);
  files_.clear();
}

Status AccessLogFiles::open(const model::Config& config) {
  std::vector<std::pair<std::string, int>> opened;
  auto add = [&](const model::VirtualHost& vh) -> Status {
    for (const model::LogFile& l : vh.custom_logs) {
      bool seen = false;
      for (const auto& [p, fd] : opened) seen = seen || p == l.path;
      if (seen) continue;
      int fd = open_log(l.path);
      if (fd < 0) {
        Status s = Status::sys("open", l.path);
        return Status::error(fmt::format("CustomLog {} ({}:{}): {}", l.path, l.loc.file,
                                         l.loc.line, s.message()));
      }
      opened.emplace_back(l.path, fd);
    }
    return Status::ok();
  };
  Status s = add(config.server);
  for (size_t i = 0; s && i < config.vhosts.size(); ++i) s = add(config.vhosts[i]);
  if (!s) {
    for (auto& [p, fd] : opened) ::close(fd);
    return s;
  }
  close_all();
  files_ = std::move(opened);
  return Status::ok();
}

Status AccessLogFiles::reopen() {
  std::string errors;
  for (auto& [path, fd] : files_) {
    int nfd = open_log(path);
    if (nfd < 0) {
      if (!errors.empty()) errors += "; ";
      errors += Status::sys("open", path).message();
      continue;
    }
    ::close(fd);
    fd = nfd;
  }
  return errors.empty() ? Status::ok() : Status::error(errors);
}

std::string AccessLogFiles::message_text() const {
  nlohmann::json paths = nlohmann::json::array();
  for (const auto& [path, fd] : files_) paths.push_back(path);
  return nlohmann::json{{"paths", paths}}.dump();
}

std::vector<int> AccessLogFiles::fds() const {
  std::vector<int> v;
  for (const auto& [path, fd] : files_) v.push_back(fd);
  return v;
}

}  // namespace wsgid::master
