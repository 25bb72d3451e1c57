// wsgictl's output; see format.h.
#include "supervisor/ctl/format.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/core.h>

namespace wsgid::ctl {

using nlohmann::json;

std::string format_uptime(double seconds) {
  if (!(seconds >= 0)) return "-";
  auto s = static_cast<int64_t>(std::floor(seconds));
  return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

std::string format_size(int64_t bytes) {
  if (bytes < 0) return "-";
  if (bytes < 1024) return fmt::format("{}B", bytes);
  static const char kUnits[] = {'K', 'M', 'G', 'T', 'P'};
  double v = static_cast<double>(bytes) / 1024.0;
  size_t u = 0;
  // Round first so that 1023.96K shows as 1.0M, not 1024.0K.
  while (std::round(v * 10) / 10 >= 1024.0 && u + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++u;
  }
  return fmt::format("{:.1f}{}", v, kUnits[u]);
}

std::string format_age(double seconds) {
  if (!(seconds >= 0)) return "-";
  if (seconds < 3600) return fmt::format("{:.1f}s", seconds);
  return format_uptime(seconds);
}

std::string align_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    if (r.size() > width.size()) width.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

namespace {

std::string num_or_dash(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return "-";
  if (j[key].is_number_integer()) return std::to_string(j[key].get<int64_t>());
  return fmt::format("{}", j[key].get<double>());
}

double number(const json& j, const char* key, double dflt) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return dflt;
  return j[key].get<double>();
}

// " at 21:55:03" (local time) for a Unix time in j[key]; "" when absent.
std::string clock_time(const json& j, const char* key) {
  double t = number(j, key, -1);
  if (t < 0) return "";
  std::time_t secs = static_cast<std::time_t>(std::llround(t));
  std::tm tm{};
  if (!localtime_r(&secs, &tm)) return "";
  return fmt::format(" at {:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::vector<std::string> process_row(const std::string& name, const json& p,
                                     const std::string& group_state) {
  std::string state = p.value("state", std::string("?"));
  bool alive = p.contains("pid") && p["pid"].is_number();
  if (group_state == "STOPPED" && !alive) state = "STOPPED";
  std::string uptime = alive ? format_uptime(number(p, "uptime", -1)) : "-";
  std::string current = "-";
  if (p.contains("current") && p["current"].is_array() && !p["current"].empty()) {
    double oldest = -1;
    for (const auto& r : p["current"]) oldest = std::max(oldest, number(r, "age", -1));
    current = format_age(oldest);
    if (p["current"].size() > 1) current += fmt::format("({})", p["current"].size());
  }
  std::string rss = "-";
  if (p.contains("rss") && p["rss"].is_number_integer())
    rss = format_size(p["rss"].get<int64_t>());
  std::string last = "-";
  if (p.contains("last_exit") && p["last_exit"].is_string()) last = p["last_exit"].get<std::string>();
  std::vector<std::string> notes;
  if (p.contains("next_try_in") && p["next_try_in"].is_number())
    notes.push_back(fmt::format("next try in {}", format_age(number(p, "next_try_in", 0))) +
                    clock_time(p, "next_try_at"));
  if (p.contains("successor_pid") && p["successor_pid"].is_number())
    notes.push_back(fmt::format("replacement pid {} starting", p["successor_pid"].get<int64_t>()));
  if (p.contains("retiring") && p["retiring"].is_array() && !p["retiring"].empty()) {
    std::string pids;
    for (const auto& r : p["retiring"]) pids += (pids.empty() ? "" : ",") + r.dump();
    notes.push_back("draining pid " + pids);
  }
  for (const auto& n : notes) last = (last == "-" ? "" : last + "; ") + n;
  return {name, state, num_or_dash(p, "pid"), uptime, num_or_dash(p, "requests"), current, rss,
          last};
}

}  // namespace

std::string format_status(const json& reply, bool with_frontend, bool* all_running) {
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "STATE", "PID", "UPTIME", "REQS", "CURRENT", "RSS", "LAST EXIT"}};
  bool running = true;
  auto add = [&](std::vector<std::string> row) {
    running = running && row[1] == "RUNNING";
    rows.push_back(std::move(row));
  };
  if (with_frontend && reply.contains("frontend") && reply["frontend"].is_object())
    add(process_row("frontend", reply["frontend"], ""));
  // The embedded pool (mod_wsgi's embedded mode), a pool of the front end's
  // process; the daemon sends it when asked for it or for everything.
  if (reply.contains("embedded") && reply["embedded"].is_object())
    add(process_row(reply["embedded"].value("name", std::string("%{GLOBAL}")), reply["embedded"], ""));
  if (reply.contains("groups") && reply["groups"].is_array()) {
    for (const auto& g : reply["groups"]) {
      std::string name = g.value("name", std::string("?"));
      std::string gstate = g.value("state", std::string());
      if (!g.contains("processes") || !g["processes"].is_array()) continue;
      for (const auto& p : g["processes"])
        add(process_row(fmt::format("{}:{}", name, p.value("index", 0)), p, gstate));
    }
  }
  if (all_running) *all_running = running;
  return align_columns(rows);
}

namespace {

std::string joined_args(const Command& c) {
  std::string s;
  for (const auto& a : c.args) s += (s.empty() ? "" : " ") + a;
  return s;
}

std::string error_text(const json& reply) {
  if (reply.is_object() && reply.contains("error") && reply["error"].is_string())
    return reply["error"].get<std::string>();
  return "the daemon answered: " + reply.dump();
}

}  // namespace

Rendered render_reply(const Command& c, const json& reply, bool json_mode) {
  Rendered r;
  r.code = exit_code_for(reply);
  if (c.name == "status" && r.code == kExitOk) {
    bool all = c.args.empty() || std::find(c.args.begin(), c.args.end(), "all") != c.args.end();
    bool running = true;
    std::string table = format_status(reply, all, &running);
    if (!running) r.code = kExitNotRunning;
    if (!json_mode) r.out = table;
  }
  if (json_mode) {
    json j = reply;
    if (c.name == "version" && j.is_object()) j["wsgictl"] = kVersion;
    // Indented, except for `tail -f`: there every object is one line (the reply,
    // then one per captured line).
    r.out = j.dump(c.follow ? -1 : 2, ' ', false, json::error_handler_t::replace) + "\n";
    return r;
  }
  if (c.name == "check" && reply.is_object() && reply.contains("diagnostics")) {
    r.out = reply.value("diagnostics", std::string());
    int64_t errors = reply.value("errors", int64_t{0});
    int64_t warnings = reply.value("warnings", int64_t{0});
    auto counts = fmt::format("{} error{}, {} warning{}", errors, errors == 1 ? "" : "s", warnings,
                              warnings == 1 ? "" : "s");
    if (r.code == kExitOk) r.out += fmt::format("configuration is valid ({})\n", counts);
    else r.err = fmt::format("wsgictl: configuration is not valid ({})\n", counts);
    return r;
  }
  if (r.code != kExitOk) {
    if (c.name == "status" && r.code == kExitNotRunning) return r;
    r.err = "wsgictl: " + error_text(reply) + "\n";
    if (reply.is_object() && reply.contains("errors") && reply["errors"].is_array())
      for (const auto& e : reply["errors"])
        if (e.is_string()) r.err += e.get<std::string>() + "\n";
    return r;
  }
  const std::string& n = c.name;
  std::string who = joined_args(c);
  if (n == "start") {
    r.out = who + ": starting\n";
  } else if (n == "stop") {
    r.out = who + (c.now ? ": stopping now (SIGTERM)\n" : ": stopping\n");
  } else if (n == "restart") {
    r.out = who + (c.now ? ": restarting now (SIGTERM, then respawn)\n" : ": restarting (rolling)\n");
  } else if (n == "reload") {
    r.out = "configuration reloaded\n";
    // What the reload kept from before (a renewed TLS certificate that failed).
    if (reply.contains("warnings") && reply["warnings"].is_array())
      for (const auto& w : reply["warnings"])
        if (w.is_string()) r.err += "wsgictl: warning: " + w.get<std::string>() + "\n";
  } else if (n == "reopen") {
    r.out = "log files reopened\n";
  } else if (n == "pid") {
    if (reply.contains("pid")) {
      r.out = reply["pid"].dump() + "\n";
    } else if (reply.contains("pids") && reply["pids"].is_object()) {
      const json& pids = reply["pids"];
      bool one = c.args.size() == 1 && c.args[0] != "all";
      for (const auto& [group, list] : pids.items()) {
        if (one) {
          for (const auto& p : list) r.out += p.dump() + "\n";
        } else {
          std::string line = group + ":";
          for (const auto& p : list) line += " " + p.dump();
          r.out += line + "\n";
        }
      }
    }
  } else if (n == "signal") {
    std::string groups;
    for (size_t i = 1; i < c.args.size(); ++i) groups += (groups.empty() ? "" : " ") + c.args[i];
    r.out = fmt::format("{}: sent {}\n", groups, c.args.empty() ? "" : c.args[0]);
  } else if (n == "tail") {
    if (reply.contains("lines") && reply["lines"].is_array())
      for (const auto& l : reply["lines"])
        if (l.is_string()) r.out += l.get<std::string>() + "\n";
  } else if (n == "shutdown") {
    r.out = c.now ? "wsgid is shutting down now\n" : "wsgid is shutting down\n";
  } else if (n == "version") {
    r.out = fmt::format("wsgictl {}\nwsgid {}\n", kVersion,
                        reply.value("version", std::string("(unknown)")));
  }
  return r;
}

}  // namespace wsgid::ctl
