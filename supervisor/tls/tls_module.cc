// wsgid-tls.so: the TLS part (tls_part.h), built from openssl_contexts.cc,
// openssl_session.cc and tls_files.cc, linked to libssl and libcrypto. The
// processes look up one symbol, the entry point below, and load the module
// RTLD_LOCAL, so the copies of wsgid's libraries inside it are seen by nothing
// else.
#include "supervisor/tls/openssl_tls.h"

namespace wsgid::tls {
namespace {

class Part final : public TlsPart {
 public:
  bool known_conf_cmd(const std::string& name) override { return tls::known_conf_cmd(name); }
  Result<model::TlsMaterial> load_files(const model::TlsSettings& t) override { return load_tls_files(t); }
  std::shared_ptr<const Contexts> build_contexts(const model::FrontendSettings& settings,
                                                 const Contexts* previous,
                                                 std::vector<std::string>* errors) override {
    return OpenSslContexts::build(settings, previous, errors);
  }
  std::unique_ptr<Session> new_session(SslCtx* ctx, Session::Picker picker) override {
    return std::make_unique<OpenSslSession>(ctx, std::move(picker));
  }
};

}  // namespace
}  // namespace wsgid::tls

extern "C" __attribute__((visibility("default"))) wsgid::tls::TlsPart* wsgid_tls_part() {
  static wsgid::tls::Part part;
  return &part;
}
