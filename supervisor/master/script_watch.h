// ScriptWatch: WSGIScriptReloading for daemon groups. Watches each group's script
// files (its WSGIScriptAlias targets and WSGIImportScript files) with inotify and
// reports which groups to restart (rolling) when one is written, touched, or
// replaced by a rename (editors save that way). Events are gathered for 250 ms
// and reported once per group.
//
// inotify watches directories (a watched file replaced by rename would lose its
// watch); a directory alias (WSGIScriptAlias /x /srv/app/) watches the directory
// itself: any file change there restarts the group. Loop thread only; owns the
// inotify fd, its uv_poll_t and the timer; close() before closing the loop.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace wsgid::master {

class ScriptWatch {
 public:
  using Callback = std::function<void(const std::set<std::string>& groups,
                                      const std::string& file)>;
  Status start(uv_loop_t* loop, Callback cb);
  // Replaces the watched set: path -> groups to restart when it changes.
  void set(const std::map<std::string, std::set<std::string>>& files);
  void close();

 private:
  static void on_poll(uv_poll_t* h, int status, int events);
  static void on_timer(uv_timer_t* t);
  void fire(const std::string& path);

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  Callback cb_;
  std::map<int, std::string> wd_dir_;                       // watch -> directory
  std::map<std::string, std::set<std::string>> files_;      // file or dir -> groups
  std::set<std::string> pending_groups_;
  std::string pending_file_;
};

}  // namespace wsgid::master
