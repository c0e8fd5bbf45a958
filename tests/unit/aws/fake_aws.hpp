#pragma once
// An in-memory AwsApi that records every request in the fixtures' notation
// ({"service", "operation", "params"}), the way tests/fixtures/upstream recorded Python
// tomodachi's requests against its fake AWS (region eu-west-1, account 123456789012).
// Used to replay the fixtures' request sequences; real behaviour is tested against fauxqs.

#include "aws/api.hpp"
#include "core/encoding.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <deque>
#include <map>
#include <set>

namespace aws_test {

class FakeAws : public tomodachi::aws::AwsApi {
 public:
  using AttributeMap = tomodachi::aws::AttributeMap;
  static constexpr const char* account = "123456789012";

  std::string region() const override { return "eu-west-1"; }

  // ---- world -----------------------------------------------------------------------
  void add_queue(const std::string& name, AttributeMap attributes = {}) {
    queues_[name] = std::move(attributes);
  }
  void remove_queue(const std::string& name) { queues_.erase(name); }
  void add_topic(const std::string& name) { topics_.insert(name); }
  /// ARNs ListTopics returns (besides created topics), `page_size` per page.
  void set_listed_topics(std::vector<std::string> arns, std::size_t page_size) {
    listed_ = std::move(arns);
    page_size_ = page_size;
  }
  static std::string queue_url(const std::string& name) {
    return std::string("https://sqs.eu-west-1.amazonaws.com/") + account + "/" + name;
  }
  static std::string queue_arn(const std::string& name) {
    return std::string("arn:aws:sqs:eu-west-1:") + account + ":" + name;
  }
  static std::string topic_arn(const std::string& name) {
    return std::string("arn:aws:sns:eu-west-1:") + account + ":" + name;
  }
  const AttributeMap& queue_attributes(const std::string& name) const { return queues_.at(name); }
  bool has_queue(const std::string& name) const { return queues_.contains(name); }

  /// Messages the next ReceiveMessage returns.
  std::deque<std::vector<tomodachi::aws::ReceivedMessage>> receive_answers;

  // ---- recording ---------------------------------------------------------------------
  boost::json::array calls;
  std::vector<std::string> deleted_receipt_handles;
  std::vector<std::pair<std::string, int>> visibility_changes;

  std::vector<boost::json::object> calls_of(std::string_view operation) const {
    std::vector<boost::json::object> result;
    for (const auto& call : calls) {
      if (call.at("operation").as_string() == operation)
        result.push_back(call.at("params").as_object());
    }
    return result;
  }

  // ---- AwsApi --------------------------------------------------------------------------
  tomodachi::Task<std::string> get_caller_identity_account() override {
    record("sts", "GetCallerIdentity", {});
    co_return account;
  }

  tomodachi::Task<std::string> create_topic(std::string name, AttributeMap attributes) override {
    record("sns", "CreateTopic", {{"Name", name}, {"Attributes", object_of(attributes)}});
    topics_.insert(name);
    co_return topic_arn(name);
  }

  tomodachi::Task<AttributeMap> get_topic_attributes(std::string arn) override {
    record("sns", "GetTopicAttributes", {{"TopicArn", arn}});
    const auto name = arn.substr(arn.rfind(':') + 1);
    if (!topics_.contains(name))
      throw tomodachi::aws::AwsApiError("sns", "GetTopicAttributes", 404, "NotFound",
                                        "Topic does not exist");
    co_return AttributeMap{{"TopicArn", arn}};
  }

  tomodachi::Task<void> set_topic_attributes(std::string arn, std::string name,
                                             std::string value) override {
    record("sns", "SetTopicAttributes",
           {{"TopicArn", arn}, {"AttributeName", name}, {"AttributeValue", value}});
    co_return;
  }

  tomodachi::Task<tomodachi::aws::ListTopicsPage> list_topics(
      std::optional<std::string> token) override {
    boost::json::object params;
    if (token) params["NextToken"] = *token;
    record("sns", "ListTopics", std::move(params));
    const std::size_t start = token ? std::stoul(*token) : 0;
    tomodachi::aws::ListTopicsPage page;
    for (std::size_t i = start; i < listed_.size() && i < start + page_size_; ++i)
      page.topic_arns.push_back(listed_[i]);
    if (start + page_size_ < listed_.size()) page.next_token = std::to_string(start + page_size_);
    co_return page;
  }

  tomodachi::Task<std::string> subscribe(std::string topic, std::string protocol,
                                         std::string endpoint, AttributeMap attributes) override {
    boost::json::object params{{"TopicArn", topic}, {"Protocol", protocol}, {"Endpoint", endpoint}};
    if (!attributes.empty()) params["Attributes"] = object_of(attributes);
    record("sns", "Subscribe", std::move(params));
    char id[64];
    std::snprintf(id, sizeof id, "00000000-0000-4000-b000-%012d", ++subscriptions_);
    co_return topic + ":" + id;
  }

  tomodachi::Task<void> set_subscription_attributes(std::string arn, std::string name,
                                                    std::string value) override {
    record("sns", "SetSubscriptionAttributes",
           {{"SubscriptionArn", arn}, {"AttributeName", name}, {"AttributeValue", value}});
    co_return;
  }

  tomodachi::Task<std::string> publish(tomodachi::aws::PublishRequest request) override {
    boost::json::object params{{"TopicArn", request.topic_arn},
                               {"Message", request.message},
                               {"MessageAttributes", attributes_json(request.message_attributes)}};
    if (request.message_group_id) params["MessageGroupId"] = *request.message_group_id;
    if (request.message_deduplication_id)
      params["MessageDeduplicationId"] = *request.message_deduplication_id;
    record("sns", "Publish", std::move(params));
    co_return next_message_id();
  }

  tomodachi::Task<std::string> get_queue_url(std::string name,
                                             std::optional<std::string> owner) override {
    boost::json::object params{{"QueueName", name}};
    if (owner) params["QueueOwnerAWSAccountId"] = *owner;
    record("sqs", "GetQueueUrl", std::move(params));
    if (!queues_.contains(name)) {
      throw tomodachi::aws::AwsApiError("sqs", "GetQueueUrl", 400,
                                        "AWS.SimpleQueueService.NonExistentQueue",
                                        "The specified queue does not exist.");
    }
    co_return queue_url(name);
  }

  tomodachi::Task<std::string> create_queue(std::string name, AttributeMap attributes) override {
    record("sqs", "CreateQueue", {{"QueueName", name}, {"Attributes", object_of(attributes)}});
    queues_[name] = attributes;
    co_return queue_url(name);
  }

  tomodachi::Task<AttributeMap> get_queue_attributes(std::string url,
                                                     std::vector<std::string> names) override {
    boost::json::array list;
    for (const auto& name : names) list.emplace_back(name);
    record("sqs", "GetQueueAttributes", {{"QueueUrl", url}, {"AttributeNames", std::move(list)}});
    const auto name = url.substr(url.rfind('/') + 1);
    auto attributes = queues_.at(name);
    attributes["QueueArn"] = queue_arn(name);
    if (!attributes.contains("VisibilityTimeout")) attributes["VisibilityTimeout"] = "30";
    AttributeMap result;
    for (const auto& wanted : names) {
      if (attributes.contains(wanted)) result[wanted] = attributes[wanted];
    }
    co_return result;
  }

  tomodachi::Task<void> set_queue_attributes(std::string url, AttributeMap attributes) override {
    record("sqs", "SetQueueAttributes", {{"QueueUrl", url}, {"Attributes", object_of(attributes)}});
    auto& current = queues_.at(url.substr(url.rfind('/') + 1));
    for (const auto& [key, value] : attributes) current[key] = value;
    co_return;
  }

  tomodachi::Task<std::vector<tomodachi::aws::ReceivedMessage>> receive_message(
      tomodachi::aws::ReceiveMessageRequest request) override {
    boost::json::array names;
    for (const auto& name : request.attribute_names) names.emplace_back(name);
    boost::json::array message_names;
    for (const auto& name : request.message_attribute_names) message_names.emplace_back(name);
    record("sqs", "ReceiveMessage",
           {{"QueueUrl", request.queue_url},
            {"WaitTimeSeconds", request.wait_time_seconds},
            {"MaxNumberOfMessages", request.max_number_of_messages},
            {"AttributeNames", std::move(names)},
            {"MessageAttributeNames", std::move(message_names)}});
    if (receive_answers.empty()) co_return std::vector<tomodachi::aws::ReceivedMessage>{};
    auto answer = std::move(receive_answers.front());
    receive_answers.pop_front();
    co_return answer;
  }

  tomodachi::Task<void> delete_message(std::string url, std::string receipt_handle) override {
    record("sqs", "DeleteMessage", {{"QueueUrl", url}, {"ReceiptHandle", receipt_handle}});
    deleted_receipt_handles.push_back(receipt_handle);
    co_return;
  }

  tomodachi::Task<tomodachi::aws::BatchResult> delete_message_batch(
      std::string url, std::vector<std::string> handles) override {
    boost::json::array entries;
    tomodachi::aws::BatchResult result;
    for (std::size_t i = 0; i < handles.size(); ++i) {
      entries.push_back(
          boost::json::object{{"Id", std::to_string(i)}, {"ReceiptHandle", handles[i]}});
      deleted_receipt_handles.push_back(handles[i]);
      result.successful.push_back(std::to_string(i));
    }
    record("sqs", "DeleteMessageBatch", {{"QueueUrl", url}, {"Entries", std::move(entries)}});
    co_return result;
  }

  tomodachi::Task<tomodachi::aws::BatchResult> change_message_visibility_batch(
      std::string url, std::vector<tomodachi::aws::VisibilityChange> changes) override {
    boost::json::array entries;
    tomodachi::aws::BatchResult result;
    for (const auto& change : changes) {
      entries.push_back(boost::json::object{{"Id", change.id},
                                            {"ReceiptHandle", change.receipt_handle},
                                            {"VisibilityTimeout", change.visibility_timeout}});
      visibility_changes.emplace_back(change.receipt_handle, change.visibility_timeout);
      result.successful.push_back(change.id);
    }
    record("sqs", "ChangeMessageVisibilityBatch",
           {{"QueueUrl", url}, {"Entries", std::move(entries)}});
    co_return result;
  }

  tomodachi::Task<std::string> send_message(tomodachi::aws::SendMessageRequest request) override {
    boost::json::object params{{"QueueUrl", request.queue_url},
                               {"MessageBody", request.message_body}};
    params["MessageAttributes"] = attributes_json(request.message_attributes);
    if (request.message_group_id) params["MessageGroupId"] = *request.message_group_id;
    if (request.message_deduplication_id)
      params["MessageDeduplicationId"] = *request.message_deduplication_id;
    if (request.delay_seconds) params["DelaySeconds"] = *request.delay_seconds;
    record("sqs", "SendMessage", std::move(params));
    co_return next_message_id();
  }

  /// Attributes as the fixtures write botocore's MessageAttributes (binary as {"$bytes_b64"}).
  static boost::json::object attributes_json(const tomodachi::aws::WireAttributes& attributes) {
    boost::json::object object;
    for (const auto& [name, attribute] : attributes) {
      boost::json::object entry{{"DataType", attribute.data_type}};
      if (attribute.binary_value) {
        entry["BinaryValue"] = boost::json::object{
            {"$bytes_b64", tomodachi::encoding::base64_encode(*attribute.binary_value)}};
      } else {
        entry["StringValue"] = attribute.string_value;
      }
      object[name] = std::move(entry);
    }
    return object;
  }

 private:
  static boost::json::object object_of(const AttributeMap& attributes) {
    boost::json::object object;
    for (const auto& [key, value] : attributes) object[key] = value;
    return object;
  }
  void record(const char* service, const char* operation, boost::json::object params) {
    calls.push_back(boost::json::object{
        {"service", service}, {"operation", operation}, {"params", std::move(params)}});
  }
  std::string next_message_id() {
    char id[64];
    std::snprintf(id, sizeof id, "00000000-0000-4000-a000-%012d", ++messages_);
    return id;
  }

  std::map<std::string, AttributeMap> queues_;
  std::set<std::string> topics_;
  std::vector<std::string> listed_;
  std::size_t page_size_ = 100;
  int subscriptions_ = 0;
  int messages_ = 0;
};

}  // namespace aws_test
