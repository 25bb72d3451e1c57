#include "supervisor/frontend/prom_text.h"

#include <fmt/format.h>

#include <cmath>

#include "common/log.h"

namespace wsgid::frontend {

namespace {

bool name_char(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view n, bool colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i)
    if (!name_char(n[i], i == 0, colon)) return false;
  return true;
}

void append_number(std::string* out, double v) {
  if (std::isnan(v)) out->append("NaN");
  else if (std::isinf(v)) out->append(v > 0 ? "+Inf" : "-Inf");
  else fmt::format_to(std::back_inserter(*out), "{}", v);
}

}  // namespace

bool valid_metric_name(std::string_view name) { return valid_name(name, true); }
bool valid_label_name(std::string_view name) { return valid_name(name, false) && name.substr(0, 2) != "__"; }

void append_label_value(std::string* out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '"': out->append("\\\""); break;
      case '\n': out->append("\\n"); break;
      default: out->push_back(c);
    }
  }
}

void PromText::family(std::string_view name, std::string_view type, std::string_view help) {
  if (!valid_metric_name(name)) log::bug(fmt::format("PromText: bad metric name '{}'", name), __FILE__, __LINE__);
  out_->append("# HELP ").append(name).push_back(' ');
  for (char c : help) {
    if (c == '\\') out_->append("\\\\");
    else if (c == '\n') out_->append("\\n");
    else out_->push_back(c);
  }
  out_->append("\n# TYPE ").append(name).push_back(' ');
  out_->append(type).push_back('\n');
}

void PromText::begin(std::string_view name, std::string_view suffix, PromLabels labels,
                     std::string_view le) {
  out_->append(name).append(suffix);
  if (labels.size() == 0 && le.empty()) {
    out_->push_back(' ');
    return;
  }
  out_->push_back('{');
  bool first = true;
  for (const PromLabel& l : labels) {
    if (!valid_label_name(l.first)) log::bug(fmt::format("PromText: bad label name '{}'", l.first), __FILE__, __LINE__);
    if (!first) out_->push_back(',');
    first = false;
    out_->append(l.first).append("=\"");
    append_label_value(out_, l.second);
    out_->push_back('"');
  }
  if (!le.empty()) {
    if (!first) out_->push_back(',');
    out_->append("le=\"").append(le).push_back('"');
  }
  out_->append("} ");
}

void PromText::sample(std::string_view name, PromLabels labels, uint64_t value) {
  begin(name, {}, labels);
  fmt::format_to(std::back_inserter(*out_), "{}\n", value);
}

void PromText::sample(std::string_view name, PromLabels labels, int64_t value) {
  begin(name, {}, labels);
  fmt::format_to(std::back_inserter(*out_), "{}\n", value);
}

void PromText::sample(std::string_view name, PromLabels labels, double value) {
  begin(name, {}, labels);
  append_number(out_, value);
  out_->push_back('\n');
}

void PromText::histogram(std::string_view name, PromLabels labels, const Histogram& h) {
  char le[32];
  for (size_t i = 0; i < Histogram::kBuckets; ++i) {
    auto r = fmt::format_to_n(le, sizeof le - 1, "{}", static_cast<double>(Histogram::kBoundsUs[i]) / 1e6);
    begin(name, "_bucket", labels, std::string_view(le, r.size));
    fmt::format_to(std::back_inserter(*out_), "{}\n", h.cumulative(i));
  }
  begin(name, "_bucket", labels, "+Inf");
  fmt::format_to(std::back_inserter(*out_), "{}\n", h.count());
  begin(name, "_sum", labels);
  append_number(out_, static_cast<double>(h.sum_us()) / 1e6);
  out_->push_back('\n');
  begin(name, "_count", labels);
  fmt::format_to(std::back_inserter(*out_), "{}\n", h.count());
}

}  // namespace wsgid::frontend
