#pragma once
// The receive side of one subscription (spec/wire.md §3.9 - §3.11, §3.14): the long-poll
// loop, the conversion of SQS messages into what the messaging core dispatches, the
// settling of messages (batched deletes and visibility changes, client-side
// dead-lettering), visibility extension for slow handlers, error recovery and the drain.

#include "aws/api.hpp"
#include "aws/naming.hpp"
#include "aws/receive_health.hpp"
#include "aws/setup.hpp"
#include "core/async.hpp"

#include <tomodachi/context.hpp>
#include <tomodachi/delivery.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/message.hpp>
#include <tomodachi/transport/messaging.hpp>
#include <tomodachi/transport/transport.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tomodachi::aws {

/// Payload upstream sends to wake and stop its own receivers; deleted without a handler.
inline constexpr std::string_view drain_payload =
    "__TOMODACHI_DRAIN__cdab4416-1727-4603-87c9-0ff8dddf1f22__";

/// One SQS message, made ready for the messaging core (or why it cannot be).
struct ConvertedMessage {
  enum class Kind {
    deliver,           ///< hand `incoming` to the dispatcher
    drain,             ///< upstream's drain payload: delete silently
    unsupported_body,  ///< body is not JSON (not an SNS notification nor a tomodachi body)
    missing_payload,   ///< no (or an empty) `Message` in the body, e.g. raw message delivery
    bad_attributes,    ///< message attributes that cannot be decoded
  };
  Kind kind = Kind::deliver;
  IncomingMessage incoming;
  std::string problem;  ///< what is wrong, for kinds other than deliver/drain
};

/// Converts a received SQS message as upstream's receive loop does (§3.9 steps 1-6).
ConvertedMessage convert_message(const ReceivedMessage& message, const std::string& queue_url,
                                 const std::string& topic_prefix);

struct ConsumerConfig {
  std::string handler_name;
  SubscribedQueue queue;
  int max_messages = 10;  ///< per ReceiveMessage and concurrent handlers
  bool extend_visibility = true;
  std::string queue_name_prefix;
  std::string topic_prefix;
  /// After a receive that came back at once with a partial batch, wait this long before
  /// the next one so that batches fill up (fewer calls per message under load).
  std::chrono::milliseconds batch_window{100};
  /// Deletes are sent in batches of 10, or when the oldest waited this long (FIFO: at once).
  std::chrono::milliseconds delete_delay{500};
  int wait_time_seconds = 20;
  /// Readiness: the last successful receive at most this long ago (health.sqs_receive_max_age).
  std::chrono::duration<double> receive_max_age{60};
  /// Waits out the error backoffs and batch windows (cut short by a stop); empty: real time.
  core::SleepFunction sleep;
};

/// Process-wide SNS/SQS task counters of the execution context.
struct ConsumerCounters {
  ExecutionCounter& current;
  ExecutionCounter& total;
};

class Consumer : public std::enable_shared_from_this<Consumer> {
 public:
  using Resubscribe = std::function<Task<SubscribedQueue>()>;

  Consumer(boost::asio::any_io_executor executor, AwsResources& resources,
           std::shared_ptr<const MessageDispatcher> dispatcher, ConsumerConfig config,
           Resubscribe resubscribe, std::optional<ConsumerCounters> counters);

  /// Keeps `owner` (e.g. the AWS client of `resources`) alive as long as this consumer.
  void keep_alive(std::shared_ptr<const void> owner) { owner_ = std::move(owner); }

  /// The ReceiveMessage request of this subscription.
  ReceiveMessageRequest receive_request() const;

  /// Receives until `request_stop`; never throws (errors are logged and retried).
  Task<void> run();

  /// Dispatches one received batch concurrently and waits for the handlers.
  Task<void> process_batch(std::vector<ReceivedMessage> messages);

  /// Stops polling (an in-flight long poll is cancelled).
  void request_stop();

  /// After request_stop: waits for running handlers and settles their messages before
  /// `deadline`. True when everything finished in time.
  Task<bool> drain(Deadline deadline);

  /// Sends pending deletes and visibility changes now.
  Task<void> flush();

  int running() const noexcept { return static_cast<int>(handlers_.count()); }
  const ConsumerConfig& config() const noexcept { return config_; }

 private:
  class SqsDelivery;
  friend class SqsDelivery;

  Task<void> receive_loop();
  struct Batch {
    std::vector<ReceivedMessage> messages;
    std::exception_ptr failure;
  };
  Task<Batch> receive_batch();
  Task<void> process_message(ReceivedMessage message);
  Task<void> settle_unprocessable(const ReceivedMessage& message,
                                  const ConvertedMessage& converted);
  Task<void> extend_visibility(std::shared_ptr<std::vector<std::string>> running,
                               std::shared_ptr<core::Event> finished);
  Task<void> dead_letter(const ReceivedMessage& message, const DeadLetter& letter);
  Task<bool> send_dead_letter(const SendMessageRequest& request);  // false: NonExistentQueue
  std::string dead_letter_queue_name(const std::optional<std::string>& name) const;
  Task<QueueRef> dead_letter_queue(const std::optional<std::string>& name);
  bool fifo() const noexcept;
  Task<bool> sleep(std::chrono::steady_clock::duration duration);  // false when stopped meanwhile

  void enqueue_delete(const std::string& receipt_handle);
  void enqueue_visibility(const std::string& receipt_handle, int seconds);
  void schedule_flush();
  Task<void> delayed_flush();
  Task<void> send_deletes(std::vector<std::string> receipt_handles);
  Task<void> send_visibility(std::vector<VisibilityChange> changes);

  boost::asio::any_io_executor executor_;
  AwsResources& resources_;
  std::shared_ptr<const void> owner_;
  std::shared_ptr<const MessageDispatcher> dispatcher_;
  ConsumerConfig config_;
  Resubscribe resubscribe_;
  std::optional<ConsumerCounters> counters_;
  Logger logger_;
  ReceiveHealth health_;
  core::Event stop_;
  core::Gate handlers_;  ///< running handlers
  core::Gate settling_;  ///< deletes and visibility changes on their way
  std::vector<std::string> pending_deletes_;
  std::vector<VisibilityChange> pending_visibility_;
  bool flush_scheduled_ = false;
  core::Event flush_now_;  ///< cuts the wait of a scheduled flush short (drain)
  std::map<std::string, QueueRef> dead_letter_queues_;  // by name; cleared when the setup is redone
  std::set<std::string> running_;  // receipt handles whose handlers run (visibility extension)
  std::uint64_t visibility_ids_ = 0;
};

}  // namespace tomodachi::aws
