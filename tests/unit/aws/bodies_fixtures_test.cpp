// Message bodies against every case of tests/fixtures/upstream/sqs_bodies.json:
// sqs_send_message requests, SNS publish request sequences, and the receive side (the
// values a handler gets, which messages are deleted or kept) under the `tomodachi`
// delivery policy (upstream's outcome rules).

#include "aws/consumer.hpp"
#include "aws/publisher.hpp"
#include "aws/setup.hpp"
#include "fake_aws.hpp"
#include "fixture_support.hpp"
#include "peer_support.hpp"

#include <tomodachi/envelope.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/transport/messaging.hpp>

#include <gtest/gtest.h>

namespace aws = tomodachi::aws;
namespace json = boost::json;
using aws_test::case_id;
using aws_test::expected_of;
using aws_test::fixture_cases;

namespace {
const std::string file = "sqs_bodies.json";

// Expands the fixtures' `{"$gen": ...}` values, recursively.
json::value generate(const json::value& value) {
  if (const auto* object = value.if_object()) {
    if (object->contains("$gen")) {
      const auto& kind = object->at("$gen").as_string();
      std::string text;
      if (kind == "repeat" || kind == "dict_with_repeat") {
        for (std::int64_t i = 0; i < object->at("count").as_int64(); ++i)
          text += std::string(object->at("unit").as_string());
      }
      if (kind == "repeat") return json::value(text);
      if (kind == "dict_with_repeat") return json::object{{object->at("key").as_string(), text}};
      if (kind == "item_list") {
        json::array items;
        for (std::int64_t i = 1; i <= object->at("count").as_int64(); ++i)
          items.emplace_back("item " + std::to_string(i));
        return items;
      }
    }
    json::object out;
    for (const auto& [key, item] : *object) out[key] = generate(item);
    return out;
  }
  if (const auto* array = value.if_array()) {
    json::array out;
    for (const auto& item : *array) out.push_back(generate(item));
    return out;
  }
  return value;
}

tomodachi::MessageAttributes attributes_from(const json::object* input) {
  tomodachi::MessageAttributes attributes;
  if (input == nullptr) return attributes;
  for (const auto& [name, value] : *input) {
    if (value.is_object() && value.as_object().contains("$bytes_b64")) {
      attributes.set(std::string(name), tomodachi::Bytes{*tomodachi::encoding::base64_decode(
                                            value.at("$bytes_b64").as_string())});
    } else {
      attributes.set(std::string(name), aws_test::untag(value));
    }
  }
  return attributes;
}

// A value as the fixture writes it, or its sha256 for large texts.
void expect_text(const std::string& ours, const json::value& expected, const std::string& where) {
  if (expected.is_object() && expected.as_object().contains("$string_sha256")) {
    EXPECT_EQ(tomodachi::encoding::sha256_hex(ours), expected.at("$string_sha256").as_string())
        << where;
  } else {
    EXPECT_EQ(json::value(ours), expected) << where;
  }
}

struct Pinned {
  std::shared_ptr<std::vector<std::string>> uuids = std::make_shared<std::vector<std::string>>();
  std::shared_ptr<std::size_t> next = std::make_shared<std::size_t>(0);
  double time = 0;
};

Pinned pin(aws::AwsResources& resources, const json::object& input) {
  Pinned pinned;
  for (const auto& uuid : input.at("pinned_uuid4_sequence").as_array())
    pinned.uuids->emplace_back(uuid.as_string());
  pinned.time = input.at("pinned_time").to_number<double>();
  resources.uuid4 = [pinned] { return (*pinned.uuids)[(*pinned.next)++]; };
  resources.now = [time = pinned.time] { return time; };
  return pinned;
}

// The first pinned uuid4 goes to the envelope, later ones to FIFO deduplication ids.
tomodachi::BuildContext build_context(Pinned& pinned) {
  tomodachi::BuildContext context;
  context.uuid4 = (*pinned.uuids)[(*pinned.next)++];
  context.time = pinned.time;
  return context;
}

std::unique_ptr<tomodachi::Service> service_from(const json::object& input,
                                                 const json::object& kwargs) {
  auto service =
      std::make_unique<tomodachi::Service>(std::string(input.at("service").at("name").as_string()));
  service->set_uuid(std::string(input.at("service").at("uuid").as_string()));
  if (kwargs.contains("service_envelope")) service->message_envelope = tomodachi::json_base();
  return service;
}

tomodachi::EnvelopeOverride envelope_from(const json::object& kwargs) {
  const auto* choice = kwargs.if_contains("message_envelope");
  if (choice == nullptr) return std::nullopt;
  if (choice->is_null()) return std::shared_ptr<const tomodachi::Envelope>();
  return tomodachi::json_base();
}

}  // namespace

TEST(SqsBodiesFixture, SendMessage) {
  const auto cases = fixture_cases(file, "send_message");
  ASSERT_EQ(cases.size(), 12u);
  for (const auto& c : cases) {
    const auto expected = expected_of(file, c);
    const auto& input = c.at("input").as_object();
    const auto& kwargs = input.at("call_kwargs").as_object();
    aws_test::FakeAws fake;
    for (const auto& name : input.at("existing_queues").as_array())
      fake.add_queue(std::string(name.as_string()));
    aws::AwsResources resources(fake, {}, tomodachi::Logger("tomodachi.awssnssqs"));
    auto pinned = pin(resources, input);
    auto service = service_from(input, kwargs);
    aws::SendInput send;
    send.sender = service.get();
    send.data = tomodachi::PublishData(generate(input.at("data")));
    send.queue = std::string(input.at("queue_name").as_string());
    send.envelope = envelope_from(kwargs);
    send.attributes = attributes_from(kwargs.contains("message_attributes")
                                          ? &kwargs.at("message_attributes").as_object()
                                          : nullptr);
    if (const auto* v = kwargs.if_contains("group_id")) send.group_id = std::string(v->as_string());
    if (const auto* v = kwargs.if_contains("deduplication_id"))
      send.deduplication_id = std::string(v->as_string());
    if (const auto* v = kwargs.if_contains("delay_seconds"))
      send.delay_seconds = static_cast<int>(v->as_int64());
    if (kwargs.contains("message_body_formatter")) send.tomodachi_body = false;
    boost::asio::io_context io;
    const auto message_id =
        aws_test::run(io, aws::send_sqs_message(resources, std::move(send), build_context(pinned)));
    EXPECT_EQ(json::value(message_id), expected.at("return_value")) << case_id(c);
    const auto sends = fake.calls_of("SendMessage");
    ASSERT_EQ(sends.size(), 1u) << case_id(c);
    const auto& request = sends[0];
    const auto& wanted = expected.at("send_message_request").as_object();
    for (const auto& [key, value] : wanted) {
      if (key == "MessageBody") {
        expect_text(std::string(request.at("MessageBody").as_string()), value,
                    case_id(c) + " MessageBody");
      } else {
        EXPECT_EQ(request.if_contains(key) ? *request.if_contains(key) : json::value(), value)
            << case_id(c) << " " << key;
      }
    }
    for (const auto& [key, value] : request)
      EXPECT_TRUE(wanted.contains(key)) << case_id(c) << " extra " << key;
  }
}

TEST(SqsBodiesFixture, SnsPublish) {
  const auto cases = fixture_cases(file, "sns_publish");
  ASSERT_EQ(cases.size(), 9u);
  for (const auto& c : cases) {
    const auto expected = expected_of(file, c);
    const auto& input = c.at("input").as_object();
    const auto& kwargs = input.at("call_kwargs").as_object();
    aws_test::FakeAws fake;
    for (const auto& name : input.at("existing_topics").as_array())
      fake.add_topic(std::string(name.as_string()));
    aws::SetupSettings settings;
    if (const auto* options = kwargs.if_contains("options")) {
      const auto& group = options->at("aws_sns_sqs").as_object();
      if (group.contains("topic_prefix"))
        settings.topic_prefix = std::string(group.at("topic_prefix").as_string());
      if (group.contains("sns_kms_master_key_id")) {
        settings.sns_kms_master_key_id = std::string(group.at("sns_kms_master_key_id").as_string());
      }
    }
    aws::AwsResources resources(fake, settings, tomodachi::Logger("tomodachi.awssnssqs"));
    auto pinned = pin(resources, input);
    auto service = service_from(input, kwargs);
    aws::PublishInput publish;
    publish.sender = service.get();
    publish.data = tomodachi::PublishData(generate(input.at("data")));
    publish.topic = std::string(input.at("topic").as_string());
    publish.topic_prefix = settings.topic_prefix;
    publish.envelope = envelope_from(kwargs);
    publish.attributes = attributes_from(kwargs.contains("message_attributes")
                                             ? &kwargs.at("message_attributes").as_object()
                                             : nullptr);
    if (const auto* v = kwargs.if_contains("group_id"))
      publish.group_id = std::string(v->as_string());
    if (const auto* v = kwargs.if_contains("deduplication_id"))
      publish.deduplication_id = std::string(v->as_string());
    if (const auto* v = kwargs.if_contains("topic_attributes")) {
      for (const auto& [key, value] : v->as_object())
        publish.topic_attributes[std::string(key)] = std::string(value.as_string());
    }
    boost::asio::io_context io;
    std::optional<std::string> error;
    std::string message_id;
    try {
      message_id = aws_test::run(
          io, aws::publish_message(resources, std::move(publish), build_context(pinned)));
    } catch (const std::exception& e) {
      error = e.what();
    }
    EXPECT_EQ(error.has_value(), expected.contains("error"))
        << case_id(c) << ": " << error.value_or("");
    if (!error) {
      EXPECT_EQ(json::value(message_id), expected.at("return_value")) << case_id(c);
    }
    EXPECT_EQ(json::value(fake.calls), expected.at("aws_calls"))
        << case_id(c) << "\nours:     " << json::serialize(fake.calls)
        << "\nexpected: " << json::serialize(expected.at("aws_calls"));
  }
}

namespace {

aws::ReceivedMessage received_from(const json::object& message) {
  aws::ReceivedMessage received;
  received.message_id = std::string(message.at("MessageId").as_string());
  received.receipt_handle = std::string(message.at("ReceiptHandle").as_string());
  received.body = std::string(message.at("Body").as_string());
  if (const auto* attributes = message.if_contains("Attributes")) {
    for (const auto& [key, value] : attributes->as_object())
      received.attributes[std::string(key)] = std::string(value.as_string());
  }
  if (const auto* attributes = message.if_contains("MessageAttributes")) {
    json::object outer;
    for (const auto& [name, entry] : attributes->as_object()) {
      json::object copy;
      for (const auto& [key, value] : entry.as_object()) {
        copy[key] = value.is_object() && value.as_object().contains("$bytes_b64")
                        ? value.at("$bytes_b64")
                        : value;
      }
      outer[name] = std::move(copy);
    }
    received.message_attributes = std::move(outer);
  }
  return received;
}

json::object attributes_json(const tomodachi::MessageAttributes& attributes) {
  json::object out;
  for (const auto& [name, value] : attributes) {
    if (const auto* bytes = std::get_if<tomodachi::Bytes>(&value)) {
      out[name] = json::object{{"$bytes_b64", tomodachi::encoding::base64_encode(bytes->value)}};
    } else {
      out[name] = std::get<json::value>(value);
    }
  }
  return out;
}

}  // namespace

TEST(SqsBodiesFixture, Receive) {
  const auto cases = fixture_cases(file, "receive");
  ASSERT_EQ(cases.size(), 18u);
  for (const auto& c : cases) {
    const auto expected = expected_of(file, c);
    const auto& input = c.at("input").as_object();
    const auto& subscription = input.at("subscription").as_object();
    aws_test::FakeAws fake;
    aws::SetupSettings settings;
    if (const auto* group = input.at("options").as_object().if_contains("aws_sns_sqs")) {
      settings.topic_prefix = std::string(group->at("topic_prefix").as_string());
    }
    aws::AwsResources resources(fake, settings, tomodachi::Logger("tomodachi.awssnssqs"));

    json::array invocations;
    const std::string raises = subscription.at("handler_raises").is_string()
                                   ? std::string(subscription.at("handler_raises").as_string())
                                   : std::string();
    const bool raw = subscription.at("message_envelope").is_null();
    tomodachi::DuplicateRegistry duplicates;
    tomodachi::SubscriptionConfig config;
    config.handler_name = "handler";
    config.transport = "aws_sns_sqs";
    config.envelope = raw ? nullptr : tomodachi::json_base();
    config.delivery = tomodachi::DeliveryPolicy::tomodachi();
    config.duplicates = &duplicates;
    config.handler = [&](tomodachi::Message& message) -> tomodachi::Task<void> {
      json::object values;
      for (const char* name : {"message", "message_uuid", "topic", "receipt_handle", "queue_url",
                               "approximate_receive_count", "sns_message_id", "sqs_message_id",
                               "message_type", "raw_message_body", "message_timestamp",
                               "message_deduplication_id", "message_group_id"}) {
        values[name] = message.get(name);
      }
      values["message_attributes"] = attributes_json(message.message_attributes());
      if (raw) {
        values["value"] = message.data();
      } else {
        values["data"] = message.data();
        values["metadata"] = message.metadata();
        values["service"] = message.service();
      }
      invocations.push_back(json::object{{"function", "handler"}, {"values", std::move(values)}});
      if (raises == "internal") throw tomodachi::AwsSnsSqsInternalServiceError("internal");
      if (!raises.empty()) throw std::invalid_argument("handler failure");
      co_return;
    };
    auto dispatcher = std::make_shared<const tomodachi::MessageDispatcher>(std::move(config));

    boost::asio::io_context io;
    aws::ConsumerConfig consumer_config;
    consumer_config.handler_name = "handler";
    const std::string queue_name(subscription.at("queue_name").as_string());
    consumer_config.queue = {queue_name,
                             aws_test::FakeAws::queue_url(queue_name),
                             aws_test::FakeAws::queue_arn(queue_name),
                             subscription.at("fifo").as_bool(),
                             {},
                             30,
                             ""};
    consumer_config.topic_prefix = settings.topic_prefix;
    consumer_config.extend_visibility = false;
    auto consumer = std::make_shared<aws::Consumer>(io.get_executor(), resources, dispatcher,
                                                    consumer_config, nullptr, std::nullopt);
    std::vector<aws::ReceivedMessage> messages;
    for (const auto& message : input.at("receive_message_response_messages").as_array()) {
      messages.push_back(received_from(message.as_object()));
    }
    fake.receive_answers.push_back(messages);
    auto batch = aws_test::run(io, fake.receive_message(consumer->receive_request()));
    aws_test::run(io, consumer->process_batch(std::move(batch)));
    aws_test::run(io, consumer->drain(std::chrono::steady_clock::now() + std::chrono::seconds(5)));

    EXPECT_EQ(json::value(fake.calls_of("ReceiveMessage").at(0)),
              expected.at("receive_message_request"))
        << case_id(c);
    const auto& wanted = expected.at("handler_invocations").as_array();
    ASSERT_EQ(invocations.size(), wanted.size()) << case_id(c);
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      for (const auto& [key, value] : wanted[i].at("values").as_object()) {
        EXPECT_TRUE(aws_test::same_json(invocations[i].at("values").at(key),
                                        generate(aws_test::untag(value))))
            << case_id(c) << " " << std::string(key) << ": "
            << json::serialize(invocations[i].at("values").at(key))
            << " != " << json::serialize(value);
      }
    }
    json::array deleted;
    for (const auto& handle : fake.deleted_receipt_handles) deleted.emplace_back(handle);
    json::array kept;
    for (const auto& message : input.at("receive_message_response_messages").as_array()) {
      const auto& handle = message.at("ReceiptHandle");
      if (std::find(deleted.begin(), deleted.end(), handle) == deleted.end())
        kept.push_back(handle);
    }
    EXPECT_EQ(json::value(deleted), expected.at("deleted_receipt_handles")) << case_id(c);
    EXPECT_EQ(json::value(kept), expected.at("kept_receipt_handles")) << case_id(c);
  }
}

namespace {
std::string custom_body(const tomodachi::SqsBodyContext& context) {
  return "custom:" + std::string(context.queue_name) + ":" + std::string(context.queue_url) + ":" +
         boost::json::serialize(context.data.json()) + ":" +
         std::to_string(context.message_attributes.size()) + ":" +
         (context.envelope ? std::string(context.envelope->name()) : std::string("raw"));
}
}  // namespace

TEST(SqsSendMessage, CustomBodyFormatter) {
  aws_test::FakeAws fake;
  fake.add_queue("my-queue");
  aws::AwsResources resources(fake, {}, tomodachi::Logger("tomodachi.awssnssqs"));
  tomodachi::Service service("svc");
  service.message_envelope = tomodachi::json_base();
  aws::SendInput send;
  send.sender = &service;
  send.data = tomodachi::PublishData(boost::json::value(boost::json::object{{"k", 1}}));
  send.queue = "my-queue";
  send.attributes.set("a", boost::json::value("b"));
  send.formatter = &custom_body;
  boost::asio::io_context io;
  aws_test::run(io, aws::send_sqs_message(resources, std::move(send)));
  const auto sends = fake.calls_of("SendMessage");
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].at("MessageBody"),
            "custom:my-queue:https://sqs.eu-west-1.amazonaws.com/123456789012/"
            "my-queue:{\"k\":1}:1:JsonBase");
  EXPECT_EQ(sends[0].at("MessageAttributes").at("a").at("StringValue"), "b");
}
