// Snapshot: what the front end's pages show (issue 14), gathered in one pass
// when a page is asked for: the front end's counters (metrics.h), gauges
// computed from the live connections (queue depth, busy threads, each
// process's current requests), the master's last status report
// (model/status_report.h) and each process's RSS read from /proc. The pages
// (metrics_page.h, status_page.h) are pure functions of a Snapshot, so that
// tests build one by hand. Server::snapshot() (server_pages.cc) fills it on the loop thread;
// the pointers into the Server's counters are valid until the loop runs again.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "supervisor/frontend/metrics.h"

namespace wsgid::frontend {

struct CurrentRequest {
  std::string method;
  std::string uri;
  double age = 0;  // seconds since the request's head arrived
};

struct ProcessSnapshot {
  int index = 0;
  pid_t pid = 0;             // 0: no process in this slot now
  std::string state;         // the master's: STARTING, RUNNING, ... (child.h)
  double started = 0;        // Unix seconds; 0 = unknown
  std::string last_exit;     // "" = none
  uint64_t requests = 0;     // answered by this process, as this front end saw
  int64_t rss = -1;          // bytes; -1 = unknown
  std::vector<CurrentRequest> current;
};

struct GroupSnapshot {
  std::string name;          // "%{GLOBAL}" for the embedded pool
  std::string state;         // the front end's view: running, replacing, stopped, down
  int processes = 0;         // configured
  int threads = 0;           // per process
  uint64_t queue = 0;        // requests no worker has taken yet
  uint64_t busy = 0;         // requests a worker has taken and not finished
  uint64_t idle = 0;         // live processes x threads - busy
  const GroupCounters* counters = nullptr;  // never null in a built snapshot
  std::map<std::string, uint64_t> restarts;  // cause -> count (the master's)
  std::vector<ProcessSnapshot> procs;
};

struct Snapshot {
  double now = 0;               // Unix seconds
  std::string version;          // wsgid's
  std::string server_name;      // the main server's ServerName (or host name)
  bool have_report = false;     // a status report came from the master
  double master_started = 0;    // Unix seconds (0 without a report)
  double frontend_started = 0;  // Unix seconds
  uint64_t reloads = 0, failed_reloads = 0;
  uint64_t open_connections = 0;
  bool accepting = true;        // Server::accepting_work()
  const FrontCounters* front = nullptr;
  std::vector<GroupSnapshot> groups;

  // Counters summed over loops (merge_snapshot): front and each group's
  // counters point here then, not into a loop's Metrics.
  std::shared_ptr<FrontCounters> summed_front;
  std::vector<std::shared_ptr<GroupCounters>> summed_groups;

  // The whole server, for mod_status's keys.
  uint64_t busy() const;
  uint64_t idle() const;
  uint64_t queue() const;
};

// Adds part, another event loop's snapshot (loops.h), to total: the counters
// (copied into total's own storage first), by group name; each group's queue,
// busy count and each process's requests and current requests. The rest
// (the master's report, the settings) is the same in both and stays.
void merge_snapshot(Snapshot* total, const Snapshot& part);
// Each group's idle threads: its live processes x threads - busy.
void count_idle(Snapshot* s);

}  // namespace wsgid::frontend
