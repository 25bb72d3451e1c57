// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside
// libstdc++'s std::regex (as model/resolve.cc notes); silence it here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "supervisor/frontend/router.h"

#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/log.h"
#include "common/strings.h"
#include "supervisor/frontend/handler_map.h"

namespace wsgid::frontend {

namespace {

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool has_wildcard(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

// "host:port" / "[v6]:port" / "host" -> host without port.
std::string_view host_only(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    return close == std::string_view::npos ? h : h.substr(0, close + 1);
  }
  size_t colon = h.rfind(':');
  if (colon != std::string_view::npos) h = h.substr(0, colon);
  while (!h.empty() && h.back() == '.') h.remove_suffix(1);
  return h;
}

std::string_view port_of(std::string_view h) {
  size_t start = 0;
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    if (close == std::string_view::npos) return {};
    start = close;
  }
  size_t colon = h.find(':', start);
  if (colon == std::string_view::npos) return {};
  return h.substr(colon + 1);
}

}  // namespace

int normalize_path(std::string_view raw, std::string* out) {
  out->clear();
  if (raw.empty() || raw.front() != '/') return 400;
  // Decode first (an encoded '/' or NUL is refused), then walk the segments.
  std::string& o = *out;
  o.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return 400;
      int h = hexval(raw[i + 1]), l = hexval(raw[i + 2]);
      if (h < 0 || l < 0) return 400;
      char d = static_cast<char>(h * 16 + l);
      if (d == '/' || d == '\0') return 404;
      o.push_back(d);
      i += 2;
    } else {
      o.push_back(c);
    }
  }
  // Fast path: nothing to remove.
  bool clean = true;
  for (size_t i = 0; i < o.size(); ++i) {
    if (o[i] == '/' && i + 1 < o.size() && (o[i + 1] == '/' || o[i + 1] == '.')) {
      clean = false;
      break;
    }
  }
  if (clean) return 0;
  std::string r;
  r.reserve(o.size());
  size_t i = 0;
  while (i < o.size()) {
    // o[i] == '/'
    size_t j = i + 1;
    while (j < o.size() && o[j] == '/') ++j;  // merge slashes
    size_t end = o.find('/', j);
    if (end == std::string::npos) end = o.size();
    std::string_view seg(o.data() + j, end - j);
    if (seg == ".") {
      if (end == o.size()) r.push_back('/');
    } else if (seg == "..") {
      if (r.empty()) return 400;
      size_t slash = r.rfind('/');
      r.resize(slash);
      if (end == o.size()) r.push_back('/');
    } else {
      r.push_back('/');
      r.append(seg);
    }
    i = end;
  }
  if (r.empty()) r = "/";
  o.swap(r);
  return 0;
}

size_t alias_matches(std::string_view uri, std::string_view alias) {
  size_t a = 0, u = 0;
  while (a < alias.size()) {
    if (alias[a] == '/') {
      if (u >= uri.size() || uri[u] != '/') return 0;
      do ++a; while (a < alias.size() && alias[a] == '/');
      do ++u; while (u < uri.size() && uri[u] == '/');
    } else {
      if (u >= uri.size() || uri[u] != alias[a]) return 0;
      ++u;
      ++a;
    }
  }
  if (alias.empty()) return 0;
  if (alias[a - 1] != '/' && u < uri.size() && uri[u] != '/') return 0;
  return u;
}

Router::Router(const Settings& settings)
    : settings_(settings), resolver_(settings_.config), access_(settings_.config, resolver_) {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) == 0) hostname_ = buf;
  if (hostname_.empty()) hostname_ = "localhost";
  tables_.push_back(build_tables(&settings_.config.server));
  for (const auto& vh : settings_.config.vhosts) tables_.push_back(build_tables(&vh));
  auto find_pages = [this](const model::VirtualHost& vh) {
    for (const model::Block& b : vh.locations) {
      if (!b.settings.handlers.set_handler || !is_page_handler(*b.settings.handlers.set_handler))
        continue;
      if (b.is_regex) page_regex_ = true;
      else page_prefixes_.push_back(b.path);
    }
  };
  find_pages(settings_.config.server);
  for (const auto& vh : settings_.config.vhosts) find_pages(vh);
}

Router::VhostTables Router::build_tables(const model::VirtualHost* vh) {
  VhostTables t;
  const model::VirtualHost* server = &settings_.config.server;
  auto regex_of = [](const std::string& s) {
    try {
      return std::regex(s, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      log::error("frontend: bad regular expression '{}': {}", s, e.what());
      return std::regex("$^");
    }
  };
  auto add_mounts = [&](const model::VirtualHost* owner) {
    for (const auto& m : owner->mounts) {
      CompiledMount cm{&m, owner, {}, false};
      if (m.is_match) {
        cm.re = regex_of(m.url);
      } else {
        struct stat st;
        cm.is_dir = (!m.script.empty() && m.script.back() == '/') ||
                    (stat(m.script.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
      }
      t.mounts.push_back(std::move(cm));
    }
  };
  auto add_aliases = [&](const model::VirtualHost* owner) {
    for (const auto& a : owner->aliases)
      t.aliases.push_back({&a, a.is_match ? regex_of(a.url) : std::regex()});
  };
  add_mounts(vh);
  if (vh != server) add_mounts(server);
  add_aliases(vh);
  if (vh != server) add_aliases(server);
  return t;
}

const Router::VhostTables& Router::tables_for(const model::VirtualHost* vh) const {
  if (vh == &settings_.config.server) return tables_[0];
  size_t idx = static_cast<size_t>(vh - settings_.config.vhosts.data());
  WSGID_CHECK(idx < settings_.config.vhosts.size());
  return tables_[idx + 1];
}

int Router::group_index(std::string_view name) const {
  for (size_t i = 0; i < settings_.groups.size(); ++i)
    if (settings_.groups[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<const model::VirtualHost*> Router::vhosts_for(std::string_view local_ip,
                                                           int local_port) const {
  std::vector<const model::VirtualHost*> exact, wild;
  for (const auto& vh : settings_.config.vhosts) {
    bool e = false, w = false;
    for (const auto& a : vh.addrs) {
      bool port_ok = a.port == 0 || a.port == local_port;
      if (!port_ok) continue;
      if (a.host.empty()) w = true;
      else if (a.host == local_ip) e = true;
    }
    if (e) exact.push_back(&vh);
    else if (w) wild.push_back(&vh);
  }
  return exact.empty() ? wild : exact;
}

const model::VirtualHost* Router::select_vhost(
    const std::vector<const model::VirtualHost*>& cands, std::string_view host) const {
  if (cands.empty()) return &settings_.config.server;
  std::string h(host_only(host));
  for (char& c : h) c = lower(c);
  if (!h.empty()) {
    for (const auto* vh : cands) {
      if (iequals(host_only(vh->server_name), h)) return vh;
      for (const auto& alias : vh->server_aliases) {
        if (has_wildcard(alias) ? fnmatch(alias.c_str(), h.c_str(), FNM_CASEFOLD) == 0
                                : iequals(alias, h))
          return vh;
      }
    }
  }
  return cands.front();
}

void Router::route(const model::VirtualHost* vh, const RouteRequest& req, Route* r) const {
  const VhostTables& t = tables_for(vh);
  std::string_view path = req.path;
  reset(vh, r);

  // The front end's pages: a <Location>'s SetHandler (file "": Location
  // sections only).
  bool maybe_page = page_regex_;
  for (const std::string& p : page_prefixes_) maybe_page = maybe_page || path.substr(0, p.size()) == p;
  if (maybe_page) {
    model::HandlerSettings h = resolver_.handlers(vhost_index(vh), path, "");
    if (h.set_handler && is_page_handler(*h.set_handler)) {
      r->kind = Route::Kind::kPage;
      r->page = *h.set_handler;
      return;
    }
  }

  // 2. Aliases: first match; the handler step decides what answers.
  if (match_static_alias(t, path, r)) {
    std::string file = std::move(r->static_path);
    r->static_path.clear();
    map_file(vh, req, path, file, 0, r);
    return;
  }

  // 3. Script aliases: longest match.
  size_t len = 0;
  PathMatch m;
  const CompiledMount* best = longest_mount(t, path, &len, &m);
  if (!best) {
    // DocumentRoot: an Alias / of lowest priority.
    const model::VirtualHost& server = settings_.config.server;
    const std::optional<std::string>& root = vh->document_root ? vh->document_root
                                                               : server.document_root;
    if (root) {
      std::string file = *root == "/" ? std::string() : *root;
      file.append(path);
      map_file(vh, req, path, file, 0, r);
      return;
    }
    r->error = "no script alias matches";
    return;
  }
  if (!map_script(*best, path, len, m, r)) return;

  // 4. Settings: the merge of model/resolve.h (shared with --check).
  model::Route cr =
      resolver_.resolve(vhost_index(vh), *best->mount, path, r->script_filename);
  r->pass_authorization = cr.pass_authorization;
  r->script_reloading = cr.script_reloading;
  r->trusted_proxy_headers = cr.trusted_proxy_headers;
  r->trusted_proxies = cr.trusted_proxies;
  expand_names(vh, req, cr, r);
  choose_group(cr, r);
}

int Router::vhost_index(const model::VirtualHost* vh) const {
  const model::VirtualHost& server = settings_.config.server;
  return vh == &server ? -1 : static_cast<int>(vh - settings_.config.vhosts.data());
}

// The handler step for path, which an Alias or DocumentRoot mapped to file: see
// router.h. depth counts DirectoryIndex hops (one is enough: an index file that
// is itself a directory is not followed further).
void Router::map_file(const model::VirtualHost* vh, const RouteRequest& req,
                      std::string_view path, std::string_view file, int depth,
                      Route* r) const {
  FileWalk w = walk_file(file);
  const int vi = vhost_index(vh);
  r->mapped_file = w.kind == FileWalk::Kind::kDirectory ? w.file + "/"
                   : w.kind == FileWalk::Kind::kFile    ? w.file
                                                        : std::string(file);
  switch (w.kind) {
    case FileWalk::Kind::kMissing:
      r->kind = Route::Kind::kNotFound;
      r->error = "'" + w.file + "' does not exist";
      return;
    case FileWalk::Kind::kDenied:
      r->kind = Route::Kind::kForbidden;
      r->error = "stat(" + w.file + "): Permission denied";
      return;
    case FileWalk::Kind::kDirectory: {
      model::HandlerSettings h = resolver_.handlers(vi, path, w.file + "/");
      if (path.empty() || path.back() != '/') {
        const std::string slash = h.directory_slash.value_or("on");
        if (slash == "notfound") {
          r->kind = Route::Kind::kNotFound;
          r->error = "'" + w.file + "' is a directory and its URL has no trailing slash "
                     "(DirectorySlash NotFound)";
          return;
        }
        if (slash == "off") {
          // mod_dir declines: no index file either; mod_autoindex then refuses
          // to list the directory (403), as Debian's Apache does.
          r->kind = Route::Kind::kForbidden;
          r->error = "'" + w.file + "' is a directory and its URL has no trailing slash "
                     "(DirectorySlash Off: no redirect, no index file)";
          return;
        }
        // mod_dir's DirectorySlash On.
        r->kind = Route::Kind::kRedirect;
        static const char kHex[] = "0123456789ABCDEF";
        for (unsigned char c : path) {
          if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("/-._~!$&'()*+,;=:@").find(static_cast<char>(c)) !=
                  std::string_view::npos) {
            r->location.push_back(static_cast<char>(c));
          } else {
            r->location.push_back('%');
            r->location.push_back(kHex[c >> 4]);
            r->location.push_back(kHex[c & 15]);
          }
        }
        r->location.push_back('/');
        return;
      }
      if (depth == 0) {
        for (const std::string& name : index_names(h)) {
          std::string index = w.file == "/" ? "/" + name : w.file + "/" + name;
          struct stat st;
          if (stat(index.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
          std::string url(path);
          url.append(name);
          map_file(vh, req, url, index, depth + 1, r);
          return;
        }
      }
      r->kind = Route::Kind::kForbidden;
      r->error = "'" + w.file + "' is a directory without an index file, and wsgid never lists "
                 "directories";
      return;
    }
    case FileWalk::Kind::kFile:
      break;
  }
  model::HandlerSettings h = resolver_.handlers(vi, path, w.file);
  if (!is_wsgi_script(h, w.file)) {
    if (!w.rest.empty()) {
      // The default handler takes no PATH_INFO (AcceptPathInfo Default).
      r->kind = Route::Kind::kNotFound;
      r->error = "'" + w.file + "' is a file and the URL goes on past it ('" + w.rest + "')";
      return;
    }
    r->kind = Route::Kind::kStatic;
    r->static_path = w.file;
    r->etag_bits = etag_bits(h);
    r->max_ranges = h.max_ranges.value_or(model::kMaxRangesDefault);
    return;
  }
  if (!h.exec_cgi.value_or(false)) {
    // mod_wsgi's own refusal, word for word.
    r->kind = Route::Kind::kForbidden;
    r->error = "Options ExecCGI is off in this directory: " + w.file;
    return;
  }
  // mod_wsgi: SCRIPT_NAME is the URL of the script file, PATH_INFO the rest.
  r->script_filename = w.file;
  r->path_info = w.rest;
  if (path.size() >= w.rest.size() &&
      path.compare(path.size() - w.rest.size(), w.rest.size(), w.rest) == 0)
    r->script_name.assign(path.substr(0, path.size() - w.rest.size()));
  else
    r->script_name.assign(path);
  model::Route cr = resolver_.resolve_file(vi, path, r->script_filename);
  r->pass_authorization = cr.pass_authorization;
  r->script_reloading = cr.script_reloading;
  r->trusted_proxy_headers = cr.trusted_proxy_headers;
  r->trusted_proxies = cr.trusted_proxies;
  expand_names(vh, req, cr, r);
  choose_group(cr, r);
}

// A Route that says "not found", for vh, reusing r's string capacity.
void Router::reset(const model::VirtualHost* vh, Route* r) const {
  r->kind = Route::Kind::kNotFound;
  r->group = -1;
  r->group_name.clear();
  r->script_filename.clear();
  r->mapped_file.clear();
  r->script_name.clear();
  r->path_info.clear();
  r->application_group.clear();
  r->callable_object.clear();
  r->static_path.clear();
  r->etag_bits = model::kETagDefault;
  r->error.clear();
  r->location.clear();
  r->page.clear();
  r->pass_authorization = false;
  r->trusted_proxy_headers = nullptr;
  r->trusted_proxies = nullptr;
  r->script_reloading = settings_.config.script_reloading;
  r->vhost = vh;
}

// Step 2: the first Alias / AliasMatch that matches path makes r a kStatic
// route to its file. False when none matches.
bool Router::match_static_alias(const VhostTables& t, std::string_view path, Route* r) {
  for (const auto& a : t.aliases) {
    if (a.alias->is_match) {
      PathMatch m;
      if (std::regex_search(path.begin(), path.end(), m, a.re)) {
        r->kind = Route::Kind::kStatic;
        r->static_path = m.format(a.alias->path);
        return true;
      }
    } else if (size_t l = alias_matches(path, a.alias->url)) {
      r->kind = Route::Kind::kStatic;
      r->static_path = a.alias->path;
      r->static_path.append(path.substr(l));
      return true;
    }
  }
  return false;
}

// Step 3's choice: the script alias with the longest match (the first of equal
// ones), its match length in *len and, for ...Match, its match in *m; nullptr
// when none matches.
const Router::CompiledMount* Router::longest_mount(const VhostTables& t, std::string_view path,
                                                   size_t* len, PathMatch* best_m) {
  const CompiledMount* best = nullptr;
  size_t best_len = 0;
  for (const auto& cm : t.mounts) {
    size_t l = 0;
    PathMatch m;
    if (cm.mount->is_match) {
      if (std::regex_search(path.begin(), path.end(), m, cm.re))
        l = static_cast<size_t>(m.position(0) + m.length(0));
      if (l == 0) continue;
    } else {
      l = alias_matches(path, cm.mount->url);
    }
    if (l > best_len) {
      best = &cm;
      best_len = l;
      if (cm.mount->is_match) *best_m = m;
    }
  }
  *len = best_len;
  return best;
}

// Step 3's mapping: SCRIPT_FILENAME, SCRIPT_NAME and PATH_INFO of path under
// the chosen alias, which matched its first len bytes (m: the match of a
// ...Match alias). False, with r->error set, when the script does not exist.
bool Router::map_script(const CompiledMount& cm, std::string_view path, size_t len,
                        const PathMatch& m, Route* r) {
  const model::Mount& mount = *cm.mount;
  std::string_view rest = path.substr(len);
  if (mount.is_match) return map_match_script(mount, path, len, m, r);
  if (cm.is_dir) return map_directory_script(mount, path, rest, r);
  if (mount.url == "/") {
    // mod_wsgi: filename = script + whole URI; SCRIPT_NAME "".
    r->script_filename = mount.script;
    r->path_info.assign(path);
    return true;
  }
  if (!rest.empty() && rest.front() != '/') {
    // mod_wsgi appends the rest to the file name: "/app/" -> "x.wsgifoo".
    r->error = "script '" + mount.script + std::string(rest) + "' does not exist";
    return false;
  }
  r->script_filename = mount.script;
  r->path_info.assign(rest);
  r->script_name.assign(path.substr(0, len));
  return true;
}

// WSGIScriptAliasMatch: $N substituted into the target, then Apache's
// directory walk: the first existing regular file along the path is the script.
bool Router::map_match_script(const model::Mount& mount, std::string_view path, size_t len,
                              const PathMatch& m, Route* r) {
  std::string filename = m.format(mount.script);
  filename.append(path.substr(len));
  size_t pos = 1;
  for (;;) {
    size_t slash = filename.find('/', pos);
    size_t end = slash == std::string::npos ? filename.size() : slash;
    std::string prefix = filename.substr(0, end);
    struct stat st;
    if (stat(prefix.c_str(), &st) != 0) {
      r->error = "script '" + prefix + "' does not exist";
      return false;
    }
    if (S_ISREG(st.st_mode)) {
      r->script_filename = prefix;
      r->path_info = filename.substr(end);
      break;
    }
    if (end == filename.size()) {
      r->error = "script alias target '" + filename + "' is not a file";
      return false;
    }
    pos = end + 1;
  }
  if (path.size() >= r->path_info.size() &&
      path.compare(path.size() - r->path_info.size(), r->path_info.size(), r->path_info) == 0)
    r->script_name.assign(path.substr(0, path.size() - r->path_info.size()));
  else
    r->script_name.assign(path.substr(0, len));
  return true;
}

// A WSGIScriptAlias to a directory: the URL's next segment names the script in it.
bool Router::map_directory_script(const model::Mount& mount, std::string_view path,
                                  std::string_view rest, Route* r) {
  std::string_view rel = mount.url == "/" ? path : rest;
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  size_t seg_end = rel.find('/');
  std::string_view seg = rel.substr(0, seg_end);
  if (seg.empty()) {
    r->error = "script alias names a directory and the URL names no script in it";
    return false;
  }
  std::string_view dir = mount.script;
  while (!dir.empty() && dir.back() == '/') dir.remove_suffix(1);
  r->script_filename.assign(dir);
  r->script_filename.push_back('/');
  r->script_filename.append(seg);
  struct stat st;
  if (stat(r->script_filename.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    r->error = "script '" + r->script_filename + "' does not exist";
    return false;
  }
  if (seg_end != std::string_view::npos) r->path_info.assign(rel.substr(seg_end));
  r->script_name.assign(path.substr(0, path.size() - r->path_info.size()));
  return true;
}

// Step 4's expansions of the application group, callable object and process
// group (UseCanonicalName Off: the port is the Host header's, else local).
void Router::expand_names(const model::VirtualHost* vh, const RouteRequest& req,
                          const model::Route& cr, Route* r) const {
  const model::VirtualHost& server = settings_.config.server;
  std::string host(host_only(req.host));
  for (char& c : host) c = lower(c);
  std::string server_name(host_only(vh->server_name.empty() ? server.server_name : vh->server_name));
  if (server_name.empty()) server_name = hostname_;
  std::string_view pstr = port_of(req.host);
  int port = pstr.empty() ? req.local_port : std::atoi(std::string(pstr).c_str());
  model::ExpandContext ctx;
  ctx.server_name = server_name;
  ctx.port = port;
  ctx.host = host;
  ctx.script_name = r->script_name;
  ctx.env = [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
  r->application_group = model::expand_application_group(cr.application_group, ctx);
  r->callable_object = cr.callable_object.rfind("%{", 0) == 0
                           ? model::expand_application_group(cr.callable_object, ctx)
                           : cr.callable_object;
  if (r->callable_object.empty()) r->callable_object = "application";
  if (cr.process_group) {
    r->group_name = cr.process_group->find("%{") != std::string::npos
                        ? model::expand_application_group(*cr.process_group, ctx)
                        : *cr.process_group;
  }
}

// Step 4's last word: embedded (unless WSGIRestrictEmbedded), or the daemon
// group named, if WSGIRestrictProcess allows it and it exists; else kError.
void Router::choose_group(const model::Route& cr, Route* r) const {
  r->kind = Route::Kind::kWsgi;
  if (r->group_name.empty()) {
    if (settings_.config.restrict_embedded) {
      r->kind = Route::Kind::kError;
      r->error = "embedded mode of mod_wsgi disabled by runtime configuration (WSGIRestrictEmbedded On)";
    }
    return;
  }
  if (cr.restrict_process &&
      std::find(cr.restrict_process->begin(), cr.restrict_process->end(), r->group_name) ==
          cr.restrict_process->end()) {
    r->kind = Route::Kind::kError;
    r->error = "Daemon process called '" + r->group_name +
               "' cannot be accessed by this WSGI application (WSGIRestrictProcess)";
    return;
  }
  r->group = group_index(r->group_name);
  if (r->group < 0) {
    r->kind = Route::Kind::kError;
    r->error = "No WSGI daemon process called '" + r->group_name + "' has been configured";
  }
}

namespace {

// The file a routed request is served from ("" when none) and its vhost's index.
std::string_view routed_file(const Route& r) {
  if (!r.mapped_file.empty()) return r.mapped_file;
  return r.kind == Route::Kind::kStatic ? std::string_view(r.static_path)
         : r.kind == Route::Kind::kWsgi ? std::string_view(r.script_filename)
                                        : std::string_view();
}

int routed_vhost(const model::Config& c, const Route& r) {
  return !r.vhost || r.vhost == &c.server ? -1 : static_cast<int>(r.vhost - c.vhosts.data());
}

}  // namespace

const AccessChain& Router::access(const Route& r, std::string_view path) const {
  return access_.chain(routed_vhost(settings_.config, r), path, routed_file(r));
}

const rewrite::HeaderRules* Router::header_rules(const Route& r, std::string_view path,
                                                 rewrite::HeaderRules* scratch) const {
  std::vector<const model::Block*> sections;
  if (rewrites_.has_section_headers())
    sections = resolver_.sections(routed_vhost(settings_.config, r), path, routed_file(r));
  return rewrites_.section_headers(r.vhost, sections, scratch);
}

std::optional<RewriteAnswer> Router::section_redirect(const Route& r, std::string_view path,
                                                      const rewrite::RequestView& req) const {
  if (!rewrites_.has_section_redirects()) return std::nullopt;
  return rewrites_.fixup(
      r.vhost, resolver_.sections(routed_vhost(settings_.config, r), path, routed_file(r)), req);
}

model::BodyRules Router::body_rules(const Route& r, std::string_view path) const {
  return resolver_.body_rules(routed_vhost(settings_.config, r), path, routed_file(r));
}

}  // namespace wsgid::frontend
