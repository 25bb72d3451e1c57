// What the configuration says about mod_wsgi's Python auth providers
// (auth_scripts.h): plain C++, in the front end itself and in its Python module
// (python_part.h), which runs the scripts.
#include "supervisor/frontend/auth_scripts.h"

namespace wsgid::frontend {

std::string auth_script_group(const model::AuthScript& script, std::string_view server_name,
                              std::string_view server_port) {
  if (!script.application_group || *script.application_group == "%{GLOBAL}") return "";
  const std::string& g = *script.application_group;
  if (g != "%{SERVER}" && g != "%{HOST}") return g;
  std::string out(server_name);
  if (server_port != "80" && server_port != "443" && !server_port.empty())
    out.append(":").append(server_port);
  return out;
}

}  // namespace wsgid::frontend
