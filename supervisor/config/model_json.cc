// Config <-> JSON; see model_json.h. The option table below is the one place
// that maps a GroupSpec field to its mod_wsgi key, both ways.
#include "supervisor/config/model_json.h"

#include <cstdio>
#include <functional>

#include "supervisor/config/resolve.h"

namespace wsgid::config {

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

std::string umask_text(int m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m));
  return buf;
}

// One option: writes its key into j; reads it back (false = wrong type).
struct OptionCodec {
  const char* key;
  std::function<json(const GroupSpec&)> get;
  std::function<bool(const json&, GroupSpec&)> set;
};

template <class T>
bool read(const json& v, T* out) {
  try {
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) return false;
    } else if constexpr (std::is_integral_v<T>) {
      if (!v.is_number_integer()) return false;
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) return false;
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) return false;
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (!v.is_array()) return false;
      for (const json& e : v)
        if (!e.is_string()) return false;
    }
    *out = v.get<T>();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

template <class T>
OptionCodec plain(const char* key, T GroupSpec::*field) {
  return {key, [field](const GroupSpec& g) { return json(g.*field); },
          [field](const json& v, GroupSpec& g) { return read(v, &(g.*field)); }};
}

template <class T>
OptionCodec optional(const char* key, std::optional<T> GroupSpec::*field) {
  return {key, [field](const GroupSpec& g) { return opt(g.*field); },
          [field](const json& v, GroupSpec& g) {
            if (v.is_null()) {
              (g.*field).reset();
              return true;
            }
            T t{};
            if (!read(v, &t)) return false;
            g.*field = t;
            return true;
          }};
}

const std::vector<OptionCodec>& codecs() {
  static const std::vector<OptionCodec> table = {
      plain("processes", &GroupSpec::processes),
      plain("threads", &GroupSpec::threads),
      optional("display-name", &GroupSpec::display_name),
      optional("user", &GroupSpec::user),
      optional("group", &GroupSpec::group),
      optional("supplementary-groups", &GroupSpec::supplementary_groups),
      {"umask",
       [](const GroupSpec& g) { return g.umask ? json(umask_text(*g.umask)) : json(nullptr); },
       [](const json& v, GroupSpec& g) {
         if (v.is_null()) {
           g.umask.reset();
           return true;
         }
         if (!v.is_string()) return false;
         std::string s = v.get<std::string>();
         if (s.empty() || s.find_first_not_of("01234567") != std::string::npos) return false;
         g.umask = static_cast<int>(std::stol(s, nullptr, 8));
         return true;
       }},
      optional("home", &GroupSpec::home),
      optional("lang", &GroupSpec::lang),
      optional("locale", &GroupSpec::locale),
      optional("chroot", &GroupSpec::chroot),
      plain("cpu-priority", &GroupSpec::cpu_priority),
      optional("stack-size", &GroupSpec::stack_size),
      optional("socket-user", &GroupSpec::socket_user),
      optional("script-user", &GroupSpec::script_user),
      optional("script-group", &GroupSpec::script_group),
      optional("python-home", &GroupSpec::python_home),
      plain("python-path", &GroupSpec::python_path),
      optional("python-eggs", &GroupSpec::python_eggs),
      optional("switch-interval", &GroupSpec::switch_interval),
      plain("maximum-requests", &GroupSpec::maximum_requests),
      plain("restart-interval", &GroupSpec::restart_interval),
      plain("inactivity-timeout", &GroupSpec::inactivity_timeout),
      plain("startup-timeout", &GroupSpec::startup_timeout),
      plain("graceful-timeout", &GroupSpec::graceful_timeout),
      plain("eviction-timeout", &GroupSpec::eviction_timeout),
      plain("shutdown-timeout", &GroupSpec::shutdown_timeout),
      plain("cpu-time-limit", &GroupSpec::cpu_time_limit),
      plain("memory-limit", &GroupSpec::memory_limit),
      plain("virtual-memory-limit", &GroupSpec::virtual_memory_limit),
      plain("request-timeout", &GroupSpec::request_timeout),
      plain("interrupt-timeout", &GroupSpec::interrupt_timeout),
      plain("deadlock-timeout", &GroupSpec::deadlock_timeout),
      plain("listen-backlog", &GroupSpec::listen_backlog),
      plain("connect-timeout", &GroupSpec::connect_timeout),
      plain("socket-timeout", &GroupSpec::socket_timeout),
      plain("queue-timeout", &GroupSpec::queue_timeout),
      plain("response-socket-timeout", &GroupSpec::response_socket_timeout),
      plain("response-flush-delay", &GroupSpec::response_flush_delay),
      optional("send-buffer-size", &GroupSpec::send_buffer_size),
      optional("receive-buffer-size", &GroupSpec::receive_buffer_size),
      plain("header-buffer-size", &GroupSpec::header_buffer_size),
      plain("response-buffer-size", &GroupSpec::response_buffer_size),
      plain("server-metrics", &GroupSpec::server_metrics),
  };
  return table;
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
  for (const OptionCodec& c : codecs()) j[c.key] = c.get(g);
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
  for (const OptionCodec& c : codecs()) {
    auto f = j.find(c.key);
    if (f == j.end()) continue;
    if (!c.set(*f, g))
      return Status::error(std::string("group settings: '") + c.key + "' has the wrong type: " +
                           f->dump());
  }
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
      o["virtual_host"] = index < 0 || vh.server_name.empty() ? json(nullptr) : json(vh.server_name);
      o["defined_at"] = loc_text(m.loc);
      j["mounts"].push_back(o);
    }
  };
  add_mounts(c.server, -1);
  for (size_t i = 0; i < c.vhosts.size(); ++i) add_mounts(c.vhosts[i], static_cast<int>(i));

  j["listen"] = json::array();
  for (const ListenAddr& l : c.listen) j["listen"].push_back(l.text());

  j["virtual_hosts"] = json::array();
  for (const VirtualHost& vh : c.vhosts) {
    json o = json::object();
    o["addresses"] = json::array();
    for (const ListenAddr& a : vh.addrs) o["addresses"].push_back(a.text());
    o["server_name"] = vh.server_name.empty() ? json(nullptr) : json(vh.server_name);
    o["server_aliases"] = vh.server_aliases;
    o["error_log"] = vh.error_log ? json(vh.error_log->path) : json(nullptr);
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

  json s = json::object();
  s["server_name"] = c.server.server_name.empty() ? json(nullptr) : json(c.server.server_name);
  s["server_root"] = opt(c.server_root);
  s["user"] = opt(c.user);
  s["group"] = opt(c.group);
  s["pid_file"] = opt(c.pid_file);
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
  s["socket_prefix"] = opt(c.socket_prefix);
  s["control_socket"] = opt(c.control_socket);
  s["restrict_embedded"] = c.restrict_embedded;
  s["script_reloading"] = c.script_reloading;
  s["python_home"] = opt(c.python_home);
  s["python_path"] = c.python_path;
  j["server"] = s;
  return j;
}

}  // namespace wsgid::config
