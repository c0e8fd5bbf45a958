// The subscribe and send paths replayed against the fixtures' recorded request sequences:
// queue_policy.json (subscription_setup: every AWS request in order), aws_names.json
// (sqs_subscription_names, wildcard_topic_subscription, send_message_queue_resolution).

#include "aws/naming.hpp"
#include "aws/setup.hpp"
#include "fake_aws.hpp"
#include "fixture_support.hpp"
#include "peer_support.hpp"

#include <gtest/gtest.h>

namespace aws = tomodachi::aws;
namespace json = boost::json;
using aws_test::case_id;
using aws_test::expected_of;
using aws_test::fixture_cases;

namespace {

aws::SetupSettings settings_from(const json::object& options) {
  aws::SetupSettings settings;
  const auto* group = options.if_contains("aws_sns_sqs");
  if (group == nullptr) return settings;
  const auto& o = group->as_object();
  const auto text = [&](const char* key) -> std::optional<std::string> {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (v->is_bool())
      return v->as_bool() ? std::optional<std::string>() : std::optional<std::string>("");
    return std::string(v->as_string());
  };
  settings.topic_prefix = text("topic_prefix").value_or("");
  settings.queue_name_prefix = text("queue_name_prefix").value_or("");
  settings.sns_kms_master_key_id = text("sns_kms_master_key_id");
  settings.sqs_kms_master_key_id = text("sqs_kms_master_key_id");
  if (const auto* v = o.if_contains("sqs_kms_data_key_reuse_period"); v && v->is_int64()) {
    settings.sqs_kms_data_key_reuse_period = static_cast<int>(v->as_int64());
  }
  settings.policy.queue_policy = text("queue_policy");
  settings.policy.wildcard_queue_policy = text("wildcard_queue_policy");
  return settings;
}

aws::SubscriptionRequest request_from(const json::object& handler,
                                      const std::string& service_uuid) {
  aws::SubscriptionRequest request;
  request.handler_name = std::string(handler.at("function_name").as_string());
  request.service_uuid = service_uuid;
  if (const auto* topic = handler.if_contains("topic"); topic && topic->is_string()) {
    request.topic = std::string(topic->as_string());
  }
  auto& options = request.options;
  if (const auto* v = handler.if_contains("competing"); v && v->is_bool())
    options.competing = v->as_bool();
  if (const auto* v = handler.if_contains("queue_name"); v && v->is_string())
    options.queue_name = std::string(v->as_string());
  if (const auto* v = handler.if_contains("fifo"); v && v->is_bool()) options.fifo = v->as_bool();
  if (const auto* v = handler.if_contains("filter_policy")) options.filter_policy = *v;
  if (const auto* v = handler.if_contains("visibility_timeout"); v && v->is_int64()) {
    options.visibility_timeout = static_cast<int>(v->as_int64());
  }
  if (const auto* v = handler.if_contains("dead_letter_queue_name")) {
    options.dead_letter_queue_name =
        v->is_string() ? std::string(v->as_string()) : std::string();  // None → remove
  }
  if (const auto* v = handler.if_contains("max_receive_count"); v && v->is_int64()) {
    options.max_receive_count = static_cast<int>(v->as_int64());
  }
  return request;
}

struct Replay {
  aws_test::FakeAws fake;
  std::optional<std::string> error;
  std::vector<aws::SubscribedQueue> queues;
};

void run_subscriptions(Replay& replay, const json::object& input) {
  boost::asio::io_context io;
  aws::AwsResources resources(replay.fake, settings_from(input.at("options").as_object()),
                              tomodachi::Logger("tomodachi.awssnssqs"));
  std::vector<std::string> uuids;
  if (const auto* list = input.if_contains("pinned_uuid4_sequence")) {
    for (const auto& uuid : list->as_array()) uuids.emplace_back(uuid.as_string());
  }
  auto next = std::make_shared<std::size_t>(0);
  resources.uuid4 = [uuids, next] {
    return *next < uuids.size() ? uuids[(*next)++] : std::string("uuid");
  };
  const double time =
      input.contains("pinned_time") ? input.at("pinned_time").to_number<double>() : 1712345678.0;
  resources.now = [time] { return time; };
  const std::string uuid = input.contains("service_uuid")
                               ? std::string(input.at("service_uuid").as_string())
                               : std::string("5d0b530f-5c44-4981-b01f-342801bd48f5");
  for (const auto& handler : input.at("handlers").as_array()) {
    try {
      replay.queues.push_back(
          aws_test::run(io, resources.subscribe(request_from(handler.as_object(), uuid))));
    } catch (const std::exception& e) {
      replay.error = e.what();
      return;
    }
  }
}

}  // namespace

TEST(QueuePolicyFixture, SubscriptionSetup) {
  const std::string file = "queue_policy.json";
  const auto cases = fixture_cases(file, "subscription_setup");
  ASSERT_EQ(cases.size(), 27u);
  for (const auto& c : cases) {
    const auto expected = expected_of(file, c);
    const auto& input = c.at("input").as_object();
    Replay replay;
    for (const auto& [name, attributes] : input.at("pre_existing_queues").as_object()) {
      aws_test::FakeAws::AttributeMap map;
      for (const auto& [key, value] : attributes.as_object())
        map[std::string(key)] = std::string(value.as_string());
      replay.fake.add_queue(std::string(name), map);
    }
    std::vector<std::string> listed;
    for (const auto& arn : input.at("list_topics_returns").as_array())
      listed.emplace_back(arn.as_string());
    replay.fake.set_listed_topics(listed, 100);
    run_subscriptions(replay, input);
    EXPECT_EQ(replay.error.has_value(), expected.contains("error"))
        << case_id(c) << ": " << replay.error.value_or("no error");
    if (replay.error && expected.contains("error")) {
      EXPECT_NE(replay.error->find(std::string(expected.at("error").at("message").as_string())),
                std::string::npos)
          << case_id(c) << ": " << *replay.error;
    }
    EXPECT_EQ(json::value(replay.fake.calls), expected.at("aws_calls"))
        << case_id(c) << "\nours:     " << json::serialize(replay.fake.calls)
        << "\nexpected: " << json::serialize(expected.at("aws_calls"));
  }
}

TEST(AwsNamesFixture, SubscriptionNames) {
  const std::string file = "aws_names.json";
  const auto cases = fixture_cases(file, "sqs_subscription_names");
  ASSERT_EQ(cases.size(), 18u);
  for (const auto& c : cases) {
    const auto expected = expected_of(file, c);
    const auto& input = c.at("input").as_object();
    Replay replay;
    for (const auto& name : input.at("pre_existing_queues").as_array())
      replay.fake.add_queue(std::string(name.as_string()));
    run_subscriptions(replay, input);
    EXPECT_EQ(replay.error.has_value(), expected.contains("error"))
        << case_id(c) << ": " << replay.error.value_or("no error");
    if (replay.error && expected.contains("error")) {
      EXPECT_NE(replay.error->find(std::string(expected.at("error").at("message").as_string())),
                std::string::npos)
          << case_id(c) << ": " << *replay.error;
    }
    json::array queue_names;
    for (const auto& queue : replay.queues) queue_names.emplace_back(queue.queue_name);
    json::array created_queues;
    for (const auto& call : replay.fake.calls_of("CreateQueue")) created_queues.push_back(call);
    json::array created_topics;
    for (const auto& call : replay.fake.calls_of("CreateTopic")) created_topics.push_back(call);
    json::array subscribed;
    for (const auto& call : replay.fake.calls_of("Subscribe"))
      subscribed.push_back(call.at("TopicArn"));
    if (!replay.error) {
      EXPECT_EQ(json::value(queue_names), expected.at("queue_names")) << case_id(c);
    }
    EXPECT_EQ(json::value(created_queues), expected.at("created_queues")) << case_id(c);
    EXPECT_EQ(json::value(created_topics), expected.at("created_topics")) << case_id(c);
    EXPECT_EQ(json::value(subscribed), expected.at("subscribed_topic_arns")) << case_id(c);
  }
}

TEST(AwsNamesFixture, WildcardSubscriptions) {
  const std::string file = "aws_names.json";
  const auto cases = fixture_cases(file, "wildcard_topic_subscription");
  ASSERT_EQ(cases.size(), 10u);
  for (const auto& c : cases) {
    const auto expected = expected_of(file, c);
    const auto& input = c.at("input").as_object();
    Replay replay;
    std::vector<std::string> listed;
    for (const auto& arn : input.at("list_topics_returns").as_array())
      listed.emplace_back(arn.as_string());
    replay.fake.set_listed_topics(
        listed, static_cast<std::size_t>(input.at("list_topics_page_size").as_int64()));
    json::object handler{
        {"function_name", "func"}, {"topic", input.at("topic")}, {"fifo", input.at("fifo")}};
    run_subscriptions(
        replay, json::object{{"options", input.at("options")}, {"handlers", json::array{handler}}});
    ASSERT_FALSE(replay.error) << case_id(c) << ": " << *replay.error;
    json::array list_calls;
    for (const auto& call : replay.fake.calls_of("ListTopics")) list_calls.push_back(call);
    EXPECT_EQ(json::value(list_calls), expected.at("list_topics_calls")) << case_id(c);
    json::array subscribed;
    for (const auto& call : replay.fake.calls_of("Subscribe"))
      subscribed.push_back(call.at("TopicArn"));
    EXPECT_EQ(json::value(subscribed), expected.at("subscribed_topic_arns")) << case_id(c);
    EXPECT_TRUE(replay.fake.calls_of("CreateTopic").empty()) << case_id(c);
    const auto policies = replay.fake.calls_of("SetQueueAttributes");
    if (expected.at("queue_policy_source_arn").is_null()) {
      EXPECT_TRUE(policies.empty() || !policies[0].at("Attributes").as_object().contains("Policy"))
          << case_id(c);
    } else {
      ASSERT_EQ(policies.size(), 1u) << case_id(c);
      const auto policy =
          tomodachi::json::loads(policies[0].at("Attributes").at("Policy").as_string());
      EXPECT_EQ(policy.at("Statement").at(0).at("Condition").at("ArnEquals").at("aws:SourceArn"),
                expected.at("queue_policy_source_arn"))
          << case_id(c);
    }
  }
}

TEST(AwsNamesFixture, SendMessageQueueResolution) {
  const std::string file = "aws_names.json";
  const auto cases = fixture_cases(file, "send_message_queue_resolution");
  ASSERT_EQ(cases.size(), 15u);
  for (const auto& c : cases) {
    const auto expected = expected_of(file, c);
    const auto& input = c.at("input").as_object();
    aws_test::FakeAws fake;
    for (const auto& name : input.at("existing_queues").as_array())
      fake.add_queue(std::string(name.as_string()));
    aws::AwsResources resources(fake, settings_from(input.at("options").as_object()),
                                tomodachi::Logger("tomodachi.awssnssqs"));
    const auto& kwargs = input.at("call_kwargs").as_object();
    std::string prefix = resources.settings().queue_name_prefix;
    if (const auto* v = kwargs.if_contains("queue_name_prefix"))
      prefix = v->is_string() ? std::string(v->as_string()) : "";
    std::optional<std::string> group_id;
    if (const auto* v = kwargs.if_contains("group_id"); v && v->is_string())
      group_id = std::string(v->as_string());
    const std::string queue(input.at("queue_name_argument").as_string());
    boost::asio::io_context io;
    std::optional<std::string> url;
    std::optional<std::string> error;
    try {
      aws::check_send_fifo_arguments(queue, group_id.has_value());
      url = aws_test::run(io, resources.send_queue_url(queue, prefix));
    } catch (const std::exception& e) {
      error = e.what();
    }
    json::array lookups;
    for (const auto& call : fake.calls_of("GetQueueUrl")) lookups.push_back(call);
    EXPECT_EQ(json::value(lookups), expected.at("get_queue_url_calls")) << case_id(c);
    EXPECT_EQ(error.has_value(), expected.contains("error"))
        << case_id(c) << ": " << error.value_or("");
    if (error && expected.contains("error")) {
      EXPECT_NE(error->find(std::string(expected.at("error").at("message").as_string())),
                std::string::npos)
          << case_id(c) << ": " << *error;
    }
    if (url) {
      EXPECT_EQ(json::value(*url), expected.at("send_message_queue_url")) << case_id(c);
    }
  }
}
