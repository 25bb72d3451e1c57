#include "supervisor/frontend/status_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>

namespace wsgid::frontend {

namespace {

// mod_status's show_time(): " 1 day 2 hours 3 minutes 4 seconds", zero parts left out.
std::string show_time(double seconds) {
  long t = seconds > 0 ? static_cast<long>(seconds) : 0;
  long days = t / 86400, hrs = t / 3600 % 24, mins = t / 60 % 60, secs = t % 60;
  std::string out;
  auto part = [&](long n, const char* unit) {
    if (n) out += fmt::format(" {} {}{}", n, unit, n == 1 ? "" : "s");
  };
  part(days, "day");
  part(hrs, "hour");
  part(mins, "minute");
  part(secs, "second");
  return out;
}

// A short age: "0.25 s", "12 s", "3 min 4 s", "2 h 3 min", "1 d 2 h".
std::string short_age(double s) {
  if (s < 0) s = 0;
  if (s < 10) return fmt::format("{:.2f} s", s);
  long t = static_cast<long>(s);
  if (t < 60) return fmt::format("{} s", t);
  if (t < 3600) return fmt::format("{} min {} s", t / 60, t % 60);
  if (t < 86400) return fmt::format("{} h {} min", t / 3600, t / 60 % 60);
  return fmt::format("{} d {} h", t / 86400, t / 3600 % 24);
}

std::string bytes_text(int64_t b) {
  if (b < 0) return "-";
  if (b < 1024) return fmt::format("{} B", b);
  if (b < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(b) / 1024);
  if (b < int64_t{1024} * 1024 * 1024) return fmt::format("{:.1f} MiB", static_cast<double>(b) / 1048576);
  return fmt::format("{:.2f} GiB", static_cast<double>(b) / 1073741824);
}

// ap_ht_time's DEFAULT_TIME_FORMAT, "%A, %d-%b-%Y %H:%M:%S %Z", in UTC.
std::string http_time(double unix_s) {
  time_t t = static_cast<time_t>(unix_s);
  tm g{};
  gmtime_r(&t, &g);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%A, %d-%b-%Y %H:%M:%S UTC", &g);
  return std::string(buf, n);
}

uint64_t live_processes(const GroupSnapshot& g) {
  uint64_t n = 0;
  for (const ProcessSnapshot& p : g.procs) n += p.pid > 0;
  return n;
}

// mod_status's scoreboard, one character per worker thread: W running a
// request, _ waiting, S starting, G stopping (gracefully finishing), . no process.
std::string scoreboard(const Snapshot& s) {
  std::string out;
  for (const GroupSnapshot& g : s.groups) {
    for (const ProcessSnapshot& p : g.procs) {
      const size_t threads = static_cast<size_t>(std::max(1, g.threads));
      char fill = p.pid <= 0 ? '.' : p.state == "STARTING" ? 'S' : p.state == "STOPPING" ? 'G' : '_';
      size_t busy = p.pid > 0 ? std::min(threads, p.current.size()) : 0;
      out.append(busy, 'W');
      out.append(threads - busy, fill);
    }
  }
  return out;
}

uint64_t total_restarts(const GroupSnapshot& g) {
  uint64_t n = 0;
  for (const auto& [c, k] : g.restarts) n += k;
  return n;
}

uint64_t group_requests(const GroupSnapshot& g) {
  uint64_t n = 0;
  for (uint64_t k : g.counters->by_class) n += k;
  return n;
}

uint64_t gateway_errors(const GroupSnapshot& g) {
  uint64_t n = 0;
  for (uint64_t k : g.counters->gateway) n += k;
  return n;
}

constexpr std::string_view kStyle = R"(
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1c2430;background:#f4f6f9}
main{max-width:1200px;margin:0 auto;padding:16px}
h1{font-size:1.35rem;margin:4px 0 2px;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:0;overflow-wrap:anywhere}
.sub{color:#5b6675;margin:0 0 14px;overflow-wrap:anywhere}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:0 0 18px;padding:0;list-style:none}
.cards li{flex:1 1 150px;background:#fff;border:1px solid #dfe4ea;border-radius:8px;padding:8px 12px;min-width:0}
.cards b{display:block;font-size:1.25rem;font-variant-numeric:tabular-nums}
.cards span{color:#5b6675;font-size:.85rem}
section{background:#fff;border:1px solid #dfe4ea;border-radius:10px;margin:0 0 18px;padding:14px}
.head{display:flex;flex-wrap:wrap;align-items:center;gap:8px 12px;margin-bottom:10px}
.state{font-size:.8rem;font-weight:600;padding:2px 8px;border-radius:999px;background:#e3f5e9;color:#1d6b3a}
.state.bad{background:#fde8e8;color:#a3261f}
.state.warn{background:#fff3d6;color:#8a5a00}
.section-cards li{background:#f8fafc}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eef1f4;vertical-align:top;white-space:nowrap}
th{font-size:.8rem;color:#5b6675;font-weight:600}
td.req,td.wrap{white-space:pre-line;overflow-wrap:anywhere;width:35%}
td.req{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.85rem}
.none{color:#8a94a3}
footer{color:#5b6675;font-size:.85rem;overflow-wrap:anywhere}
@media (max-width:700px){
 main{padding:10px}
 table,tbody,tr,td{display:block;width:100%}
 thead{display:none}
 tr{border:1px solid #e3e8ee;border-radius:8px;margin:0 0 10px;padding:4px 0}
 td,td.req,td.wrap{display:flex;gap:12px;border:0;padding:3px 10px;width:100%}
 td::before{content:attr(data-label);flex:0 0 7.5em;color:#5b6675;font-size:.8rem;font-family:system-ui,sans-serif}
 .cards li{flex-basis:40%}
}
)";

void card(std::string* o, std::string_view label, std::string_view value) {
  o->append("<li><b>");
  append_html(o, value);
  o->append("</b><span>");
  append_html(o, label);
  o->append("</span></li>");
}

void cell(std::string* o, std::string_view label, std::string_view value, std::string_view cls = {}) {
  o->append("<td data-label=\"");
  append_html(o, label);
  o->push_back('"');
  if (!cls.empty()) o->append(" class=\"").append(cls).push_back('"');
  o->push_back('>');
  append_html(o, value);
  o->append("</td>");
}

std::string_view state_class(std::string_view state) {
  if (state == "RUNNING" || state == "running") return "state";
  if (state == "STARTING" || state == "STOPPING" || state == "replacing") return "state warn";
  return "state bad";
}

void group_section(std::string* o, const Snapshot& s, const GroupSnapshot& g) {
  o->append("<section><div class=\"head\"><h2>Group ");
  append_html(o, g.name);
  o->append("</h2><span class=\"").append(state_class(g.state)).append("\">");
  append_html(o, g.state);
  o->append("</span></div><ul class=\"cards section-cards\">");
  card(o, "processes x threads", fmt::format("{} x {}", g.processes, g.threads));
  card(o, "busy / idle threads", fmt::format("{} / {}", g.busy, g.idle));
  card(o, "queued now", std::to_string(g.queue));
  card(o, "requests", std::to_string(group_requests(g)));
  card(o, "5xx answers", std::to_string(g.counters->by_class[4]));
  card(o, "502/503/504 by wsgid", std::to_string(gateway_errors(g)));
  card(o, "restarts", std::to_string(total_restarts(g)));
  o->append("</ul>");
  if (g.procs.empty()) {
    o->append("<p class=\"none\">No process report from the master yet.</p></section>");
    return;
  }
  o->append("<table><thead><tr><th>#</th><th>PID</th><th>State</th><th>Uptime</th><th>Requests</th>"
            "<th>RSS</th><th>Current requests</th><th>Last exit</th></tr></thead><tbody>");
  for (const ProcessSnapshot& p : g.procs) {
    o->append("<tr>");
    cell(o, "#", std::to_string(p.index));
    cell(o, "PID", p.pid > 0 ? std::to_string(p.pid) : "-");
    cell(o, "State", p.state.empty() ? "-" : p.state);
    cell(o, "Uptime", p.pid > 0 && p.started > 0 ? short_age(s.now - p.started) : "-");
    cell(o, "Requests", std::to_string(p.requests));
    cell(o, "RSS", bytes_text(p.rss));
    std::string cur;
    for (const CurrentRequest& c : p.current) {
      if (!cur.empty()) cur += "\n";
      cur += c.method + " " + c.uri + " (" + short_age(c.age) + ")";
    }
    cell(o, "Current", cur.empty() ? "idle" : cur, "req");
    cell(o, "Last exit", p.last_exit.empty() ? "-" : p.last_exit, "wrap");
    o->append("</tr>");
  }
  o->append("</tbody></table></section>");
}

}  // namespace

StatusQuery parse_status_query(std::string_view q) {
  StatusQuery r;
  while (!q.empty()) {
    size_t amp = q.find_first_of("&;");
    std::string_view kv = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    std::string_view k = kv.substr(0, kv.find('='));
    if (k == "auto") r.automatic = true;
    if (k == "refresh") {
      int n = 1;  // mod_status: "refresh" alone means 1 second
      if (kv.size() > 8) n = std::atoi(std::string(kv.substr(8)).c_str());
      r.refresh = std::clamp(n, 1, 3600);
    }
  }
  return r;
}

void append_html(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out->append("&amp;"); break;
      case '<': out->append("&lt;"); break;
      case '>': out->append("&gt;"); break;
      case '"': out->append("&quot;"); break;
      case '\'': out->append("&#39;"); break;
      default: out->push_back(c);
    }
  }
}

std::string render_status_html(const Snapshot& s, const StatusQuery& q) {
  std::string o;
  o.reserve(8192);
  o.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
  if (q.refresh > 0) o += fmt::format("<meta http-equiv=\"refresh\" content=\"{}\">", q.refresh);
  o.append("<title>wsgid status for ");
  append_html(&o, s.server_name);
  o.append("</title><style>").append(kStyle).append("</style></head><body><main>");
  o.append("<h1>wsgid status for ");
  append_html(&o, s.server_name);
  o.append("</h1><p class=\"sub\">wsgid ");
  append_html(&o, s.version);
  o.append(" &middot; ");
  append_html(&o, http_time(s.now));
  if (s.have_report) {
    o.append(" &middot; master up");
    append_html(&o, show_time(s.now - s.master_started));
  }
  if (!s.accepting) o.append(" &middot; <b>stopping</b>");
  o.append("</p><ul class=\"cards\">");
  const FrontCounters& f = *s.front;
  double up = s.now - (s.have_report ? s.master_started : s.frontend_started);
  card(&o, "requests", std::to_string(f.requests));
  card(&o, "requests/s", fmt::format("{:.3g}", up > 0 ? static_cast<double>(f.requests) / up : 0.0));
  card(&o, "sent", bytes_text(static_cast<int64_t>(f.bytes_out)));
  card(&o, "busy / idle threads", fmt::format("{} / {}", s.busy(), s.idle()));
  card(&o, "queued now", std::to_string(s.queue()));
  card(&o, "connections", std::to_string(s.open_connections));
  if (s.have_report) card(&o, "reloads (failed)", fmt::format("{} ({})", s.reloads, s.failed_reloads));
  o.append("</ul>");
  for (const GroupSnapshot& g : s.groups) group_section(&o, s, g);
  if (s.groups.empty()) o.append("<section><p class=\"none\">No process group is configured.</p></section>");
  o.append("<footer>Scoreboard: <code>");
  append_html(&o, scoreboard(s));
  o.append("</code> (W busy, _ idle, S starting, G stopping, . no process). "
           "Machine-readable: <a href=\"?auto\">?auto</a>.");
  if (q.refresh == 0) o.append(" Reload every 10 s: <a href=\"?refresh=10\">?refresh=10</a>.");
  o.append("</footer></main></body></html>\n");
  return o;
}

std::string render_status_auto(const Snapshot& s) {
  std::string o;
  const FrontCounters& f = *s.front;
  const double started = s.have_report ? s.master_started : s.frontend_started;
  const long up = static_cast<long>(std::max(0.0, s.now - started));
  const uint64_t kb = f.bytes_out / 1024;
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) load[0] = load[1] = load[2] = 0;
  o += s.server_name + "\n";
  o += "ServerVersion: wsgid/" + s.version + "\n";
  o += "ServerMPM: wsgid\n";
  o += "CurrentTime: " + http_time(s.now) + "\n";
  o += "RestartTime: " + http_time(started) + "\n";
  o += fmt::format("ParentServerConfigGeneration: {}\n", s.reloads + 1);
  o += fmt::format("ParentServerMPMGeneration: {}\n", s.reloads);
  o += fmt::format("ServerUptimeSeconds: {}\n", up);
  o += "ServerUptime:" + show_time(static_cast<double>(up)) + "\n";
  o += fmt::format("Load1: {:.2f}\nLoad5: {:.2f}\nLoad15: {:.2f}\n", load[0], load[1], load[2]);
  o += fmt::format("Total Accesses: {}\nTotal kBytes: {}\nTotal Duration: {}\n", f.requests, kb,
                   f.duration_us / 1000);
  o += fmt::format("Uptime: {}\n", up);
  if (up > 0) {
    o += fmt::format("ReqPerSec: {:g}\n", static_cast<double>(f.requests) / static_cast<double>(up));
    o += fmt::format("BytesPerSec: {:g}\n", 1024.0 * static_cast<double>(kb) / static_cast<double>(up));
  }
  if (f.requests > 0) {
    o += fmt::format("BytesPerReq: {:g}\n", 1024.0 * static_cast<double>(kb) / static_cast<double>(f.requests));
    o += fmt::format("DurationPerReq: {:g}\n",
                     static_cast<double>(f.duration_us / 1000) / static_cast<double>(f.requests));
  }
  o += fmt::format("BusyWorkers: {}\nIdleWorkers: {}\n", s.busy(), s.idle());
  uint64_t procs = 0, stopping = 0;
  for (const GroupSnapshot& g : s.groups) {
    procs += live_processes(g);
    for (const ProcessSnapshot& p : g.procs) stopping += p.state == "STOPPING";
  }
  o += fmt::format("Processes: {}\nStopping: {}\nConnsTotal: {}\n", procs, stopping, s.open_connections);
  o += "Scoreboard: " + scoreboard(s) + "\n";
  // wsgid's own keys, after mod_status's.
  o += fmt::format("QueueDepth: {}\nReloads: {}\nFailedReloads: {}\nAccepting: {}\n", s.queue(),
                   s.reloads, s.failed_reloads, s.accepting ? 1 : 0);
  for (const GroupSnapshot& g : s.groups) {
    std::string n = g.name;
    std::replace_if(n.begin(), n.end(), [](char c) { return c == ':' || c == '\n' || c == ' '; }, '_');
    o += fmt::format("Group {} State: {}\n", n, g.state);
    o += fmt::format("Group {} Processes: {}\n", n, live_processes(g));
    o += fmt::format("Group {} BusyWorkers: {}\nGroup {} IdleWorkers: {}\n", n, g.busy, n, g.idle);
    o += fmt::format("Group {} QueueDepth: {}\n", n, g.queue);
    o += fmt::format("Group {} Accesses: {}\n", n, group_requests(g));
    o += fmt::format("Group {} GatewayErrors: {}\n", n, gateway_errors(g));
    o += fmt::format("Group {} Restarts: {}\n", n, total_restarts(g));
  }
  return o;
}

}  // namespace wsgid::frontend
