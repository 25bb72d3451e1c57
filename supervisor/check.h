// `wsgid --check [--json] -f FILE`: validate a configuration the way the master
// would load it, without starting anything (like `apachectl configtest`).
//
// run_check() parses the file (parser.h), writes every diagnostic to err (errors
// and warnings, rendered with the offending line and a caret, then a summary;
// a config without Listen gets a warning, since the master would refuse it),
// adds once a note naming the mod_wsgi-express recommended timeouts that the
// config's daemon groups leave off (a note: it never fails the check), and with
// json writes config_to_json() (model_json.h) to out. Under socket activation
// (LISTEN_FDS set: `systemd-socket-activate -l 127.0.0.1:8080 wsgid --check`) it
// writes one line per Listen, "Listen 127.0.0.1:8080: from systemd, fd 3 (http)"
// or "...: opened by wsgid", and fails as the master would refuse to start when a
// passed socket matches no Listen (listen_fds.h). For each `Listen ... uwsgi` it
// writes whom that socket accepts and believes (uwsgi_trust_lines()). Returns the exit status:
// 0 valid (warnings allowed), 1 invalid. Called from wsgid's main(); single
// threaded; no side effects beyond reading the config files.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "model/config.h"
#include "supervisor/master/listen_fds.h"

namespace wsgid {

struct CheckOptions {
  std::string config_path;
  bool json = false;
  std::vector<std::string> defines;  // -D NAME, seen by <IfDefine>
  bool check_files = true;           // script files must exist (tests may turn it off)
  std::string unit_path;             // --unit FILE: lint this systemd unit too (check_unit.h)
  // LISTEN_FDS was set: the sockets take_listen_fds() returned, or its error.
  bool socket_activation = false;
  std::vector<master::InheritedSocket> listen_fds;
  std::string listen_fds_error;
};

int run_check(const CheckOptions& options, std::ostream& out, std::ostream& err);

// One line per `Listen ... uwsgi`, printed by run_check(): the uwsgi protocol has
// no authentication, so the check says whom such a socket believes, e.g.
// "Listen 127.0.0.1:9000 uwsgi: accepts connections only from 127.0.0.0/8 ::1
// (WSGIUwsgiTrustedPeers) and trusts their REMOTE_ADDR, REMOTE_PORT and scheme
// (HTTPS, REQUEST_SCHEME) as the client's".
std::vector<std::string> uwsgi_trust_lines(const model::Config& config);

// "" when every group sets the recommended timeouts, else one line such as
// "note: daemon groups 'a', 'b' leave off mod_wsgi-express's recommended timeouts:
// queue-timeout=45 request-timeout=60 ..." (without a trailing newline).
std::string recommended_timeouts_note(const model::Config& config);

}  // namespace wsgid
