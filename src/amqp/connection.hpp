#pragma once
// One AMQP connection owned by one I/O thread (DESIGN.md §2). The thread runs the frame
// loop over rabbitmq-c: it polls the socket and an eventfd together (commands from the
// service loop wake it), sends heartbeats, assembles deliveries, reads publisher confirms,
// runs topology steps one at a time, and reconnects with backoff when the broker goes
// away, replaying every step that succeeded (qos, declarations, bindings, consumers) and
// republishing unconfirmed messages. Results travel back to the service loop with
// `asio::post`; the loop never blocks on the broker.
//
// Channels: 1 consumers + qos, 2 declarations, 3 publishing in confirm mode.
//
// This class is the loop's side: it turns calls into commands (command_queue.hpp). The
// I/O thread's parts are listed in io_loop.hpp.

#include "amqp/topology.hpp"

#include <tomodachi/amqp.hpp>
#include <tomodachi/options.hpp>
#include <tomodachi/task.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tomodachi::amqp_impl {

struct ConnectionSettings {
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string login = "guest";
  std::string password = "guest";
  std::string virtualhost = "/";
  bool ssl = false;
  int heartbeat = 60;  ///< seconds; 0 disables heartbeats
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds reconnect_min_delay{100};
  std::chrono::milliseconds reconnect_max_delay{3000};
  std::string connection_name = "tomodachi";  ///< client property shown by rabbitmqctl

  static ConnectionSettings from(const Options::Amqp& options);
  /// `host:port`, as the log messages name the broker.
  std::string address() const;
};

/// A delivery's header table as the broker sent it (a deep copy in its own pool), so that a
/// retry or dead-letter copy carries every header with its original AMQP field type.
struct ReceivedHeaders;

/// A mandatory publish came back from the broker (basic.return): no queue took it.
class AmqpUnroutable : public AmqpException {
 public:
  using AmqpException::AmqpException;
};

/// One message delivered to a consumer. `epoch` identifies the connection it came on:
/// acknowledgements for an older epoch are dropped (the broker redelivers those messages).
struct Delivery {
  std::uint64_t epoch = 0;
  std::uint64_t delivery_tag = 0;
  std::uint32_t consumer_id = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  std::string body;
  AmqpProperties properties;
  /// The headers table as received (set when the message has headers).
  std::shared_ptr<const ReceivedHeaders> raw_headers;
  /// What the delivery preprocessor attached on the I/O thread (opaque to the connection).
  std::shared_ptr<void> preparsed;
};

/// A message to publish; `routing_key` is the wire form (already prefixed and encoded).
struct OutgoingMessage {
  std::string exchange;
  std::string routing_key;
  std::string body;
  AmqpProperties properties;  ///< empty: no properties at all (upstream's wire shape)
  /// basic.publish(mandatory): a message no queue takes comes back (basic.return) and the
  /// publish fails with AmqpUnroutable instead of being confirmed into nowhere.
  bool mandatory = false;
  /// Header entries to keep exactly as received (their AMQP field types included); the
  /// entries of `properties.headers` are added, replacing those with the same key.
  std::shared_ptr<const ReceivedHeaders> original_headers;
};

/// Counters for tests and logs (read from any thread).
struct ConnectionStats {
  std::uint64_t connects = 0;    ///< successful connects, the first one included
  std::uint64_t published = 0;   ///< basic.publish frames sent (republishes included)
  std::uint64_t confirmed = 0;   ///< publishes the broker acked
  std::uint64_t deliveries = 0;  ///< messages received
};

/// All member functions are called on the service loop's thread (the loop of `loop`).
class Connection {
 public:
  using Clock = std::chrono::steady_clock;
  using DeliverySink = std::function<void(std::vector<Delivery>& batch)>;

  /// Starts the I/O thread (not yet connected). Results are posted to `loop`.
  Connection(ConnectionSettings settings, boost::asio::any_io_executor loop);
  /// Closes the connection without waiting for confirms and joins the I/O thread.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const ConnectionSettings& settings() const noexcept;

  /// Where deliveries go; called on the loop with batches in delivery order.
  void on_deliveries(DeliverySink sink);

  /// Runs on the I/O thread for every delivery of a live consumer before it is handed to the
  /// loop (e.g. to parse its payload there). Set before connect(); must be thread-safe.
  void set_delivery_preprocessor(std::function<void(Delivery&)> preprocessor);

  /// Connects (once; later calls return at once). Throws AmqpConnectionException with
  /// upstream's message `Unable to connect [amqp] to host:port (reason)`. After the first
  /// success the connection reconnects on its own whenever it is lost.
  Task<void> connect();
  /// The same, giving up at `deadline` (e.g. a publish's timeout): the attempt's TCP connect
  /// and handshake are bounded by it.
  Task<void> connect(Clock::time_point deadline);

  /// Runs a topology step on the broker and remembers it for replay after reconnects.
  /// Throws AmqpChannelClosed (the broker's code and text), AmqpExclusiveQueueLockedException,
  /// AmqpTooManyConsumersException (single-consumer queue in use).
  Task<StepResult> execute(TopologyStep step);

  /// Publishes and completes when the broker confirmed the message. While disconnected the
  /// message waits for the reconnect; unconfirmed messages are republished after one.
  /// Throws AmqpException when the broker rejects it (nack), AmqpChannelClosed for a missing
  /// exchange, AmqpConnectionException when not confirmed before `deadline`.
  Task<void> publish(OutgoingMessage message, Clock::time_point deadline);

  /// The same without waiting; `done` (optional) runs on the loop with the outcome.
  void publish_detached(OutgoingMessage message, Clock::time_point deadline,
                        std::function<void(std::exception_ptr)> done = {});

  /// basic.ack / basic.nack(requeue) of a delivery. Dropped when the delivery came on an
  /// earlier connection (the broker requeued it when that connection died).
  void ack(std::uint64_t epoch, std::uint64_t delivery_tag);
  void nack(std::uint64_t epoch, std::uint64_t delivery_tag, bool requeue);

  /// basic.cancel for these consumers; no replay of them after reconnects. Completes when the
  /// broker confirmed (no more deliveries for them) or the connection is down.
  Task<void> cancel(std::vector<std::uint32_t> consumer_ids);

  /// Waits (until `deadline`) for unconfirmed publishes and queued acks, then closes the
  /// connection (connection.close, its reply awaited at most 2 s and not past the deadline).
  /// Remaining publishes fail with AmqpConnectionException. Raced against `deadline`: false
  /// when the I/O thread had not closed by then (its socket is shut down; the destructor
  /// joins the thread).
  Task<bool> close(Clock::time_point deadline);

  /// The process is stopping: reconnect attempts from now on use a short connect timeout.
  void stop_requested() noexcept;

  bool connected() const noexcept;
  /// True once connect() succeeded (from then on the connection reconnects by itself).
  bool has_connected() const noexcept;
  ConnectionStats stats() const noexcept;
  /// The current connection's epoch (increases with every reconnect).
  std::uint64_t epoch() const noexcept;

  /// For fault tests: drops the socket as a network failure would.
  void simulate_network_failure();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tomodachi::amqp_impl
