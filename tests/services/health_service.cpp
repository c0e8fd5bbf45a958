// Test service of tests/e2e/test_health.py: health endpoints on (options.health.*), the
// transports chosen by environment variables.
//
//   TOMODACHI_TEST_HEALTH_PORT      health.port (unset: the HTTP server serves the paths)
//   TOMODACHI_TEST_HTTP_PORT        http.port; with it, routes /ping, /slow, /block, /db
//   TOMODACHI_TEST_HEALTH_PREFIX    health.path_prefix
//   TOMODACHI_TEST_DRAIN_DELAY      health.drain_delay (seconds)
//   TOMODACHI_TEST_GRACE            http.termination_grace_period_seconds
//   TOMODACHI_TEST_START_DELAY      seconds start_service awaits (without blocking the loop)
//   TOMODACHI_TEST_AMQP_PORT        with it, an AMQP consumer of routing key "health.test"
//   TOMODACHI_TEST_AWS_ENDPOINT     with it, an SNS/SQS consumer of topic TOMODACHI_TEST_TOPIC
//   TOMODACHI_TEST_DB_CHECK         "1": readiness check "database", failing after GET /db?ok=0
//   TOMODACHI_TEST_SLOW_CHECK       "1": readiness check "slow" (0.5 s timeout) that takes 3 s,
//                                   and "raising" that throws
//
// GET /block?seconds=s blocks the loop for s seconds (livez must notice); GET /slow?seconds=s
// answers after s seconds without blocking it.
#include <tomodachi/tomodachi.hpp>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace {
std::string env(const char* name, const char* fallback = "") {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}
}  // namespace

class HealthTestService : public tomodachi::Service {
 public:
  HealthTestService() : Service("health-test-service") {
    options.health.enabled = true;
    options.health.max_loop_lag = 1;
    if (!env("TOMODACHI_TEST_HEALTH_PORT").empty())
      options.health.port = std::atoi(env("TOMODACHI_TEST_HEALTH_PORT").c_str());
    if (!env("TOMODACHI_TEST_HEALTH_PREFIX").empty())
      options.health.path_prefix = env("TOMODACHI_TEST_HEALTH_PREFIX");
    options.health.drain_delay = std::atof(env("TOMODACHI_TEST_DRAIN_DELAY", "0").c_str());
    options.health.sqs_receive_max_age = 30;
    options.http.termination_grace_period_seconds =
        std::atoi(env("TOMODACHI_TEST_GRACE", "30").c_str());
    if (!env("TOMODACHI_TEST_HTTP_PORT").empty()) {
      options.http.port = std::atoi(env("TOMODACHI_TEST_HTTP_PORT").c_str());
      options.http.host = "127.0.0.1";
      http<&HealthTestService::ping>("GET", "/ping");
      http<&HealthTestService::slow>("GET", "/slow");
      http<&HealthTestService::block>("GET", "/block");
      http<&HealthTestService::set_db>("GET", "/db");
    }
    if (!env("TOMODACHI_TEST_AMQP_PORT").empty()) {
      options.amqp.host = "127.0.0.1";
      options.amqp.port = std::atoi(env("TOMODACHI_TEST_AMQP_PORT").c_str());
      amqp<&HealthTestService::on_message>("health.test", {.queue_name = "health-test-queue"});
    }
    if (!env("TOMODACHI_TEST_AWS_ENDPOINT").empty()) {
      const auto endpoint = env("TOMODACHI_TEST_AWS_ENDPOINT");
      options.aws_endpoint_urls.sns = endpoint;
      options.aws_endpoint_urls.sqs = endpoint;
      options.aws_sns_sqs.region_name = "eu-west-1";
      options.aws_sns_sqs.aws_access_key_id = "test";
      options.aws_sns_sqs.aws_secret_access_key = "test";
      aws_sns_sqs<&HealthTestService::on_message>(env("TOMODACHI_TEST_TOPIC", "health-topic"),
                                                  {.queue_name = "health-test-queue"});
    }
    if (env("TOMODACHI_TEST_DB_CHECK") == "1")
      readiness_check<&HealthTestService::database>("database");
    if (env("TOMODACHI_TEST_SLOW_CHECK") == "1") {
      readiness_check<&HealthTestService::slow_check>("slow", std::chrono::milliseconds(500));
      readiness_check<&HealthTestService::raising_check>("raising");
    }
  }

  tomodachi::Task<void> start_service() override {
    const double delay = std::atof(env("TOMODACHI_TEST_START_DELAY", "0").c_str());
    if (delay > 0) co_await tomodachi::sleep(delay);
    tomodachi::get_logger().info("start_service done");
  }

 private:
  tomodachi::Task<tomodachi::Response> ping(tomodachi::Request&) { co_return "pong"; }

  tomodachi::Task<tomodachi::Response> slow(tomodachi::Request& request) {
    co_await tomodachi::sleep(std::atof(request.query("seconds").value_or("1").c_str()));
    co_return "slow";
  }

  tomodachi::Task<tomodachi::Response> block(tomodachi::Request& request) {
    const double seconds = std::atof(request.query("seconds").value_or("3").c_str());
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));  // blocks the loop
    co_return "blocked";
  }

  tomodachi::Task<tomodachi::Response> set_db(tomodachi::Request& request) {
    db_ok_ = request.query("ok").value_or("1") != "0";
    co_return db_ok_ ? "db ok" : "db failing";
  }

  tomodachi::Task<tomodachi::HealthCheck> database() {
    co_return tomodachi::HealthCheck{db_ok_, db_ok_ ? "" : "database unreachable (test)"};
  }

  tomodachi::Task<tomodachi::HealthCheck> slow_check() {
    co_await tomodachi::sleep(3);
    co_return tomodachi::HealthCheck{};
  }

  tomodachi::Task<tomodachi::HealthCheck> raising_check() {
    throw std::runtime_error("cache offline");
    co_return tomodachi::HealthCheck{};
  }

  tomodachi::Task<void> on_message(tomodachi::Message&) { co_return; }

  bool db_ok_ = true;
};

TOMODACHI_SERVICE(HealthTestService);
