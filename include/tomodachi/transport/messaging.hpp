#pragma once
/// @file
/// For transport implementers (AMQP, SNS/SQS, the in-memory test transport): the
/// transport-neutral messaging core. The registration shape (`MessageHandlerSpec`), the
/// per-subscription `MessageDispatcher` that parses, suppresses duplicates, runs
/// middleware and handler and settles the message through the transport's `Delivery`,
/// the process-wide duplicate registry and the publishing seam. Service files do not need
/// this header (<tomodachi/tomodachi.hpp> does not include it).
///
/// A transport's receive loop does, per message:
///
/// ```cpp
/// tomodachi::IncomingMessage incoming{.payload = body, .topic = topic, ...};
/// MyDelivery delivery(...);                      // implements tomodachi::Delivery
/// co_await dispatcher.dispatch(std::move(incoming), delivery);
/// ```

#include <tomodachi/delivery.hpp>
#include <tomodachi/detail/bind_member.hpp>
#include <tomodachi/detail/message_handler_spec.hpp>
#include <tomodachi/envelope.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/message.hpp>
#include <tomodachi/message_attributes.hpp>
#include <tomodachi/message_middleware.hpp>
#include <tomodachi/task.hpp>
#include <tomodachi/transport/delivery.hpp>
#include <tomodachi/transport/transport.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tomodachi {

/// Member function `Fn` (`Task<void> (S::*)(Message&)`) of `service` as a MessageHandler,
/// for a transport's own registration calls (`detail::bind_member`, as `Service::amqp`).
template <auto Fn>
MessageHandler bind_message_handler(Service& service) {
  return MessageHandler(detail::bind_member<Fn>(service));
}

/// Duplicate suppression (spec/wire.md §2.8, §3.11): keys `"{message_uuid}:{handler}"`.
/// A key is in progress while its handler runs; a completed key suppresses copies for
/// `window` (60 s); a failed attempt forgets its key so the retry is not swallowed.
///
/// Memory is bounded by count and size: a key is kept as a 16-byte digest (the first
/// half of its SHA-256; the sender chooses the uuid, so neither its length nor a hash
/// collision is in its hands), about 120 bytes per entry with the containers, so at most
/// about 12 MB for the default 100000 entries. Completed keys older than `window` are
/// dropped as new keys arrive; beyond `max_entries` the oldest completed keys go first
/// (only then the oldest in-progress ones), one for each new key. One registry per
/// process, used from the loop thread only.
class DuplicateRegistry {
 public:
  using Clock = std::chrono::steady_clock;
  /// A key as stored: 128 bits of its SHA-256.
  using Key = std::array<std::uint64_t, 2>;
  enum class Seen {
    no,           ///< new (now recorded as in progress)
    in_progress,  ///< a copy is being handled right now
    completed,    ///< a copy was handled successfully within the window
  };

  explicit DuplicateRegistry(std::size_t max_entries = 100000,
                             Clock::duration window = std::chrono::seconds(60),
                             std::function<Clock::time_point()> now = {});
  ~DuplicateRegistry();
  DuplicateRegistry(const DuplicateRegistry&) = delete;
  DuplicateRegistry& operator=(const DuplicateRegistry&) = delete;

  /// The stored form of `text` (`"{message_uuid}:{handler}"`).
  static Key key_of(std::string_view text);

  /// Records `key` as in progress unless it was seen; returns what was there.
  Seen begin(const Key& key);
  /// The handler of `key` succeeded.
  void complete(const Key& key);
  /// The handler of `key` failed: a later copy (the retry) is handled normally.
  void forget(const Key& key);

  Seen begin(std::string_view text) { return begin(key_of(text)); }
  void complete(std::string_view text) { complete(key_of(text)); }
  void forget(std::string_view text) { forget(key_of(text)); }

  std::size_t size() const noexcept;
  /// The registry's clock (injected in tests).
  Clock::time_point now() const { return now_ ? now_() : Clock::now(); }

  /// The process-wide registry used by default.
  static DuplicateRegistry& process();

 private:
  struct State;

  std::size_t max_entries_;
  Clock::duration window_;
  std::function<Clock::time_point()> now_;
  std::unique_ptr<State> state_;
};

/// How the core settled one delivery (for transports' metrics and tests).
enum class DeliveryOutcome {
  acked,               ///< handled (or handled earlier: a duplicate)
  dropped,             ///< tomodachi policy: an ordinary exception or a parse error; logged, acked
  requeued,            ///< tomodachi policy: internal service error
  retry_scheduled,     ///< at_least_once: failed, delivered again later
  dead_lettered,       ///< at_least_once: out of attempts, or unparseable
  duplicate_deferred,  ///< a copy is being handled right now: delivered again later
};
std::string_view to_string(DeliveryOutcome outcome) noexcept;

/// A transport's instrumentation around one message's middleware chain and handler: gets
/// the message and the chain (not started yet) and returns the task to await in its place.
using MessageInstrument = std::function<Task<void>(Message& message, Task<void> chain)>;

/// Everything the core needs to run one subscription.
struct SubscriptionConfig {
  /// The receiving service (may be null in bare unit tests).
  Service* service = nullptr;
  /// Handler name: duplicate keys, log fields, dead-letter headers.
  std::string handler_name;
  /// Transport kind: `amqp`, `aws_sns_sqs`, or another (the in-memory transport uses the
  /// kind it stands in for). Chooses the logger name and the internal-service-error type.
  std::string transport = "amqp";
  /// The envelope in effect (null = raw mode); validated by the dispatcher.
  std::shared_ptr<const Envelope> envelope;
  /// Middleware, outermost first (normally the service's `message_middleware`).
  std::vector<MessageMiddleware> middleware;
  DeliveryPolicy delivery;
  MessageHandler handler;
  /// Null = `DuplicateRegistry::process()`.
  DuplicateRegistry* duplicates = nullptr;
  /// Runs an action once after a delay on the subscription's loop: the end of a burst of
  /// skipped duplicates (their summary record). Null = a timer on the loop the duplicate
  /// was dispatched on; the in-memory broker passes its own (virtual) timers.
  std::function<void(std::chrono::milliseconds, std::function<void()>)> schedule;
  /// Delay before a copy of a message that is being handled right now is offered again.
  std::chrono::milliseconds duplicate_retry_delay{std::chrono::seconds(5)};
  /// Runs around the middleware chain and the handler of every message: the transport's
  /// OpenTelemetry CONSUMER span (upstream's outermost message middleware), so the span
  /// is current in the middleware and the handler. Parsing, the duplicate check and the
  /// settling stay outside it. Unset (the default, and while instrumentation is off): the
  /// chain runs as it is.
  MessageInstrument instrument;

  /// The configuration of `spec` registered by `service`: its envelope choice resolved
  /// against `service.message_envelope`, the service's `message_middleware`.
  static SubscriptionConfig from_spec(Service& service, const MessageHandlerSpec& spec,
                                      std::string transport);
};

class DuplicateLog;

/// Runs received messages of one subscription through the messaging core.
class MessageDispatcher {
 public:
  /// Validates the envelope (`Envelope::validate`) and the policy; throws
  /// tomodachi::ArgumentError at registration time, naming the handler.
  explicit MessageDispatcher(SubscriptionConfig config);

  /// Parses `incoming`, suppresses duplicates, runs middleware and handler, and settles
  /// the message through `delivery` according to the policy. Errors are logged and
  /// turned into an outcome; only a failure of the transport's own settling call
  /// escapes.
  Task<DeliveryOutcome> dispatch(IncomingMessage incoming, Delivery& delivery) const;

  const SubscriptionConfig& config() const noexcept { return config_; }
  /// The handler logger (`tomodachi.amqp.handler`, `tomodachi.awssnssqs.handler`).
  const Logger& logger() const noexcept { return logger_; }

 private:
  Task<void> run_chain(std::size_t index, Message& message, MiddlewareContext& context) const;
  bool requeues(const std::exception_ptr& error) const;

  SubscriptionConfig config_;
  Logger logger_;
  // The records of skipped duplicates, one summary per burst (src/messaging/duplicate_log.hpp).
  std::shared_ptr<DuplicateLog> duplicate_log_;
};

/// One publish as a service asked for it (`amqp_publish`, `aws_sns_sqs_publish`,
/// `sqs_send_message`), for an injected `Publisher`.
struct PublishRequest {
  const Service* sender = nullptr;
  PublishData data;
  /// Unprefixed routing key / topic ("" for SQS direct sends).
  std::string topic;
  EnvelopeOverride message_envelope;
  MessageAttributes message_attributes;
  /// SQS direct sends: the queue name.
  std::optional<std::string> queue_name;
};

/// The publishing call a request comes from.
enum class PublishTransport {
  amqp,         ///< amqp_publish
  aws_sns_sqs,  ///< aws_sns_sqs_publish, sqs_send_message (with `queue_name`)
};

/// Where a transport hands a service's publishes instead of its broker: the test seam
/// (the in-memory broker injects itself, testing::Broker::intercept_publishing). A
/// transport's publish function asks `injected_publisher(sender)` first and, when there is
/// one, calls it instead of talking to the broker.
class Publisher {
 public:
  virtual ~Publisher();
  /// Publishes `request`; returns an id of the published message.
  virtual Task<std::string> publish(PublishTransport transport, PublishRequest request) = 0;
};

/// The publisher injected for `service`: its own (`inject_publisher`), else the process's
/// (`set_process_publisher`), else null (publish through the transport's broker).
Publisher* injected_publisher(const Service& service) noexcept;
/// Injects `publisher` for one service (null: none; the process's applies again). The
/// publisher must outlive the service's publishes.
void inject_publisher(Service& service, Publisher* publisher) noexcept;
/// Injects `publisher` for every service of the process that has none of its own (null:
/// none), replacing any other; returns the one it replaced.
Publisher* set_process_publisher(Publisher* publisher) noexcept;
/// The process's injected publisher, or null.
Publisher* process_publisher() noexcept;

/// Builds the payload of a publish as every transport does: the envelope in effect
/// (`request.message_envelope`, else the sender's default) or raw mode; the envelope may
/// add to `request.message_attributes`.
std::string build_payload(PublishRequest& request, BuildContext context = {});

}  // namespace tomodachi
