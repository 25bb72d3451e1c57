// The whole-config checks; see checks.h.
// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside
// libstdc++'s std::regex (std::function in _StateT), which resolve.h brings in;
// silence it for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "supervisor/config/checks.h"

#include <sys/stat.h>

#include <set>

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
  std::set<std::string> access_warned;  // group, host and URL already warned about
  Resolver resolver(config);
  std::set<std::string> reached;
  bool dynamic = false;  // a %{ENV:...} group: any group may be reached

  // <Location> given twice for the same path with different groups. Server-level
  // blocks come before a vhost's (Apache's merge order); report each later block once.
  auto dup_locations = [&](const std::vector<const Block*>& blocks, size_t first_report) {
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
  };
  std::vector<const Block*> server_blocks;
  for (const Block& b : config.server.locations) server_blocks.push_back(&b);
  dup_locations(server_blocks, 0);
  for (const VirtualHost& vh : config.vhosts) {
    std::vector<const Block*> all = server_blocks;
    for (const Block& b : vh.locations) all.push_back(&b);
    dup_locations(all, server_blocks.size());
  }

  auto note_settings = [&](const ScopeSettings& s) {
    if (s.process_group && s.process_group->find("%{") != std::string::npos &&
        *s.process_group != "%{GLOBAL}")
      dynamic = true;
  };
  auto scan = [&](const VirtualHost& vh) {
    note_settings(vh.settings);
    for (const Block& b : vh.locations) note_settings(b.settings);
    for (const Block& b : vh.directories) note_settings(b.settings);
    for (const Mount& m : vh.mounts)
      if (m.process_group && m.process_group->find("%{") != std::string::npos &&
          *m.process_group != "%{GLOBAL}")
        dynamic = true;
  };
  scan(config.server);
  for (const VirtualHost& vh : config.vhosts) scan(vh);
  for (const ImportScript& is : config.imports) reached.insert(is.process_group);

  auto check_mounts = [&](const VirtualHost& owner, int index) {
    for (const Mount& m : owner.mounts) {
      // The hosts this mount serves: its own, or every host for a server-level mount.
      std::vector<int> hosts;
      if (index >= 0) {
        hosts.push_back(index);
      } else {
        hosts.push_back(-1);
        for (size_t i = 0; i < config.vhosts.size(); ++i) hosts.push_back(static_cast<int>(i));
      }
      bool embedded_at_url = false;
      for (int h : hosts) {
        std::vector<std::string> urls;
        urls.push_back(m.is_match ? std::string() : m.url);
        auto add_locs = [&](const VirtualHost& vh) {
          for (const Block& b : vh.locations) {
            if (!b.settings.process_group) continue;
            if (b.is_regex || m.is_match) {
              if (b.settings.process_group && config.find_group(*b.settings.process_group))
                reached.insert(*b.settings.process_group);
              continue;
            }
            if (alias_match_length(m.url, b.path) > 0 || location_matches(b.path, m.url))
              urls.push_back(b.path);
          }
          for (const Block& b : vh.directories)
            if (b.settings.process_group && (b.is_regex || m.script.empty() || m.script.back() == '/'))
              reached.insert(*b.settings.process_group);
        };
        add_locs(config.server);
        if (h >= 0) add_locs(config.vhosts[static_cast<size_t>(h)]);
        for (size_t u = 0; u < urls.size(); ++u) {
          Route r = resolver.resolve(h, m, urls[u], m.script);
          if (r.process_group) {
            reached.insert(*r.process_group);
            check_group_access(config, diags, &access_warned, *r.process_group, h, m, urls[u]);
          } else if (u == 0 && (h == index || (index < 0 && h == -1))) {
            embedded_at_url = true;
          }
        }
      }
      if (!embedded_at_url) continue;
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
  };
  check_mounts(config.server, -1);
  for (size_t i = 0; i < config.vhosts.size(); ++i)
    check_mounts(config.vhosts[i], static_cast<int>(i));

  if (dynamic) return;
  for (const GroupSpec& g : config.groups) {
    if (reached.count(g.name)) continue;
    std::vector<std::string> notes;
    auto overridden = [&](const VirtualHost& vh) {
      for (size_t i = 0; i < vh.locations.size(); ++i) {
        const Block& b = vh.locations[i];
        if (!b.settings.process_group || *b.settings.process_group != g.name) continue;
        for (size_t k = i + 1; k < vh.locations.size(); ++k) {
          const Block& later = vh.locations[k];
          if (later.path == b.path && later.is_regex == b.is_regex &&
              later.settings.process_group) {
            notes.push_back("the <Location " + b.path + "> at " + loc_text(b.loc) +
                            " that selects it is overridden by the later one at " +
                            loc_text(later.loc));
            break;
          }
        }
        if (!b.is_regex && !b.path.empty() && b.path[0] != '/')
          notes.push_back("the <Location " + b.path + "> at " + loc_text(b.loc) +
                          " that selects it can match no request: its path does not begin "
                          "with '/'");
      }
    };
    overridden(config.server);
    for (const VirtualHost& vh : config.vhosts) overridden(vh);
    diags->warning(g.loc, "daemon process group '" + g.name +
                               "' serves no request: no script alias resolves to it",
                    notes);
  }
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

}  // namespace wsgid::config::detail
