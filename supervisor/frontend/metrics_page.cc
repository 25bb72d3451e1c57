#include "supervisor/frontend/metrics_page.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "supervisor/frontend/prom_text.h"

namespace wsgid::frontend {

namespace {

constexpr std::array<std::string_view, 5> kClasses = {"1xx", "2xx", "3xx", "4xx", "5xx"};
constexpr std::array<std::string_view, 6> kStates = {"STARTING", "RUNNING", "STOPPING",
                                                     "EXITED",   "BACKOFF", "FATAL"};

void master_part(PromText& p, const Snapshot& s) {
  p.family("wsgid_build_info", "gauge", "wsgid's version; always 1.");
  p.sample("wsgid_build_info", {{"version", s.version}}, uint64_t{1});
  if (!s.have_report) return;
  p.family("wsgid_master_start_time_seconds", "gauge", "When the master started, in Unix seconds.");
  p.sample("wsgid_master_start_time_seconds", {}, s.master_started);
  p.family("wsgid_master_uptime_seconds", "gauge", "Seconds since the master started.");
  p.sample("wsgid_master_uptime_seconds", {}, s.now - s.master_started);
  p.family("wsgid_master_reloads_total", "counter", "Reloads (SIGHUP, wsgictl reload) that took effect.");
  p.sample("wsgid_master_reloads_total", {}, s.reloads);
  p.family("wsgid_master_failed_reloads_total", "counter",
           "Reloads refused (a config error, a socket that could not be opened); the running configuration stayed.");
  p.sample("wsgid_master_failed_reloads_total", {}, s.failed_reloads);
}

void frontend_part(PromText& p, const Snapshot& s) {
  const FrontCounters& f = *s.front;
  p.family("wsgid_frontend_start_time_seconds", "gauge", "When this front end process started, in Unix seconds.");
  p.sample("wsgid_frontend_start_time_seconds", {}, s.frontend_started);
  p.family("wsgid_frontend_connections", "gauge", "Client connections open now.");
  p.sample("wsgid_frontend_connections", {}, s.open_connections);
  p.family("wsgid_frontend_connections_accepted_total", "counter", "Client connections accepted.");
  p.sample("wsgid_frontend_connections_accepted_total", {}, f.accepted);
  p.family("wsgid_frontend_connections_refused_total", "counter",
           "Connections answered with an error and closed, by reason: bad_request (400, 501), limit (411, 413, 414, 431), timeout (408); proxy_header: closed for a wrong or late PROXY protocol header.");
  for (size_t i = 0; i < kRefuseReasons; ++i)
    p.sample("wsgid_frontend_connections_refused_total",
             {{"reason", refuse_reason_label(static_cast<RefuseReason>(i))}}, f.refused[i]);
  p.family("wsgid_frontend_requests_total", "counter", "Requests answered, by any handler (mod_status's Total Accesses).");
  p.sample("wsgid_frontend_requests_total", {}, f.requests);
  p.family("wsgid_frontend_received_bytes_total", "counter", "Request bytes received: line, fields and body (mod_logio's %I).");
  p.sample("wsgid_frontend_received_bytes_total", {}, f.bytes_in);
  p.family("wsgid_frontend_sent_bytes_total", "counter", "Response bytes sent: head, body and chunk framing (mod_logio's %O).");
  p.sample("wsgid_frontend_sent_bytes_total", {}, f.bytes_out);
  p.family("wsgid_frontend_spliced_bytes_total", "counter", "Body bytes moved between a client's socket and a worker's by splice(2), never copied through the front end.");
  p.sample("wsgid_frontend_spliced_bytes_total", {{"direction", "response"}}, f.bytes_spliced_out);
  p.sample("wsgid_frontend_spliced_bytes_total", {{"direction", "request"}}, f.bytes_spliced_in);
  p.family("wsgid_frontend_handed_over_bodies_total", "counter", "Request bodies read by the worker from the client's own socket, passed to it (BODY_SOCKET).");
  p.sample("wsgid_frontend_handed_over_bodies_total", {}, f.bodies_handed_over);
  p.family("wsgid_frontend_handed_over_bytes_total", "counter", "Request body bytes the workers read from client sockets passed to them.");
  p.sample("wsgid_frontend_handed_over_bytes_total", {}, f.bytes_handed_over);
  p.family("wsgid_frontend_handed_over_responses_total", "counter", "Response bodies the worker wrote to the client's own socket, passed to it (RESPONSE_SOCKET).");
  p.sample("wsgid_frontend_handed_over_responses_total", {}, f.responses_handed_over);
  p.family("wsgid_frontend_handed_over_response_bytes_total", "counter", "Response body bytes the workers wrote to client sockets passed to them.");
  p.sample("wsgid_frontend_handed_over_response_bytes_total", {}, f.response_bytes_handed_over);
}

void group_part(PromText& p, const Snapshot& s) {
  if (s.groups.empty()) return;
  p.family("wsgid_group_requests_total", "counter", "Requests for the group answered, by status class.");
  for (const GroupSnapshot& g : s.groups)
    for (size_t i = 0; i < kClasses.size(); ++i)
      p.sample("wsgid_group_requests_total", {{"group", g.name}, {"code", kClasses[i]}},
               g.counters->by_class[i]);
  p.family("wsgid_group_requests_by_method_total", "counter",
           "Requests for the group answered, by method (RFC 9110's; any other is OTHER).");
  for (const GroupSnapshot& g : s.groups)
    for (size_t i = 0; i < kMethodClasses; ++i)
      p.sample("wsgid_group_requests_by_method_total",
               {{"group", g.name}, {"method", method_label(static_cast<MethodClass>(i))}},
               g.counters->by_method[i]);
  p.family("wsgid_group_first_byte_seconds", "histogram",
           "From the request head to the response head, for the group's requests.");
  for (const GroupSnapshot& g : s.groups)
    p.histogram("wsgid_group_first_byte_seconds", {{"group", g.name}}, g.counters->first_byte);
  p.family("wsgid_group_request_duration_seconds", "histogram",
           "From the request head to the response's last byte, for the group's requests.");
  for (const GroupSnapshot& g : s.groups)
    p.histogram("wsgid_group_request_duration_seconds", {{"group", g.name}}, g.counters->total);
  p.family("wsgid_group_queue_wait_seconds", "histogram",
           "From the request being handed to the group to a worker taking it.");
  for (const GroupSnapshot& g : s.groups)
    p.histogram("wsgid_group_queue_wait_seconds", {{"group", g.name}}, g.counters->queue_wait);
  p.family("wsgid_group_queue_depth", "gauge",
           "Requests waiting for a worker now (the front end's queue and the group socket's backlog).");
  for (const GroupSnapshot& g : s.groups) p.sample("wsgid_group_queue_depth", {{"group", g.name}}, g.queue);
  p.family("wsgid_group_sent_ahead_total", "counter",
           "Requests sent to a busy worker thread behind the one it serves, to be taken without a wake-up (PROTOCOL.md 5.7).");
  for (const GroupSnapshot& g : s.groups) p.sample("wsgid_group_sent_ahead_total", {{"group", g.name}}, g.counters->sent_ahead);
  p.family("wsgid_group_withdrawn_total", "counter",
           "Requests sent ahead and taken back before the worker took them, to go to a thread that became free first.");
  for (const GroupSnapshot& g : s.groups) p.sample("wsgid_group_withdrawn_total", {{"group", g.name}}, g.counters->withdrawn);
  p.family("wsgid_group_threads_busy", "gauge", "Worker threads running a request now.");
  for (const GroupSnapshot& g : s.groups) p.sample("wsgid_group_threads_busy", {{"group", g.name}}, g.busy);
  p.family("wsgid_group_threads_idle", "gauge", "Worker threads of live processes with no request now.");
  for (const GroupSnapshot& g : s.groups) p.sample("wsgid_group_threads_idle", {{"group", g.name}}, g.idle);
  p.family("wsgid_group_gateway_errors_total", "counter",
           "502, 503 and 504 answers the front end gave for the group, by cause.");
  for (const GroupSnapshot& g : s.groups)
    for (size_t i = 0; i < kGatewayCauses; ++i) {
      auto c = static_cast<GatewayCause>(i);
      char code[4] = {};
      int st = gateway_cause_status(c);
      code[0] = static_cast<char>('0' + st / 100);
      code[1] = static_cast<char>('0' + st / 10 % 10);
      code[2] = static_cast<char>('0' + st % 10);
      p.sample("wsgid_group_gateway_errors_total",
               {{"group", g.name}, {"code", std::string_view(code, 3)}, {"cause", gateway_cause_label(c)}},
               g.counters->gateway[i]);
    }
  if (!s.have_report) return;
  p.family("wsgid_group_processes", "gauge", "The group's process slots, by the master's state.");
  for (const GroupSnapshot& g : s.groups) {
    if (g.name == "%{GLOBAL}") continue;
    for (std::string_view st : kStates) {
      uint64_t n = 0;
      for (const ProcessSnapshot& ps : g.procs) n += ps.state == st;
      p.sample("wsgid_group_processes", {{"group", g.name}, {"state", st}}, n);
    }
  }
  p.family("wsgid_group_restarts_total", "counter",
           "Processes the master replaced, by cause (docs/metrics.md lists them).");
  for (const GroupSnapshot& g : s.groups)
    for (const auto& [cause, n] : g.restarts)
      p.sample("wsgid_group_restarts_total", {{"group", g.name}, {"cause", cause}}, n);
}

void process_part(PromText& p, const Snapshot& s) {
  bool any = false;
  for (const GroupSnapshot& g : s.groups)
    for (const ProcessSnapshot& ps : g.procs) any = any || ps.pid > 0;
  if (!any) return;
  auto each = [&](auto&& fn) {
    for (const GroupSnapshot& g : s.groups)
      for (const ProcessSnapshot& ps : g.procs) {
        if (ps.pid <= 0) continue;
        std::string index = std::to_string(ps.index), pid = std::to_string(ps.pid);
        fn(g, ps, index, pid);
      }
  };
  p.family("wsgid_process_resident_memory_bytes", "gauge", "Resident set size of the process (/proc/PID/statm).");
  each([&](const GroupSnapshot& g, const ProcessSnapshot& ps, const std::string& i, const std::string& pid) {
    if (ps.rss >= 0)
      p.sample("wsgid_process_resident_memory_bytes", {{"group", g.name}, {"index", i}, {"pid", pid}}, ps.rss);
  });
  p.family("wsgid_process_requests_total", "counter", "Requests the process answered, as this front end saw them.");
  each([&](const GroupSnapshot& g, const ProcessSnapshot& ps, const std::string& i, const std::string& pid) {
    p.sample("wsgid_process_requests_total", {{"group", g.name}, {"index", i}, {"pid", pid}}, ps.requests);
  });
  p.family("wsgid_process_current_request_age_seconds", "gauge",
           "Age of the oldest request the process is running now; 0 when it runs none.");
  each([&](const GroupSnapshot& g, const ProcessSnapshot& ps, const std::string& i, const std::string& pid) {
    double age = 0;
    for (const CurrentRequest& c : ps.current) age = std::max(age, c.age);
    p.sample("wsgid_process_current_request_age_seconds", {{"group", g.name}, {"index", i}, {"pid", pid}}, age);
  });
  p.family("wsgid_process_start_time_seconds", "gauge", "When the process started, in Unix seconds.");
  each([&](const GroupSnapshot& g, const ProcessSnapshot& ps, const std::string& i, const std::string& pid) {
    if (ps.started > 0)
      p.sample("wsgid_process_start_time_seconds", {{"group", g.name}, {"index", i}, {"pid", pid}}, ps.started);
  });
}

}  // namespace

std::string render_metrics(const Snapshot& s) {
  std::string out;
  out.reserve(16384);
  PromText p(&out);
  master_part(p, s);
  frontend_part(p, s);
  group_part(p, s);
  process_part(p, s);
  return out;
}

}  // namespace wsgid::frontend
