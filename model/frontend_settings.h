// The front end's settings message: what the master sends it in kSettings
// (protocol/PROTOCOL.md, "Front-end settings"), both ends.
//
// The master (loop thread) calls frontend_settings_to_json() at start and on every
// reload, and sends the text as one kSettings frame on the front end's control
// channel (fd 3). The front end (its loop thread) decodes it with
// frontend_settings_from_json() and builds its router, upstream pools and access
// logs from the result. A kSettings that holds only {"reopen_logs": true} asks the
// front end to reopen its log files (logrotate) and changes nothing else; every
// full kSettings also reopens them.
//
// The JSON (sizes in bytes, durations in seconds, null = unset):
//   {"role": "frontend", "generation": 1,
//    "user": "www-data" | null, "group": "www-data" | null,   (User / Group)
//    "log_level": "warn",
//    "listen": ["127.0.0.1:8080", "[::1]:80", "*:8000"],     (fds 4.. in this order)
//    "listen_protocols": ["http", "https", "haproxy-agent", "uwsgi"],   (per "listen")
//    "limits": {"request_line": 8190, "field_size": 8190, "fields": 100,
//               "body": 1073741824, "timeout": 60, "keep_alive": true,
//               "keep_alive_timeout": 5, "max_keep_alive_requests": 100,
//               "header_timeout": 20, "body_timeout": 20},
//    "restrict_embedded": false,
//    "embedded": {"threads": 25, "python_home": null | path,   (ThreadsPerChild,
//                 "python_path": ["/srv/lib"]},                 WSGIPythonHome, WSGIPythonPath)
//    "proxy_protocol_exceptions": ["10.0.0.0/8"],  (RemoteIPProxyProtocolExceptions)
//    "uwsgi_trusted_peers": ["127.0.0.0/8", "::1"],  (WSGIUwsgiTrustedPeers)
//    "groups": [{"name": "site1", "socket": "/run/wsgid/wsgi.site1.sock",
//                "processes": 2, "threads": 4, "connect_timeout": 15,
//                "socket_timeout": 60, "queue_timeout": 0,
//                "state": "running" | "replacing" | "stopped" | "down"}],
//    "server": VHOST, "vhosts": [VHOST, ...],
//    "tls_material": [{"vhost": -1 | N, "cert": PEM, "key": PEM, "ca": PEM}],
//            (added by the master: the loaded certificates of each TLS server)
//    "listen_systemd": [0, 2]}   (added by the master: the "listen" indices whose
//            socket systemd passed and still holds)
//   VHOST = {"addrs": ["*:80"], "server_name": "", "server_aliases": ["*.example.com"],
//            "settings": SCOPE,
//            "mounts": [{"url": "/app", "script": "/srv/app.wsgi", "is_match": false,
//                        "process_group": null, "application_group": null,
//                        "callable_object": null, "pass_authorization": null}],
//            "locations": [{"path": "/admin", "is_regex": false, "settings": SCOPE,
//                           "rewrite": REWRITE, "access": ACCESS}],
//            "directories": [{"path": "/srv", "is_regex": false, "is_files": false,
//                             "settings": SCOPE, "access": ACCESS}],
//            "aliases": [{"url": "/static/", "path": "/srv/static/", "is_match": false}],
//            "custom_logs": [{"path": "/var/log/wsgid/access.log", "format": "%h %l ..."}],
//            "rewrite": REWRITE, "remoteip": REMOTEIP, "tls": null | TLS}
//   REMOTEIP = {"header": null | "X-Forwarded-For", "proxies_header": null | name,
//               "proxies": null | [{"address": "10.0.0.0/8", "internal": true}],
//               "proxy_protocol": null | bool}       (mod_remoteip, issue 13)
//   TLS = {"verify_client": "none", "verify_depth": 1, "protocol": "all -SSLv3",
//          "cipher_suite": null, "cipher_suite_tls13": null, "honor_cipher_order": null,
//          "session_tickets": null, "session_cache_timeout": 300,
//          "conf_cmds": [["Curves", "X25519"]], "std_env_vars": false,
//          "export_cert_data": false, "certificate_file": path}
//            (config.h TlsSettings of a server that speaks TLS; null = plain HTTP)
//   REWRITE = [{"name": "RewriteRule", "args": ["^/secret", "-", "[F]"]}, ...]
//            (Redirect*, Rewrite*, Header, RequestHeader as written;
//            supervisor/frontend/rewrite_step.h reads them)
//   ACCESS = null | {"lines": [["Require", "ip", "10.0.0.0/8"], ["<RequireAll"], ...],
//             "user_file": null | path, "group_file": null | path, "at": "site.conf:12"}
//            (config.h BlockAccess: the access control lines as written, issue 11)
//   SCOPE = {"process_group": null | "site1" | "" (embedded) | "%{ENV:X}",
//            "application_group": null | "%{GLOBAL}" | ..., "callable_object": null,
//            "pass_authorization": null | bool, "script_reloading": null | bool,
//            "restrict_process": null | ["site1", ...],   (WSGIRestrictProcess)
//            "require_ssl": null | true,                  (SSLRequireSSL)
//            "trusted_proxy_headers": null | ["X-Forwarded-For", ...],
//            "trusted_proxies": null | ["127.0.0.1", ...]}  (issue 13)
// "state" is the master's view of the group: "stopped" (wsgictl stop) and "down"
// (BACKOFF/FATAL, no live worker, none due back soon) make the front end answer
// 503 at once; "replacing" (no live worker, but a replacement is due within
// queue-timeout, or connect-timeout when that is off) makes requests wait for it
// in the group socket's backlog, for that long at most; the master resends the
// settings when a group's state changes.
//
// Decoding returns errors as values and never throws. Pure functions: any thread.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "model/config.h"

namespace wsgid::model {

struct GroupEndpoint {
  std::string name;
  std::string socket;  // the group's UNIX socket path
  int processes = 1;
  int threads = 15;
  double connect_timeout = 15;
  double socket_timeout = 60;
  double queue_timeout = 0;
  std::string state = "running";
};

// The loaded certificate material of one TLS server (issue 13): what the master
// (root) read from SSLCertificateFile, SSLCertificateChainFile,
// SSLCertificateKeyFile and SSLCACertificateFile/Path, as PEM text. The front
// end never opens those files (supervisor/master/tls_material.h).
struct TlsMaterial {
  std::string cert_chain;  // the certificate, then its chain
  std::string key;         // the private key
  std::string ca;          // the CAs that may sign client certificates ("" = none)
};

struct FrontendSettings {
  int generation = 0;
  std::optional<std::string> user;
  std::optional<std::string> group;
  std::string log_level = "warn";
  // Only the server-level fields the front end uses are filled: listen, limits
  // and timeouts, restrict_embedded, threads_per_child, python_home,
  // python_path, script_reloading, server, vhosts.
  Config config;
  std::vector<GroupEndpoint> groups;
  // By vhost index (-1 = the main server): the material of each TLS server the
  // master could load ("tls_material" in the JSON, added by the master).
  std::map<int, TlsMaterial> tls_material;
  // Indices into config.listen of the sockets systemd passed and still holds
  // ("listen_systemd" in the JSON, added by the master): closing ours leaves
  // their queue to the next start.
  std::set<size_t> listen_systemd;
  // The front end's event loops ("loops", added by the master:
  // model::frontend_loop_count() of the configuration); 1 when absent.
  int loops = 1;
};

// The "tls_material" array the master adds to the settings JSON.
nlohmann::json tls_material_json(const std::map<int, TlsMaterial>& material);

// The master's side. socket_paths maps each group name to its socket path;
// states maps group names to "replacing" / "stopped" / "down" (absent = "running").
nlohmann::json frontend_settings_to_json(const Config& config,
                                         const std::map<std::string, std::string>& socket_paths,
                                         const std::map<std::string, std::string>& states,
                                         int generation);

// The front end's side. Fails naming the first key with a missing or wrong value
// ("settings: 'listen' must be an array", "settings: 'groups[0].name' is
// missing", "settings: 'limits.body' must be a number"); never throws.
Result<FrontendSettings> frontend_settings_from_json(const nlohmann::json& j);

// "127.0.0.1:8080" -> host "127.0.0.1", port 8080; "[::1]:80" -> "::1"; "*:80" -> "".
// The inverse of ListenAddr::text().
bool parse_listen_text(std::string_view text, ListenAddr* out);
// ListenAddr::text(): "127.0.0.1:8080", "[::1]:80", "*:80".
std::string listen_text(const ListenAddr& addr);

}  // namespace wsgid::model
