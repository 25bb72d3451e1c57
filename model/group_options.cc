// The option table of a GroupSpec; see group_options.h. A row is a key, a
// member pointer, how the config writes the value (which also gives the JSON
// spelling of the two options whose JSON is not the plain value: a list's
// separator, the octal umask), what a valid value looks like, and why wsgid
// does not act on it, for the few it keeps without effect.
#include "model/group_options.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "common/numbers.h"
#include "common/strings.h"

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

// How an option's value is written in the config (WSGIDaemonProcess key=VALUE).
enum class Text : uint8_t {
  kInt,      // a decimal integer in [min, max]
  kBufSize,  // 0 (the OS default) or a decimal integer in [min, max]
  kSeconds,  // a whole number of seconds in [0, kMaxSeconds], kept as a double
  kMillis,   // a whole number of milliseconds, kept as seconds (a double)
  kNumber,   // a decimal number in (0, max], kept as a double
  kString,   // any non-empty text
  kList,     // items between separators; empty items are an error for ',', skipped for ':'
  kOctal,    // an octal mode such as 022 (umask)
  kOnOff,    // On or Off, any case
};

struct Row {
  const char* key;       // as mod_wsgi spells the option, case-sensitive
  Member member;         // where the value lives in a GroupSpec
  Text text;             // how the config writes it (and, for kList/kOctal, the JSON too)
  const char* expected;  // what a valid value looks like, after "expected "
  int64_t min = 0, max = 0;
  char separator = 0;              // kList
  const char* no_effect = nullptr;  // why wsgid keeps the option but does not act on it
};

constexpr char kSeconds[] = "a whole number of seconds >= 0";
constexpr char kText[] = "a non-empty value";
constexpr char kNoScriptOwner[] = "wsgid does not check who owns the script files";

// mod_wsgi's documentation order. A new WSGIDaemonProcess option is one row
// here, its GroupSpec member and its consumer.
const Row kRows[] = {
    // process model and identity
    {"processes", &GroupSpec::processes, Text::kInt, "an integer >= 1", 1, 100000},
    {"threads", &GroupSpec::threads, Text::kInt, "an integer from 0 to 65533", 0, 65533},
    {"display-name", &GroupSpec::display_name, Text::kString, kText},
    {"user", &GroupSpec::user, Text::kString, "a user name or #uid"},
    {"group", &GroupSpec::group, Text::kString, "a group name or #gid"},
    {"supplementary-groups", &GroupSpec::supplementary_groups, Text::kList,
     "a comma-separated list of group names", 0, 0, ','},
    {"umask", &GroupSpec::umask, Text::kOctal, "an octal number such as 022"},
    {"home", &GroupSpec::home, Text::kString, kText},
    {"lang", &GroupSpec::lang, Text::kString, kText},
    {"locale", &GroupSpec::locale, Text::kString, kText},
    {"chroot", &GroupSpec::chroot, Text::kString, kText, 0, 0, 0,
     "wsgid does not chroot its workers (run wsgid in a container for that)"},
    {"cpu-priority", &GroupSpec::cpu_priority, Text::kInt, "an integer from -20 to 20", -20, 20},
    {"stack-size", &GroupSpec::stack_size, Text::kInt, "a number of bytes > 0", 1, kMaxBytes},
    {"socket-user", &GroupSpec::socket_user, Text::kString, kText},
    {"script-user", &GroupSpec::script_user, Text::kString, kText, 0, 0, 0, kNoScriptOwner},
    {"script-group", &GroupSpec::script_group, Text::kString, kText, 0, 0, 0, kNoScriptOwner},
    // Python
    {"python-home", &GroupSpec::python_home, Text::kString, kText},
    {"python-path", &GroupSpec::python_path, Text::kList,
     "a colon-separated list of directories", 0, 0, ':'},
    {"python-eggs", &GroupSpec::python_eggs, Text::kString, kText},
    {"switch-interval", &GroupSpec::switch_interval, Text::kNumber,
     "a number of seconds > 0 such as 0.005", 0, 3600},
    // recycling and lifecycle
    {"maximum-requests", &GroupSpec::maximum_requests, Text::kInt, "an integer >= 0", 0,
     INT64_MAX},
    {"restart-interval", &GroupSpec::restart_interval, Text::kSeconds, kSeconds},
    {"inactivity-timeout", &GroupSpec::inactivity_timeout, Text::kSeconds, kSeconds},
    {"startup-timeout", &GroupSpec::startup_timeout, Text::kSeconds, kSeconds},
    {"graceful-timeout", &GroupSpec::graceful_timeout, Text::kSeconds, kSeconds},
    {"eviction-timeout", &GroupSpec::eviction_timeout, Text::kSeconds, kSeconds, 0, 0, 0,
     "a graceful restart always waits up to graceful-timeout"},
    {"shutdown-timeout", &GroupSpec::shutdown_timeout, Text::kSeconds, kSeconds},
    {"cpu-time-limit", &GroupSpec::cpu_time_limit, Text::kSeconds, kSeconds},
    {"memory-limit", &GroupSpec::memory_limit, Text::kInt, "a number of bytes >= 0", 0, kMaxBytes},
    {"virtual-memory-limit", &GroupSpec::virtual_memory_limit, Text::kInt,
     "a number of bytes >= 0", 0, kMaxBytes},
    // fail-safes
    {"request-timeout", &GroupSpec::request_timeout, Text::kSeconds, kSeconds},
    {"interrupt-timeout", &GroupSpec::interrupt_timeout, Text::kSeconds, kSeconds, 0, 0, 0,
     "past request-timeout the process is replaced without first interrupting the request's "
     "thread"},
    {"deadlock-timeout", &GroupSpec::deadlock_timeout, Text::kSeconds, kSeconds},
    // transport
    {"listen-backlog", &GroupSpec::listen_backlog, Text::kInt, "an integer from 1 to 65535", 1,
     65535},
    {"connect-timeout", &GroupSpec::connect_timeout, Text::kSeconds, kSeconds},
    {"socket-timeout", &GroupSpec::socket_timeout, Text::kSeconds, kSeconds},
    {"queue-timeout", &GroupSpec::queue_timeout, Text::kSeconds, kSeconds},
    {"response-socket-timeout", &GroupSpec::response_socket_timeout, Text::kSeconds, kSeconds, 0,
     0, 0,
     "socket-timeout bounds the wait for a response head; the front end's Timeout bounds "
     "writes to the client"},
    {"response-flush-delay", &GroupSpec::response_flush_delay, Text::kMillis,
     "a whole number of milliseconds >= 0", 0, 0, 0,
     "the worker sends each block as the application yields it"},
    // buffers
    {"send-buffer-size", &GroupSpec::send_buffer_size, Text::kBufSize,
     "0 (the OS default) or a number of bytes >= 512", 512, kMaxBytes},
    {"receive-buffer-size", &GroupSpec::receive_buffer_size, Text::kBufSize,
     "0 (the OS default) or a number of bytes >= 512", 512, kMaxBytes},
    {"header-buffer-size", &GroupSpec::header_buffer_size, Text::kInt,
     "a number of bytes >= 8192", 8192, kMaxBytes, 0,
     "response headers are not copied into a fixed buffer"},
    {"response-buffer-size", &GroupSpec::response_buffer_size, Text::kInt,
     "a number of bytes >= 65536", 65536, kMaxBytes, 0,
     "the front end applies backpressure to the worker instead of buffering a response"},
    // observability
    {"server-metrics", &GroupSpec::server_metrics, Text::kOnOff, "On or Off", 0, 0, 0,
     "wsgid has no mod_wsgi.server_metrics(); `wsgictl status` shows each process's requests, "
     "busy threads and RSS"},
};

const Row* find_row(std::string_view key) {
  for (const Row& row : kRows)
    if (key == row.key) return &row;
  return nullptr;
}

template <class T>
struct Unwrap {
  using type = T;
};
template <class T>
struct Unwrap<std::optional<T>> {
  using type = T;
};

json to_json(const Row& row, const int& v) {
  if (row.text != Text::kOctal) return v;
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
  if (row.text == Text::kOctal) {
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
  if (v.is_string() && row.text == Text::kList) {
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

// The text of a value as the config writes it, parsed by the row's form:
// int64_t, double, bool, std::string or Strings; monostate when invalid.
using TextValue = std::variant<std::monostate, int64_t, double, bool, std::string, Strings>;

TextValue parse_text(const Row& row, const std::string& v) {
  int64_t n = 0;
  double d = 0;
  switch (row.text) {
    case Text::kInt:
      if (!parse_int(v, &n) || n < row.min || n > row.max) return {};
      return n;
    case Text::kBufSize:
      if (!parse_int(v, &n) || n < 0 || n > row.max || (n != 0 && n < row.min)) return {};
      return n;
    case Text::kSeconds:
      if (!parse_int(v, &n) || n < 0 || n > kMaxSeconds) return {};
      return static_cast<double>(n);
    case Text::kMillis:
      if (!parse_int(v, &n) || n < 0 || n > kMaxSeconds) return {};
      return static_cast<double>(n) / 1000.0;
    case Text::kNumber:
      if (!parse_float(v, &d) || d <= 0 || d > static_cast<double>(row.max)) return {};
      return d;
    case Text::kString:
      if (v.empty()) return {};
      return v;
    case Text::kList: {
      Strings items;
      size_t start = 0;
      while (start <= v.size()) {
        size_t end = v.find(row.separator, start);
        if (end == std::string::npos) end = v.size();
        if (end > start)
          items.push_back(v.substr(start, end - start));
        else if (row.separator == ',')
          return {};
        start = end + 1;
      }
      return items;
    }
    case Text::kOctal:
      if (v.empty() || v.size() > 4 || v.find_first_not_of("01234567") != std::string::npos)
        return {};
      return static_cast<int64_t>(std::strtol(v.c_str(), nullptr, 8));
    case Text::kOnOff:
      if (iequals(v, "on")) return true;
      if (iequals(v, "off")) return false;
      return {};
  }
  return {};
}

// Stores a parsed value in the row's member; false when the value's type does
// not fit the member (a table row whose form and member disagree: the option
// table test tries every row).
bool store(const Row& row, const TextValue& value, GroupSpec* g) {
  return std::visit(
      [&](auto member) {
        auto& field = g->*member;
        using T = typename Unwrap<std::decay_t<decltype(field)>>::type;
        return std::visit(
            [&](const auto& v) {
              using V = std::decay_t<decltype(v)>;
              if constexpr ((std::is_same_v<V, int64_t> && std::is_integral_v<T> &&
                             !std::is_same_v<T, bool>) ||
                            (std::is_same_v<V, double> && std::is_same_v<T, double>) ||
                            (std::is_same_v<V, bool> && std::is_same_v<T, bool>) ||
                            (std::is_same_v<V, std::string> && std::is_same_v<T, std::string>) ||
                            (std::is_same_v<V, Strings> && std::is_same_v<T, Strings>)) {
                field = static_cast<T>(v);
                return true;
              } else {
                return false;
              }
            },
            value);
      },
      row.member);
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

namespace wsgid::model {

const char* group_option_expected(std::string_view key) {
  const Row* row = find_row(key);
  return row ? row->expected : nullptr;
}

const char* group_option_no_effect(std::string_view key) {
  const Row* row = find_row(key);
  return row ? row->no_effect : nullptr;
}

std::vector<std::string_view> group_option_names() {
  std::vector<std::string_view> names;
  for (const Row& row : kRows) names.push_back(row.key);
  return names;
}

bool set_group_option(std::string_view key, const std::string& value, GroupSpec* group) {
  const Row* row = find_row(key);
  if (!row) return false;
  TextValue parsed = parse_text(*row, value);
  if (std::holds_alternative<std::monostate>(parsed)) return false;
  return store(*row, parsed, group);
}

}  // namespace wsgid::model
