// Listening sockets the master owns: the `Listen` TCP sockets (handed to the front
// end as fds 4..) and one UNIX socket per process group (handed to each of the
// group's workers as fd 4), plus the runtime directory they live in.
//
// Every socket is opened before any child starts and stays open while its
// `Listen` line or its group is configured: a worker that restarts leaves new
// connections waiting in the backlog. A group socket's path is stable
// (`PREFIX.GROUP.sock`, PREFIX = WSGISocketPrefix, default RUNTIME_DIR/wsgi; so
// RUNTIME_DIR/wsgi.GROUP.sock), mode 0600, owned by the front end's user when the
// master runs as root. Every fd is CLOEXEC and O_NONBLOCK (idle worker threads
// poll() and accept4() it). Called on the loop thread at start and on reload;
// plain system calls, no libuv. The caller owns the returned fds.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.h"
#include "model/config.h"
#include "model/paths.h"  // default_runtime_dir, group_socket_path

namespace wsgid::master {

// Creates dir (and missing parents) if needed; mode 0755 as root (the front end,
// running as User, must reach the group sockets), 0700 otherwise. Fails when dir
// exists and is not a directory, or (not root) is owned by someone else.
Status ensure_runtime_dir(const std::string& dir);

// Who owns the group sockets and runs the front end: User/Group (default
// www-data) as root; the current ids otherwise. Fails naming an unknown user.
struct Identity {
  uid_t uid;
  gid_t gid;
};
Result<Identity> frontend_identity(const model::Config& config);
// A user name or #uid with its primary group (socket-user=). Fails naming it.
Result<Identity> user_identity(const std::string& user);

// socket + SO_REUSEADDR + bind + listen. Errors name the call and the address:
// "bind(127.0.0.1:8080): Address already in use".
Result<int> open_tcp_listener(const model::ListenAddr& addr, int backlog);
// The "host:port" a TCP listener is bound to (resolves port 0).
std::string bound_address(int fd);

// A UNIX listening socket at path: refuses to replace a socket that still has a
// listener ("another wsgid is listening on PATH"), removes a stale one, binds
// with mode 0600, chowns to owner when root, listens with backlog, applies the
// SO_SNDBUF/SO_RCVBUF sizes when > 0.
struct UnixSocketOptions {
  int backlog = 100;
  int64_t send_buffer = 0;
  int64_t receive_buffer = 0;
  bool chown_to_owner = false;
  Identity owner{0, 0};
  mode_t mode = 0600;
};
Result<int> open_unix_listener(const std::string& path, const UnixSocketOptions& options);
// listen() again with a new backlog (listen-backlog changed on reload).
Status relisten(int fd, int backlog);

}  // namespace wsgid::master
