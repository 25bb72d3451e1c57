// wsgid --check --unit; see check_unit.h.
#include "supervisor/check_unit.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "common/numbers.h"
#include "supervisor/config/values.h"

namespace wsgid {

namespace {

using model::SourceLoc;
using config::detail::seconds_text;

struct UnitName {
  const char* name;
  double seconds;
};

// systemd.time(7), longest names first where one is a prefix of another.
const UnitName kUnits[] = {
    {"usec", 1e-6},    {"us", 1e-6},       {"\xC2\xB5s", 1e-6}, {"msec", 1e-3},
    {"ms", 1e-3},      {"seconds", 1},     {"second", 1},       {"sec", 1},
    {"s", 1},          {"minutes", 60},    {"minute", 60},      {"min", 60},
    {"months", 2629800}, {"month", 2629800}, {"m", 60},         {"hours", 3600},
    {"hour", 3600},    {"hr", 3600},       {"h", 3600},         {"days", 86400},
    {"day", 86400},    {"d", 86400},       {"weeks", 604800},   {"week", 604800},
    {"w", 604800},     {"M", 2629800},     {"years", 31557600}, {"year", 31557600},
    {"y", 31557600},
};

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

std::optional<double> parse_time_span(std::string_view text) {
  std::string s = trim(text);
  if (s == "infinity") return std::numeric_limits<double>::infinity();
  if (s.empty()) return std::nullopt;
  double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i == s.size()) break;
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    double n = 0;
    if (!parse_float(std::string_view(s).substr(start, i - start), &n))
      return std::nullopt;
    while (i < s.size() && s[i] == ' ') ++i;
    double unit = 1;  // a bare number is seconds
    if (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i]))) {
      bool found = false;
      for (const UnitName& u : kUnits) {
        std::string_view name = u.name;
        if (s.compare(i, name.size(), name) != 0) continue;
        size_t end = i + name.size();
        if (end < s.size() && std::isalpha(static_cast<unsigned char>(s[end]))) continue;
        unit = u.seconds;
        i = end;
        found = true;
        break;
      }
      if (!found) return std::nullopt;
    }
    total += n * unit;
  }
  return total;
}

Result<UnitSettings> read_unit(const std::string& path, config::Diagnostics* diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::sys("open", path, errno);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  diags->add_source(path, text);

  UnitSettings u;
  u.path = path;
  std::vector<std::string> lines;
  {
    std::string line;
    std::istringstream ls(text);
    while (std::getline(ls, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
    }
  }
  std::string section;
  for (size_t n = 0; n < lines.size(); ++n) {
    int lineno = static_cast<int>(n) + 1;
    std::string raw = lines[n];
    std::string first = trim(raw);
    if (first.empty() || first[0] == '#' || first[0] == ';') continue;
    // A trailing backslash joins the next line (systemd replaces it by a space).
    while (!raw.empty() && raw.back() == '\\' && n + 1 < lines.size()) {
      raw.pop_back();
      raw += ' ';
      raw += lines[++n];
    }
    if (first[0] == '[') {
      section = trim(raw);
      if (section == "[Service]") u.service_loc = {path, lineno, 1, static_cast<int>(raw.size())};
      continue;
    }
    if (section != "[Service]") continue;
    size_t eq = raw.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(std::string_view(raw).substr(0, eq));
    size_t vstart = eq + 1;
    while (vstart < raw.size() && std::isspace(static_cast<unsigned char>(raw[vstart]))) ++vstart;
    std::string value = trim(std::string_view(raw).substr(vstart));
    SourceLoc at{path, lineno, static_cast<int>(vstart) + 1,
                 std::max(1, static_cast<int>(value.size()))};
    if (key == "TimeoutStopSec" || key == "TimeoutSec") {
      if (value.empty()) {
        u.timeout_stop.reset();
        u.timeout_stop_infinite = false;
        u.timeout_stop_loc = {};
        continue;
      }
      std::optional<double> t = parse_time_span(value);
      if (!t) {
        diags->warning(at, key + "=" + value + " is not a systemd time span; systemd ignores it",
                       {"write seconds (90) or a span such as 1min 30s, or infinity"});
        continue;
      }
      u.timeout_stop_infinite = std::isinf(*t);
      u.timeout_stop = *t;
      u.timeout_stop_loc = at;
    } else if (key == "KillMode") {
      u.kill_mode = value.empty() ? "control-group" : value;
      u.kill_mode_loc = value.empty() ? SourceLoc{} : at;
    } else if (key == "Type") {
      u.type = value.empty() ? "simple" : value;
    }
  }
  return u;
}

void lint_unit(const model::Config& config, const UnitSettings& unit, config::Diagnostics* diags) {
  // Where a warning about a setting the unit leaves unset points: its [Service].
  SourceLoc service = unit.service_loc.line ? unit.service_loc : SourceLoc{unit.path, 0, 0, 1};

  const model::GroupSpec* longest = nullptr;
  for (const model::GroupSpec& g : config.groups)
    if (!longest || g.graceful_timeout + g.shutdown_timeout >
                        longest->graceful_timeout + longest->shutdown_timeout)
      longest = &g;
  if (longest && !unit.timeout_stop_infinite) {
    double need = longest->graceful_timeout + longest->shutdown_timeout;
    double stop = unit.timeout_stop.value_or(kSystemdDefaultStopTimeout);
    if (need > stop) {
      std::string drain = "daemon process group '" + longest->name + "' may take graceful-timeout=" +
                          seconds_text(longest->graceful_timeout) + " + shutdown-timeout=" +
                          seconds_text(longest->shutdown_timeout) + " = " + seconds_text(need) +
                          " s to stop";
      std::string head = unit.timeout_stop
                             ? "TimeoutStopSec=" + seconds_text(stop) + " is shorter than "
                             : "TimeoutStopSec is not set, and systemd's default " +
                                   seconds_text(stop) + " s is shorter than ";
      diags->warning(unit.timeout_stop ? unit.timeout_stop_loc : service,
                     head + "a graceful stop of this configuration: " + drain +
                         "; systemd would SIGKILL the requests still running",
                     {"write TimeoutStopSec=" + seconds_text(std::ceil(need) + 5) +
                          " (graceful-timeout + shutdown-timeout + a margin) in [Service]",
                      "'" + longest->name + "' is defined at " +
                          config::detail::loc_text(longest->loc)});
    }
  }

  if (unit.kill_mode == "control-group") {
    diags->warning(unit.kill_mode_loc.line ? unit.kill_mode_loc : service,
                   std::string(unit.kill_mode_loc.line ? "KillMode=control-group"
                                                       : "KillMode is not set: systemd's default, "
                                                         "control-group,") +
                       " sends SIGTERM to every wsgid process at once, so workers stop without "
                       "the master's drain and requests queued for them fail",
                   {"write KillMode=mixed: SIGTERM to the master only, which drains every group, "
                    "and SIGKILL to whatever is left at TimeoutStopSec"});
  } else if (unit.kill_mode == "process" || unit.kill_mode == "none") {
    diags->warning(unit.kill_mode_loc.line ? unit.kill_mode_loc : service,
                   "KillMode=" + unit.kill_mode +
                       " leaves the front end and the workers running when systemd gives up on "
                       "the master",
                   {"write KillMode=mixed: SIGTERM to the master only, which drains every group, "
                    "and SIGKILL to whatever is left at TimeoutStopSec"});
  }
}

}  // namespace wsgid
