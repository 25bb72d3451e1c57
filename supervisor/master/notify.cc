#include "supervisor/master/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/log.h"

namespace wsgid::master {

uint64_t parse_watchdog_usec(const char* watchdog_usec, const char* watchdog_pid, pid_t self) {
  if (!watchdog_usec || !*watchdog_usec) return 0;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(watchdog_usec, &end, 10);
  if (errno != 0 || *end != '\0' || v == 0 || watchdog_usec[0] == '-') return 0;
  if (watchdog_pid && *watchdog_pid) {
    errno = 0;
    long long pid = std::strtoll(watchdog_pid, &end, 10);
    if (errno != 0 || *end != '\0' || pid != static_cast<long long>(self)) return 0;
  }
  return static_cast<uint64_t>(v);
}

void Notifier::init() {
  const char* p = getenv("NOTIFY_SOCKET");
  if (p && *p) path_ = p;
  watchdog_usec_ = parse_watchdog_usec(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid());
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
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
