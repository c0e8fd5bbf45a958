#pragma once
// Prometheus text exposition (format 0.0.4) of a metrics snapshot, with the series names
// and labels upstream's `tomodachi_prometheus` meter provider produces (its unit
// transform, then opentelemetry-exporter-prometheus 1.27's translation, then
// prometheus_client's naming): see docs/observability.md.

#include "telemetry/otlp_encode.hpp"

#include <string>
#include <vector>

namespace tomodachi::telemetry {

struct PrometheusOptions {
  std::string namespace_prefix;  ///< OTEL_PYTHON_TOMODACHI_PROMETHEUS_NAMESPACE_PREFIX
  bool include_scope_info = true;
  bool include_target_info = true;
};

/// The series base name of an OTel metric (`http.server.duration`, `s` ->
/// `http_server_duration_seconds`), without `_bucket`/`_total` suffixes.
std::string prometheus_name(const std::string& name, const std::string& unit,
                            const std::string& prefix = {});

std::string prometheus_text(const std::vector<MetricData>& metrics, const KeyValues& resource,
                            const ScopeInfo& scope, const PrometheusOptions& options = {});

/// Python's floatToGoString (prometheus_client) for sample values.
std::string go_float(double value);

}  // namespace tomodachi::telemetry
