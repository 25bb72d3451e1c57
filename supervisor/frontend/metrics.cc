#include "supervisor/frontend/metrics.h"

#include <algorithm>

namespace wsgid::frontend {

void Histogram::observe_us(uint64_t us) {
  size_t i = static_cast<size_t>(
      std::lower_bound(kBoundsUs.begin(), kBoundsUs.end(), us) - kBoundsUs.begin());
  ++counts_[i];
  ++count_;
  sum_us_ += us;
}

uint64_t Histogram::cumulative(size_t i) const {
  uint64_t n = 0;
  for (size_t k = 0; k <= i && k <= kBuckets; ++k) n += counts_[k];
  return n;
}

void Histogram::add(const Histogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_us_ += other.sum_us_;
}

void GroupCounters::add(const GroupCounters& other) {
  for (size_t i = 0; i < by_class.size(); ++i) by_class[i] += other.by_class[i];
  for (size_t i = 0; i < by_method.size(); ++i) by_method[i] += other.by_method[i];
  first_byte.add(other.first_byte);
  total.add(other.total);
  queue_wait.add(other.queue_wait);
  for (size_t i = 0; i < gateway.size(); ++i) gateway[i] += other.gateway[i];
  sent_ahead += other.sent_ahead;
  withdrawn += other.withdrawn;
  for (const auto& [pid, n] : other.by_pid) {
    auto it = std::find_if(by_pid.begin(), by_pid.end(), [pid = pid](const auto& e) { return e.first == pid; });
    if (it != by_pid.end()) it->second += n;
    else by_pid.emplace_back(pid, n);
  }
}

void FrontCounters::add(const FrontCounters& other) {
  accepted += other.accepted;
  for (size_t i = 0; i < refused.size(); ++i) refused[i] += other.refused[i];
  bytes_in += other.bytes_in;
  bytes_out += other.bytes_out;
  requests += other.requests;
  duration_us += other.duration_us;
  bytes_spliced_out += other.bytes_spliced_out;
  bytes_spliced_in += other.bytes_spliced_in;
  bodies_handed_over += other.bodies_handed_over;
  bytes_handed_over += other.bytes_handed_over;
  responses_handed_over += other.responses_handed_over;
  response_bytes_handed_over += other.response_bytes_handed_over;
}

namespace {
constexpr std::array<std::string_view, kMethodClasses> kMethodLabels = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "OTHER"};
constexpr std::array<std::string_view, kGatewayCauses> kCauseLabels = {
    "group_stopped", "group_down",   "connect_failed", "replacing",     "worker_closing",
    "worker_busy",   "worker_died",  "bad_response",   "worker_killed", "queue_timeout",
    "socket_timeout"};
constexpr std::array<int, kGatewayCauses> kCauseStatus = {503, 503, 503, 503, 503, 503,
                                                          502, 502, 502, 504, 504};
constexpr std::array<std::string_view, kRefuseReasons> kRefuseLabels = {"bad_request", "limit",
                                                                        "timeout", "proxy_header",
                                                                        "uwsgi_peer"};
}  // namespace

MethodClass method_class(std::string_view method) {
  // Method names are case-sensitive (RFC 9110 9.1): "get" is not GET.
  for (size_t i = 0; i + 1 < kMethodClasses; ++i)
    if (kMethodLabels[i] == method) return static_cast<MethodClass>(i);
  return MethodClass::kOther;
}

std::string_view method_label(MethodClass m) { return kMethodLabels[static_cast<size_t>(m)]; }
std::string_view gateway_cause_label(GatewayCause c) { return kCauseLabels[static_cast<size_t>(c)]; }
int gateway_cause_status(GatewayCause c) { return kCauseStatus[static_cast<size_t>(c)]; }
std::string_view refuse_reason_label(RefuseReason r) { return kRefuseLabels[static_cast<size_t>(r)]; }

RefuseReason refuse_reason(int status) {
  switch (status) {
    case 408:
      return RefuseReason::kTimeout;
    case 411:
    case 413:
    case 414:
    case 431:
      return RefuseReason::kLimit;
    default:
      return RefuseReason::kBadRequest;
  }
}

void GroupCounters::count_request(int status, MethodClass m) {
  int c = status / 100 - 1;
  if (c >= 0 && c < 5) ++by_class[static_cast<size_t>(c)];
  ++by_method[static_cast<size_t>(m)];
}

void GroupCounters::count_pid(pid_t pid) {
  if (pid <= 0) return;
  for (auto& [p, n] : by_pid)
    if (p == pid) {
      ++n;
      return;
    }
  by_pid.emplace_back(pid, 1);  // once per worker process, not per request
}

uint64_t GroupCounters::pid_requests(pid_t pid) const {
  for (const auto& [p, n] : by_pid)
    if (p == pid) return n;
  return 0;
}

void GroupCounters::forget_pids(const std::vector<pid_t>& live) {
  std::erase_if(by_pid, [&](const std::pair<pid_t, uint64_t>& e) {
    return std::find(live.begin(), live.end(), e.first) == live.end();
  });
}

GroupCounters* Metrics::group(std::string_view name) {
  auto it = groups_.find(name);
  if (it != groups_.end()) return it->second.get();
  return groups_.emplace(std::string(name), std::make_unique<GroupCounters>()).first->second.get();
}

}  // namespace wsgid::frontend
