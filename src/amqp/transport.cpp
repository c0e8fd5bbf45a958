// The AMQP transport: subscriptions of one service (declare, bind, consume as upstream),
// deliveries through the messaging core, the broker side of the delivery policies
// (ack, requeue, retry by republishing with an attempt header, client-side dead-lettering),
// graceful stop, and `amqp_publish`.
#include "amqp/connection.hpp"
#include "amqp/loop_state.hpp"
#include "amqp/naming.hpp"
#include "amqp/preparse.hpp"
#include "amqp/telemetry.hpp"
#include "amqp/topology.hpp"
#include "core/async.hpp"
#include "telemetry/handler_span.hpp"

#include <tomodachi/amqp.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/transport/messaging.hpp>
#include <tomodachi/transport/transport.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>

#include <memory>
#include <vector>

namespace tomodachi {
namespace amqp_impl {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

/// How long a retry or dead-letter publish may take before the message goes back to the queue.
constexpr std::chrono::seconds settle_publish_timeout{30};

/// At most this many retries of one transport instance wait out their backoff at a time
/// (each holds its unacked delivery and a coroutine). A retry beyond it is published at
/// once, without the backoff (its attempt is still counted), and a warning is logged.
constexpr std::size_t max_delayed_retries = 1000;

const Logger& log() {
  static const Logger logger("tomodachi.amqp");
  return logger;
}

boost::json::object properties_json(const AmqpProperties& p) {
  boost::json::object out;
  if (p.content_type) out["content_type"] = *p.content_type;
  if (p.content_encoding) out["content_encoding"] = *p.content_encoding;
  if (p.headers) out["headers"] = *p.headers;
  if (p.delivery_mode) out["delivery_mode"] = *p.delivery_mode;
  if (p.priority) out["priority"] = *p.priority;
  if (p.correlation_id) out["correlation_id"] = *p.correlation_id;
  if (p.reply_to) out["reply_to"] = *p.reply_to;
  if (p.expiration) out["expiration"] = *p.expiration;
  if (p.message_id) out["message_id"] = *p.message_id;
  if (p.timestamp) out["timestamp"] = *p.timestamp;
  if (p.type) out["type"] = *p.type;
  if (p.user_id) out["user_id"] = *p.user_id;
  if (p.app_id) out["app_id"] = *p.app_id;
  return out;
}

// What the handlers of one transport instance share with their coroutines (which may
// outlive the instance when the loop is torn down with handlers still suspended).
struct Shared {
  core::Event stopping;             // set when the process starts stopping; cuts backoffs short
  core::Gate in_flight;             // the handlers running
  core::Event consumers_cancelled;  // the broker confirmed basic.cancel (or nothing to cancel)
  std::size_t retry_waits = 0;      // retries waiting out their backoff; bounded
};

struct Subscription {
  const AmqpHandlerSpec* spec = nullptr;
  std::shared_ptr<const Envelope> parse_off_loop;  // JsonBase: parsed on the I/O thread
  std::unique_ptr<MessageDispatcher> dispatcher;
  SubscriptionSpec plan;
  std::string queue;
  std::string exchange;        // what the binding uses
  std::string exchange_value;  // offered to handlers as `exchange_name`
  std::string queue_name_prefix;
  Connection* consumer = nullptr;
  LoopState* state = nullptr;
  const Options::Amqp* options = nullptr;
  std::shared_ptr<Shared> shared;
};

Task<void> publish_confirmed(LoopState& state, const Options::Amqp& options,
                             OutgoingMessage message, Clock::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  Connection& publisher = state.publisher_connection(options, executor);
  if (!publisher.has_connected()) co_await publisher.connect(deadline);
  co_await publisher.publish(std::move(message), deadline);
}

// One received message as the messaging core settles it.
class AmqpDelivery final : public tomodachi::Delivery {
 public:
  AmqpDelivery(std::shared_ptr<Subscription> subscription, amqp_impl::Delivery delivery)
      : subscription_(std::move(subscription)), delivery_(std::move(delivery)) {}

  bool settled() const noexcept { return settled_; }
  const std::string& body() const noexcept { return delivery_.body; }

  int attempt() const override {
    if (!delivery_.properties.headers) return 1;
    const auto* value = delivery_.properties.headers->if_contains(attempt_header);
    if (!value) return 1;
    if (value->is_int64()) return static_cast<int>(std::max<std::int64_t>(1, value->get_int64()));
    if (value->is_uint64())
      return static_cast<int>(std::max<std::uint64_t>(1, value->get_uint64()));
    if (value->is_string()) {
      try {
        return std::max(1, std::stoi(std::string(value->get_string())));
      } catch (...) {
      }
    }
    return 1;
  }

  // After the transport released its connection (a handler outlived the grace period) the
  // broker has requeued the message already: nothing to send.
  Task<void> ack() override {
    settled_ = true;
    if (auto* consumer = subscription_->consumer)
      consumer->ack(delivery_.epoch, delivery_.delivery_tag);
    co_return;
  }

  Task<void> requeue() override {
    settled_ = true;
    if (auto* consumer = subscription_->consumer)
      consumer->nack(delivery_.epoch, delivery_.delivery_tag, true);
    co_return;
  }

  Task<void> retry_later(std::chrono::milliseconds delay) override {
    auto shared = subscription_->shared;
    if (!shared->stopping.is_set() && shared->retry_waits >= max_delayed_retries) {
      log().warning("too many delayed retries [amqp] - this one is published without its backoff",
                    {{"limit", static_cast<std::int64_t>(max_delayed_retries)},
                     {"queue", boost::json::string(subscription_->queue)}});
    } else if (!shared->stopping.is_set()) {
      ++shared->retry_waits;
      co_await core::sleep_for(delay, shared->stopping);  // a stop sends it out now
      --shared->retry_waits;
    }
    // Republish the copy straight to the queue (default exchange) with the next attempt
    // number, and only then settle this one.
    boost::json::object added{{attempt_header, attempt() + 1}};
    OutgoingMessage copy = copy_with_headers(subscription_->queue, std::move(added));
    co_await republish_then_ack(std::move(copy), "retry");
  }

  Task<void> dead_letter(const DeadLetter& letter) override {
    const std::string queue = letter.queue ? subscription_->queue_name_prefix + *letter.queue
                                           : default_dead_letter_queue(subscription_->queue);
    std::exception_ptr error;
    try {
      auto& declared = subscription_->state->declared_dead_letter_queues();
      if (!declared.count(queue)) {
        co_await ensure_queue_exists(queue);
        declared.insert(queue);
      }
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      log().error("cannot declare the dead-letter queue [amqp] \"" + queue +
                      "\" - the message goes back to its queue",
                  {{"error", boost::json::string(describe_exception(error))}});
      co_await requeue();
      co_return;
    }
    boost::json::object added;
    added[dead_letter_header::error] = letter.error;
    added[dead_letter_header::error_type] = letter.error_type;
    added[dead_letter_header::attempts] = letter.attempts;
    added[dead_letter_header::source_queue] = subscription_->queue;
    added[dead_letter_header::handler] = letter.handler;
    OutgoingMessage dead = copy_with_headers(queue, std::move(added));
    dead.properties.delivery_mode = 2;  // the dead-letter queue is durable: keep the message
    const bool published = co_await republish_then_ack(std::move(dead), "dead-letter");
    // Returned (the queue went away) or not confirmed: declare it again next time.
    if (!published) subscription_->state->declared_dead_letter_queues().erase(queue);
  }

 private:
  // A queue the user declared already (maybe with arguments of their own) is used as it is;
  // otherwise it is created durable without arguments.
  Task<void> ensure_queue_exists(const std::string& queue) {
    if (!subscription_->consumer) throw AmqpConnectionException("the AMQP transport stopped");
    QueueDeclareStep check = dead_letter_queue_step(queue);
    check.passive = true;
    bool missing = false;
    try {
      co_await subscription_->consumer->execute(check);
    } catch (const AmqpChannelClosed& error) {
      if (error.reply_code() != 404) throw;
      missing = true;
    }
    if (!missing) co_return;
    if (!subscription_->consumer) throw AmqpConnectionException("the AMQP transport stopped");
    co_await subscription_->consumer->execute(dead_letter_queue_step(queue));
  }

  // A copy of this message for `queue` (through the default exchange): its properties, its
  // headers exactly as received (field types included) plus `added`. Mandatory: when no
  // queue takes it, the publish fails instead of the message vanishing.
  OutgoingMessage copy_with_headers(const std::string& queue, boost::json::object added) const {
    AmqpProperties properties = delivery_.properties;
    if (delivery_.raw_headers) {
      properties.headers = std::move(added);  // added to the original table, replacing keys
    } else {
      if (!properties.headers) properties.headers.emplace();
      for (auto& [key, value] : added) (*properties.headers)[key] = std::move(value);
    }
    OutgoingMessage copy{"", queue, delivery_.body, std::move(properties)};
    copy.mandatory = true;
    copy.original_headers = delivery_.raw_headers;
    return copy;
  }

  // The copy is confirmed: ack this one. It is not (returned by the broker because no
  // queue took it, nacked, or no confirm in time): log and requeue this one, so the
  // message is never acked away. Returns whether the copy went out.
  Task<bool> republish_then_ack(OutgoingMessage message, const char* what) {
    const std::string target = message.routing_key;
    std::exception_ptr error;
    try {
      co_await publish_confirmed(*subscription_->state, *subscription_->options, std::move(message),
                                 Clock::now() + settle_publish_timeout);
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      log().error(std::string("cannot ") + what + " the message [amqp] to queue \"" + target +
                      "\" - it goes back to its queue",
                  {{"error", boost::json::string(describe_exception(error))}});
      co_await requeue();
      co_return false;
    }
    co_await ack();
    co_return true;
  }

  std::shared_ptr<Subscription> subscription_;
  amqp_impl::Delivery delivery_;
  bool settled_ = false;
};

Task<void> handle_delivery(std::shared_ptr<Subscription> subscription,
                           amqp_impl::Delivery delivery) {
  auto shared = subscription->shared;
  IncomingMessage incoming;
  incoming.payload = delivery.body;
  incoming.topic = subscription->spec->pattern;
  incoming.transport_values = boost::json::object{
      {"routing_key", subscription->spec->pattern},
      {"exchange_name", subscription->exchange_value},
      {"properties", properties_json(delivery.properties)},
  };
  if (const auto preparsed = std::static_pointer_cast<Preparsed>(std::move(delivery.preparsed))) {
    incoming.parsed = std::move(preparsed->parsed);
    incoming.parse_error = preparsed->error;
  }
  AmqpDelivery settle(subscription, std::move(delivery));
  std::exception_ptr error;
  try {
    co_await subscription->dispatcher->dispatch(std::move(incoming), settle);
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    log().error("settling an AMQP message failed - it goes back to its queue",
                {{"error", boost::json::string(describe_exception(error))}});
    if (!settle.settled()) co_await settle.requeue();
  }
  subscription->state->current_tasks().sub();
  shared->in_flight.leave();
}

class AmqpTransport final : public TransportInstance {
 public:
  AmqpTransport(Service& service, std::vector<const AmqpHandlerSpec*> specs)
      : service_(service), specs_(std::move(specs)) {}

  ~AmqpTransport() override {
    if (state_) {
      for (const auto& subscription : subscriptions_)
        state_->remove_consumer(subscription->plan.consumer_id);
    }
  }

  Task<void> setup() override {
    executor_ = co_await asio::this_coro::executor;
    state_ = &LoopState::of(executor_);
    shared_ = std::make_shared<Shared>();
    settings_ = TopologySettings::from(service_.options.amqp);
    for (const AmqpHandlerSpec* spec : specs_) subscriptions_.push_back(make_subscription(spec));

    consumer_ = &state_->consumer_connection(service_.options.amqp, executor_);
    state_->retain_consumer_connection();
    retained_ = true;
    for (auto& subscription : subscriptions_) subscription->consumer = consumer_;
    co_await consumer_->connect();
    if (state_->claim_qos()) {
      for (const auto& step : plan_qos(settings_)) co_await consumer_->execute(step);
    }
  }

  Task<void> start() override {
    for (auto& subscription : subscriptions_) {
      std::weak_ptr<Subscription> weak = subscription;
      subscription->plan.consumer_id =
          state_->add_consumer([this, weak](amqp_impl::Delivery&& delivery) {
            if (auto s = weak.lock()) receive(std::move(s), std::move(delivery));
          });
      if (subscription->parse_off_loop)
        state_->parse_off_loop(subscription->plan.consumer_id, subscription->parse_off_loop);
      for (const auto& step : plan_subscription(subscription->plan, settings_, service_.uuid())) {
        co_await execute(step);
      }
    }
  }

  // The moment the process starts stopping: no new deliveries (consumers cancelled at the
  // broker, late ones go back to the queue), retries waiting out a backoff go out now.
  void stop_requested() noexcept override {
    if (!shared_ || shared_->stopping.is_set()) return;
    shared_->stopping.set();
    std::vector<std::uint32_t> consumer_ids;
    for (const auto& subscription : subscriptions_) {
      if (subscription->plan.consumer_id) consumer_ids.push_back(subscription->plan.consumer_id);
    }
    if (!consumer_ || consumer_ids.empty()) {
      shared_->consumers_cancelled.set();
      return;
    }
    // Also while reconnecting: the cancel removes the consumers from what the connection
    // replays and drops consume steps still queued, so nothing starts consuming now.
    consumer_->stop_requested();
    auto cancel = [](Connection* consumer, std::vector<std::uint32_t> ids,
                     std::shared_ptr<Shared> shared) -> Task<void> {
      std::exception_ptr error;
      try {
        co_await consumer->cancel(std::move(ids));
      } catch (...) {
        error = std::current_exception();
      }
      if (error)
        log().warning("cancelling amqp consumers failed",
                      {{"error", boost::json::string(describe_exception(error))}});
      shared->consumers_cancelled.set();
    };
    asio::co_spawn(executor_, cancel(consumer_, std::move(consumer_ids), shared_), asio::detached);
  }

  Task<void> stop(Deadline deadline) override {
    if (!shared_) co_return;
    stop_requested();
    co_await shared_->consumers_cancelled.wait_until(deadline);
    for (const auto& subscription : subscriptions_) {
      if (subscription->plan.consumer_id) state_->remove_consumer(subscription->plan.consumer_id);
    }

    if (shared_->in_flight.count() > 0) {
      log().info("draining amqp handlers",
                 {{"task_count", static_cast<std::int64_t>(shared_->in_flight.count())}});
      co_await shared_->in_flight.wait_until(deadline);
      if (shared_->in_flight.count() > 0) {
        log().warning(
            "amqp handlers still running at the end of the grace period - their messages will be "
            "redelivered",
            {{"task_count", static_cast<std::int64_t>(shared_->in_flight.count())}});
      }
    }
    if (retained_) {
      retained_ = false;
      for (auto& subscription : subscriptions_) subscription->consumer = nullptr;
      co_await state_->release_consumer_connection(deadline);
    }
  }

 private:
  std::shared_ptr<Subscription> make_subscription(const AmqpHandlerSpec* spec) {
    auto subscription = std::make_shared<Subscription>();
    subscription->spec = spec;
    SubscriptionConfig config = SubscriptionConfig::from_spec(service_, *spec, "amqp");
    if (preparsable(config.envelope)) subscription->parse_off_loop = config.envelope;
    config.instrument = consumer_instrument(spec->pattern, spec->exchange_name.empty()
                                                               ? service_.options.amqp.exchange_name
                                                               : spec->exchange_name);
    subscription->dispatcher = std::make_unique<MessageDispatcher>(std::move(config));
    subscription->plan.routing_key = spec->pattern;
    subscription->plan.handler_name = spec->name;
    subscription->plan.competing = spec->competing;
    subscription->plan.queue_name = spec->queue_name;
    if (!spec->exchange_name.empty()) subscription->plan.exchange_name = spec->exchange_name;
    subscription->queue = queue_name_of(subscription->plan, settings_, service_.uuid());
    subscription->exchange = exchange_of(subscription->plan, settings_);
    subscription->exchange_value =
        spec->exchange_name.empty() ? service_.options.amqp.exchange_name : spec->exchange_name;
    subscription->queue_name_prefix = settings_.queue_name_prefix;
    subscription->state = state_;
    subscription->options = &service_.options.amqp;
    subscription->shared = shared_;
    return subscription;
  }

  void receive(std::shared_ptr<Subscription> subscription, amqp_impl::Delivery&& delivery) {
    if (shared_->stopping.is_set()) {
      consumer_->nack(delivery.epoch, delivery.delivery_tag, true);
      return;
    }
    shared_->in_flight.enter();
    state_->current_tasks().add();
    state_->total_tasks().add();
    // Traced, each delivery's chain has its own span slot (no second spawn for the span).
    asio::co_spawn(telemetry::traced_executor(executor_),
                   handle_delivery(std::move(subscription), std::move(delivery)), asio::detached);
  }

  // One declaration step with upstream's warnings for the failures it names.
  Task<void> execute(const TopologyStep& step) {
    std::exception_ptr error;
    try {
      co_await consumer_->execute(step);
    } catch (...) {
      error = std::current_exception();
    }
    if (!error) co_return;
    try {
      std::rethrow_exception(error);
    } catch (const AmqpChannelClosed& e) {
      if (const auto* exchange = std::get_if<ExchangeDeclareStep>(&step)) {
        const std::string name = exchange->exchange;
        if (e.reply_code() == 403 && name.rfind("amq.", 0) == 0) {
          log().warning("Unable to declare exchange [amqp] \"" + name +
                        "\", starts with reserved \"amq.\" (" + e.reply_text() + ")");
        } else if (e.reply_code() == 406 || e.reply_code() == 507) {
          log().warning("Unable to change type of existing exchange [amqp] \"" + name + "\" (" +
                        e.reply_text() + ")");
        } else {
          log().warning("Unable to declare exchange [amqp] \"" + name + "\" (" + e.reply_text() +
                        ")");
        }
      } else if (const auto* queue = std::get_if<QueueDeclareStep>(&step)) {
        log().warning("Unable to declare queue [amqp] \"" + queue->queue + "\" (" + e.reply_text() +
                      ")");
      }
    } catch (const AmqpTooManyConsumersException&) {
      if (const auto* queue = std::get_if<QueueDeclareStep>(&step)) {
        log().warning("Max consumers (1) for queue [amqp] \"" + queue->queue +
                      "\" has been reached");
      }
    } catch (const AmqpExclusiveQueueLockedException& e) {
      log().warning(std::string("Unable to declare queue [amqp]: locked by another connection's "
                                "exclusive consumer (") +
                    e.what() + ")");
    } catch (...) {
    }
    std::rethrow_exception(error);
  }

  Service& service_;
  std::vector<const AmqpHandlerSpec*> specs_;
  asio::any_io_executor executor_;
  LoopState* state_ = nullptr;
  Connection* consumer_ = nullptr;
  bool retained_ = false;
  TopologySettings settings_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
};

const bool registered = [] {
  register_transport<AmqpHandlerSpec>(
      [](Service& service, std::vector<const AmqpHandlerSpec*> specs) {
        return std::unique_ptr<TransportInstance>(
            std::make_unique<AmqpTransport>(service, std::move(specs)));
      });
  return true;
}();

}  // namespace
}  // namespace amqp_impl

// ---- amqp_publish ------------------------------------------------------------------------

namespace {

Task<void> publish_through(Publisher& publisher, PublishRequest request) {
  co_await publisher.publish(PublishTransport::amqp, std::move(request));
}

Task<void> publish_message(const Options::Amqp& amqp_options, amqp_impl::OutgoingMessage message,
                           bool wait, std::chrono::milliseconds timeout) {
  auto executor = co_await boost::asio::this_coro::executor;
  auto& state = amqp_impl::LoopState::of(executor);
  amqp_impl::Connection& publisher = state.publisher_connection(amqp_options, executor);
  // The publish's timeout bounds everything, the first (shared) connect included.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!publisher.has_connected()) co_await publisher.connect(deadline);
  if (wait) {
    co_await publisher.publish(std::move(message), deadline);
    co_return;
  }
  publisher.publish_detached(std::move(message), deadline, [](std::exception_ptr error) {
    if (error) {
      amqp_impl::log().warning("unconfirmed publish [amqp]",
                               {{"error", boost::json::string(describe_exception(error))}});
    }
  });
}

// With tracing on: the PRODUCER span around the publish (upstream's traced
// _publish_message), current while it runs, its context in the message's headers.
Task<void> publish_traced(const Options::Amqp& amqp_options, amqp_impl::OutgoingMessage message,
                          bool wait, std::chrono::milliseconds timeout, std::string routing_key) {
  trace::Span span =
      amqp_impl::start_publish_span(routing_key, message.exchange, message.properties);
  std::exception_ptr error;
  try {
    auto publish = publish_message(amqp_options, std::move(message), wait, timeout);
    auto in_span = trace::run_in_span(span, std::move(publish));
    co_await std::move(in_span);
  } catch (...) {
    error = std::current_exception();
  }
  telemetry::end_producer_span(span, error);
  if (error) std::rethrow_exception(error);
}

}  // namespace

// Not a coroutine itself: the payload is built (and an envelope error thrown) at the call,
// the coroutine gets plain values only.
Task<void> amqp_publish(const Service& service, PublishData data, std::string_view routing_key,
                        AmqpPublishOptions options) {
  PublishRequest request{
      &service, std::move(data), std::string(routing_key), options.message_envelope.as_override(),
      {},       std::nullopt};
  if (Publisher* injected = injected_publisher(service)) {
    return publish_through(*injected, std::move(request));
  }
  const auto& amqp_options = service.options.amqp;
  amqp_impl::OutgoingMessage message;
  message.body = build_payload(request);
  message.exchange = !options.exchange_name.empty()        ? std::string(options.exchange_name)
                     : !amqp_options.exchange_name.empty() ? amqp_options.exchange_name
                                                           : std::string("amq.topic");
  std::optional<std::string> prefix_override;
  if (options.routing_key_prefix) prefix_override.emplace(*options.routing_key_prefix);
  message.routing_key =
      amqp_impl::wire_routing_key(routing_key, amqp_options.routing_key_prefix, prefix_override);
  if (options.persistent) message.properties.delivery_mode = 2;
  if (telemetry::tracer() != nullptr) {
    return publish_traced(amqp_options, std::move(message), options.wait, options.timeout,
                          std::string(routing_key));
  }
  return publish_message(amqp_options, std::move(message), options.wait, options.timeout);
}

}  // namespace tomodachi
