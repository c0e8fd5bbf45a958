#pragma once
// SNS (Query API: form-encoded requests, XML answers), SQS (JSON protocol) and STS over
// the project's HTTP client, signed with SigV4. Transient failures (connection errors,
// 5xx, throttling) are retried with jittered exponential backoff within each call's
// time limit.

#include "aws/api.hpp"
#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "core/async.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tomodachi::aws {

struct AwsClientConfig {
  CredentialSettings credentials;
  std::optional<std::string> sns_endpoint;  ///< aws_endpoint_urls.sns
  std::optional<std::string> sqs_endpoint;  ///< aws_endpoint_urls.sqs
  std::optional<std::string> sts_endpoint;  ///< aws_endpoint_urls.sts; falls back to sns_endpoint
  HttpClientConfig http;
  std::chrono::steady_clock::duration call_timeout = std::chrono::seconds(40);
  std::chrono::steady_clock::duration delete_timeout = std::chrono::seconds(12);
  int max_attempts = 5;               ///< per call, for retryable failures
  core::SleepFunction backoff_sleep;  ///< waits out a retry's backoff; empty: real time
};

/// Called after every HTTP exchange with the service ("sns", "sqs", "sts") and the
/// operation name; the transport counts calls with it.
using AwsCallObserver = std::function<void(std::string_view service, std::string_view operation)>;

class AwsClient final : public AwsApi {
 public:
  /// Throws AwsCredentialsError `You must specify a region.` when no region resolves, and
  /// tomodachi::ArgumentError for a malformed endpoint URL.
  AwsClient(boost::asio::any_io_executor executor, AwsClientConfig config);
  ~AwsClient() override;

  std::string region() const override;
  const Url& endpoint(std::string_view service) const;
  void set_call_observer(AwsCallObserver observer);
  /// Closes idle pooled connections.
  void close();
  CredentialProvider& credentials();

  Task<std::string> get_caller_identity_account() override;

  Task<std::string> create_topic(std::string name, AttributeMap attributes) override;
  Task<AttributeMap> get_topic_attributes(std::string topic_arn) override;
  Task<void> set_topic_attributes(std::string topic_arn, std::string name,
                                  std::string value) override;
  Task<ListTopicsPage> list_topics(std::optional<std::string> next_token) override;
  Task<std::string> subscribe(std::string topic_arn, std::string protocol, std::string endpoint,
                              AttributeMap attributes) override;
  Task<void> set_subscription_attributes(std::string subscription_arn, std::string name,
                                         std::string value) override;
  Task<std::string> publish(PublishRequest request) override;

  Task<std::string> get_queue_url(std::string queue_name,
                                  std::optional<std::string> owner_account) override;
  Task<std::string> create_queue(std::string queue_name, AttributeMap attributes) override;
  Task<AttributeMap> get_queue_attributes(std::string queue_url,
                                          std::vector<std::string> names) override;
  Task<void> set_queue_attributes(std::string queue_url, AttributeMap attributes) override;
  Task<std::vector<ReceivedMessage>> receive_message(ReceiveMessageRequest request) override;
  Task<void> delete_message(std::string queue_url, std::string receipt_handle) override;
  Task<BatchResult> delete_message_batch(std::string queue_url,
                                         std::vector<std::string> receipt_handles) override;
  Task<BatchResult> change_message_visibility_batch(std::string queue_url,
                                                    std::vector<VisibilityChange> entries) override;
  Task<std::string> send_message(SendMessageRequest request) override;

  // Read-back calls (inspection tools and tests; the transport does not need them).
  struct Subscription {
    std::string subscription_arn;
    std::string protocol;
    std::string endpoint;
  };
  Task<std::vector<Subscription>> list_subscriptions_by_topic(std::string topic_arn);
  Task<AttributeMap> get_subscription_attributes(std::string subscription_arn);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// Default endpoint of `service` in `region` (`https://sqs.eu-west-1.amazonaws.com`, China
/// regions on `amazonaws.com.cn`).
std::string default_endpoint(std::string_view service, std::string_view region);

}  // namespace tomodachi::aws
