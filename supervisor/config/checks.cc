// The whole-config checks; see checks.h.
// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside
// libstdc++'s std::regex (std::function in _StateT), which resolve.h brings in;
// silence it for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "supervisor/config/checks.h"

#include <sys/stat.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/embedded.h"
#include "model/resolve.h"
#include "supervisor/config/values.h"

namespace wsgid::config::detail {

namespace {

// mod_wsgi: a group declared inside a <VirtualHost> serves only virtual hosts
// with the same ServerName (other requests get 500).
// Warns once per (group, host, url); *warned holds the triples already warned about.
void check_group_access(const Config& config, Diagnostics* diags, std::set<std::string>* warned,
                        const std::string& group, int host, const Mount& m,
                        const std::string& url) {
  const GroupSpec* g = config.find_group(group);
  if (!g || g->vhost < 0) return;
  const std::string& owner = config.vhosts[static_cast<size_t>(g->vhost)].server_name;
  std::string here = host >= 0 ? config.vhosts[static_cast<size_t>(host)].server_name
                               : config.server.server_name;
  if (here == owner) return;
  std::string key = group + "\n" + std::to_string(host) + "\n" + url;
  if (!warned->insert(key).second) return;
  diags->warning(m.loc, "daemon process group '" + group + "', declared inside the <VirtualHost> at " +
                             loc_text(config.vhosts[static_cast<size_t>(g->vhost)].loc) +
                             " (ServerName " + (owner.empty() ? "unset" : owner) +
                             "), cannot serve " + url + " of " +
                             (host >= 0 ? "the <VirtualHost> at " +
                                              loc_text(config.vhosts[static_cast<size_t>(host)].loc)
                                        : std::string("the main server")) +
                             " (ServerName " + (here.empty() ? "unset" : here) +
                             "): mod_wsgi answers such requests with 500",
                  {"declare the group at server level to share it between virtual hosts"});
}

// <Location> given twice for the same path with different groups, among blocks
// (in Apache's merge order); each block from first_report on is reported once.
void warn_duplicate_locations_in(const std::vector<const Block*>& blocks, size_t first_report,
                                 Diagnostics* diags) {
  for (size_t i = first_report; i < blocks.size(); ++i) {
    const Block& later = *blocks[i];
    if (!later.settings.process_group) continue;
    for (size_t k = i; k-- > 0;) {
      const Block& earlier = *blocks[k];
      if (earlier.path != later.path || earlier.is_regex != later.is_regex ||
          !earlier.settings.process_group)
        continue;
      if (*earlier.settings.process_group != *later.settings.process_group) {
        std::string sec = later.is_regex ? "<LocationMatch " : "<Location ";
        diags->warning(
            later.loc,
            sec + later.path + "> is given twice with different process groups: this block (line " +
                std::to_string(later.loc.line) + ") selects '" + *later.settings.process_group +
                "', the one at " + loc_text(earlier.loc) + " selects '" +
                *earlier.settings.process_group + "'; the later block wins, so '" +
                *later.settings.process_group + "' serves " + later.path,
            {"Apache merges <Location> blocks for the same path in order: put both settings in "
             "one block, or give each block its own path"});
      }
      break;
    }
  }
}

// Server-level blocks come before a vhost's (Apache's merge order): the
// server's are checked once, then each vhost's after them.
void warn_duplicate_locations(const Config& config, Diagnostics* diags) {
  std::vector<const Block*> server_blocks;
  for (const Block& b : config.server.locations) server_blocks.push_back(&b);
  warn_duplicate_locations_in(server_blocks, 0, diags);
  for (const VirtualHost& vh : config.vhosts) {
    std::vector<const Block*> all = server_blocks;
    for (const Block& b : vh.locations) all.push_back(&b);
    warn_duplicate_locations_in(all, server_blocks.size(), diags);
  }
}

bool is_dynamic_group(const std::optional<std::string>& group) {
  return group && group->find("%{") != std::string::npos && *group != "%{GLOBAL}";
}

// True when some scope or alias selects its group through an expansion
// (%{ENV:...}): then any group may be reached.
bool has_dynamic_group(const Config& config) {
  bool dynamic = false;
  auto scan = [&](const VirtualHost& vh) {
    if (is_dynamic_group(vh.settings.process_group)) dynamic = true;
    for (const Block& b : vh.locations)
      if (is_dynamic_group(b.settings.process_group)) dynamic = true;
    for (const Block& b : vh.directories)
      if (is_dynamic_group(b.settings.process_group)) dynamic = true;
    for (const Mount& m : vh.mounts)
      if (is_dynamic_group(m.process_group)) dynamic = true;
  };
  scan(config.server);
  for (const VirtualHost& vh : config.vhosts) scan(vh);
  return dynamic;
}

// What resolving the script aliases learns, across aliases.
struct RouteScan {
  const Config& config;
  Diagnostics* diags;
  Resolver resolver;
  std::set<std::string> access_warned;  // group, host and URL already warned about
  std::set<std::string> reached;        // daemon groups some request can reach
};

// The hosts a mount of the host at index serves: its own, or every host for a
// server-level mount (index -1).
std::vector<int> hosts_served(const Config& config, int index) {
  std::vector<int> hosts;
  if (index >= 0) {
    hosts.push_back(index);
  } else {
    hosts.push_back(-1);
    for (size_t i = 0; i < config.vhosts.size(); ++i) hosts.push_back(static_cast<int>(i));
  }
  return hosts;
}

// The URLs to resolve m at on host h: its own (first; "" for ...Match) and the
// <Location> paths inside it. Groups that regex blocks (or <Directory> blocks a
// directory alias may meet) select count as reached, unresolved.
std::vector<std::string> urls_to_resolve(RouteScan* scan, const Mount& m, int h) {
  const Config& config = scan->config;
  std::vector<std::string> urls;
  urls.push_back(m.is_match ? std::string() : m.url);
  auto add_locs = [&](const VirtualHost& vh) {
    for (const Block& b : vh.locations) {
      if (!b.settings.process_group) continue;
      if (b.is_regex || m.is_match) {
        if (b.settings.process_group && config.find_group(*b.settings.process_group))
          scan->reached.insert(*b.settings.process_group);
        continue;
      }
      if (alias_match_length(m.url, b.path) > 0 || location_matches(b.path, m.url))
        urls.push_back(b.path);
    }
    for (const Block& b : vh.directories)
      if (b.settings.process_group && (b.is_regex || m.script.empty() || m.script.back() == '/'))
        scan->reached.insert(*b.settings.process_group);
  };
  add_locs(config.server);
  if (h >= 0) add_locs(config.vhosts[static_cast<size_t>(h)]);
  return urls;
}

// Resolves one mount of the host at index on every host it serves: records the
// groups reached, warns about groups used across virtual hosts. True when the
// alias's own URL runs embedded on its own host.
bool resolve_mount(RouteScan* scan, const Mount& m, int index) {
  bool embedded_at_url = false;
  for (int h : hosts_served(scan->config, index)) {
    std::vector<std::string> urls = urls_to_resolve(scan, m, h);
    for (size_t u = 0; u < urls.size(); ++u) {
      Route r = scan->resolver.resolve(h, m, urls[u], m.script);
      if (r.process_group) {
        scan->reached.insert(*r.process_group);
        check_group_access(scan->config, scan->diags, &scan->access_warned, *r.process_group, h, m,
                           urls[u]);
      } else if (u == 0 && (h == index || (index < 0 && h == -1))) {
        embedded_at_url = true;
      }
    }
  }
  return embedded_at_url;
}

// An alias that runs embedded: an error under WSGIRestrictEmbedded On, else a
// warning when daemon groups exist.
void report_embedded(const Config& config, const Mount& m, Diagnostics* diags) {
  std::string what = std::string(m.is_match ? "WSGIScriptAliasMatch " : "WSGIScriptAlias ") + m.url;
  if (config.restrict_embedded) {
    diags->error(m.loc, what + " would run embedded (in the front-end process), which "
                                "WSGIRestrictEmbedded On forbids",
                  {"select a daemon process group: add process-group=NAME to the alias, or "
                   "'WSGIProcessGroup NAME' in a scope that covers it"});
  } else if (!config.groups.empty()) {
    diags->warning(m.loc, what + " runs embedded (in the front-end process, not in a daemon "
                                  "process group) although daemon process groups are defined",
                    {"no WSGIProcessGroup applies to " + m.url +
                         " and the alias has no process-group= option; add one, or set "
                         "'WSGIRestrictEmbedded On' to make this an error"});
  }
}

// Why the <Location> blocks of vh that select group g reach nothing: a later
// block for the same path overrides one, or its path cannot match. Appends to *notes.
void explain_unreached(const VirtualHost& vh, const GroupSpec& g, std::vector<std::string>* notes) {
  for (size_t i = 0; i < vh.locations.size(); ++i) {
    const Block& b = vh.locations[i];
    if (!b.settings.process_group || *b.settings.process_group != g.name) continue;
    for (size_t k = i + 1; k < vh.locations.size(); ++k) {
      const Block& later = vh.locations[k];
      if (later.path == b.path && later.is_regex == b.is_regex &&
          later.settings.process_group) {
        notes->push_back("the <Location " + b.path + "> at " + loc_text(b.loc) +
                         " that selects it is overridden by the later one at " +
                         loc_text(later.loc));
        break;
      }
    }
    if (!b.is_regex && !b.path.empty() && b.path[0] != '/')
      notes->push_back("the <Location " + b.path + "> at " + loc_text(b.loc) +
                       " that selects it can match no request: its path does not begin "
                       "with '/'");
  }
}

// Handlers (issue 11, part 3): when some scope gives files the wsgi-script
// handler (SetHandler / AddHandler), any group a scope names may serve them;
// which files exist is only known per request, so all of them count as reached.
void mark_handler_groups(const Config& config, std::set<std::string>* reached) {
  bool handlers = false;
  std::vector<const ScopeSettings*> scopes;
  auto host = [&](const VirtualHost& vh) {
    scopes.push_back(&vh.settings);
    for (const Block& b : vh.locations) scopes.push_back(&b.settings);
    for (const Block& b : vh.directories) scopes.push_back(&b.settings);
  };
  host(config.server);
  for (const VirtualHost& vh : config.vhosts) host(vh);
  for (const ScopeSettings* s : scopes)
    if ((s->handlers.set_handler && *s->handlers.set_handler == "wsgi-script") ||
        !s->handlers.wsgi_extensions.empty())
      handlers = true;
  if (!handlers) return;
  for (const ScopeSettings* s : scopes)
    if (s->process_group) reached->insert(*s->process_group);
}

// A warning for each daemon group no request reaches, with the reasons found.
void warn_unreached_groups(const Config& config, const std::set<std::string>& reached,
                           Diagnostics* diags) {
  for (const GroupSpec& g : config.groups) {
    if (reached.count(g.name)) continue;
    std::vector<std::string> notes;
    explain_unreached(config.server, g, &notes);
    for (const VirtualHost& vh : config.vhosts) explain_unreached(vh, g, &notes);
    diags->warning(g.loc, "daemon process group '" + g.name +
                               "' serves no request: no script alias resolves to it",
                    notes);
  }
}

}  // namespace

void check_group_refs(const Config& config,
                      const std::vector<std::pair<std::string, SourceLoc>>& refs,
                      Diagnostics* diags) {
  std::vector<std::string_view> names;
  for (const GroupSpec& g : config.groups) names.push_back(g.name);
  for (const auto& [name, at] : refs) {
    if (config.find_group(name)) continue;
    std::string_view near = closest(name, names);
    std::vector<std::string> notes;
    if (!near.empty()) notes.push_back("did you mean '" + std::string(near) + "'?");
    diags->error(at, "no WSGIDaemonProcess defines the process group '" + name + "'", notes);
  }
}

void check_routes(const Config& config, Diagnostics* diags) {
  warn_duplicate_locations(config, diags);
  bool dynamic = has_dynamic_group(config);
  RouteScan scan{config, diags, Resolver(config), {}, {}};
  for (const ImportScript& is : config.imports) scan.reached.insert(is.process_group);
  auto check_mounts = [&](const VirtualHost& owner, int index) {
    for (const Mount& m : owner.mounts)
      if (resolve_mount(&scan, m, index)) report_embedded(config, m, diags);
  };
  check_mounts(config.server, -1);
  for (size_t i = 0; i < config.vhosts.size(); ++i)
    check_mounts(config.vhosts[i], static_cast<int>(i));
  if (dynamic) return;
  mark_handler_groups(config, &scan.reached);
  warn_unreached_groups(config, scan.reached, diags);
}

void check_files(const Config& config, Diagnostics* diags) {
  auto check = [&](const std::string& path, const SourceLoc& at, const std::string& what,
                   bool may_be_dir) {
    if (path.find('$') != std::string::npos) return;  // ...Match target with $N
    struct stat st {};
    std::string p = path;
    bool want_dir = !p.empty() && p.back() == '/';
    if (stat(p.c_str(), &st) == 0 && (S_ISREG(st.st_mode) || (may_be_dir && S_ISDIR(st.st_mode)))) {
      if (want_dir && !S_ISDIR(st.st_mode))
        diags->warning(at, what + ": '" + path + "' is not a directory");
      return;
    }
    std::vector<std::string> notes;
    if (auto q = typographic_quote(path))
      notes.push_back("the path holds the typographic quote " + *q +
                      ", which is not a quote: it is part of the file name (a path that starts "
                      "with one is relative to ServerRoot); write the path with ASCII quotes "
                      "\"...\" or none");
    diags->warning(at, what + ": script file '" + path + "' does not exist", notes);
  };
  auto host = [&](const VirtualHost& vh) {
    for (const Mount& m : vh.mounts)
      check(m.script, m.loc, std::string(m.is_match ? "WSGIScriptAliasMatch " : "WSGIScriptAlias ") + m.url,
            true);
  };
  host(config.server);
  for (const VirtualHost& vh : config.vhosts) host(vh);
  for (const ImportScript& is : config.imports) check(is.script, is.loc, "WSGIImportScript", false);
}

void check_timeouts(const Config& config, Diagnostics* diags) {
  for (const GroupSpec& g : config.groups) {
    if (g.request_timeout <= 0 || g.request_timeout <= g.socket_timeout) continue;
    auto at = g.option_locs.find("request-timeout");
    SourceLoc loc = at != g.option_locs.end() ? at->second : g.loc;
    bool given = g.option_locs.count("socket-timeout") > 0;
    std::string socket = "socket-timeout=" + seconds_text(g.socket_timeout) +
                         (given ? "" : " (from Timeout " + seconds_text(config.timeout) + ")");
    std::vector<std::string> notes;
    std::string enough = seconds_text(g.request_timeout + 1);
    notes.push_back("write socket-timeout=" + enough + " or more on this WSGIDaemonProcess" +
                    std::string(given ? "" : " (or Timeout " + enough + ")") +
                    ", or a request-timeout below " + seconds_text(g.socket_timeout));
    if (given) notes.push_back("socket-timeout is set at " + loc_text(g.option_locs.at("socket-timeout")));
    diags->warning(loc, "request-timeout=" + seconds_text(g.request_timeout) +
                            " of daemon process group '" + g.name + "' is longer than its " +
                            socket + ": the front end answers 504 after " +
                            seconds_text(g.socket_timeout) +
                            " s, before request-timeout can act",
                   notes);
  }
}

void check_frontend_loops(const Config& config, Diagnostics* diags) {
  if (config.frontend_loops <= 1) return;
  std::string_view why = model::frontend_python_use(config);
  if (why.empty()) return;
  diags->warning(config.frontend_loops_loc,
                 "WSGIFrontendLoops " + std::to_string(config.frontend_loops) + ": the front end runs "
                 "one event loop, because Python runs in it (" + std::string(why) + ")",
                 {"Python in the front end is served by its first loop only; move the "
                  "application to a daemon process group (WSGIProcessGroup) to use several loops"});
}

void check_listen_coverage(const Config& config, Diagnostics* diags) {
  if (config.listen.empty()) return;
  auto covers = [](const ListenAddr& l, const ListenAddr& v) {
    if (l.port != 0 && v.port != 0 && l.port != v.port) return false;
    return l.host.empty() || v.host.empty() || l.host == v.host;
  };
  std::string listens;
  for (const ListenAddr& l : config.listen) {
    if (!listens.empty()) listens += ", ";
    listens += "Listen " + l.text() + " (" + l.loc.file + ":" + std::to_string(l.loc.line) + ")";
  }
  for (const VirtualHost& vh : config.vhosts) {
    for (const ListenAddr& a : vh.addrs) {
      bool covered = false;
      for (const ListenAddr& l : config.listen) covered = covered || covers(l, a);
      if (covered) continue;
      std::string port = a.port ? std::to_string(a.port) : "*";
      diags->warning(a.loc,
                     "no Listen covers <VirtualHost " + a.text() + ">: no request reaches it "
                     "on this address; the server listens on " + listens,
                     {"add 'Listen " + (a.host.empty() ? "" : (a.host.find(':') != std::string::npos
                                                                   ? "[" + a.host + "]:"
                                                                   : a.host + ":")) +
                      port + "' or change the <VirtualHost> address"});
    }
  }
}

}  // namespace wsgid::config::detail
