// The messaging core: parse → duplicate check → middleware → handler → settle
// (spec/wire.md §2.7, §3.11; spec/service.md §7; include/tomodachi/delivery.hpp).
#include <tomodachi/detail/assert.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/transport/messaging.hpp>

#include "messaging/duplicate_log.hpp"

#include <boost/asio/this_coro.hpp>

#include <optional>
#include <stdexcept>
#include <utility>

namespace tomodachi {
namespace {

std::string handler_logger_name(std::string_view transport) {
  if (transport == "aws_sns_sqs") return "tomodachi.awssnssqs.handler";
  return "tomodachi." + std::string(transport) + ".handler";
}

std::string handler_log_type(std::string_view transport) {
  if (transport == "aws_sns_sqs") return "tomodachi.awssnssqs";
  return "tomodachi." + std::string(transport);
}

// `exc_type` / `exc_message` as Logger::exception writes them (type without namespace).
LogFields error_fields(const std::exception_ptr& error) {
  std::string type = exception_type_name(error);
  if (const auto colon = type.rfind("::"); colon != std::string::npos)
    type = type.substr(colon + 2);
  return {{"exc_type", boost::json::string(type)},
          {"exc_message", boost::json::string(describe_exception(error))}};
}

}  // namespace

MessageHandlerSpec::~MessageHandlerSpec() = default;

std::string_view to_string(DeliveryOutcome outcome) noexcept {
  switch (outcome) {
    case DeliveryOutcome::acked:
      return "acked";
    case DeliveryOutcome::dropped:
      return "dropped";
    case DeliveryOutcome::requeued:
      return "requeued";
    case DeliveryOutcome::retry_scheduled:
      return "retry_scheduled";
    case DeliveryOutcome::dead_lettered:
      return "dead_lettered";
    case DeliveryOutcome::duplicate_deferred:
      return "duplicate_deferred";
  }
  return "unknown";
}

SubscriptionConfig SubscriptionConfig::from_spec(Service& service, const MessageHandlerSpec& spec,
                                                 std::string transport) {
  SubscriptionConfig config;
  config.service = &service;
  config.handler_name = spec.name;
  config.transport = std::move(transport);
  config.envelope = resolve_envelope(spec.message_envelope, service);
  config.middleware = service.message_middleware;
  config.delivery = spec.delivery;
  config.handler = spec.handler;
  return config;
}

MessageDispatcher::MessageDispatcher(SubscriptionConfig config)
    : config_(std::move(config)),
      logger_(handler_logger_name(config_.transport),
              LogFields{{"handler", boost::json::string(config_.handler_name)},
                        {"type", boost::json::string(handler_log_type(config_.transport))}}),
      duplicate_log_(std::make_shared<DuplicateLog>(
          logger_,
          [registry = config_.duplicates] {
            return (registry ? *registry : DuplicateRegistry::process()).now();
          },
          config_.schedule)) {
  const std::string where = "subscription of handler '" + config_.handler_name + "'";
  if (!config_.handler) throw ArgumentError(where + ": no handler function");
  for (const auto& middleware : config_.middleware) {
    if (!middleware) throw ArgumentError(where + ": an empty message middleware function");
  }
  try {
    config_.delivery.validate();
    if (config_.envelope) config_.envelope->validate();
  } catch (const std::exception& e) {
    throw ArgumentError(where + ": " + e.what());
  }
}

bool MessageDispatcher::requeues(const std::exception_ptr& error) const {
  try {
    std::rethrow_exception(error);
  } catch (const AmqpInternalServiceError&) {
    return config_.transport != "aws_sns_sqs";
  } catch (const AwsSnsSqsInternalServiceError&) {
    return config_.transport != "amqp";
  } catch (const InternalServiceError&) {
    return config_.transport != "amqp" && config_.transport != "aws_sns_sqs";
  } catch (...) {
    return false;
  }
}

Task<void> MessageDispatcher::run_chain(std::size_t index, Message& message,
                                        MiddlewareContext& context) const {
  if (index == config_.middleware.size()) {
    Task<void> handler = config_.handler(message);
    co_await std::move(handler);
    co_return;
  }
  const MessageNext next = [this, index, &message, &context]() -> Task<void> {
    return run_chain(index + 1, message, context);
  };
  Task<void> middleware = config_.middleware[index](message, context, next);
  co_await std::move(middleware);
}

Task<DeliveryOutcome> MessageDispatcher::dispatch(IncomingMessage incoming,
                                                  Delivery& delivery) const {
  const bool compatible = config_.delivery.mode == DeliveryPolicy::Mode::tomodachi;
  const int attempt = delivery.attempt();
  TOMODACHI_ASSERT(attempt >= 1, "Delivery::attempt() is 1-based");
  Logger logger = incoming.log_context.empty() ? logger_ : logger_.bind(incoming.log_context);

  // 1. The envelope (or what the transport parsed already).
  std::optional<ParsedMessage> parsed = std::exchange(incoming.parsed, std::nullopt);
  std::exception_ptr parse_error = std::exchange(incoming.parse_error, nullptr);
  if (!parsed && !parse_error) {
    if (config_.envelope) {
      try {
        // Constructed in place: a ParsedMessage is never assigned, so data parsed into
        // its own memory resource (decompressed data, see JsonBase) is never copied.
        parsed.emplace(config_.envelope->parse(incoming.payload, incoming.message_attributes
                                                                     ? &*incoming.message_attributes
                                                                     : nullptr));
      } catch (...) {
        parse_error = std::current_exception();
      }
    } else {
      parsed.emplace();
      parsed->message = boost::json::string(incoming.payload);
    }
  }
  if (parse_error) {
    if (compatible) {
      log_uncaught_exception(parse_error, {{"handler", boost::json::string(config_.handler_name)}});
      co_await delivery.ack();
      co_return DeliveryOutcome::dropped;
    }
    LogFields fields = error_fields(parse_error);
    fields.push_back(
        {"envelope", boost::json::string(config_.envelope ? config_.envelope->name() : "raw")});
    logger.error("unparseable message: dead-lettering it", std::move(fields));
    const DeadLetter letter{describe_exception(parse_error), exception_type_name(parse_error),
                            attempt, config_.handler_name, config_.delivery.dead_letter_queue};
    co_await delivery.dead_letter(letter);
    co_return DeliveryOutcome::dead_lettered;
  }

  Message message(std::move(incoming), std::move(*parsed),
                  Message::Context{config_.service, config_.handler_name, std::move(logger),
                                   attempt, !config_.envelope});
  const Logger& log = message.logger();

  // 2. Duplicates.
  DuplicateRegistry& duplicates =
      config_.duplicates ? *config_.duplicates : DuplicateRegistry::process();
  std::optional<DuplicateRegistry::Key> key;
  if (std::optional<std::string> uuid = message.message_uuid()) {
    key = DuplicateRegistry::key_of(*uuid + ":" + config_.handler_name);
  }
  if (key) {
    const DuplicateRegistry::Seen seen = duplicates.begin(*key);
    if (seen == DuplicateRegistry::Seen::completed) {
      const boost::asio::any_io_executor executor = co_await boost::asio::this_coro::executor;
      duplicate_log_->processed(log, message.get("message_uuid"), executor);
      co_await delivery.ack();
      co_return DeliveryOutcome::acked;
    }
    if (seen == DuplicateRegistry::Seen::in_progress) {
      const boost::asio::any_io_executor executor = co_await boost::asio::this_coro::executor;
      duplicate_log_->in_progress(log, message.get("message_uuid"), config_.duplicate_retry_delay,
                                  executor);
      co_await delivery.retry_later(config_.duplicate_retry_delay);
      co_return DeliveryOutcome::duplicate_deferred;
    }
  }

  // 3. Middleware and handler.
  MiddlewareContext context;
  std::exception_ptr failure;
  try {
    Task<void> chain = run_chain(0, message, context);
    if (config_.instrument) chain = config_.instrument(message, std::move(chain));
    co_await std::move(chain);
  } catch (...) {
    failure = std::current_exception();
  }
  if (!failure) {
    if (key) duplicates.complete(*key);
    co_await delivery.ack();
    co_return DeliveryOutcome::acked;
  }

  // 4. The handler failed.
  if (compatible) {
    if (requeues(failure)) {
      if (key) duplicates.forget(*key);
      LogFields fields = error_fields(failure);
      log.warning("internal service error: message returned to the queue", std::move(fields));
      co_await delivery.requeue();
      co_return DeliveryOutcome::requeued;
    }
    if (key) duplicates.complete(*key);  // upstream keeps the key of a dropped message
    log_uncaught_exception(failure, {{"handler", boost::json::string(config_.handler_name)}});
    co_await delivery.ack();
    co_return DeliveryOutcome::dropped;
  }
  if (key) duplicates.forget(*key);
  if (attempt < config_.delivery.max_attempts) {
    const std::chrono::milliseconds delay = config_.delivery.retry_delay(attempt);
    LogFields fields = error_fields(failure);
    fields.push_back({"attempt", attempt});
    fields.push_back({"max_attempts", config_.delivery.max_attempts});
    fields.push_back({"retry_in_ms", delay.count()});
    log.warning("message handler failed: retrying", std::move(fields));
    co_await delivery.retry_later(delay);
    co_return DeliveryOutcome::retry_scheduled;
  }
  log.exception("message handler failed on every attempt: dead-lettering the message", failure,
                {{"attempts", attempt}, {"max_attempts", config_.delivery.max_attempts}});
  const DeadLetter letter{describe_exception(failure), exception_type_name(failure), attempt,
                          config_.handler_name, config_.delivery.dead_letter_queue};
  co_await delivery.dead_letter(letter);
  co_return DeliveryOutcome::dead_lettered;
}

std::string build_payload(PublishRequest& request, BuildContext context) {
  const std::shared_ptr<const Envelope> envelope =
      request.sender
          ? resolve_envelope(request.message_envelope, *request.sender)
          : resolve_envelope(request.message_envelope, std::shared_ptr<const Envelope>());
  if (!envelope) return build_raw_payload(request.data);
  if (request.sender) context.sender = EnvelopeSender::of(*request.sender);
  context.topic = request.topic;
  context.message_attributes = &request.message_attributes;
  return envelope->build(request.data, context);
}

}  // namespace tomodachi
