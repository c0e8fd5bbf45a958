#include "aws/consumer.hpp"

#include "aws/attributes.hpp"
#include "aws/http_client.hpp"
#include "aws/naming.hpp"
#include "core/encoding.hpp"
#include "telemetry/tracer.hpp"

#include <tomodachi/json.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace tomodachi::aws {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

namespace {

const boost::json::value* member(const boost::json::object& object, std::string_view key) {
  return object.if_contains(key);
}

std::string string_member(const boost::json::object& object, std::string_view key) {
  const auto* value = member(object, key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

int ceil_seconds(std::chrono::milliseconds delay) {
  const auto seconds = (delay.count() + 999) / 1000;
  return static_cast<int>(std::clamp<std::int64_t>(seconds, 0, 43200));
}

std::string describe(const std::exception_ptr& error) { return describe_exception(error); }

// The original attributes of an SQS message, as a SendMessage carries them.
WireAttributes passthrough_attributes(const ReceivedMessage& message) {
  WireAttributes result;
  if (!message.message_attributes) return result;
  for (const auto& [name, entry] : *message.message_attributes) {
    if (!entry.is_object()) continue;
    const auto& object = entry.as_object();
    WireAttribute attribute{string_member(object, "DataType"), string_member(object, "StringValue"),
                            std::nullopt};
    if (attribute.data_type.empty()) continue;
    if (const auto* binary = member(object, "BinaryValue"); binary && binary->is_string()) {
      attribute.binary_value = encoding::base64_decode(binary->as_string()).value_or("");
    }
    result.emplace_back(std::string(name), std::move(attribute));
  }
  return result;
}

}  // namespace

ConvertedMessage convert_message(const ReceivedMessage& message, const std::string& queue_url,
                                 const std::string& topic_prefix) {
  ConvertedMessage result;
  std::error_code error;
  const auto body = json::loads(message.body, error);
  if (error || !body.is_object()) {
    result.kind = ConvertedMessage::Kind::unsupported_body;
    result.problem = "unsupported format of message body";
    return result;
  }
  const auto& object = body.as_object();
  const auto* payload = member(object, "Message");
  if (payload == nullptr || !payload->is_string() || payload->as_string().empty()) {
    result.kind = ConvertedMessage::Kind::missing_payload;
    result.problem = "no Message in the SQS message body (raw message delivery?)";
    return result;
  }
  if (payload->as_string() == drain_payload) {
    result.kind = ConvertedMessage::Kind::drain;
    return result;
  }

  const auto* type = member(object, "Type");
  const bool notification =
      type != nullptr && type->is_string() && type->as_string() == "Notification" &&
      member(object, "TopicArn") != nullptr && member(object, "TopicArn")->is_string();
  auto& incoming = result.incoming;
  incoming.payload = std::string(payload->as_string());
  incoming.topic =
      notification ? topic_from_arn(member(object, "TopicArn")->as_string(), topic_prefix) : "";

  try {
    if (message.message_attributes && !message.message_attributes->empty()) {
      incoming.message_attributes = decode_attributes(*message.message_attributes);
    } else if (const auto* attributes = member(object, "MessageAttributes");
               attributes && attributes->is_object()) {
      incoming.message_attributes = decode_attributes(attributes->as_object());
    } else {
      incoming.message_attributes = MessageAttributes{};
    }
  } catch (const AttributeDecodeError& decode_error) {
    result.kind = ConvertedMessage::Kind::bad_attributes;
    result.problem = decode_error.what();
    return result;
  }

  auto& values = incoming.transport_values;
  const auto system = [&](const char* key) -> boost::json::value {
    const auto it = message.attributes.find(key);
    if (it == message.attributes.end()) return nullptr;
    return boost::json::value(it->second);
  };
  values["topic"] = incoming.topic;
  values["receipt_handle"] = message.receipt_handle;
  values["queue_url"] = queue_url;
  if (const auto count = message.attributes.find("ApproximateReceiveCount");
      count != message.attributes.end()) {
    values["approximate_receive_count"] = std::atoll(count->second.c_str());
  } else {
    values["approximate_receive_count"] = nullptr;
  }
  values["sns_message_id"] = notification ? string_member(object, "MessageId") : std::string();
  values["sqs_message_id"] = message.message_id;
  values["message_type"] = type != nullptr ? *type : boost::json::value(nullptr);
  values["raw_message_body"] = message.body;
  values["message_timestamp"] = string_member(object, "Timestamp");
  values["message_deduplication_id"] = system("MessageDeduplicationId");
  values["message_group_id"] = system("MessageGroupId");

  incoming.log_context.push_back({"topic", boost::json::string(incoming.topic)});
  if (notification) {
    incoming.log_context.push_back({"sns_message_id", values["sns_message_id"]});
  } else {
    incoming.log_context.push_back({"sqs_message_id", boost::json::string(message.message_id)});
  }
  return result;
}

// ---- settling one message ------------------------------------------------------------

class Consumer::SqsDelivery final : public Delivery {
 public:
  SqsDelivery(Consumer& consumer, const ReceivedMessage& message, std::set<std::string>& running)
      : consumer_(consumer), message_(message), running_(running) {}

  int attempt() const override {
    const auto it = message_.attributes.find("ApproximateReceiveCount");
    return it == message_.attributes.end() ? 1 : std::max(1, std::atoi(it->second.c_str()));
  }

  Task<void> ack() override {
    settled();
    consumer_.enqueue_delete(message_.receipt_handle);
    co_return;
  }

  Task<void> requeue() override {
    // Left in the queue: visible again after its visibility timeout (upstream's outcome).
    settled();
    co_return;
  }

  Task<void> retry_later(std::chrono::milliseconds delay) override {
    settled();
    consumer_.enqueue_visibility(message_.receipt_handle, ceil_seconds(delay));
    co_return;
  }

  Task<void> dead_letter(const DeadLetter& letter) override {
    settled();
    co_await consumer_.dead_letter(message_, letter);
  }

 private:
  void settled() { running_.erase(message_.receipt_handle); }

  Consumer& consumer_;
  const ReceivedMessage& message_;
  std::set<std::string>& running_;
};

Consumer::Consumer(asio::any_io_executor executor, AwsResources& resources,
                   std::shared_ptr<const MessageDispatcher> dispatcher, ConsumerConfig config,
                   Resubscribe resubscribe, std::optional<ConsumerCounters> counters)
    : executor_(executor),
      resources_(resources),
      dispatcher_(std::move(dispatcher)),
      config_(std::move(config)),
      resubscribe_(std::move(resubscribe)),
      counters_(counters),
      logger_("tomodachi.awssnssqs",
              LogFields{{"handler", boost::json::string(config_.handler_name)},
                        {"queue_name", boost::json::string(config_.queue.queue_name)}}),
      health_(config_.queue.queue_name, config_.receive_max_age) {
  if (config_.max_messages < 1 || config_.max_messages > 10) config_.max_messages = 10;
  if (fifo()) {
    // One message per receive, and its group stays locked until it is deleted: settle at once.
    config_.max_messages = 1;
    config_.delete_delay = std::chrono::milliseconds(0);
  }
}

bool Consumer::fifo() const noexcept {
  return config_.queue.fifo || config_.queue.queue_url.ends_with(".fifo");
}

ReceiveMessageRequest Consumer::receive_request() const {
  ReceiveMessageRequest request;
  request.queue_url = config_.queue.queue_url;
  request.wait_time_seconds = config_.wait_time_seconds;
  request.max_number_of_messages = config_.max_messages;
  return request;
}

void Consumer::request_stop() { stop_.set(); }

Task<bool> Consumer::sleep(Clock::duration duration) {
  co_return co_await core::sleep_with(config_.sleep, duration, stop_);
}

Task<void> Consumer::run() {
  auto self = shared_from_this();
  while (!stop_.is_set()) {
    std::exception_ptr fatal;
    try {
      co_await receive_loop();
    } catch (...) {
      fatal = std::current_exception();
    }
    if (!fatal) break;
    logger_.error("Unhandled error in the sqs receiver loop (" + describe(fatal) + ")");
    if (!co_await sleep(std::chrono::seconds(10))) break;
    logger_.warning("Resuming message receiving after trying to recover from fatal error");
  }
  health_.stopped();
}

Task<void> Consumer::receive_loop() {
  auto self = shared_from_this();
  bool failing = false;
  int failures = 0;
  while (!stop_.is_set()) {
    std::vector<ReceivedMessage> messages;
    std::exception_ptr failure;
    bool stopped = false;
    const auto started = Clock::now();
    try {
      // (Asio 1.81's `||` hangs when the branch that completes first throws: the receive
      // reports its failure as a value.)
      health_.polling();
      auto receive = receive_batch();
      auto stop = stop_.wait();
      auto result = co_await (std::move(receive) || std::move(stop));
      if (result.index() == 1) {
        stopped = true;
      } else {
        auto batch = std::get<0>(std::move(result));
        messages = std::move(batch.messages);
        failure = batch.failure;
      }
    } catch (...) {
      failure = std::current_exception();
    }
    if (stopped || stop_.is_set()) break;
    if (failure) {
      ++failures;
      health_.failed("receive failed: " + describe(failure));
      bool non_existent_queue = false;
      bool disconnected = false;
      try {
        std::rethrow_exception(failure);
      } catch (const AwsApiError& error) {
        non_existent_queue = error.non_existent_queue();
      } catch (const AwsHttpError& error) {
        disconnected = error.kind() == AwsHttpError::Kind::disconnected;
      } catch (...) {
      }
      if (!failing) {
        logger_.warning("Unable to receive message from queue [sqs] on AWS (" + describe(failure) +
                        ") - reconnecting");
        failing = true;
      }
      if (non_existent_queue) {
        // The queue is gone (deleted, or the endpoint lost its state): set everything up again.
        health_.failed("the queue does not exist - setting up the subscription again");
        std::exception_ptr setup_failure;
        try {
          config_.queue = co_await resubscribe_();
          dead_letter_queues_.clear();  // the endpoint may have lost them too
          logger_.info("Recreated the SNS/SQS subscription of the missing queue [sqs]",
                       {{"queue_url", boost::json::string(config_.queue.queue_url)}});
          continue;
        } catch (...) {
          setup_failure = std::current_exception();
        }
        logger_.warning("Unable to recreate the SNS/SQS subscription [sqs] (" +
                        describe(setup_failure) + ")");
        health_.failed("the queue does not exist; setting it up again failed: " +
                       describe(setup_failure));
      }
      if (disconnected && failures == 1)
        continue;  // a dropped keep-alive connection: retry at once
      const auto backoff = std::chrono::seconds(std::min(failures, 10));
      if (!co_await sleep(backoff)) break;
      continue;
    }
    if (failing) {
      logger_.info("Reconnected - receiving messages");
      failing = false;
    }
    failures = 0;
    health_.received();
    if (messages.empty()) continue;
    const auto count = static_cast<int>(messages.size());
    const bool waiting = Clock::now() - started < config_.batch_window;
    co_await process_batch(std::move(messages));
    // FIFO: the group is locked until the message is deleted; settle before receiving again.
    if (fifo()) co_await settling_.wait();
    // Messages were already waiting and the batch was not full: let the next one fill up.
    if (count < config_.max_messages && waiting && config_.max_messages > 1) {
      if (!co_await sleep(config_.batch_window)) break;
    }
  }
}

Task<Consumer::Batch> Consumer::receive_batch() {
  Batch batch;
  try {
    auto request = receive_request();
    // Not passing readiness (start, or after a failure): a short poll proves the queue works.
    if (health_.short_poll()) request.wait_time_seconds = std::min(request.wait_time_seconds, 1);
    batch.messages = co_await resources_.api().receive_message(request);
  } catch (...) {
    batch.failure = std::current_exception();
  }
  co_return batch;
}

Task<void> Consumer::process_batch(std::vector<ReceivedMessage> messages) {
  auto self = shared_from_this();
  auto finished = std::make_shared<core::Event>();
  auto receipts = std::make_shared<std::vector<std::string>>();
  core::Gate batch;
  for (auto& message : messages) {
    receipts->push_back(message.receipt_handle);
    batch.enter();
    handlers_.enter();
    asio::co_spawn(telemetry::traced_executor(executor_), process_message(std::move(message)),
                   [self, &batch](std::exception_ptr) {
                     self->handlers_.leave();
                     batch.leave();
                   });
  }
  if (config_.extend_visibility) {
    asio::co_spawn(executor_, extend_visibility(receipts, finished), asio::detached);
  }
  co_await batch.wait();
  finished->set();
}

Task<void> Consumer::process_message(ReceivedMessage message) {
  auto self = shared_from_this();
  if (counters_) {
    counters_->current.add();
    counters_->total.add();
  }
  auto& running = running_;
  running.insert(message.receipt_handle);
  auto converted = convert_message(message, config_.queue.queue_url, config_.topic_prefix);
  std::exception_ptr failure;
  try {
    if (converted.kind == ConvertedMessage::Kind::deliver) {
      SqsDelivery delivery(*this, message, running);
      co_await dispatcher_->dispatch(std::move(converted.incoming), delivery);
    } else {
      co_await settle_unprocessable(message, converted);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  running.erase(message.receipt_handle);
  if (failure) {
    // Settling failed (e.g. the dead-letter queue cannot be reached): the message stays
    // in the queue and is delivered again after its visibility timeout.
    logger_.error(
        "Unable to settle message [sqs] on AWS (" + describe(failure) + ") - it stays in the queue",
        {{"sqs_message_id", boost::json::string(message.message_id)}});
  }
  if (counters_) counters_->current.sub();
}

Task<void> Consumer::settle_unprocessable(const ReceivedMessage& message,
                                          const ConvertedMessage& converted) {
  using Kind = ConvertedMessage::Kind;
  if (message.receipt_handle.empty()) {
    logger_.warning("Unable to delete message [sqs] on AWS (missing receipt handle)");
    co_return;
  }
  if (converted.kind == Kind::drain) {
    enqueue_delete(message.receipt_handle);
    co_return;
  }
  const bool compatible = dispatcher_->config().delivery.mode == DeliveryPolicy::Mode::tomodachi;
  if (compatible) {
    // Upstream: a non-JSON body is deleted with a warning, a body without payload silently.
    if (converted.kind == Kind::unsupported_body) {
      logger_.warning("unsupported format of message body",
                      {{"message_body", boost::json::string(message.body.substr(0, 1000))}});
    } else if (converted.kind == Kind::bad_attributes) {
      logger_.error("undecodable message attributes: dropping the message",
                    {{"error", boost::json::string(converted.problem)}});
    }
    enqueue_delete(message.receipt_handle);
    co_return;
  }
  const std::string type = converted.kind == Kind::unsupported_body  ? "UnsupportedMessageBody"
                           : converted.kind == Kind::missing_payload ? "MissingMessagePayload"
                                                                     : "AttributeDecodeError";
  logger_.error(converted.problem + ": dead-lettering the message",
                {{"sqs_message_id", boost::json::string(message.message_id)},
                 {"message_body", boost::json::string(message.body.substr(0, 1000))}});
  SqsDelivery delivery(*this, message, running_);
  const DeadLetter letter{converted.problem, type, delivery.attempt(), config_.handler_name,
                          dispatcher_->config().delivery.dead_letter_queue};
  co_await dead_letter(message, letter);
}

std::string Consumer::dead_letter_queue_name(const std::optional<std::string>& name) const {
  if (!config_.queue.dead_letter_target_arn.empty())
    return parse_sqs_arn(config_.queue.dead_letter_target_arn).name;
  return name ? config_.queue_name_prefix + *name
              : sqs_dead_letter_queue_name(config_.queue.queue_name);
}

Task<QueueRef> Consumer::dead_letter_queue(const std::optional<std::string>& name) {
  const auto queue_name = dead_letter_queue_name(name);
  if (const auto it = dead_letter_queues_.find(queue_name); it != dead_letter_queues_.end())
    co_return it->second;
  QueueRef queue;
  if (const auto& target = config_.queue.dead_letter_target_arn; !target.empty()) {
    // The queue's RedrivePolicy target: it exists (checked or made at the setup).
    const auto arn = parse_sqs_arn(target);
    std::optional<std::string> owner;
    if (!arn.own_account()) owner = arn.account;
    auto url = co_await resources_.api().get_queue_url(arn.name, std::move(owner));
    queue = QueueRef{arn.name, std::move(url), target};
  } else {
    queue = co_await resources_.ensure_queue(queue_name, config_.queue.fifo, true);
  }
  dead_letter_queues_[queue_name] = queue;
  co_return queue;
}

Task<void> Consumer::dead_letter(const ReceivedMessage& message, const DeadLetter& letter) {
  // Sent by the client, also with an SQS RedrivePolicy (to its target): SQS would only move
  // the message after maxReceiveCount receives, ignoring max_attempts and the backoff.
  SendMessageRequest request{"", message.body, {}, std::nullopt, std::nullopt, std::nullopt};
  WireAttributes headers{
      {std::string(dead_letter_header::error),
       {"String", letter.error.empty() ? "-" : letter.error.substr(0, 4096), std::nullopt}},
      {std::string(dead_letter_header::error_type),
       {"String", letter.error_type.empty() ? "-" : letter.error_type, std::nullopt}},
      {std::string(dead_letter_header::attempts),
       {"Number", std::to_string(letter.attempts), std::nullopt}},
      {std::string(dead_letter_header::source_queue),
       {"String", config_.queue.queue_name, std::nullopt}},
      {std::string(dead_letter_header::handler), {"String", letter.handler, std::nullopt}}};
  // SQS allows 10 attributes per message: the original ones first, as many as fit.
  auto original = passthrough_attributes(message);
  const std::size_t room = 10 - headers.size();
  if (original.size() > room) {
    logger_.warning("dead-lettered message keeps only " + std::to_string(room) + " of its " +
                    std::to_string(original.size()) + " message attributes");
    original.resize(room);
  }
  request.message_attributes = std::move(original);
  for (auto& header : headers) request.message_attributes.push_back(std::move(header));
  if (config_.queue.fifo) {
    const auto group = message.attributes.find("MessageGroupId");
    request.message_group_id =
        group != message.attributes.end() ? group->second : std::string("dead-letter");
    request.message_deduplication_id = message.message_id;
  }
  auto queue = co_await dead_letter_queue(letter.queue);
  request.queue_url = queue.url;
  if (!co_await send_dead_letter(request)) {
    // The cached queue is gone (deleted, or the endpoint lost its state): find or create it again.
    logger_.warning("dead-letter queue [sqs] no longer exists - looking it up again",
                    {{"dead_letter_queue", boost::json::string(queue.name)}});
    dead_letter_queues_.erase(dead_letter_queue_name(letter.queue));
    queue = co_await dead_letter_queue(letter.queue);
    request.queue_url = queue.url;
    auto send = resources_.api().send_message(request);
    co_await std::move(send);
  }
  logger_.warning("message dead-lettered",
                  {{"dead_letter_queue", boost::json::string(queue.name)},
                   {"sqs_message_id", boost::json::string(message.message_id)}});
  enqueue_delete(message.receipt_handle);
}

Task<bool> Consumer::send_dead_letter(const SendMessageRequest& request) {
  try {
    co_await resources_.api().send_message(request);
    co_return true;
  } catch (const AwsApiError& error) {
    if (!error.non_existent_queue()) throw;
  }
  co_return false;
}

Task<void> Consumer::extend_visibility(std::shared_ptr<std::vector<std::string>> receipts,
                                       std::shared_ptr<core::Event> finished) {
  auto self = shared_from_this();
  const auto timeout = config_.queue.visibility_timeout;
  if (!timeout || *timeout < 2) co_return;
  const auto period = std::chrono::milliseconds(*timeout * 1000 / 2);
  while (!co_await finished->wait_for(period)) {
    const auto& running = running_;
    std::vector<VisibilityChange> changes;
    for (const auto& receipt : *receipts) {
      if (running.contains(receipt)) {
        changes.push_back({"v" + std::to_string(++visibility_ids_), receipt, *timeout});
      }
    }
    if (changes.empty()) co_return;
    logger_.info(
        "extending the visibility of messages whose handlers run long",
        {{"count", static_cast<std::int64_t>(changes.size())}, {"visibility_timeout", *timeout}});
    for (std::size_t i = 0; i < changes.size(); i += 10) {
      std::vector<VisibilityChange> chunk(
          changes.begin() + static_cast<std::ptrdiff_t>(i),
          changes.begin() + static_cast<std::ptrdiff_t>(std::min(i + 10, changes.size())));
      co_await send_visibility(std::move(chunk));
    }
  }
}

// ---- batched deletes and visibility changes --------------------------------------------

void Consumer::enqueue_delete(const std::string& receipt_handle) {
  if (receipt_handle.empty()) {
    logger_.warning("Unable to delete message [sqs] on AWS (missing receipt handle)");
    return;
  }
  pending_deletes_.push_back(receipt_handle);
  schedule_flush();
}

void Consumer::enqueue_visibility(const std::string& receipt_handle, int seconds) {
  if (receipt_handle.empty()) {
    logger_.warning("Unable to change message visibility [sqs] on AWS (missing receipt handle)");
    return;
  }
  for (auto& change : pending_visibility_) {
    if (change.receipt_handle == receipt_handle) {
      change.visibility_timeout = seconds;
      return;
    }
  }
  pending_visibility_.push_back({"v" + std::to_string(++visibility_ids_), receipt_handle, seconds});
  schedule_flush();
}

void Consumer::schedule_flush() {
  auto self = shared_from_this();
  // Full batches go out at once.
  while (pending_deletes_.size() >= 10) {
    std::vector<std::string> chunk(pending_deletes_.begin(), pending_deletes_.begin() + 10);
    pending_deletes_.erase(pending_deletes_.begin(), pending_deletes_.begin() + 10);
    settling_.enter();
    asio::co_spawn(executor_, send_deletes(std::move(chunk)),
                   [self](std::exception_ptr) { self->settling_.leave(); });
  }
  while (pending_visibility_.size() >= 10) {
    std::vector<VisibilityChange> chunk(pending_visibility_.begin(),
                                        pending_visibility_.begin() + 10);
    pending_visibility_.erase(pending_visibility_.begin(), pending_visibility_.begin() + 10);
    settling_.enter();
    asio::co_spawn(executor_, send_visibility(std::move(chunk)),
                   [self](std::exception_ptr) { self->settling_.leave(); });
  }
  if (flush_scheduled_ || (pending_deletes_.empty() && pending_visibility_.empty())) return;
  flush_scheduled_ = true;
  settling_.enter();
  asio::co_spawn(executor_, delayed_flush(),
                 [self](std::exception_ptr) { self->settling_.leave(); });
}

Task<void> Consumer::delayed_flush() {
  auto self = shared_from_this();
  co_await core::sleep_for(config_.delete_delay, flush_now_);
  flush_now_.clear();
  flush_scheduled_ = false;
  co_await flush();
}

Task<void> Consumer::flush() {
  auto self = shared_from_this();
  while (!pending_deletes_.empty() || !pending_visibility_.empty()) {
    const auto take = [](auto& pending) {
      const auto n = std::min<std::size_t>(10, pending.size());
      std::decay_t<decltype(pending)> chunk(pending.begin(),
                                            pending.begin() + static_cast<std::ptrdiff_t>(n));
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
      return chunk;
    };
    if (!pending_visibility_.empty()) {
      auto chunk = take(pending_visibility_);
      co_await send_visibility(std::move(chunk));
    }
    if (!pending_deletes_.empty()) {
      auto chunk = take(pending_deletes_);
      co_await send_deletes(std::move(chunk));
    }
  }
}

Task<void> Consumer::send_deletes(std::vector<std::string> receipt_handles) {
  auto self = shared_from_this();
  if (receipt_handles.empty()) co_return;
  const auto url = config_.queue.queue_url;
  for (int attempt = 1; attempt <= 4; ++attempt) {
    std::exception_ptr failure;
    bool transient = false;
    try {
      BatchResult result;
      if (receipt_handles.size() == 1) {
        co_await resources_.api().delete_message(url, receipt_handles.front());
      } else {
        result = co_await resources_.api().delete_message_batch(url, receipt_handles);
      }
      for (const auto& failed : result.failed) {
        logger_.warning("Unable to delete message [sqs] on AWS (" + failed.code + ": " +
                        failed.message + ")");
      }
      co_return;
    } catch (const AwsHttpError&) {
      transient = true;
      failure = std::current_exception();
    } catch (...) {
      failure = std::current_exception();
    }
    if (!transient || attempt == 4) {
      logger_.warning("Unable to delete message [sqs] on AWS (" + describe(failure) + ")");
      co_return;
    }
  }
}

Task<void> Consumer::send_visibility(std::vector<VisibilityChange> changes) {
  auto self = shared_from_this();
  if (changes.empty()) co_return;
  std::exception_ptr failure;
  try {
    const auto result =
        co_await resources_.api().change_message_visibility_batch(config_.queue.queue_url, changes);
    for (const auto& failed : result.failed) {
      logger_.warning("Unable to change message visibility [sqs] on AWS (" + failed.code + ": " +
                      failed.message + ")");
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure)
    logger_.warning("Unable to change message visibility [sqs] on AWS (" + describe(failure) + ")");
}

Task<bool> Consumer::drain(Deadline deadline) {
  auto self = shared_from_this();
  logger_.info("draining sqs receiver loop");
  bool done =
      co_await handlers_.wait_until(std::min(deadline, Clock::now() + std::chrono::seconds(2)));
  if (!done) {
    logger_.warning("awaiting running tasks", {{"task_count", handlers_.count()}});
    done = co_await handlers_.wait_until(deadline);
  }
  if (!done) {
    logger_.warning(
        "stop deadline reached with running handlers: their messages return to the queue",
        {{"task_count", handlers_.count()}});
  }
  // Send what is pending now, within the deadline (a chunk may take several attempts).
  if (flush_scheduled_) flush_now_.set();
  settling_.enter();
  asio::co_spawn(executor_, flush(), [self](std::exception_ptr) { self->settling_.leave(); });
  done = co_await settling_.wait_until(deadline) && done;
  running_.clear();
  co_return done;
}

}  // namespace tomodachi::aws
