// The option table of a GroupSpec; see group_options.h. A row is a key, a
// member pointer and, for the few options whose JSON is not the plain value, a
// spelling (a list separator, the octal umask).
#include "model/group_options.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace wsgid::model {

using nlohmann::json;

namespace {

using Strings = std::vector<std::string>;

using Member = std::variant<int GroupSpec::*, int64_t GroupSpec::*, double GroupSpec::*,
                            bool GroupSpec::*, Strings GroupSpec::*,
                            std::optional<std::string> GroupSpec::*,
                            std::optional<int> GroupSpec::*,
                            std::optional<int64_t> GroupSpec::*,
                            std::optional<double> GroupSpec::*,
                            std::optional<Strings> GroupSpec::*>;

struct Row {
  const char* key;  // as mod_wsgi spells the option
  Member member;
  char separator = 0;  // lists: the separator of the option's text form
  bool octal = false;  // umask: an octal string such as "0027"
};

// In daemon_options.cc's order (mod_wsgi's documentation order).
const Row kRows[] = {
    {"processes", &GroupSpec::processes},
    {"threads", &GroupSpec::threads},
    {"display-name", &GroupSpec::display_name},
    {"user", &GroupSpec::user},
    {"group", &GroupSpec::group},
    {"supplementary-groups", &GroupSpec::supplementary_groups, ','},
    {"umask", &GroupSpec::umask, 0, true},
    {"home", &GroupSpec::home},
    {"lang", &GroupSpec::lang},
    {"locale", &GroupSpec::locale},
    {"chroot", &GroupSpec::chroot},
    {"cpu-priority", &GroupSpec::cpu_priority},
    {"stack-size", &GroupSpec::stack_size},
    {"socket-user", &GroupSpec::socket_user},
    {"script-user", &GroupSpec::script_user},
    {"script-group", &GroupSpec::script_group},
    {"python-home", &GroupSpec::python_home},
    {"python-path", &GroupSpec::python_path, ':'},
    {"python-eggs", &GroupSpec::python_eggs},
    {"switch-interval", &GroupSpec::switch_interval},
    {"maximum-requests", &GroupSpec::maximum_requests},
    {"restart-interval", &GroupSpec::restart_interval},
    {"inactivity-timeout", &GroupSpec::inactivity_timeout},
    {"startup-timeout", &GroupSpec::startup_timeout},
    {"startup-retries", &GroupSpec::startup_retries},
    {"graceful-timeout", &GroupSpec::graceful_timeout},
    {"eviction-timeout", &GroupSpec::eviction_timeout},
    {"shutdown-timeout", &GroupSpec::shutdown_timeout},
    {"cpu-time-limit", &GroupSpec::cpu_time_limit},
    {"memory-limit", &GroupSpec::memory_limit},
    {"virtual-memory-limit", &GroupSpec::virtual_memory_limit},
    {"request-timeout", &GroupSpec::request_timeout},
    {"interrupt-timeout", &GroupSpec::interrupt_timeout},
    {"deadlock-timeout", &GroupSpec::deadlock_timeout},
    {"listen-backlog", &GroupSpec::listen_backlog},
    {"connect-timeout", &GroupSpec::connect_timeout},
    {"socket-timeout", &GroupSpec::socket_timeout},
    {"queue-timeout", &GroupSpec::queue_timeout},
    {"response-socket-timeout", &GroupSpec::response_socket_timeout},
    {"response-flush-delay", &GroupSpec::response_flush_delay},
    {"send-buffer-size", &GroupSpec::send_buffer_size},
    {"receive-buffer-size", &GroupSpec::receive_buffer_size},
    {"header-buffer-size", &GroupSpec::header_buffer_size},
    {"response-buffer-size", &GroupSpec::response_buffer_size},
    {"server-metrics", &GroupSpec::server_metrics},
};

template <class T>
struct Unwrap {
  using type = T;
};
template <class T>
struct Unwrap<std::optional<T>> {
  using type = T;
};

json to_json(const Row& row, const int& v) {
  if (!row.octal) return v;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(v));
  return buf;
}
template <class T>
json to_json(const Row&, const T& v) {
  return v;
}

// Reads one present, non-null value; returns what it should be on a mismatch.
const char* from_json(const Row& row, const json& v, int* out) {
  if (row.octal) {
    long mode = 0;
    if (v.is_number_integer()) {
      mode = v.get<long>();
    } else if (v.is_string()) {
      const std::string s = v.get<std::string>();
      char* end = nullptr;
      mode = std::strtol(s.c_str(), &end, 8);
      if (s.empty() || *end != '\0') return "an octal mode";
    } else {
      return "an integer or an octal string";
    }
    if (mode < 0 || mode > 0777) return "an octal mode";
    *out = static_cast<int>(mode);
    return nullptr;
  }
  if (!v.is_number_integer()) return "an integer";
  *out = static_cast<int>(v.get<int64_t>());
  return nullptr;
}
const char* from_json(const Row&, const json& v, int64_t* out) {
  if (!v.is_number_integer()) return "an integer";
  *out = v.get<int64_t>();
  return nullptr;
}
const char* from_json(const Row&, const json& v, double* out) {
  if (!v.is_number()) return "a number";
  double d = v.get<double>();
  if (!std::isfinite(d) || d < 0) return "a number >= 0";
  *out = d;
  return nullptr;
}
const char* from_json(const Row&, const json& v, bool* out) {
  if (!v.is_boolean()) return "true or false";
  *out = v.get<bool>();
  return nullptr;
}
const char* from_json(const Row&, const json& v, std::string* out) {
  if (!v.is_string()) return "a string";
  *out = v.get<std::string>();
  return nullptr;
}
const char* from_json(const Row& row, const json& v, Strings* out) {
  Strings items;
  if (v.is_string() && row.separator) {
    const std::string s = v.get<std::string>();
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(row.separator, start);
      if (end == std::string::npos) end = s.size();
      if (end > start) items.push_back(s.substr(start, end - start));
      start = end + 1;
    }
  } else if (v.is_array()) {
    for (const json& e : v) {
      if (!e.is_string()) return "a list of strings";
      items.push_back(e.get<std::string>());
    }
  } else {
    return "a list of strings";
  }
  *out = std::move(items);
  return nullptr;
}

}  // namespace

void write_group_options(const GroupSpec& g, json* j) {
  for (const Row& row : kRows) {
    std::visit(
        [&](auto member) {
          const auto& field = g.*member;
          using T = std::decay_t<decltype(field)>;
          if constexpr (std::is_same_v<T, typename Unwrap<T>::type>) {
            (*j)[row.key] = to_json(row, field);
          } else {
            (*j)[row.key] = field ? to_json(row, *field) : json(nullptr);
          }
        },
        row.member);
  }
}

std::optional<OptionError> read_group_options(const json& j, GroupSpec* g) {
  for (const Row& row : kRows) {
    auto it = j.find(row.key);
    if (it == j.end() || it->is_null()) continue;
    const char* problem = std::visit(
        [&](auto member) -> const char* {
          auto& field = g->*member;
          using T = std::decay_t<decltype(field)>;
          typename Unwrap<T>::type value{};
          if (const char* p = from_json(row, *it, &value)) return p;
          field = std::move(value);
          return nullptr;
        },
        row.member);
    if (problem) return OptionError{row.key, problem};
  }
  return std::nullopt;
}

bool same_group_options(const GroupSpec& a, const GroupSpec& b) {
  if (a.name != b.name || a.processes_given != b.processes_given) return false;
  for (const Row& row : kRows) {
    bool same = std::visit([&](auto member) { return a.*member == b.*member; }, row.member);
    if (!same) return false;
  }
  return true;
}

}  // namespace wsgid::model
