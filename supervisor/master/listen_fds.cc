#include "supervisor/master/listen_fds.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/core.h>

#include "supervisor/master/sockets.h"

namespace wsgid::master {

namespace {

constexpr int kFirstFd = 3;  // SD_LISTEN_FDS_START
constexpr long kMaxFds = 4096;

bool parse_number(const char* text, long* out) {
  if (!text || !*text) return false;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < 0) return false;
  *out = v;
  return true;
}

std::vector<std::string> split_names(const char* names) {
  std::vector<std::string> out;
  if (!names) return out;
  std::string s = names;
  size_t start = 0;
  for (;;) {
    size_t colon = s.find(':', start);
    out.push_back(s.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

// The address part of a sockaddr as an IPv6 address (IPv4 as ::ffff:a.b.c.d),
// and its port; false for other families.
bool normalize(const sockaddr_storage& ss, in6_addr* a, int* port) {
  if (ss.ss_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    *a = s6->sin6_addr;
    *port = ntohs(s6->sin6_port);
    return true;
  }
  if (ss.ss_family == AF_INET) {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
    std::memset(a, 0, sizeof *a);
    a->s6_addr[10] = 0xff;
    a->s6_addr[11] = 0xff;
    std::memcpy(&a->s6_addr[12], &s4->sin_addr, 4);
    *port = ntohs(s4->sin_port);
    return true;
  }
  return false;
}

bool is_wildcard(const in6_addr& a) {
  static const in6_addr any6 = IN6ADDR_ANY_INIT;
  in6_addr any4{};
  any4.s6_addr[10] = 0xff;
  any4.s6_addr[11] = 0xff;
  return std::memcmp(&a, &any6, sizeof a) == 0 || std::memcmp(&a, &any4, sizeof a) == 0;
}

}  // namespace

Result<std::optional<ListenFdsEnv>> parse_listen_fds(const char* listen_pid, const char* listen_fds,
                                                     const char* listen_fdnames, pid_t self) {
  if (!listen_fds) return std::optional<ListenFdsEnv>();
  long pid = 0;
  if (!listen_pid) return std::optional<ListenFdsEnv>();
  if (!parse_number(listen_pid, &pid))
    return Status::error(fmt::format("LISTEN_PID: '{}' is not a number", listen_pid));
  if (pid != static_cast<long>(self)) return std::optional<ListenFdsEnv>();
  long n = 0;
  if (!parse_number(listen_fds, &n))
    return Status::error(fmt::format("LISTEN_FDS: '{}' is not a number", listen_fds));
  if (n > kMaxFds)
    return Status::error(fmt::format("LISTEN_FDS: {} sockets is more than {}", n, kMaxFds));
  ListenFdsEnv env;
  env.count = static_cast<int>(n);
  env.names = split_names(listen_fdnames);
  env.names.resize(static_cast<size_t>(n));
  return std::optional<ListenFdsEnv>(std::move(env));
}

std::string describe(const InheritedSocket& s) {
  return s.name.empty() ? fmt::format("fd {}", s.fd) : fmt::format("fd {} ({})", s.fd, s.name);
}

Result<std::vector<InheritedSocket>> take_listen_fds() {
  auto env = parse_listen_fds(getenv("LISTEN_PID"), getenv("LISTEN_FDS"), getenv("LISTEN_FDNAMES"),
                              getpid());
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  std::vector<InheritedSocket> out;
  if (!env.is_ok()) return env.status();
  if (!env.value()) return out;
  const ListenFdsEnv& e = *env.value();
  for (int i = 0; i < e.count; ++i) {
    InheritedSocket s;
    s.fd = kFirstFd + i;
    s.name = e.names[static_cast<size_t>(i)];
    int type = 0, listening = 0;
    socklen_t tl = sizeof type, ll = sizeof listening;
    socklen_t al = sizeof s.addr;
    if (getsockopt(s.fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM ||
        getsockopt(s.fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ll) < 0 || !listening ||
        getsockname(s.fd, reinterpret_cast<sockaddr*>(&s.addr), &al) < 0 ||
        (s.addr.ss_family != AF_INET && s.addr.ss_family != AF_INET6))
      return Status::error(fmt::format("LISTEN_FDS: {} is not a listening TCP socket", describe(s)));
    out.push_back(s);
  }
  for (auto& s : out) {
    fcntl(s.fd, F_SETFD, FD_CLOEXEC);
    int fl = fcntl(s.fd, F_GETFL);
    if (fl >= 0) fcntl(s.fd, F_SETFL, fl | O_NONBLOCK);
    s.bound = bound_address(s.fd);
  }
  return out;
}

std::string unmatched_message(const InheritedSocket& s, const std::string& config_path) {
  // A wildcard socket ("0.0.0.0:80", "[::]:80") is `Listen 80`.
  std::string port = s.bound.substr(s.bound.rfind(':') + 1);
  bool wildcard = s.bound.rfind("0.0.0.0:", 0) == 0 || s.bound.rfind("[::]:", 0) == 0;
  return fmt::format("socket activation: systemd passed {} bound to {}, and no Listen directive "
                     "of {} asks for it; add 'Listen {}' there, or remove that ListenStream= "
                     "from the socket unit (wsgid takes a passed socket only for a Listen of the "
                     "same address and port)",
                     describe(s), s.bound, config_path, wildcard ? port : s.bound);
}

bool listen_matches(const model::ListenAddr& a, const sockaddr_storage& addr) {
  in6_addr have;
  int port = 0;
  if (a.port == 0 || !normalize(addr, &have, &port) || port != a.port) return false;
  if (a.host.empty()) return is_wildcard(have);
  struct addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  struct addrinfo* res = nullptr;
  std::string service = std::to_string(a.port);
  if (getaddrinfo(a.host.c_str(), service.c_str(), &hints, &res) != 0) return false;
  bool found = false;
  for (struct addrinfo* ai = res; ai && !found; ai = ai->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    in6_addr want;
    int p = 0;
    found = normalize(ss, &want, &p) && std::memcmp(&want, &have, sizeof want) == 0;
  }
  freeaddrinfo(res);
  return found;
}

std::optional<InheritedSocket> take_matching(const model::ListenAddr& a,
                                             std::vector<InheritedSocket>* pool) {
  for (auto it = pool->begin(); it != pool->end(); ++it) {
    if (listen_matches(a, it->addr)) {
      InheritedSocket s = *it;
      pool->erase(it);
      return s;
    }
  }
  return std::nullopt;
}

}  // namespace wsgid::master
