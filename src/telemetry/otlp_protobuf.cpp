// OTLP protobuf bodies: logs and metrics through the generated lite classes of
// proto/otlp.proto, traces (written per request) through ProtoWriter with their field numbers.
#include "telemetry/otlp_encode.hpp"

#include "otlp.pb.h"
#include "telemetry/proto_writer.hpp"

#include <google/protobuf/arena.h>

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

// One arena per export: a batch of 512 spans builds ~10,000 messages and strings, which the
// heap would allocate and free one by one (14 % of a traced server's CPU, by perf).
google::protobuf::ArenaOptions arena_options() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 * 1024;
  options.max_block_size = 1024 * 1024;
  return options;
}

template <std::size_t N>
std::string bytes(const std::array<std::uint8_t, N>& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), N);
}

}  // namespace

namespace {
// The trace body through ProtoWriter (proto_writer.hpp says why); the field numbers are
// the generated classes'.
void write_value(ProtoWriter& w, const AttributeValue& value) {
  std::visit(
      [&w](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) {
          w.bytes_field(pb::AnyValue::kStringValueFieldNumber, v);
        } else if constexpr (std::is_same_v<V, bool>) {
          w.varint_field(pb::AnyValue::kBoolValueFieldNumber, v ? 1 : 0);
        } else if constexpr (std::is_same_v<V, std::int64_t>) {
          w.varint_field(pb::AnyValue::kIntValueFieldNumber, static_cast<std::uint64_t>(v));
        } else if constexpr (std::is_same_v<V, double>) {
          w.double_field(pb::AnyValue::kDoubleValueFieldNumber, v);
        } else {
          const auto array = w.open(pb::AnyValue::kArrayValueFieldNumber);
          for (const auto& item : v) {
            const auto element = w.open(pb::ArrayValue::kValuesFieldNumber);
            w.bytes_field(pb::AnyValue::kStringValueFieldNumber, item);
            w.close(element);
          }
          w.close(array);
        }
      },
      value);
}

template <typename Pairs>
void write_attributes(ProtoWriter& w, int field, const Pairs& attributes) {
  for (const auto& [key, value] : attributes) {
    const auto kv = w.open(field);
    if (!std::string_view(key).empty()) w.bytes_field(pb::KeyValue::kKeyFieldNumber, key);
    const auto any = w.open(pb::KeyValue::kValueFieldNumber);
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::string>) {
      w.bytes_field(pb::AnyValue::kStringValueFieldNumber, value);
    } else {
      write_value(w, value);
    }
    w.close(any);
    w.close(kv);
  }
}

template <std::size_t N>
std::string_view id_bytes(const std::array<std::uint8_t, N>& id) {
  return {reinterpret_cast<const char*>(id.data()), N};
}

void write_span(ProtoWriter& w, const SpanData& span) {
  using S = pb::Span;
  const auto mark = w.open(pb::ScopeSpans::kSpansFieldNumber);
  w.bytes_field(S::kTraceIdFieldNumber, id_bytes(span.trace_id));
  w.bytes_field(S::kSpanIdFieldNumber, id_bytes(span.span_id));
  if (!span.trace_state.empty()) w.bytes_field(S::kTraceStateFieldNumber, span.trace_state);
  if (span.has_parent()) w.bytes_field(S::kParentSpanIdFieldNumber, id_bytes(span.parent_span_id));
  if (!span.name.empty()) w.bytes_field(S::kNameFieldNumber, span.name);
  if (span.kind != SpanKind{}) w.varint_field(S::kKindFieldNumber, static_cast<int>(span.kind));
  if (span.start_time_unix_nano != 0)
    w.fixed64_field(S::kStartTimeUnixNanoFieldNumber, span.start_time_unix_nano);
  if (span.end_time_unix_nano != 0)
    w.fixed64_field(S::kEndTimeUnixNanoFieldNumber, span.end_time_unix_nano);
  write_attributes(w, S::kAttributesFieldNumber, span.attributes);
  for (const auto& event : span.events) {
    const auto e = w.open(S::kEventsFieldNumber);
    if (event.time_unix_nano != 0)
      w.fixed64_field(S::Event::kTimeUnixNanoFieldNumber, event.time_unix_nano);
    if (!event.name.empty()) w.bytes_field(S::Event::kNameFieldNumber, event.name);
    write_attributes(w, S::Event::kAttributesFieldNumber, event.attributes);
    w.close(e);
  }
  const auto status = w.open(S::kStatusFieldNumber);
  if (!span.status_message.empty())
    w.bytes_field(pb::Status::kMessageFieldNumber, span.status_message);
  if (span.status != StatusCode::unset)
    w.varint_field(pb::Status::kCodeFieldNumber, static_cast<int>(span.status));
  w.close(status);
  // flags: W3C trace flags, plus "has is_remote" (0x100) and "is remote" (0x200).
  w.fixed32_field(S::kFlagsFieldNumber,
                  span.trace_flags | 0x100u | (span.parent_remote ? 0x200u : 0u));
  w.close(mark);
}
}  // namespace

std::string encode_traces_pb(const KeyValues& resource, const ScopeInfo& scope,
                             const std::vector<SpanData>& spans) {
  std::string out;
  out.reserve(256 + spans.size() * 640);
  ProtoWriter w(out);
  const auto rs = w.open(pb::ExportTraceServiceRequest::kResourceSpansFieldNumber);
  const auto res = w.open(pb::ResourceSpans::kResourceFieldNumber);
  write_attributes(w, pb::Resource::kAttributesFieldNumber, resource);
  w.close(res);
  const auto ss = w.open(pb::ResourceSpans::kScopeSpansFieldNumber);
  const auto sc = w.open(pb::ScopeSpans::kScopeFieldNumber);
  if (!scope.name.empty()) w.bytes_field(pb::InstrumentationScope::kNameFieldNumber, scope.name);
  if (!scope.version.empty())
    w.bytes_field(pb::InstrumentationScope::kVersionFieldNumber, scope.version);
  w.close(sc);
  for (const auto& span : spans) write_span(w, span);
  w.close(ss);
  w.close(rs);
  w.finish();
  return out;
}

std::string encode_logs_pb(const KeyValues& resource, const ScopeInfo& scope,
                           const std::vector<LogData>& logs) {
  google::protobuf::Arena arena(arena_options());
  auto& request = *google::protobuf::Arena::CreateMessage<pb::ExportLogsServiceRequest>(&arena);
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
  google::protobuf::Arena arena(arena_options());
  auto& request = *google::protobuf::Arena::CreateMessage<pb::ExportMetricsServiceRequest>(&arena);
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
