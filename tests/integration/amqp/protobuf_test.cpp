// ProtobufBase over the test RabbitMQ, with services run in-process (a `tomodachi run`
// service cannot include a generated person.pb.h): round trips with a message type
// (Python's proto_class) small and gzip_proto-compressed, ProtobufBase without a message
// type (raw bytes), a validator that throws (dead-lettered at once under the default
// at-least-once policy, docs/messaging.md), a JsonBase publisher against a ProtobufBase
// subscriber (dead-lettered, original payload kept) and the start failure of a subscription
// without a message type.
#include "amqp/connection.hpp"
#include "amqp/topology.hpp"
#include "broker.hpp"
#include "core/encoding.hpp"
#include "core/transports.hpp"
#include "person.pb.h"

#include <tomodachi/amqp.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/validation.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

namespace json = boost::json;
namespace rmq = tomodachi::amqp_impl;
using amqp_test::run;
using amqp_test::run_until;
using amqp_test::unique;
using namespace std::chrono_literals;
using tomodachi::Message;
using tomodachi::Task;

namespace {

/// What one handler call saw.
struct Received {
  std::string handler;
  std::string payload;
  json::value metadata;
  std::optional<std::string> data_bytes;
  std::optional<proto::Person> person;  ///< data_as<proto::Person>() when the bytes decode
};

/// A service whose AMQP handlers record what they receive.
class Receiver : public tomodachi::Service {
 public:
  Receiver() : Service("amqp-protobuf-receiver") {}

  void subscribe(const std::string& routing_key, const std::string& handler,
                 const tomodachi::AmqpOptions& options) {
    amqp(
        routing_key, handler,
        [this, handler](Message& message) -> Task<void> { return on_message(handler, message); },
        options);
  }

  std::vector<Received> of(const std::string& handler) const {
    std::vector<Received> out;
    for (const auto& r : received) {
      if (r.handler == handler) out.push_back(r);
    }
    return out;
  }

  std::vector<Received> received;

 private:
  Task<void> on_message(std::string handler, Message& message) {
    Received r{handler, message.payload(), message.metadata(), message.data_bytes(), std::nullopt};
    if (r.data_bytes) r.person = message.data_as<proto::Person>();
    received.push_back(std::move(r));
    co_return;
  }
};

proto::Person person(std::string id, std::string name) {
  proto::Person p;
  p.set_id(std::move(id));
  p.set_name(std::move(name));
  return p;
}

/// A Person whose serialized size is above ProtobufBase's compression threshold.
proto::Person large_person() {
  proto::Person p;
  p.set_id("4712");
  for (int i = 0; p.name().size() < 70000; ++i)
    p.mutable_name()->append(std::to_string(i * 7919 % 104729) + ",");
  return p;
}

class AmqpProtobuf : public ::testing::Test {
 protected:
  void SetUp() override {
    broker = amqp_test::Broker::from_env();
    if (!broker) GTEST_FAIL() << "no test RabbitMQ (run through ctest, fixture rabbitmq)";
    log_sink_ = tomodachi::add_log_sink([this](const tomodachi::LogRecord& record) {
      if (record.level != tomodachi::LogLevel::warning || !record.message) return;
      std::lock_guard lock(log_mutex_);
      warnings_.push_back(std::string(record.logger) + ": " + std::string(*record.message));
    });
  }

  void TearDown() override {
    if (instance_) stop();
    if (inspector_) run(io, inspector_->close(rmq::Connection::Clock::now() + 5s));
    tomodachi::remove_log_sink(log_sink_);
  }

  void configure(tomodachi::Service& service) const {
    service.options.amqp.host = broker->host;
    service.options.amqp.port = broker->port;
    service.options.amqp.queue_ttl = 300;
  }

  /// Runs the service's AMQP transport through setup, start and started on `io`.
  void start(tomodachi::Service& service) {
    configure(service);
    instance_ = make_instance(service);
    run(io, instance_->setup());
    run(io, instance_->start());
    run(io, instance_->started());
  }

  std::unique_ptr<tomodachi::TransportInstance> make_instance(tomodachi::Service& service) {
    const auto factory = tomodachi::detail::find_transport("amqp");
    if (!factory) throw std::runtime_error("the amqp transport is not registered");
    std::vector<const tomodachi::HandlerSpec*> specs;
    for (const auto& handler : service.handlers()) specs.push_back(handler.get());
    return (*factory)(service, specs);
  }

  void stop() {
    instance_->stop_requested();
    run(io, instance_->stop(std::chrono::steady_clock::now() + 10s));
    instance_.reset();
  }

  void publish(const tomodachi::Service& service, tomodachi::PublishData data,
               const std::string& routing_key, tomodachi::AmqpPublishOptions options = {}) {
    run(io, tomodachi::amqp_publish(service, std::move(data), routing_key, options));
  }

  /// A plain connection of the test's own, to look into queues.
  rmq::Connection& inspector() {
    if (!inspector_) {
      rmq::ConnectionSettings settings;
      settings.host = broker->host;
      settings.port = broker->port;
      settings.connection_name = "protobuf_test inspector";
      inspector_ = std::make_unique<rmq::Connection>(settings, io.get_executor());
      inspector_->on_deliveries([this](std::vector<rmq::Delivery>& batch) {
        for (auto& delivery : batch) inspected_.push_back(std::move(delivery));
      });
      run(io, inspector_->connect());
    }
    return *inspector_;
  }

  /// Ready messages in `queue`, or -1 while it does not exist.
  long ready_in(const std::string& queue) {
    rmq::QueueDeclareStep check;
    check.queue = queue;
    check.passive = true;
    try {
      return run(io, inspector().execute(check)).message_count;
    } catch (const tomodachi::AmqpChannelClosed& error) {
      if (error.reply_code() == 404) return -1;
      throw;
    }
  }

  /// Waits for `count` messages in `queue` (dead-letter queues are created on first use),
  /// then takes them off the queue.
  std::vector<rmq::Delivery> take(const std::string& queue, std::size_t count) {
    const bool arrived = run_until(
        io, [&] { return ready_in(queue) >= static_cast<long>(count); }, 15s);
    EXPECT_TRUE(arrived) << "queue " << queue << " did not get " << count << " message(s)";
    if (!arrived) return {};
    inspected_.clear();
    const auto consumer_id = next_consumer_id_++;
    run(io, inspector().execute(rmq::ConsumeStep{queue, consumer_id}));
    EXPECT_TRUE(run_until(
        io, [&] { return inspected_.size() >= count; }, 10s));
    run(io, inspector().cancel({consumer_id}));
    for (const auto& delivery : inspected_) inspector().ack(delivery.epoch, delivery.delivery_tag);
    return std::move(inspected_);
  }

  std::vector<std::string> warnings() {
    std::lock_guard lock(log_mutex_);
    return warnings_;
  }

  boost::asio::io_context io;
  std::optional<amqp_test::Broker> broker;

 private:
  std::unique_ptr<tomodachi::TransportInstance> instance_;
  std::unique_ptr<rmq::Connection> inspector_;
  std::vector<rmq::Delivery> inspected_;
  std::uint32_t next_consumer_id_ = 9000;
  int log_sink_ = 0;
  std::mutex log_mutex_;
  std::vector<std::string> warnings_;
};

std::string header_text(const rmq::Delivery& delivery, const char* name) {
  if (!delivery.properties.headers) return "(no headers)";
  const auto* value = delivery.properties.headers->if_contains(name);
  if (!value) return "(missing)";
  if (value->is_string()) return std::string(value->get_string());
  return tomodachi::json::dumps(*value);
}

}  // namespace

TEST_F(AmqpProtobuf, RoundTripWithTheMessageTypeSmallAndGzipProto) {
  const auto key = unique("pb.person");
  Receiver receiver;
  receiver.subscribe(key, "typed",
                     {.message_envelope = tomodachi::ProtobufBase::of<proto::Person>()});
  receiver.subscribe(key, "raw", {.message_envelope = tomodachi::no_envelope});
  start(receiver);

  const auto small = person("4711", "Ada Lovelace \u00e4");
  const auto large = large_person();
  ASSERT_GT(large.ByteSizeLong(), tomodachi::ProtobufBase::compression_threshold);
  const auto envelope = std::make_shared<tomodachi::ProtobufBase>();  // publishing needs no type
  publish(receiver, small, key, {.message_envelope = envelope});
  publish(receiver, large, key, {.message_envelope = envelope});
  ASSERT_TRUE(run_until(
      io, [&] { return receiver.of("typed").size() == 2 && receiver.of("raw").size() == 2; }));

  const auto typed = receiver.of("typed");
  const auto raw = receiver.of("raw");
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& expected = i == 0 ? small : large;
    SCOPED_TRACE(i == 0 ? "small" : "large");
    ASSERT_TRUE(typed[i].person);
    EXPECT_EQ(typed[i].person->id(), expected.id());
    EXPECT_EQ(typed[i].person->name(), expected.name());
    // Decoded (and inflated) by the envelope: the inner message's bytes.
    EXPECT_EQ(typed[i].data_bytes, expected.SerializeAsString());
    EXPECT_EQ(typed[i].metadata.at("data_encoding"), i == 0 ? "proto" : "gzip_proto");
    EXPECT_EQ(typed[i].metadata.at("protocol_version"), "tomodachi-protobuf-base--1.0.0");
    EXPECT_EQ(typed[i].metadata.at("topic"), json::value(key));
    // On the wire: the base64 of a proto.SNSSQSMessage, much smaller than the data when compressed.
    const auto decoded = tomodachi::encoding::base64_decode(raw[i].payload);
    ASSERT_TRUE(decoded) << "payload is not base64";
    if (i == 1) {
      EXPECT_LT(decoded->size(), expected.ByteSizeLong() / 2);
    }
    EXPECT_EQ(typed[i].payload, raw[i].payload);
  }
}

TEST_F(AmqpProtobuf, WithoutAMessageTypeTheDataIsRawBytes) {
  const auto key = unique("pb.bytes");
  Receiver receiver;
  receiver.subscribe(key, "typed",
                     {.message_envelope = tomodachi::ProtobufBase::of<proto::Person>()});
  receiver.subscribe(key, "raw", {.message_envelope = tomodachi::no_envelope});
  start(receiver);

  // Bytes serialized elsewhere, published with a ProtobufBase that knows no message type.
  const std::string bytes = person("17", "Grace").SerializeAsString();
  const auto untyped = std::make_shared<tomodachi::ProtobufBase>();
  publish(receiver, tomodachi::ProtobufData{"proto.Person", bytes}, key,
          {.message_envelope = untyped});
  // Bytes beyond the threshold travel compressed, and an untyped parse returns them as carried.
  const std::string large_bytes = large_person().SerializeAsString();
  publish(receiver, tomodachi::ProtobufData{"proto.Person", large_bytes}, key,
          {.message_envelope = untyped});
  ASSERT_TRUE(run_until(
      io, [&] { return receiver.of("typed").size() == 2 && receiver.of("raw").size() == 2; }));

  const auto typed = receiver.of("typed");
  ASSERT_TRUE(typed[0].person);
  EXPECT_EQ(typed[0].person->name(), "Grace");
  EXPECT_EQ(typed[0].data_bytes, bytes);
  EXPECT_EQ(typed[1].data_bytes, large_bytes);

  const auto raw = receiver.of("raw");
  const auto small_parsed = untyped->parse(raw[0].payload, nullptr);
  EXPECT_EQ(small_parsed.data_bytes, bytes);
  EXPECT_FALSE(small_parsed.data_proto);
  EXPECT_EQ(small_parsed.message.at("metadata").at("data_encoding"), "proto");
  const auto large_parsed = untyped->parse(raw[1].payload, nullptr);
  EXPECT_EQ(large_parsed.message.at("metadata").at("data_encoding"), "gzip_proto");
  ASSERT_TRUE(large_parsed.data_bytes);
  EXPECT_EQ(tomodachi::encoding::zlib_decompress(*large_parsed.data_bytes, 1 << 20), large_bytes);
}

TEST_F(AmqpProtobuf, ASubscriptionWithoutAMessageTypeFailsTheStartNamingTheHandler) {
  Receiver receiver;
  receiver.subscribe(unique("pb.untyped"), "untyped",
                     {.message_envelope = std::make_shared<tomodachi::ProtobufBase>()});
  configure(receiver);
  auto instance = make_instance(receiver);
  std::string error = "(no error)";
  try {
    run(io, instance->setup());
  } catch (const tomodachi::ArgumentError& e) {
    error = e.what();
  }
  EXPECT_NE(error.find("handler 'untyped'"), std::string::npos) << error;
  EXPECT_NE(error.find("proto_class"), std::string::npos) << error;
}

TEST_F(AmqpProtobuf, AValidatorThatThrowsDeadLettersTheMessageAtOnce) {
  const auto key = unique("pb.validated");
  const auto queue = unique("pb-validated");
  std::atomic<int> validated{0};
  auto envelope = tomodachi::ProtobufBase::of<proto::Person>([&validated](const proto::Person& p) {
    ++validated;
    tomodachi::validate_field_regex(p.id(), "^[0-9]+$");
  });
  Receiver receiver;
  receiver.subscribe(key, "validated", {.queue_name = queue, .message_envelope = envelope});
  receiver.subscribe(key, "raw", {.message_envelope = tomodachi::no_envelope});
  start(receiver);

  publish(receiver, person("4711", "valid"), key, {.message_envelope = envelope});
  publish(receiver, person("not-a-number", "invalid"), key, {.message_envelope = envelope});
  const auto dead = take(queue + ".dlq", 1);
  ASSERT_EQ(dead.size(), 1u);
  ASSERT_TRUE(run_until(io, [&] { return receiver.of("raw").size() == 2; }));

  // The valid one reached the handler, the invalid one did not, and it was dead-lettered
  // on its first delivery (no retries: the envelope rejected it) with its payload unchanged.
  const auto handled = receiver.of("validated");
  ASSERT_EQ(handled.size(), 1u);
  EXPECT_EQ(handled[0].person->id(), "4711");
  EXPECT_EQ(validated.load(), 2);
  EXPECT_EQ(dead[0].body, receiver.of("raw")[1].payload);
  EXPECT_EQ(header_text(dead[0], "x-tomodachi-error"),
            "RegexMissmatchException: value \"not-a-number\" does not match pattern \"^[0-9]+$\"");
  EXPECT_EQ(header_text(dead[0], "x-tomodachi-error-type"), "tomodachi::RegexMissmatchException");
  EXPECT_EQ(header_text(dead[0], "x-tomodachi-attempts"), "1");
  EXPECT_EQ(header_text(dead[0], "x-tomodachi-source-queue"), queue);
  EXPECT_EQ(header_text(dead[0], "x-tomodachi-handler"), "validated");
  // The failed validation was logged as a warning by the envelope.
  bool logged = false;
  for (const auto& line : warnings()) {
    if (line.starts_with("tomodachi.envelope: message validation failed") &&
        line.find("not-a-number") != std::string::npos) {
      logged = true;
    }
  }
  EXPECT_TRUE(logged);
  // Nothing left behind: the original was acked, not requeued.
  stop();
  EXPECT_EQ(ready_in(queue), 0);
  EXPECT_EQ(ready_in(queue + ".dlq"), 0);
}

TEST_F(AmqpProtobuf, AJsonBasePayloadOnAProtobufBaseSubscriptionIsDeadLetteredNotLost) {
  const auto key = unique("pb.mismatch");
  const auto queue = unique("pb-mismatch");
  Receiver receiver;
  receiver.subscribe(
      key, "protobuf",
      {.queue_name = queue, .message_envelope = tomodachi::ProtobufBase::of<proto::Person>()});
  receiver.subscribe(key, "raw", {.message_envelope = tomodachi::no_envelope});
  start(receiver);

  publish(receiver, {{"id", "4711"}, {"name", "Ada"}}, key,
          {.message_envelope = tomodachi::json_base()});
  const auto dead = take(queue + ".dlq", 1);
  ASSERT_EQ(dead.size(), 1u);
  ASSERT_TRUE(run_until(io, [&] { return receiver.of("raw").size() == 1; }));

  EXPECT_TRUE(receiver.of("protobuf").empty());
  const std::string original = receiver.of("raw")[0].payload;
  EXPECT_TRUE(original.starts_with("{\"service\": {")) << original;  // what JsonBase published
  EXPECT_EQ(dead[0].body, original);
  EXPECT_NE(header_text(dead[0], "x-tomodachi-error").find("ProtobufBase"), std::string::npos)
      << header_text(dead[0], "x-tomodachi-error");
  EXPECT_EQ(header_text(dead[0], "x-tomodachi-error-type"), "tomodachi::EnvelopeError");
  EXPECT_EQ(header_text(dead[0], "x-tomodachi-attempts"), "1");
  EXPECT_EQ(header_text(dead[0], "x-tomodachi-handler"), "protobuf");
  stop();
  EXPECT_EQ(ready_in(queue), 0);
}
