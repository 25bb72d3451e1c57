// See tls_part.h: what a process needs of TLS without OpenSSL, and the loader.
#include "supervisor/tls/tls_part.h"

#include <sys/stat.h>

#include <cstdlib>

#include "common/module_file.h"
#include "common/self_dir.h"

namespace wsgid::tls {

namespace {

TlsPart* g_part = nullptr;
std::string g_error;
bool g_tried = false;

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::string module_path(std::string* looked) {
  if (const char* e = std::getenv("WSGID_TLS_MODULE"); e && *e) return e;
  std::vector<std::string> candidates;
  if (std::string dir = self_dir(); !dir.empty())
    for (const char* rel : {"", "tls/", "../tls/"}) candidates.push_back(dir + "/" + rel + kTlsModuleName);
#ifdef WSGID_LIBEXECDIR
  candidates.push_back(std::string(WSGID_LIBEXECDIR) + "/wsgid/" + kTlsModuleName);
#endif
  for (const std::string& c : candidates) {
    if (is_file(c)) return c;
    if (looked) *looked += (looked->empty() ? "" : ", ") + c;
  }
  return "";
}

std::string compat_key(const model::TlsSettings& t) {
  std::string k;
  auto add = [&](const std::optional<std::string>& v) { k += (v ? *v : "-") + '\n'; };
  add(t.certificate_file);
  add(t.certificate_key_file);
  add(t.certificate_chain_file);
  add(t.ca_certificate_file);
  add(t.ca_certificate_path);
  add(t.verify_client);
  k += std::to_string(t.verify_depth.value_or(1)) + '\n';
  add(t.protocol);
  add(t.cipher_suite);
  add(t.cipher_suite_tls13);
  for (const auto& [n, v] : t.conf_cmds) k += n + '=' + v + '\n';
  return k;
}

bool uses_tls(const model::Config& config) {
  if (config.server.tls.on()) return true;
  for (const model::VirtualHost& v : config.vhosts)
    if (v.tls.on()) return true;
  return false;
}

std::string server_identity(const model::VirtualHost& v, bool main_server) {
  if (main_server) return "the main server";
  std::string s = "<VirtualHost";
  for (const auto& a : v.addrs) s += " " + a.text();
  s += ">";
  if (!v.server_name.empty()) s += " " + v.server_name;
  return s;
}

TlsPart* load_tls_part(std::string* error) {
  if (!g_tried) {
    g_tried = true;
    std::string looked;
    const std::string path = module_path(&looked);
    if (path.empty()) {
      g_error = std::string(kTlsModuleName) + " not found (looked for " + looked + ")";
    } else if (void* entry = load_module_entry(path, kTlsPartEntry, &g_error)) {
      g_part = reinterpret_cast<TlsPartEntry>(entry)();
    }
  }
  if (!g_part && error) *error = g_error;
  return g_part;
}

TlsPart* loaded_tls_part() { return g_part; }

}  // namespace wsgid::tls
