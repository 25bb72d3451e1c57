// The master's status report to the front end (issue 14; protocol/PROTOCOL.md
// 7.4, "status"), both ends: what only the master knows about its children
// (each process's pid, state and start, the last exit, restarts by cause) and
// about itself (start, reloads), which the front end's metrics and status
// pages show. The master sends it as a kSettings frame holding only
// {"status": REPORT} whenever the report's text changes (a child changed
// state, a reload), never in answer to a request: the front end answers its
// pages from the last report it holds, without waiting for the master
// (docs/decisions.md 38).
//
//   REPORT = {"started": 1796000000.25, "reloads": 2, "failed_reloads": 0,
//             "version": "0.1.0",
//             "groups": [{"name": "site1",
//                         "restarts": {"signal": 1, "maximum-requests": 3},
//                         "processes": [{"index": 0, "pid": 4711 | null,
//                                        "state": "RUNNING", "started": 1796000100.5 | null,
//                                        "last_exit": "exited on signal 9" | null}]}]}
// Times are Unix seconds. "restarts" counts each process the group replaced,
// by cause (restart_cause() in supervisor/master/restart_cause.h names them);
// the counts live in the master and survive the group's reloads.
//
// Decoding returns errors as values and never throws. Pure; any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace wsgid::model {

struct ProcessReport {
  int index = 0;
  pid_t pid = 0;               // 0 = no process
  std::string state;           // STARTING, RUNNING, STOPPING, EXITED, BACKOFF, FATAL
  double started = 0;          // Unix seconds; 0 = no process
  std::string last_exit;       // "" = none yet
};

struct GroupReport {
  std::string name;
  std::map<std::string, uint64_t> restarts;  // cause -> count
  std::vector<ProcessReport> processes;
};

struct StatusReport {
  double started = 0;  // the master's start, Unix seconds
  uint64_t reloads = 0;
  uint64_t failed_reloads = 0;
  std::string version;
  std::vector<GroupReport> groups;

  const GroupReport* find(const std::string& name) const;
};

nlohmann::json status_report_to_json(const StatusReport& r);
// Errors name the key: "status: 'groups[0].processes[1].pid' must be an integer".
Result<StatusReport> status_report_from_json(const nlohmann::json& j);

}  // namespace wsgid::model
