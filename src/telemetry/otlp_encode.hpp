#pragma once
// OTLP request bodies: protobuf (our .proto subset, proto/otlp.proto) and the OTLP JSON
// mapping (hex ids, enums as integers, 64-bit integers as decimal strings, lowerCamelCase).

#include "telemetry/config.hpp"
#include "telemetry/span_data.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tomodachi::telemetry {

struct ScopeInfo {
  std::string name = "tomodachi";
  std::string version;
};

struct LogData {
  std::uint64_t time_unix_nano = 0;
  std::uint64_t observed_time_unix_nano = 0;
  int severity_number = 0;  ///< OTLP SeverityNumber (INFO = 9, WARN = 13, ERROR = 17, ...)
  std::string severity_text;
  std::string body;
  Attributes attributes;
  TraceId trace_id{};
  SpanId span_id{};
  std::uint8_t trace_flags = 0;
};

/// A measurement kept with the span current when it was recorded (Prometheus exemplars).
struct Exemplar {
  double value = 0;
  std::uint64_t time_unix_nano = 0;
  TraceId trace_id{};
  SpanId span_id{};
};

struct HistogramPoint {
  std::uint64_t count = 0;
  double sum = 0;
  std::vector<double> explicit_bounds;
  std::vector<std::uint64_t> bucket_counts;  ///< explicit_bounds.size() + 1 entries
  std::optional<double> min, max;
  /// One per bucket when collected for Prometheus with exemplars on (not sent over OTLP).
  std::vector<std::optional<Exemplar>> exemplars;
};

struct MetricPoint {
  Attributes attributes;
  std::uint64_t start_time_unix_nano = 0;
  std::uint64_t time_unix_nano = 0;
  std::variant<double, std::int64_t, HistogramPoint> value;
};

struct MetricData {
  enum class Type { gauge, sum, histogram };
  std::string name;
  std::string description;
  std::string unit;
  Type type = Type::sum;
  bool monotonic = false;           ///< sums only
  std::vector<MetricPoint> points;  ///< cumulative temporality for sums and histograms
};

std::string encode_traces(const KeyValues& resource, const ScopeInfo& scope,
                          const std::vector<SpanData>& spans, Protocol protocol);
std::string encode_logs(const KeyValues& resource, const ScopeInfo& scope,
                        const std::vector<LogData>& logs, Protocol protocol);
std::string encode_metrics(const KeyValues& resource, const ScopeInfo& scope,
                           const std::vector<MetricData>& metrics, Protocol protocol);

}  // namespace tomodachi::telemetry
