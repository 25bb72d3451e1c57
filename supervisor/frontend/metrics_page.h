// The Prometheus page (SetHandler wsgid-metrics, issue 14): a Snapshot
// (snapshot.h) in the text exposition format 0.0.4 (prom_text.h). Every
// metric, its type, labels and meaning are listed in docs/metrics.md; a
// family is written even when it has no sample yet where a zero is
// meaningful (every status class, method and cause of a group), so that
// rate() and absent() behave from the first scrape. Pure; any thread.
#pragma once

#include <string>

#include "supervisor/frontend/snapshot.h"

namespace wsgid::frontend {

// The Content-Type of the page.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_metrics(const Snapshot& s);

}  // namespace wsgid::frontend
