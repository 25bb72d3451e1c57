#include "supervisor/frontend/descriptor_watch.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/status.h"

namespace wsgid::frontend {

namespace {

long nofile_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return -1;
  return static_cast<long>(rl.rlim_cur);
}

}  // namespace

void raise_descriptor_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    log::warn("frontend: {}", Status::sys("setrlimit", "RLIMIT_NOFILE").message());
    return;
  }
  log::info("frontend: RLIMIT_NOFILE raised from {} to its hard limit {}", was,
            rl.rlim_max == RLIM_INFINITY ? std::string("unlimited") : std::to_string(rl.rlim_max));
}

void DescriptorWatch::check(int64_t now_ms, size_t connections) {
  int fd = fcntl(2, F_DUPFD_CLOEXEC, 0);
  if (fd >= 0) {
    close(fd);
    if (report_.ok(now_ms))
      log::notice("frontend: below its descriptor limit again after {:.1f} s: new connections "
                  "are accepted", static_cast<double>(report_.lasted_ms()) / 1000.0);
    return;
  }
  int err = errno;
  if (err != EMFILE && err != ENFILE) return;
  if (!report_.fail(now_ms)) return;
  if (report_.failures() == 1) {
    log::error("frontend: accept: {}: at its descriptor limit (RLIMIT_NOFILE {}, {} client "
               "connections open): each new connection is closed at once while the open ones "
               "are served; raise LimitNOFILE / ulimit -n (reported again at most once a minute)",
               std::strerror(err), nofile_limit(), connections);
  } else {
    log::error("frontend: accept: {}: still at its descriptor limit (RLIMIT_NOFILE {}, {} client "
               "connections open) after {:.0f} s",
               std::strerror(err), nofile_limit(), connections,
               static_cast<double>(now_ms - report_.since_ms()) / 1000.0);
  }
}

void DescriptorWatch::closed_idle(int64_t now_ms, size_t n) {
  if (!reuse_report_.fail(now_ms)) return;
  log::warn("frontend: no descriptor for a connection to a worker (RLIMIT_NOFILE {}): closed {} "
            "idle client connection(s), the oldest, to make room ({} time(s) since the last "
            "report; reported again at most once a minute)",
            nofile_limit(), n, reuse_report_.unreported());
}

}  // namespace wsgid::frontend
