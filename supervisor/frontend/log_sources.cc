#include "supervisor/frontend/log_sources.h"

#include "common/strings.h"

namespace wsgid::frontend {

namespace {

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}

}  // namespace

std::optional<std::string_view> RequestLogSources::header_in(std::string_view name) const {
  std::string_view last;
  if (request_.count(name, &last) == 0) return std::nullopt;
  return request_.get(name);
}

std::optional<std::string_view> RequestLogSources::header_out(std::string_view name) const {
  bool join = iequals(name, "Set-Cookie");
  std::optional<std::string_view> found;
  std::string_view head = response_head_;
  size_t eol = head.find('\n');  // skip the status line
  while (eol != std::string_view::npos) {
    size_t start = eol + 1;
    eol = head.find('\n', start);
    std::string_view line = head.substr(start, eol == std::string_view::npos ? head.npos : eol - start);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !iequals(line.substr(0, colon), name)) continue;
    std::string_view value = trim(line.substr(colon + 1));
    if (!join) {
      if (iequals(name, "Content-Type")) value = trim(value.substr(0, value.find(';')));
      return value;
    }
    if (!found) {
      scratch_.assign(value);
    } else {
      scratch_.append(", ").append(value);
    }
    found = scratch_;
  }
  if (found) return std::string_view(scratch_);
  return std::nullopt;
}

bool RequestLogSources::own_variable(std::string_view name) {
  return name == "mod_wsgi.process_group" || name == "mod_wsgi.application_group" ||
         name == "mod_wsgi.request_id" || name == "wsgid.error" || name == "wsgid.worker_pid";
}

std::optional<std::string_view> RequestLogSources::env(std::string_view name) const {
  auto set = [](std::string_view v) -> std::optional<std::string_view> {
    if (v.empty()) return std::nullopt;
    return v;
  };
  if (name == "mod_wsgi.process_group") return set(group);
  if (name == "mod_wsgi.application_group") return set(application_group);
  if (name == "mod_wsgi.request_id") return set(request_id);
  if (name == "wsgid.error") return set(error);
  if (name == "wsgid.worker_pid") {
    if (worker_pid <= 0) return std::nullopt;
    scratch_ = std::to_string(worker_pid);
    return std::string_view(scratch_);
  }
  if (environ)
    for (const auto& [k, v] : *environ)
      if (k == name) return std::string_view(v);
  return std::nullopt;
}

std::optional<std::string_view> RequestLogSources::note(std::string_view name) const {
  if (name == "error-notes" && !error.empty()) return error;
  return std::nullopt;
}

}  // namespace wsgid::frontend
