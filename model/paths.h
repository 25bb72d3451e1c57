// The path rules of the configuration, each written once: relative paths against
// ServerRoot, the runtime directory, and the sockets and files that live there.
// The master (sockets, logs, pid file, control socket), wsgictl (which control
// socket to dial) and the reload diff (a group whose socket path changes) all
// ask here, so they cannot disagree.
//
// Pure functions of their arguments, except default_runtime_dir(), which reads
// the effective uid and $XDG_RUNTIME_DIR. Any thread.
#pragma once

#include <string>

#include "model/config.h"

namespace wsgid::model {

// The configuration wsgid and wsgictl read when no -f/-c names one.
inline constexpr const char* kDefaultConfig = "/etc/wsgid/wsgid.conf";

// path as written in the configuration, made absolute: unchanged when empty or
// absolute; else relative to ServerRoot when it is set and not empty, else to
// the directory of the main configuration file (Config::file), as Apache's
// ap_server_root_relative() does.
std::string from_server_root(const Config& config, const std::string& path);

// /run/wsgid as root; $XDG_RUNTIME_DIR/wsgid, else /tmp/wsgid-UID, otherwise.
std::string default_runtime_dir();

// A group's UNIX socket: PREFIX.GROUP.sock, PREFIX = WSGISocketPrefix (relative
// to ServerRoot, see from_server_root) or RUNTIME_DIR/wsgi without one.
std::string group_socket_path(const Config& config, const std::string& runtime_dir,
                              const std::string& group);

// The control socket: WSGIControlSocket (see from_server_root) when set and not
// empty, else RUNTIME_DIR/control.sock.
std::string control_socket_path(const Config& config, const std::string& runtime_dir);

// The pid file: PidFile (see from_server_root) when set, else RUNTIME_DIR/wsgid.pid.
std::string pid_file_path(const Config& config, const std::string& runtime_dir);

}  // namespace wsgid::model
