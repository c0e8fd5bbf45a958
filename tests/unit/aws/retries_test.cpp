// Retries against a local HTTP server that fails a given number of times: the AWS
// client's attempts with jittered backoff (throttling, 5xx, 408), its give-up after
// `max_attempts`, and the publisher's own 3 attempts (spec/wire.md §3.4, §3.12). The
// backoffs run on virtual time: the client asks for them and the test records them.

#include "aws/aws_client.hpp"
#include "aws/publisher.hpp"
#include "aws/setup.hpp"
#include "mini_http_server.hpp"
#include "peer_support.hpp"

#include <tomodachi/logging.hpp>

#include <gtest/gtest.h>

#include <mutex>

namespace aws = tomodachi::aws;
using aws_test::CannedResponse;
using aws_test::RecordedRequest;
using aws_test::run;
using namespace std::chrono_literals;

namespace {

const std::string queue_url_path = "/000000000000/retried-queue";

CannedResponse sqs_throttled() {
  return {400, R"({"__type":"com.amazonaws.sqs#ThrottlingException","message":"Rate exceeded"})"};
}
CannedResponse sqs_internal_error() {
  return {
      500,
      R"({"__type":"com.amazonaws.sqs#InternalError","message":"We encountered an internal error."})"};
}
CannedResponse sqs_sent(int n) {
  return {200, R"({"MessageId":"message-)" + std::to_string(n) + R"("})"};
}

std::string sqs_target(const RecordedRequest& request) {
  auto it = request.headers.find("x-amz-target");
  return it == request.headers.end() ? std::string() : it->second;
}

/// Answers SQS SendMessage / SNS Publish with `failure` for the first `failures` calls of
/// that operation, then with success; STS and GetTopicAttributes always succeed.
class FlakyAws {
 public:
  FlakyAws(boost::asio::io_context& io, int failures, std::function<CannedResponse()> failure)
      : failures_(failures),
        failure_(std::move(failure)),
        server_(io, [this](const RecordedRequest& request) { return answer(request); }) {}

  std::string url() const { return server_.url(); }
  int attempts() const { return attempts_; }
  /// The backoffs the clients of `client_config` waited out (on virtual time).
  const std::vector<std::chrono::steady_clock::duration>& backoffs() const {
    return sleeps_.delays();
  }

  aws::AwsClientConfig client_config(int max_attempts) const {
    aws::AwsClientConfig config;
    config.credentials.region = "eu-west-1";
    config.credentials.access_key_id = "AKIDEXAMPLE";
    config.credentials.secret_access_key = "secret";
    config.sns_endpoint = url();
    config.sqs_endpoint = url();
    config.max_attempts = max_attempts;
    config.backoff_sleep = sleeps_.function();
    return config;
  }

 private:
  CannedResponse answer(const RecordedRequest& request) {
    if (request.body.find("Action=GetCallerIdentity") != std::string::npos) {
      return {200,
              "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>000000000000</Account>"
              "</GetCallerIdentityResult></GetCallerIdentityResponse>"};
    }
    if (request.body.find("Action=GetTopicAttributes") != std::string::npos) {
      return {200,
              "<GetTopicAttributesResponse><GetTopicAttributesResult><Attributes><entry><key>"
              "TopicArn</key>"
              "<value>arn:aws:sns:eu-west-1:000000000000:retried-topic</value></entry></Attributes>"
              "</GetTopicAttributesResult></GetTopicAttributesResponse>"};
    }
    const bool publish = request.body.find("Action=Publish") != std::string::npos;
    const bool send = sqs_target(request) == "AmazonSQS.SendMessage";
    if (!publish && !send) return {400, "unexpected request " + request.body};
    ++attempts_;
    if (attempts_ <= failures_) return failure_();
    if (publish) {
      return {200, "<PublishResponse><PublishResult><MessageId>published-" +
                       std::to_string(attempts_) +
                       "</MessageId></PublishResult></PublishResponse>"};
    }
    return sqs_sent(attempts_);
  }

  int failures_;
  std::function<CannedResponse()> failure_;
  int attempts_ = 0;
  aws_test::VirtualSleeps sleeps_;
  aws_test::MiniHttpServer server_;
};

aws::SendMessageRequest send_request(const std::string& base_url) {
  aws::SendMessageRequest request;
  request.queue_url = base_url + queue_url_path;
  request.message_body = "body";
  return request;
}

// ---- the client ------------------------------------------------------------------------

TEST(AwsClientRetries, ThrottlingIsRetriedUntilItSucceeds) {
  boost::asio::io_context io;
  FlakyAws server(io, 2, sqs_throttled);
  aws::AwsClient client(io.get_executor(), server.client_config(5));
  int observed = 0;
  client.set_call_observer([&](std::string_view service, std::string_view operation) {
    EXPECT_EQ(service, "sqs");
    EXPECT_EQ(operation, "SendMessage");
    ++observed;
  });
  EXPECT_EQ(run(io, client.send_message(send_request(server.url()))), "message-3");
  EXPECT_EQ(server.attempts(), 3);
  EXPECT_EQ(observed, 3);                   // every attempt is an exchange with the service
  EXPECT_EQ(server.backoffs().size(), 2u);  // one before each retry
}

TEST(AwsClientRetries, ServerErrorsAndRequestTimeoutsAreRetried) {
  for (int status : {500, 502, 503, 504, 408}) {
    boost::asio::io_context io;
    FlakyAws server(io, 2, [status] { return CannedResponse{status, ""}; });
    aws::AwsClient client(io.get_executor(), server.client_config(5));
    EXPECT_EQ(run(io, client.send_message(send_request(server.url()))), "message-3") << status;
    EXPECT_EQ(server.attempts(), 3) << status;
    EXPECT_EQ(server.backoffs().size(), 2u) << status;
  }
}

TEST(AwsClientRetries, TransientErrorCodesAreRetried) {
  boost::asio::io_context io;
  FlakyAws server(io, 1, [] {
    return CannedResponse{
        400,
        R"({"__type":"com.amazonaws.sqs#RequestTimeout","message":"Your socket connection timed out"})"};
  });
  aws::AwsClient client(io.get_executor(), server.client_config(5));
  EXPECT_EQ(run(io, client.send_message(send_request(server.url()))), "message-2");
  EXPECT_EQ(server.attempts(), 2);
}

TEST(AwsClientRetries, GivesUpAfterMaxAttemptsWithTheServiceError) {
  boost::asio::io_context io;
  FlakyAws server(io, 100, sqs_throttled);
  aws::AwsClient client(io.get_executor(), server.client_config(3));
  try {
    run(io, client.send_message(send_request(server.url())));
    FAIL() << "no error after max_attempts";
  } catch (const aws::AwsApiError& error) {
    EXPECT_EQ(error.code(), "ThrottlingException");
    EXPECT_TRUE(error.throttling());
    EXPECT_STREQ(error.what(),
                 "An error occurred (ThrottlingException) when calling the SendMessage operation: "
                 "Rate exceeded");
  }
  EXPECT_EQ(server.attempts(), 3);
  EXPECT_EQ(server.backoffs().size(), 2u);  // none after the last attempt
}

TEST(AwsClientRetries, ClientErrorsAreNotRetried) {
  boost::asio::io_context io;
  FlakyAws server(io, 100, [] {
    return CannedResponse{
        400, R"({"__type":"com.amazon.coral.validate#ValidationException","message":"bad"})"};
  });
  aws::AwsClient client(io.get_executor(), server.client_config(5));
  EXPECT_THROW(run(io, client.send_message(send_request(server.url()))), aws::AwsApiError);
  EXPECT_EQ(server.attempts(), 1);
  EXPECT_TRUE(server.backoffs().empty());
}

TEST(AwsClientRetries, TheBackoffIsFullJitterOnAnExponentialCeiling) {
  // Full jitter (botocore's default retry mode): uniform(0, 2^(n-1)) s before retry n. Four
  // retries in each of five calls: every backoff lies under its ceiling, and the backoffs
  // before the first retries are not all the same (a fixed backoff would make them so).
  boost::asio::io_context io;
  std::vector<std::chrono::steady_clock::duration> first_backoffs;
  for (int call = 0; call < 5; ++call) {
    FlakyAws flaky(io, 4, sqs_internal_error);
    aws::AwsClient client(io.get_executor(), flaky.client_config(5));
    EXPECT_EQ(run(io, client.send_message(send_request(flaky.url()))), "message-5");
    const auto& backoffs = flaky.backoffs();
    ASSERT_EQ(backoffs.size(), 4u);
    for (std::size_t retry = 0; retry < backoffs.size(); ++retry) {
      EXPECT_GE(backoffs[retry], std::chrono::steady_clock::duration::zero());
      EXPECT_LT(backoffs[retry], std::chrono::seconds(1 << retry)) << "retry " << retry + 1;
    }
    first_backoffs.push_back(backoffs.front());
  }
  bool differ = false;
  for (auto backoff : first_backoffs) differ |= backoff != first_backoffs.front();
  EXPECT_TRUE(differ);
}

// ---- the publisher -----------------------------------------------------------------------

class Warnings {
 public:
  Warnings() {
    sink_ = tomodachi::add_log_sink([this](const tomodachi::LogRecord& record) {
      if (record.level != tomodachi::LogLevel::warning || !record.message) return;
      std::lock_guard lock(mutex_);
      messages_.emplace_back(*record.message);
    });
  }
  ~Warnings() { tomodachi::remove_log_sink(sink_); }
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  int sink_;
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

aws::SendInput send_input(const tomodachi::Service& service, const std::string& base_url) {
  aws::SendInput input;
  input.sender = &service;
  input.data = tomodachi::PublishData(boost::json::value("hello"));
  input.queue = base_url + queue_url_path;
  return input;
}

aws::PublishInput publish_input(const tomodachi::Service& service) {
  aws::PublishInput input;
  input.sender = &service;
  input.data = tomodachi::PublishData(boost::json::value("hello"));
  input.topic = "retried-topic";
  return input;
}

TEST(PublisherRetries, SendMessageIsAttemptedThreeTimes) {
  boost::asio::io_context io;
  // A client that never retries itself: the attempts counted are the publisher's.
  FlakyAws server(io, 2, sqs_internal_error);
  aws::AwsClient client(io.get_executor(), server.client_config(1));
  aws::AwsResources resources(client, {}, tomodachi::Logger("tomodachi.awssnssqs"));
  tomodachi::Service service("svc");
  EXPECT_EQ(run(io, aws::send_sqs_message(resources, send_input(service, server.url()))),
            "message-3");
  EXPECT_EQ(server.attempts(), 3);
}

TEST(PublisherRetries, SendMessageGivesUpAfterThreeAttemptsWithAWarning) {
  Warnings warnings;
  boost::asio::io_context io;
  FlakyAws server(io, 100, sqs_internal_error);
  aws::AwsClient client(io.get_executor(), server.client_config(1));
  aws::AwsResources resources(client, {}, tomodachi::Logger("tomodachi.awssnssqs"));
  tomodachi::Service service("svc");
  const std::string expected =
      "An error occurred (InternalError) when calling the SendMessage operation: We encountered an "
      "internal error.";
  try {
    run(io, aws::send_sqs_message(resources, send_input(service, server.url())));
    FAIL() << "no error after 3 attempts";
  } catch (const tomodachi::AwsSnsSqsException& error) {
    EXPECT_EQ(std::string(error.what()), expected);
  }
  EXPECT_EQ(server.attempts(), 3);
  const auto messages = warnings.messages();
  EXPECT_NE(std::find(messages.begin(), messages.end(),
                      "Unable to send message [sqs] on AWS (" + expected + ")"),
            messages.end());
}

TEST(PublisherRetries, PublishRetriesAnEmpty408AndThrottling) {
  boost::asio::io_context io;
  int answered = 0;
  FlakyAws server(io, 2, [&answered] {
    // first an empty 408 (spec §3.4: "Further retries may succeed"), then throttling
    return ++answered == 1
               ? CannedResponse{408, ""}
               : CannedResponse{400,
                                "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                                "<Message>Rate exceeded</Message></Error></ErrorResponse>"};
  });
  aws::AwsClient client(io.get_executor(), server.client_config(1));
  aws::AwsResources resources(client, {}, tomodachi::Logger("tomodachi.awssnssqs"));
  tomodachi::Service service("svc");
  EXPECT_EQ(run(io, aws::publish_message(resources, publish_input(service))), "published-3");
  EXPECT_EQ(server.attempts(), 3);
}

TEST(PublisherRetries, PublishGivesUpAfterThreeAttemptsWithAWarning) {
  Warnings warnings;
  boost::asio::io_context io;
  FlakyAws server(io, 100, [] {
    return CannedResponse{400,
                          "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                          "<Message>Rate exceeded</Message></Error></ErrorResponse>"};
  });
  aws::AwsClient client(io.get_executor(), server.client_config(1));
  aws::AwsResources resources(client, {}, tomodachi::Logger("tomodachi.awssnssqs"));
  tomodachi::Service service("svc");
  EXPECT_THROW(run(io, aws::publish_message(resources, publish_input(service))),
               tomodachi::AwsSnsSqsException);
  EXPECT_EQ(server.attempts(), 3);
  const auto messages = warnings.messages();
  EXPECT_NE(
      std::find(
          messages.begin(), messages.end(),
          "Unable to publish message [sns] on AWS (An error occurred (Throttling) when calling the "
          "Publish operation: Rate exceeded)"),
      messages.end());
}

TEST(PublisherRetries, ClientAndPublisherRetriesCompose) {
  // 5 failures: the client's first call retries 3 times then gives up (max_attempts 3),
  // the publisher's second attempt succeeds on the client's 3rd try.
  boost::asio::io_context io;
  FlakyAws server(io, 5, sqs_throttled);
  aws::AwsClient client(io.get_executor(), server.client_config(3));
  aws::AwsResources resources(client, {}, tomodachi::Logger("tomodachi.awssnssqs"));
  tomodachi::Service service("svc");
  EXPECT_EQ(run(io, aws::send_sqs_message(resources, send_input(service, server.url()))),
            "message-6");
  EXPECT_EQ(server.attempts(), 6);
}

}  // namespace
