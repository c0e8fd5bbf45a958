// The readiness of an SQS receive loop as readyz shows it.
#include "aws/receive_health.hpp"

#include <tomodachi/transport/health.hpp>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <string>

using tomodachi::aws::ReceiveHealth;

namespace {

std::optional<boost::json::object> check(const std::string& name) {
  tomodachi::Options::Health options;
  options.enabled = true;
  const auto answer = tomodachi::health_answer(options, "GET", "/readyz", "");
  if (!answer) return std::nullopt;
  const boost::json::value body = boost::json::parse(answer->body);
  for (const auto& entry : body.at("checks").as_array()) {
    if (entry.at("name").as_string() == name) return entry.as_object();
  }
  return std::nullopt;
}

bool ok(const std::string& name) { return check(name)->at("ok").as_bool(); }

std::string reason(const std::string& name) {
  const auto found = check(name);
  return found->contains("reason") ? std::string(found->at("reason").as_string()) : "";
}

}  // namespace

TEST(ReceiveHealth, PassesOnlyAfterASuccessfulReceiveSinceTheStartOrTheLastFailure) {
  ReceiveHealth health("events", std::chrono::seconds(60));
  EXPECT_EQ(reason("sqs:events"), "the receive loop has not started");
  EXPECT_TRUE(health.short_poll());
  health.polling();
  EXPECT_FALSE(ok("sqs:events"));
  EXPECT_EQ(reason("sqs:events"), "waiting for the first receive");
  health.received();
  EXPECT_TRUE(ok("sqs:events"));
  EXPECT_FALSE(health.short_poll());
  health.polling();  // a long poll after a success keeps passing
  EXPECT_TRUE(ok("sqs:events"));

  health.failed("receive failed: connection refused");
  EXPECT_EQ(reason("sqs:events"), "receive failed: connection refused");
  EXPECT_TRUE(health.short_poll());
  health.polling();  // a poll alone does not pass again
  EXPECT_EQ(reason("sqs:events"), "receive failed: connection refused");
  health.received();
  EXPECT_TRUE(ok("sqs:events"));

  health.stopped();
  EXPECT_EQ(reason("sqs:events"), "the receive loop stopped");
}

TEST(ReceiveHealth, AReceiveOlderThanTheMaximumAgeFails) {
  ReceiveHealth health("quiet", std::chrono::milliseconds(0));
  health.received();
  EXPECT_EQ(reason("sqs:quiet"), "no successful receive within health.sqs_receive_max_age (0 s)");
}
