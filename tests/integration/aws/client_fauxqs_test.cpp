// The SNS/SQS/STS client against a real emulator (fauxqs): request encoding, answer
// parsing, errors, message attributes on the wire, batch calls.

#include "aws/aws_client.hpp"
#include "core/encoding.hpp"
#include "integration/aws/fauxqs_support.hpp"

#include <tomodachi/json.hpp>

#include <gtest/gtest.h>

namespace aws = tomodachi::aws;
using aws_test::run;
using tomodachi::Task;

namespace {

class ClientAgainstFauxqs : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = aws_test::fauxqs_endpoint();
    if (endpoint_.empty()) GTEST_FAIL() << aws_test::fauxqs_missing;
    client_ = std::make_unique<aws::AwsClient>(io_.get_executor(),
                                               aws_test::fauxqs_client_config(endpoint_));
    client_->set_call_observer([this](std::string_view, std::string_view) { ++calls_; });
  }

  std::string unique(std::string_view base) {
    return std::string(base) + "-" + tomodachi::encoding::uuid4().substr(0, 8);
  }

  boost::asio::io_context io_;
  std::string endpoint_;
  std::unique_ptr<aws::AwsClient> client_;
  int calls_ = 0;
};

}  // namespace

TEST_F(ClientAgainstFauxqs, CallerIdentity) {
  EXPECT_EQ(run(io_, client_->get_caller_identity_account()), "000000000000");
  EXPECT_EQ(calls_, 1);
}

TEST_F(ClientAgainstFauxqs, TopicsQueuesSubscriptionAndDelivery) {
  const auto topic_name = unique("client-topic");
  const auto queue_name = unique("client-queue");
  auto topic_arn = run(io_, client_->create_topic(topic_name, {}));
  EXPECT_EQ(topic_arn, "arn:aws:sns:eu-west-1:000000000000:" + topic_name);
  auto topic_attributes = run(io_, client_->get_topic_attributes(topic_arn));
  EXPECT_EQ(topic_attributes["TopicArn"], topic_arn);
  auto page = run(io_, client_->list_topics(std::nullopt));
  EXPECT_NE(std::find(page.topic_arns.begin(), page.topic_arns.end(), topic_arn),
            page.topic_arns.end());

  auto queue_url = run(io_, client_->create_queue(queue_name, {}));
  EXPECT_EQ(run(io_, client_->get_queue_url(queue_name, std::nullopt)), queue_url);
  auto queue_attributes =
      run(io_, client_->get_queue_attributes(queue_url, {"QueueArn", "VisibilityTimeout"}));
  const auto queue_arn = queue_attributes["QueueArn"];
  EXPECT_EQ(queue_arn, "arn:aws:sqs:eu-west-1:000000000000:" + queue_name);
  EXPECT_EQ(queue_attributes["VisibilityTimeout"], "30");
  run(io_, client_->set_queue_attributes(queue_url, {{"VisibilityTimeout", "45"}}));
  EXPECT_EQ(run(io_, client_->get_queue_attributes(queue_url,
                                                   {"VisibilityTimeout"}))["VisibilityTimeout"],
            "45");

  auto subscription = run(io_, client_->subscribe(topic_arn, "sqs", queue_arn,
                                                  {{"FilterPolicy", R"({"currency": ["SEK"]})"}}));
  EXPECT_TRUE(subscription.starts_with(topic_arn + ":")) << subscription;

  aws::PublishRequest filtered_out{
      topic_arn, "dropped", {{"currency", {"String", "USD", std::nullopt}}}};
  run(io_, client_->publish(filtered_out));
  aws::PublishRequest request{topic_arn,
                              "h\u00e4llo & =+ world",
                              {{"currency", {"String", "SEK", std::nullopt}},
                               {"amount", {"Number", "99.5", std::nullopt}},
                               {"blob", {"Binary", "", std::string("\x00\x01 bytes", 8)}},
                               {"list", {"String.Array", R"(["a", 1])", std::nullopt}}}};
  auto message_id = run(io_, client_->publish(request));
  EXPECT_FALSE(message_id.empty());

  aws::ReceiveMessageRequest receive{queue_url, 1, 10};
  auto messages = run(io_, client_->receive_message(receive));
  ASSERT_EQ(messages.size(), 1u);
  const auto body = tomodachi::json::loads(messages[0].body);
  EXPECT_EQ(body.at("Type").as_string(), "Notification");
  EXPECT_EQ(body.at("TopicArn").as_string(), topic_arn);
  EXPECT_EQ(body.at("MessageId").as_string(), message_id);
  EXPECT_EQ(body.at("Message").as_string(), "h\u00e4llo & =+ world");
  const auto& attributes = body.at("MessageAttributes").as_object();
  EXPECT_EQ(attributes.at("currency").at("Type").as_string(), "String");
  EXPECT_EQ(attributes.at("amount").at("Value").as_string(), "99.5");
  EXPECT_EQ(attributes.at("blob").at("Type").as_string(), "Binary");
  EXPECT_EQ(attributes.at("blob").at("Value").as_string(),
            tomodachi::encoding::base64_encode(std::string("\x00\x01 bytes", 8)));
  EXPECT_EQ(messages[0].attributes.at("ApproximateReceiveCount"), "1");

  auto changed = run(io_, client_->change_message_visibility_batch(
                              queue_url, {{"a", messages[0].receipt_handle, 0}}));
  EXPECT_EQ(changed.successful, std::vector<std::string>{"a"});
  messages = run(io_, client_->receive_message(receive));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].attributes.at("ApproximateReceiveCount"), "2");
  auto deleted = run(
      io_, client_->delete_message_batch(queue_url, {messages[0].receipt_handle, "bogus-handle"}));
  // SQS (and fauxqs) accept unknown receipt handles on delete.
  EXPECT_EQ(deleted.successful, (std::vector<std::string>{"0", "1"}));
  EXPECT_TRUE(deleted.failed.empty());
  EXPECT_TRUE(
      run(io_, client_->receive_message(aws::ReceiveMessageRequest{queue_url, 0, 10})).empty());
}

TEST_F(ClientAgainstFauxqs, SendMessageWithAttributes) {
  auto queue_url = run(io_, client_->create_queue(unique("client-send"), {}));
  aws::SendMessageRequest send{queue_url,
                               R"({"Type": "Message"})",
                               {{"n", {"Number", "4711", std::nullopt}},
                                {"b", {"Binary", "", std::string("abc\x00\x01", 5)}}}};
  const auto id = run(io_, client_->send_message(send));
  EXPECT_FALSE(id.empty());
  auto messages = run(io_, client_->receive_message(aws::ReceiveMessageRequest{queue_url, 1, 10}));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].message_id, id);
  EXPECT_EQ(messages[0].body, R"({"Type": "Message"})");
  ASSERT_TRUE(messages[0].message_attributes);
  const auto& attributes = *messages[0].message_attributes;
  EXPECT_EQ(attributes.at("n").at("DataType").as_string(), "Number");
  EXPECT_EQ(attributes.at("n").at("StringValue").as_string(), "4711");
  EXPECT_EQ(attributes.at("b").at("BinaryValue").as_string(),
            tomodachi::encoding::base64_encode(std::string("abc\x00\x01", 5)));
  run(io_, client_->delete_message(queue_url, messages[0].receipt_handle));
}

TEST_F(ClientAgainstFauxqs, ErrorAnswers) {
  try {
    run(io_, client_->get_queue_url(unique("missing"), std::nullopt));
    FAIL() << "no error";
  } catch (const aws::AwsApiError& error) {
    EXPECT_TRUE(error.non_existent_queue()) << error.what();
    EXPECT_EQ(error.service(), "sqs");
    EXPECT_EQ(error.status(), 400);
  }
  try {
    run(io_,
        client_->get_topic_attributes("arn:aws:sns:eu-west-1:000000000000:" + unique("missing")));
    FAIL() << "no error";
  } catch (const aws::AwsApiError& error) {
    EXPECT_EQ(error.code(), "NotFound") << error.what();
    EXPECT_FALSE(error.throttling());
  }
}

TEST_F(ClientAgainstFauxqs, ConnectionsAreReused) {
  for (int i = 0; i < 20; ++i) run(io_, client_->list_topics(std::nullopt));
  EXPECT_EQ(calls_, 20);
  // Every call of this single-threaded sequence ran on one pooled connection: fauxqs logs
  // the remote port of each request; the test only checks the client's own count here.
}

TEST(AwsClient, ConnectionRefusedIsAnHttpConnectError) {
  boost::asio::io_context io;
  aws::AwsClientConfig config;
  config.credentials.region = "eu-west-1";
  config.credentials.access_key_id = "a";
  config.credentials.secret_access_key = "b";
  config.sqs_endpoint = "http://127.0.0.1:9";  // discard port: nothing listens
  config.max_attempts = 2;
  aws::AwsClient client(io.get_executor(), config);
  try {
    run(io, client.get_queue_url("q", std::nullopt));
    FAIL() << "no error";
  } catch (const aws::AwsHttpError& error) {
    EXPECT_EQ(error.kind(), aws::AwsHttpError::Kind::connect) << error.what();
  }
}

TEST(AwsClient, MissingRegionIsAClearError) {
  boost::asio::io_context io;
  ::unsetenv("AWS_REGION");
  ::unsetenv("AWS_DEFAULT_REGION");
  ::setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config", 1);
  aws::AwsClientConfig config;
  try {
    aws::AwsClient client(io.get_executor(), config);
    FAIL() << "no error";
  } catch (const aws::AwsCredentialsError& error) {
    EXPECT_STREQ(error.what(), "You must specify a region.");
  }
}

TEST(AwsClient, DefaultEndpoints) {
  EXPECT_EQ(aws::default_endpoint("sqs", "eu-west-1"), "https://sqs.eu-west-1.amazonaws.com");
  EXPECT_EQ(aws::default_endpoint("sns", "cn-north-1"), "https://sns.cn-north-1.amazonaws.com.cn");
}
