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
