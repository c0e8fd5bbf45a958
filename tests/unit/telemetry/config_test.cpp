// OTEL_* environment -> Config, with upstream tomodachi's defaults and start-up errors.
#include "telemetry/config.hpp"

#include "env_support.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace tomodachi::telemetry;

namespace {
using test_support::env;
using test_support::error_of;

std::string value_of(const KeyValues& kvs, const std::string& key) {
  for (auto& [k, v] : kvs) {
    if (k == key) return v;
  }
  return "<unset>";
}
}  // namespace

TEST(TelemetryConfig, DefaultsAreUpstreamDistros) {
  Config c = load_config(env({}));
  EXPECT_FALSE(c.traces.any());
  EXPECT_FALSE(c.metrics.any());
  EXPECT_FALSE(c.logs.any());
  EXPECT_EQ(c.sampler.kind, SamplerKind::parentbased_always_on);
  EXPECT_EQ(c.span_batch.schedule_delay.count(), 5000);
  EXPECT_EQ(c.span_batch.max_export_batch_size, 512u);
  EXPECT_EQ(c.span_batch.max_queue_size, 2048u);
  EXPECT_EQ(c.span_batch.export_timeout.count(), 30000);
  EXPECT_EQ(c.metric_export_interval.count(), 60000);
  EXPECT_EQ(c.metric_export_timeout.count(), 30000);
  EXPECT_TRUE(c.excluded_urls.empty());
}

TEST(TelemetryConfig, EndpointsBaseGetsSignalPathPerSignalAsGiven) {
  Config c = load_config(env({{"OTEL_TRACES_EXPORTER", "otlp"},
                              {"OTEL_LOGS_EXPORTER", "otlp"},
                              {"OTEL_METRICS_EXPORTER", "otlp"},
                              {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                              {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:9/custom"}}));
  EXPECT_EQ(c.otlp_traces.endpoint, "http://collector:4318/v1/traces");
  EXPECT_EQ(c.otlp_logs.endpoint, "http://collector:4318/v1/logs");
  EXPECT_EQ(c.otlp_metrics.endpoint, "http://m:9/custom");
  Config d = load_config(
      env({{"OTEL_TRACES_EXPORTER", "otlp"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:1/base/"}}));
  EXPECT_EQ(d.otlp_traces.endpoint, "http://c:1/base/v1/traces");
  Config e = load_config(env({{"OTEL_TRACES_EXPORTER", "otlp"}}));
  EXPECT_EQ(e.otlp_traces.endpoint, "http://localhost:4318/v1/traces");
  EXPECT_EQ(e.otlp_traces.protocol, Protocol::http_protobuf);
}

TEST(TelemetryConfig, ExportersListAndUnknown) {
  Config c =
      load_config(env({{"OTEL_TRACES_EXPORTER", "console,otlp"}, {"OTEL_LOGS_EXPORTER", "none"}}));
  EXPECT_TRUE(c.traces.otlp);
  EXPECT_TRUE(c.traces.console);
  EXPECT_FALSE(c.logs.any());
  EXPECT_NE(error_of({{"OTEL_METRICS_EXPORTER", "zipkin"}}).find("OTEL_METRICS_EXPORTER"),
            std::string::npos);
}

TEST(TelemetryConfig, HeadersTimeoutProtocolCompression) {
  Config c = load_config(env({{"OTEL_TRACES_EXPORTER", "otlp"},
                              {"OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b, x=1"},
                              {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "only=traces"},
                              {"OTEL_LOGS_EXPORTER", "otlp"},
                              {"OTEL_EXPORTER_OTLP_TIMEOUT", "2.5"},
                              {"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json"},
                              {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"}}));
  ASSERT_EQ(c.otlp_traces.headers.size(), 1u);
  EXPECT_EQ(c.otlp_traces.headers[0].first, "only");
  ASSERT_EQ(c.otlp_logs.headers.size(), 2u);
  EXPECT_EQ(c.otlp_logs.headers[0].second, "a b");
  EXPECT_EQ(c.otlp_logs.timeout.count(), 2500);
  EXPECT_EQ(c.otlp_logs.protocol, Protocol::http_json);
  EXPECT_EQ(c.otlp_traces.protocol, Protocol::http_protobuf);
  EXPECT_TRUE(c.otlp_traces.gzip);
}

TEST(TelemetryConfig, GrpcIsAStartUpErrorPointingTo4318) {
  auto e = error_of({{"OTEL_TRACES_EXPORTER", "otlp"}, {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}});
  EXPECT_NE(e.find("OTEL_EXPORTER_OTLP_PROTOCOL"), std::string::npos) << e;
  EXPECT_NE(e.find("4318"), std::string::npos) << e;
  auto f = error_of({{"OTEL_LOGS_EXPORTER", "otlp"}, {"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc"}});
  EXPECT_NE(f.find("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"), std::string::npos) << f;
}

TEST(TelemetryConfig, InvalidValuesNameTheVariable) {
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"OTEL_TRACES_SAMPLER", "sometimes"},
           {"OTEL_BSP_SCHEDULE_DELAY", "soon"},
           {"OTEL_BSP_MAX_QUEUE_SIZE", "0"},
           {"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "4096"},
           {"OTEL_METRIC_EXPORT_INTERVAL", "-1"},
           {"OTEL_RESOURCE_ATTRIBUTES", "novalue"},
           {"OTEL_PYTHON_TOMODACHI_EXCLUDED_URLS", "ok,(unclosed"}}) {
    auto e = error_of({{name, value}});
    EXPECT_NE(e.find(name), std::string::npos) << name << ": " << e;
  }
  auto ratio =
      error_of({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "1.5"}});
  EXPECT_NE(ratio.find("OTEL_TRACES_SAMPLER_ARG"), std::string::npos) << ratio;
  auto compression =
      error_of({{"OTEL_TRACES_EXPORTER", "otlp"}, {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "br"}});
  EXPECT_NE(compression.find("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"), std::string::npos);
  auto https =
      error_of({{"OTEL_TRACES_EXPORTER", "otlp"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "https://x"}});
  EXPECT_NE(https.find("OTEL_EXPORTER_OTLP_ENDPOINT"), std::string::npos);
}

TEST(TelemetryConfig, SamplerAndBatchValues) {
  Config c = load_config(env({{"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
                              {"OTEL_TRACES_SAMPLER_ARG", "0.25"},
                              {"OTEL_BSP_SCHEDULE_DELAY", "100"},
                              {"OTEL_BLRP_MAX_QUEUE_SIZE", "10"},
                              {"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "5"}}));
  EXPECT_EQ(c.sampler.kind, SamplerKind::parentbased_traceidratio);
  EXPECT_DOUBLE_EQ(c.sampler.ratio, 0.25);
  EXPECT_EQ(c.span_batch.schedule_delay.count(), 100);
  EXPECT_EQ(c.log_batch.max_queue_size, 10u);
  EXPECT_EQ(c.log_batch.max_export_batch_size, 5u);
}

TEST(TelemetryConfig, ExcludedUrlsMergeTomodachiAndAiohttpWithGenericFallback) {
  Config c = load_config(env({{"OTEL_PYTHON_TOMODACHI_EXCLUDED_URLS", "/health, ^/metrics$"},
                              {"OTEL_PYTHON_EXCLUDED_URLS", "/generic"}}));
  // TOMODACHI set: its list; AIOHTTP unset: falls back to the generic variable.
  ASSERT_EQ(c.excluded_urls.size(), 3u);
  UrlExcluder excluder(c.excluded_urls);
  EXPECT_TRUE(excluder.excluded("/api/health/deep"));  // search, not full match
  EXPECT_TRUE(excluder.excluded("/metrics"));
  EXPECT_FALSE(excluder.excluded("/metrics/x"));
  EXPECT_TRUE(excluder.excluded("/x/generic"));
  EXPECT_FALSE(excluder.excluded("/orders"));
  Config d = load_config(
      env({{"OTEL_PYTHON_AIOHTTP_EXCLUDED_URLS", "/a"}, {"OTEL_PYTHON_EXCLUDED_URLS", "/g"}}));
  // AIOHTTP set; TOMODACHI unset: generic fallback for it.
  EXPECT_EQ(d.excluded_urls, (std::vector<std::string>{"/g", "/a"}));
  EXPECT_TRUE(UrlExcluder().excluded("/") == false);
}

TEST(TelemetryConfig, ResourceServiceNameRules) {
  Config plain = load_config(env({}));
  auto r = build_resource(plain, "orders", "uuid-1");
  EXPECT_EQ(value_of(r, "service.name"), "orders");
  EXPECT_EQ(value_of(r, "service.instance.id"), "uuid-1");
  EXPECT_EQ(value_of(r, "telemetry.sdk.language"), "cpp");
  auto generic = build_resource(plain, "service", "uuid-2");
  EXPECT_EQ(value_of(generic, "service.name"), "unknown_service");
  EXPECT_EQ(value_of(generic, "service.instance.id"),
            "<unset>");  // upstream: tracer/logger resource
  EXPECT_EQ(value_of(build_resource(plain, "app", "uuid-2", true), "service.instance.id"),
            "uuid-2");
  Config named = load_config(
      env({{"OTEL_SERVICE_NAME", "env-name"},
           {"OTEL_RESOURCE_ATTRIBUTES", "service.name=attr,service.instance.id=i9,team=a%2Cb"}}));
  auto n = build_resource(named, "orders", "uuid-3");
  EXPECT_EQ(value_of(n, "service.name"), "env-name");
  EXPECT_EQ(value_of(n, "service.instance.id"), "i9");
  EXPECT_EQ(value_of(n, "team"), "a,b");
  Config attr = load_config(env({{"OTEL_RESOURCE_ATTRIBUTES", "service.name=attr"}}));
  EXPECT_EQ(value_of(build_resource(attr, "orders", "u"), "service.name"), "attr");
  Config unknown =
      load_config(env({{"OTEL_RESOURCE_ATTRIBUTES", "service.name=unknown_service:python"}}));
  EXPECT_EQ(value_of(build_resource(unknown, "orders", "u"), "service.name"), "orders");
}

TEST(TelemetryConfig, InstrumentRequested) {
  EXPECT_FALSE(instrument_requested(env({})));
  for (auto off : {"0", "no", "None", "FALSE", ""}) {
    EXPECT_FALSE(instrument_requested(env({{"TOMODACHI_OPENTELEMETRY_INSTRUMENT", off}}))) << off;
  }
  for (auto on : {"1", "yes", "true", "anything"}) {
    EXPECT_TRUE(instrument_requested(env({{"TOMODACHI_OPENTELEMETRY_INSTRUMENT", on}}))) << on;
  }
}
