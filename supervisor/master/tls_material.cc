// Loads and checks the TLS files of each server; see tls_material.h.
#include "supervisor/master/tls_material.h"

#include "supervisor/tls/tls_part.h"

namespace wsgid::master {

namespace {

template <class F>
void each_tls_server(const model::Config& c, F f) {
  if (c.server.tls.on()) f(-1, c.server, tls::server_identity(c.server, true));
  for (size_t i = 0; i < c.vhosts.size(); ++i)
    if (c.vhosts[i].tls.on()) f(static_cast<int>(i), c.vhosts[i], tls::server_identity(c.vhosts[i], false));
}

}  // namespace

std::vector<std::string> TlsMaterialStore::load(const model::Config& config) {
  std::vector<std::string> errors;
  std::map<std::string, model::TlsMaterial> next;
  // OpenSSL is loaded for the first server with SSLEngine on (tls_part.h).
  tls::TlsPart* part = nullptr;
  std::string why;
  each_tls_server(config, [&](int, const model::VirtualHost& v, const std::string& id) {
    if (!part) part = tls::load_tls_part(&why);
    Result<model::TlsMaterial> m =
        part ? part->load_files(v.tls) : Result<model::TlsMaterial>(Status::error("cannot load OpenSSL: " + why));
    if (m) {
      next[id] = std::move(m.value());
      return;
    }
    auto old = loaded_.find(id);
    if (old != loaded_.end()) {
      next[id] = old->second;
      errors.push_back(id + ": " + m.status().message() +
                       "; the certificate loaded before keeps serving");
    } else {
      errors.push_back(id + ": " + m.status().message());
    }
  });
  loaded_ = std::move(next);
  return errors;
}

std::map<int, model::TlsMaterial> TlsMaterialStore::by_index(const model::Config& config) const {
  std::map<int, model::TlsMaterial> out;
  each_tls_server(config, [&](int index, const model::VirtualHost&, const std::string& id) {
    auto it = loaded_.find(id);
    if (it != loaded_.end()) out[index] = it->second;
  });
  return out;
}

}  // namespace wsgid::master
