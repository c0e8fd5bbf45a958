// OTLP bodies: protobuf decoded back with the generated lite classes (field-number
// correctness is checked against the official definitions in tests/integration/telemetry),
// JSON against the spec's mapping rules.
#include "telemetry/otlp_encode.hpp"

#include "otlp.pb.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

using namespace tomodachi::telemetry;
namespace trace = tomodachi::trace;

namespace {
SpanData sample_span() {
  SpanData span;
  span.trace_id = *from_lower_hex<16>("0af7651916cd43dd8448eb211c80319c");
  span.span_id = *from_lower_hex<8>("00f067aa0ba902b7");
  span.parent_span_id = *from_lower_hex<8>("b7ad6b7169203331");
  span.parent_remote = true;
  span.trace_flags = 1;
  span.name = "GET /resource/(?P<id>[^/]+?)/?";
  span.kind = trace::SpanKind::server;
  span.start_time_unix_nano = 1700000000000000001ULL;
  span.end_time_unix_nano = 1700000000000000099ULL;
  span.attributes = {{"http.request.method", std::string("GET")},
                     {"http.response.status_code", std::int64_t{500}},
                     {"ratio", 0.5},
                     {"ok", false}};
  span.events.push_back(
      {1700000000000000050ULL, "exception", {{"exception.type", std::string("E")}}});
  span.status = trace::StatusCode::error;
  return span;
}
const KeyValues resource{{"service.name", "svc"}, {"service.instance.id", "uuid"}};
}  // namespace

TEST(OtlpProtobuf, TracesRoundTrip) {
  std::string body =
      encode_traces(resource, {"tomodachi", "1.0"}, {sample_span()}, Protocol::http_protobuf);
  tomodachi::otlp::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(body));
  ASSERT_EQ(request.resource_spans_size(), 1);
  const auto& rs = request.resource_spans(0);
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "svc");
  EXPECT_EQ(rs.scope_spans(0).scope().name(), "tomodachi");
  const auto& s = rs.scope_spans(0).spans(0);
  EXPECT_EQ(s.trace_id().size(), 16u);
  EXPECT_EQ(to_hex(reinterpret_cast<const std::uint8_t*>(s.parent_span_id().data()), 8),
            "b7ad6b7169203331");
  EXPECT_EQ(s.kind(), 2);
  EXPECT_EQ(s.flags(), 0x301u);
  EXPECT_EQ(s.start_time_unix_nano(), 1700000000000000001ULL);
  EXPECT_EQ(s.attributes(1).value().int_value(), 500);
  EXPECT_EQ(s.events(0).name(), "exception");
  EXPECT_EQ(s.status().code(), 2);
}

TEST(OtlpJson, TracesFollowTheJsonMapping) {
  auto v = boost::json::parse(
      encode_traces(resource, {"tomodachi", "1.0"}, {sample_span()}, Protocol::http_json));
  const auto& span = v.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(span.at("traceId").as_string(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(span.at("spanId").as_string(), "00f067aa0ba902b7");
  EXPECT_EQ(span.at("parentSpanId").as_string(), "b7ad6b7169203331");
  EXPECT_EQ(span.at("kind").as_int64(), 2);                                    // enum as integer
  EXPECT_EQ(span.at("startTimeUnixNano").as_string(), "1700000000000000001");  // 64-bit as string
  EXPECT_EQ(span.at("attributes").at(1).at("value").at("intValue").as_string(), "500");
  EXPECT_EQ(span.at("attributes").at(3).at("value").at("boolValue").as_bool(), false);
  EXPECT_EQ(span.at("status").at("code").as_int64(), 2);
  EXPECT_EQ(v.at("resourceSpans").at(0).at("resource").at("attributes").at(0).at("key").as_string(),
            "service.name");
}

TEST(OtlpEncode, LogsAndMetrics) {
  LogData log;
  log.time_unix_nano = 5;
  log.severity_number = 9;
  log.severity_text = "INFO";
  log.body = "hello";
  log.trace_id = *from_lower_hex<16>("0af7651916cd43dd8448eb211c80319c");
  log.span_id = *from_lower_hex<8>("00f067aa0ba902b7");
  tomodachi::otlp::ExportLogsServiceRequest logs;
  ASSERT_TRUE(logs.ParseFromString(encode_logs(resource, {}, {log}, Protocol::http_protobuf)));
  EXPECT_EQ(logs.resource_logs(0).scope_logs(0).log_records(0).body().string_value(), "hello");
  auto lj = boost::json::parse(encode_logs(resource, {}, {log}, Protocol::http_json));
  EXPECT_EQ(lj.at("resourceLogs")
                .at(0)
                .at("scopeLogs")
                .at(0)
                .at("logRecords")
                .at(0)
                .at("spanId")
                .as_string(),
            "00f067aa0ba902b7");

  MetricData histogram{"http.server.duration", "", "s", MetricData::Type::histogram, false, {}};
  HistogramPoint hp{3, 0.6, {0, 0.005, 0.01}, {0, 1, 1, 1}, 0.001, 0.5};
  histogram.points.push_back({{{"http.route", std::string("/x")}}, 1, 2, hp});
  MetricData sum{"http.server.active_requests", "", "{request}", MetricData::Type::sum, false, {}};
  sum.points.push_back({{}, 1, 2, std::int64_t{-1}});
  tomodachi::otlp::ExportMetricsServiceRequest metrics;
  ASSERT_TRUE(metrics.ParseFromString(
      encode_metrics(resource, {}, {histogram, sum}, Protocol::http_protobuf)));
  const auto& m = metrics.resource_metrics(0).scope_metrics(0);
  EXPECT_EQ(m.metrics(0).histogram().aggregation_temporality(), 2);
  EXPECT_EQ(m.metrics(0).histogram().data_points(0).bucket_counts_size(), 4);
  EXPECT_EQ(m.metrics(1).sum().data_points(0).as_int(), -1);
  auto mj = boost::json::parse(encode_metrics(resource, {}, {histogram, sum}, Protocol::http_json));
  const auto& h =
      mj.at("resourceMetrics").at(0).at("scopeMetrics").at(0).at("metrics").at(0).at("histogram");
  EXPECT_EQ(h.at("dataPoints").at(0).at("count").as_string(), "3");
  EXPECT_EQ(h.at("aggregationTemporality").as_int64(), 2);
}

namespace {
// The trace body as the generated classes serialise it: ProtoWriter must produce the same
// bytes (proto3 rules: default scalars left out, present sub-messages and oneof members kept).
std::string generated_traces(const KeyValues& res, const std::vector<SpanData>& spans) {
  namespace pb = tomodachi::otlp;
  auto set_value = [](pb::AnyValue* out, const trace::AttributeValue& value) {
    std::visit(
        [out](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>)
            out->set_string_value(v);
          else if constexpr (std::is_same_v<V, bool>)
            out->set_bool_value(v);
          else if constexpr (std::is_same_v<V, std::int64_t>)
            out->set_int_value(v);
          else if constexpr (std::is_same_v<V, double>)
            out->set_double_value(v);
          else
            for (const auto& s : v) out->mutable_array_value()->add_values()->set_string_value(s);
        },
        value);
  };
  pb::ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  auto* resource_message = rs->mutable_resource();
  for (const auto& [k, v] : res) {
    auto* kv = resource_message->add_attributes();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("tomodachi");
  ss->mutable_scope()->set_version("1.0");
  for (const auto& span : spans) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(reinterpret_cast<const char*>(span.trace_id.data()), 16));
    s->set_span_id(std::string(reinterpret_cast<const char*>(span.span_id.data()), 8));
    if (!span.trace_state.empty()) s->set_trace_state(span.trace_state);
    if (span.has_parent())
      s->set_parent_span_id(
          std::string(reinterpret_cast<const char*>(span.parent_span_id.data()), 8));
    s->set_flags(span.trace_flags | 0x100u | (span.parent_remote ? 0x200u : 0u));
    s->set_name(span.name);
    s->set_kind(static_cast<pb::Span::SpanKind>(static_cast<int>(span.kind)));
    s->set_start_time_unix_nano(span.start_time_unix_nano);
    s->set_end_time_unix_nano(span.end_time_unix_nano);
    for (const auto& [k, v] : span.attributes) {
      auto* kv = s->add_attributes();
      kv->set_key(k);
      set_value(kv->mutable_value(), v);
    }
    for (const auto& event : span.events) {
      auto* e = s->add_events();
      e->set_time_unix_nano(event.time_unix_nano);
      e->set_name(event.name);
      for (const auto& [k, v] : event.attributes) {
        auto* kv = e->add_attributes();
        kv->set_key(k);
        set_value(kv->mutable_value(), v);
      }
    }
    s->mutable_status()->set_code(
        static_cast<pb::Status::StatusCode>(static_cast<int>(span.status)));
    if (!span.status_message.empty()) s->mutable_status()->set_message(span.status_message);
  }
  return request.SerializeAsString();
}
}  // namespace

TEST(OtlpProtobuf, TracesAreByteIdenticalToTheGeneratedClasses) {
  std::vector<SpanData> spans{sample_span()};
  SpanData root = sample_span();  // a root span, no events, status unset, edge values
  root.parent_span_id = {};
  root.parent_remote = false;
  root.trace_state = "rojo=00f067aa0ba902b7";
  root.kind = trace::SpanKind::internal;
  root.events.clear();
  root.status = trace::StatusCode::unset;
  root.attributes = {{"negative", std::int64_t{-7}},
                     {"empty", std::string()},
                     {"list", std::vector<std::string>{"a", "", "c"}},
                     {"zero", 0.0},
                     {"true", true}};
  spans.push_back(root);
  SpanData big = sample_span();  // sub-messages of 2- and 3-byte lengths
  big.name = std::string(300, 'n');
  big.attributes.emplace_back("long", std::string(20000, 'x'));
  big.status_message = "failed";
  spans.push_back(big);
  for (int i = 0; i < 600; ++i) spans.push_back(sample_span());  // a body over 2^21 bytes
  spans.back().attributes.emplace_back("huge", std::string(2 << 20, 'h'));

  const std::string body =
      encode_traces(resource, {"tomodachi", "1.0"}, spans, Protocol::http_protobuf);
  EXPECT_EQ(body.size(), generated_traces(resource, spans).size());
  EXPECT_TRUE(body == generated_traces(resource, spans));
  tomodachi::otlp::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(body));
  const auto& parsed = request.resource_spans(0).scope_spans(0);
  ASSERT_EQ(parsed.spans_size(), static_cast<int>(spans.size()));
  EXPECT_EQ(parsed.spans(1).attributes(0).value().int_value(), -7);
  EXPECT_EQ(parsed.spans(1).attributes(2).value().array_value().values(1).string_value(), "");
  EXPECT_EQ(parsed.spans(2).attributes(4).value().string_value().size(), 20000u);
  EXPECT_EQ(parsed.spans(2).status().message(), "failed");
}
