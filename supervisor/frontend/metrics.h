// Metrics: the front end's counters (issue 14), kept where the requests are
// seen so that they survive every worker's restart.
//
// Plain integers on the loop thread, no locks and no allocation per request:
// a request adds to its group's GroupCounters (requests by status class and by
// method, three latency histograms, 502/503/504 answers by cause, requests per
// worker pid) and to the FrontCounters (connections accepted, refused by
// reason, bytes in and out). Server owns one Metrics for the life of the
// process; a group's counters are found by name once per settings and keep
// their values across reloads. Gauges (queue depth, busy threads, open
// connections) are not counted here: the pages compute them when asked
// (metrics_page.h). Loop thread only.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsgid::frontend {

// A histogram with fixed bucket bounds, in microseconds. counts[i] is the
// number of observations <= kBoundsUs[i] and > kBoundsUs[i-1] (not cumulative);
// counts[kBuckets] those above the last bound (+Inf).
class Histogram {
 public:
  static constexpr size_t kBuckets = 15;
  // 1 ms .. 60 s: the range of a queue wait, a first byte and a whole response.
  static constexpr std::array<uint64_t, kBuckets> kBoundsUs = {
      1000,    2500,    5000,    10000,   25000,    50000,    100000,  250000,
      500000,  1000000, 2500000, 5000000, 10000000, 30000000, 60000000};

  void observe_us(uint64_t us);
  uint64_t count() const { return count_; }
  uint64_t sum_us() const { return sum_us_; }
  // Observations <= kBoundsUs[i] (i < kBuckets), or all of them (i == kBuckets).
  uint64_t cumulative(size_t i) const;
  // Adds other's observations (another loop's histogram).
  void add(const Histogram& other);

 private:
  std::array<uint64_t, kBuckets + 1> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_us_ = 0;
};

// RFC 9110's methods (section 9); any other method counts as OTHER.
enum class MethodClass { kGet, kHead, kPost, kPut, kDelete, kConnect, kOptions, kTrace, kOther };
constexpr size_t kMethodClasses = 9;
MethodClass method_class(std::string_view method);
std::string_view method_label(MethodClass m);  // "GET" ... "OTHER"

// Why the front end answered 502, 503 or 504 itself (a label of
// wsgid_group_gateway_errors_total).
enum class GatewayCause {
  kGroupStopped,    // 503: wsgictl stop
  kGroupDown,       // 503: no live worker and none due back soon (BACKOFF, FATAL)
  kConnectFailed,   // 503: the group socket refused or connect-timeout passed
  kReplacing,       // 503: every worker was being replaced past connect-timeout
  kWorkerClosing,   // 503: the request could not be sent again after a closing notice
  kWorkerBusy,      // 503: the worker answered 503 itself (ERROR frame)
  kWorkerDied,      // 502: the worker died before the response head
  kBadResponse,     // 502: a malformed or out-of-order frame from the worker
  kWorkerKilled,    // 502: the worker answered 502 (request-timeout, deadlock-timeout)
  kQueueTimeout,    // 504: no worker took the request within queue-timeout
  kSocketTimeout,   // 504: no response head within socket-timeout
};
constexpr size_t kGatewayCauses = 11;
std::string_view gateway_cause_label(GatewayCause c);  // "group_stopped" ...
int gateway_cause_status(GatewayCause c);              // 502, 503 or 504

// Why a connection was refused with an error and closed (limits: 413, 414, 431
// and LimitRequestFields' 400 are counted by their status; timeouts: 408), or
// closed without an answer because its PROXY protocol header (RemoteIPProxyProtocol)
// was wrong or late.
enum class RefuseReason { kBadRequest, kLimit, kTimeout, kProxyHeader, kUwsgiPeer };
constexpr size_t kRefuseReasons = 5;
// "bad_request", "limit", "timeout", "proxy_header", "uwsgi_peer"
std::string_view refuse_reason_label(RefuseReason r);
// The reason a refusal with this status counts under: 408 timeout; 411, 413,
// 414, 431 limit; anything else bad_request.
RefuseReason refuse_reason(int status);

struct GroupCounters {
  std::array<uint64_t, 5> by_class{};  // 1xx .. 5xx
  std::array<uint64_t, kMethodClasses> by_method{};
  Histogram first_byte;  // request head read -> response head sent
  Histogram total;       // request head read -> response complete
  Histogram queue_wait;  // handed to the group -> a worker took it
  std::array<uint64_t, kGatewayCauses> gateway{};
  // Requests sent ahead on a busy worker connection (PROTOCOL.md 5.7), and
  // those of them withdrawn before the worker took them (sent elsewhere).
  uint64_t sent_ahead = 0;
  uint64_t withdrawn = 0;
  // Requests answered per worker pid (the worker's HELLO names it). Entries of
  // pids the master no longer lists are dropped by forget_pids().
  std::vector<std::pair<pid_t, uint64_t>> by_pid;

  void count_request(int status, MethodClass m);
  void count_pid(pid_t pid);
  uint64_t pid_requests(pid_t pid) const;
  void forget_pids(const std::vector<pid_t>& live);
  // Adds other's counts (another loop's counters of the same group).
  void add(const GroupCounters& other);
};

struct FrontCounters {
  uint64_t accepted = 0;
  std::array<uint64_t, kRefuseReasons> refused{};
  uint64_t bytes_in = 0;   // mod_logio's %I of every request
  uint64_t bytes_out = 0;  // mod_logio's %O of every request
  uint64_t requests = 0;   // every request answered, local ones included
  uint64_t duration_us = 0;  // their total time, head to last byte
  // Body bytes moved by splice(2), never through the front end's memory
  // (body_splice.h): responses (worker -> client), requests (client -> worker).
  uint64_t bytes_spliced_out = 0;
  uint64_t bytes_spliced_in = 0;
  // Request bodies whose client socket went to the worker (BODY_SOCKET,
  // HttpConn::hand_over_body), and the body bytes the workers read from it.
  uint64_t bodies_handed_over = 0;
  uint64_t bytes_handed_over = 0;
  // Response bodies the worker wrote to the client's socket itself
  // (RESPONSE_SOCKET, HttpConn::send_socket), and their bytes.
  uint64_t responses_handed_over = 0;
  uint64_t response_bytes_handed_over = 0;

  void add(const FrontCounters& other);
};

class Metrics {
 public:
  // The counters of the group named name ("" = the embedded pool): created on
  // first use, the same object for the life of the process.
  GroupCounters* group(std::string_view name);
  // Every group's counters, by name (the embedded pool's under "").
  const std::map<std::string, std::unique_ptr<GroupCounters>, std::less<>>& groups() const {
    return groups_;
  }
  FrontCounters& front() { return front_; }
  const FrontCounters& front() const { return front_; }

 private:
  std::map<std::string, std::unique_ptr<GroupCounters>, std::less<>> groups_;
  FrontCounters front_;
};

}  // namespace wsgid::frontend
