// Config <-> JSON; see model_json.h. A group's options go through the option
// table (group_options.h), the one place that maps a GroupSpec field to its key.
#include "model/model_json.h"

#include "model/group_options.h"
#include "model/resolve.h"

namespace wsgid::model {

using nlohmann::json;

namespace {

std::string loc_text(const SourceLoc& l) {
  if (l.file.empty()) return "";
  return l.file + ":" + std::to_string(l.line);
}

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

// The handlers a scope sets (SetHandler, AddHandler, Options ExecCGI,
// DirectoryIndex); null for what it leaves to inherit.
json handlers_to_json(const HandlerSettings& h) {
  return {{"set_handler", opt(h.set_handler)},
          {"wsgi_extensions", h.wsgi_extensions},
          {"exec_cgi", opt(h.exec_cgi)},
          {"directory_index", opt(h.directory_index)}};
}

// Redirect*, Rewrite*, Header and RequestHeader, as written, where written.
json directives_to_json(const std::vector<RewriteDirective>& list) {
  json a = json::array();
  for (const RewriteDirective& d : list)
    a.push_back({{"directive", d.name}, {"args", d.args}, {"defined_at", loc_text(d.loc)}});
  return a;
}

// One access line as the config says it: "Require ip 10.0.0.0/8", "<RequireAll>",
// "<Limit POST>", "</Limit>".
std::string access_line_text(const AccessLine& l) {
  std::string out = l.name;
  for (const std::string& a : l.args)
    out += " " + (a.find_first_of(" \t\"") == std::string::npos ? a : "\"" + a + "\"");
  if (!out.empty() && out[0] == '<') out += ">";
  return out;
}

json access_to_json(const BlockAccess& a) {
  if (a.empty()) return nullptr;
  json rules = json::array();
  for (const AccessLine& l : a.lines) rules.push_back(access_line_text(l));
  return {{"rules", rules}, {"auth_user_file", opt(a.user_file)},
          {"auth_group_file", opt(a.group_file)}};
}

// The per-directory sections of a host, as the front end enforces them.
void add_sections(const VirtualHost& vh, int index, json* out) {
  json host = index < 0 || vh.server_name.empty() ? json(nullptr) : json(vh.server_name);
  auto add = [&](const Block& b, bool location) {
    std::string kind = location ? "Location" : b.is_files ? "Files" : "Directory";
    if (b.is_regex) kind += "Match";
    json o = json::object();
    o["section"] = kind;
    o["path"] = b.path;
    o["virtual_host"] = host;
    o["access"] = access_to_json(b.access);
    o["handlers"] = handlers_to_json(b.settings.handlers);
    o["process_group"] = opt(b.settings.process_group);
    o["application_group"] = opt(b.settings.application_group);
    o["directives"] = directives_to_json(b.rewrite);
    o["defined_at"] = loc_text(b.loc);
    out->push_back(o);
  };
  for (const Block& b : vh.directories) add(b, false);
  for (const Block& b : vh.locations) add(b, true);
}

// mod_remoteip's settings in force for a server or vhost, merged as mod_remoteip
// merges them (the vhost's, else the server's; issue 13).
json remoteip_to_json(const Config& c, const VirtualHost& vh) {
  const VirtualHost& sv = c.server;
  auto pick = [&](const std::optional<std::string>& v, const std::optional<std::string>& s) {
    return v ? json(*v) : s ? json(*s) : json(nullptr);
  };
  const auto& list = vh.remoteip_proxies ? vh.remoteip_proxies : sv.remoteip_proxies;
  json proxies = json::array();
  if (list)
    for (const RemoteIPProxySpec& p : *list)
      proxies.push_back({{"address", p.address}, {"internal", p.internal}});
  return {{"header", pick(vh.remoteip_header, sv.remoteip_header)},
          {"proxies_header", pick(vh.remoteip_proxies_header, sv.remoteip_proxies_header)},
          {"proxies", proxies},
          {"proxy_protocol", vh.remoteip_proxy_protocol ? json(*vh.remoteip_proxy_protocol)
                                                        : json(nullptr)}};
}

}  // namespace

json group_to_json(const GroupSpec& g) {
  json j = json::object();
  j["name"] = g.name;
  j["processes"] = g.processes;
  j["threads"] = g.threads;
  j["multithread"] = g.multithread();
  j["multiprocess"] = g.multiprocess();
  j["run_once"] = g.run_once();
  j["display_name"] = g.title();
  write_group_options(g, &j);
  j["defined_at"] = loc_text(g.loc);
  return j;
}

Result<GroupSpec> group_from_json(const json& j) {
  if (!j.is_object()) return Status::error("group settings: expected a JSON object");
  GroupSpec g;
  auto it = j.find("name");
  if (it == j.end() || !it->is_string())
    return Status::error("group settings: 'name' must be a string");
  g.name = it->get<std::string>();
  if (std::optional<OptionError> e = read_group_options(j, &g))
    return Status::error(std::string("group settings: '") + e->key + "' has the wrong type: " +
                         j.at(e->key).dump());
  auto mp = j.find("multiprocess");
  if (mp != j.end()) {
    if (!mp->is_boolean())
      return Status::error("group settings: 'multiprocess' has the wrong type: " + mp->dump());
    g.processes_given = mp->get<bool>();
  }
  return g;
}

json config_to_json(const Config& c) {
  json j = json::object();
  j["groups"] = json::array();
  for (const GroupSpec& g : c.groups) j["groups"].push_back(group_to_json(g));

  Resolver resolver(c);
  j["mounts"] = json::array();
  auto add_mounts = [&](const VirtualHost& vh, int index) {
    for (const Mount& m : vh.mounts) {
      std::string url = m.is_match ? std::string() : m.url;
      Route r = resolver.resolve(index, m, url, m.script);
      json o = json::object();
      o["url"] = m.url;
      o["match"] = m.is_match;
      o["script"] = m.script;
      o["process_group"] = opt(r.process_group);
      o["application_group"] = r.application_group;
      o["callable_object"] = r.callable_object;
      o["pass_authorization"] = r.pass_authorization;
      o["script_reloading"] = r.script_reloading;
      // mod_wsgi's trusted proxy headers in force for the alias (issue 13).
      o["trusted_proxy_headers"] =
          r.trusted_proxy_headers ? json(*r.trusted_proxy_headers) : json(nullptr);
      o["trusted_proxies"] = r.trusted_proxies ? json(*r.trusted_proxies) : json(nullptr);
      o["virtual_host"] = index < 0 || vh.server_name.empty() ? json(nullptr) : json(vh.server_name);
      o["defined_at"] = loc_text(m.loc);
      j["mounts"].push_back(o);
    }
  };
  add_mounts(c.server, -1);
  for (size_t i = 0; i < c.vhosts.size(); ++i) add_mounts(c.vhosts[i], static_cast<int>(i));

  j["listen"] = json::array();
  for (const ListenAddr& l : c.listen) j["listen"].push_back(l.text());
  j["listen_protocols"] = json::array();
  for (const ListenAddr& l : c.listen) j["listen_protocols"].push_back(protocol_name(l.protocol));

  j["virtual_hosts"] = json::array();
  for (const VirtualHost& vh : c.vhosts) {
    json o = json::object();
    o["addresses"] = json::array();
    for (const ListenAddr& a : vh.addrs) o["addresses"].push_back(a.text());
    o["server_name"] = vh.server_name.empty() ? json(nullptr) : json(vh.server_name);
    o["server_aliases"] = vh.server_aliases;
    o["error_log"] = vh.error_log ? json(vh.error_log->path) : json(nullptr);
    o["document_root"] = opt(vh.document_root);  // handlers part (issue 11, part 3)
    o["handlers"] = handlers_to_json(vh.settings.handlers);
    o["directives"] = directives_to_json(vh.rewrite);
    o["trace_enable"] = c.traces(&vh);
    o["remoteip"] = remoteip_to_json(c, vh);
    o["defined_at"] = loc_text(vh.loc);
    j["virtual_hosts"].push_back(o);
  }

  j["imports"] = json::array();
  for (const ImportScript& s : c.imports)
    j["imports"].push_back({{"script", s.script},
                            {"process_group", s.process_group},
                            {"application_group", s.application_group}});

  j["aliases"] = json::array();
  auto add_aliases = [&](const VirtualHost& vh) {
    for (const StaticAlias& a : vh.aliases)
      j["aliases"].push_back({{"url", a.url}, {"path", a.path}, {"match", a.is_match},
                              {"virtual_host", vh.server_name.empty() ? json(nullptr)
                                                                      : json(vh.server_name)}});
  };
  add_aliases(c.server);
  for (const VirtualHost& vh : c.vhosts) add_aliases(vh);

  // Access rules, authentication, handlers and the section-level directives:
  // what the front end will enforce, per section (the server's, then each
  // <VirtualHost>'s; within a host <Directory>/<Files> before <Location>).
  j["sections"] = json::array();
  add_sections(c.server, -1, &j["sections"]);
  for (size_t i = 0; i < c.vhosts.size(); ++i)
    add_sections(c.vhosts[i], static_cast<int>(i), &j["sections"]);

  json s = json::object();
  s["server_name"] = c.server.server_name.empty() ? json(nullptr) : json(c.server.server_name);
  s["server_root"] = opt(c.server_root);
  s["user"] = opt(c.user);
  s["group"] = opt(c.group);
  s["pid_file"] = opt(c.pid_file);
  s["document_root"] = opt(c.server.document_root);  // handlers part (issue 11, part 3)
  s["handlers"] = handlers_to_json(c.server.settings.handlers);
  s["directives"] = directives_to_json(c.server.rewrite);
  s["trace_enable"] = c.traces(nullptr);
  s["remoteip"] = remoteip_to_json(c, c.server);
  s["proxy_protocol_exceptions"] = c.proxy_protocol_exceptions;
  s["uwsgi_trusted_peers"] = c.uwsgi_trusted_peers;
  s["error_log"] = c.server.error_log ? json(c.server.error_log->path) : json(nullptr);
  s["custom_logs"] = json::array();
  for (const LogFile& l : c.server.custom_logs)
    s["custom_logs"].push_back({{"path", l.path}, {"format", l.format}});
  s["log_level"] = c.log_level;
  s["timeout"] = c.timeout;
  s["keep_alive"] = c.keep_alive;
  s["keep_alive_timeout"] = c.keep_alive_timeout;
  s["max_keep_alive_requests"] = c.max_keep_alive_requests;
  s["limit_request_line"] = c.limit_request_line;
  s["limit_request_field_size"] = c.limit_request_field_size;
  s["limit_request_fields"] = c.limit_request_fields;
  s["limit_request_body"] = c.limit_request_body;
  s["request_read_header_timeout"] = c.request_read_header_timeout;
  s["request_read_body_timeout"] = c.request_read_body_timeout;
  s["threads_per_child"] = c.threads_per_child;
  s["drain_delay"] = c.drain_delay;
  s["frontend_loops"] = c.frontend_loops;
  s["socket_prefix"] = opt(c.socket_prefix);
  s["control_socket"] = opt(c.control_socket);
  s["restrict_embedded"] = c.restrict_embedded;
  s["script_reloading"] = c.script_reloading;
  s["python_home"] = opt(c.python_home);
  s["python_path"] = c.python_path;
  j["server"] = s;
  return j;
}

}  // namespace wsgid::model
