#include "supervisor/frontend/settings.h"

#include <charconv>

namespace wsgid::frontend {

using nlohmann::json;

namespace {

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<bool>& v) { return v ? json(*v) : json(nullptr); }

json scope_json(const config::ScopeSettings& s) {
  return {{"process_group", opt(s.process_group)},
          {"application_group", opt(s.application_group)},
          {"callable_object", opt(s.callable_object)},
          {"pass_authorization", opt(s.pass_authorization)},
          {"script_reloading", opt(s.script_reloading)},
          {"restrict_process", s.restrict_process ? json(*s.restrict_process) : json(nullptr)}};
}

// Access control of a block (issue 11): its lines as written, for the front end
// to rebuild with authz::build_section(), and its password and group files.
json access_json(const config::Block& b) {
  if (b.access.empty()) return nullptr;
  json lines = json::array();
  for (const auto& l : b.access.lines) {
    json line = json::array({l.name});
    for (const auto& a : l.args) line.push_back(a);
    lines.push_back(line);
  }
  return {{"lines", lines}, {"user_file", opt(b.access.user_file)},
          {"group_file", opt(b.access.group_file)},
          {"at", b.loc.file + ":" + std::to_string(b.loc.line)}};
}

json blocks_json(const std::vector<config::Block>& blocks) {
  json a = json::array();
  for (const auto& b : blocks)
    a.push_back({{"path", b.path}, {"is_regex", b.is_regex}, {"is_files", b.is_files},
                 {"settings", scope_json(b.settings)}, {"access", access_json(b)}});
  return a;
}

json vhost_json(const config::VirtualHost& v) {
  json addrs = json::array();
  for (const auto& a : v.addrs) addrs.push_back(listen_text(a));
  json mounts = json::array();
  for (const auto& m : v.mounts)
    mounts.push_back({{"url", m.url}, {"script", m.script}, {"is_match", m.is_match},
                      {"process_group", opt(m.process_group)},
                      {"application_group", opt(m.application_group)},
                      {"callable_object", opt(m.callable_object)},
                      {"pass_authorization", opt(m.pass_authorization)}});
  json aliases = json::array();
  for (const auto& a : v.aliases)
    aliases.push_back({{"url", a.url}, {"path", a.path}, {"is_match", a.is_match}});
  json logs = json::array();
  for (const auto& l : v.custom_logs) logs.push_back({{"path", l.path}, {"format", l.format}});
  return {{"addrs", addrs}, {"server_name", v.server_name},
          {"server_aliases", v.server_aliases}, {"settings", scope_json(v.settings)},
          {"mounts", mounts}, {"locations", blocks_json(v.locations)},
          {"directories", blocks_json(v.directories)}, {"aliases", aliases},
          {"custom_logs", logs}};
}

// Decoding: each reader throws Bad with the key path; the entry point converts.
struct Bad {
  std::string what;
};

const json& need(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) throw Bad{"settings: '" + path + key + "' is missing"};
  return *it;
}

std::string str(const json& j, const char* key, const std::string& path) {
  const json& v = need(j, key, path);
  if (!v.is_string()) throw Bad{"settings: '" + path + key + "' must be a string"};
  return v.get<std::string>();
}

std::optional<std::string> ostr(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw Bad{"settings: '" + path + key + "' must be a string or null"};
  return it->get<std::string>();
}

std::optional<bool> obool(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) throw Bad{"settings: '" + path + key + "' must be a boolean or null"};
  return it->get<bool>();
}

template <class T>
T num(const json& j, const char* key, const std::string& path, T dflt) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return dflt;
  if (!it->is_number()) throw Bad{"settings: '" + path + key + "' must be a number"};
  return it->get<T>();
}

const json& arr(const json& j, const char* key, const std::string& path) {
  static const json empty = json::array();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return empty;
  if (!it->is_array()) throw Bad{"settings: '" + path + key + "' must be an array"};
  return *it;
}

config::ScopeSettings scope_from(const json& j, const std::string& path) {
  config::ScopeSettings s;
  if (j.is_null()) return s;
  if (!j.is_object()) throw Bad{"settings: '" + path + "' must be an object"};
  s.process_group = ostr(j, "process_group", path + ".");
  s.application_group = ostr(j, "application_group", path + ".");
  s.callable_object = ostr(j, "callable_object", path + ".");
  s.pass_authorization = obool(j, "pass_authorization", path + ".");
  s.script_reloading = obool(j, "script_reloading", path + ".");
  auto rp = j.find("restrict_process");
  if (rp != j.end() && !rp->is_null()) {
    std::vector<std::string> names;
    if (!rp->is_array()) throw Bad{"settings: '" + path + ".restrict_process' must be an array of strings"};
    for (const auto& n : *rp) {
      if (!n.is_string()) throw Bad{"settings: '" + path + ".restrict_process' must be an array of strings"};
      names.push_back(n.get<std::string>());
    }
    s.restrict_process = std::move(names);
  }
  return s;
}

void access_from(const json& j, const std::string& path, config::Block* b) {
  const std::string bad = "settings: '" + path + "' must be {\"lines\": [[name, arg...]...], ...}";
  if (!j.is_object()) throw Bad{bad};
  for (const auto& line : arr(j, "lines", path + ".")) {
    if (!line.is_array() || line.empty()) throw Bad{bad};
    config::AccessLine l;
    for (size_t k = 0; k < line.size(); ++k) {
      if (!line[k].is_string()) throw Bad{bad};
      (k == 0 ? l.name : l.args.emplace_back()) = line[k].get<std::string>();
    }
    b->access.lines.push_back(std::move(l));
  }
  b->access.user_file = ostr(j, "user_file", path + ".");
  b->access.group_file = ostr(j, "group_file", path + ".");
  std::string at = ostr(j, "at", path + ".").value_or("");
  size_t colon = at.rfind(':');
  b->loc.file = at.substr(0, colon);
  if (colon != std::string::npos) b->loc.line = std::atoi(at.c_str() + colon + 1);
}

std::vector<config::Block> blocks_from(const json& a, const std::string& path) {
  std::vector<config::Block> out;
  for (size_t i = 0; i < a.size(); ++i) {
    std::string p = path + "[" + std::to_string(i) + "].";
    config::Block b;
    b.path = str(a[i], "path", p);
    b.is_regex = obool(a[i], "is_regex", p).value_or(false);
    b.is_files = obool(a[i], "is_files", p).value_or(false);
    auto it = a[i].find("settings");
    if (it != a[i].end()) b.settings = scope_from(*it, p + "settings");
    if (auto ac = a[i].find("access"); ac != a[i].end() && !ac->is_null())
      access_from(*ac, p + "access", &b);
    out.push_back(std::move(b));
  }
  return out;
}

config::VirtualHost vhost_from(const json& j, const std::string& path) {
  if (!j.is_object()) throw Bad{"settings: '" + path + "' must be an object"};
  std::string p = path + ".";
  config::VirtualHost v;
  for (const auto& a : arr(j, "addrs", p)) {
    config::ListenAddr la;
    if (!a.is_string() || !parse_listen_text(a.get<std::string>(), &la))
      throw Bad{"settings: '" + p + "addrs' must hold addresses like \"*:80\""};
    v.addrs.push_back(la);
  }
  v.server_name = ostr(j, "server_name", p).value_or("");
  for (const auto& a : arr(j, "server_aliases", p)) {
    if (!a.is_string()) throw Bad{"settings: '" + p + "server_aliases' must hold strings"};
    v.server_aliases.push_back(a.get<std::string>());
  }
  auto it = j.find("settings");
  if (it != j.end()) v.settings = scope_from(*it, p + "settings");
  const json& mounts = arr(j, "mounts", p);
  for (size_t i = 0; i < mounts.size(); ++i) {
    std::string mp = p + "mounts[" + std::to_string(i) + "].";
    config::Mount m;
    m.url = str(mounts[i], "url", mp);
    m.script = str(mounts[i], "script", mp);
    m.is_match = obool(mounts[i], "is_match", mp).value_or(false);
    m.process_group = ostr(mounts[i], "process_group", mp);
    m.application_group = ostr(mounts[i], "application_group", mp);
    m.callable_object = ostr(mounts[i], "callable_object", mp);
    m.pass_authorization = obool(mounts[i], "pass_authorization", mp);
    v.mounts.push_back(std::move(m));
  }
  v.locations = blocks_from(arr(j, "locations", p), p + "locations");
  v.directories = blocks_from(arr(j, "directories", p), p + "directories");
  const json& aliases = arr(j, "aliases", p);
  for (size_t i = 0; i < aliases.size(); ++i) {
    std::string ap = p + "aliases[" + std::to_string(i) + "].";
    config::StaticAlias a;
    a.url = str(aliases[i], "url", ap);
    a.path = str(aliases[i], "path", ap);
    a.is_match = obool(aliases[i], "is_match", ap).value_or(false);
    v.aliases.push_back(std::move(a));
  }
  const json& logs = arr(j, "custom_logs", p);
  for (size_t i = 0; i < logs.size(); ++i) {
    std::string lp = p + "custom_logs[" + std::to_string(i) + "].";
    config::LogFile l;
    l.path = str(logs[i], "path", lp);
    l.format = str(logs[i], "format", lp);
    v.custom_logs.push_back(std::move(l));
  }
  return v;
}

}  // namespace

std::string listen_text(const config::ListenAddr& a) {
  std::string host = a.host.empty() ? "*" : a.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(a.port);
}

bool parse_listen_text(std::string_view t, config::ListenAddr* out) {
  size_t colon = t.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = t.substr(0, colon), port = t.substr(colon + 1);
  int p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p < 0 || p > 65535) return false;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "*" || host == "0.0.0.0" || host == "::") host = "";
  out->host = std::string(host);
  out->port = p;
  return true;
}

json frontend_settings_to_json(const config::Config& c,
                               const std::map<std::string, std::string>& socket_paths,
                               const std::map<std::string, std::string>& states,
                               int generation) {
  json listen = json::array();
  for (const auto& l : c.listen) listen.push_back(listen_text(l));
  json groups = json::array();
  for (const auto& g : c.groups) {
    auto sp = socket_paths.find(g.name);
    auto st = states.find(g.name);
    groups.push_back({{"name", g.name},
                      {"socket", sp == socket_paths.end() ? std::string() : sp->second},
                      {"processes", g.processes}, {"threads", g.threads},
                      {"connect_timeout", g.connect_timeout},
                      {"socket_timeout", g.socket_timeout},
                      {"queue_timeout", g.queue_timeout},
                      {"state", st == states.end() ? std::string("running") : st->second}});
  }
  json vhosts = json::array();
  for (const auto& v : c.vhosts) vhosts.push_back(vhost_json(v));
  config::VirtualHost server = c.server;
  if (!server.settings.script_reloading) server.settings.script_reloading = c.script_reloading;
  return {{"role", "frontend"},
          {"generation", generation},
          {"user", opt(c.user)},
          {"group", opt(c.group)},
          {"log_level", c.log_level},
          {"listen", listen},
          {"limits", {{"request_line", c.limit_request_line},
                      {"field_size", c.limit_request_field_size},
                      {"fields", c.limit_request_fields},
                      {"body", c.limit_request_body},
                      {"timeout", c.timeout},
                      {"keep_alive", c.keep_alive},
                      {"keep_alive_timeout", c.keep_alive_timeout},
                      {"max_keep_alive_requests", c.max_keep_alive_requests},
                      {"header_timeout", c.request_read_header_timeout},
                      {"body_timeout", c.request_read_body_timeout}}},
          {"restrict_embedded", c.restrict_embedded},
          {"embedded", {{"threads", c.threads_per_child},
                        {"python_home", opt(c.python_home)},
                        {"python_path", c.python_path}}},
          {"groups", groups},
          {"server", vhost_json(server)},
          {"vhosts", vhosts}};
}

Result<Settings> frontend_settings_from_json(const json& j) {
  try {
    if (!j.is_object()) throw Bad{"settings: not a JSON object"};
    Settings s;
    s.generation = num<int>(j, "generation", "", 0);
    s.user = ostr(j, "user", "");
    s.group = ostr(j, "group", "");
    s.log_level = ostr(j, "log_level", "").value_or("warn");
    config::Config& c = s.config;
    for (const auto& a : arr(j, "listen", "")) {
      config::ListenAddr la;
      if (!a.is_string() || !parse_listen_text(a.get<std::string>(), &la))
        throw Bad{"settings: 'listen' must hold addresses like \"127.0.0.1:8080\""};
      c.listen.push_back(la);
    }
    auto lim = j.find("limits");
    if (lim != j.end() && !lim->is_null()) {
      if (!lim->is_object()) throw Bad{"settings: 'limits' must be an object"};
      const std::string p = "limits.";
      c.limit_request_line = num<int64_t>(*lim, "request_line", p, c.limit_request_line);
      c.limit_request_field_size = num<int64_t>(*lim, "field_size", p, c.limit_request_field_size);
      c.limit_request_fields = num<int64_t>(*lim, "fields", p, c.limit_request_fields);
      c.limit_request_body = num<int64_t>(*lim, "body", p, c.limit_request_body);
      c.timeout = num<double>(*lim, "timeout", p, c.timeout);
      c.keep_alive = obool(*lim, "keep_alive", p).value_or(c.keep_alive);
      c.keep_alive_timeout = num<double>(*lim, "keep_alive_timeout", p, c.keep_alive_timeout);
      c.max_keep_alive_requests =
          num<int64_t>(*lim, "max_keep_alive_requests", p, c.max_keep_alive_requests);
      c.request_read_header_timeout =
          num<double>(*lim, "header_timeout", p, c.request_read_header_timeout);
      c.request_read_body_timeout =
          num<double>(*lim, "body_timeout", p, c.request_read_body_timeout);
    }
    c.restrict_embedded = obool(j, "restrict_embedded", "").value_or(false);
    auto emb = j.find("embedded");
    if (emb != j.end() && !emb->is_null()) {
      if (!emb->is_object()) throw Bad{"settings: 'embedded' must be an object"};
      c.threads_per_child = num<int>(*emb, "threads", "embedded.", c.threads_per_child);
      if (c.threads_per_child < 1) throw Bad{"settings: 'embedded.threads' must be at least 1"};
      c.python_home = ostr(*emb, "python_home", "embedded.");
      for (const auto& p : arr(*emb, "python_path", "embedded.")) {
        if (!p.is_string()) throw Bad{"settings: 'embedded.python_path' must be an array of strings"};
        c.python_path.push_back(p.get<std::string>());
      }
    }
    const json& groups = arr(j, "groups", "");
    for (size_t i = 0; i < groups.size(); ++i) {
      std::string p = "groups[" + std::to_string(i) + "].";
      GroupEndpoint g;
      g.name = str(groups[i], "name", p);
      g.socket = str(groups[i], "socket", p);
      g.processes = num<int>(groups[i], "processes", p, 1);
      g.threads = num<int>(groups[i], "threads", p, 15);
      g.connect_timeout = num<double>(groups[i], "connect_timeout", p, 15);
      g.socket_timeout = num<double>(groups[i], "socket_timeout", p, 60);
      g.queue_timeout = num<double>(groups[i], "queue_timeout", p, 0);
      g.state = ostr(groups[i], "state", p).value_or("running");
      if (g.state != "running" && g.state != "stopped" && g.state != "down")
        throw Bad{"settings: '" + p + "state' must be \"running\", \"stopped\" or \"down\""};
      s.groups.push_back(std::move(g));
    }
    auto srv = j.find("server");
    if (srv != j.end() && !srv->is_null()) c.server = vhost_from(*srv, "server");
    const json& vhosts = arr(j, "vhosts", "");
    for (size_t i = 0; i < vhosts.size(); ++i)
      c.vhosts.push_back(vhost_from(vhosts[i], "vhosts[" + std::to_string(i) + "]"));
    return s;
  } catch (const Bad& b) {
    return Status::error(b.what);
  } catch (const json::exception& e) {
    return Status::error(std::string("settings: ") + e.what());
  }
}

}  // namespace wsgid::frontend
