// mod_headers' rules on the front end's header buffers; see header_edit.h.
#include "supervisor/frontend/header_edit.h"

#include <string_view>

#include "supervisor/frontend/request_headers.h"

namespace wsgid::frontend {
namespace {

bool framing(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
         iequals(name, "connection");
}

}  // namespace

void edit_response_head(std::string* out, size_t from, const rewrite::HeaderRules& rules,
                        rewrite::HeaderRules::Origin origin) {
  if (from > out->size()) return;
  std::string_view head(*out);
  head.remove_prefix(from);
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return;  // no status line: nothing of ours
  std::string status_line(head.substr(0, eol + 2));
  rewrite::HeaderList lines, kept;  // kept: the framing lines, as written
  size_t pos = eol + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    (framing(name) ? kept : lines).emplace_back(std::string(name), std::string(value));
  }
  rewrite::HeaderList edited = rules.apply_response(std::move(lines), origin);
  std::string rebuilt = std::move(status_line);
  auto put = [&](const std::string& n, const std::string& v) {
    rebuilt.append(n);
    rebuilt.append(": ");
    rebuilt.append(v);
    rebuilt.append("\r\n");
  };
  for (const auto& [n, v] : edited)
    if (!framing(n)) put(n, v);
  for (const auto& [n, v] : kept) put(n, v);
  out->resize(from);
  out->append(rebuilt);
}

rewrite::HeaderList header_list(const RequestHeaders& headers) {
  rewrite::HeaderList list;
  list.reserve(headers.size());
  for (size_t i = 0; i < headers.size(); ++i)
    list.emplace_back(std::string(headers.name(i)), std::string(headers.value(i)));
  return list;
}

RequestHeaders edit_request_headers(const RequestHeaders& headers,
                                    const rewrite::HeaderRules& rules, std::string* buffer,
                                    std::vector<HeaderSpan>* spans) {
  rewrite::HeaderList list = header_list(headers);
  rules.apply_request(&list);
  buffer->clear();
  spans->clear();
  for (const auto& [name, value] : list) {
    HeaderSpan s;
    s.name_off = static_cast<uint32_t>(buffer->size());
    s.name_len = static_cast<uint32_t>(name.size());
    buffer->append(name);
    s.value_off = static_cast<uint32_t>(buffer->size());
    s.value_len = static_cast<uint32_t>(value.size());
    buffer->append(value);
    spans->push_back(s);
  }
  return RequestHeaders(*buffer, spans->data(), spans->size());
}

}  // namespace wsgid::frontend
