// OTLP protobuf bodies through the generated lite classes of proto/otlp.proto.
#include "telemetry/otlp_encode.hpp"

#include "otlp.pb.h"

namespace tomodachi::telemetry {
namespace pb = tomodachi::otlp;

namespace {

void set_value(pb::AnyValue* out, const AttributeValue& value) {
  std::visit(
      [out](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) {
          out->set_string_value(v);
        } else if constexpr (std::is_same_v<V, bool>) {
          out->set_bool_value(v);
        } else if constexpr (std::is_same_v<V, std::int64_t>) {
          out->set_int_value(v);
        } else if constexpr (std::is_same_v<V, double>) {
          out->set_double_value(v);
        } else {
          auto* array = out->mutable_array_value();
          for (const auto& s : v) array->add_values()->set_string_value(s);
        }
      },
      value);
}

template <typename Repeated>
void add_attributes(Repeated* out, const Attributes& attributes) {
  for (const auto& [key, value] : attributes) {
    auto* kv = out->Add();
    kv->set_key(key);
    set_value(kv->mutable_value(), value);
  }
}

template <typename Repeated>
void add_attributes(Repeated* out, const KeyValues& attributes) {
  for (const auto& [key, value] : attributes) {
    auto* kv = out->Add();
    kv->set_key(key);
    kv->mutable_value()->set_string_value(value);
  }
}

void set_scope(pb::InstrumentationScope* out, const ScopeInfo& scope) {
  out->set_name(scope.name);
  out->set_version(scope.version);
}

template <std::size_t N>
std::string bytes(const std::array<std::uint8_t, N>& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), N);
}

}  // namespace

std::string encode_traces_pb(const KeyValues& resource, const ScopeInfo& scope,
                             const std::vector<SpanData>& spans) {
  pb::ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  add_attributes(rs->mutable_resource()->mutable_attributes(), resource);
  auto* ss = rs->add_scope_spans();
  set_scope(ss->mutable_scope(), scope);
  for (const auto& span : spans) {
    auto* s = ss->add_spans();
    s->set_trace_id(bytes(span.trace_id));
    s->set_span_id(bytes(span.span_id));
    if (!span.trace_state.empty()) s->set_trace_state(span.trace_state);
    if (span.has_parent()) s->set_parent_span_id(bytes(span.parent_span_id));
    // flags: W3C trace flags, plus "has is_remote" (0x100) and "is remote" (0x200).
    s->set_flags(span.trace_flags | 0x100u | (span.parent_remote ? 0x200u : 0u));
    s->set_name(span.name);
    s->set_kind(static_cast<pb::Span::SpanKind>(static_cast<int>(span.kind)));
    s->set_start_time_unix_nano(span.start_time_unix_nano);
    s->set_end_time_unix_nano(span.end_time_unix_nano);
    add_attributes(s->mutable_attributes(), span.attributes);
    for (const auto& event : span.events) {
      auto* e = s->add_events();
      e->set_time_unix_nano(event.time_unix_nano);
      e->set_name(event.name);
      add_attributes(e->mutable_attributes(), event.attributes);
    }
    auto* status = s->mutable_status();
    status->set_code(static_cast<pb::Status::StatusCode>(static_cast<int>(span.status)));
    if (!span.status_message.empty()) status->set_message(span.status_message);
  }
  return request.SerializeAsString();
}

std::string encode_logs_pb(const KeyValues& resource, const ScopeInfo& scope,
                           const std::vector<LogData>& logs) {
  pb::ExportLogsServiceRequest request;
  auto* rl = request.add_resource_logs();
  add_attributes(rl->mutable_resource()->mutable_attributes(), resource);
  auto* sl = rl->add_scope_logs();
  set_scope(sl->mutable_scope(), scope);
  for (const auto& log : logs) {
    auto* r = sl->add_log_records();
    r->set_time_unix_nano(log.time_unix_nano);
    r->set_observed_time_unix_nano(log.observed_time_unix_nano);
    r->set_severity_number(log.severity_number);
    r->set_severity_text(log.severity_text);
    r->mutable_body()->set_string_value(log.body);
    add_attributes(r->mutable_attributes(), log.attributes);
    if (!is_zero(log.trace_id)) {
      r->set_trace_id(bytes(log.trace_id));
      r->set_span_id(bytes(log.span_id));
      r->set_flags(log.trace_flags);
    }
  }
  return request.SerializeAsString();
}

namespace {
void set_number(pb::NumberDataPoint* p, const MetricPoint& point) {
  add_attributes(p->mutable_attributes(), point.attributes);
  p->set_start_time_unix_nano(point.start_time_unix_nano);
  p->set_time_unix_nano(point.time_unix_nano);
  if (const auto* d = std::get_if<double>(&point.value)) {
    p->set_as_double(*d);
  } else if (const auto* i = std::get_if<std::int64_t>(&point.value)) {
    p->set_as_int(*i);
  }
}

}  // namespace

std::string encode_metrics_pb(const KeyValues& resource, const ScopeInfo& scope,
                              const std::vector<MetricData>& metrics) {
  pb::ExportMetricsServiceRequest request;
  auto* rm = request.add_resource_metrics();
  add_attributes(rm->mutable_resource()->mutable_attributes(), resource);
  auto* sm = rm->add_scope_metrics();
  set_scope(sm->mutable_scope(), scope);
  for (const auto& metric : metrics) {
    auto* m = sm->add_metrics();
    m->set_name(metric.name);
    m->set_description(metric.description);
    m->set_unit(metric.unit);
    if (metric.type == MetricData::Type::gauge) {
      auto* g = m->mutable_gauge();
      for (const auto& point : metric.points) set_number(g->add_data_points(), point);
    } else if (metric.type == MetricData::Type::sum) {
      auto* s = m->mutable_sum();
      s->set_aggregation_temporality(2);  // CUMULATIVE
      s->set_is_monotonic(metric.monotonic);
      for (const auto& point : metric.points) set_number(s->add_data_points(), point);
    } else {
      auto* h = m->mutable_histogram();
      h->set_aggregation_temporality(2);
      for (const auto& point : metric.points) {
        const auto* hp = std::get_if<HistogramPoint>(&point.value);
        if (hp == nullptr) continue;
        auto* p = h->add_data_points();
        add_attributes(p->mutable_attributes(), point.attributes);
        p->set_start_time_unix_nano(point.start_time_unix_nano);
        p->set_time_unix_nano(point.time_unix_nano);
        p->set_count(hp->count);
        p->set_sum(hp->sum);
        for (auto c : hp->bucket_counts) p->add_bucket_counts(c);
        for (auto b : hp->explicit_bounds) p->add_explicit_bounds(b);
        if (hp->min) p->set_min(*hp->min);
        if (hp->max) p->set_max(*hp->max);
      }
    }
  }
  return request.SerializeAsString();
}

}  // namespace tomodachi::telemetry
