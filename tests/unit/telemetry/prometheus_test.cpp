// Upstream's instruments and the Prometheus exposition. The expected series names are
// derived here from the rules of upstream's exporter chain, in order:
//   1. tomodachi/opentelemetry/prometheus.py _transform_metric: unit braces removed,
//      lowercased, UNIT_TRANSFORM_MAP ("s" -> "seconds", "request" -> "requests",
//      "message" -> "messages", "task" -> "tasks"); the optional namespace prefix joined
//      with "_".
//   2. opentelemetry-exporter-prometheus 1.27 _translate_to_prometheus: the name through
//      sanitize_full_name ([^a-zA-Z0-9:]+ -> "_"), the unit through map_unit (already
//      mapped words pass), attribute keys through sanitize_attribute ([^a-zA-Z0-9]+ ->
//      "_"), sorted by key; values str() or json.dumps (True -> "true"); a cumulative
//      non-monotonic sum (an up-down counter) becomes a Gauge; histogram `le` labels are
//      f"{bound}" of the bounds as given (distro.py passes 0, 1, 5, 10 as ints -> "0", "1").
//   3. prometheus_client: Metric() appends "_<unit>" unless the name already ends with it;
//      histograms write _bucket (cumulative, then +Inf), _count, _sum; values through
//      floatToGoString (2 -> "2.0").
//   4. prometheus.py adds job/instance (target_info) and otel_scope_name/_version to
//      every sample.
//   5. prometheus_client 0.21.1 (upstream's lock) writes every label set sorted by name,
//      `le` among them; target_info and otel_scope_info are info metrics: "gauge" in the
//      text format, "info" (family names `target`, `otel_scope`) in OpenMetrics.
#include "telemetry/metrics.hpp"
#include "telemetry/prometheus_text.hpp"
#include "telemetry/tracer.hpp"

#include <gtest/gtest.h>

using namespace tomodachi::telemetry;

TEST(Prometheus, SeriesNamesOfUpstreamsInstruments) {
  EXPECT_EQ(prometheus_name("http.server.duration", "s"), "http_server_duration_seconds");
  EXPECT_EQ(prometheus_name("http.server.active_requests", "{request}"),
            "http_server_active_requests");
  EXPECT_EQ(prometheus_name("messaging.rabbitmq.duration", "s"),
            "messaging_rabbitmq_duration_seconds");
  EXPECT_EQ(prometheus_name("messaging.rabbitmq.active_tasks", "{message}"),
            "messaging_rabbitmq_active_tasks_messages");
  EXPECT_EQ(prometheus_name("messaging.aws_sqs.active_tasks", "{message}"),
            "messaging_aws_sqs_active_tasks_messages");
  EXPECT_EQ(prometheus_name("function.duration", "s"), "function_duration_seconds");
  EXPECT_EQ(prometheus_name("function.active_tasks", "{task}"), "function_active_tasks");
  EXPECT_EQ(prometheus_name("http.server.duration", "s", "shop"),
            "shop_http_server_duration_seconds");
  EXPECT_EQ(prometheus_name("x", "1"), "x_ratio");  // tomodachi maps "1" -> "ratio" first
}

TEST(Prometheus, GoFloat) {
  EXPECT_EQ(go_float(2), "2.0");
  EXPECT_EQ(go_float(0.3), "0.3");
  EXPECT_EQ(go_float(1e-05), "1e-05");
  EXPECT_EQ(go_float(12345678.0), "1.2345678e+07");
}

TEST(Prometheus, ExpositionOfAHistogramAndAGauge) {
  MetricsRegistry registry;
  tomodachi::trace::Attributes http{
      {"http.route", std::string("/x")},
      {"http.request.method", std::string("GET")},
      {"http.response.status_code", std::int64_t{200}},
      {"user_agent.original", std::string("dropped: not an instrument key")}};
  registry.record("http.server.duration", 0.3, http);
  registry.record("http.server.duration", 0.004, http);
  registry.add("http.server.active_requests", 1, http);
  registry.record("function.duration", 0.01, {{"code.function", std::string("tick")}},
                  {{"function.success", true}});
  EXPECT_THROW(registry.record("nope", 1, {}), tomodachi::ArgumentError);
  KeyValues resource{{"service.name", "orders"}, {"service.instance.id", "u-1"}};
  std::string text = prometheus_text(registry.collect(), resource, {"tomodachi", "0.1.0"});
  // sorted: http_*, instance, job, le, otel_scope_*
  const std::string before_le =
      "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/x\","
      "instance=\"u-1\",job=\"orders\"";
  const std::string after_le = "otel_scope_name=\"tomodachi\",otel_scope_version=\"0.1.0\"";
  const std::string all = before_le + "," + after_le;
  auto bucket = [&](const std::string& le, const std::string& value) {
    return "http_server_duration_seconds_bucket{" + before_le + ",le=\"" + le + "\"," + after_le +
           "} " + value;
  };
  for (const std::string& line : {
           std::string("# HELP target_info Target metadata"),
           std::string("# TYPE target_info gauge"),
           std::string("target_info{instance=\"u-1\",job=\"orders\",service_instance_id=\"u-1\","
                       "service_name=\"orders\"} 1.0"),
           std::string("# TYPE otel_scope_info gauge"),
           std::string(
               "otel_scope_info{otel_scope_name=\"tomodachi\",otel_scope_version=\"0.1.0\"} 1.0"),
           std::string("# HELP http_server_duration_seconds Measures the duration of inbound HTTP "
                       "requests."),
           std::string("# TYPE http_server_duration_seconds histogram"),
           bucket("0", "0.0"),
           bucket("0.005", "1.0"),
           bucket("0.25", "1.0"),
           bucket("0.5", "2.0"),
           bucket("10", "2.0"),
           bucket("+Inf", "2.0"),
           "http_server_duration_seconds_count{" + all + "} 2.0",
           "http_server_duration_seconds_sum{" + all + "} 0.304",
           std::string("# TYPE http_server_active_requests gauge"),
           "http_server_active_requests{http_request_method=\"GET\",instance=\"u-1\",job="
           "\"orders\"," +
               after_le + "} 1.0",
           "function_duration_seconds_count{code_function=\"tick\",function_success=\"true\","
           "instance=\"u-1\",job=\"orders\"," +
               after_le + "} 1.0",
       }) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n---\n" << text;
  }
  EXPECT_EQ(text.find("user_agent"), std::string::npos);
  PrometheusOptions bare;
  bare.include_scope_info = false;
  bare.include_target_info = false;
  std::string plain = prometheus_text(registry.collect(), resource, {"tomodachi", "0.1.0"}, bare);
  EXPECT_EQ(plain.find("target_info"), std::string::npos);
  EXPECT_NE(plain.find("http_server_active_requests{http_request_method=\"GET\"} 1.0\n"),
            std::string::npos)
      << plain;
}

TEST(Prometheus, EscapesLabelValuesAndHelp) {
  MetricData gauge{"g", "a \\ b\nc", "", MetricData::Type::gauge, false, {}};
  gauge.points.push_back({{{"k", std::string("q\"\\\n")}}, 0, 0, 1.5});
  PrometheusOptions bare{"", false, false};
  std::string text = prometheus_text({gauge}, {}, {}, bare);
  EXPECT_NE(text.find("# HELP g a \\\\ b\\nc\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g{k=\"q\\\"\\\\\\n\"} 1.5\n"), std::string::npos) << text;
}

TEST(Prometheus, PythonFloatRepr) {
  EXPECT_EQ(python_float(0.0001), "0.0001");  // Python switches to exponents below 1e-4
  EXPECT_EQ(python_float(0.00001), "1e-05");
  EXPECT_EQ(python_float(1e16), "1e+16");
  EXPECT_EQ(python_float(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(python_float(1765171234.5678902), "1765171234.5678902");
  EXPECT_EQ(python_float(-2.5), "-2.5");
  EXPECT_EQ(python_float(3), "3.0");
  EXPECT_EQ(go_float(0.0001), "0.0001");
  EXPECT_EQ(go_float(1e16), "1e+16");
}

TEST(Prometheus, OpenMetricsHasUnitsInfoFamiliesAndEof) {
  MetricsRegistry registry;
  registry.add("http.server.active_requests", 1, {{"http.request.method", std::string("GET")}});
  KeyValues resource{{"service.name", "orders"}, {"service.instance.id", "u-1"}};
  auto families = prometheus_families(registry.collect(), resource, {"tomodachi", "1.2"});
  std::string om = render_openmetrics(families);
  for (const std::string& line :
       {std::string("# HELP target Target metadata"), std::string("# TYPE target info"),
        std::string("# TYPE otel_scope info"),
        std::string("# TYPE http_server_active_requests gauge"),
        std::string("# UNIT http_server_active_requests requests")}) {
    EXPECT_NE(om.find(line + "\n"), std::string::npos) << line << "\n---\n" << om;
  }
  EXPECT_EQ(om.substr(om.size() - 6), "# EOF\n");
  EXPECT_EQ(render_text(families).find("# UNIT"), std::string::npos);
}

TEST(Prometheus, ExemplarsCarryTheRecordingSpanAsUpstreamPicksThem) {
  MetricsRegistry registry(true);
  tomodachi::trace::Span none;
  registry.record("function.duration", 0.02, {{"code.function", std::string("f")}}, {}, &none);
  auto plain = registry.collect_for_prometheus();
  ASSERT_EQ(plain.size(), 1u);
  for (const auto& e : std::get<HistogramPoint>(plain[0].points[0].value).exemplars)
    EXPECT_FALSE(e.has_value());  // no span: no exemplar
  // A sampled span: a real tracer (no sink) makes one.
  Tracer tracer(Sampler(), nullptr);
  auto span = tracer.start_span("x", tomodachi::trace::SpanKind::internal);
  registry.record("function.duration", 0.02, {{"code.function", std::string("f")}}, {}, &span);
  registry.record("function.duration", 0.015, {{"code.function", std::string("f")}}, {}, &span);
  auto metrics = registry.collect_for_prometheus();
  const auto& h = std::get<HistogramPoint>(metrics[0].points[0].value);
  ASSERT_EQ(h.exemplars.size(), h.bucket_counts.size());
  // buckets 0, 0.005, 0.01 have none; 0.025 holds the largest (0.02); later ones repeat it
  EXPECT_FALSE(h.exemplars[2].has_value());
  ASSERT_TRUE(h.exemplars[3].has_value());
  EXPECT_DOUBLE_EQ(h.exemplars[3]->value, 0.02);
  EXPECT_EQ(h.exemplars[3]->trace_id, span.trace_id());
  EXPECT_EQ(h.exemplars[3]->span_id, span.span_id());
  ASSERT_TRUE(h.exemplars.back().has_value());
  std::string om =
      render_openmetrics(prometheus_families(metrics, {}, {"tomodachi", "1"}, {"", false, false}));
  const std::string expected =
      "function_duration_seconds_bucket{code_function=\"f\",le=\"0.025\"} 3.0 # {span_id=\"" +
      span.span_id_hex() + "\",trace_id=\"" + span.trace_id_hex() + "\"} 0.02 ";
  EXPECT_NE(om.find(expected), std::string::npos) << om;
  EXPECT_EQ(om.find("le=\"0.01\"} 0.0 #"), std::string::npos) << om;
  // the text format never has exemplars
  EXPECT_EQ(render_text(prometheus_families(metrics, {}, {})).find(" # "), std::string::npos);
  // the reservoir keeps the most recent exemplar per bucket (0.015 now)
  auto again = registry.collect_for_prometheus();
  EXPECT_DOUBLE_EQ(std::get<HistogramPoint>(again[0].points[0].value).exemplars[3]->value, 0.015);
}

TEST(Prometheus, PointsWithOtherLabelKeysShareOneFamilyAndNameFilterRestricts) {
  MetricsRegistry registry;
  registry.record("http.server.duration", 0.1, {{"http.request.method", std::string("GET")}});
  registry.record("http.server.duration", 0.1,
                  {{"http.request.method", std::string("GET")}, {"http.route", std::string("/a")}});
  std::string text = prometheus_text(registry.collect(), {}, {}, {"", false, false});
  EXPECT_EQ(text.find("# TYPE http_server_duration_seconds histogram"),
            text.rfind("# TYPE http_server_duration_seconds histogram"));
  auto only =
      restrict_families(prometheus_families(registry.collect(), {{"service.name", "s"}}, {}),
                        {"http_server_duration_seconds_count", "target_info"});
  std::string restricted = render_text(only);
  EXPECT_NE(restricted.find("target_info{"), std::string::npos) << restricted;
  EXPECT_NE(restricted.find("http_server_duration_seconds_count{"), std::string::npos);
  EXPECT_EQ(restricted.find("_bucket"), std::string::npos);
  EXPECT_EQ(restricted.find("otel_scope_info"), std::string::npos);
}

TEST(Prometheus, ExemplarsTakeTheCurrentSpanWhenNoneIsGivenAndSkipUnsampledOnes) {
  MetricsRegistry registry(true);
  auto sampled = std::make_shared<Tracer>(Sampler(), nullptr);
  install_tracer(sampled);  // current_span() answers only with a tracer installed
  auto span = sampled->start_span("current", tomodachi::trace::SpanKind::server);
  {
    tomodachi::trace::Scope scope(span);
    registry.record("http.server.duration", 0.2, {});
  }
  install_tracer(nullptr);
  Tracer unsampled(Sampler(SamplerConfig{SamplerKind::always_off, 1.0}), nullptr);
  auto dropped = unsampled.start_span("unsampled", tomodachi::trace::SpanKind::server);
  ASSERT_TRUE(dropped.valid());
  registry.record("http.server.duration", 0.7, {}, {}, &dropped);
  auto metrics = registry.collect_for_prometheus();
  const auto& h = std::get<HistogramPoint>(metrics[0].points[0].value);
  // 0.2 is in the 0.25 bucket (index 7); the unsampled 0.7 (0.75 bucket) gives none, so the
  // 0.75 bucket repeats 0.2's
  ASSERT_TRUE(h.exemplars[7].has_value());
  EXPECT_EQ(h.exemplars[7]->span_id, span.span_id());
  ASSERT_TRUE(h.exemplars[9].has_value());
  EXPECT_DOUBLE_EQ(h.exemplars[9]->value, 0.2);
  // off (the default): no reservoirs at all
  MetricsRegistry off;
  off.record("http.server.duration", 0.2, {}, {}, &span);
  auto plain = off.collect_for_prometheus();
  EXPECT_TRUE(std::get<HistogramPoint>(plain[0].points[0].value).exemplars.empty());
}

TEST(MetricsRegistry, SeriesHandlesReachTheSameSeriesAndExtraKeysAreNotRepeated) {
  MetricsRegistry registry;
  const Attributes http{{"http.request.method", std::string("GET")},
                        {"http.response.status_code", std::int64_t{200}},  // e.g. a span's own
                        {"url.path", std::string("/x")}};
  const Attributes status{{"http.response.status_code", std::int64_t{404}}};
  registry.record("http.server.duration", 0.5, http, status);
  auto handle = registry.series_handle("http.server.duration", http, status);
  ASSERT_TRUE(static_cast<bool>(handle));
  registry.record(handle, 1.5);
  auto active = registry.series_handle("http.server.active_requests", http);
  registry.add(active, 1);
  registry.add(active, 1);
  registry.add(active, -1);

  const auto metrics = registry.collect();
  std::size_t histograms = 0;
  for (const auto& metric : metrics) {
    ASSERT_EQ(metric.points.size(), 1u) << metric.name;  // one series each
    const auto& point = metric.points[0];
    if (metric.name == "http.server.duration") {
      ++histograms;
      const Attributes expected{{"http.request.method", std::string("GET")},
                                {"http.response.status_code", std::int64_t{404}}};
      EXPECT_EQ(point.attributes, expected);  // extra's value, once; url.path filtered out
      EXPECT_EQ(std::get<HistogramPoint>(point.value).count, 2u);
      EXPECT_DOUBLE_EQ(std::get<HistogramPoint>(point.value).sum, 2.0);
    } else {
      EXPECT_EQ(metric.name, "http.server.active_requests");
      EXPECT_EQ(std::get<std::int64_t>(point.value), 1);
    }
  }
  EXPECT_EQ(histograms, 1u);
}
