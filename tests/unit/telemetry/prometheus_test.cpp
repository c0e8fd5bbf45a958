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
//   4. prometheus.py adds job/instance (target_info) then otel_scope_name/_version to
//      every sample, after the sample's own labels (and after `le`).
#include "telemetry/metrics.hpp"
#include "telemetry/prometheus_text.hpp"

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
  EXPECT_THROW(registry.record("nope", 1, {}), std::out_of_range);
  KeyValues resource{{"service.name", "orders"}, {"service.instance.id", "u-1"}};
  std::string text = prometheus_text(registry.collect(), resource, {"tomodachi", "0.1.0"});
  const std::string common =
      "job=\"orders\",instance=\"u-1\",otel_scope_name=\"tomodachi\",otel_scope_version=\"0.1.0\"";
  const std::string labels =
      "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/x\"";
  for (const std::string& line : {
           std::string("# HELP target_info Target metadata"),
           std::string("target_info{service_name=\"orders\",service_instance_id=\"u-1\",job="
                       "\"orders\",instance=\"u-1\"} 1.0"),
           std::string(
               "otel_scope_info{otel_scope_name=\"tomodachi\",otel_scope_version=\"0.1.0\"} 1.0"),
           std::string("# HELP http_server_duration_seconds Measures the duration of inbound HTTP "
                       "requests."),
           std::string("# TYPE http_server_duration_seconds histogram"),
           "http_server_duration_seconds_bucket{" + labels + ",le=\"0\"," + common + "} 0.0",
           "http_server_duration_seconds_bucket{" + labels + ",le=\"0.005\"," + common + "} 1.0",
           "http_server_duration_seconds_bucket{" + labels + ",le=\"0.25\"," + common + "} 1.0",
           "http_server_duration_seconds_bucket{" + labels + ",le=\"0.5\"," + common + "} 2.0",
           "http_server_duration_seconds_bucket{" + labels + ",le=\"10\"," + common + "} 2.0",
           "http_server_duration_seconds_bucket{" + labels + ",le=\"+Inf\"," + common + "} 2.0",
           "http_server_duration_seconds_count{" + labels + "," + common + "} 2.0",
           "http_server_duration_seconds_sum{" + labels + "," + common + "} 0.304",
           std::string("# TYPE http_server_active_requests gauge"),
           "http_server_active_requests{http_request_method=\"GET\"," + common + "} 1.0",
           "function_duration_seconds_count{code_function=\"tick\",function_success=\"true\"," +
               common + "} 1.0",
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
