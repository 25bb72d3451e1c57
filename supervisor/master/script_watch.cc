#include "supervisor/master/script_watch.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/paths.h"

namespace wsgid::master {

Status ScriptWatch::start(uv_loop_t* loop, Callback cb) {
  cb_ = std::move(cb);
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return Status::sys("inotify_init1", "script reloading");
  poll_ = new uv_poll_t;
  uv_poll_init(loop, poll_, fd_);
  poll_->data = this;
  uv_poll_start(poll_, UV_READABLE, on_poll);
  timer_ = new uv_timer_t;
  uv_timer_init(loop, timer_);
  timer_->data = this;
  return Status::ok();
}

void ScriptWatch::set(const std::map<std::string, std::set<std::string>>& files) {
  if (fd_ < 0) return;
  for (auto& [wd, dir] : wd_dir_) inotify_rm_watch(fd_, wd);
  wd_dir_.clear();
  files_ = files;
  std::set<std::string> dirs;
  for (auto& [path, groups] : files_) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      dirs.insert(path);
    } else {
      dirs.insert(std::string(directory_of(path, ".")));
    }
  }
  for (const std::string& d : dirs) {
    int wd = inotify_add_watch(fd_, d.c_str(),
                               IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB | IN_CREATE);
    if (wd < 0) {
      log::warn("script reloading: inotify_add_watch({}): {}", d, std::strerror(errno));
      continue;
    }
    wd_dir_[wd] = d;
  }
}

void ScriptWatch::on_poll(uv_poll_t* h, int status, int) {
  auto* self = static_cast<ScriptWatch*>(h->data);
  if (status < 0) return;
  alignas(struct inotify_event) char buf[16384];
  for (int rounds = 0; rounds < 64; ++rounds) {
    ssize_t n = read(self->fd_, buf, sizeof buf);
    if (n <= 0) return;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + ev->len;
      auto it = self->wd_dir_.find(ev->wd);
      if (it == self->wd_dir_.end()) continue;
      const std::string& dir = it->second;
      if (self->files_.count(dir)) {
        self->fire(dir);  // a directory alias
        continue;
      }
      if (ev->len == 0) continue;
      std::string path = dir == "/" ? "/" + std::string(ev->name) : dir + "/" + ev->name;
      if (self->files_.count(path)) self->fire(path);
    }
  }
}

void ScriptWatch::fire(const std::string& path) {
  const auto& groups = files_[path];
  pending_groups_.insert(groups.begin(), groups.end());
  pending_file_ = path;
  uv_timer_start(timer_, on_timer, 250, 0);
}

void ScriptWatch::on_timer(uv_timer_t* t) {
  auto* self = static_cast<ScriptWatch*>(t->data);
  std::set<std::string> groups = std::move(self->pending_groups_);
  self->pending_groups_.clear();
  if (!groups.empty()) self->cb_(groups, self->pending_file_);
}

void ScriptWatch::close() {
  if (poll_) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  if (timer_) {
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace wsgid::master
