// The http.server.* series of traced requests through ServerMetrics' cache of handles:
// each attribute set and status gets its own series, attributes are asked for only when a
// series is new, and a cache that starts over between begin() and end() is safe.
#include "http/server_metrics.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

using namespace tomodachi;
using namespace tomodachi::http_impl;
using telemetry::MetricsRegistry;

namespace {

trace::Attributes request_attributes(const std::string& route) {
  return {{"http.request.method", std::string("GET")},
          {"http.route", route},
          {"url.path", std::string("/ignored")}};
}

// http.server.active_requests by route (none: it has no http.route) and the duration
// count by route and status.
struct Seen {
  std::map<std::string, std::int64_t> active;
  std::map<std::pair<std::string, std::int64_t>, std::uint64_t> durations;
};

std::string text(const trace::Attributes& attributes, const std::string& key) {
  for (const auto& [k, v] : attributes)
    if (k == key) return std::get<std::string>(v);
  return {};
}

Seen seen(const MetricsRegistry& registry) {
  Seen out;
  for (const auto& metric : registry.collect()) {
    for (const auto& point : metric.points) {
      const std::string route = text(point.attributes, "http.route");
      if (metric.name == "http.server.active_requests") {
        out.active[route] = std::get<std::int64_t>(point.value);
        continue;
      }
      std::int64_t status = 0;
      for (const auto& [k, v] : point.attributes)
        if (k == "http.response.status_code") status = std::get<std::int64_t>(v);
      out.durations[{route, status}] = std::get<telemetry::HistogramPoint>(point.value).count;
    }
  }
  return out;
}

}  // namespace

TEST(ServerMetrics, EachAttributeSetAndStatusHasItsSeriesAndAttributesAreBuiltOnce) {
  MetricsRegistry registry;
  ServerMetrics metrics;
  const trace::Span no_span;
  int built = 0;
  auto one_request = [&](const std::string& route, std::int64_t status) {
    const trace::Attributes attributes = request_attributes(route);
    const auto given = [&]() -> const trace::Attributes& {
      ++built;
      return attributes;
    };
    auto in_flight = metrics.begin(registry, "GET\x1f" + route, given);
    metrics.end(in_flight, status, 0.01, no_span, given);
  };
  one_request("/a", 200);
  one_request("/a", 200);
  one_request("/a", 404);
  one_request("/b", 200);
  const Seen result = seen(registry);
  // active_requests has no http.route (upstream's keys): one series for both routes.
  EXPECT_EQ(result.active, (std::map<std::string, std::int64_t>{{"", 0}}));
  EXPECT_EQ(result.durations.at({"/a", 200}), 2u);
  EXPECT_EQ(result.durations.at({"/a", 404}), 1u);
  EXPECT_EQ(result.durations.at({"/b", 200}), 1u);
  EXPECT_EQ(built, 5);  // /a active + 200 + 404, /b active + 200: never for a known series
}

TEST(ServerMetrics, ACacheThatStartsOverDuringARequestStillCountsItRight) {
  MetricsRegistry registry;
  ServerMetrics metrics;
  const trace::Span no_span;
  const trace::Attributes slow = request_attributes("/slow");
  const auto slow_attributes = [&]() -> const trace::Attributes& { return slow; };
  auto in_flight = metrics.begin(registry, "slow", slow_attributes);
  EXPECT_EQ(seen(registry).active.at(""), 1);
  for (int i = 0; i < 5000; ++i) {  // more attribute sets than the cache keeps
    const trace::Attributes other = request_attributes("/r" + std::to_string(i));
    const auto given = [&]() -> const trace::Attributes& { return other; };
    auto fast = metrics.begin(registry, "r" + std::to_string(i), given);
    metrics.end(fast, 200, 0.001, no_span, given);
  }
  metrics.end(in_flight, 500, 2.0, no_span, slow_attributes);
  const Seen result = seen(registry);
  EXPECT_EQ(result.active.at(""), 0);
  EXPECT_EQ(result.durations.at({"/slow", 500}), 1u);
  EXPECT_EQ(result.durations.size(), 5001u);
}

TEST(ServerMetrics, AnotherRegistryGetsItsOwnSeries) {
  MetricsRegistry first, second;
  ServerMetrics metrics;
  const trace::Span no_span;
  const trace::Attributes attributes = request_attributes("/a");
  const auto given = [&]() -> const trace::Attributes& { return attributes; };
  auto a = metrics.begin(first, "a", given);
  metrics.end(a, 200, 0.1, no_span, given);
  auto b = metrics.begin(second, "a", given);
  metrics.end(b, 200, 0.1, no_span, given);
  EXPECT_EQ(seen(first).durations.at({"/a", 200}), 1u);
  EXPECT_EQ(seen(second).durations.at({"/a", 200}), 1u);
}
