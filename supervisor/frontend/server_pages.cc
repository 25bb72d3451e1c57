// Server's observability (issue 14): the master's status report kept, the
// Snapshot the pages are drawn from, and the answers of the front end's own
// pages (server-status, wsgid-metrics, wsgid-ready).
#include "supervisor/frontend/server.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "common/version.h"
#include "supervisor/frontend/http_conn.h"
#include "supervisor/frontend/loops.h"
#include "supervisor/frontend/metrics_page.h"
#include "supervisor/frontend/readiness.h"
#include "supervisor/frontend/status_page.h"

namespace wsgid::frontend {

namespace {

double unix_now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Resident set size from /proc/PID/statm (world-readable); -1 when unreadable.
int64_t read_rss(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
  FILE* f = std::fopen(path, "r");
  if (!f) return -1;
  long size = 0, resident = 0;
  int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE) : -1;
}

}  // namespace

void Server::take_status(model::StatusReport report) {
  if (loops_ && index_ == 0) {
    auto shared = std::make_shared<const model::StatusReport>(report);
    loops_->post_others([&] { return Loops::Task([shared](Server& s) { s.take_status(*shared); }); });
  }
  report_ = std::move(report);
  have_report_ = true;
  // Per-pid request counts of processes the master no longer lists go.
  for (const model::GroupReport& g : report_.groups) {
    std::vector<pid_t> live;
    for (const model::ProcessReport& p : g.processes)
      if (p.pid > 0) live.push_back(p.pid);
    metrics_.group(g.name)->forget_pids(live);
  }
}

Snapshot Server::snapshot() const {
  Snapshot s = local_snapshot();
  if (loops_) {
    // Every loop's counters and gauges, each added while its loop runs
    // nothing else (Loops::on_others).
    std::mutex mu;
    loops_->on_others(index_, [&](Server& other) {
      Snapshot part = other.local_snapshot();
      std::lock_guard<std::mutex> lock(mu);
      merge_snapshot(&s, part);
    });
  }
  count_idle(&s);
  return s;
}

Snapshot Server::local_snapshot() const {
  Snapshot s;
  s.now = unix_now();
  s.version = kVersion;
  const model::Config& cfg = settings().config;
  if (!cfg.server.server_name.empty()) {
    s.server_name = cfg.server.server_name;
  } else {
    char host[256] = {};
    s.server_name = gethostname(host, sizeof host - 1) == 0 && host[0] ? host : "localhost";
  }
  s.have_report = have_report_;
  s.master_started = have_report_ ? report_.started : 0;
  s.frontend_started = started_unix_;
  s.reloads = report_.reloads;
  s.failed_reloads = report_.failed_reloads;
  s.open_connections = conn_count_;
  s.accepting = accepting_work();
  s.front = &metrics_.front();

  std::vector<const UpstreamPool*> pools;  // parallel to s.groups
  const auto& groups = settings().groups;
  for (size_t i = 0; i < groups.size(); ++i) {
    const GroupEndpoint& ep = groups[i];
    GroupSnapshot g;
    g.name = ep.name;
    g.state = ep.state;
    g.processes = ep.processes;
    g.threads = ep.threads;
    const UpstreamPool* pool = i < current_pools_.size() ? current_pools_[i] : nullptr;
    // apply() gave every current pool its counters; a pool made alone has none.
    static const GroupCounters kNoCounters;
    g.counters = pool && pool->counters() ? pool->counters() : &kNoCounters;
    if (const model::GroupReport* r = have_report_ ? report_.find(ep.name) : nullptr) {
      g.restarts = r->restarts;
      for (const model::ProcessReport& p : r->processes) {
        ProcessSnapshot ps;
        ps.index = p.index;
        ps.pid = p.pid;
        ps.state = p.state;
        ps.started = p.started;
        ps.last_exit = p.last_exit;
        if (p.pid > 0) {
          ps.requests = g.counters->pid_requests(p.pid);
          ps.rss = read_rss(p.pid);
        }
        g.procs.push_back(std::move(ps));
      }
    }
    s.groups.push_back(std::move(g));
    pools.push_back(pool);
  }
  if (embedded_pool_) {
    GroupSnapshot g;
    g.name = "%{GLOBAL}";
    g.state = "running";
    g.processes = 1;
    g.threads = embedded_pool_->endpoint().threads;
    static const GroupCounters kNoCounters;
    g.counters = embedded_pool_->counters() ? embedded_pool_->counters() : &kNoCounters;
    ProcessSnapshot ps;
    ps.pid = getpid();
    ps.state = "RUNNING";
    ps.started = started_unix_;
    ps.requests = g.counters->pid_requests(ps.pid);
    ps.rss = read_rss(ps.pid);
    g.procs.push_back(std::move(ps));
    s.groups.push_back(std::move(g));
    pools.push_back(embedded_pool_.get());
  }

  // Gauges from the live connections.
  const uint64_t now_ms = uv_now(loop_);
  for (HttpConn* c = conns_; c; c = c->next) {
    HttpConn::InFlight f;
    if (!c->in_flight(&f)) continue;
    auto it = std::find(pools.begin(), pools.end(), f.pool);
    if (it == pools.end()) continue;  // a group a reload removed
    GroupSnapshot& g = s.groups[static_cast<size_t>(it - pools.begin())];
    if (!f.taken) {
      ++g.queue;
      continue;
    }
    ++g.busy;
    for (ProcessSnapshot& ps : g.procs) {
      if (ps.pid != f.pid || f.pid <= 0) continue;
      CurrentRequest cr;
      uint64_t start = 0;
      uint32_t id = 0;
      if (c->describe(&cr.method, &cr.uri, &start, &id))
        cr.age = static_cast<double>(now_ms - std::min(now_ms, start)) / 1000.0;
      ps.current.push_back(std::move(cr));
    }
  }
  return s;
}

Server::PageAnswer Server::page(std::string_view page, std::string_view query,
                                const model::VirtualHost* vh) const {
  PageAnswer a;
  if (page == "wsgid-ready") {
    std::string why = not_ready_reason(settings().config, vh, settings().groups,
                                       have_report_ ? &report_ : nullptr, accepting_work());
    a.content_type = "text/plain; charset=utf-8";
    if (why.empty()) {
      a.body = "ready\n";
    } else {
      a.status = 503;
      a.body = "not ready: " + why + "\n";
      a.why = "not ready: " + why;
    }
    return a;
  }
  Snapshot s = snapshot();
  if (page == "wsgid-metrics") {
    a.content_type = kMetricsContentType;
    a.body = render_metrics(s);
    return a;
  }
  StatusQuery q = parse_status_query(query);
  if (q.automatic) {
    a.content_type = "text/plain; charset=utf-8";
    a.body = render_status_auto(s);
  } else {
    a.content_type = "text/html; charset=utf-8";
    a.body = render_status_html(s, q);
  }
  return a;
}

}  // namespace wsgid::frontend
