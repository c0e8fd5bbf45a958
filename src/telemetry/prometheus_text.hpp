#pragma once
// Prometheus exposition of a metrics snapshot, with the series names and labels upstream's
// `tomodachi_prometheus` meter provider produces (its unit transform, then
// opentelemetry-exporter-prometheus 1.27's translation, then prometheus_client 0.21's
// naming and exposition): text format 0.0.4 and OpenMetrics 1.0.0 with exemplars. See
// docs/observability.md.

#include "telemetry/otlp_encode.hpp"

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace tomodachi::telemetry {

struct PrometheusOptions {
  std::string namespace_prefix;  ///< OTEL_PYTHON_TOMODACHI_PROMETHEUS_NAMESPACE_PREFIX
  bool include_scope_info = true;
  bool include_target_info = true;
};

using PromLabels = std::vector<std::pair<std::string, std::string>>;

struct PromSample {
  std::string name;  ///< e.g. http_server_duration_seconds_bucket
  PromLabels labels;
  double value = 0;
  std::optional<Exemplar> exemplar;
};

/// A metric family as prometheus_client models it: `name` is the OpenMetrics family name
/// (no `_total` for counters, no `_info` for info metrics).
struct PromFamily {
  std::string name;
  std::string help;
  std::string type;  ///< counter, gauge, histogram, info
  std::string unit;
  std::vector<PromSample> samples;
};

/// The series base name of an OTel metric (`http.server.duration`, `s` ->
/// `http_server_duration_seconds`), without `_bucket`/`_total` suffixes.
std::string prometheus_name(const std::string& name, const std::string& unit,
                            const std::string& prefix = {});

/// The families a scrape returns, in upstream's order: target_info, otel_scope_info, then
/// one family per metric. Histogram bucket samples carry the points' exemplars.
std::vector<PromFamily> prometheus_families(const std::vector<MetricData>& metrics,
                                            const KeyValues& resource, const ScopeInfo& scope,
                                            const PrometheusOptions& options = {});

/// prometheus_client's `?name[]=` filter (RestrictedRegistry): only samples so named.
std::vector<PromFamily> restrict_families(std::vector<PromFamily> families,
                                          const std::set<std::string>& names);

/// Text format 0.0.4 (`text/plain; version=0.0.4`), labels sorted, no exemplars.
std::string render_text(const std::vector<PromFamily>& families);
/// OpenMetrics 1.0.0 (`application/openmetrics-text; version=1.0.0`), with exemplars.
std::string render_openmetrics(const std::vector<PromFamily>& families);

/// render_text(prometheus_families(...)).
std::string prometheus_text(const std::vector<MetricData>& metrics, const KeyValues& resource,
                            const ScopeInfo& scope, const PrometheusOptions& options = {});

/// Python's floatToGoString (prometheus_client) for sample values.
std::string go_float(double value);
/// Python's repr(float): shortest round trip, exponent below 1e-4 and from 1e16.
std::string python_float(double value);

}  // namespace tomodachi::telemetry
