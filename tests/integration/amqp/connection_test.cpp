// The AMQP connection I/O thread against a real RabbitMQ: connect failures, declarations and
// their errors read back from the broker, consume/ack, publisher confirms, heartbeats and
// reconnects (network failure, frozen peer, broker restart).
#include "amqp/connection.hpp"
#include "amqp/naming.hpp"
#include "amqp/topology.hpp"
#include "broker.hpp"

#include <tomodachi/amqp.hpp>

#include <gtest/gtest.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <set>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace rmq = tomodachi::amqp_impl;
using amqp_test::run;
using amqp_test::run_until;
using amqp_test::unique;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view service_uuid = "5d0b530f-5c44-4981-b01f-342801bd48f5";

int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

class AmqpConnection : public ::testing::Test {
 protected:
  void SetUp() override {
    broker = amqp_test::Broker::from_env();
    if (!broker) GTEST_SKIP() << "no test RabbitMQ (run through ctest, fixture rabbitmq)";
  }

  rmq::ConnectionSettings settings(int port = 0) const {
    rmq::ConnectionSettings s;
    s.host = broker->host;
    s.port = port ? port : broker->port;
    s.heartbeat = 10;
    s.connect_timeout = 2s;
    return s;
  }

  // Declares, binds and consumes one subscription; returns its queue.
  std::string subscribe(rmq::Connection& connection, const std::string& routing_key,
                        std::uint32_t consumer_id, std::optional<bool> competing = true,
                        double queue_ttl = 600) {
    rmq::TopologySettings topology;
    topology.queue_ttl = queue_ttl;
    rmq::SubscriptionSpec subscription{routing_key,  "func",       competing,
                                       std::nullopt, std::nullopt, consumer_id};
    for (const auto& step : rmq::plan_subscriptions({subscription}, topology, service_uuid)) {
      run(io, connection.execute(step));
    }
    return rmq::queue_name_of(subscription, topology, service_uuid);
  }

  rmq::OutgoingMessage message(const std::string& routing_key, std::string body) const {
    return rmq::OutgoingMessage{
        "amq.topic", rmq::encode_routing_key(routing_key), std::move(body), {}};
  }

  static auto deadline(std::chrono::milliseconds in = 20s) {
    return rmq::Connection::Clock::now() + in;
  }

  // Collects deliveries on the loop.
  void collect(rmq::Connection& connection) {
    connection.on_deliveries([this](std::vector<rmq::Delivery>& batch) {
      for (auto& d : batch) received.push_back(std::move(d));
    });
  }

  boost::asio::io_context io;
  std::optional<amqp_test::Broker> broker;
  std::vector<rmq::Delivery> received;
};

template <typename Exception>
std::string error_of(boost::asio::io_context& io, tomodachi::Task<void> task) {
  try {
    run(io, std::move(task));
  } catch (const Exception& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace

TEST_F(AmqpConnection, UnreachableBrokerFailsWithUpstreamsMessage) {
  const int port = unused_port();
  rmq::Connection connection(settings(port), io.get_executor());
  EXPECT_EQ(
      error_of<tomodachi::AmqpConnectionException>(io, connection.connect()),
      "Unable to connect [amqp] to 127.0.0.1:" + std::to_string(port) + " (connection refused)");
  // Nothing is queued silently on a connection that never came up.
  EXPECT_EQ(error_of<tomodachi::AmqpConnectionException>(
                io, connection.publish(message("a.b", "x"), deadline())),
            "not connected [amqp] to 127.0.0.1:" + std::to_string(port));
}

TEST_F(AmqpConnection, BadCredentialsFailClearly) {
  auto s = settings();
  s.password = "not-the-password";
  rmq::Connection connection(s, io.get_executor());
  const std::string error = error_of<tomodachi::AmqpConnectionException>(io, connection.connect());
  EXPECT_NE(error.find("Unable to connect [amqp] to 127.0.0.1:"), std::string::npos) << error;
  EXPECT_NE(error.find("ACCESS_REFUSED"), std::string::npos) << error;
}

TEST_F(AmqpConnection, UnknownVirtualHostFailsClearly) {
  auto s = settings();
  s.virtualhost = "no-such-vhost";
  rmq::Connection connection(s, io.get_executor());
  const std::string error = error_of<tomodachi::AmqpConnectionException>(io, connection.connect());
  EXPECT_NE(error.find("no-such-vhost"), std::string::npos) << error;
}

TEST_F(AmqpConnection, DeclaresBindsConsumesAndAcksAsUpstreamDoes) {
  rmq::Connection connection(settings(), io.get_executor());
  collect(connection);
  run(io, connection.connect());
  const std::string key = unique("it.round") + ".友達";
  const std::string queue = subscribe(connection, key, 7, std::nullopt);  // non-competing

  const auto queues = broker->queues("arguments durable auto_delete exclusive");
  ASSERT_TRUE(queues.count(queue)) << queue;
  EXPECT_EQ(queues.at(queue)[0], "[{\"x-expires\",600000}]");
  EXPECT_EQ(queues.at(queue)[1], "true");
  EXPECT_EQ(queues.at(queue)[2], "false");
  EXPECT_EQ(queues.at(queue)[3], "false");
  bool bound = false;
  for (const auto& row : broker->bindings()) {
    if (row.size() == 3 && row[0] == "amq.topic" && row[1] == queue &&
        row[2] == rmq::encode_routing_key(key))
      bound = true;
  }
  EXPECT_TRUE(bound);

  run(io, connection.publish(message(key, "hello"), deadline()));
  ASSERT_TRUE(run_until(io, [&] { return received.size() == 1; }));
  const auto& delivery = received.front();
  EXPECT_EQ(delivery.body, "hello");
  EXPECT_EQ(delivery.consumer_id, 7u);
  EXPECT_EQ(delivery.exchange, "amq.topic");
  EXPECT_EQ(delivery.routing_key, rmq::encode_routing_key(key));
  EXPECT_FALSE(delivery.redelivered);
  EXPECT_TRUE(delivery.properties.empty());  // upstream publishes without properties
  connection.ack(delivery.epoch, delivery.delivery_tag);
  EXPECT_TRUE(run_until(
      io,
      [&] {
        return broker->queues("messages_ready messages_unacknowledged").at(queue) ==
               std::vector<std::string>{"0", "0"};
      },
      30s));  // each look is a rabbitmqctl call: seconds on a busy machine
}

TEST_F(AmqpConnection, WildcardsPropertiesAndMultiFrameBodies) {
  rmq::Connection connection(settings(), io.get_executor());
  collect(connection);
  run(io, connection.connect());
  const std::string base = unique("it.wild");
  subscribe(connection, base + ".*.created", 1);
  subscribe(connection, base + ".#", 2);

  auto persistent = message(base + ".user.created", std::string(3 * 1024 * 1024 + 17, 'x'));
  persistent.properties.delivery_mode = 2;
  persistent.properties.headers = boost::json::object{{"attempt", 2}, {"error", "boom"}};
  run(io, connection.publish(persistent, deadline()));
  run(io, connection.publish(message(base + ".user.deleted.now", "deep"), deadline()));

  ASSERT_TRUE(run_until(io, [&] { return received.size() == 3; })) << received.size();
  int star = 0, hash = 0;
  for (const auto& d : received) {
    (d.consumer_id == 1 ? star : hash)++;
    if (d.body.size() > 100) {
      EXPECT_EQ(d.body, persistent.body);
      EXPECT_EQ(d.properties, persistent.properties);
    }
    connection.ack(d.epoch, d.delivery_tag);
  }
  EXPECT_EQ(star, 1);
  EXPECT_EQ(hash, 2);
}

TEST_F(AmqpConnection, DeclarationErrorsCarryTheBrokersReasonAndLeaveTheConnectionUsable) {
  rmq::Connection connection(settings(), io.get_executor());
  run(io, connection.connect());

  // Reserved "amq." prefix (403).
  try {
    run(io, connection.execute(rmq::ExchangeDeclareStep{"amq.tomodachi-test"}));
    FAIL() << "declared a reserved exchange";
  } catch (const tomodachi::AmqpChannelClosed& error) {
    EXPECT_EQ(error.reply_code(), 403);
    EXPECT_NE(error.reply_text().find("amq."), std::string::npos) << error.reply_text();
  }

  // Type conflict (406).
  const std::string exchange = unique("it-exchange");
  rmq::ExchangeDeclareStep direct{exchange};
  direct.type = "direct";
  run(io, connection.execute(direct));
  try {
    run(io, connection.execute(rmq::ExchangeDeclareStep{exchange}));
    FAIL() << "changed an exchange's type";
  } catch (const tomodachi::AmqpChannelClosed& error) {
    EXPECT_EQ(error.reply_code(), 406);
  }

  // Different x-expires on an existing queue (406): a C++ service must use the same queue_ttl.
  rmq::QueueDeclareStep declare{unique("it-queue")};
  declare.x_expires = 60000;
  run(io, connection.execute(declare));
  declare.x_expires = 120000;
  EXPECT_THROW(run(io, connection.execute(declare)), tomodachi::AmqpChannelClosed);

  // The management channel was reopened: declarations work again.
  declare.x_expires = 60000;
  EXPECT_NO_THROW(run(io, connection.execute(declare)));
  run(io, connection.execute(rmq::ExchangeDeclareStep{unique("it-topic")}));
}

TEST_F(AmqpConnection, ExclusiveQueueLockAndMaxConsumers) {
  rmq::Connection first(settings(), io.get_executor());
  rmq::Connection second(settings(), io.get_executor());
  run(io, first.connect());
  run(io, second.connect());

  rmq::QueueDeclareStep exclusive{unique("it-exclusive")};
  exclusive.exclusive = true;
  exclusive.durable = false;
  run(io, first.execute(exclusive));
  rmq::QueueDeclareStep other{exclusive.queue};
  other.durable = false;
  EXPECT_THROW(run(io, second.execute(other)), tomodachi::AmqpExclusiveQueueLockedException);

  // A non-competing queue may have one consumer only.
  rmq::QueueDeclareStep single{unique("it-single")};
  single.single_consumer = true;
  run(io, first.execute(single));
  run(io, first.execute(rmq::ConsumeStep{single.queue, 1}));
  try {
    run(io, second.execute(single));
    FAIL() << "second consumer accepted";
  } catch (const tomodachi::AmqpTooManyConsumersException& error) {
    EXPECT_STREQ(error.what(), "Max consumers for this queue has been reached");
  }
  rmq::QueueDeclareStep competing{single.queue};
  EXPECT_EQ(run(io, second.execute(competing)).consumer_count, 1u);
}

TEST_F(AmqpConnection, PublishToAMissingExchangeFailsAndLaterPublishesSucceed) {
  rmq::Connection connection(settings(), io.get_executor());
  run(io, connection.connect());
  rmq::OutgoingMessage lost{unique("no-such-exchange"), "a.b", "x", {}};
  try {
    run(io, connection.publish(lost, deadline()));
    FAIL() << "published to a missing exchange";
  } catch (const tomodachi::AmqpChannelClosed& error) {
    EXPECT_EQ(error.reply_code(), 404);
    EXPECT_NE(std::string(error.what()).find(lost.exchange), std::string::npos) << error.what();
  }
  EXPECT_NO_THROW(run(io, connection.publish(message("a.b", "after"), deadline())));
}

TEST_F(AmqpConnection, PipelinedPublishesAreAllConfirmed) {
  rmq::Connection connection(settings(), io.get_executor());
  connection.on_deliveries([&](std::vector<rmq::Delivery>& batch) {
    for (auto& d : batch) {
      connection.ack(d.epoch, d.delivery_tag);
      received.push_back(std::move(d));
    }
  });
  run(io, connection.connect());
  const std::string key = unique("it.many");
  const std::string queue = subscribe(connection, key, 1);
  constexpr int count = 3000;
  int confirmed = 0, failed = 0;
  for (int i = 0; i < count; ++i) {
    connection.publish_detached(message(key, std::to_string(i)), deadline(),
                                [&](std::exception_ptr error) { (error ? failed : confirmed)++; });
  }
  ASSERT_TRUE(run_until(io, [&] { return confirmed + failed == count; }));
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(connection.stats().confirmed, static_cast<std::uint64_t>(count));
  ASSERT_TRUE(run_until(io, [&] { return received.size() == count; }));
  for (int i = 0; i < count; ++i)
    EXPECT_EQ(received[i].body, std::to_string(i));  // one queue: in order
  // Every ack reached the broker (most of them coalesced into basic.ack(multiple)).
  EXPECT_TRUE(run_until(
      io,
      [&] {
        return broker->queues("messages_ready messages_unacknowledged").at(queue) ==
               std::vector<std::string>{"0", "0"};
      },
      30s));  // each look is a rabbitmqctl call: seconds on a busy machine
}

TEST_F(AmqpConnection, AcksInAnyOrderMixedWithNacksSettleExactlyTheirMessages) {
  rmq::Connection connection(settings(), io.get_executor());
  collect(connection);
  run(io, connection.connect());
  const std::string key = unique("it.order");
  const std::string queue = subscribe(connection, key, 1);
  for (int i = 0; i < 20; ++i)
    run(io, connection.publish(message(key, std::to_string(i)), deadline()));
  ASSERT_TRUE(run_until(io, [&] { return received.size() == 20; }));
  const auto first = received;
  for (int i = 19; i >= 0; i -= 2) {  // odd ones, newest first, except two that are nacked
    if (i != 3 && i != 7) connection.ack(first[i].epoch, first[i].delivery_tag);
  }
  connection.nack(first[3].epoch, first[3].delivery_tag, true);
  connection.nack(first[7].epoch, first[7].delivery_tag, true);
  for (int i = 0; i < 20; i += 2) connection.ack(first[i].epoch, first[i].delivery_tag);  // even
  ASSERT_TRUE(run_until(io, [&] { return received.size() == 22; })) << received.size();
  std::set<std::string> again{received[20].body, received[21].body};
  EXPECT_EQ(again, (std::set<std::string>{"3", "7"}));
  EXPECT_TRUE(received[20].redelivered && received[21].redelivered);
  connection.ack(received[20].epoch, received[20].delivery_tag);
  connection.ack(received[21].epoch, received[21].delivery_tag);
  EXPECT_TRUE(run_until(
      io,
      [&] {
        return broker->queues("messages_ready messages_unacknowledged").at(queue) ==
               std::vector<std::string>{"0", "0"};
      },
      30s));  // each look is a rabbitmqctl call: seconds on a busy machine
  run_until(
      io, [] { return false; }, 300ms);
  EXPECT_EQ(received.size(), 22u);  // nothing else came back
}

TEST_F(AmqpConnection, CancelledConsumersGetNothingMore) {
  rmq::Connection connection(settings(), io.get_executor());
  collect(connection);
  run(io, connection.connect());
  const std::string key = unique("it.cancel");
  const std::string queue = subscribe(connection, key, 3);
  run(io, connection.cancel({3}));
  run(io, connection.publish(message(key, "kept"), deadline()));
  EXPECT_TRUE(run_until(
      io,
      [&] { return broker->queues("messages_ready").at(queue) == std::vector<std::string>{"1"}; },
      30s));
  EXPECT_TRUE(received.empty());
}

TEST_F(AmqpConnection, CloseWaitsForOutstandingConfirms) {
  rmq::Connection connection(settings(), io.get_executor());
  run(io, connection.connect());
  int confirmed = 0;
  for (int i = 0; i < 200; ++i) {
    connection.publish_detached(message("it.close", "x"), deadline(),
                                [&](std::exception_ptr error) {
                                  if (!error) ++confirmed;
                                });
  }
  run(io, connection.close(deadline(10s)));
  ASSERT_TRUE(run_until(
      io, [&] { return confirmed == 200; }, 5s))
      << confirmed;
  EXPECT_FALSE(connection.connected());
  EXPECT_THROW(run(io, connection.publish(message("it.close", "late"), deadline())),
               tomodachi::AmqpConnectionException);
}

TEST_F(AmqpConnection, ReconnectsAfterANetworkFailureAndResumesConsuming) {
  rmq::Connection connection(settings(), io.get_executor());
  collect(connection);
  run(io, connection.connect());
  const std::string key = unique("it.netfail");
  subscribe(connection, key, 1);
  run(io, connection.publish(message(key, "before"), deadline()));
  ASSERT_TRUE(run_until(io, [&] { return received.size() == 1; }));
  const auto old = received.front();

  connection.simulate_network_failure();
  ASSERT_TRUE(
      run_until(io, [&] { return connection.stats().connects == 2 && connection.connected(); }));
  // The unacked message comes again on the new connection; acking the old tag is ignored.
  connection.ack(old.epoch, old.delivery_tag);
  run(io, connection.publish(message(key, "after"), deadline()));
  ASSERT_TRUE(run_until(io, [&] { return received.size() == 3; })) << received.size();
  EXPECT_EQ(received[1].body, "before");
  EXPECT_TRUE(received[1].redelivered);
  EXPECT_EQ(received[2].body, "after");
  EXPECT_GT(received[1].epoch, old.epoch);
  for (std::size_t i = 1; i < received.size(); ++i)
    connection.ack(received[i].epoch, received[i].delivery_tag);
  EXPECT_EQ(connection.stats().connects, 2u);
}

TEST_F(AmqpConnection, HeartbeatsKeepIdleConnectionsAliveAndDetectADeadPeer) {
  amqp_test::TcpProxy proxy(broker->host, broker->port);
  auto s = settings(proxy.port());
  s.heartbeat = 1;
  s.connect_timeout = 1s;
  rmq::Connection connection(s, io.get_executor());
  collect(connection);
  run(io, connection.connect());
  const std::string key = unique("it.heartbeat");
  subscribe(connection, key, 1);

  // Idle for several heartbeat intervals: the broker would close a silent client after two.
  run_until(
      io, [] { return false; }, 4s);
  EXPECT_TRUE(connection.connected());
  EXPECT_EQ(connection.stats().connects, 1u);

  // The peer goes silent without closing anything: detected by missing heartbeats.
  proxy.freeze();
  EXPECT_TRUE(run_until(
      io, [&] { return !connection.connected(); }, 8s));
  proxy.cut();
  proxy.thaw();
  ASSERT_TRUE(run_until(
      io, [&] { return connection.connected(); }, 15s));
  run(io, connection.publish(message(key, "alive"), deadline()));
  ASSERT_TRUE(run_until(io, [&] { return !received.empty(); }));
  EXPECT_EQ(received.back().body, "alive");
}

TEST_F(AmqpConnection, PublishesDuringAnOutageWaitThenFailClearlyAtTheirDeadline) {
  amqp_test::TcpProxy proxy(broker->host, broker->port);
  auto s = settings(proxy.port());
  s.heartbeat = 1;
  s.connect_timeout = 500ms;
  rmq::Connection connection(s, io.get_executor());
  run(io, connection.connect());
  proxy.freeze();
  proxy.cut();
  ASSERT_TRUE(run_until(
      io, [&] { return !connection.connected(); }, 8s));
  const auto started = std::chrono::steady_clock::now();
  const std::string error = error_of<tomodachi::AmqpConnectionException>(
      io, connection.publish(message("it.outage", "x"), deadline(1500ms)));
  EXPECT_NE(error.find("not connected [amqp]"), std::string::npos) << error;
  EXPECT_NE(error.find("was not confirmed in time"), std::string::npos) << error;
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1400ms);
  proxy.thaw();
}

TEST_F(AmqpConnection, SurvivesABrokerRestartWithPublishesMadeDuringTheOutage) {
  rmq::Connection connection(settings(), io.get_executor());
  collect(connection);
  run(io, connection.connect());
  const std::string key = unique("it.restart");
  subscribe(connection, key, 1);
  run(io, connection.publish(message(key, "before"), deadline()));
  ASSERT_TRUE(run_until(io, [&] { return received.size() == 1; }));
  connection.ack(received[0].epoch, received[0].delivery_tag);

  std::thread restart([&] { broker->restart_app(); });
  ASSERT_TRUE(run_until(
      io, [&] { return !connection.connected(); }, 30s));
  int confirmed = 0, failed = 0;
  for (int i = 0; i < 20; ++i) {
    auto m = message(key, "during-" + std::to_string(i));
    m.properties.delivery_mode = 2;
    connection.publish_detached(m, deadline(90s),
                                [&](std::exception_ptr e) { (e ? failed : confirmed)++; });
  }
  restart.join();
  ASSERT_TRUE(run_until(
      io, [&] { return confirmed + failed == 20; }, 90s));
  EXPECT_EQ(failed, 0);
  ASSERT_TRUE(run_until(
      io, [&] { return received.size() == 21; }, 30s))
      << received.size();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(received[1 + i].body, "during-" + std::to_string(i));
  EXPECT_GE(connection.stats().connects, 2u);
}

// ---- review fixes ---------------------------------------------------------------------

TEST_F(AmqpConnection, AMandatoryPublishNoQueueTakesFailsInsteadOfBeingConfirmedIntoNowhere) {
  rmq::Connection connection(settings(), io.get_executor());
  run(io, connection.connect());
  // Through the default exchange to a queue that does not exist, as a retry or dead-letter
  // copy would be when its queue was deleted.
  rmq::OutgoingMessage lost{"", unique("it-no-such-queue"), "copy", {}};
  lost.mandatory = true;
  const std::string error = error_of<rmq::AmqpUnroutable>(io, connection.publish(lost, deadline()));
  EXPECT_NE(error.find("no queue took it (312 NO_ROUTE)"), std::string::npos) << error;
  // The same without mandatory is confirmed (upstream's publishes are not mandatory), and
  // the channel stays usable.
  lost.mandatory = false;
  EXPECT_NO_THROW(run(io, connection.publish(lost, deadline())));
  const std::string queue = subscribe(connection, unique("it.mandatory"), 1);
  rmq::OutgoingMessage routed{"", queue, "copy", {}};
  routed.mandatory = true;
  EXPECT_NO_THROW(run(io, connection.publish(routed, deadline())));
  EXPECT_EQ(connection.stats().connects, 1u);
}

TEST_F(AmqpConnection, ACancelDropsTheConsumeStepsOfAReplayStillQueued) {
  rmq::Connection connection(settings(), io.get_executor());
  collect(connection);
  run(io, connection.connect());
  std::vector<std::string> queues;
  std::vector<std::uint32_t> ids;
  for (std::uint32_t id = 1; id <= 40; ++id) {
    queues.push_back(subscribe(connection, unique("it.replaycancel"), id));
    ids.push_back(id);
  }
  const auto epoch = connection.epoch();
  connection.simulate_network_failure();
  // Cancel the moment the new connection is up, while its replay (120 steps, one round
  // trip each) is still queued.
  // Polled finely (the replay must still be queued) and bounded: a reconnect that never
  // happens fails here instead of hanging the test.
  const auto reconnect_deadline = std::chrono::steady_clock::now() + 30s;
  while (connection.epoch() == epoch && std::chrono::steady_clock::now() < reconnect_deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  ASSERT_NE(connection.epoch(), epoch) << "the connection never came back";
  run(io, connection.cancel(ids));
  run_until(
      io, [] { return false; }, 1500ms);  // let whatever was queued run
  const auto consumers = broker->queues("consumers");
  for (const auto& queue : queues)
    EXPECT_EQ(consumers.at(queue), std::vector<std::string>{"0"}) << queue;
  EXPECT_TRUE(connection.connected());
}

TEST_F(AmqpConnection, AReplayTheBrokerRefusesBacksOffInsteadOfReconnectingInATightLoop) {
  amqp_test::TcpProxy proxy(broker->host, broker->port);
  rmq::Connection connection(settings(proxy.port()), io.get_executor());
  rmq::Connection owner(settings(), io.get_executor());
  run(io, connection.connect());
  run(io, owner.connect());
  const std::string queue = subscribe(connection, unique("it.storm"), 1);
  // While our connection is away, another one takes the queue exclusively: the replayed
  // basic.consume fails (405) and closes the consumer channel, so every reconnect fails.
  proxy.freeze();
  proxy.cut();
  ASSERT_TRUE(run_until(
      io, [&] { return !connection.connected(); }, 10s));
  broker->ctl("delete_queue " + queue);
  rmq::QueueDeclareStep exclusive{queue};
  exclusive.exclusive = true;
  exclusive.durable = false;
  run(io, owner.execute(exclusive));
  const auto before = connection.stats().connects;
  proxy.thaw();
  // Two refused replays first (however slow the machine), then count over a fixed window.
  ASSERT_TRUE(run_until(
      io, [&] { return connection.stats().connects - before >= 2; }, 30s))
      << "no second reconnect after a refused replay";
  const auto window_start = connection.stats().connects;
  run_until(
      io, [] { return false; }, 4s);
  const auto attempts = connection.stats().connects - window_start;
  // Backoff 0.4, 0.8, 1.6, 3 s from here: at most about 4 connects in 4 s, not one every 0.1 s.
  EXPECT_LE(attempts, 6u) << "reconnect storm";
}

TEST_F(AmqpConnection, TheFirstConnectIsBoundedByItsDeadline) {
  amqp_test::TcpProxy proxy(broker->host, broker->port);
  proxy.freeze();  // accepts, never answers: the handshake hangs
  auto s = settings(proxy.port());
  s.connect_timeout = 10s;
  rmq::Connection connection(s, io.get_executor());
  const auto started = std::chrono::steady_clock::now();
  const std::string error = error_of<tomodachi::AmqpConnectionException>(
      io, connection.connect(rmq::Connection::Clock::now() + 700ms));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_NE(error.find("Unable to connect [amqp] to 127.0.0.1:" + std::to_string(proxy.port())),
            std::string::npos)
      << error;
  EXPECT_LT(took, 3s);
  proxy.thaw();
}

TEST_F(AmqpConnection, CloseIsBoundedByTheDeadlineWhenThePeerIsDead) {
  amqp_test::TcpProxy proxy(broker->host, broker->port);
  auto s = settings(proxy.port());
  s.heartbeat = 30;  // no detection by heartbeats within this test
  rmq::Connection connection(s, io.get_executor());
  run(io, connection.connect());
  proxy.freeze();
  std::exception_ptr outcome;
  bool done = false;
  connection.publish_detached(message("it.deadclose", "x"), deadline(60s),
                              [&](std::exception_ptr error) {
                                outcome = error;
                                done = true;
                              });
  const auto started = std::chrono::steady_clock::now();
  run(io, connection.close(rmq::Connection::Clock::now() + 1s));
  const auto took = std::chrono::steady_clock::now() - started;
  // Confirms are awaited until the deadline, connection.close is not awaited past it.
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 1800ms);
  ASSERT_TRUE(run_until(
      io, [&] { return done; }, 3s));
  EXPECT_TRUE(outcome);  // the unconfirmed publish failed, it is not lost silently
  proxy.thaw();
}
