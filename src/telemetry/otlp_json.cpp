// OTLP JSON mapping (specification "JSON Protobuf Encoding"): ids as lowercase hex,
// enums as integers, (u)int64 / fixed64 as decimal strings, lowerCamelCase keys.
#include "telemetry/otlp_encode.hpp"

#include <boost/json.hpp>

#include <cmath>

namespace tomodachi::telemetry {
namespace json = boost::json;
namespace {

json::value number(double d) {
  // proto3 JSON: NaN / Infinity as strings.
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return d;
}

json::object any_value(const AttributeValue& value) {
  json::object out;
  std::visit(
      [&out](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) {
          out["stringValue"] = v;
        } else if constexpr (std::is_same_v<V, bool>) {
          out["boolValue"] = v;
        } else if constexpr (std::is_same_v<V, std::int64_t>) {
          out["intValue"] = std::to_string(v);
        } else if constexpr (std::is_same_v<V, double>) {
          out["doubleValue"] = number(v);
        } else {
          json::array values;
          for (const auto& s : v) values.push_back(json::object{{"stringValue", s}});
          out["arrayValue"] = json::object{{"values", std::move(values)}};
        }
      },
      value);
  return out;
}

json::array attributes(const Attributes& attrs) {
  json::array out;
  for (const auto& [key, value] : attrs)
    out.push_back(json::object{{"key", key}, {"value", any_value(value)}});
  return out;
}

json::array attributes(const KeyValues& attrs) {
  json::array out;
  for (const auto& [key, value] : attrs) {
    out.push_back(json::object{{"key", key}, {"value", json::object{{"stringValue", value}}}});
  }
  return out;
}

json::object scope_of(const ScopeInfo& scope) {
  return {{"name", scope.name}, {"version", scope.version}};
}
std::string u64(std::uint64_t n) { return std::to_string(n); }

template <typename Items, typename Fn>
std::string request(const char* resource_key, const char* scope_key, const char* items_key,
                    const KeyValues& resource, const ScopeInfo& scope, const Items& items,
                    Fn&& item) {
  json::array list;
  for (const auto& i : items) list.push_back(item(i));
  json::object scoped{{"scope", scope_of(scope)}, {items_key, std::move(list)}};
  json::object top{{"resource", json::object{{"attributes", attributes(resource)}}},
                   {scope_key, json::array{std::move(scoped)}}};
  return json::serialize(json::object{{resource_key, json::array{std::move(top)}}});
}

json::object number_point(const MetricPoint& point) {
  json::object p{{"attributes", attributes(point.attributes)},
                 {"startTimeUnixNano", u64(point.start_time_unix_nano)},
                 {"timeUnixNano", u64(point.time_unix_nano)}};
  if (const auto* d = std::get_if<double>(&point.value)) {
    p["asDouble"] = number(*d);
  } else if (const auto* i = std::get_if<std::int64_t>(&point.value)) {
    p["asInt"] = std::to_string(*i);
  }
  return p;
}

json::object metric_json(const MetricData& metric) {
  json::object m{{"name", metric.name}, {"description", metric.description}, {"unit", metric.unit}};
  json::array points;
  if (metric.type == MetricData::Type::histogram) {
    for (const auto& point : metric.points) {
      const auto* hp = std::get_if<HistogramPoint>(&point.value);
      if (hp == nullptr) continue;
      json::array counts, bounds;
      for (auto c : hp->bucket_counts) counts.push_back(json::value(u64(c)));
      for (auto b : hp->explicit_bounds) bounds.push_back(number(b));
      json::object p{{"attributes", attributes(point.attributes)},
                     {"startTimeUnixNano", u64(point.start_time_unix_nano)},
                     {"timeUnixNano", u64(point.time_unix_nano)},
                     {"count", u64(hp->count)},
                     {"sum", number(hp->sum)},
                     {"bucketCounts", std::move(counts)},
                     {"explicitBounds", std::move(bounds)}};
      if (hp->min) p["min"] = number(*hp->min);
      if (hp->max) p["max"] = number(*hp->max);
      points.push_back(std::move(p));
    }
    m["histogram"] = json::object{{"dataPoints", std::move(points)}, {"aggregationTemporality", 2}};
  } else {
    for (const auto& point : metric.points) points.push_back(number_point(point));
    if (metric.type == MetricData::Type::gauge) {
      m["gauge"] = json::object{{"dataPoints", std::move(points)}};
    } else {
      m["sum"] = json::object{{"dataPoints", std::move(points)},
                              {"aggregationTemporality", 2},
                              {"isMonotonic", metric.monotonic}};
    }
  }
  return m;
}

}  // namespace

std::string encode_traces_json(const KeyValues& resource, const ScopeInfo& scope,
                               const std::vector<SpanData>& spans) {
  return request(
      "resourceSpans", "scopeSpans", "spans", resource, scope, spans, [](const SpanData& span) {
        json::object s{{"traceId", to_hex(span.trace_id)},
                       {"spanId", to_hex(span.span_id)},
                       {"flags", span.trace_flags | 0x100u | (span.parent_remote ? 0x200u : 0u)},
                       {"name", span.name},
                       {"kind", static_cast<int>(span.kind)},
                       {"startTimeUnixNano", u64(span.start_time_unix_nano)},
                       {"endTimeUnixNano", u64(span.end_time_unix_nano)},
                       {"attributes", attributes(span.attributes)}};
        if (!span.trace_state.empty()) s["traceState"] = span.trace_state;
        if (span.has_parent()) s["parentSpanId"] = to_hex(span.parent_span_id);
        json::array events;
        for (const auto& e : span.events) {
          events.push_back(json::object{{"timeUnixNano", u64(e.time_unix_nano)},
                                        {"name", e.name},
                                        {"attributes", attributes(e.attributes)}});
        }
        if (!events.empty()) s["events"] = std::move(events);
        json::object status{{"code", static_cast<int>(span.status)}};
        if (!span.status_message.empty()) status["message"] = span.status_message;
        s["status"] = std::move(status);
        return s;
      });
}

std::string encode_logs_json(const KeyValues& resource, const ScopeInfo& scope,
                             const std::vector<LogData>& logs) {
  return request("resourceLogs", "scopeLogs", "logRecords", resource, scope, logs,
                 [](const LogData& log) {
                   json::object r{{"timeUnixNano", u64(log.time_unix_nano)},
                                  {"observedTimeUnixNano", u64(log.observed_time_unix_nano)},
                                  {"severityNumber", log.severity_number},
                                  {"severityText", log.severity_text},
                                  {"body", json::object{{"stringValue", log.body}}},
                                  {"attributes", attributes(log.attributes)}};
                   if (!is_zero(log.trace_id)) {
                     r["traceId"] = to_hex(log.trace_id);
                     r["spanId"] = to_hex(log.span_id);
                     r["flags"] = log.trace_flags;
                   }
                   return r;
                 });
}

std::string encode_metrics_json(const KeyValues& resource, const ScopeInfo& scope,
                                const std::vector<MetricData>& metrics) {
  return request("resourceMetrics", "scopeMetrics", "metrics", resource, scope, metrics,
                 metric_json);
}

// Protobuf bodies (otlp_protobuf.cpp, compiled with hidden visibility).
std::string encode_traces_pb(const KeyValues&, const ScopeInfo&, const std::vector<SpanData>&);
std::string encode_logs_pb(const KeyValues&, const ScopeInfo&, const std::vector<LogData>&);
std::string encode_metrics_pb(const KeyValues&, const ScopeInfo&, const std::vector<MetricData>&);

std::string encode_traces(const KeyValues& resource, const ScopeInfo& scope,
                          const std::vector<SpanData>& spans, Protocol protocol) {
  return protocol == Protocol::http_json ? encode_traces_json(resource, scope, spans)
                                         : encode_traces_pb(resource, scope, spans);
}
std::string encode_logs(const KeyValues& resource, const ScopeInfo& scope,
                        const std::vector<LogData>& logs, Protocol protocol) {
  return protocol == Protocol::http_json ? encode_logs_json(resource, scope, logs)
                                         : encode_logs_pb(resource, scope, logs);
}
std::string encode_metrics(const KeyValues& resource, const ScopeInfo& scope,
                           const std::vector<MetricData>& metrics, Protocol protocol) {
  return protocol == Protocol::http_json ? encode_metrics_json(resource, scope, metrics)
                                         : encode_metrics_pb(resource, scope, metrics);
}

}  // namespace tomodachi::telemetry
