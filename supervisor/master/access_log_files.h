// AccessLogFiles: the CustomLog files of one configuration, opened by the master.
//
// Apache's parent opens every log file as root before its children start, so a
// log in a root-owned directory works for children running as www-data. wsgid
// does the same: the master opens each distinct CustomLog path (server and
// <VirtualHost>) O_WRONLY|O_APPEND|O_CREAT, mode 0640, and hands the descriptors
// to the front end over its descriptor channel (common/fd_passing.h,
// protocol/PROTOCOL.md 7.6) at start, after every reload and on USR1. The front
// end never opens a CustomLog file itself when it has the channel.
//
// Loop thread only. An AccessLogFiles owns its descriptors (closed by the
// destructor and by a later open() or reopen()).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/fd_passing.h"
#include "common/status.h"
#include "model/config.h"

namespace wsgid::master {

class AccessLogFiles {
 public:
  AccessLogFiles() = default;
  ~AccessLogFiles();
  AccessLogFiles(const AccessLogFiles&) = delete;
  AccessLogFiles& operator=(const AccessLogFiles&) = delete;
  AccessLogFiles(AccessLogFiles&& o) noexcept { swap(o); }
  AccessLogFiles& operator=(AccessLogFiles&& o) noexcept {
    swap(o);
    return *this;
  }

  // Opens every CustomLog path of config. All or nothing: on any failure the
  // files opened by this call are closed, the object is left as it was, and the
  // error names the file and where the config names it:
  //   "CustomLog /var/log/x/access.log (site.conf:12): open(/var/log/x/access.log): Permission denied"
  Status open(const model::Config& config);
  // Opens every path again (logrotate moved the files). A path that fails keeps
  // its old descriptor; the errors are joined with "; ".
  Status reopen();

  // {"paths": [path, ...]} with one descriptor per path, in the same order
  // (protocol/PROTOCOL.md 7.6); the descriptors stay this object's.
  std::string message_text() const;
  std::vector<int> fds() const;
  size_t size() const { return files_.size(); }

 private:
  void swap(AccessLogFiles& o) noexcept { files_.swap(o.files_); }
  void close_all();
  std::vector<std::pair<std::string, int>> files_;  // path, fd
};

}  // namespace wsgid::master
