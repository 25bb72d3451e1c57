// The small methods of the plain config structs (config.h).
#include "model/config.h"

namespace wsgid::model {

std::string GroupSpec::title() const {
  if (!display_name) return "wsgid-worker " + name;
  if (*display_name == "%{GROUP}") return "(wsgi:" + name + ")";
  std::string out;
  const std::string& v = *display_name;
  for (size_t i = 0; i < v.size();) {
    if (v.compare(i, 8, "%{GROUP}") == 0) {
      out += name;
      i += 8;
    } else {
      out += v[i++];
    }
  }
  return out;
}

const char* protocol_name(ListenProtocol p) {
  switch (p) {
    case ListenProtocol::kHttp: return "http";
    case ListenProtocol::kHttps: return "https";
    case ListenProtocol::kHaproxyAgent: return "haproxy-agent";
    case ListenProtocol::kUwsgi: return "uwsgi";
  }
  return "http";
}

bool protocol_from_name(std::string_view name, ListenProtocol* out) {
  for (ListenProtocol p : {ListenProtocol::kHttp, ListenProtocol::kHttps, ListenProtocol::kHaproxyAgent,
                          ListenProtocol::kUwsgi}) {
    if (name == protocol_name(p)) {
      *out = p;
      return true;
    }
  }
  return false;
}

std::string ListenAddr::text() const {
  std::string h = host.empty() ? "*" : host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return h + ":" + std::to_string(port);
}

const GroupSpec* Config::find_group(std::string_view name) const {
  for (const GroupSpec& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

bool Config::traces(const VirtualHost* vh) const {
  if (vh && vh->trace_enable) return *vh->trace_enable;
  return server.trace_enable.value_or(true);
}

}  // namespace wsgid::model
