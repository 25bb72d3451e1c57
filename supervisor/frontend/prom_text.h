// PromText: writes Prometheus' text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), into a
// string: a family's "# HELP" and "# TYPE" lines, then its samples, each
// `name{label="value",...} value`. Label values are escaped as the format
// says (backslash, double quote and line feed as \\, \" and \n), HELP texts
// likewise (backslash and line feed). Names are the caller's: metric and label
// names must match [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*; a
// name that does not is a bug (log::bug). Pure; any thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "supervisor/frontend/metrics.h"

namespace wsgid::frontend {

using PromLabel = std::pair<std::string_view, std::string_view>;
using PromLabels = std::initializer_list<PromLabel>;

// Appends value escaped for a label value (without the quotes).
void append_label_value(std::string* out, std::string_view value);
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

class PromText {
 public:
  // *out must outlive the writer; text is appended.
  explicit PromText(std::string* out) : out_(out) {}

  // type: "counter", "gauge" or "histogram".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, PromLabels labels, uint64_t value);
  void sample(std::string_view name, PromLabels labels, int64_t value);
  void sample(std::string_view name, PromLabels labels, double value);
  // name_bucket{...,le="0.001"} ... name_bucket{...,le="+Inf"}, name_sum (in
  // seconds) and name_count, from h (microseconds).
  void histogram(std::string_view name, PromLabels labels, const Histogram& h);

 private:
  void begin(std::string_view name, std::string_view suffix, PromLabels labels,
             std::string_view le = {});

  std::string* out_;
};

}  // namespace wsgid::frontend
