#include "aws/setup.hpp"

#include "aws/http_client.hpp"
#include "aws/naming.hpp"

#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>

#include <algorithm>
#include <chrono>
#include <system_error>

namespace tomodachi::aws {
namespace {

const std::vector<std::string> reconcile_attribute_names = {"Policy",
                                                            "RedrivePolicy",
                                                            "VisibilityTimeout",
                                                            "MessageRetentionPeriod",
                                                            "KmsMasterKeyId",
                                                            "KmsDataKeyReusePeriodSeconds"};

const AttributeMap fifo_queue_attributes = {{"FifoQueue", "true"},
                                            {"ContentBasedDeduplication", "false"},
                                            {"DeduplicationScope", "messageGroup"},
                                            {"FifoThroughputLimit", "perMessageGroupId"}};

constexpr std::string_view dead_letter_retention = "1209600";  // 14 days

std::string partition_of(std::string_view region) {
  if (region.starts_with("cn-")) return "aws-cn";
  if (region.starts_with("us-gov-")) return "aws-us-gov";
  return "aws";
}

std::string value_or_empty(const AttributeMap& map, const std::string& key) {
  const auto it = map.find(key);
  return it == map.end() ? std::string() : it->second;
}

std::string error_text(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

bool is_not_found(const AwsApiError& error) {
  if (error.code() == "NotFound" || error.code() == "NotFoundException") return true;
  return error.code() == "InvalidParameter" &&
         (error.message().find("does not exist") != std::string::npos ||
          error.message().find("could not be found") != std::string::npos);
}

// Redrive policies compared by meaning: AWS hands them back in its own JSON formatting.
bool same_redrive(const std::string& current, const std::string& wanted) {
  if (current == wanted) return true;
  std::error_code e1, e2;
  const auto a = json::loads(current, e1);
  const auto b = json::loads(wanted, e2);
  if (e1 || e2 || !a.is_object() || !b.is_object()) return false;
  const auto target = [](const boost::json::object& o) -> std::string {
    const auto* v = o.if_contains("deadLetterTargetArn");
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  const auto count = [](const boost::json::object& o) -> std::int64_t {
    const auto* v = o.if_contains("maxReceiveCount");
    if (v == nullptr) return -1;
    if (v->is_int64()) return v->as_int64();
    if (v->is_string()) return std::atoll(std::string(v->as_string()).c_str());
    return -1;
  };
  return target(a.as_object()) == target(b.as_object()) &&
         count(a.as_object()) == count(b.as_object());
}

bool empty_redrive(const std::string& current) {
  if (current.empty() || current == "{}") return true;
  std::error_code error;
  const auto value = json::loads(current, error);
  return !error && value.is_object() && value.as_object().empty();
}

[[noreturn]] void fail(std::string message) { throw AwsSnsSqsException(std::move(message)); }

// Upstream's type-mismatch text first (log pipelines key on it), then what to change: a
// FIFO queue's name ends in `.fifo` and SQS rejects any other name for it.
[[noreturn]] void fail_queue_type(const SubscriptionRequest& request, std::string_view queue) {
  const bool fifo = request.options.fifo;
  std::string text = std::string("AWS SQS queue configured as ") + (fifo ? "Standard" : "FIFO") +
                     ", but the handler expected " + (fifo ? "FIFO" : "Standard") + ". Handler \"" +
                     request.handler_name + "\": queue_name \"" + std::string(queue) + "\" of a ";
  text += fifo ? "FIFO subscription must end with \".fifo\"."
               : "Standard subscription must not end with \".fifo\" (a FIFO queue needs fifo = "
                 "true).";
  fail(std::move(text));
}

}  // namespace

std::optional<std::string> filter_policy_text(
    const std::optional<boost::json::value>& filter_policy) {
  if (!filter_policy) return std::nullopt;
  if (filter_policy->is_null()) return "{}";
  if (filter_policy->is_string()) {
    std::error_code error;
    const auto parsed = json::loads(filter_policy->as_string(), error);
    if (error || !parsed.is_object()) {
      throw ArgumentError("Invalid filter_policy: not a JSON object (" +
                          std::string(filter_policy->as_string()) + ")");
    }
    return json::dumps(parsed);
  }
  if (!filter_policy->is_object())
    throw ArgumentError("Invalid filter_policy: must be a JSON object");
  return json::dumps(*filter_policy);
}

void check_send_fifo_arguments(std::string_view queue, bool has_group_id) {
  const bool fifo = queue.ends_with(".fifo");
  if (fifo == has_group_id) return;
  const std::string text =
      fifo
          ? "MessageGroupId, 'group_id', missing in 'send_message' call for implied FIFO queue"
          : "MessageGroupId, 'group_id', cannot be used with non-FIFO queue in 'send_message' call";
  Logger("tomodachi.awssnssqs")
      .warning("Bad combination of SQS.SendMessage request parameter - FIFO related arguments (" +
               text + ")");
  throw ArgumentError(text);
}

void validate_subscription(const SubscriptionRequest& request,
                           const std::string& queue_name_prefix) {
  const auto& options = request.options;
  if (options.queue_name && options.competing && !*options.competing) {
    fail("AWS SQS queue with predefined queue name must be competing");
  }
  if (options.queue_name) {
    if (looks_like_sqs_arn(*options.queue_name)) {
      if (parse_sqs_arn(*options.queue_name).name.ends_with(".fifo") != options.fifo)
        fail_queue_type(request, *options.queue_name);
    } else {
      validate_queue_name(queue_name_prefix + *options.queue_name);
      if (options.queue_name->ends_with(".fifo") != options.fifo)
        fail_queue_type(request, *options.queue_name);
    }
  }
  if (!request.topic.empty() && !is_wildcard_topic(request.topic))
    validate_topic_name(request.topic);
  if (options.visibility_timeout &&
      (*options.visibility_timeout < 0 || *options.visibility_timeout > 43200)) {
    fail("SQS visibility_timeout is invalid");
  }
  const bool remove_redrive = options.dead_letter_queue_name &&
                              options.dead_letter_queue_name->empty() && !options.max_receive_count;
  if (!remove_redrive && (options.dead_letter_queue_name || options.max_receive_count)) {
    if (!options.dead_letter_queue_name || options.dead_letter_queue_name->empty() ||
        !options.max_receive_count || *options.max_receive_count < 1) {
      fail(
          "Invalid values specified for dead-letter queue parameters (dead_letter_queue_name and "
          "max_receive_count)");
    }
    const auto& dlq = *options.dead_letter_queue_name;
    if (looks_like_sqs_arn(dlq)) {
      parse_sqs_arn(dlq);
    } else {
      validate_queue_name(queue_name_prefix + dlq);
      if (dlq.ends_with(".fifo") != options.fifo) {
        fail("The dead-letter queue (" + dlq + ") of a " + (options.fifo ? "FIFO" : "Standard") +
             " queue must be a " + (options.fifo ? "FIFO" : "Standard") + " queue");
      }
    }
  }
  if (const auto& dlq = options.delivery.dead_letter_queue) {
    // Checked here: a name SQS rejects would leave every failing message in the queue.
    const auto name = queue_name_prefix + *dlq;
    try {
      validate_queue_name(name);
    } catch (const InvalidNameError& error) {
      fail("Invalid dead-letter queue (delivery.dead_letter_queue '" + *dlq +
           "'): " + error.what());
    }
    if (name.ends_with(".fifo") != options.fifo) {
      fail("Invalid dead-letter queue (delivery.dead_letter_queue '" + *dlq +
           "'): the dead-letter queue of a " +
           (options.fifo ? "FIFO queue must be a FIFO queue (name ending in .fifo)"
                         : "Standard queue must be a Standard queue (no .fifo suffix)"));
    }
  }
  filter_policy_text(options.filter_policy);
}

std::string redrive_target_arn(const std::string& redrive_policy) {
  if (empty_redrive(redrive_policy)) return {};
  std::error_code error;
  const auto value = json::loads(redrive_policy, error);
  if (error || !value.is_object()) return {};
  const auto* target = value.as_object().if_contains("deadLetterTargetArn");
  if (target == nullptr || !target->is_string() || !looks_like_sqs_arn(target->as_string()))
    return {};
  try {
    parse_sqs_arn(target->as_string());
  } catch (const InvalidNameError&) {
    return {};
  }
  return std::string(target->as_string());
}

AwsResources::AwsResources(AwsApi& api, SetupSettings settings, Logger logger)
    : uuid4([] { return std::string(); }),
      now([] {
        return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
            .count();
      }),
      api_(api),
      settings_(std::move(settings)),
      logger_(std::move(logger)) {}

Task<QueueRef> AwsResources::ensure_queue(std::string name, bool fifo, bool dead_letter) {
  validate_queue_name(name);
  std::string url;
  std::exception_ptr missing;
  try {
    url = co_await api_.get_queue_url(name, std::nullopt);
  } catch (const AwsApiError& error) {
    if (!error.non_existent_queue()) throw;
    missing = std::current_exception();
  }
  if (missing) {
    AttributeMap attributes;
    if (fifo) attributes = fifo_queue_attributes;
    if (dead_letter) attributes["MessageRetentionPeriod"] = std::string(dead_letter_retention);
    url = co_await api_.create_queue(name, attributes);
  }
  std::vector<std::string> arn_attribute{"QueueArn"};
  auto attributes = co_await api_.get_queue_attributes(url, std::move(arn_attribute));
  QueueRef queue{name, url, value_or_empty(attributes, "QueueArn")};
  if (queue.arn.empty()) fail("Missing QueueArn for SQS queue '" + name + "'");
  const bool fifo_name = name.ends_with(".fifo");
  if (fifo_name != fifo) {
    const std::string text = std::string("AWS SQS queue configured as ") +
                             (fifo_name ? "FIFO" : "Standard") + ", but the handler expected " +
                             (fifo ? "FIFO" : "Standard") + ".";
    logger_.warning("Queue [sqs] type mismatch (" + text + ")");
    fail(text);
  }
  co_return queue;
}

Task<std::optional<std::string>> AwsResources::lookup_topic(const std::string& encoded_name) {
  // Since upstream 0.28.4: the caller's account (STS) and GetTopicAttributes on the ARN.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    std::exception_ptr failure;
    bool transient = false;
    try {
      if (!account_) account_ = co_await api_.get_caller_identity_account();
      const auto candidate = "arn:" + partition_of(api_.region()) + ":sns:" + api_.region() + ":" +
                             *account_ + ":" + encoded_name;
      auto attributes = co_await api_.get_topic_attributes(candidate);
      const auto arn = value_or_empty(attributes, "TopicArn");
      if (!arn.empty()) co_return arn;
      co_return std::nullopt;
    } catch (const AwsApiError& error) {
      if (is_not_found(error)) co_return std::nullopt;
      transient = error.throttling() || error.status() >= 500;
      failure = std::current_exception();
    } catch (const AwsHttpError&) {
      transient = true;
      failure = std::current_exception();
    }
    if (!transient) co_return std::nullopt;  // any other failure: fall through to CreateTopic
  }
  co_return std::nullopt;
}

Task<std::string> AwsResources::create_topic(std::string encoded_name, AttributeMap attributes,
                                             bool overwrite) {
  // One creation at a time (spec §3.3).
  if (!topic_creation_) topic_creation_ = std::make_unique<core::AsyncMutex>();
  auto creation = co_await topic_creation_->lock();
  if (const auto cached = topic_arns_.find(encoded_name); cached != topic_arns_.end()) {
    co_return cached->second;
  }
  std::exception_ptr failure;
  std::string arn;
  try {
    bool different_attributes = false;
    try {
      arn = co_await api_.create_topic(encoded_name, attributes);
    } catch (const AwsApiError& error) {
      if (error.message().find("Topic already exists with different attributes") ==
          std::string::npos)
        throw;
      different_attributes = true;
    }
    if (different_attributes) {
      AttributeMap no_attributes;
      arn = co_await api_.create_topic(encoded_name, std::move(no_attributes));
      logger_.info("Already existing SNS topic '" + arn + "' has different topic attributes");
      if (overwrite) {
        auto current = co_await api_.get_topic_attributes(arn);
        for (const auto& [name, value] : attributes) {
          if (value_or_empty(current, name) == value) continue;
          if (name == "KmsMasterKeyId" && value.empty()) {
            logger_.info("SNS topic attribute 'KmsMasterKeyId' on SNS topic '" + arn +
                         "' will be updated to disable server-side encryption");
          }
          logger_.info("Updating '" + name + "' attribute on SNS topic '" + arn + "'");
          co_await api_.set_topic_attributes(arn, name, value);
        }
      } else {
        logger_.warning("Will not overwrite existing attributes on SNS topic '" + arn + "'");
      }
    }
    if (arn.empty()) throw AwsSnsSqsException("Missing ARN in response");
    topic_arns_[encoded_name] = arn;
  } catch (...) {
    failure = std::current_exception();
  }
  creation.unlock();
  if (failure) {
    const auto text = error_text(failure);
    logger_.warning("Unable to create topic [sns] on AWS (" + text + ")");
    try {
      std::rethrow_exception(failure);
    } catch (const AwsSnsSqsException&) {
      throw;
    } catch (...) {
      throw AwsSnsSqsException(text);
    }
  }
  co_return arn;
}

Task<std::vector<std::string>> AwsResources::wildcard_topic_arns(const std::string& topic,
                                                                 bool fifo) {
  const WildcardTopicPattern pattern(topic, settings_.topic_prefix, fifo);
  std::vector<std::string> matches;
  std::optional<std::string> token;
  do {
    auto page = co_await api_.list_topics(token);
    for (auto& arn : page.topic_arns) {
      // A FIFO topic delivers only to FIFO queues, a standard topic only to standard ones.
      if (pattern.matches(arn) && arn.ends_with(".fifo") == fifo) matches.push_back(std::move(arn));
    }
    token = std::move(page.next_token);
  } while (token);
  co_return matches;
}

Task<void> AwsResources::reconcile_queue(SubscribedQueue& queue, const SubscriptionRequest& request,
                                         const std::optional<std::string>& redrive,
                                         const std::vector<std::string>* policy_arns) {
  auto& visibility_timeout = queue.visibility_timeout;
  const auto current =
      co_await api_.get_queue_attributes(queue.queue_url, reconcile_attribute_names);
  AttributeMap changes;
  const auto current_policy = value_or_empty(current, "Policy");
  if (policy_arns != nullptr) {
    // Every topic this process subscribes the queue to keeps its statement (upstream
    // replaces the policy with the last subscription's).
    auto& sources = policy_sources_[queue.queue_arn];
    const auto source = queue_policy_source_arn(*policy_arns, settings_.policy);
    if (std::find(sources.begin(), sources.end(), source) == sources.end())
      sources.push_back(source);
    const auto wanted = queue_policy(queue.queue_arn, sources, uuid4, now());
    if (current_policy.empty() || !same_policy_statements(current_policy, wanted)) {
      changes["Policy"] = json::dumps(wanted);
    }
  }
  const auto current_visibility = value_or_empty(current, "VisibilityTimeout");
  if (!current_visibility.empty()) visibility_timeout = std::atoi(current_visibility.c_str());
  if (const auto wanted = request.options.visibility_timeout;
      wanted && *wanted > 0 && !current_visibility.empty() &&
      current_visibility != std::to_string(*wanted)) {
    changes["VisibilityTimeout"] = std::to_string(*wanted);
    visibility_timeout = *wanted;
  }
  const auto current_redrive = value_or_empty(current, "RedrivePolicy");
  if (redrive) {
    if (*redrive == "{}") {
      if (!empty_redrive(current_redrive)) changes["RedrivePolicy"] = "{}";
    } else if (!same_redrive(current_redrive, *redrive)) {
      changes["RedrivePolicy"] = *redrive;
    }
    queue.dead_letter_target_arn = redrive_target_arn(*redrive);
  } else {
    // A RedrivePolicy made elsewhere (terraform, the console) counts as well.
    queue.dead_letter_target_arn = redrive_target_arn(current_redrive);
  }
  const auto current_kms = value_or_empty(current, "KmsMasterKeyId");
  bool kms_enabled = !current_kms.empty();
  if (const auto& kms = settings_.sqs_kms_master_key_id) {
    if (*kms != current_kms && (!kms->empty() || !current_kms.empty()))
      changes["KmsMasterKeyId"] = *kms;
    kms_enabled = !kms->empty();
  }
  if (const auto period = settings_.sqs_kms_data_key_reuse_period;
      period && *period != 0 && kms_enabled) {
    if (value_or_empty(current, "KmsDataKeyReusePeriodSeconds") != std::to_string(*period)) {
      changes["KmsDataKeyReusePeriodSeconds"] = std::to_string(*period);
    }
  }
  if (changes.empty()) co_return;
  if (!current_policy.empty()) {
    for (const auto& [name, value] : changes) {
      logger_.info("Updating '" + name + "' attribute on SQS queue '" + queue.queue_arn + "'");
    }
  }
  co_await api_.set_queue_attributes(queue.queue_url, changes);
}

Task<void> AwsResources::subscribe_queue(const std::string& topic_arn, const std::string& queue_arn,
                                         const std::optional<std::string>& filter_policy) {
  AttributeMap attributes;
  if (filter_policy) attributes["FilterPolicy"] = *filter_policy;
  std::string subscription_arn;
  bool update = false;
  try {
    subscription_arn = co_await api_.subscribe(topic_arn, "sqs", queue_arn, attributes);
  } catch (const AwsApiError& error) {
    if (attributes.empty() ||
        error.message().find("Subscription already exists with different attributes") ==
            std::string::npos) {
      throw;
    }
    logger_.info("Subscription already exists with different attributes",
                 {{"topic_arn", boost::json::string(topic_arn)}});
    update = true;
  }
  if (update) {
    AttributeMap no_attributes;
    subscription_arn =
        co_await api_.subscribe(topic_arn, "sqs", queue_arn, std::move(no_attributes));
  }
  // Emulators (localstack, fauxqs: account 000000000000) may ignore attributes on Subscribe.
  if ((update || subscription_arn.find("000000000000") != std::string::npos) &&
      !attributes.empty()) {
    for (const auto& [name, value] : attributes) {
      logger_.info("Updating '" + name + "' attribute on subscription for topic ARN '" + topic_arn +
                   "' and queue ARN '" + queue_arn +
                   "' - changes can take several minutes to propagate");
      co_await api_.set_subscription_attributes(subscription_arn, name, value);
    }
  }
}

Task<SubscribedQueue> AwsResources::subscribe(const SubscriptionRequest& request) {
  const auto& options = request.options;
  validate_subscription(request, settings_.queue_name_prefix);
  const auto filter_policy = filter_policy_text(options.filter_policy);
  const bool fifo = options.fifo;

  // The queue.
  SubscribedQueue queue;
  queue.fifo = fifo;
  if (options.queue_name && looks_like_sqs_arn(*options.queue_name)) {
    const auto arn = parse_sqs_arn(*options.queue_name);
    std::exception_ptr missing;
    try {
      std::optional<std::string> owner;
      if (!arn.own_account()) owner = arn.account;
      queue.queue_url = co_await api_.get_queue_url(arn.name, std::move(owner));
    } catch (const AwsApiError& error) {
      if (!error.non_existent_queue()) throw;
      missing = std::current_exception();
    }
    if (missing)
      fail("AWS SQS queue with specific ARN (" + *options.queue_name + ") does not exist");
    queue.queue_name = arn.name;
    queue.queue_arn = *options.queue_name;
    if (arn.name.ends_with(".fifo") != fifo) fail_queue_type(request, *options.queue_name);
  } else {
    const auto name =
        options.queue_name
            ? settings_.queue_name_prefix + *options.queue_name
            : hashed_queue_name(encode_topic(request.topic), request.handler_name,
                                request.service_uuid, options.competing.value_or(false),
                                settings_.queue_name_prefix, fifo);
    auto ref = co_await ensure_queue(name, fifo, false);
    queue.queue_name = ref.name;
    queue.queue_url = ref.url;
    queue.queue_arn = ref.arn;
  }

  // Its dead-letter queue (SQS redrive).
  std::optional<std::string> redrive;
  if (options.dead_letter_queue_name && options.dead_letter_queue_name->empty() &&
      !options.max_receive_count) {
    redrive = "{}";
  } else if (options.dead_letter_queue_name && options.max_receive_count) {
    const auto& dlq = *options.dead_letter_queue_name;
    std::string dlq_arn;
    if (looks_like_sqs_arn(dlq)) {
      const auto arn = parse_sqs_arn(dlq);
      std::exception_ptr missing;
      try {
        std::optional<std::string> owner;
        if (!arn.own_account()) owner = arn.account;
        co_await api_.get_queue_url(arn.name, std::move(owner));
      } catch (const AwsApiError& error) {
        if (!error.non_existent_queue()) throw;
        missing = std::current_exception();
      }
      if (missing) fail("AWS SQS dead-letter queue with specific ARN (" + dlq + ") does not exist");
      dlq_arn = dlq;
    } else {
      dlq_arn = (co_await ensure_queue(settings_.queue_name_prefix + dlq, fifo, true)).arn;
    }
    redrive = json::dumps(boost::json::object{{"deadLetterTargetArn", dlq_arn},
                                              {"maxReceiveCount", *options.max_receive_count}});
  }

  // Its topics.
  std::vector<std::string> topic_arns;
  if (!request.topic.empty()) {
    if (is_wildcard_topic(request.topic)) {
      topic_arns = co_await wildcard_topic_arns(request.topic, fifo);
    } else {
      AttributeMap attributes;
      if (fifo) attributes = {{"FifoTopic", "true"}, {"ContentBasedDeduplication", "false"}};
      if (settings_.sns_kms_master_key_id)
        attributes["KmsMasterKeyId"] = *settings_.sns_kms_master_key_id;
      topic_arns.push_back(co_await create_topic(
          sns_topic_name(request.topic, settings_.topic_prefix, fifo), attributes, true));
    }
  }
  const std::vector<std::string>* policy_arns = topic_arns.empty() ? nullptr : &topic_arns;
  co_await reconcile_queue(queue, request, redrive, policy_arns);
  for (const auto& topic_arn : topic_arns)
    co_await subscribe_queue(topic_arn, queue.queue_arn, filter_policy);
  queue.topic_arns = std::move(topic_arns);
  co_return queue;
}

Task<std::string> AwsResources::publish_topic_arn(
    std::string topic, std::string topic_prefix, bool fifo,
    std::map<std::string, std::string> topic_attributes, bool overwrite) {
  validate_topic_name(topic);
  const auto encoded = sns_topic_name(topic, topic_prefix, fifo);
  if (const auto cached = topic_arns_.find(encoded); cached != topic_arns_.end())
    co_return cached->second;
  if (auto found = co_await lookup_topic(encoded)) {
    topic_arns_[encoded] = *found;
    co_return *found;
  }
  AttributeMap attributes;
  if (fifo) attributes = {{"FifoTopic", "true"}, {"ContentBasedDeduplication", "false"}};
  if (settings_.sns_kms_master_key_id && !topic_attributes.contains("KmsMasterKeyId")) {
    attributes["KmsMasterKeyId"] = *settings_.sns_kms_master_key_id;
  }
  for (auto& [name, value] : topic_attributes) attributes[name] = value;
  co_return co_await create_topic(encoded, attributes, overwrite);
}

Task<std::string> AwsResources::send_queue_url(std::string queue, std::string queue_name_prefix) {
  if (looks_like_queue_url(queue)) co_return queue;
  std::string name;
  std::optional<std::string> owner;
  if (looks_like_sqs_arn(queue)) {
    const auto arn = parse_sqs_arn(queue);
    name = arn.name;  // upstream prefixes an ARN's name with queue_name_prefix; an ARN is exact
    if (!arn.own_account()) owner = arn.account;
  } else {
    name = queue_name_prefix + queue;
  }
  validate_queue_name(name);
  const auto key = name + "|" + owner.value_or("");
  if (const auto cached = queue_urls_.find(key); cached != queue_urls_.end())
    co_return cached->second;
  std::string url;
  bool missing = false;
  try {
    url = co_await api_.get_queue_url(name, owner);
  } catch (const AwsApiError& error) {
    if (!error.non_existent_queue()) throw;
    missing = true;
  }
  if (missing) {
    const auto other = name.ends_with(".fifo") ? name.substr(0, name.size() - 5) : name + ".fifo";
    bool other_exists = true;
    try {
      co_await api_.get_queue_url(other, owner);
    } catch (const AwsApiError&) {
      other_exists = false;
    }
    if (other_exists) {
      logger_.warning("SQS queue '" + name + "' does not exist, but '" + other +
                      "' does - check the FIFO arguments of the send_message call");
    }
    const std::string text =
        "Cannot send message to non-existent (AWS.SimpleQueueService.NonExistentQueue) SQS queue";
    logger_.warning(text, {{"queue_name", boost::json::string(name)}});
    throw QueueDoesNotExistError(text + " (" + name + ")");
  }
  queue_urls_[key] = url;
  co_return url;
}

void AwsResources::forget_topic(const std::string& topic_arn) {
  for (auto it = topic_arns_.begin(); it != topic_arns_.end();) {
    it = it->second == topic_arn ? topic_arns_.erase(it) : std::next(it);
  }
}

void AwsResources::forget_topics() {
  topic_arns_.clear();
  queue_urls_.clear();
}

void AwsResources::forget_queue(const std::string& queue_url) {
  for (auto it = queue_urls_.begin(); it != queue_urls_.end();) {
    it = it->second == queue_url ? queue_urls_.erase(it) : std::next(it);
  }
}

}  // namespace tomodachi::aws
