// The `tomodachi_prometheus` variables: upstream's names, fallbacks, defaults and
// precedence (tomodachi/opentelemetry/prometheus.py, exemplars.py, distro.py), and
// start-up errors naming the variable.
#include "telemetry/config.hpp"

#include "env_support.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace tomodachi::telemetry;

namespace {
using test_support::env;
using test_support::error_of;
}  // namespace

TEST(PrometheusConfig, OffByDefaultWithUpstreamsDefaults) {
  PrometheusConfig c = load_config(env({})).prometheus;
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.host, "localhost");
  EXPECT_EQ(c.port, 9464);
  EXPECT_EQ(c.namespace_prefix, "");
  EXPECT_TRUE(c.include_scope_info);
  EXPECT_TRUE(c.include_target_info);
  EXPECT_FALSE(c.exemplars);
}

TEST(PrometheusConfig, MeterProviderOrMetricReaderTurnsItOn) {
  auto provider = load_config(env(
      {{"OTEL_PYTHON_METER_PROVIDER", "tomodachi_prometheus"}, {"OTEL_METRICS_EXPORTER", "otlp"}}));
  EXPECT_TRUE(provider.prometheus.enabled);
  // upstream's meter provider replaces the SDK's: OTEL_METRICS_EXPORTER is not read
  EXPECT_FALSE(provider.metrics.otlp);
  EXPECT_TRUE(
      load_config(env({{"OTEL_METER_PROVIDER", "tomodachi_prometheus"}})).prometheus.enabled);
  auto reader = load_config(env(
      {{"OTEL_PYTHON_METRIC_READER", "tomodachi_prometheus"}, {"OTEL_METRICS_EXPORTER", "otlp"}}));
  EXPECT_TRUE(reader.prometheus.enabled);
  EXPECT_TRUE(reader.metrics.otlp);  // the reader adds to the exporters
  EXPECT_TRUE(
      load_config(env({{"OTEL_METRIC_READER", "tomodachi_prometheus"}})).prometheus.enabled);
  EXPECT_FALSE(load_config(env({{"OTEL_PYTHON_METRIC_READER", "none"}})).prometheus.enabled);
  // environ.get(OTEL_PYTHON_METER_PROVIDER, environ.get(OTEL_METER_PROVIDER)): set wins, even empty
  EXPECT_FALSE(load_config(env({{"OTEL_PYTHON_METER_PROVIDER", ""},
                                {"OTEL_METER_PROVIDER", "tomodachi_prometheus"}}))
                   .prometheus.enabled);
}

TEST(PrometheusConfig, UnknownProviderOrReaderIsAStartUpError) {
  EXPECT_NE(
      error_of({{"OTEL_PYTHON_METER_PROVIDER", "prometheus"}}).find("OTEL_PYTHON_METER_PROVIDER"),
      std::string::npos);
  EXPECT_NE(error_of({{"OTEL_METER_PROVIDER", "x"}}).find("OTEL_METER_PROVIDER"),
            std::string::npos);
  EXPECT_NE(error_of({{"OTEL_PYTHON_METRIC_READER", "tomodachi_prometheus,other"}})
                .find("OTEL_PYTHON_METRIC_READER"),
            std::string::npos);
}

TEST(PrometheusConfig, AddressAndPortFallbacksInUpstreamsOrder) {
  const std::vector<std::string> hosts{
      "OTEL_PYTHON_TOMODACHI_PROMETHEUS_ADDRESS",
      "OTEL_TOMODACHI_PROMETHEUS_METER_PROVIDER_ADDRESS", "OTEL_TOMODACHI_PROMETHEUS_ADDRESS",
      "OTEL_PYTHON_EXPORTER_PROMETHEUS_HOST", "OTEL_EXPORTER_PROMETHEUS_HOST"};
  const std::vector<std::string> ports{
      "OTEL_PYTHON_TOMODACHI_PROMETHEUS_PORT", "OTEL_TOMODACHI_PROMETHEUS_METER_PROVIDER_PORT",
      "OTEL_TOMODACHI_PROMETHEUS_PORT", "OTEL_PYTHON_EXPORTER_PROMETHEUS_PORT",
      "OTEL_EXPORTER_PROMETHEUS_PORT"};
  // each variable wins over every later one; an empty value falls through (Python's `or`)
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    std::map<std::string, std::string> values;
    for (std::size_t j = i; j < hosts.size(); ++j) {
      values[hosts[j]] = "h" + std::to_string(j);
      values[ports[j]] = std::to_string(9000 + j);
    }
    if (i > 0) values[hosts[i - 1]] = "";
    auto c = load_config(env(values)).prometheus;
    EXPECT_EQ(c.host, "h" + std::to_string(i)) << hosts[i];
    EXPECT_EQ(c.port, 9000 + i) << ports[i];
  }
  EXPECT_NE(
      error_of({{"OTEL_TOMODACHI_PROMETHEUS_PORT", "http"}}).find("OTEL_TOMODACHI_PROMETHEUS_PORT"),
      std::string::npos);
  EXPECT_NE(
      error_of({{"OTEL_EXPORTER_PROMETHEUS_PORT", "70000"}}).find("OTEL_EXPORTER_PROMETHEUS_PORT"),
      std::string::npos);
}

TEST(PrometheusConfig, PrefixScopeTargetAndExemplarFlags) {
  auto c = load_config(env({{"OTEL_EXPORTER_PROMETHEUS_NAMESPACE_PREFIX", "late"},
                            {"OTEL_TOMODACHI_PROMETHEUS_NAMESPACE_PREFIX", "shop"},
                            {"OTEL_EXPORTER_PROMETHEUS_INCLUDE_SCOPE_INFO", "false"},
                            {"OTEL_PYTHON_EXPORTER_PROMETHEUS_INCLUDE_TARGET_INFO", "0"},
                            {"TOMODACHI_PROMETHEUS_EXEMPLARS_ENABLED", "TRUE"}}))
               .prometheus;
  EXPECT_EQ(c.namespace_prefix, "shop");
  EXPECT_FALSE(c.include_scope_info);
  EXPECT_FALSE(c.include_target_info);
  EXPECT_TRUE(c.exemplars);
  auto first = load_config(env({{"OTEL_PYTHON_TOMODACHI_PROMETHEUS_INCLUDE_SCOPE_INFO", "1"},
                                {"OTEL_EXPORTER_PROMETHEUS_INCLUDE_SCOPE_INFO", "false"},
                                {"OTEL_PYTHON_TOMODACHI_PROMETHEUS_EXEMPLARS_ENABLED", "false"},
                                {"OTEL_EXPORTER_PROMETHEUS_EXEMPLARS_ENABLED", "true"}}))
                   .prometheus;
  EXPECT_TRUE(first.include_scope_info);
  EXPECT_FALSE(first.exemplars);
  EXPECT_NE(error_of({{"OTEL_PYTHON_TOMODACHI_PROMETHEUS_EXEMPLARS_ENABLED", "yes"}})
                .find("OTEL_PYTHON_TOMODACHI_PROMETHEUS_EXEMPLARS_ENABLED"),
            std::string::npos);
  EXPECT_NE(error_of({{"OTEL_TOMODACHI_PROMETHEUS_INCLUDE_TARGET_INFO", "on"}})
                .find("OTEL_TOMODACHI_PROMETHEUS_INCLUDE_TARGET_INFO"),
            std::string::npos);
}

TEST(PrometheusConfig, ConfigErrorIsATomodachiError) {
  try {
    load_config(env({{"OTEL_PYTHON_METER_PROVIDER", "nope"}}));
    FAIL();
  } catch (const tomodachi::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
}
