#include "amqp/loop_state.hpp"

#include "amqp/preparse.hpp"
#include "telemetry/tracer.hpp"

#include <tomodachi/logging.hpp>

#include <amqp.h>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/json.hpp>

namespace {
const tomodachi::Logger& log() {
  static const tomodachi::Logger logger("tomodachi.amqp");
  return logger;
}
}  // namespace

namespace tomodachi::amqp_impl {

boost::asio::execution_context::id LoopState::id;

LoopState::LoopState(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context) {
  set_execution_context(
      boost::json::object{{"amqp_enabled", true}, {"librabbitmq_version", amqp_version()}});
}

LoopState::~LoopState() { shutdown(); }

LoopState& LoopState::of(const boost::asio::any_io_executor& executor) {
  auto& context = boost::asio::query(executor, boost::asio::execution::context);
  return boost::asio::use_service<LoopState>(context);
}

Connection& LoopState::consumer_connection(const Options::Amqp& options,
                                           const boost::asio::any_io_executor& executor) {
  if (!consumer_) {
    auto settings = ConnectionSettings::from(options);
    settings.connection_name = "tomodachi consumer";
    consumer_ =
        std::make_unique<Connection>(std::move(settings), telemetry::without_context(executor));
    consumer_->on_deliveries([this](std::vector<Delivery>& batch) { route(batch); });
    consumer_->set_delivery_preprocessor([this](Delivery& delivery) {
      std::shared_ptr<const Envelope> envelope;
      {
        std::lock_guard lock(parse_mutex_);
        const auto found = parse_envelopes_.find(delivery.consumer_id);
        if (found == parse_envelopes_.end()) return;
        envelope = found->second;
      }
      delivery.preparsed = preparse(*envelope, delivery.body);
    });
    qos_claimed_ = false;
  }
  return *consumer_;
}

Connection& LoopState::publisher_connection(const Options::Amqp& options,
                                            const boost::asio::any_io_executor& executor) {
  if (!publisher_) {
    auto settings = ConnectionSettings::from(options);
    settings.connection_name = "tomodachi publisher";
    publisher_ =
        std::make_unique<Connection>(std::move(settings), telemetry::without_context(executor));
    // Not a coroutine lambda: the runtime drops the function once the drain started.
    on_process_stop([this](Deadline deadline) { return drain_publisher(deadline); });
  }
  return *publisher_;
}

bool LoopState::claim_qos() {
  if (qos_claimed_) return false;
  qos_claimed_ = true;
  return true;
}

std::uint32_t LoopState::add_consumer(DeliveryHandler handler) {
  const std::uint32_t consumer_id = ++next_consumer_id_;
  consumers_.emplace(consumer_id, std::move(handler));
  return consumer_id;
}

void LoopState::remove_consumer(std::uint32_t consumer_id) {
  consumers_.erase(consumer_id);
  std::lock_guard lock(parse_mutex_);
  parse_envelopes_.erase(consumer_id);
}

void LoopState::parse_off_loop(std::uint32_t consumer_id,
                               std::shared_ptr<const Envelope> envelope) {
  std::lock_guard lock(parse_mutex_);
  parse_envelopes_[consumer_id] = std::move(envelope);
}

void LoopState::route(std::vector<Delivery>& batch) {
  for (auto& delivery : batch) {
    const auto found = consumers_.find(delivery.consumer_id);
    if (found == consumers_.end()) {
      // Its subscription stopped: back to the queue at once for another consumer.
      if (consumer_) consumer_->nack(delivery.epoch, delivery.delivery_tag, true);
      continue;
    }
    found->second(std::move(delivery));
  }
}

Task<void> LoopState::release_consumer_connection(Deadline deadline) {
  if (--consumer_users_ > 0 || !consumer_) co_return;
  // Keep the connection object alive while closing; a new user may create another.
  std::unique_ptr<Connection> closing = std::move(consumer_);
  dead_letter_queues_.clear();
  co_await closing->close(deadline);
}

Task<void> LoopState::drain_publisher(Deadline deadline) {
  if (!publisher_) co_return;
  std::unique_ptr<Connection> closing = std::move(publisher_);
  const ConnectionStats before = closing->stats();
  const bool closed = co_await closing->close(deadline);
  const ConnectionStats after = closing->stats();
  log().debug(
      "publisher connection closed [amqp]",
      {{"published", static_cast<std::int64_t>(after.published)},
       {"confirmed", static_cast<std::int64_t>(after.confirmed)},
       {"confirmed_while_closing", static_cast<std::int64_t>(after.confirmed - before.confirmed)},
       {"clean", closed}});
  closing.reset();  // joins the I/O thread
}

void LoopState::shutdown() {
  // The loop is going away: close without posting anything into it.
  consumer_.reset();
  publisher_.reset();
  consumers_.clear();
  std::lock_guard lock(parse_mutex_);
  parse_envelopes_.clear();
}

}  // namespace tomodachi::amqp_impl
