#include "supervisor/master/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "common/log.h"

namespace wsgid::master {

void Notifier::init() {
  const char* p = getenv("NOTIFY_SOCKET");
  if (p && *p) path_ = p;
  unsetenv("NOTIFY_SOCKET");
}

void Notifier::send(std::string_view message) {
  if (path_.empty()) return;
  struct sockaddr_un sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path_.size() >= sizeof sa.sun_path) return;
  std::memcpy(sa.sun_path, path_.data(), path_.size());
  if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';
  socklen_t len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path_.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ssize_t n = sendto(fd, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                     reinterpret_cast<sockaddr*>(&sa), len);
  if (n < 0) log::debug("sendto({}): {}", path_, std::strerror(errno));
  close(fd);
}

}  // namespace wsgid::master
