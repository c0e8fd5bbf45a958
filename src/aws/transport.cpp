// The SNS/SQS transport: one TransportInstance per service (subscriptions, receive loops,
// drain), the process's AWS clients, and the public publish / send functions.

#include "aws/aws_client.hpp"
#include "aws/consumer.hpp"
#include "aws/naming.hpp"
#include "aws/publisher.hpp"
#include "aws/setup.hpp"
#include "aws/telemetry.hpp"
#include "core/async.hpp"
#include "core/encoding.hpp"
#include "telemetry/tracer.hpp"

#include <tomodachi/aws_sns_sqs.hpp>
#include <tomodachi/context.hpp>
#include <tomodachi/json.hpp>
#include <tomodachi/loop.hpp>
#include <tomodachi/transport/messaging.hpp>
#include <tomodachi/transport/transport.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <map>
#include <memory>

namespace tomodachi {
namespace aws {
namespace {

const Logger& transport_logger() {
  static const Logger logger("tomodachi.awssnssqs");
  return logger;
}

// ---- the process's AWS clients -------------------------------------------------------

/// One AWS client (connection pool, credentials) with its caches, per loop and options.
struct AwsEndpoint {
  std::unique_ptr<AwsClient> client;
  std::unique_ptr<AwsResources> resources;
};

struct EndpointRegistry {
  std::map<std::pair<const void*, std::string>, std::shared_ptr<AwsEndpoint>> endpoints;
};

EndpointRegistry& registry() {
  static auto* instance =
      new EndpointRegistry();  // never destroyed: clients may outlive static teardown
  return *instance;
}

SetupSettings settings_of(const Options& options) {
  const auto& o = options.aws_sns_sqs;
  SetupSettings settings;
  settings.topic_prefix = o.topic_prefix;
  settings.queue_name_prefix = o.queue_name_prefix;
  settings.sns_kms_master_key_id = o.sns_kms_master_key_id;
  settings.sqs_kms_master_key_id = o.sqs_kms_master_key_id;
  settings.sqs_kms_data_key_reuse_period = o.sqs_kms_data_key_reuse_period;
  settings.policy = {o.queue_policy, o.wildcard_queue_policy};
  return settings;
}

// The options an endpoint depends on, length-prefixed (cheap: computed on every publish).
std::string endpoint_key(const Options& options) {
  std::string key;
  const auto add = [&key](const std::string& value) {
    key += std::to_string(value.size());
    key += ':';
    key += value;
  };
  const auto add_optional = [&](const std::optional<std::string>& value) {
    key += value ? '+' : '-';
    if (value) add(*value);
  };
  const auto& o = options.aws_sns_sqs;
  add_optional(o.region_name);
  add_optional(o.aws_access_key_id);
  add_optional(o.aws_secret_access_key);
  add(o.topic_prefix);
  add(o.queue_name_prefix);
  add_optional(o.sns_kms_master_key_id);
  add_optional(o.sqs_kms_master_key_id);
  add_optional(o.sqs_kms_data_key_reuse_period
                   ? std::optional<std::string>(std::to_string(*o.sqs_kms_data_key_reuse_period))
                   : std::nullopt);
  add_optional(o.queue_policy);
  add_optional(o.wildcard_queue_policy);
  const auto& urls = options.aws_endpoint_urls;
  add_optional(urls.sns);
  add_optional(urls.sqs);
  add_optional(urls.sts);
  return key;
}

std::shared_ptr<AwsEndpoint> endpoint_for(const Service& service,
                                          const boost::asio::any_io_executor& executor,
                                          std::string_view service_kind = "sqs") {
  const auto& options = service.options;
  std::string key = endpoint_key(options);
  auto& endpoints = registry().endpoints;
  auto id = std::make_pair(static_cast<const void*>(&executor.context()), std::move(key));
  if (auto it = endpoints.find(id); it != endpoints.end()) return it->second;

  AwsClientConfig config;
  config.credentials = {options.aws_sns_sqs.region_name, options.aws_sns_sqs.aws_access_key_id,
                        options.aws_sns_sqs.aws_secret_access_key, std::nullopt};
  config.sns_endpoint = options.aws_endpoint_urls.sns;
  config.sqs_endpoint = options.aws_endpoint_urls.sqs;
  config.sts_endpoint = options.aws_endpoint_urls.sts;
  auto endpoint = std::make_shared<AwsEndpoint>();
  try {
    // Created by whichever call comes first, maybe a handler's inside its span: the client
    // outlives it and must not run with that span current.
    endpoint->client = std::make_unique<AwsClient>(telemetry::without_context(executor), config);
  } catch (const AwsCredentialsError& error) {
    transport_logger().warning("Invalid credentials [" + std::string(service_kind) + "] to AWS (" +
                               error.what() + ")");
    throw AwsSnsSqsConnectionException(std::string("Invalid credentials [") +
                                       std::string(service_kind) + "] to AWS (" + error.what() +
                                       ")");
  }
  endpoint->resources =
      std::make_unique<AwsResources>(*endpoint->client, settings_of(options), transport_logger());
  endpoint->resources->uuid4 = [] { return encoding::uuid4(); };
  endpoints.emplace(std::move(id), endpoint);
  return endpoint;
}

void release_endpoints(const boost::asio::any_io_executor& executor) {
  auto& endpoints = registry().endpoints;
  const void* context = &executor.context();
  for (auto it = endpoints.begin(); it != endpoints.end();) {
    if (it->first.first == context) {
      it->second->client->close();
      it = endpoints.erase(it);
    } else {
      ++it;
    }
  }
}

ConsumerCounters counters() {
  static ExecutionCounter current("aws_sns_sqs_current_tasks");
  static ExecutionCounter total("aws_sns_sqs_total_tasks");
  return {current, total};
}

/// Runs `call`, turning credential problems into upstream's connection error.
template <typename T>
Task<T> translate_errors(Task<T> task, std::string_view service_kind) {
  std::exception_ptr failure;
  try {
    co_return co_await std::move(task);
  } catch (const AwsCredentialsError& error) {
    transport_logger().warning("Invalid credentials [" + std::string(service_kind) + "] to AWS (" +
                               error.what() + ")");
    failure = std::make_exception_ptr(AwsSnsSqsConnectionException(
        std::string("Invalid credentials [") + std::string(service_kind) + "] to AWS (" +
        error.what() + ")"));
  }
  std::rethrow_exception(failure);
}

// ---- the transport -----------------------------------------------------------------------

class AwsSnsSqsTransport final : public TransportInstance {
 public:
  AwsSnsSqsTransport(Service& service, std::vector<const AwsSnsSqsHandlerSpec*> specs)
      : service_(service), specs_(std::move(specs)) {}

  Task<void> setup() override {
    // Argument errors abort the start before any AWS request.
    for (const auto* spec : specs_) {
      SubscriptionConfig config = SubscriptionConfig::from_spec(service_, *spec, "aws_sns_sqs");
      config.instrument = consumer_instrument(service_.options.aws_sns_sqs.queue_name_prefix);
      dispatchers_.push_back(std::make_shared<const MessageDispatcher>(std::move(config)));
      validate_subscription(request_of(*spec), service_.options.aws_sns_sqs.queue_name_prefix);
    }
    set_execution_context({{"aws_sns_sqs_enabled", true}});
    co_return;
  }

  Task<void> start() override {
    auto executor = co_await boost::asio::this_coro::executor;
    endpoint_ = endpoint_for(service_, executor);
    for (std::size_t i = 0; i < specs_.size(); ++i) {
      const auto* spec = specs_[i];
      auto request = request_of(*spec);
      auto subscribe = endpoint_->resources->subscribe(request);
      std::exception_ptr failure;
      SubscribedQueue queue;
      try {
        queue = co_await translate_errors(std::move(subscribe), "sqs");
      } catch (const AwsApiError& error) {
        transport_logger().warning(
            std::string("Unable to set up the subscription [sqs] on AWS (") + error.what() + ")",
            {{"handler", boost::json::string(spec->name)}});
        failure = std::make_exception_ptr(AwsSnsSqsException(error.what()));
      } catch (const AwsHttpError& error) {
        transport_logger().warning(
            std::string("Unable to connect [sqs] to AWS (") + error.what() + ")",
            {{"handler", boost::json::string(spec->name)}});
        failure = std::make_exception_ptr(AwsSnsSqsConnectionException(error.what()));
      }
      if (failure) std::rethrow_exception(failure);
      if (!queue.dead_letter_target_arn.empty() && spec->options.delivery.dead_letter_queue) {
        transport_logger().warning(
            "dead-lettered messages go to the target of the queue's RedrivePolicy, not to "
            "delivery.dead_letter_queue '" +
                *spec->options.delivery.dead_letter_queue + "'",
            {{"handler", boost::json::string(spec->name)},
             {"dead_letter_target_arn", boost::json::string(queue.dead_letter_target_arn)}});
      }

      ConsumerConfig config;
      config.handler_name = spec->name;
      config.queue = queue;
      config.max_messages = spec->options.max_number_of_consumed_messages.value_or(10);
      config.extend_visibility = spec->options.extend_visibility;
      config.queue_name_prefix = service_.options.aws_sns_sqs.queue_name_prefix;
      config.topic_prefix = service_.options.aws_sns_sqs.topic_prefix;
      config.receive_max_age =
          std::chrono::duration<double>(service_.options.health.sqs_receive_max_age);
      auto resources = endpoint_->resources.get();
      auto endpoint = endpoint_;
      Consumer::Resubscribe resubscribe = [endpoint, resources,
                                           request]() -> Task<SubscribedQueue> {
        resources->forget_topics();
        co_return co_await resources->subscribe(request);
      };
      auto consumer =
          std::make_shared<Consumer>(executor, *resources, dispatchers_[i], std::move(config),
                                     std::move(resubscribe), counters());
      consumer->keep_alive(endpoint);
      consumers_.push_back(std::move(consumer));
    }
  }

  Task<void> started() override {
    auto executor = co_await boost::asio::this_coro::executor;
    loops_ = std::make_shared<core::Gate>();
    for (auto& consumer : consumers_) {
      loops_->enter();
      boost::asio::co_spawn(
          executor, consumer->run(), [loops = loops_, consumer](std::exception_ptr error) {
            if (error) {
              log_uncaught_exception(
                  error, {{"handler", boost::json::string(consumer->config().handler_name)}});
            }
            loops->leave();
          });
    }
    co_return;
  }

  void stop_requested() noexcept override {
    for (auto& consumer : consumers_) consumer->request_stop();
  }

  Task<void> stop(Deadline deadline) override {
    auto executor = co_await boost::asio::this_coro::executor;
    for (auto& consumer : consumers_) consumer->request_stop();
    for (auto& consumer : consumers_) co_await consumer->drain(deadline);
    if (loops_) {
      loops_->close();
      co_await loops_->wait_until(deadline);
    }
    consumers_.clear();
    if (endpoint_) {
      endpoint_.reset();
      release_endpoints(executor);
    }
  }

 private:
  SubscriptionRequest request_of(const AwsSnsSqsHandlerSpec& spec) const {
    return SubscriptionRequest{spec.name, service_.uuid(), spec.pattern, spec.options};
  }

  Service& service_;
  std::vector<const AwsSnsSqsHandlerSpec*> specs_;
  std::vector<std::shared_ptr<const MessageDispatcher>> dispatchers_;
  std::shared_ptr<AwsEndpoint> endpoint_;
  std::vector<std::shared_ptr<Consumer>> consumers_;
  std::shared_ptr<core::Gate> loops_;  ///< the consumers' receive loops
};

const bool registered = [] {
  register_transport<AwsSnsSqsHandlerSpec>([](Service& service,
                                              std::vector<const AwsSnsSqsHandlerSpec*> specs) {
    return std::unique_ptr<TransportInstance>(new AwsSnsSqsTransport(service, std::move(specs)));
  });
  return true;
}();

}  // namespace
}  // namespace aws

// ---- public publishing functions -----------------------------------------------------------

Task<std::string> aws_sns_sqs_publish(const Service& service, PublishData data,
                                      std::string_view topic, AwsSnsSqsPublishOptions options) {
  MessageAttributes attributes =
      options.message_attributes ? *options.message_attributes : MessageAttributes{};
  if (Publisher* injected = injected_publisher(service)) {
    PublishRequest request{&service,
                           std::move(data),
                           std::string(topic),
                           options.message_envelope.as_override(),
                           std::move(attributes),
                           std::nullopt};
    co_return co_await injected->publish(PublishTransport::aws_sns_sqs, std::move(request));
  }
  auto executor = co_await boost::asio::this_coro::executor;
  auto endpoint = aws::endpoint_for(service, executor, "sns");
  aws::PublishInput input;
  input.sender = &service;
  input.data = std::move(data);
  input.topic = std::string(topic);
  input.topic_prefix = options.topic_prefix ? std::string(*options.topic_prefix)
                                            : service.options.aws_sns_sqs.topic_prefix;
  input.envelope = options.message_envelope.as_override();
  input.attributes = std::move(attributes);
  if (options.topic_attributes) input.topic_attributes = *options.topic_attributes;
  input.overwrite_topic_attributes = options.overwrite_topic_attributes;
  if (options.group_id) input.group_id = std::string(*options.group_id);
  if (options.deduplication_id) input.deduplication_id = std::string(*options.deduplication_id);
  if (!options.wait) {
    // Build the payload now (the envelope and data are the caller's), publish in the background.
    MessageAttributes built_attributes = input.attributes;
    auto payload = aws::build_envelope_payload(&service, input.data, input.topic, input.envelope,
                                               built_attributes);
    input.data = PublishData(boost::json::value(payload));
    input.envelope = std::shared_ptr<const Envelope>();  // raw: the payload is ready
    input.attributes = std::move(built_attributes);
    auto background = [](std::shared_ptr<aws::AwsEndpoint> endpoint,
                         aws::PublishInput input) -> Task<void> {
      auto publish = aws::publish_message(*endpoint->resources, std::move(input));
      co_await aws::translate_errors(std::move(publish), "sns");
    };
    boost::asio::co_spawn(executor, background(endpoint, std::move(input)),
                          [](std::exception_ptr error) {
                            if (error) log_uncaught_exception(error);
                          });
    co_return std::string();
  }
  auto publish = aws::publish_message(*endpoint->resources, std::move(input));
  co_return co_await aws::translate_errors(std::move(publish), "sns");
}

Task<std::string> sqs_send_message(const Service& service, PublishData data, std::string_view queue,
                                   SqsSendMessageOptions options) {
  MessageAttributes attributes =
      options.message_attributes ? *options.message_attributes : MessageAttributes{};
  if (Publisher* injected = injected_publisher(service)) {
    PublishRequest request{&service,
                           std::move(data),
                           "",
                           options.message_envelope.as_override(),
                           std::move(attributes),
                           std::string(queue)};
    co_return co_await injected->publish(PublishTransport::aws_sns_sqs, std::move(request));
  }
  auto executor = co_await boost::asio::this_coro::executor;
  auto endpoint = aws::endpoint_for(service, executor, "sqs");
  aws::SendInput input;
  input.sender = &service;
  input.data = std::move(data);
  input.queue = std::string(queue);
  input.queue_name_prefix = options.queue_name_prefix
                                ? std::string(*options.queue_name_prefix)
                                : service.options.aws_sns_sqs.queue_name_prefix;
  input.envelope = options.message_envelope.as_override();
  input.attributes = std::move(attributes);
  if (options.group_id) input.group_id = std::string(*options.group_id);
  if (options.deduplication_id) input.deduplication_id = std::string(*options.deduplication_id);
  input.delay_seconds = options.delay_seconds;
  input.tomodachi_body = options.tomodachi_body;
  input.formatter = options.body_formatter;
  if (!options.wait) {
    // Nothing of the caller's (the envelope) may be used after the return: the body, or at
    // least the envelope payload, is built now.
    if (input.formatter) {
      // A body formatter runs during the call, with the queue URL looked up first.
      aws::check_send_fifo_arguments(input.queue, input.group_id.has_value());
      auto lookup = endpoint->resources->send_queue_url(input.queue, input.queue_name_prefix);
      const auto url = co_await aws::translate_errors(std::move(lookup), "sqs");
      const auto envelope = resolve_envelope(input.envelope, service);
      const SqsBodyContext context{service,     input.data, input.attributes,
                                   input.queue, url,        envelope.get()};
      auto body = input.formatter(context);
      input.queue = url;
      input.data = PublishData(boost::json::value(std::move(body)));
      input.formatter = nullptr;
      input.tomodachi_body = false;
    } else if (input.tomodachi_body) {
      MessageAttributes built_attributes = input.attributes;
      auto payload =
          aws::build_envelope_payload(&service, input.data, "", input.envelope, built_attributes);
      input.data = PublishData(boost::json::value(std::move(payload)));
      input.attributes = std::move(built_attributes);
    }
    input.envelope = std::shared_ptr<const Envelope>();  // raw: the payload is ready
    auto background = [](std::shared_ptr<aws::AwsEndpoint> endpoint,
                         aws::SendInput input) -> Task<void> {
      auto send = aws::send_sqs_message(*endpoint->resources, std::move(input));
      co_await aws::translate_errors(std::move(send), "sqs");
    };
    boost::asio::co_spawn(executor, background(endpoint, std::move(input)),
                          [](std::exception_ptr error) {
                            if (error) log_uncaught_exception(error);
                          });
    co_return std::string();
  }
  auto send = aws::send_sqs_message(*endpoint->resources, std::move(input));
  co_return co_await aws::translate_errors(std::move(send), "sqs");
}

}  // namespace tomodachi
