// The in-memory broker: topic routing, queues, envelopes, transport values, publishing hook.
#include <tomodachi/error.hpp>
#include <tomodachi/testing.hpp>
#include <tomodachi/transport/messaging.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <optional>

#include "person.pb.h"
#include "test_support.hpp"

namespace {

using messaging_test::TestService;
using tomodachi::Message;
using tomodachi::Task;
using tomodachi::testing::Broker;
using tomodachi::testing::topic_matches;

TEST(TopicMatches, FollowsAmqpTopicExchangeRules) {
  EXPECT_TRUE(topic_matches("order.created", "order.created"));
  EXPECT_FALSE(topic_matches("order.created", "order.updated"));
  EXPECT_TRUE(topic_matches("order.*", "order.created"));
  EXPECT_FALSE(topic_matches("order.*", "order.created.eu"));
  EXPECT_FALSE(topic_matches("order.*", "order"));
  EXPECT_TRUE(topic_matches("order.#", "order"));
  EXPECT_TRUE(topic_matches("order.#", "order.created.eu"));
  EXPECT_TRUE(topic_matches("#", "anything.at.all"));
  EXPECT_TRUE(topic_matches("#", ""));
  EXPECT_TRUE(topic_matches("*.created.#", "order.created"));
  EXPECT_TRUE(topic_matches("#.eu", "order.created.eu"));
  EXPECT_FALSE(topic_matches("#.eu", "order.created.us"));
  EXPECT_TRUE(topic_matches("a.#.z", "a.z"));
  EXPECT_TRUE(topic_matches("a.#.z", "a.b.c.z"));
  EXPECT_FALSE(topic_matches("a.*.z", "a.z"));
  EXPECT_TRUE(topic_matches("test-topic", "test-topic"));
}

struct Collector {
  std::vector<std::string> seen;
  tomodachi::MessageHandler handler(std::string name) {
    return [this, name](Message& message) -> Task<void> {
      seen.push_back(name + ":" + std::string(message.data().as_string()));
      co_return;
    };
  }
};

TEST(Broker, RoutesToEveryMatchingQueueAndSharesNamedQueues) {
  TestService service;
  Broker broker;
  Collector collector;
  broker.subscribe(service, "order.*", "all_orders", collector.handler("all"));
  broker.subscribe(service, "order.created", "created", collector.handler("created"));
  tomodachi::testing::SubscribeOptions shared;
  shared.queue = "workers";
  broker.subscribe(service, "job.#", "worker_a", collector.handler("a"), shared);
  broker.subscribe(service, "job.#", "worker_b", collector.handler("b"), shared);

  broker.publish_payload("order.created", "1");
  broker.publish_payload("order.deleted", "2");
  broker.publish_payload("job.x", "3");
  broker.publish_payload("job.y", "4");
  broker.publish_payload("unrouted", "5");
  broker.run_until_idle();

  std::sort(collector.seen.begin(), collector.seen.end());
  EXPECT_EQ(collector.seen,
            (std::vector<std::string>{"a:3", "all:1", "all:2", "b:4", "created:1"}));
  EXPECT_EQ(broker.stats().delivered, 5u);
}

TEST(Broker, KeepsMessagesForQueuesWithoutConsumers) {
  TestService service;
  Broker broker;
  broker.send_to_queue("orders", "early");
  EXPECT_EQ(broker.messages("orders").size(), 1u);
  Collector collector;
  tomodachi::testing::SubscribeOptions options;
  options.queue = "orders";
  broker.subscribe(service, "", "late", collector.handler("late"), options);
  broker.run_until_idle();
  EXPECT_EQ(collector.seen, (std::vector<std::string>{"late:early"}));
  EXPECT_TRUE(broker.messages("orders").empty());
}

TEST(Broker, EnvelopesAsConfiguredPerServiceAndPerSubscription) {
  TestService sender;
  sender.message_envelope = tomodachi::json_base();
  TestService receiver("receiver");
  receiver.message_envelope = tomodachi::json_base();
  Broker broker;
  boost::json::value json_data;
  std::string raw_data;
  broker.subscribe(receiver, "t", "json_handler", [&json_data](Message& message) -> Task<void> {
    json_data = message.data();
    co_return;
  });
  tomodachi::testing::SubscribeOptions raw;
  raw.message_envelope = tomodachi::no_envelope;
  broker.subscribe(
      receiver, "t", "raw_handler",
      [&raw_data](Message& message) -> Task<void> {
        raw_data = message.payload();
        co_return;
      },
      raw);
  tomodachi::testing::PublishOptions fixed;
  fixed.uuid4 = "11111111-2222-4333-8444-555555555555";
  fixed.time = 1712345678.123456;
  broker.publish(sender, {{"key", "v\xc3\xa4rde"}}, "t", fixed);
  broker.run_until_idle();
  EXPECT_EQ(json_data, (boost::json::value{{"key", "v\xc3\xa4rde"}}));
  EXPECT_EQ(
      raw_data,
      R"({"service": {"name": "test-service", "uuid": "6d8b4a51-0f1e-4c59-9a55-7e3b3a1d2f00"}, "metadata": {"message_uuid": "6d8b4a51-0f1e-4c59-9a55-7e3b3a1d2f00.11111111-2222-4333-8444-555555555555", "protocol_version": "tomodachi-json-base--1.0.0", "compatible_protocol_versions": ["json_base-wip"], "timestamp": 1712345678.123456, "topic": "t", "data_encoding": "raw"}, "data": {"key": "v\u00e4rde"}})");
}

TEST(Broker, ProtobufEnvelopeEndToEnd) {
  TestService service;
  Broker broker;
  std::string name;
  tomodachi::testing::SubscribeOptions options;
  options.message_envelope = tomodachi::ProtobufBase::of<proto::Person>();
  broker.subscribe(
      service, "people", "on_person",
      [&name](Message& message) -> Task<void> {
        name = message.data_as<proto::Person>().name();
        co_return;
      },
      options);
  proto::Person person;
  person.set_id("12");
  person.set_name("John Doe");
  tomodachi::testing::PublishOptions publish;
  publish.message_envelope = std::make_shared<tomodachi::ProtobufBase>();
  broker.publish(service, person, "people", publish);
  broker.run_until_idle();
  EXPECT_EQ(name, "John Doe");
}

TEST(Broker, ProtobufSubscriptionsWithoutAMessageTypeFailAtRegistration) {
  TestService service;
  Broker broker;
  tomodachi::testing::SubscribeOptions options;
  options.message_envelope = std::make_shared<tomodachi::ProtobufBase>();
  EXPECT_THROW(broker.subscribe(
                   service, "t", "h", [](Message&) -> Task<void> { co_return; }, options),
               tomodachi::ArgumentError);
}

TEST(Broker, RawModeRejectsNonStringData) {
  TestService service;
  Broker broker;
  EXPECT_THROW(broker.publish(service, {{"a", 1}}, "t"), tomodachi::EnvelopeError);
  EXPECT_NO_THROW(broker.publish(service, "text", "t"));
}

TEST(Broker, OffersTheSnsSqsTransportValues) {
  TestService service;
  Broker broker;
  boost::json::object values;
  std::string topic;
  tomodachi::MessageAttributes attributes;
  tomodachi::testing::SubscribeOptions options;
  options.transport = "aws_sns_sqs";
  broker.subscribe(
      service, "example-topic", "on_event",
      [&](Message& message) -> Task<void> {
        values = message.transport_values();
        topic = message.topic();
        attributes = message.message_attributes();
        EXPECT_EQ(message.logger().name(), "tomodachi.awssnssqs.handler");
        co_return;
      },
      options);
  broker.publish_payload("example-topic", "x", {{"currency", boost::json::value("SEK")}});
  broker.run_until_idle();
  EXPECT_EQ(topic, "example-topic");
  EXPECT_EQ(values.at("approximate_receive_count"), 1);
  EXPECT_EQ(values.at("message_type"), "Notification");
  EXPECT_EQ(values.at("queue_url"), "memory://test-service.on_event");
  EXPECT_TRUE(values.at("message_group_id").is_null());
  EXPECT_EQ(attributes.json("currency"), "SEK");
}

TEST(Broker, OffersTheAmqpTransportValues) {
  TestService service;
  Broker broker;
  std::string routing_key;
  std::string topic;
  broker.subscribe(service, "order.#", "on_order", [&](Message& message) -> Task<void> {
    routing_key = std::string(message.routing_key());
    topic = message.topic();
    EXPECT_EQ(message.exchange_name(), "amq.topic");
    EXPECT_EQ(message.logger().name(), "tomodachi.amqp.handler");
    co_return;
  });
  broker.publish_payload("order.created.eu", "x");
  broker.run_until_idle();
  EXPECT_EQ(routing_key, "order.#");  // upstream offers the subscription's routing key
  EXPECT_EQ(topic, "order.#");
}

// What a transport's publish function does first (the AMQP and SNS/SQS transports ask
// for the injected publisher the same way).
Task<std::string> publish_like_a_transport(const tomodachi::Service& sender,
                                           tomodachi::PublishData data, std::string routing_key) {
  tomodachi::Publisher* publisher = tomodachi::injected_publisher(sender);
  if (publisher == nullptr) throw std::logic_error("no publisher injected");
  tomodachi::PublishRequest request;
  request.sender = &sender;
  request.data = std::move(data);
  request.topic = std::move(routing_key);
  co_return co_await publisher->publish(tomodachi::PublishTransport::amqp, std::move(request));
}

struct OrderService : TestService {
  OrderService() {
    message_envelope = tomodachi::json_base();
    auto spec = std::make_unique<tomodachi::MessageHandlerSpec>("amqp", "on_order");
    spec->pattern = "order.created";
    spec->handler = tomodachi::bind_message_handler<&OrderService::on_order>(*this);
    add_handler(std::move(spec));
  }
  Task<void> on_order(Message& message) {
    orders.push_back(message.data().at("id").as_int64());
    const std::int64_t id = message.data().at("id").as_int64();
    tomodachi::PublishData audit = {{"audited", id}};  // GCC 12: no braced temporaries in co_await
    co_await publish_like_a_transport(*this, std::move(audit), "order.audited");
  }
  std::vector<std::int64_t> orders;
};

TEST(Broker, AttachesAServicesRegistrationsAndInterceptsItsPublishing) {
  OrderService service;
  TestService auditor("auditor");
  auditor.message_envelope = tomodachi::json_base();
  Broker broker;
  broker.intercept_publishing();
  broker.attach(service);
  std::vector<boost::json::value> audited;
  broker.subscribe(auditor, "order.audited", "audit", [&audited](Message& message) -> Task<void> {
    audited.push_back(message.data());
    co_return;
  });
  broker.publish(service, {{"id", 7}}, "order.created");
  broker.run_until_idle();
  EXPECT_EQ(service.orders, (std::vector<std::int64_t>{7}));
  EXPECT_EQ(audited, (std::vector<boost::json::value>{boost::json::value{{"audited", 7}}}));
}

TEST(Broker, RunsOnAnExternalLoopWithRealTimers) {
  boost::asio::io_context loop;
  TestService service;
  Broker broker(loop.get_executor());
  int attempts = 0;
  tomodachi::testing::SubscribeOptions options;
  options.delivery.initial_backoff = std::chrono::milliseconds(1);
  broker.subscribe(
      service, "t", "h",
      [&attempts](Message&) -> Task<void> {
        if (++attempts < 2) throw std::runtime_error("once");
        co_return;
      },
      options);
  broker.publish_payload("t", "x");
  loop.run();
  EXPECT_EQ(attempts, 2);
  EXPECT_THROW(broker.run_until_idle(), tomodachi::Error);
}

// ---- queues per instance or shared, as over the real brokers ---------------------------

// An instance of a service whose registration has the given `competing` / `queue_name`.
struct Worker : tomodachi::Service {
  Worker(std::vector<std::string>& seen, std::string id, std::optional<bool> competing,
         std::optional<std::string> queue_name)
      : Service("workers"), seen_(seen), id_(std::move(id)) {
    auto spec = std::make_unique<tomodachi::MessageHandlerSpec>("amqp", "on_job");
    spec->pattern = "job.created";
    spec->competing = competing;
    spec->queue_name = std::move(queue_name);
    spec->handler = tomodachi::bind_message_handler<&Worker::on_job>(*this);
    add_handler(std::move(spec));
  }
  Task<void> on_job(Message&) {
    seen_.push_back(id_);
    co_return;
  }
  std::vector<std::string>& seen_;
  std::string id_;
};

std::vector<std::string> deliveries_to_two_instances(
    std::optional<bool> competing, std::optional<std::string> queue_name = std::nullopt) {
  std::vector<std::string> seen;
  Worker first(seen, "first", competing, queue_name);
  Worker second(seen, "second", competing, queue_name);
  Broker broker;
  broker.attach(first);
  broker.attach(second);
  broker.publish_payload("job.created", "1");
  broker.publish_payload("job.created", "2");
  broker.run_until_idle();
  std::sort(seen.begin(), seen.end());
  return seen;
}

TEST(Broker, HonoursCompetingAsTheRealTransportsDo) {
  using Seen = std::vector<std::string>;
  // Non-competing (also by default): each instance has a queue of its own and gets every message.
  EXPECT_EQ(deliveries_to_two_instances(std::nullopt),
            (Seen{"first", "first", "second", "second"}));
  EXPECT_EQ(deliveries_to_two_instances(false), (Seen{"first", "first", "second", "second"}));
  // Competing, or an explicit queue: the instances share one queue and each message once.
  EXPECT_EQ(deliveries_to_two_instances(true), (Seen{"first", "second"}));
  EXPECT_EQ(deliveries_to_two_instances(std::nullopt, "jobs"), (Seen{"first", "second"}));
}

TEST(Broker, NamesPerInstanceQueuesWithTheServiceUuid) {
  std::vector<std::string> seen;
  Worker worker(seen, "w", std::nullopt, std::nullopt);
  worker.set_uuid("uuid-1");
  Broker broker;
  broker.attach(worker);
  TestService service;
  tomodachi::testing::SubscribeOptions own;
  own.competing = false;
  broker.subscribe(
      service, "other", "on_other", [](Message&) -> Task<void> { co_return; }, own);
  broker.subscribe(service, "shared", "on_shared", [](Message&) -> Task<void> { co_return; });
  EXPECT_EQ(
      broker.queue_names(),
      (std::vector<std::string>{"workers.on_job.uuid-1", "test-service.on_other." + service.uuid(),
                                "test-service.on_shared"}));
}

// ---- lifecycle --------------------------------------------------------------------------

// The broker's transport instance for `service`, starting on `loop` (it starts once the
// loop runs).
std::unique_ptr<tomodachi::TransportInstance> start_transport(Broker& broker,
                                                              tomodachi::Service& service,
                                                              boost::asio::io_context& loop) {
  std::vector<const tomodachi::HandlerSpec*> specs;
  for (const auto& spec : service.handlers()) specs.push_back(spec.get());
  auto transport = broker.transport_factory()(service, specs);
  boost::asio::co_spawn(loop, transport->start(), boost::asio::detached);
  return transport;
}

TEST(Broker, AServiceStopsReceivingTheMomentItsStopIsRequested) {
  boost::asio::io_context loop;
  std::vector<std::string> seen;
  Worker worker(seen, "w", true, std::nullopt);
  Broker broker(loop.get_executor());
  auto transport = start_transport(broker, worker, loop);
  loop.run();
  loop.restart();
  broker.publish_payload("job.created", "before");
  loop.run();
  loop.restart();
  EXPECT_EQ(seen, (std::vector<std::string>{"w"}));

  transport->stop_requested();  // the stop chain has not run yet
  broker.publish_payload("job.created", "after");
  loop.run();
  loop.restart();
  EXPECT_EQ(seen, (std::vector<std::string>{"w"}));
  EXPECT_EQ(broker.messages("workers.on_job").size(), 1u);  // kept in the queue, as by a broker
  boost::asio::co_spawn(loop,
                        transport->stop(std::chrono::steady_clock::now() + std::chrono::seconds(1)),
                        boost::asio::detached);
  loop.run();
}

// A handler that runs until the test releases it.
struct SlowWorker : tomodachi::Service {
  explicit SlowWorker(boost::asio::io_context& loop)
      : Service("slow-workers"), release(loop, boost::asio::steady_timer::time_point::max()) {
    auto spec = std::make_unique<tomodachi::MessageHandlerSpec>("amqp", "on_job");
    spec->pattern = "job.created";
    spec->handler = tomodachi::bind_message_handler<&SlowWorker::on_job>(*this);
    add_handler(std::move(spec));
  }
  Task<void> on_job(Message&) {
    ++started;
    boost::system::error_code ignored;
    co_await release.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    ++finished;
  }
  boost::asio::steady_timer release;
  int started = 0;
  int finished = 0;
};

TEST(Broker, AStoppingTransportWaitsForTheHandlersStillRunning) {
  boost::asio::io_context loop;
  SlowWorker worker(loop);
  Broker broker(loop.get_executor());
  auto transport = start_transport(broker, worker, loop);
  loop.poll();
  loop.restart();  // out of work once started: the loop stopped
  broker.publish_payload("job.created", "one");
  broker.publish_payload("job.created", "two");
  loop.poll();
  ASSERT_EQ(worker.started, 2);

  bool stopped = false;
  boost::asio::co_spawn(loop,
                        transport->stop(std::chrono::steady_clock::now() + std::chrono::hours(24)),
                        [&stopped](std::exception_ptr) { stopped = true; });
  loop.poll();
  EXPECT_FALSE(stopped);  // both handlers still run
  worker.release.cancel();
  loop.run();  // ends once the stop has returned: nothing else keeps the loop busy
  EXPECT_TRUE(stopped);
  EXPECT_EQ(worker.finished, 2);
}

TEST(Broker, DestroyingABrokerOnAnExternalLoopCancelsItsRedeliveries) {
  boost::asio::io_context loop;
  TestService service;
  int attempts = 0;
  auto broker = std::make_unique<Broker>(loop.get_executor());
  tomodachi::testing::SubscribeOptions options;
  options.delivery.initial_backoff = std::chrono::minutes(1);
  broker->subscribe(
      service, "t", "h",
      [&attempts](Message&) -> Task<void> {
        ++attempts;
        throw std::runtime_error("fails");
      },
      options);
  broker->publish_payload("t", "x");
  while (broker->stats().retries_scheduled == 0 && loop.run_one() > 0) {
  }
  ASSERT_EQ(broker->stats().retries_scheduled, 1u);
  broker.reset();  // the retry is still a minute away
  // Must neither touch the destroyed broker nor wait for the cancelled timer: the loop runs
  // out of work (a timer still pending would keep it running until run_for gives up).
  loop.restart();
  loop.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(loop.stopped());
  EXPECT_EQ(attempts, 1);
}

// Records what reaches it instead of a broker.
class RecordingPublisher final : public tomodachi::Publisher {
 public:
  Task<std::string> publish(tomodachi::PublishTransport,
                            tomodachi::PublishRequest request) override {
    topics.push_back(request.topic);
    co_return std::string("recorded");
  }
  std::vector<std::string> topics;
};

TEST(Broker, AServicesOwnPublisherComesBeforeTheInterceptingBroker) {
  TestService own;
  TestService other("other-service");
  Broker broker;
  broker.intercept_publishing();
  RecordingPublisher recorder;
  tomodachi::inject_publisher(own, &recorder);
  EXPECT_EQ(tomodachi::injected_publisher(own), &recorder);
  EXPECT_EQ(tomodachi::injected_publisher(other), tomodachi::process_publisher());
  boost::asio::co_spawn(broker.executor(), publish_like_a_transport(own, "mine", "order.audited"),
                        boost::asio::detached);
  broker.run_until_idle();
  EXPECT_EQ(recorder.topics, (std::vector<std::string>{"order.audited"}));
  tomodachi::inject_publisher(own, nullptr);
  EXPECT_EQ(tomodachi::injected_publisher(own), tomodachi::process_publisher());
}

TEST(Broker, LeavesAnotherBrokersPublishingHookInPlace) {
  TestService service;
  auto first = std::make_unique<Broker>();
  auto second = std::make_unique<Broker>();
  first->intercept_publishing();
  second->intercept_publishing();  // the newest wins
  first.reset();
  ASSERT_NE(tomodachi::process_publisher(), nullptr);
  ASSERT_EQ(tomodachi::injected_publisher(service), tomodachi::process_publisher());
  tomodachi::testing::SubscribeOptions options;
  options.queue = "audit";
  std::vector<std::string> seen;
  second->subscribe(
      service, "order.audited", "audit",
      [&seen](Message& message) -> Task<void> {
        seen.push_back(message.payload());
        co_return;
      },
      options);
  boost::asio::co_spawn(second->executor(),
                        publish_like_a_transport(service, "audited", "order.audited"),
                        boost::asio::detached);
  second->run_until_idle();
  EXPECT_EQ(seen, (std::vector<std::string>{"audited"}));
  second.reset();
  EXPECT_EQ(tomodachi::process_publisher(), nullptr);
  EXPECT_EQ(tomodachi::injected_publisher(service), nullptr);
}

}  // namespace
