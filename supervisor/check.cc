// wsgid --check; see check.h.
#include "supervisor/check.h"

#include "supervisor/check_unit.h"
#include "model/model_json.h"
#include "supervisor/config/parser.h"
#include "supervisor/master/listen_fds.h"

namespace wsgid {

namespace {

// mod_wsgi-express's recommended values for the timeouts mod_wsgi leaves off (or
// at a long default) for backward compatibility (mod_wsgi's WSGIDaemonProcess
// documentation:
// https://modwsgi.readthedocs.io/en/master/configuration-directives/WSGIDaemonProcess.html).
struct Recommended {
  const char* key;
  double value;
  double model::GroupSpec::*field;
  double left_off;  // the value that means "left off" (mod_wsgi's default)
};

const Recommended kRecommended[] = {
    {"queue-timeout", 45, &model::GroupSpec::queue_timeout, 0},
    {"request-timeout", 60, &model::GroupSpec::request_timeout, 0},
    {"startup-timeout", 15, &model::GroupSpec::startup_timeout, 0},
    {"deadlock-timeout", 60, &model::GroupSpec::deadlock_timeout, 300},
};

std::string fmt_number(double v) {
  std::string s = std::to_string(static_cast<long long>(v));
  return s;
}

}  // namespace

std::string recommended_timeouts_note(const model::Config& config) {
  std::vector<std::string> groups;
  std::vector<bool> missing(std::size(kRecommended), false);
  for (const model::GroupSpec& g : config.groups) {
    bool any = false;
    for (size_t i = 0; i < std::size(kRecommended); ++i) {
      if (g.*(kRecommended[i].field) == kRecommended[i].left_off) {
        missing[i] = true;
        any = true;
      }
    }
    if (any) groups.push_back("'" + g.name + "'");
  }
  if (groups.empty()) return "";
  std::string s = "note: daemon process group";
  s += groups.size() > 1 ? "s " : " ";
  for (size_t i = 0; i < groups.size(); ++i) s += (i ? ", " : "") + groups[i];
  s += groups.size() > 1 ? " leave" : " leaves";
  s += " off mod_wsgi-express's recommended timeouts:";
  for (size_t i = 0; i < std::size(kRecommended); ++i)
    if (missing[i])
      s += std::string(" ") + kRecommended[i].key + "=" + fmt_number(kRecommended[i].value);
  s += " (mod_wsgi's defaults keep them off only for backward compatibility)";
  return s;
}

std::vector<std::string> uwsgi_trust_lines(const model::Config& config) {
  std::vector<std::string> lines;
  std::string peers;
  for (const std::string& p : config.uwsgi_trusted_peers) peers += (peers.empty() ? "" : " ") + p;
  for (const auto& addr : config.listen) {
    if (addr.protocol != model::ListenProtocol::kUwsgi) continue;
    lines.push_back("Listen " + addr.text() + " uwsgi: accepts connections only from " + peers +
                    " (WSGIUwsgiTrustedPeers) and trusts their REMOTE_ADDR, REMOTE_PORT and "
                    "scheme (HTTPS, REQUEST_SCHEME) as the client's");
  }
  return lines;
}

int run_check(const CheckOptions& options, std::ostream& out, std::ostream& err) {
  config::ParseOptions po;
  po.syntax.defines = options.defines;
  po.check_files = options.check_files;
  config::ParseResult r = config::parse_config_file(options.config_path, po);
  if (r.ok() && r.config.listen.empty()) {
    // The master refuses to start without a Listen, as Apache does; a site file
    // (Debian's sites-available/*.conf, without ports.conf) stays checkable.
    model::SourceLoc whole;
    whole.file = options.config_path;
    r.diags.warning(whole,
                    "no Listen directive: wsgid would not start with this file as its main "
                    "configuration (Apache: \"no listening sockets available, shutting down\")",
                    {"fine for a site file that a main configuration includes; otherwise add "
                     "'Listen 80' (Debian's Apache keeps it in ports.conf)"});
  }
  if (!options.unit_path.empty() && r.ok()) {
    Result<UnitSettings> unit = read_unit(options.unit_path, &r.diags);
    if (!unit) {
      err << r.diags.render_all();
      err << "wsgid: cannot read the unit: " << unit.status().message() << "\n";
      return 1;
    }
    lint_unit(r.config, *unit, &r.diags);
  }
  err << r.diags.render_all();
  if (!r.ok()) {
    err << "wsgid: " << options.config_path << " is not valid\n";
    return 1;
  }
  if (options.socket_activation) {
    // Socket activation (listen_fds.h): which Listen takes a socket systemd
    // passed and which wsgid opens, as the master would decide.
    if (!options.listen_fds_error.empty()) {
      err << "wsgid: socket activation: " << options.listen_fds_error << "\n";
      return 1;
    }
    std::vector<master::InheritedSocket> pool = options.listen_fds;
    for (const auto& addr : r.config.listen) {
      auto s = master::take_matching(addr, &pool);
      err << "Listen " << addr.text() << ": "
          << (s ? "from systemd, " + master::describe(*s) : std::string("opened by wsgid")) << "\n";
    }
    if (!pool.empty()) {
      err << "wsgid: " << master::unmatched_message(pool.front(), options.config_path) << "\n";
      err << "wsgid: " << options.config_path << ": wsgid would refuse to start with these sockets\n";
      return 1;
    }
  }
  std::string note = recommended_timeouts_note(r.config);
  if (!note.empty()) err << note << "\n";
  for (const std::string& line : uwsgi_trust_lines(r.config)) err << line << "\n";
  if (options.json) {
    out << model::config_to_json(r.config).dump(2) << "\n";
  } else {
    err << "wsgid: " << options.config_path << " is valid\n";
  }
  return 0;
}

}  // namespace wsgid
