// In-memory broker for unit tests (include/tomodachi/testing.hpp).
#include <tomodachi/detail/assert.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/testing.hpp>
#include <tomodachi/transport/messaging.hpp>

#include "core/async.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <deque>
#include <exception>
#include <functional>
#include <queue>

namespace tomodachi::testing {
namespace {

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    words.push_back(
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return words;
}

bool match_words(const std::vector<std::string_view>& pattern, std::size_t p,
                 const std::vector<std::string_view>& key, std::size_t k) {
  while (p < pattern.size()) {
    if (pattern[p] == "#") {
      // `#` swallows zero or more words: try every split (patterns are short).
      for (std::size_t rest = k; rest <= key.size(); ++rest) {
        if (match_words(pattern, p + 1, key, rest)) return true;
      }
      return false;
    }
    if (k >= key.size()) return false;
    if (pattern[p] != "*" && pattern[p] != key[k]) return false;
    ++p;
    ++k;
  }
  return k == key.size();
}

}  // namespace

bool topic_matches(std::string_view pattern, std::string_view routing_key) noexcept {
  return match_words(split_words(pattern), 0, split_words(routing_key), 0);
}

struct BrokerState {
  struct Subscriber {
    std::string pattern;
    std::string transport;
    std::string queue;
    std::unique_ptr<MessageDispatcher> dispatcher;
    // One holder per delivery handed out and not yet settled (the prefetch count; a
    // stopping transport drains it).
    core::Gate in_flight;
  };
  struct Queue {
    std::string name;
    std::vector<std::string> bindings;
    std::vector<std::shared_ptr<Subscriber>> consumers;
    std::deque<BrokerMessage> ready;
    std::size_t next_consumer = 0;
  };
  struct Timer {
    std::chrono::milliseconds due;
    std::uint64_t sequence;
    std::function<void()> action;
    bool operator>(const Timer& other) const {
      return due != other.due ? due > other.due : sequence > other.sequence;
    }
  };

  std::unique_ptr<boost::asio::io_context> own_context;
  boost::asio::any_io_executor executor;
  // Handlers queued on an external loop check it: they may run after the broker is gone.
  std::shared_ptr<int> alive = std::make_shared<int>(0);
  std::vector<std::weak_ptr<boost::asio::steady_timer>> real_timers;  // cancelled on destruction
  std::chrono::milliseconds now{0};
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::uint64_t timer_sequence = 0;
  std::uint64_t message_sequence = 0;
  std::vector<std::string> queue_order;
  std::map<std::string, Queue, std::less<>> queues;
  BrokerStats stats;
  std::exception_ptr error;
  std::unique_ptr<Publisher> publisher;  // injected process-wide by intercept_publishing
  DuplicateRegistry duplicates;

  BrokerState()
      : duplicates(100000, std::chrono::seconds(60), [this] {
          return DuplicateRegistry::Clock::time_point(
              std::chrono::duration_cast<DuplicateRegistry::Clock::duration>(clock_now()));
        }) {}

  bool virtual_time() const { return own_context != nullptr; }

  std::shared_ptr<Subscriber> subscribe(Service& service, std::string pattern,
                                        std::string handler_name, MessageHandler handler,
                                        SubscribeOptions options) {
    SubscriptionConfig config;
    config.service = &service;
    config.handler_name = handler_name;
    config.transport = options.transport;
    config.envelope = resolve_envelope(options.message_envelope, service);
    config.middleware = service.message_middleware;
    config.delivery = options.delivery;
    config.handler = std::move(handler);
    config.duplicates = &duplicates;
    config.schedule = [this](std::chrono::milliseconds delay, std::function<void()> action) {
      schedule(delay, std::move(action));
    };

    auto subscriber = std::make_shared<Subscriber>();
    subscriber->pattern = pattern;
    subscriber->transport = options.transport;
    subscriber->queue = queue_of(service, handler_name, options);
    subscriber->dispatcher = std::make_unique<MessageDispatcher>(std::move(config));

    Queue& q = queue(subscriber->queue);
    if (!pattern.empty() &&
        std::find(q.bindings.begin(), q.bindings.end(), pattern) == q.bindings.end()) {
      q.bindings.push_back(pattern);
    }
    q.consumers.push_back(subscriber);
    pump(subscriber->queue);
    return subscriber;
  }

  void unsubscribe(const std::shared_ptr<Subscriber>& subscriber) {
    Queue& q = queue(subscriber->queue);
    q.consumers.erase(std::remove(q.consumers.begin(), q.consumers.end(), subscriber),
                      q.consumers.end());
  }

  // `queue`, else `<service name>.<handler name>`, one queue for every instance of the
  // service; non-competing: `<service name>.<handler name>.<service uuid>`, one per instance.
  static std::string queue_of(const Service& service, const std::string& handler_name,
                              const SubscribeOptions& options) {
    if (!options.queue.empty()) return options.queue;
    std::string name = service.name() + "." + handler_name;
    if (!options.competing.value_or(true)) name += "." + service.uuid();
    return name;
  }

  std::chrono::milliseconds clock_now() const {
    if (virtual_time()) return now;
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
  }

  Queue& queue(const std::string& name) {
    auto it = queues.find(name);
    if (it == queues.end()) {
      it = queues.emplace(name, Queue{name, {}, {}, {}, 0}).first;
      queue_order.push_back(name);
    }
    return it->second;
  }

  std::string next_id() { return "memory-" + std::to_string(++message_sequence); }

  void schedule(std::chrono::milliseconds delay, std::function<void()> action) {
    if (virtual_time()) {
      timers.push(Timer{now + delay, ++timer_sequence, std::move(action)});
      return;
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(executor, delay);
    std::erase_if(real_timers, [](const auto& weak) { return weak.expired(); });
    real_timers.push_back(timer);
    timer->async_wait([timer, alive = std::weak_ptr<int>(alive),
                       action = std::move(action)](const boost::system::error_code& ec) {
      if (!ec && !alive.expired()) action();
    });
  }

  void enqueue(const std::string& queue_name, BrokerMessage message) {
    queue(queue_name).ready.push_back(std::move(message));
    pump(queue_name);
  }

  std::string route(BrokerMessage message) {
    const std::string id = message.message_id;
    for (const std::string& name : queue_order) {
      Queue& q = queues.at(name);
      for (const std::string& pattern : q.bindings) {
        if (topic_matches(pattern, message.routing_key)) {
          enqueue(name, message);
          break;
        }
      }
    }
    return id;
  }

  // Hands ready messages to the queue's consumers, round robin; each delivery runs as
  // its own coroutine on the loop, as concurrent deliveries do over a real broker.
  // Deliveries in flight per consumer, like AMQP's default prefetch (100).
  static constexpr std::size_t max_in_flight = 100;

  void pump(const std::string& queue_name) {
    Queue& q = queue(queue_name);
    if (!executor) return;  // RuntimeLoop broker before its services started
    while (!q.ready.empty() && !q.consumers.empty()) {
      std::shared_ptr<Subscriber> consumer;
      for (std::size_t tried = 0; tried < q.consumers.size() && !consumer; ++tried) {
        auto& candidate = q.consumers[q.next_consumer++ % q.consumers.size()];
        if (candidate->in_flight.count() < max_in_flight) consumer = candidate;
      }
      if (!consumer) return;  // every consumer is busy: the next settled delivery pumps again
      BrokerMessage message = std::move(q.ready.front());
      q.ready.pop_front();
      ++stats.delivered;
      consumer->in_flight.enter();  // left by `deliver`
      // Each delivery starts from the loop, never inside the caller (a publishing
      // handler, a settling delivery), as over a real broker.
      boost::asio::post(executor, [this, alive = std::weak_ptr<int>(alive), consumer, queue_name,
                                   message = std::move(message)]() mutable {
        if (alive.expired()) return;
        boost::asio::co_spawn(executor, deliver(consumer, queue_name, std::move(message)),
                              [this, alive](std::exception_ptr failure) {
                                if (failure && !alive.expired() && !error) error = failure;
                              });
      });
    }
  }

  Task<void> deliver(std::shared_ptr<Subscriber> consumer, std::string queue_name,
                     BrokerMessage message);

  // From the loop, unless the broker is gone by then.
  void pump_later(std::string queue_name) {
    boost::asio::post(
        executor, [this, alive = std::weak_ptr<int>(alive), queue_name = std::move(queue_name)] {
          if (!alive.expired()) pump(queue_name);
        });
  }
};

struct Broker::Impl : BrokerState {
  using BrokerState::BrokerState;
};

namespace {

// The broker side of one delivery: the Delivery contract over the in-memory queues.
class MemoryDelivery final : public Delivery {
 public:
  MemoryDelivery(BrokerState& broker, std::string queue, std::string_view transport,
                 BrokerMessage message)
      : broker_(broker),
        queue_(std::move(queue)),
        transport_(transport),
        message_(std::move(message)) {}

  int attempt() const override { return message_.attempt; }

  Task<void> ack() override {
    settle();
    ++broker_.stats.acked;
    co_return;
  }

  Task<void> requeue() override {
    settle();
    ++broker_.stats.requeued;
    redeliver(requeue_delay);
    co_return;
  }

  Task<void> retry_later(std::chrono::milliseconds delay) override {
    settle();
    ++broker_.stats.retries_scheduled;
    redeliver(delay);
    co_return;
  }

  Task<void> dead_letter(const DeadLetter& letter) override {
    settle();
    ++broker_.stats.dead_lettered;
    BrokerMessage dead = message_;
    dead.headers.insert_or_assign(std::string(dead_letter_header::error), letter.error);
    dead.headers.insert_or_assign(std::string(dead_letter_header::error_type), letter.error_type);
    dead.headers.insert_or_assign(std::string(dead_letter_header::attempts),
                                  std::to_string(letter.attempts));
    dead.headers.insert_or_assign(std::string(dead_letter_header::source_queue), queue_);
    dead.headers.insert_or_assign(std::string(dead_letter_header::handler), letter.handler);
    dead.attempt = 1;
    broker_.enqueue(letter.queue ? *letter.queue : default_dead_letter_queue(queue_, transport_),
                    std::move(dead));
    co_return;
  }

  /// RabbitMQ requeues at once; a short virtual pause keeps a handler that always
  /// fails from spinning the test loop.
  static constexpr std::chrono::milliseconds requeue_delay{100};

 private:
  // The messaging core settles each delivery exactly once (tomodachi::Delivery).
  void settle() {
    TOMODACHI_ASSERT(!settled_, "a delivery was settled twice");
    settled_ = true;
  }

  void redeliver(std::chrono::milliseconds delay) {
    BrokerMessage again = message_;
    again.attempt += 1;
    BrokerState* broker = &broker_;
    broker_.schedule(delay, [broker, queue = queue_, again = std::move(again)]() mutable {
      broker->enqueue(queue, std::move(again));
    });
  }

  BrokerState& broker_;
  std::string queue_;
  std::string_view transport_;  // the subscriber's, which outlives the delivery
  BrokerMessage message_;
  bool settled_ = false;
};

// The values the real transports offer to handlers, with in-memory stand-ins.
IncomingMessage incoming_for(const std::string& transport, const std::string& pattern,
                             const std::string& queue, const BrokerMessage& message) {
  IncomingMessage incoming;
  incoming.payload = message.payload;
  if (transport == "aws_sns_sqs") {
    incoming.topic = message.routing_key;
    incoming.message_attributes = message.message_attributes;
    auto& values = incoming.transport_values;
    values["topic"] = message.routing_key;
    values["receipt_handle"] = message.message_id + "#" + std::to_string(message.attempt);
    values["queue_url"] = "memory://" + queue;
    values["approximate_receive_count"] = message.attempt;
    values["sns_message_id"] = message.routing_key.empty() ? "" : message.message_id;
    values["sqs_message_id"] = message.message_id;
    values["message_type"] = message.routing_key.empty() ? "Message" : "Notification";
    values["raw_message_body"] = message.payload;
    values["message_timestamp"] = "";
    values["message_deduplication_id"] = nullptr;
    values["message_group_id"] = nullptr;
  } else {
    incoming.topic = pattern;  // upstream offers the subscription's routing key
    auto& values = incoming.transport_values;
    values["routing_key"] = pattern;
    values["exchange_name"] = "amq.topic";
    boost::json::object headers;
    for (const auto& [key, value] : message.headers) headers[key] = value;
    if (message.attempt > 1) headers[attempt_header] = message.attempt;
    values["properties"] = boost::json::object{{"headers", std::move(headers)}};
  }
  return incoming;
}

}  // namespace

Task<void> BrokerState::deliver(std::shared_ptr<Subscriber> consumer, std::string queue_name,
                                BrokerMessage message) {
  IncomingMessage incoming =
      incoming_for(consumer->transport, consumer->pattern, queue_name, message);
  MemoryDelivery delivery(*this, queue_name, consumer->transport, std::move(message));
  // The place `pump` took in the gate, left on every path, exceptions and destruction included.
  core::Gate::Holder in_flight(consumer->in_flight);
  const DeliveryOutcome outcome =
      co_await consumer->dispatcher->dispatch(std::move(incoming), delivery);
  if (outcome == DeliveryOutcome::dropped) ++stats.dropped;
  if (outcome == DeliveryOutcome::duplicate_deferred) ++stats.duplicates_deferred;
  in_flight.leave();
  pump_later(std::move(queue_name));
}

namespace {

// A registration as the real transports read it: an explicit queue name is a shared queue;
// without one, `competing` unset means non-competing (a queue per instance), as upstream.
SubscribeOptions subscribe_options_of(const MessageHandlerSpec& spec) {
  SubscribeOptions options;
  options.queue = spec.queue_name.value_or(std::string());
  options.competing =
      spec.queue_name ? spec.competing.value_or(true) : spec.competing.value_or(false);
  options.message_envelope = spec.message_envelope;
  options.delivery = spec.delivery;
  options.transport = spec.transport;
  return options;
}

// Serves a running service's registrations of one transport kind from the broker.
class MemoryTransport final : public TransportInstance {
 public:
  MemoryTransport(BrokerState& broker, Service& service, std::vector<const HandlerSpec*> specs)
      : broker_(broker), service_(service), specs_(std::move(specs)) {}

  Task<void> start() override {
    if (broker_.virtual_time()) {
      throw Error(
          "tomodachi::testing::Broker with its own loop cannot serve a running service; "
          "construct it with Broker::RuntimeLoop{}");
    }
    if (!broker_.executor) broker_.executor = co_await boost::asio::this_coro::executor;
    for (const HandlerSpec* spec : specs_) {
      const auto* message_spec = dynamic_cast<const MessageHandlerSpec*>(spec);
      if (message_spec == nullptr) {
        throw ArgumentError("in-memory transport: handler '" + spec->name + "' of kind '" +
                            spec->transport + "' is not a message subscription");
      }
      subscribers_.push_back(broker_.subscribe(service_, message_spec->pattern, message_spec->name,
                                               message_spec->handler,
                                               subscribe_options_of(*message_spec)));
    }
  }

  // No new deliveries from the moment the process starts stopping; what waits in the
  // queues stays there, as on a real broker.
  void stop_requested() noexcept override {
    for (const auto& subscriber : subscribers_) broker_.unsubscribe(subscriber);
  }

  // Unsubscribed, a subscriber receives nothing new: its deliveries drain one by one.
  Task<void> stop(Deadline deadline) override {
    stop_requested();
    for (const auto& subscriber : subscribers_) {
      const bool drained = co_await subscriber->in_flight.wait_until(deadline);
      if (!drained) co_return;
    }
  }

 private:
  BrokerState& broker_;
  Service& service_;
  std::vector<const HandlerSpec*> specs_;
  std::vector<std::shared_ptr<BrokerState::Subscriber>> subscribers_;
};

}  // namespace

Broker::Broker() : impl_(std::make_unique<Impl>()) {
  impl_->own_context = std::make_unique<boost::asio::io_context>();
  impl_->executor = impl_->own_context->get_executor();
}

Broker::Broker(boost::asio::any_io_executor executor) : impl_(std::make_unique<Impl>()) {
  impl_->executor = std::move(executor);
}

Broker::Broker(RuntimeLoop) : impl_(std::make_unique<Impl>()) {}

TransportFactory Broker::transport_factory() {
  BrokerState* state = impl_.get();
  return [state](Service& service,
                 std::vector<const HandlerSpec*> specs) -> std::unique_ptr<TransportInstance> {
    return std::make_unique<MemoryTransport>(*state, service, std::move(specs));
  };
}

Broker::~Broker() {
  // Only where ours is still injected: a newer broker may have replaced it.
  if (impl_->publisher && process_publisher() == impl_->publisher.get()) {
    set_process_publisher(nullptr);
  }
  // Redeliveries waiting on an external loop are cancelled; handlers already queued there
  // find the broker gone.
  impl_->alive.reset();
  for (const auto& weak : impl_->real_timers) {
    if (const auto timer = weak.lock()) timer->cancel();
  }
  // Deliveries still suspended on the own loop are destroyed with it, before the queues.
  impl_->own_context.reset();
}

boost::asio::any_io_executor Broker::executor() const { return impl_->executor; }

void Broker::subscribe(Service& service, std::string pattern, std::string handler_name,
                       MessageHandler handler, SubscribeOptions options) {
  impl_->subscribe(service, std::move(pattern), std::move(handler_name), std::move(handler),
                   std::move(options));
}

void Broker::attach(Service& service) {
  for (const auto& spec : service.handlers()) {
    const auto* message_spec = dynamic_cast<const MessageHandlerSpec*>(spec.get());
    if (message_spec == nullptr) continue;
    subscribe(service, message_spec->pattern, message_spec->name, message_spec->handler,
              subscribe_options_of(*message_spec));
  }
}

std::string Broker::publish(const Service& sender, const PublishData& data, std::string routing_key,
                            PublishOptions options) {
  PublishRequest request;
  request.sender = &sender;
  request.data = data;
  request.topic = routing_key;
  request.message_envelope = std::move(options.message_envelope);
  request.message_attributes = std::move(options.message_attributes);
  BuildContext context;
  context.uuid4 = std::move(options.uuid4);
  context.time = options.time;
  std::string payload = build_payload(request, std::move(context));
  return publish_payload(std::move(routing_key), std::move(payload),
                         std::move(request.message_attributes));
}

std::string Broker::publish_payload(std::string routing_key, std::string payload,
                                    MessageAttributes attributes) {
  BrokerMessage message;
  message.payload = std::move(payload);
  message.routing_key = std::move(routing_key);
  message.message_attributes = std::move(attributes);
  message.message_id = impl_->next_id();
  return impl_->route(std::move(message));
}

std::string Broker::send_to_queue(std::string queue, std::string payload,
                                  MessageAttributes attributes) {
  BrokerMessage message;
  message.payload = std::move(payload);
  message.message_attributes = std::move(attributes);
  message.message_id = impl_->next_id();
  std::string id = message.message_id;
  impl_->enqueue(queue, std::move(message));
  return id;
}

namespace {

// Every transport's publishes into the broker: SQS direct sends to their queue, the rest
// routed by topic.
class BrokerPublisher final : public Publisher {
 public:
  explicit BrokerPublisher(Broker& broker) : broker_(broker) {}

  Task<std::string> publish(PublishTransport, PublishRequest request) override {
    std::string payload = build_payload(request);
    if (request.queue_name) {
      co_return broker_.send_to_queue(*request.queue_name, std::move(payload),
                                      std::move(request.message_attributes));
    }
    co_return broker_.publish_payload(std::move(request.topic), std::move(payload),
                                      std::move(request.message_attributes));
  }

 private:
  Broker& broker_;
};

}  // namespace

void Broker::intercept_publishing() {
  if (!impl_->publisher) impl_->publisher = std::make_unique<BrokerPublisher>(*this);
  set_process_publisher(impl_->publisher.get());
}

void Broker::run_until_idle(std::chrono::milliseconds max_virtual_time) {
  if (!impl_->own_context) {
    throw Error("tomodachi::testing::Broker::run_until_idle needs a broker with its own loop");
  }
  const std::chrono::milliseconds limit = impl_->now + max_virtual_time;
  while (true) {
    impl_->own_context->restart();
    impl_->own_context->run();
    if (impl_->error) {
      std::exception_ptr error = std::exchange(impl_->error, nullptr);
      std::rethrow_exception(error);
    }
    if (impl_->timers.empty() || impl_->timers.top().due > limit) break;
    Impl::Timer timer = impl_->timers.top();
    impl_->timers.pop();
    impl_->now = timer.due;
    timer.action();
  }
}

std::vector<BrokerMessage> Broker::messages(std::string_view queue) const {
  const auto it = impl_->queues.find(queue);
  if (it == impl_->queues.end()) return {};
  return {it->second.ready.begin(), it->second.ready.end()};
}

std::vector<std::string> Broker::queue_names() const { return impl_->queue_order; }

const BrokerStats& Broker::stats() const noexcept { return impl_->stats; }

std::chrono::milliseconds Broker::virtual_time() const noexcept { return impl_->now; }

}  // namespace tomodachi::testing
