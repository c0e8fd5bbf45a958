#pragma once
// The SNS, SQS and STS operations the transport uses, as an interface: `AwsClient`
// (aws_client.hpp) speaks them over HTTP; tests replay the fixtures' recorded request
// sequences against a recording implementation.

#include <tomodachi/error.hpp>
#include <tomodachi/task.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tomodachi::aws {

/// An error answer of an AWS API (HTTP status >= 300 with an error document).
class AwsApiError : public tomodachi::Error {
 public:
  AwsApiError(std::string service, std::string operation, int status, std::string code,
              std::string message);

  const std::string& service() const noexcept { return service_; }
  const std::string& operation() const noexcept { return operation_; }
  int status() const noexcept { return status_; }
  /// AWS error code: `NotFound`, `InvalidParameter`, `AWS.SimpleQueueService.NonExistentQueue`, ...
  const std::string& code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  /// The queue (or the queue in a request) does not exist.
  bool non_existent_queue() const noexcept;
  /// Throttling: worth retrying after a backoff.
  bool throttling() const noexcept;
  /// The credentials were rejected (bad or expired key / token).
  bool invalid_credentials() const noexcept;

 private:
  std::string service_;
  std::string operation_;
  int status_;
  std::string code_;
  std::string message_;
};

/// Missing region or credentials; `Invalid credentials [sns] to AWS (...)`.
class AwsCredentialsError : public tomodachi::Error {
 public:
  using tomodachi::Error::Error;
};

using AttributeMap = std::map<std::string, std::string>;

/// One message attribute as SNS/SQS requests carry it.
struct WireAttribute {
  std::string data_type;                    ///< String, Number, Binary, String.Array, ...
  std::string string_value;                 ///< for non-binary types
  std::optional<std::string> binary_value;  ///< raw bytes of a Binary attribute
  friend bool operator==(const WireAttribute&, const WireAttribute&) = default;
};
using WireAttributes = std::vector<std::pair<std::string, WireAttribute>>;

struct ListTopicsPage {
  std::vector<std::string> topic_arns;
  std::optional<std::string> next_token;
};

struct PublishRequest {
  std::string topic_arn;
  std::string message;
  WireAttributes message_attributes;
  std::optional<std::string> message_group_id;
  std::optional<std::string> message_deduplication_id;
};

struct SendMessageRequest {
  std::string queue_url;
  std::string message_body;
  WireAttributes message_attributes;
  std::optional<std::string> message_group_id;
  std::optional<std::string> message_deduplication_id;
  std::optional<int> delay_seconds;
};

struct ReceiveMessageRequest {
  std::string queue_url;
  int wait_time_seconds = 20;
  int max_number_of_messages = 10;
  std::optional<int> visibility_timeout;
  std::vector<std::string> attribute_names = {"ApproximateReceiveCount", "MessageDeduplicationId",
                                              "MessageGroupId"};
  std::vector<std::string> message_attribute_names = {"All"};
};

/// A message of a ReceiveMessage answer.
struct ReceivedMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  AttributeMap attributes;  ///< system attributes (ApproximateReceiveCount, ...)
  /// The message's own attributes as SQS returns them ({name: {DataType, StringValue |
  /// BinaryValue (base64)}}); absent when it has none.
  std::optional<boost::json::object> message_attributes;
};

/// Outcome of a batch call: ids of the entries that failed, with their errors.
struct BatchFailure {
  std::string id;
  std::string code;
  std::string message;
  bool sender_fault = false;
};
struct BatchResult {
  std::vector<std::string> successful;
  std::vector<BatchFailure> failed;
};

struct VisibilityChange {
  std::string id;
  std::string receipt_handle;
  int visibility_timeout = 30;
};

class AwsApi {
 public:
  virtual ~AwsApi() = default;

  /// The region the clients sign for (also the region of the ARNs built from names).
  virtual std::string region() const = 0;

  // STS
  virtual Task<std::string> get_caller_identity_account() = 0;

  // SNS
  virtual Task<std::string> create_topic(std::string name, AttributeMap attributes) = 0;
  virtual Task<AttributeMap> get_topic_attributes(std::string topic_arn) = 0;
  virtual Task<void> set_topic_attributes(std::string topic_arn, std::string name,
                                          std::string value) = 0;
  virtual Task<ListTopicsPage> list_topics(std::optional<std::string> next_token) = 0;
  virtual Task<std::string> subscribe(std::string topic_arn, std::string protocol,
                                      std::string endpoint, AttributeMap attributes) = 0;
  virtual Task<void> set_subscription_attributes(std::string subscription_arn, std::string name,
                                                 std::string value) = 0;
  virtual Task<std::string> publish(PublishRequest request) = 0;

  // SQS
  virtual Task<std::string> get_queue_url(std::string queue_name,
                                          std::optional<std::string> owner_account) = 0;
  virtual Task<std::string> create_queue(std::string queue_name, AttributeMap attributes) = 0;
  virtual Task<AttributeMap> get_queue_attributes(std::string queue_url,
                                                  std::vector<std::string> names) = 0;
  virtual Task<void> set_queue_attributes(std::string queue_url, AttributeMap attributes) = 0;
  virtual Task<std::vector<ReceivedMessage>> receive_message(ReceiveMessageRequest request) = 0;
  virtual Task<void> delete_message(std::string queue_url, std::string receipt_handle) = 0;
  /// Up to 10 receipt handles; entry ids are their indexes ("0", "1", ...).
  virtual Task<BatchResult> delete_message_batch(std::string queue_url,
                                                 std::vector<std::string> receipt_handles) = 0;
  virtual Task<BatchResult> change_message_visibility_batch(
      std::string queue_url, std::vector<VisibilityChange> entries) = 0;
  virtual Task<std::string> send_message(SendMessageRequest request) = 0;
};

}  // namespace tomodachi::aws
