// The readiness of a connection's consumers as readyz shows it.
#include "amqp/consumer_health.hpp"

#include <tomodachi/transport/health.hpp>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <optional>
#include <string>

using tomodachi::amqp_impl::ConsumerHealth;

namespace {

/// The check `name` of readyz now, if it is listed.
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

std::string reason(const std::string& name) {
  const auto found = check(name);
  if (!found || !found->contains("reason")) return "";
  return std::string(found->at("reason").as_string());
}

}  // namespace

TEST(ConsumerHealth, RegisteredOnConsumeOkFailingWhileReconnectingOrCancelled) {
  ConsumerHealth health;
  EXPECT_FALSE(check("amqp:orders"));
  health.consuming(1, "orders");
  ASSERT_TRUE(check("amqp:orders"));
  EXPECT_EQ(check("amqp:orders")->at("ok"), true);

  health.connection_lost("connection refused");
  EXPECT_EQ(check("amqp:orders")->at("ok"), false);
  EXPECT_EQ(reason("amqp:orders"), "reconnecting: connection refused");
  health.consuming(1, "orders");  // consume-ok after the reconnect
  EXPECT_EQ(check("amqp:orders")->at("ok"), true);

  health.cancelled_by_broker(1);
  EXPECT_EQ(reason("amqp:orders"),
            "consumer cancelled by the broker (queue deleted?) - consuming again");
  health.connection_lost("consumer channel closed by the broker: RESOURCE_LOCKED");
  EXPECT_EQ(reason("amqp:orders"),
            "consumer cancelled by the broker (queue deleted?) - consuming again; then "
            "reconnecting: consumer channel closed by the broker: RESOURCE_LOCKED");
  health.consuming(1, "orders");
  EXPECT_EQ(check("amqp:orders")->at("ok"), true);

  health.forget({1});  // cancelled by the loop: the process stops
  EXPECT_FALSE(check("amqp:orders"));
}
