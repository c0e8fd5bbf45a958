#include "aws/aws_client.hpp"

#include "core/encoding.hpp"

#include <boost/asio/error.hpp>
#include <boost/json.hpp>
#include <boost/system/system_error.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <random>

namespace tomodachi::aws {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view sns_version = "2010-03-31";
constexpr std::string_view sts_version = "2011-06-15";

// ---- request bodies --------------------------------------------------------------------

class Form {
 public:
  Form(std::string_view action, std::string_view version) {
    add("Action", action);
    add("Version", version);
  }
  void add(std::string_view key, std::string_view value) {
    if (!text_.empty()) text_ += '&';
    text_ += uri_encode(key);
    text_ += '=';
    text_ += uri_encode(value);
  }
  void add_attributes(std::string_view prefix, const AttributeMap& attributes) {
    int index = 0;
    for (const auto& [key, value] : attributes) {
      const auto entry = std::string(prefix) + ".entry." + std::to_string(++index);
      add(entry + ".key", key);
      add(entry + ".value", value);
    }
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

boost::json::object attribute_object(const AttributeMap& attributes) {
  boost::json::object object;
  for (const auto& [key, value] : attributes) object[key] = value;
  return object;
}

boost::json::object message_attributes_json(const WireAttributes& attributes) {
  boost::json::object object;
  for (const auto& [name, attribute] : attributes) {
    boost::json::object entry{{"DataType", attribute.data_type}};
    if (attribute.binary_value) {
      entry["BinaryValue"] = encoding::base64_encode(*attribute.binary_value);
    } else {
      entry["StringValue"] = attribute.string_value;
    }
    object[name] = std::move(entry);
  }
  return object;
}

// ---- answers -----------------------------------------------------------------------------

pugi::xml_node find_element(pugi::xml_node node, std::string_view name) {
  for (auto child : node.children()) {
    if (child.type() != pugi::node_element) continue;
    if (name == child.name()) return child;
    if (auto found = find_element(child, name)) return found;
  }
  return {};
}

/// The `<Attributes><entry><key/><value/></entry>...` map of an SNS answer.
AttributeMap attribute_entries(pugi::xml_node document) {
  AttributeMap attributes;
  if (const auto list = find_element(document, "Attributes")) {
    for (auto entry : list.children("entry"))
      attributes[entry.child_value("key")] = entry.child_value("value");
  }
  return attributes;
}

std::string element_text(pugi::xml_node node, std::string_view name) {
  const auto element = find_element(node, name);
  return element ? element.child_value() : std::string();
}

std::string json_string(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

// 5xx as botocore; 408 too: the server timed out waiting for the request, which may be
// sent again (an empty 408 is what upstream's publish retries, spec/wire.md §3.4).
bool retryable_status(int status) {
  return status == 408 || status == 500 || status == 502 || status == 503 || status == 504;
}

// botocore's transient error codes.
bool transient_code(std::string_view code) {
  return code == "RequestTimeout" || code == "RequestTimeoutException";
}

}  // namespace

AwsApiError::AwsApiError(std::string service, std::string operation, int status, std::string code,
                         std::string message)
    : tomodachi::Error("An error occurred (" + code + ") when calling the " + operation +
                       " operation: " + message),
      service_(std::move(service)),
      operation_(std::move(operation)),
      status_(status),
      code_(std::move(code)),
      message_(std::move(message)) {}

bool AwsApiError::non_existent_queue() const noexcept {
  return code_ == "AWS.SimpleQueueService.NonExistentQueue" || code_ == "QueueDoesNotExist" ||
         code_ == "NonExistentQueue";
}

bool AwsApiError::throttling() const noexcept {
  static constexpr std::string_view codes[] = {"Throttling",
                                               "ThrottlingException",
                                               "ThrottledException",
                                               "RequestThrottledException",
                                               "TooManyRequestsException",
                                               "ProvisionedThroughputExceededException",
                                               "TransactionInProgressException",
                                               "RequestLimitExceeded",
                                               "BandwidthLimitExceeded",
                                               "LimitExceededException",
                                               "RequestThrottled",
                                               "SlowDown",
                                               "PriorRequestNotComplete",
                                               "AWS.SimpleQueueService.RequestThrottled",
                                               "KMSThrottlingException"};
  return status_ == 429 || std::find(std::begin(codes), std::end(codes), code_) != std::end(codes);
}

bool AwsApiError::invalid_credentials() const noexcept {
  return code_ == "InvalidClientTokenId" || code_ == "ExpiredToken" ||
         code_ == "ExpiredTokenException" || code_ == "UnrecognizedClientException" ||
         code_ == "InvalidAccessKeyId" || code_ == "SignatureDoesNotMatch" ||
         message_.find("The security token included in the request is invalid") !=
             std::string::npos;
}

std::string default_endpoint(std::string_view service, std::string_view region) {
  const std::string suffix = region.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com";
  return "https://" + std::string(service) + "." + std::string(region) + suffix;
}

struct AwsClient::Impl : std::enable_shared_from_this<AwsClient::Impl> {
  asio::any_io_executor executor;
  AwsClientConfig config;
  core::Event no_cancel;
  std::string region;
  Url sns;
  Url sqs;
  Url sts;
  std::shared_ptr<HttpClient> http;
  std::unique_ptr<CredentialProvider> credentials;
  AwsCallObserver observer;
  std::mt19937_64 random{std::random_device{}()};

  const Url& url_of(std::string_view service) const {
    if (service == "sns") return sns;
    if (service == "sqs") return sqs;
    return sts;
  }

  static AwsApiError error_from(std::string_view service, std::string_view operation,
                                const HttpResponse& response) {
    std::string code;
    std::string message;
    if (service == "sqs") {
      boost::system::error_code ec;
      const auto document = boost::json::parse(response.body, ec);
      if (!ec && document.is_object()) {
        code = json_string(document.as_object(), "__type");
        message = json_string(document.as_object(), "message");
        if (message.empty()) message = json_string(document.as_object(), "Message");
        if (const auto hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
      }
      // awsQueryCompatible services name the legacy error code in this header.
      if (const auto query_error = response.header("x-amzn-query-error"); !query_error.empty()) {
        code = std::string(query_error.substr(0, query_error.find(';')));
      }
    } else {
      pugi::xml_document document;
      if (document.load_buffer(response.body.data(), response.body.size())) {
        code = element_text(document, "Code");
        message = element_text(document, "Message");
      }
    }
    if (code.empty()) code = std::to_string(response.status);
    if (message.empty()) message = response.body.substr(0, 200);
    return AwsApiError(std::string(service), std::string(operation), response.status, code,
                       message);
  }

  Task<void> backoff(int attempt, Clock::time_point deadline) {
    // Full jitter: uniform(0, 2^(attempt-1)) seconds, as botocore's default retry mode.
    std::uniform_real_distribution<double> jitter(0.0, 1.0);
    const double seconds = jitter(random) * static_cast<double>(1 << std::min(attempt - 1, 4));
    auto delay =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    delay = std::min(delay, std::max(Clock::duration::zero(),
                                     deadline - Clock::now() - std::chrono::seconds(1)));
    // Nothing sets `no_cancel`: a backoff ends early only when the call is cancelled.
    if (!co_await core::sleep_with(config.backoff_sleep, delay, no_cancel)) {
      throw boost::system::system_error(asio::error::operation_aborted, "backoff");
    }
  }

  Task<HttpResponse> call(std::string_view service, std::string_view operation, std::string body,
                          Clock::duration timeout) {
    auto self = shared_from_this();
    const auto deadline = Clock::now() + timeout;
    const Url& url = url_of(service);
    for (int attempt = 1;; ++attempt) {
      const auto creds = co_await credentials->get();
      HttpRequest request;
      request.method = "POST";
      request.target = url.path;
      if (service == "sqs") {
        request.headers.push_back({"Content-Type", "application/x-amz-json-1.0"});
        request.headers.push_back({"X-Amz-Target", "AmazonSQS." + std::string(operation)});
      } else {
        request.headers.push_back(
            {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
      }
      const RequestToSign to_sign{
          request.method, url.host_header, url.path, "", request.headers, body};
      auto signature = sign_v4(to_sign, creds, region, service, std::chrono::system_clock::now());
      for (auto& header : signature.headers) request.headers.push_back(std::move(header));
      request.body = body;

      const auto left = deadline - Clock::now();
      if (left <= Clock::duration::zero()) {
        throw AwsHttpError(AwsHttpError::Kind::timeout, std::string(operation) + " timed out");
      }
      HttpResponse response;
      std::exception_ptr transport_failure;
      bool retry = false;
      try {
        response = co_await http->send(url, std::move(request), left);
      } catch (const AwsHttpError& error) {
        transport_failure = std::current_exception();
        retry = error.kind() == AwsHttpError::Kind::connect ||
                error.kind() == AwsHttpError::Kind::disconnected;
      }
      if (observer) observer(service, operation);
      if (!transport_failure) {
        if (response.status < 300) co_return response;
        auto error = error_from(service, operation, response);
        if (error.invalid_credentials()) credentials->invalidate();
        retry =
            error.throttling() || retryable_status(response.status) || transient_code(error.code());
        if (!retry || attempt >= config.max_attempts ||
            Clock::now() + std::chrono::seconds(1) >= deadline) {
          throw error;
        }
      } else if (!retry || attempt >= config.max_attempts ||
                 Clock::now() + std::chrono::seconds(1) >= deadline) {
        std::rethrow_exception(transport_failure);
      }
      co_await backoff(attempt, deadline);
    }
  }

  Task<pugi::xml_document> call_xml(std::string_view service, std::string_view operation,
                                    std::string body) {
    auto response = co_await call(service, operation, std::move(body), config.call_timeout);
    pugi::xml_document document;
    if (!document.load_buffer(response.body.data(), response.body.size())) {
      throw AwsApiError(std::string(service), std::string(operation), response.status,
                        "InvalidResponse", "unparsable XML answer");
    }
    co_return document;
  }

  Task<boost::json::object> call_json(std::string_view operation, const boost::json::object& body,
                                      Clock::duration timeout) {
    auto response = co_await call("sqs", operation, boost::json::serialize(body), timeout);
    if (response.body.empty()) co_return boost::json::object{};
    boost::system::error_code ec;
    auto document = boost::json::parse(response.body, ec);
    if (ec || !document.is_object()) {
      throw AwsApiError("sqs", std::string(operation), response.status, "InvalidResponse",
                        "unparsable JSON answer");
    }
    co_return std::move(document.as_object());
  }

  static BatchResult batch_result(const boost::json::object& answer) {
    BatchResult result;
    if (const auto* successful = answer.if_contains("Successful");
        successful && successful->is_array()) {
      for (const auto& entry : successful->as_array())
        result.successful.push_back(json_string(entry.as_object(), "Id"));
    }
    if (const auto* failed = answer.if_contains("Failed"); failed && failed->is_array()) {
      for (const auto& entry : failed->as_array()) {
        const auto& object = entry.as_object();
        const auto* sender = object.if_contains("SenderFault");
        result.failed.push_back({json_string(object, "Id"), json_string(object, "Code"),
                                 json_string(object, "Message"),
                                 sender != nullptr && sender->is_bool() && sender->as_bool()});
      }
    }
    return result;
  }
};

AwsClient::AwsClient(asio::any_io_executor executor, AwsClientConfig config)
    : impl_(std::make_shared<Impl>()) {
  auto region = resolve_region(config.credentials);
  if (!region) throw AwsCredentialsError("You must specify a region.");
  impl_->executor = executor;
  impl_->region = *region;
  impl_->sns = Url::parse(config.sns_endpoint.value_or(default_endpoint("sns", *region)));
  impl_->sqs = Url::parse(config.sqs_endpoint.value_or(default_endpoint("sqs", *region)));
  impl_->sts = Url::parse(config.sts_endpoint
                              ? *config.sts_endpoint
                              : config.sns_endpoint.value_or(default_endpoint("sts", *region)));
  impl_->http = std::make_shared<HttpClient>(executor, config.http);
  impl_->credentials = std::make_unique<CredentialProvider>(config.credentials, impl_->http);
  impl_->config = std::move(config);
}

AwsClient::~AwsClient() = default;

std::string AwsClient::region() const { return impl_->region; }

const Url& AwsClient::endpoint(std::string_view service) const { return impl_->url_of(service); }

void AwsClient::set_call_observer(AwsCallObserver observer) {
  impl_->observer = std::move(observer);
}

void AwsClient::close() { impl_->http->close_idle(); }

CredentialProvider& AwsClient::credentials() { return *impl_->credentials; }

Task<std::string> AwsClient::get_caller_identity_account() {
  auto impl = impl_;
  Form form("GetCallerIdentity", sts_version);
  const auto document = co_await impl->call_xml("sts", "GetCallerIdentity", form.take());
  co_return element_text(document, "Account");
}

Task<std::string> AwsClient::create_topic(std::string name, AttributeMap attributes) {
  auto impl = impl_;
  Form form("CreateTopic", sns_version);
  form.add("Name", name);
  form.add_attributes("Attributes", attributes);
  const auto document = co_await impl->call_xml("sns", "CreateTopic", form.take());
  co_return element_text(document, "TopicArn");
}

Task<AttributeMap> AwsClient::get_topic_attributes(std::string topic_arn) {
  auto impl = impl_;
  Form form("GetTopicAttributes", sns_version);
  form.add("TopicArn", topic_arn);
  const auto document = co_await impl->call_xml("sns", "GetTopicAttributes", form.take());
  co_return attribute_entries(document);
}

Task<void> AwsClient::set_topic_attributes(std::string topic_arn, std::string name,
                                           std::string value) {
  auto impl = impl_;
  Form form("SetTopicAttributes", sns_version);
  form.add("TopicArn", topic_arn);
  form.add("AttributeName", name);
  form.add("AttributeValue", value);
  co_await impl->call_xml("sns", "SetTopicAttributes", form.take());
}

Task<ListTopicsPage> AwsClient::list_topics(std::optional<std::string> next_token) {
  auto impl = impl_;
  Form form("ListTopics", sns_version);
  if (next_token) form.add("NextToken", *next_token);
  const auto document = co_await impl->call_xml("sns", "ListTopics", form.take());
  ListTopicsPage page;
  if (const auto topics = find_element(document, "Topics")) {
    for (auto member : topics.children("member"))
      page.topic_arns.emplace_back(member.child_value("TopicArn"));
  }
  if (auto token = element_text(document, "NextToken"); !token.empty())
    page.next_token = std::move(token);
  co_return page;
}

Task<std::string> AwsClient::subscribe(std::string topic_arn, std::string protocol,
                                       std::string endpoint, AttributeMap attributes) {
  auto impl = impl_;
  Form form("Subscribe", sns_version);
  form.add("TopicArn", topic_arn);
  form.add("Protocol", protocol);
  form.add("Endpoint", endpoint);
  form.add_attributes("Attributes", attributes);
  form.add("ReturnSubscriptionArn", "true");
  const auto document = co_await impl->call_xml("sns", "Subscribe", form.take());
  co_return element_text(document, "SubscriptionArn");
}

Task<void> AwsClient::set_subscription_attributes(std::string subscription_arn, std::string name,
                                                  std::string value) {
  auto impl = impl_;
  Form form("SetSubscriptionAttributes", sns_version);
  form.add("SubscriptionArn", subscription_arn);
  form.add("AttributeName", name);
  form.add("AttributeValue", value);
  co_await impl->call_xml("sns", "SetSubscriptionAttributes", form.take());
}

Task<std::string> AwsClient::publish(PublishRequest request) {
  auto impl = impl_;
  Form form("Publish", sns_version);
  form.add("TopicArn", request.topic_arn);
  form.add("Message", request.message);
  int index = 0;
  for (const auto& [name, attribute] : request.message_attributes) {
    const auto entry = "MessageAttributes.entry." + std::to_string(++index);
    form.add(entry + ".Name", name);
    form.add(entry + ".Value.DataType", attribute.data_type);
    if (attribute.binary_value) {
      form.add(entry + ".Value.BinaryValue", encoding::base64_encode(*attribute.binary_value));
    } else {
      form.add(entry + ".Value.StringValue", attribute.string_value);
    }
  }
  if (request.message_group_id) form.add("MessageGroupId", *request.message_group_id);
  if (request.message_deduplication_id)
    form.add("MessageDeduplicationId", *request.message_deduplication_id);
  const auto document = co_await impl->call_xml("sns", "Publish", form.take());
  co_return element_text(document, "MessageId");
}

Task<std::string> AwsClient::get_queue_url(std::string queue_name,
                                           std::optional<std::string> owner_account) {
  auto impl = impl_;
  boost::json::object body{{"QueueName", queue_name}};
  if (owner_account) body["QueueOwnerAWSAccountId"] = *owner_account;
  const auto answer = co_await impl->call_json("GetQueueUrl", body, impl->config.call_timeout);
  co_return json_string(answer, "QueueUrl");
}

Task<std::string> AwsClient::create_queue(std::string queue_name, AttributeMap attributes) {
  auto impl = impl_;
  boost::json::object body{{"QueueName", queue_name}, {"Attributes", attribute_object(attributes)}};
  const auto answer = co_await impl->call_json("CreateQueue", body, impl->config.call_timeout);
  co_return json_string(answer, "QueueUrl");
}

Task<AttributeMap> AwsClient::get_queue_attributes(std::string queue_url,
                                                   std::vector<std::string> names) {
  auto impl = impl_;
  boost::json::array list;
  for (auto& name : names) list.emplace_back(name);
  boost::json::object body{{"QueueUrl", queue_url}, {"AttributeNames", std::move(list)}};
  const auto answer =
      co_await impl->call_json("GetQueueAttributes", body, impl->config.call_timeout);
  AttributeMap attributes;
  if (const auto* values = answer.if_contains("Attributes"); values && values->is_object()) {
    for (const auto& [key, value] : values->as_object()) {
      if (value.is_string()) attributes[std::string(key)] = std::string(value.as_string());
    }
  }
  co_return attributes;
}

Task<void> AwsClient::set_queue_attributes(std::string queue_url, AttributeMap attributes) {
  auto impl = impl_;
  boost::json::object body{{"QueueUrl", queue_url}, {"Attributes", attribute_object(attributes)}};
  co_await impl->call_json("SetQueueAttributes", body, impl->config.call_timeout);
}

Task<std::vector<ReceivedMessage>> AwsClient::receive_message(ReceiveMessageRequest request) {
  auto impl = impl_;
  boost::json::array attribute_names;
  for (auto& name : request.attribute_names) attribute_names.emplace_back(name);
  boost::json::array message_attribute_names;
  for (auto& name : request.message_attribute_names) message_attribute_names.emplace_back(name);
  boost::json::object body{{"QueueUrl", request.queue_url},
                           {"WaitTimeSeconds", request.wait_time_seconds},
                           {"MaxNumberOfMessages", request.max_number_of_messages},
                           {"AttributeNames", std::move(attribute_names)},
                           {"MessageAttributeNames", std::move(message_attribute_names)}};
  if (request.visibility_timeout) body["VisibilityTimeout"] = *request.visibility_timeout;
  const auto answer = co_await impl->call_json("ReceiveMessage", body, impl->config.call_timeout);
  std::vector<ReceivedMessage> messages;
  if (const auto* list = answer.if_contains("Messages"); list && list->is_array()) {
    for (const auto& item : list->as_array()) {
      const auto& object = item.as_object();
      ReceivedMessage message{json_string(object, "MessageId"),
                              json_string(object, "ReceiptHandle"),
                              json_string(object, "Body"),
                              {},
                              std::nullopt};
      if (const auto* attributes = object.if_contains("Attributes");
          attributes && attributes->is_object()) {
        for (const auto& [key, value] : attributes->as_object()) {
          if (value.is_string())
            message.attributes[std::string(key)] = std::string(value.as_string());
        }
      }
      if (const auto* attributes = object.if_contains("MessageAttributes");
          attributes && attributes->is_object()) {
        message.message_attributes = attributes->as_object();
      }
      messages.push_back(std::move(message));
    }
  }
  co_return messages;
}

Task<void> AwsClient::delete_message(std::string queue_url, std::string receipt_handle) {
  auto impl = impl_;
  boost::json::object body{{"QueueUrl", queue_url}, {"ReceiptHandle", receipt_handle}};
  co_await impl->call_json("DeleteMessage", body, impl->config.delete_timeout);
}

Task<BatchResult> AwsClient::delete_message_batch(std::string queue_url,
                                                  std::vector<std::string> receipt_handles) {
  auto impl = impl_;
  boost::json::array entries;
  for (std::size_t i = 0; i < receipt_handles.size(); ++i) {
    entries.push_back(
        boost::json::object{{"Id", std::to_string(i)}, {"ReceiptHandle", receipt_handles[i]}});
  }
  boost::json::object body{{"QueueUrl", queue_url}, {"Entries", std::move(entries)}};
  const auto answer =
      co_await impl->call_json("DeleteMessageBatch", body, impl->config.delete_timeout);
  co_return Impl::batch_result(answer);
}

Task<BatchResult> AwsClient::change_message_visibility_batch(
    std::string queue_url, std::vector<VisibilityChange> changes) {
  auto impl = impl_;
  boost::json::array entries;
  for (const auto& change : changes) {
    entries.push_back(boost::json::object{{"Id", change.id},
                                          {"ReceiptHandle", change.receipt_handle},
                                          {"VisibilityTimeout", change.visibility_timeout}});
  }
  boost::json::object body{{"QueueUrl", queue_url}, {"Entries", std::move(entries)}};
  const auto answer =
      co_await impl->call_json("ChangeMessageVisibilityBatch", body, impl->config.call_timeout);
  co_return Impl::batch_result(answer);
}

Task<std::string> AwsClient::send_message(SendMessageRequest request) {
  auto impl = impl_;
  boost::json::object body{{"QueueUrl", request.queue_url}, {"MessageBody", request.message_body}};
  if (!request.message_attributes.empty())
    body["MessageAttributes"] = message_attributes_json(request.message_attributes);
  if (request.message_group_id) body["MessageGroupId"] = *request.message_group_id;
  if (request.message_deduplication_id)
    body["MessageDeduplicationId"] = *request.message_deduplication_id;
  if (request.delay_seconds) body["DelaySeconds"] = *request.delay_seconds;
  const auto answer = co_await impl->call_json("SendMessage", body, impl->config.call_timeout);
  co_return json_string(answer, "MessageId");
}

}  // namespace tomodachi::aws

namespace tomodachi::aws {

Task<std::vector<AwsClient::Subscription>> AwsClient::list_subscriptions_by_topic(
    std::string topic_arn) {
  auto impl = impl_;
  std::vector<Subscription> result;
  std::optional<std::string> token;
  do {
    Form form("ListSubscriptionsByTopic", sns_version);
    form.add("TopicArn", topic_arn);
    if (token) form.add("NextToken", *token);
    const auto document = co_await impl->call_xml("sns", "ListSubscriptionsByTopic", form.take());
    if (const auto list = find_element(document, "Subscriptions")) {
      for (auto member : list.children("member")) {
        result.push_back({member.child_value("SubscriptionArn"), member.child_value("Protocol"),
                          member.child_value("Endpoint")});
      }
    }
    token.reset();
    if (auto next = element_text(document, "NextToken"); !next.empty()) token = std::move(next);
  } while (token);
  co_return result;
}

Task<AttributeMap> AwsClient::get_subscription_attributes(std::string subscription_arn) {
  auto impl = impl_;
  Form form("GetSubscriptionAttributes", sns_version);
  form.add("SubscriptionArn", subscription_arn);
  const auto document = co_await impl->call_xml("sns", "GetSubscriptionAttributes", form.take());
  co_return attribute_entries(document);
}

}  // namespace tomodachi::aws
