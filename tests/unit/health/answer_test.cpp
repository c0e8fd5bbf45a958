#include "health/answer.hpp"
#include "health/registry.hpp"

#include <tomodachi/transport/health.hpp>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <string>

namespace health = tomodachi::health;
using tomodachi::ReadinessReport;
using namespace std::chrono_literals;

namespace {

/// The registry as one started, configured run with a fresh heartbeat.
void started_run() {
  auto& registry = health::Registry::instance();
  registry.begin_run(1);
  tomodachi::Options::Health options;
  options.enabled = true;
  registry.configure(options);
  registry.container_started();
}

boost::json::object check_named(const std::string& body, const std::string& name) {
  const boost::json::value parsed = boost::json::parse(body);
  for (const auto& check : parsed.at("checks").as_array()) {
    if (check.at("name").as_string() == name) return check.as_object();
  }
  ADD_FAILURE() << "no check " << name << " in " << body;
  return {};
}

}  // namespace

TEST(HealthPaths, ProbesUnderThePrefix) {
  EXPECT_EQ(health::match_probe("/", "/livez"), health::Probe::livez);
  EXPECT_EQ(health::match_probe("/", "/readyz"), health::Probe::readyz);
  EXPECT_EQ(health::match_probe("/health/", "/health/startupz"), health::Probe::startupz);
  EXPECT_FALSE(health::match_probe("/health/", "/readyz"));
  EXPECT_FALSE(health::match_probe("/", "/readyz/"));
  EXPECT_FALSE(health::match_probe("/", "/"));
  EXPECT_TRUE(health::verbose_query("verbose"));
  EXPECT_TRUE(health::verbose_query("a=1&verbose=1"));
  EXPECT_FALSE(health::verbose_query("verbose=0"));
  EXPECT_FALSE(health::verbose_query("verbosely"));
}

TEST(HealthAnswers, ReadyzNamesEveryFailingCheckAndWhy) {
  started_run();
  ReadinessReport consumer("amqp:orders");
  consumer.failing("reconnecting: connection refused");
  ReadinessReport listener("http:8080");
  listener.ok();

  auto answer = health::render(health::Probe::readyz, false);
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(answer.content_type, health::json_type);
  EXPECT_EQ(boost::json::parse(answer.body).at("status"), "failed");
  EXPECT_EQ(check_named(answer.body, "amqp:orders").at("reason"),
            "reconnecting: connection refused");
  EXPECT_EQ(check_named(answer.body, "http:8080").at("ok"), true);

  answer = health::render(health::Probe::readyz, true);
  EXPECT_NE(answer.body.find("[-]amqp:orders failed: reconnecting: connection refused\n"),
            std::string::npos)
      << answer.body;
  EXPECT_NE(answer.body.find("[+]http:8080 ok\n"), std::string::npos) << answer.body;
  EXPECT_TRUE(answer.body.ends_with("readyz check failed\n")) << answer.body;

  consumer.ok();
  answer = health::render(health::Probe::readyz, true);
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_TRUE(answer.body.ends_with("readyz check passed\n")) << answer.body;
}

TEST(HealthAnswers, AReportLeavesReadinessWithItsObject) {
  started_run();
  {
    ReadinessReport gone("sqs:old-queue", "never reported");
    EXPECT_EQ(health::render(health::Probe::readyz, false).status, 503);
  }
  EXPECT_EQ(health::render(health::Probe::readyz, false).status, 200);
}

TEST(HealthAnswers, WindowedReportsPassOnlyInsideTheirWindow) {
  started_run();
  ReadinessReport receive("sqs:queue");
  const auto now = ReadinessReport::Clock::now();
  receive.ok_between(now + 1h, now + 2h, "waiting for the first receive", "stale");
  auto answer = health::render(health::Probe::readyz, false);
  EXPECT_EQ(check_named(answer.body, "sqs:queue").at("reason"), "waiting for the first receive");
  receive.ok_between(now - 2h, now - 1h, "before", "no successful receive for too long");
  answer = health::render(health::Probe::readyz, false);
  EXPECT_EQ(check_named(answer.body, "sqs:queue").at("reason"),
            "no successful receive for too long");
  receive.ok_between(now - 1h, now + 1h, "before", "after");
  EXPECT_EQ(health::render(health::Probe::readyz, false).status, 200);
}

TEST(HealthAnswers, StartupAndDrainingAreChecksOfTheirOwn) {
  auto& registry = health::Registry::instance();
  registry.begin_run(2);
  registry.configure(tomodachi::Options::Health{});
  registry.container_started();
  auto answer = health::render(health::Probe::startupz, false);
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(check_named(answer.body, "startup").at("ok"), false);
  EXPECT_EQ(health::render(health::Probe::livez, false).status, 200);
  registry.container_started();
  EXPECT_EQ(health::render(health::Probe::startupz, false).status, 200);
  EXPECT_EQ(health::render(health::Probe::readyz, false).status, 200);
  registry.begin_drain();
  answer = health::render(health::Probe::readyz, false);
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(check_named(answer.body, "draining").at("reason"), "the process is stopping");
  EXPECT_EQ(health::render(health::Probe::livez, false).status, 200);
}

TEST(HealthAnswers, OnlyEnabledHealthWithoutAPortIsServedByTheHttpServer) {
  started_run();
  tomodachi::Options::Health options;
  EXPECT_FALSE(tomodachi::health_answer(options, "GET", "/readyz", ""));
  options.enabled = true;
  EXPECT_TRUE(tomodachi::health_answer(options, "GET", "/readyz", ""));
  EXPECT_TRUE(tomodachi::health_answer(options, "HEAD", "/livez", ""));
  EXPECT_FALSE(tomodachi::health_answer(options, "POST", "/readyz", ""));
  EXPECT_FALSE(tomodachi::health_answer(options, "GET", "/other", ""));
  options.port = 8081;
  EXPECT_FALSE(tomodachi::health_answer(options, "GET", "/readyz", ""));
}
