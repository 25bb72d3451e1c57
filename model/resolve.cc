// Per-request resolution; see resolve.h for the merge order and the rules.
// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside
// libstdc++'s std::regex (std::function in _StateT); silence it for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "model/resolve.h"

#include <fnmatch.h>

#include <algorithm>

#include "common/paths.h"

namespace wsgid::model {

namespace {

bool has_wildcard(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

int component_count(std::string_view path) {
  int n = 0;
  for (char c : path)
    if (c == '/') ++n;
  return n;
}

void apply(const ScopeSettings& s, Route* r) {
  if (s.process_group) {
    if (s.process_group->empty() || *s.process_group == "%{GLOBAL}")
      r->process_group.reset();
    else
      r->process_group = *s.process_group;
  }
  if (s.application_group) r->application_group = *s.application_group;
  if (s.callable_object) r->callable_object = *s.callable_object;
  if (s.pass_authorization) r->pass_authorization = *s.pass_authorization;
  if (s.script_reloading) r->script_reloading = *s.script_reloading;
  if (s.restrict_process) r->restrict_process = &*s.restrict_process;
  if (s.trusted_proxy_headers) r->trusted_proxy_headers = &*s.trusted_proxy_headers;
  if (s.trusted_proxies) r->trusted_proxies = &*s.trusted_proxies;
}

std::string port_suffix(int port) {
  if (port == 80 || port == 443 || port <= 0) return "";
  return ":" + std::to_string(port);
}

}  // namespace

size_t alias_match_length(std::string_view alias, std::string_view uri) {
  size_t a = 0, u = 0;
  if (alias.empty()) return 0;
  while (a < alias.size()) {
    if (alias[a] == '/') {
      if (u >= uri.size() || uri[u] != '/') return 0;
      while (a < alias.size() && alias[a] == '/') ++a;
      while (u < uri.size() && uri[u] == '/') ++u;
    } else {
      if (u >= uri.size() || uri[u] != alias[a]) return 0;
      ++u;
      ++a;
    }
  }
  if (alias[a - 1] != '/' && u < uri.size() && uri[u] != '/') return 0;
  return u;
}

bool location_matches(std::string_view location, std::string_view url_path) {
  if (location.empty()) return false;
  if (has_wildcard(location)) {
    std::string pat(location), subject(url_path);
    return fnmatch(pat.c_str(), subject.c_str(), FNM_PATHNAME) == 0;
  }
  size_t len = location.size();
  if (url_path.substr(0, len) != location) return false;
  return location[len - 1] == '/' || url_path.size() == len || url_path[len] == '/';
}

bool directory_matches(std::string_view dir, std::string_view script_file) {
  std::string_view parent = directory_of(script_file);
  if (dir.empty() || parent.empty()) return false;
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  if (dir == "/") return true;
  if (has_wildcard(dir)) {
    // Compare dir with the ancestor of script_file that has as many components.
    int want = component_count(dir);
    std::string p(parent);
    p += '/';
    int seen = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] != '/' || i == 0) continue;
      if (++seen == want) {
        std::string prefix = p.substr(0, i), pat(dir);
        if (fnmatch(pat.c_str(), prefix.c_str(), FNM_PATHNAME) == 0) return true;
        break;
      }
    }
    return false;
  }
  if (parent.substr(0, dir.size()) != dir) return false;
  return parent.size() == dir.size() || parent[dir.size()] == '/';
}

Resolver::Resolver(const Config& config) : config_(&config) {
  auto add_block = [&](const Block& b) {
    if (!b.is_regex) return;
    try {
      regexes_.emplace(&b, std::regex(b.path, std::regex::ECMAScript));
    } catch (const std::regex_error&) {
    }
  };
  auto add_host = [&](const VirtualHost& vh) {
    for (const Block& b : vh.locations) add_block(b);
    for (const Block& b : vh.directories) add_block(b);
    for (const Mount& m : vh.mounts) {
      if (!m.is_match) continue;
      try {
        regexes_.emplace(&m, std::regex(m.url, std::regex::ECMAScript));
      } catch (const std::regex_error&) {
      }
    }
  };
  add_host(config.server);
  for (const VirtualHost& vh : config.vhosts) add_host(vh);
}

const std::regex* Resolver::regex_for(const void* key) const {
  auto it = regexes_.find(key);
  return it == regexes_.end() ? nullptr : &it->second;
}

bool Resolver::block_matches(const Block& b, std::string_view subject) const {
  if (b.is_regex) {
    const std::regex* re = regex_for(&b);
    return re && std::regex_search(subject.begin(), subject.end(), *re);
  }
  return false;
}

std::vector<const Block*> Resolver::sections(int vhost, std::string_view url_path,
                                             std::string_view file) const {
  const VirtualHost* vh = (vhost >= 0 && static_cast<size_t>(vhost) < config_->vhosts.size())
                              ? &config_->vhosts[vhost]
                              : nullptr;
  std::vector<const Block*> out;
  // Directory sections: non-regex by depth (stable), then regex ones, then Files.
  std::vector<const Block*> dirs, regex_dirs, files;
  auto collect = [&](const VirtualHost& h) {
    for (const Block& b : h.directories) {
      if (b.is_files)
        files.push_back(&b);
      else if (b.is_regex)
        regex_dirs.push_back(&b);
      else
        dirs.push_back(&b);
    }
  };
  collect(config_->server);
  if (vh) collect(*vh);
  if (!file.empty()) {
    std::stable_sort(dirs.begin(), dirs.end(), [](const Block* a, const Block* b) {
      return component_count(a->path) < component_count(b->path);
    });
    for (const Block* b : dirs)
      if (directory_matches(b->path, file)) out.push_back(b);
    std::string_view parent = directory_of(file);
    for (const Block* b : regex_dirs)
      if (block_matches(*b, parent)) out.push_back(b);
    std::string_view base = base_name(file);
    for (const Block* b : files) {
      bool m;
      if (b->is_regex) {
        m = block_matches(*b, base);
      } else {
        std::string pat(b->path), subject(base);
        m = fnmatch(pat.c_str(), subject.c_str(), 0) == 0;
      }
      if (m) out.push_back(b);
    }
  }
  auto locations = [&](const VirtualHost& h) {
    for (const Block& b : h.locations) {
      bool m = b.is_regex ? block_matches(b, url_path) : location_matches(b.path, url_path);
      if (m) out.push_back(&b);
    }
  };
  locations(config_->server);
  if (vh) locations(*vh);
  return out;
}

void Resolver::walk_scopes(int vhost, std::string_view url_path, std::string_view file,
                           const std::function<void(const ScopeSettings&)>& visit) const {
  const VirtualHost* vh = (vhost >= 0 && static_cast<size_t>(vhost) < config_->vhosts.size())
                              ? &config_->vhosts[vhost]
                              : nullptr;
  visit(config_->server.settings);
  if (vh) visit(vh->settings);
  for (const Block* b : sections(vhost, url_path, file)) visit(b->settings);
}

Route Resolver::resolve_file(int vhost, std::string_view url_path,
                             std::string_view script_file) const {
  Route r;
  r.script_reloading = config_->script_reloading;
  walk_scopes(vhost, url_path, script_file, [&](const ScopeSettings& s) { apply(s, &r); });
  return r;
}

Route Resolver::resolve(int vhost, const Mount& mount, std::string_view url_path,
                        std::string_view script_file) const {
  Route r = resolve_file(vhost, url_path, script_file);
  ScopeSettings own;
  own.process_group = mount.process_group;
  own.application_group = mount.application_group;
  own.callable_object = mount.callable_object;
  own.pass_authorization = mount.pass_authorization;
  apply(own, &r);
  return r;
}

HandlerSettings Resolver::handlers(int vhost, std::string_view url_path,
                                   std::string_view file) const {
  HandlerSettings h;
  walk_scopes(vhost, url_path, file, [&](const ScopeSettings& s) {
    const HandlerSettings& in = s.handlers;
    if (in.set_handler) h.set_handler = in.set_handler;
    h.wsgi_extensions.insert(h.wsgi_extensions.end(), in.wsgi_extensions.begin(),
                             in.wsgi_extensions.end());
    if (in.exec_cgi) h.exec_cgi = in.exec_cgi;
    if (in.directory_index) h.directory_index = in.directory_index;
    if (in.directory_slash) h.directory_slash = in.directory_slash;
    if (in.max_ranges) h.max_ranges = in.max_ranges;
    if (in.file_etag) {
      h.file_etag = in.file_etag;
      h.file_etag_add = in.file_etag_add;
      h.file_etag_remove = in.file_etag_remove;
    } else {
      h.file_etag_add = (h.file_etag_add & ~in.file_etag_remove) | in.file_etag_add;
      h.file_etag_remove = (h.file_etag_remove & ~in.file_etag_add) | in.file_etag_remove;
    }
  });
  return h;
}

BodyRules Resolver::body_rules(int vhost, std::string_view url_path,
                                std::string_view file) const {
  BodyRules b;
  b.limit_request_body = config_->limit_request_body;
  walk_scopes(vhost, url_path, file, [&](const ScopeSettings& s) {
    if (s.limit_request_body) b.limit_request_body = *s.limit_request_body;
    if (s.chunked_request) b.chunked_request = *s.chunked_request;
    if (s.require_ssl) b.require_ssl = *s.require_ssl;
  });
  return b;
}

std::optional<ScriptSplit> Resolver::split(const Mount& mount, std::string_view url) const {
  ScriptSplit s;
  size_t len = 0;
  if (mount.is_match) {
    const std::regex* re = regex_for(&mount);
    if (!re) return std::nullopt;
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(url.begin(), url.end(), m, *re)) return std::nullopt;
    len = static_cast<size_t>(m.position(0) + m.length(0));
    const std::string& t = mount.script;
    for (size_t i = 0; i < t.size(); ++i) {
      if ((t[i] == '$' || t[i] == '\\') && i + 1 < t.size() && t[i + 1] >= '0' &&
          t[i + 1] <= '9') {
        size_t n = static_cast<size_t>(t[i + 1] - '0');
        if (n < m.size() && m[n].matched) s.script_file += m[n].str();
        ++i;
      } else {
        s.script_file += t[i];
      }
    }
  } else {
    len = alias_match_length(mount.url, url);
    if (len == 0) return std::nullopt;
    s.script_file = mount.script;
  }
  s.script_name = std::string(url.substr(0, len));
  s.path_info = std::string(url.substr(len));
  if (!mount.is_match && !mount.script.empty() && mount.script.back() == '/') {
    // Directory target: the next segment names the script.
    std::string_view rest = s.path_info;
    size_t skip = 0;
    while (skip < rest.size() && rest[skip] == '/') ++skip;
    size_t end = rest.find('/', skip);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view segment = rest.substr(skip, end - skip);
    if (!segment.empty()) {
      s.script_file += segment;
      s.script_name += rest.substr(0, end);
      s.path_info = std::string(rest.substr(end));
    }
  }
  // SCRIPT_NAME never ends in '/': an alias of "/" gives "" and PATH_INFO "/...".
  while (!s.script_name.empty() && s.script_name.back() == '/') {
    s.script_name.pop_back();
    s.path_info.insert(s.path_info.begin(), '/');
  }
  return s;
}

bool is_known_expansion(std::string_view t) {
  if (t == "%{GLOBAL}" || t == "%{RESOURCE}" || t == "%{SERVER}" || t == "%{HOST}") return true;
  return t.size() > 7 && t.substr(0, 6) == "%{ENV:" && t.back() == '}';
}

namespace {

std::string expand(std::string_view t, const ExpandContext& ctx, bool allow_env) {
  if (t.empty() || t[0] != '%') return std::string(t);
  if (t == "%{GLOBAL}") return "";
  if (t == "%{RESOURCE}")
    return std::string(ctx.server_name) + port_suffix(ctx.port) + "|" +
           std::string(ctx.script_name);
  if (t == "%{SERVER}") return std::string(ctx.server_name) + port_suffix(ctx.port);
  if (t == "%{HOST}") {
    std::string_view h = ctx.host.empty() ? ctx.server_name : ctx.host;
    return std::string(h) + port_suffix(ctx.port);
  }
  if (allow_env && t.size() > 7 && t.substr(0, 6) == "%{ENV:" && t.back() == '}') {
    std::string_view name = t.substr(6, t.size() - 7);
    std::optional<std::string> v = ctx.env ? ctx.env(name) : std::nullopt;
    if (!v) return "";
    if (!v->empty() && (*v)[0] == '%' && v->rfind("%{ENV:", 0) != 0)
      return expand(*v, ctx, false);
    return *v;
  }
  return std::string(t);
}

}  // namespace

std::string expand_application_group(std::string_view tmpl, const ExpandContext& ctx) {
  return expand(tmpl, ctx, true);
}

}  // namespace wsgid::model
