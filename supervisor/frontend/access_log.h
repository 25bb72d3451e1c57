// AccessLog: Apache's CustomLog for the front end: which files, which formats,
// and the buffered writes.
//
// Built from the settings' custom_logs (server level and per vhost; a vhost
// without its own CustomLog uses the server's, as in Apache). Each format is
// compiled once per settings (supervisor/logformat/log_format.h; the config
// parser has already refused any format that does not compile, and turned
// nicknames such as "combined" into their format strings); a request's line is
// rendered by logformat::render(), which says what every directive logs.
//
// Who opens the files: under the master (exec'd with --log-fd), the master opens
// every CustomLog file as root and passes the descriptors (take_passed(), from
// the descriptor channel, protocol/PROTOCOL.md 7.6); configure() and reopen()
// then use those and never open a path themselves, so a log in a root-owned
// directory works after a reload that adds it. A path the master sent no
// descriptor for keeps its open file when it had one, else logs nothing (the
// master has logged why). Standalone (tests, --settings-file), the front end
// opens the files itself, keeps a file open across configure() while its path
// stays, and reopens every path on reopen().
//
// Lines are buffered and written with one write(2) per file per loop iteration
// (flush(), called by the Server), or when a buffer passes 64 KiB. A write that
// fails (a full disk) drops its lines and never delays a request; the loss is
// counted and logged at once, then at most once a minute, and once more when
// the file takes lines again (common/log_writes.h). Loop thread only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "supervisor/frontend/settings.h"
#include "supervisor/logformat/log_format.h"
#include "supervisor/logformat/log_line.h"

namespace wsgid::frontend {

class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // The master's descriptors: text is {"paths": [...]}, fds one per path, owned
  // from now on (the previous set is closed). Switches to "the master opens".
  // Errors (a malformed text: the fds are closed): "fd message: ...".
  Status take_passed(const std::string& text, std::vector<int> fds);
  // What take_passed() was last given, its descriptors copied (dup), for
  // another loop's AccessLog (loops.h); false when the master sent none
  // (standalone: each loop opens the paths itself).
  bool passed_copy(std::string* text, std::vector<int>* fds) const;
  // (Re)builds sinks from the settings and takes each file's descriptor (see
  // above). Errors name the file and are logged; the other files still work.
  void configure(const model::Config& config);
  // True when vhost (or the server, for vhosts without their own) has a CustomLog.
  bool enabled_for(const model::VirtualHost* vhost) const;
  // True when a format logged for vhost reads an environment variable (%{VAR}e)
  // other than wsgid's own (log_sources.h): the request's environ is then built
  // for it.
  bool reads_environ(const model::VirtualHost* vhost) const;
  void log(const model::VirtualHost* vhost, const logformat::LogRecord& r);
  void flush();
  // Every file takes its passed descriptor again (after take_passed() with the
  // master's reopened files), or, standalone, is opened again by path.
  void reopen();

 private:
  struct File {
    std::string path;
    int fd = -1;
    std::string buf;
  };
  struct Sink {
    File* file;
    logformat::Format format;
  };
  void open_file(File* f);
  // A copy of the passed descriptor of f->path into f->fd; false when none.
  bool use_passed(File* f);

  std::vector<File*> files_;
  std::map<const model::VirtualHost*, std::vector<Sink>> sinks_;
  const model::VirtualHost* server_ = nullptr;
  bool master_opens_ = false;
  std::map<std::string, int> passed_;  // path -> descriptor from the master
};

}  // namespace wsgid::frontend
