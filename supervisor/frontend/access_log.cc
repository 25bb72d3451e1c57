#include "supervisor/frontend/access_log.h"

#include "supervisor/frontend/log_sources.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/log_writes.h"

namespace wsgid::frontend {

AccessLog::~AccessLog() {
  flush();
  for (File* f : files_) {
    if (f->fd >= 0) ::close(f->fd);
    delete f;
  }
  for (auto& [path, fd] : passed_) ::close(fd);
}

Status AccessLog::take_passed(const std::string& text, std::vector<int> fds) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  bool ok = j.is_object() && j.contains("paths") && j["paths"].is_array() &&
            j["paths"].size() == fds.size();
  if (ok)
    for (const auto& p : j["paths"]) ok = ok && p.is_string();
  if (!ok) {
    for (int fd : fds) ::close(fd);
    return Status::error("fd message: expected {\"paths\": [...]} with one path per descriptor (" +
                         std::to_string(fds.size()) + " descriptors)");
  }
  for (auto& [path, fd] : passed_) ::close(fd);
  passed_.clear();
  master_opens_ = true;
  for (size_t i = 0; i < fds.size(); ++i) {
    auto [it, fresh] = passed_.emplace(j["paths"][i].get<std::string>(), fds[i]);
    if (!fresh) ::close(fds[i]);
  }
  return Status::ok();
}

bool AccessLog::passed_copy(std::string* text, std::vector<int>* fds) const {
  if (!master_opens_) return false;
  nlohmann::json paths = nlohmann::json::array();
  for (const auto& [path, fd] : passed_) {
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) {
      log::error("frontend: CustomLog {}: {}", path, Status::sys("fcntl", "F_DUPFD_CLOEXEC").message());
      continue;
    }
    paths.push_back(path);
    fds->push_back(copy);
  }
  *text = nlohmann::json{{"paths", paths}}.dump();
  return true;
}

bool AccessLog::use_passed(File* f) {
  auto it = passed_.find(f->path);
  if (it == passed_.end()) return false;
  int fd = fcntl(it->second, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    log::error("frontend: CustomLog {}: {}", f->path, Status::sys("fcntl", "F_DUPFD_CLOEXEC").message());
    return false;
  }
  if (f->fd >= 0) ::close(f->fd);
  f->fd = fd;
  log::name_fd(fd, "CustomLog " + f->path, true);
  return true;
}

void AccessLog::open_file(File* f) {
  if (master_opens_) {
    if (!use_passed(f) && f->fd < 0)
      log::error("frontend: CustomLog {}: the master sent no descriptor for it; not logging there",
                 f->path);
    return;
  }
  int fd = ::open(f->path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    log::error("frontend: open({}): {}", f->path, std::strerror(errno));
    return;
  }
  if (f->fd >= 0) ::close(f->fd);
  f->fd = fd;
  log::name_fd(fd, "CustomLog " + f->path, true);
}

void AccessLog::configure(const model::Config& config) {
  flush();
  std::vector<File*> old;
  old.swap(files_);
  sinks_.clear();
  server_ = &config.server;
  auto file_for = [&](const std::string& path) {
    for (File* f : files_)
      if (f->path == path) return f;
    File* f = nullptr;
    for (File*& o : old) {
      if (o && o->path == path && o->fd >= 0) {
        f = o;
        o = nullptr;
        break;
      }
    }
    if (f) {
      // Kept open standalone (the front end may not be able to open it again);
      // the master's fresh descriptor when it sent one.
      if (master_opens_) use_passed(f);
    } else {
      f = new File;
      f->path = path;
      open_file(f);
    }
    files_.push_back(f);
    return f;
  };
  auto add = [&](const model::VirtualHost* vh) {
    for (const auto& l : vh->custom_logs) {
      logformat::Compiled c = logformat::compile(l.format);
      if (c.error) {  // the parser refuses these; settings from elsewhere may not
        log::error("frontend: CustomLog {}: format \"{}\": {}", l.path, l.format, c.error->message);
        continue;
      }
      sinks_[vh].push_back({file_for(l.path), std::move(c.format)});
    }
  };
  add(&config.server);
  for (const auto& vh : config.vhosts) add(&vh);
  for (File* f : old) {
    if (!f) continue;
    if (f->fd >= 0) ::close(f->fd);
    delete f;
  }
}

bool AccessLog::enabled_for(const model::VirtualHost* vhost) const {
  if (sinks_.count(vhost)) return true;
  return sinks_.count(server_) > 0;
}

bool AccessLog::reads_environ(const model::VirtualHost* vhost) const {
  auto it = sinks_.find(vhost);
  if (it == sinks_.end()) it = sinks_.find(server_);
  if (it == sinks_.end()) return false;
  for (const Sink& s : it->second)
    for (const logformat::Item& item : s.format.items)
      if (item.field == logformat::Field::kEnv && !RequestLogSources::own_variable(item.text))
        return true;
  return false;
}

void AccessLog::log(const model::VirtualHost* vhost, const logformat::LogRecord& r) {
  auto it = sinks_.find(vhost);
  if (it == sinks_.end()) it = sinks_.find(server_);
  if (it == sinks_.end()) return;
  for (const Sink& s : it->second) {
    logformat::render(s.format, r, &s.file->buf);
    s.file->buf.push_back('\n');
    if (s.file->buf.size() > 64 * 1024) flush();
  }
}

void AccessLog::flush() {
  for (File* f : files_) {
    if (f->buf.empty()) continue;
    if (f->fd >= 0) log::write_text(f->fd, f->buf);
    f->buf.clear();
  }
}

void AccessLog::reopen() {
  flush();
  for (File* f : files_) open_file(f);
}

}  // namespace wsgid::frontend
