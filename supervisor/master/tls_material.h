// The master's side of "keys stay root's" (issue 13, docs/decisions.md): reads
// the certificate, chain, private key and CA files of every TLS server as root
// (mode 0600 files, as certbot leaves them), checks them with OpenSSL (the
// certificate parses, the key parses and matches it: tls::TlsPart::load_files,
// the module loaded for the first server with SSLEngine on, supervisor/tls/
// tls_part.h), and keeps the loaded
// PEM text. The Daemon adds it to the front end's settings message
// (model::TlsMaterial, sent on the private control channel), so the front end,
// which runs as User, never opens a key file.
//
// load() runs at start and on every reload (HUP, `wsgictl reload`): a server
// whose files fail keeps what was loaded for it before (the certificate that
// was serving), and the failure is returned for the log; at start a failure is
// fatal. Servers are known across reloads by their addresses and ServerName.
// Loop thread only (the files are small and local: read synchronously).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/config.h"
#include "model/frontend_settings.h"

namespace wsgid::master {

class TlsMaterialStore {
 public:
  // Loads the material of every TLS server of config. Returns one message per
  // server that failed ("<VirtualHost *:443> www.example.com: ..."), each
  // saying whether an older certificate keeps serving.
  std::vector<std::string> load(const model::Config& config);
  // The material by vhost index (-1 = the main server) for config, the one
  // given to the last load().
  std::map<int, model::TlsMaterial> by_index(const model::Config& config) const;

 private:
  std::map<std::string, model::TlsMaterial> loaded_;  // by server identity
};

}  // namespace wsgid::master
