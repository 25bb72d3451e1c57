// Socket activation: the listening sockets systemd (a wsgid.socket unit, or
// `systemd-socket-activate`) passes to wsgid, as sd_listen_fds(3) describes them:
// LISTEN_FDS sockets from fd 3 on, meant for the process whose pid is LISTEN_PID,
// named by the colon-separated LISTEN_FDNAMES. No libsystemd: three variables
// and a few system calls.
//
// take_listen_fds() runs once, in wsgid's main thread before anything else opens
// a descriptor or forks (--check, or the master before -d). It reads the three
// variables and removes them from the environment whatever they hold, so no
// child inherits them (a child would take its parent's sockets for its own).
// Each socket becomes CLOEXEC and O_NONBLOCK, as the ones wsgid opens itself.
// The caller owns the returned fds.
//
// A `Listen` takes the inherited socket bound to its own address and port
// (getsockname: `Listen 8080` matches a socket bound to 0.0.0.0:8080 or
// [::]:8080, `Listen 127.0.0.1:8080` one bound to 127.0.0.1:8080); the names
// only label log lines. What the master does with a socket no Listen takes is
// docs/decisions.md's (it refuses to start, naming it).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/config.h"

namespace wsgid::master {

// The variables as read: `count` sockets from fd 3, names[i] for fd 3 + i ("" when
// LISTEN_FDNAMES is unset or short). nullopt when nothing is meant for this
// process: LISTEN_FDS unset, or LISTEN_PID unset or another process's pid (a
// parent's variables leaked into this one's environment: sd_listen_fds ignores
// them too). Fails when the values are not numbers or count is absurd (> 4096):
// "LISTEN_FDS: 'x' is not a number".
struct ListenFdsEnv {
  int count = 0;
  std::vector<std::string> names;
};
Result<std::optional<ListenFdsEnv>> parse_listen_fds(const char* listen_pid, const char* listen_fds,
                                                     const char* listen_fdnames, pid_t self);

struct InheritedSocket {
  int fd = -1;
  std::string name;   // from LISTEN_FDNAMES ("" when unnamed)
  std::string bound;  // getsockname, as sockets.h's bound_address: "127.0.0.1:8080"
  sockaddr_storage addr{};
};

// "fd 3 (http)" or "fd 3": how log lines and --check name an inherited socket.
std::string describe(const InheritedSocket& s);

// The refusal for a passed socket no Listen of config_path takes, with the Listen
// line to add: "socket activation: systemd passed fd 4 (http) bound to
// 127.0.0.1:9999, and no Listen directive of FILE asks for it; add 'Listen
// 127.0.0.1:9999' there, or remove that ListenStream= from the socket unit (...)".
std::string unmatched_message(const InheritedSocket& s, const std::string& config_path);

// Reads and unsets LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES; returns the sockets
// meant for this process (empty when none). Fails, closing nothing, when the
// variables are malformed or an fd is not a listening TCP socket (wsgid's Listen
// is TCP): "LISTEN_FDS: fd 4 (http) is not a listening TCP socket".
Result<std::vector<InheritedSocket>> take_listen_fds();

// Whether the socket bound at addr is the one `Listen a` asks for: same port
// (never for port 0, which asks for any free port), and for a Listen without a
// host a wildcard address (0.0.0.0 or ::), else one of the addresses the host
// resolves to (numeric hosts resolve without a lookup). An IPv4 address also
// matches its IPv4-mapped IPv6 form.
bool listen_matches(const model::ListenAddr& a, const sockaddr_storage& addr);

// Removes from pool and returns the socket a Listen takes, or nullopt.
std::optional<InheritedSocket> take_matching(const model::ListenAddr& a,
                                             std::vector<InheritedSocket>* pool);

}  // namespace wsgid::master
