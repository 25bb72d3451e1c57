#include "supervisor/master/sockets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <fmt/core.h>

#include "common/paths.h"

namespace wsgid::master {
namespace {

Result<uid_t> lookup_user(const std::string& name, gid_t* primary) {
  if (!name.empty() && name[0] == '#') {
    char* end = nullptr;
    long v = std::strtol(name.c_str() + 1, &end, 10);
    if (!end || *end || v < 0) return Status::error(fmt::format("bad user id '{}'", name));
    struct passwd* pw = getpwuid(static_cast<uid_t>(v));
    *primary = pw ? pw->pw_gid : static_cast<gid_t>(v);
    return static_cast<uid_t>(v);
  }
  struct passwd* pw = getpwnam(name.c_str());
  if (!pw) return Status::error(fmt::format("unknown user '{}'", name));
  *primary = pw->pw_gid;
  return pw->pw_uid;
}

Result<gid_t> lookup_group(const std::string& name) {
  if (!name.empty() && name[0] == '#') {
    char* end = nullptr;
    long v = std::strtol(name.c_str() + 1, &end, 10);
    if (!end || *end || v < 0) return Status::error(fmt::format("bad group id '{}'", name));
    return static_cast<gid_t>(v);
  }
  struct group* gr = getgrnam(name.c_str());
  if (!gr) return Status::error(fmt::format("unknown group '{}'", name));
  return gr->gr_gid;
}

Status mkdirs(const std::string& dir, mode_t mode) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Status::error(fmt::format("{}: not a directory", dir));
    return Status::ok();
  }
  std::string parent(directory_of(dir, "."));
  if (parent != dir && parent != "/" && parent != ".") {
    Status s = mkdirs(parent, 0755);
    if (!s) return s;
  }
  if (mkdir(dir.c_str(), mode) < 0 && errno != EEXIST) return Status::sys("mkdir", dir);
  return Status::ok();
}

}  // namespace

Status ensure_runtime_dir(const std::string& dir) {
  bool root = geteuid() == 0;
  mode_t mode = root ? 0755 : 0700;
  Status s = mkdirs(dir, mode);
  if (!s) return s;
  struct stat st;
  if (stat(dir.c_str(), &st) < 0) return Status::sys("stat", dir);
  if (!root && st.st_uid != geteuid())
    return Status::error(fmt::format("{}: owned by uid {}, not by us (uid {})", dir,
                                     static_cast<unsigned>(st.st_uid),
                                     static_cast<unsigned>(geteuid())));
  return Status::ok();
}

Result<Identity> frontend_identity(const model::Config& config) {
  if (geteuid() != 0) return Identity{geteuid(), getegid()};
  gid_t primary = 0;
  auto uid = lookup_user(config.user.value_or("www-data"), &primary);
  if (!uid.is_ok()) return uid.status();
  Identity id{uid.value(), primary};
  if (config.group) {
    auto g = lookup_group(*config.group);
    if (!g.is_ok()) return g.status();
    id.gid = g.value();
  }
  return id;
}

Result<Identity> user_identity(const std::string& user) {
  gid_t primary = 0;
  auto uid = lookup_user(user, &primary);
  if (!uid.is_ok()) return uid.status();
  return Identity{uid.value(), primary};
}

Result<int> open_tcp_listener(const model::ListenAddr& addr, int backlog) {
  std::string text = addr.text();
  struct addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  hints.ai_family = AF_UNSPEC;
  std::string port = std::to_string(addr.port);
  const char* host = addr.host.empty() ? "::" : addr.host.c_str();
  struct addrinfo* res = nullptr;
  int g = getaddrinfo(host, port.c_str(), &hints, &res);
  if (g != 0 && addr.host.empty()) g = getaddrinfo("0.0.0.0", port.c_str(), &hints, &res);
  if (g != 0) return Status::error(fmt::format("getaddrinfo({}): {}", text, gai_strerror(g)));
  Status last = Status::error(fmt::format("getaddrinfo({}): no address", text));
  for (struct addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      last = Status::sys("socket", text);
      continue;
    }
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6 && addr.host.empty())
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
      last = Status::sys("bind", text);
      close(fd);
      continue;
    }
    if (listen(fd, backlog) < 0) {
      last = Status::sys("listen", text);
      close(fd);
      continue;
    }
    freeaddrinfo(res);
    return fd;
  }
  freeaddrinfo(res);
  return last;
}

std::string bound_address(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    return fmt::format("{}:{}", host, port);
  }
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
    return fmt::format("[{}]:{}", host, port);
  }
  return "?";
}

Result<int> open_unix_listener(const std::string& path, const UnixSocketOptions& o) {
  struct sockaddr_un sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return Status::error(fmt::format("{}: socket path longer than {} bytes", path,
                                     sizeof sa.sun_path - 1));
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return Status::error(fmt::format("{}: exists and is not a socket", path));
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
      int c = connect(probe, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      close(probe);
      if (c == 0) return Status::error(fmt::format("another wsgid is listening on {}", path));
    }
    if (unlink(path.c_str()) < 0) return Status::sys("unlink", path);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::sys("socket", path);
  mode_t old = umask(0777 & ~o.mode);
  int b = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  int err = errno;
  umask(old);
  if (b < 0) {
    close(fd);
    return Status::sys("bind", path, err);
  }
  // Listening before the chmod and chown: a client that sees the file can
  // connect at once (the umask above already gave the file its mode; until the
  // chown only this process's user can connect).
  if (o.send_buffer > 0) {
    int v = static_cast<int>(o.send_buffer);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
  }
  if (o.receive_buffer > 0) {
    int v = static_cast<int>(o.receive_buffer);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
  }
  if (listen(fd, o.backlog) < 0) {
    Status s = Status::sys("listen", path);
    close(fd);
    return s;
  }
  if (chmod(path.c_str(), o.mode) < 0) {
    Status s = Status::sys("chmod", path);
    close(fd);
    return s;
  }
  if (o.chown_to_owner && chown(path.c_str(), o.owner.uid, o.owner.gid) < 0) {
    Status s = Status::sys("chown", path);
    close(fd);
    return s;
  }
  return fd;
}

Status relisten(int fd, int backlog) {
  if (listen(fd, backlog) < 0) return Status::sys("listen", fmt::format("fd {}", fd));
  return Status::ok();
}

}  // namespace wsgid::master
