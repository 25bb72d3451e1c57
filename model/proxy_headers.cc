// find_proxy_header (see the header).
#include "model/proxy_headers.h"

#include "common/strings.h"

namespace wsgid::model {

const ProxyHeaderInfo* find_proxy_header(std::string_view name) {
  for (const ProxyHeaderInfo& h : kProxyHeaders)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

}  // namespace wsgid::model
