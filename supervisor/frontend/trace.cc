// TRACE; see trace.h.
#include "supervisor/frontend/trace.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/strings.h"

namespace wsgid::frontend {

TraceAnswer trace_answer(bool enabled, bool has_body, std::string_view request_line,
                         const RequestHeaders& headers) {
  TraceAnswer a;
  if (!enabled) {
    a.status = 405;
    a.why = "TRACE denied by server configuration";
    return a;
  }
  if (has_body) {
    a.status = 413;
    a.why = "TRACE with a request body is not allowed";
    return a;
  }
  std::vector<std::pair<std::string_view, std::string>> fields;
  for (size_t i = 0; i < headers.size(); ++i) {
    std::string_view name = headers.name(i);
    auto same = [&](const auto& f) { return iequals(f.first, name); };
    auto it = std::find_if(fields.begin(), fields.end(), same);
    if (it == fields.end()) {
      fields.emplace_back(name, std::string(headers.value(i)));
    } else {
      it->second.append(", ").append(headers.value(i));
    }
  }
  a.body.append(request_line).append("\r\n");
  for (const auto& [name, value] : fields) a.body.append(name).append(": ").append(value).append("\r\n");
  a.body.append("\r\n");
  return a;
}

}  // namespace wsgid::frontend
