#include "supervisor/frontend/snapshot.h"

#include <algorithm>

namespace wsgid::frontend {

uint64_t Snapshot::busy() const {
  uint64_t n = 0;
  for (const GroupSnapshot& g : groups) n += g.busy;
  return n;
}

uint64_t Snapshot::idle() const {
  uint64_t n = 0;
  for (const GroupSnapshot& g : groups) n += g.idle;
  return n;
}

uint64_t Snapshot::queue() const {
  uint64_t n = 0;
  for (const GroupSnapshot& g : groups) n += g.queue;
  return n;
}

void merge_snapshot(Snapshot* total, const Snapshot& part) {
  if (part.front) {
    if (!total->summed_front) {
      total->summed_front = std::make_shared<FrontCounters>(total->front ? *total->front : FrontCounters{});
      total->front = total->summed_front.get();
    }
    total->summed_front->add(*part.front);
  }
  total->open_connections += part.open_connections;
  for (const GroupSnapshot& pg : part.groups) {
    auto it = std::find_if(total->groups.begin(), total->groups.end(),
                           [&](const GroupSnapshot& g) { return g.name == pg.name; });
    if (it == total->groups.end()) continue;  // a group the other loop's settings have, ours not yet
    GroupSnapshot& g = *it;
    if (pg.counters) {
      GroupCounters* sum = nullptr;
      for (const auto& c : total->summed_groups)
        if (c.get() == g.counters) sum = c.get();
      if (!sum) {
        total->summed_groups.push_back(
            std::make_shared<GroupCounters>(g.counters ? *g.counters : GroupCounters{}));
        sum = total->summed_groups.back().get();
        g.counters = sum;
      }
      sum->add(*pg.counters);
    }
    g.queue += pg.queue;
    g.busy += pg.busy;
    for (const ProcessSnapshot& pp : pg.procs) {
      for (ProcessSnapshot& p : g.procs) {
        if (p.pid != pp.pid || p.index != pp.index) continue;
        p.requests += pp.requests;
        p.current.insert(p.current.end(), pp.current.begin(), pp.current.end());
      }
    }
  }
}

void count_idle(Snapshot* s) {
  for (GroupSnapshot& g : s->groups) {
    uint64_t live = 0;
    if (g.procs.empty()) {
      live = g.state == "running" ? static_cast<uint64_t>(std::max(0, g.processes)) : 0;
    } else {
      for (const ProcessSnapshot& p : g.procs) live += p.pid > 0 && p.state == "RUNNING";
    }
    uint64_t capacity = live * static_cast<uint64_t>(std::max(0, g.threads));
    g.idle = capacity > g.busy ? capacity - g.busy : 0;
  }
}

}  // namespace wsgid::frontend
