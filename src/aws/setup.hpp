#pragma once
// Creating and finding what a subscription or a publish needs (spec/wire.md §3.3, §3.5 -
// §3.8, §3.12, §3.13): queues (and dead-letter queues), topics, the queue policy and
// attributes, SNS subscriptions with their filter policy, wildcard subscriptions, and
// the queue and topic lookups of the publishing side. Works against `AwsApi`, so the
// request sequences can be compared with the ones upstream makes.

#include "aws/api.hpp"
#include "aws/policy.hpp"
#include "core/async.hpp"

#include <tomodachi/aws_sns_sqs.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/task.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tomodachi::aws {

/// The `aws_sns_sqs.*` options the setup uses.
struct SetupSettings {
  std::string topic_prefix;
  std::string queue_name_prefix;
  std::optional<std::string> sns_kms_master_key_id;
  std::optional<std::string> sqs_kms_master_key_id;
  std::optional<int> sqs_kms_data_key_reuse_period;
  QueuePolicyOptions policy;
};

/// One subscription to set up.
struct SubscriptionRequest {
  std::string handler_name;
  std::string service_uuid;
  std::string topic;  ///< unprefixed; "" = a queue without a topic
  AwsSnsSqsOptions options;
};

/// What a subscription consumes.
struct SubscribedQueue {
  std::string queue_name;
  std::string queue_url;
  std::string queue_arn;
  bool fifo = false;
  std::vector<std::string> topic_arns;
  /// The queue's VisibilityTimeout after the setup (seconds; nullopt when unknown).
  std::optional<int> visibility_timeout;
  /// The `deadLetterTargetArn` of the queue's SQS RedrivePolicy (set here or found on the
  /// queue, e.g. made by terraform); "" without one. Client-side dead-letters go there.
  std::string dead_letter_target_arn;
};

struct QueueRef {
  std::string name;
  std::string url;
  std::string arn;
};

/// Process state shared by the setup and the publishers of one AWS client: the caches of
/// topic ARNs and queue URLs, and the account id.
class AwsResources {
 public:
  AwsResources(AwsApi& api, SetupSettings settings, Logger logger);

  AwsApi& api() noexcept { return api_; }
  const SetupSettings& settings() const noexcept { return settings_; }
  const Logger& logger() const noexcept { return logger_; }

  /// Sources of uuid4s and of `time.time()` (replaced by tests).
  std::function<std::string()> uuid4;
  std::function<double()> now;

  /// Sets up one subscription. Throws AwsSnsSqsException / tomodachi::ArgumentError with
  /// upstream's start-failure messages.
  Task<SubscribedQueue> subscribe(const SubscriptionRequest& request);

  /// The ARN of a topic to publish to (cache, then STS account + GetTopicAttributes,
  /// then CreateTopic with `attributes`).
  Task<std::string> publish_topic_arn(std::string topic, std::string topic_prefix, bool fifo,
                                      std::map<std::string, std::string> topic_attributes,
                                      bool overwrite);

  /// The URL of a queue to send to: a name (prefix applied), an SQS ARN or a URL.
  /// Throws QueueDoesNotExistError / tomodachi::ArgumentError.
  Task<std::string> send_queue_url(std::string queue, std::string queue_name_prefix);

  /// Finds or creates queue `name` (spec §3.6); `dead_letter` adds 14 days retention.
  Task<QueueRef> ensure_queue(std::string name, bool fifo, bool dead_letter);

  /// Forgets a cached queue URL (after NonExistentQueue).
  void forget_queue(const std::string& queue_url);
  /// Forgets a cached topic ARN (after NotFound), or all of them (the endpoint lost its state).
  void forget_topic(const std::string& topic_arn);
  void forget_topics();

 private:
  Task<std::string> create_topic(std::string encoded_name, AttributeMap attributes, bool overwrite);
  Task<std::vector<std::string>> wildcard_topic_arns(const std::string& topic, bool fifo);
  Task<std::optional<std::string>> lookup_topic(const std::string& encoded_name);
  Task<void> reconcile_queue(SubscribedQueue& queue, const SubscriptionRequest& request,
                             const std::optional<std::string>& redrive,
                             const std::vector<std::string>* policy_arns);
  Task<void> subscribe_queue(const std::string& topic_arn, const std::string& queue_arn,
                             const std::optional<std::string>& filter_policy);

  AwsApi& api_;
  SetupSettings settings_;
  Logger logger_;
  std::map<std::string, std::string> topic_arns_;  // encoded topic name → ARN
  std::map<std::string, std::string> queue_urls_;  // prefixed queue name / ARN → URL
  std::map<std::string, std::vector<std::string>>
      policy_sources_;  // queue ARN → source ARNs set here
  std::optional<std::string> account_;
  std::unique_ptr<core::AsyncMutex> topic_creation_;  // made on first use
};

/// The FilterPolicy attribute text of an `AwsSnsSqsOptions::filter_policy` (nullopt: leave it).
std::optional<std::string> filter_policy_text(
    const std::optional<boost::json::value>& filter_policy);

/// sqs_send_message's FIFO consistency: a `.fifo` queue needs a group id, a standard
/// queue takes none. Throws tomodachi::ArgumentError (upstream's two texts, un-swapped).
void check_send_fifo_arguments(std::string_view queue, bool has_group_id);

/// The deadLetterTargetArn of a RedrivePolicy attribute value ("" when there is none or
/// it is not an SQS ARN).
std::string redrive_target_arn(const std::string& redrive_policy);

/// Checks the arguments of a subscription before any request (start failures), including
/// the name of the client-side dead-letter queue (`delivery.dead_letter_queue`).
void validate_subscription(const SubscriptionRequest& request,
                           const std::string& queue_name_prefix);

}  // namespace tomodachi::aws
