// The front end's event loops (loops.h): real threads and libuv loops passing
// work (post, on_others from two loops at once), a group's capacity shared by
// the pools of two loops (GroupGate), and pages' figures summed over loops
// (merge_snapshot).
#include <doctest/doctest.h>

#include <uv.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "supervisor/frontend/loops.h"
#include "supervisor/frontend/server.h"
#include "supervisor/frontend/snapshot.h"
#include "supervisor/frontend/upstream.h"
#include "tests/unit/frontend/run_until.h"

namespace wsgid::frontend {
namespace {

TEST_CASE("loops: each runs on its own thread; post() is FIFO; on_others() waits for all") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    Server first(&loop);
    REQUIRE(first.start_loops(3));
    Loops* loops = first.loops();
    REQUIRE(loops != nullptr);
    CHECK(loops->count() == 3);
    // Each loop's Server runs on a thread of its own, none of them this one.
    std::mutex mu;
    std::set<std::thread::id> seen;
    std::set<int> indices;
    loops->on_others(0, [&](Server& s) {
      std::lock_guard<std::mutex> lock(mu);
      seen.insert(std::this_thread::get_id());
      indices.insert(s.loop_index());
    });
    CHECK(seen.size() == 2);
    CHECK(seen.count(std::this_thread::get_id()) == 0);
    CHECK(indices == std::set<int>{1, 2});
    // post(): in order, on the loop asked.
    std::vector<int> order;
    std::atomic<int> done{0};
    for (int i = 0; i < 100; ++i)
      loops->post(2, [&, i](Server& s) {
        CHECK(s.loop_index() == 2);
        order.push_back(i);  // loop 2's thread only
        ++done;
      });
    run_until(&loop, [&] { return done == 100; });
    REQUIRE(done == 100);
    for (int i = 0; i < 100; ++i) CHECK(order[static_cast<size_t>(i)] == i);
    // Two loops asking each other at once: neither waits forever for the other.
    std::atomic<int> answered{0};
    loops->post(1, [&](Server& s) {
      s.loops()->on_others(1, [&](Server&) { ++answered; });
    });
    loops->on_others(0, [&](Server&) { ++answered; });
    run_until(&loop, [&] { return answered == 4; });
    CHECK(answered == 4);
    first.shutdown();
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("loops: a new connection goes to the loop with the fewest") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    Server first(&loop);
    REQUIRE(first.start_loops(3));
    Loops* loops = first.loops();
    // None open: round robin, each counted as handed over until adopted.
    std::vector<int> picked;
    for (int i = 0; i < 6; ++i) {
      int p = loops->pick();
      picked.push_back(p);
      if (p == 0) loops->set_connections(0, static_cast<size_t>(std::count(picked.begin(), picked.end(), 0)));
    }
    for (int i = 0; i < 3; ++i) CHECK(std::count(picked.begin(), picked.end(), i) == 2);
    for (int p : picked)
      if (p != 0) loops->adopted(p);
    // Loop 2 has many: it gets none until the others catch up.
    loops->set_connections(0, 5);
    loops->set_connections(1, 5);
    loops->set_connections(2, 9);
    for (int i = 0; i < 4; ++i) CHECK(loops->pick() != 2);
    first.shutdown();
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

TEST_CASE("group gate: one capacity for every loop, shared by demand") {
  GroupGate* gate = GroupGate::of("loops_test\n/nowhere.sock");
  CHECK(GroupGate::of("loops_test\n/nowhere.sock") == gate);
  CHECK(GroupGate::of("other\n/nowhere.sock") != gate);
  // Three places: taken from any loop, at most three at once.
  CHECK(gate->try_open(3));
  CHECK(gate->try_open(3));
  CHECK(gate->try_open(3));
  CHECK_FALSE(gate->try_open(3));
  gate->release();
  CHECK(gate->open() == 2);
  CHECK(gate->try_open(3));
  // Slots publish their waits; a loop sees the others', never its own.
  uv_loop_t loop;
  uv_loop_init(&loop);
  GroupEndpoint ep;
  ep.name = "loops_test";
  ep.socket = "/nowhere.sock";
  UpstreamPool a(&loop, ep), b(&loop, ep);
  std::vector<std::string> posted;
  a.share(gate, 0, [&](std::function<void()>) { posted.push_back("a"); });
  b.share(gate, 1, [&](std::function<void()>) { posted.push_back("b"); });
  CHECK_FALSE(gate->others_waiting(0));
  // a holds 3 places with 1 request waiting; b none with 2 waiting: a yields.
  gate->publish(0, &a, 3, 0, 1);
  gate->publish(1, &b, 0, 0, 2);
  CHECK(gate->others_waiting(0));
  CHECK(gate->others_waiting(1));  // a's one waiting request
  CHECK(gate->should_yield(0, 3, 1));
  CHECK(gate->should_yield(0, 1, 0));        // b holds none: even a single place goes
  CHECK_FALSE(gate->should_yield(1, 0, 2));  // b holds nothing to give
  // Nothing waits here: a place goes only to a loop holding fewer even after.
  gate->publish(1, &b, 2, 0, 3);
  CHECK(gate->should_yield(0, 4, 0));
  CHECK_FALSE(gate->should_yield(0, 3, 0));
  // Equal shares for equal demand: no move (it would only move the imbalance).
  gate->publish(1, &b, 2, 0, 2);
  CHECK_FALSE(gate->should_yield(0, 2, 2));
  // 6 places for 8 against 2 for 8: the one with more gives.
  gate->publish(1, &b, 2, 0, 6);
  CHECK(gate->should_yield(0, 6, 2));
  CHECK(gate->should_yield(0, 5, 3));  // 5 of 8 against 2 of 8: 4 and 3 after the move
  gate->publish(1, &b, 3, 0, 5);
  CHECK_FALSE(gate->should_yield(0, 4, 4));  // 4 of 8 against 3 of 8: a move would swap them
  // A free place goes to the loop holding the fewest for its demand.
  gate->publish(0, &a, 1, 0, 4);  // 1 of 5
  gate->publish(1, &b, 2, 0, 1);  // 2 of 3
  gate->release();
  gate->wake_neediest(1, 3);  // from b: a is the other one waiting
  CHECK(posted == std::vector<std::string>{"a"});
  // All taken again: no wake.
  CHECK(gate->try_open(3));
  gate->wake_neediest(1, 3);
  CHECK(posted.size() == 1);
  // b waits with every place taken: a, which keeps an idle connection, is asked.
  gate->publish(0, &a, 1, 1, 0);
  gate->ask_idle(1);
  CHECK(posted == std::vector<std::string>{"a", "a"});
  gate->publish(0, &a, 1, 0, 0);
  gate->ask_idle(1);  // nobody idle: nobody asked
  CHECK(posted.size() == 2);
  // The group removed and added again: loop 0's new pool takes the slot; the
  // retired one's figures no longer count, the slot's post stays loop 0's.
  UpstreamPool a2(&loop, ep);
  a2.share(gate, 0, [&](std::function<void()>) { posted.push_back("a2"); });
  gate->publish(0, &a, 0, 5, 0);
  gate->ask_idle(1);
  CHECK(posted.size() == 2);
  gate->publish(0, &a2, 1, 1, 0);
  gate->ask_idle(1);
  CHECK(posted == std::vector<std::string>{"a", "a", "a"});
  uv_loop_close(&loop);
}

TEST_CASE("merge_snapshot: counters and gauges are sums over loops, by group and pid") {
  GroupCounters c0, c1;
  c0.count_request(200, MethodClass::kGet);
  c0.count_pid(41);
  c0.total.observe_us(1500);
  c0.gateway[static_cast<size_t>(GatewayCause::kQueueTimeout)] = 1;
  c1.count_request(200, MethodClass::kGet);
  c1.count_request(503, MethodClass::kPost);
  c1.count_pid(41);
  c1.count_pid(42);
  c1.total.observe_us(70000000);
  FrontCounters f0, f1;
  f0.accepted = 3;
  f0.requests = 1;
  f1.accepted = 4;
  f1.requests = 2;
  f1.refused[1] = 5;
  auto snap = [](const FrontCounters* f, const GroupCounters* c, uint64_t queue, uint64_t busy,
                 std::vector<std::string> current41) {
    Snapshot s;
    s.front = f;
    s.open_connections = 2;
    GroupSnapshot g;
    g.name = "site";
    g.state = "running";
    g.processes = 2;
    g.threads = 2;
    g.counters = c;
    g.queue = queue;
    g.busy = busy;
    for (pid_t pid : {41, 42}) {
      ProcessSnapshot p;
      p.index = pid - 41;
      p.pid = pid;
      p.state = "RUNNING";
      p.requests = c->pid_requests(pid);
      if (pid == 41)
        for (auto& u : current41) p.current.push_back({"GET", u, 0.5});
      g.procs.push_back(p);
    }
    s.groups.push_back(g);
    return s;
  };
  Snapshot total = snap(&f0, &c0, 1, 2, {"/a"});
  merge_snapshot(&total, snap(&f1, &c1, 2, 1, {"/b"}));
  count_idle(&total);
  // The loops' own counters are untouched.
  CHECK(c0.by_class[1] == 1);
  CHECK(f0.accepted == 3);
  REQUIRE(total.front != &f0);
  CHECK(total.front->accepted == 7);
  CHECK(total.front->requests == 3);
  CHECK(total.front->refused[1] == 5);
  CHECK(total.open_connections == 4);
  const GroupSnapshot& g = total.groups[0];
  CHECK(g.counters != &c0);
  CHECK(g.counters->by_class[1] == 2);
  CHECK(g.counters->by_class[4] == 1);
  CHECK(g.counters->by_method[static_cast<size_t>(MethodClass::kPost)] == 1);
  CHECK(g.counters->total.count() == 2);
  CHECK(g.counters->total.cumulative(Histogram::kBuckets - 1) == 1);  // 70 s: above every bound
  CHECK(g.counters->gateway[static_cast<size_t>(GatewayCause::kQueueTimeout)] == 1);
  CHECK(g.counters->pid_requests(41) == 2);
  CHECK(g.counters->pid_requests(42) == 1);
  CHECK(g.queue == 3);
  CHECK(g.busy == 3);
  CHECK(g.idle == 1);  // 2 x 2 threads, 3 busy
  CHECK(g.procs[0].requests == 2);
  CHECK(g.procs[1].requests == 1);
  REQUIRE(g.procs[0].current.size() == 2);
  CHECK(g.procs[0].current[0].uri == "/a");
  CHECK(g.procs[0].current[1].uri == "/b");
  // A third loop adds to the same sums.
  merge_snapshot(&total, snap(&f1, &c1, 0, 0, {}));
  CHECK(total.front->accepted == 11);
  CHECK(total.groups[0].counters->by_class[1] == 3);
}

}  // namespace
}  // namespace wsgid::frontend
