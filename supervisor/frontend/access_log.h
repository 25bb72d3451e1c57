// AccessLog: Apache's CustomLog / LogFormat for the front end.
//
// Built from the settings' custom_logs (server level and per vhost; a vhost
// without its own CustomLog uses the server's, as in Apache). Formats are Apache's
// (the config parser has already turned a nickname such as "combined" into its
// format string). Supported directives: %% %a %h %l %u %t %r %s %>s %b %B %D %T %m
// %U %q %H %v %V %p %P %L (request id), %{Header}i, and %{VAR}e for the environ
// values the front end knows: mod_wsgi.process_group, mod_wsgi.application_group,
// mod_wsgi.request_id, wsgid.worker_pid (the worker that served the request),
// wsgid.error (why the front end failed the request, "-" when it did not);
// %{X}o, %X and any other directive log "-".
//
// Lines are buffered and written with one write(2) per file per loop iteration
// (flush(), called by the Server), or when a buffer passes 64 KiB. reopen()
// reopens every file (logrotate). Loop thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/frontend/settings.h"

namespace wsgid::frontend {

struct LogRecord {
  std::string_view remote_ip, local_ip, method, url, protocol, server_name, host;
  int local_port = 0, remote_port = 0;
  int status = 0;
  uint64_t body_bytes = 0;
  uint64_t duration_us = 0;
  time_t start = 0;
  pid_t worker_pid = 0;
  std::string_view request_id, group, application_group, error;
  std::string_view user;  // %u: the authenticated user, "" = none ('-')
  // Request header lookup (case-insensitive name -> first value, "" if absent).
  std::string_view (*header)(const void* ctx, std::string_view name) = nullptr;
  const void* header_ctx = nullptr;
};

class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // (Re)builds sinks from the settings and opens the files. Errors name the file
  // and are logged; the other files still work.
  void configure(const model::Config& config);
  // True when vhost (or the server, for vhosts without their own) has a CustomLog.
  bool enabled_for(const model::VirtualHost* vhost) const;
  void log(const model::VirtualHost* vhost, const LogRecord& r);
  void flush();
  void reopen();

  // Formats one line (without the newline) into *out; exposed for tests.
  static void format_line(std::string_view format, const LogRecord& r, std::string* out);

 private:
  struct File {
    std::string path;
    int fd = -1;
    std::string buf;
  };
  struct Sink {
    File* file;
    std::string format;
  };
  void open_file(File* f);

  std::vector<File*> files_;
  std::map<const model::VirtualHost*, std::vector<Sink>> sinks_;
  const model::VirtualHost* server_ = nullptr;
};

}  // namespace wsgid::frontend
