// Publisher confirms (src/amqp/publisher.hpp): how publishes that never reach the broker
// fail, and that their outcomes reach the loop — without a broker (the connection is down).
#include "amqp/publisher.hpp"

#include "io_parts_fixture.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace amqp_parts;
using namespace std::chrono_literals;

namespace {

struct Outcomes {
  std::map<std::string, std::string> by_key;  // routing key -> error text or "(ok)"

  amqp::PendingPublish publish(const std::string& exchange, const std::string& routing_key,
                               amqp::Clock::time_point deadline) {
    amqp::PendingPublish p;
    p.message.exchange = exchange;
    p.message.routing_key = routing_key;
    p.message.body = "{}";
    p.deadline = deadline;
    p.completion.callback = [this, routing_key](std::exception_ptr error) {
      by_key[routing_key] = message_of(error);
    };
    return p;
  }
};

const auto later = amqp::Clock::now() + 1h;

}  // namespace

TEST(Publisher, AnExpiredPublishFailsWithTheStateOfTheConnection) {
  Parts parts;
  amqp::Publisher publisher(parts.shared, parts.link);
  Outcomes outcomes;
  const auto now = amqp::Clock::now();
  publisher.add(outcomes.publish("amq.topic", "due", now - 1s));
  publisher.add(outcomes.publish("amq.topic", "later", later));
  EXPECT_EQ(publisher.next_expiry(), now - 1s);
  publisher.send_pending();  // not connected: nothing is sent
  publisher.expire(now, false);
  publisher.flush();
  parts.run_loop();
  EXPECT_EQ(outcomes.by_key.at("due"),
            "not connected [amqp] to broker.test:5999: the message to exchange \"amq.topic\" "
            "with routing key \"due\" was not confirmed in time");
  EXPECT_EQ(outcomes.by_key.count("later"), 0u);
  EXPECT_EQ(publisher.next_expiry(), later);
  EXPECT_FALSE(publisher.idle());
  EXPECT_FALSE(publisher.can_send());  // the publish channel is not open
  EXPECT_TRUE(parts.lost.empty());
}

TEST(Publisher, AMissingExchangeFailsItsQueuedPublishesAndKeepsTheOthers) {
  Parts parts;
  amqp::Publisher publisher(parts.shared, parts.link);
  Outcomes outcomes;
  publisher.add(outcomes.publish("gone", "a", later));
  publisher.add(outcomes.publish("amq.topic", "b", later));
  publisher.add(outcomes.publish("gone", "c", later));
  publisher.channel_failed({404, "NOT_FOUND - no exchange 'gone' in vhost '/'"});
  publisher.flush();
  parts.run_loop();
  EXPECT_EQ(outcomes.by_key.at("a"),
            "publish to exchange \"gone\" failed: 404 NOT_FOUND - no exchange 'gone' in vhost '/'");
  EXPECT_EQ(outcomes.by_key.count("c"), 1u);
  EXPECT_EQ(outcomes.by_key.count("b"), 0u);  // still waiting for the channel

  publisher.close();
  publisher.flush();
  parts.run_loop();
  EXPECT_EQ(outcomes.by_key.at("b"),
            "the AMQP connection to broker.test:5999 closed before the message was confirmed");
  EXPECT_TRUE(publisher.idle());
}

TEST(Publisher, ARefusedPublishFailsWithTheReason) {
  Parts parts;
  amqp::Publisher publisher(parts.shared, parts.link);
  Outcomes outcomes;
  publisher.refuse(outcomes.publish("amq.topic", "k", later), "the AMQP connection is closed");
  EXPECT_TRUE(outcomes.by_key.empty());  // outcomes go to the loop in one batch
  publisher.flush();
  parts.run_loop();
  EXPECT_EQ(outcomes.by_key.at("k"), "the AMQP connection is closed");
}

TEST(Publisher, NothingIsPostedOnceTheLoopIsGoingAway) {
  Parts parts;
  amqp::Publisher publisher(parts.shared, parts.link);
  Outcomes outcomes;
  publisher.add(outcomes.publish("amq.topic", "k", later));
  parts.shared.detached.store(true);
  publisher.close();
  publisher.flush();  // logged instead
  EXPECT_EQ(parts.io.poll(), 0u);
  EXPECT_TRUE(outcomes.by_key.empty());
}

// Awaited publishes carry a completion handler; erasing one between others moves them
// (Boost 1.81's any_completion_handler overflowed the stack on that move).
TEST(Publisher, AnExpiredPublishBetweenAwaitedOnesFailsAlone) {
  Parts parts;
  amqp::Publisher publisher(parts.shared, parts.link);
  std::map<std::string, std::string> outcomes;
  const auto awaited = [&](const std::string& key, amqp::Clock::time_point deadline) {
    amqp::PendingPublish p;
    p.message.exchange = "amq.topic";
    p.message.routing_key = key;
    p.deadline = deadline;
    p.completion.handler.emplace(
        [&outcomes, key](std::exception_ptr error) { outcomes[key] = message_of(error); });
    return p;
  };
  const auto now = amqp::Clock::now();
  publisher.add(awaited("a", later));
  publisher.add(awaited("b", now - 1s));
  publisher.add(awaited("c", later));
  publisher.expire(now, false);
  publisher.flush();
  parts.run_loop();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_NE(outcomes.at("b").find("with routing key \"b\" was not confirmed in time"),
            std::string::npos);
  publisher.close();
  publisher.flush();
  parts.run_loop();
  EXPECT_EQ(outcomes.size(), 3u);  // a and c were still waiting, their handlers intact
}
