// The counters (metrics.h), the exposition writer (prom_text.h) and the
// Prometheus page (metrics_page.h) from a hand-made Snapshot.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "supervisor/frontend/metrics.h"
#include "supervisor/frontend/metrics_page.h"
#include "supervisor/frontend/prom_text.h"

namespace wsgid::frontend {
namespace {

TEST_CASE("label values are escaped as the exposition format says") {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"plain", "plain"},
      {"a\"b", "a\\\"b"},
      {"back\\slash", "back\\\\slash"},
      {"line\nfeed", "line\\nfeed"},
      {"%{GLOBAL}", "%{GLOBAL}"},
      {"\\\"\n", "\\\\\\\"\\n"},
      {"caf\xc3\xa9", "caf\xc3\xa9"},  // UTF-8 stays as it is
  };
  for (const Case& c : cases) {
    INFO(c.in);
    std::string out;
    append_label_value(&out, c.in);
    CHECK(out == c.out);
  }
}

TEST_CASE("metric and label names follow Prometheus' rules") {
  CHECK(valid_metric_name("wsgid_group_requests_total"));
  CHECK(valid_metric_name("a:b"));
  CHECK_FALSE(valid_metric_name("1abc"));
  CHECK_FALSE(valid_metric_name("wsgid-group"));
  CHECK_FALSE(valid_metric_name(""));
  CHECK(valid_label_name("group"));
  CHECK_FALSE(valid_label_name("a:b"));
  CHECK_FALSE(valid_label_name("__reserved"));
}

TEST_CASE("a family, samples and their labels, byte for byte") {
  std::string out;
  PromText p(&out);
  p.family("x_total", "counter", "Help with a \\ and a\nnewline.");
  p.sample("x_total", {}, uint64_t{3});
  p.sample("x_total", {{"group", "a\"b"}, {"code", "2xx"}}, uint64_t{18446744073709551615u});
  p.sample("x_seconds", {}, 0.25);
  CHECK(out ==
        "# HELP x_total Help with a \\\\ and a\\nnewline.\n"
        "# TYPE x_total counter\n"
        "x_total 3\n"
        "x_total{group=\"a\\\"b\",code=\"2xx\"} 18446744073709551615\n"
        "x_seconds 0.25\n");
}

TEST_CASE("histogram: buckets by their upper bound, cumulative in the text") {
  Histogram h;
  // 0.5 ms, exactly 1 ms (le is inclusive), 3 ms, 2 s, 100 s (+Inf only).
  for (uint64_t us : {500u, 1000u, 3000u, 2000000u, 100000000u}) h.observe_us(us);
  CHECK(h.count() == 5);
  CHECK(h.sum_us() == 500 + 1000 + 3000 + 2000000 + 100000000ull);
  CHECK(h.cumulative(0) == 2);   // <= 1 ms
  CHECK(h.cumulative(1) == 2);   // <= 2.5 ms
  CHECK(h.cumulative(2) == 3);   // <= 5 ms
  CHECK(h.cumulative(10) == 4);  // <= 2.5 s
  CHECK(h.cumulative(Histogram::kBuckets - 1) == 4);  // <= 60 s
  CHECK(h.cumulative(Histogram::kBuckets) == 5);      // +Inf

  std::string out;
  PromText p(&out);
  p.histogram("q_seconds", {{"group", "g"}}, h);
  CHECK(out.find("q_seconds_bucket{group=\"g\",le=\"0.001\"} 2\n") != std::string::npos);
  CHECK(out.find("q_seconds_bucket{group=\"g\",le=\"0.005\"} 3\n") != std::string::npos);
  CHECK(out.find("q_seconds_bucket{group=\"g\",le=\"60\"} 4\n") != std::string::npos);
  CHECK(out.find("q_seconds_bucket{group=\"g\",le=\"+Inf\"} 5\n") != std::string::npos);
  CHECK(out.find("q_seconds_sum{group=\"g\"} 102.0045\n") != std::string::npos);
  CHECK(out.find("q_seconds_count{group=\"g\"} 5\n") != std::string::npos);
  // Bounds ascend, so that the text's buckets are cumulative.
  for (size_t i = 1; i < Histogram::kBuckets; ++i)
    CHECK(Histogram::kBoundsUs[i - 1] < Histogram::kBoundsUs[i]);
}

TEST_CASE("methods: RFC 9110's by name (case-sensitive), anything else OTHER") {
  struct Case {
    const char* method;
    const char* label;
  } cases[] = {{"GET", "GET"},         {"HEAD", "HEAD"},       {"POST", "POST"},
               {"PUT", "PUT"},         {"DELETE", "DELETE"},   {"CONNECT", "CONNECT"},
               {"OPTIONS", "OPTIONS"}, {"TRACE", "TRACE"},     {"PATCH", "OTHER"},
               {"PROPFIND", "OTHER"},  {"get", "OTHER"},       {"", "OTHER"}};
  for (const Case& c : cases) {
    INFO(c.method);
    CHECK(method_label(method_class(c.method)) == c.label);
  }
}

TEST_CASE("refusals and gateway causes: their labels and statuses") {
  CHECK(refuse_reason_label(refuse_reason(408)) == "timeout");
  for (int st : {411, 413, 414, 431}) CHECK(refuse_reason_label(refuse_reason(st)) == "limit");
  for (int st : {400, 405, 501}) CHECK(refuse_reason_label(refuse_reason(st)) == "bad_request");
  CHECK(refuse_reason_label(RefuseReason::kProxyHeader) == "proxy_header");
  CHECK(refuse_reason_label(RefuseReason::kUwsgiPeer) == "uwsgi_peer");
  CHECK(gateway_cause_status(GatewayCause::kQueueTimeout) == 504);
  CHECK(gateway_cause_status(GatewayCause::kSocketTimeout) == 504);
  CHECK(gateway_cause_status(GatewayCause::kWorkerDied) == 502);
  CHECK(gateway_cause_status(GatewayCause::kGroupStopped) == 503);
  std::vector<std::string> labels;
  for (size_t i = 0; i < kGatewayCauses; ++i) {
    std::string l(gateway_cause_label(static_cast<GatewayCause>(i)));
    CHECK(valid_label_name(l));  // label values need not, but ours are plain words
    CHECK(std::find(labels.begin(), labels.end(), l) == labels.end());
    labels.push_back(l);
  }
}

TEST_CASE("group counters: status classes, methods, pids forgotten with their process") {
  GroupCounters g;
  g.count_request(200, MethodClass::kGet);
  g.count_request(204, MethodClass::kGet);
  g.count_request(503, MethodClass::kPost);
  g.count_request(0, MethodClass::kOther);  // aborted before a status: method only
  CHECK(g.by_class == std::array<uint64_t, 5>{0, 2, 0, 0, 1});
  CHECK(g.by_method[static_cast<size_t>(MethodClass::kGet)] == 2);
  CHECK(g.by_method[static_cast<size_t>(MethodClass::kOther)] == 1);
  g.count_pid(10);
  g.count_pid(10);
  g.count_pid(11);
  g.count_pid(0);  // no worker
  CHECK(g.pid_requests(10) == 2);
  CHECK(g.pid_requests(11) == 1);
  g.forget_pids({11, 12});
  CHECK(g.pid_requests(10) == 0);
  CHECK(g.pid_requests(11) == 1);
  Metrics m;
  CHECK(m.group("a") == m.group("a"));
  CHECK(m.group("a") != m.group("b"));
}

Snapshot sample_snapshot(GroupCounters* gc, FrontCounters* fc) {
  Snapshot s;
  s.now = 1000;
  s.version = "9.9";
  s.server_name = "example";
  s.have_report = true;
  s.master_started = 900;
  s.frontend_started = 950;
  s.reloads = 2;
  s.failed_reloads = 1;
  s.open_connections = 4;
  s.front = fc;
  GroupSnapshot g;
  g.name = "si\"te";
  g.state = "running";
  g.processes = 2;
  g.threads = 3;
  g.queue = 5;
  g.busy = 3;
  g.idle = 0;
  g.counters = gc;
  g.restarts = {{"signal", 1}, {"maximum-requests", 4}};
  ProcessSnapshot p;
  p.index = 0;
  p.pid = 4711;
  p.state = "RUNNING";
  p.started = 990;
  p.requests = 7;
  p.rss = 1 << 20;
  p.current = {{"GET", "/a", 0.5}, {"POST", "/b", 2.5}};
  g.procs.push_back(p);
  ProcessSnapshot q;
  q.index = 1;
  q.state = "BACKOFF";
  q.last_exit = "exited on signal 9";
  g.procs.push_back(q);
  s.groups.push_back(g);
  return s;
}

TEST_CASE("the metrics page: every family once, values from the snapshot") {
  GroupCounters gc;
  gc.count_request(200, MethodClass::kGet);
  gc.gateway[static_cast<size_t>(GatewayCause::kQueueTimeout)] = 2;
  gc.sent_ahead = 11;
  gc.withdrawn = 3;
  FrontCounters fc;
  fc.accepted = 9;
  fc.refused[static_cast<size_t>(RefuseReason::kTimeout)] = 1;
  fc.bytes_in = 100;
  fc.bytes_out = 2000;
  fc.bytes_spliced_out = 1500;
  fc.bytes_spliced_in = 700;
  fc.bodies_handed_over = 3;
  fc.bytes_handed_over = 9000;
  fc.responses_handed_over = 4;
  fc.response_bytes_handed_over = 4194304;
  std::string text = render_metrics(sample_snapshot(&gc, &fc));
  auto has = [&](const std::string& line) {
    INFO(line);
    CHECK(text.find(line + "\n") != std::string::npos);
  };
  has("wsgid_build_info{version=\"9.9\"} 1");
  has("wsgid_master_uptime_seconds 100");
  has("wsgid_master_reloads_total 2");
  has("wsgid_master_failed_reloads_total 1");
  has("wsgid_frontend_connections 4");
  has("wsgid_frontend_connections_accepted_total 9");
  has("wsgid_frontend_connections_refused_total{reason=\"timeout\"} 1");
  has("wsgid_frontend_connections_refused_total{reason=\"limit\"} 0");
  has("wsgid_frontend_sent_bytes_total 2000");
  has("wsgid_frontend_spliced_bytes_total{direction=\"response\"} 1500");
  has("wsgid_frontend_spliced_bytes_total{direction=\"request\"} 700");
  has("wsgid_frontend_handed_over_bodies_total 3");
  has("wsgid_frontend_handed_over_responses_total 4");
  has("wsgid_frontend_handed_over_response_bytes_total 4194304");
  has("wsgid_frontend_handed_over_bytes_total 9000");
  has("wsgid_group_requests_total{group=\"si\\\"te\",code=\"2xx\"} 1");
  has("wsgid_group_requests_total{group=\"si\\\"te\",code=\"5xx\"} 0");
  has("wsgid_group_requests_by_method_total{group=\"si\\\"te\",method=\"OTHER\"} 0");
  has("wsgid_group_queue_depth{group=\"si\\\"te\"} 5");
  has("wsgid_group_threads_busy{group=\"si\\\"te\"} 3");
  has("wsgid_group_sent_ahead_total{group=\"si\\\"te\"} 11");
  has("wsgid_group_withdrawn_total{group=\"si\\\"te\"} 3");
  has("wsgid_group_threads_idle{group=\"si\\\"te\"} 0");
  has("wsgid_group_gateway_errors_total{group=\"si\\\"te\",code=\"504\",cause=\"queue_timeout\"} 2");
  has("wsgid_group_processes{group=\"si\\\"te\",state=\"RUNNING\"} 1");
  has("wsgid_group_processes{group=\"si\\\"te\",state=\"BACKOFF\"} 1");
  has("wsgid_group_processes{group=\"si\\\"te\",state=\"FATAL\"} 0");
  has("wsgid_group_restarts_total{group=\"si\\\"te\",cause=\"signal\"} 1");
  has("wsgid_group_restarts_total{group=\"si\\\"te\",cause=\"maximum-requests\"} 4");
  has("wsgid_process_resident_memory_bytes{group=\"si\\\"te\",index=\"0\",pid=\"4711\"} 1048576");
  has("wsgid_process_requests_total{group=\"si\\\"te\",index=\"0\",pid=\"4711\"} 7");
  has("wsgid_process_current_request_age_seconds{group=\"si\\\"te\",index=\"0\",pid=\"4711\"} 2.5");
  has("wsgid_process_start_time_seconds{group=\"si\\\"te\",index=\"0\",pid=\"4711\"} 990");
  // A slot without a process has no per-process samples.
  CHECK(text.find("index=\"1\"") == std::string::npos);
  // Each family is declared once, before its samples.
  size_t families = 0;
  for (size_t at = text.find("# TYPE "); at != std::string::npos; at = text.find("# TYPE ", at + 1)) {
    std::string name = text.substr(at + 7, text.find(' ', at + 7) - at - 7);
    CHECK(text.find("# TYPE " + name + " ", at + 1) == std::string::npos);
    ++families;
  }
  CHECK(families == 34);
}

TEST_CASE("without the master's report, only what the front end knows") {
  GroupCounters gc;
  FrontCounters fc;
  Snapshot s = sample_snapshot(&gc, &fc);
  s.have_report = false;
  s.groups[0].procs.clear();
  s.groups[0].restarts.clear();
  std::string text = render_metrics(s);
  CHECK(text.find("wsgid_master_uptime_seconds") == std::string::npos);
  CHECK(text.find("wsgid_group_processes") == std::string::npos);
  CHECK(text.find("wsgid_group_queue_depth{") != std::string::npos);
}

}  // namespace
}  // namespace wsgid::frontend
