#include "amqp/topology_runner.hpp"

#include <tomodachi/detail/assert.hpp>

#include "amqp/log.hpp"

#include <type_traits>
#include <variant>

namespace tomodachi::amqp_impl {
namespace {

std::exception_ptr step_error(const TopologyStep& step, const BrokerError& error) {
  if (error.code == AMQP_RESOURCE_LOCKED && std::holds_alternative<QueueDeclareStep>(step)) {
    return std::make_exception_ptr(AmqpExclusiveQueueLockedException(
        describe(step) + " failed: " + std::to_string(error.code) + " " + error.text));
  }
  if (error.code == 0) {
    return std::make_exception_ptr(
        AmqpConnectionException(describe(step) + " failed: " + error.text));
  }
  return std::make_exception_ptr(AmqpChannelClosed(
      error.code, error.text,
      describe(step) + " failed: " + std::to_string(error.code) + " " + error.text));
}

std::exception_ptr cancelled_before_start() {
  return std::make_exception_ptr(
      AmqpConnectionException("the consumer was cancelled before it started"));
}

// The steps that make `consumer_id` consume `queue` again: its declaration, bindings, consumer.
bool belongs_to(const TopologyStep& step, const std::string& queue, std::uint32_t consumer_id) {
  return std::visit(
      [&](const auto& s) {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, QueueDeclareStep> || std::is_same_v<S, QueueBindStep>) {
          return s.queue == queue;
        } else if constexpr (std::is_same_v<S, ConsumeStep>) {
          return s.consumer_id == consumer_id;
        } else {
          return false;
        }
      },
      step);
}

}  // namespace

TopologyRunner::TopologyRunner(SharedState& shared, Link& link, Consumers& consumers,
                               ReconnectPolicy& policy)
    : shared_(shared), link_(link), consumers_(consumers), policy_(policy) {}

void TopologyRunner::add(TopologyStep step, StepHandler done) {
  steps_.push_back(Job{std::move(step), std::move(done)});
}

void TopologyRunner::pump() {
  if (!link_.is_open() || in_flight_ || steps_.empty()) return;
  auto encoded = std::make_unique<EncodedStep>(steps_.front().step);
  if (!link_.channel_ready(encoded->channel())) return;  // reopening after an error
  in_flight_ = std::move(steps_.front());
  steps_.pop_front();
  const amqp_channel_t channel = encoded->channel();
  const amqp_method_number_t reply_id = encoded->reply_id();
  const int status =
      amqp_send_method(link_.get(), channel, encoded->method_id(), encoded->method());
  encoded_in_flight_ = std::move(encoded);
  if (status != AMQP_STATUS_OK) {
    link_.lost(describe_status(status));
    return;
  }
  link_.expect(channel, reply_id, [this](const amqp_method_t* reply, const BrokerError* error) {
    finished(reply, error);
  });
}

void TopologyRunner::log_replayed() const {
  log().debug("re-declared after reconnecting [amqp] to " + shared_.settings.address());
}

void TopologyRunner::replay() {
  std::deque<Job> replay;
  for (const auto& step : recorded_) replay.push_back(Job{step, std::nullopt});
  for (auto& job : steps_) replay.push_back(std::move(job));
  steps_ = std::move(replay);
  // The backoff is reset once the replay went through, not at the reconnect: a replay the
  // broker refuses would otherwise reconnect in a tight loop.
  if (policy_.replay_started(recorded_.size())) log_replayed();
}

void TopologyRunner::fail(Job& job, const BrokerError& error) {
  if (!job.handler) {
    log().error("re-declaring after a reconnect failed [amqp]: " + describe(job.step) + " (" +
                std::to_string(error.code) + " " + error.text + ")");
    return;
  }
  shared_.complete(std::move(*job.handler), step_error(job.step, error), StepResult{});
}

void TopologyRunner::finished(const amqp_method_t* reply, const BrokerError* error) {
  if (!in_flight_) return;
  Job job = std::move(*in_flight_);
  in_flight_.reset();
  encoded_in_flight_.reset();
  const bool replay = !job.handler;
  if (replay && policy_.replayed_step_answered(error != nullptr)) log_replayed();
  if (error) {
    fail(job, *error);
    return;
  }
  TOMODACHI_ASSERT(reply, "a step is answered by its reply or the channel's error");
  StepResult result = decode_step_reply(*reply);
  const auto* declare = std::get_if<QueueDeclareStep>(&job.step);
  if (declare && !replay) {
    try {
      check_declare_ok(*declare, result);
    } catch (...) {
      shared_.complete(std::move(*job.handler), std::current_exception(), StepResult{});
      return;
    }
  }
  if (const auto* consume = std::get_if<ConsumeStep>(&job.step);
      consume && !consumers_.started(consume->consumer_id, result.consumer_tag, consume->queue)) {
    if (!replay) shared_.complete(std::move(*job.handler), cancelled_before_start(), StepResult{});
    return;
  }
  if (replay) return;
  if (!declare || !declare->passive) recorded_.push_back(job.step);  // a check is not replayed
  shared_.complete(std::move(*job.handler), std::exception_ptr{}, std::move(result));
}

void TopologyRunner::consume_again(std::uint32_t consumer_id) {
  std::string queue;
  for (const auto& step : recorded_) {
    if (const auto* consume = std::get_if<ConsumeStep>(&step);
        consume && consume->consumer_id == consumer_id) {
      queue = consume->queue;
    }
  }
  log().warning("consumer cancelled by the broker [amqp] for queue \"" + queue +
                "\" - consuming again");
  std::deque<Job> again;
  for (const auto& step : recorded_) {
    if (belongs_to(step, queue, consumer_id)) again.push_back(Job{step, std::nullopt});
  }
  for (auto& job : steps_) again.push_back(std::move(job));
  steps_ = std::move(again);
}

void TopologyRunner::forget_consumers(const std::set<std::uint32_t>& consumer_ids) {
  const auto cancelled_consume = [&](const TopologyStep& step) {
    const auto* consume = std::get_if<ConsumeStep>(&step);
    return consume && consumer_ids.count(consume->consumer_id) > 0;
  };
  std::erase_if(recorded_, cancelled_consume);
  // Consume steps not sent yet (a replay after a reconnect, or a start still running)
  // never go out; one in flight is cancelled when its consume-ok arrives.
  for (auto it = steps_.begin(); it != steps_.end();) {
    if (!cancelled_consume(it->step)) {
      ++it;
      continue;
    }
    if (it->handler)
      shared_.complete(std::move(*it->handler), cancelled_before_start(), StepResult{});
    it = steps_.erase(it);
  }
}

void TopologyRunner::connection_lost() {
  std::deque<Job> kept;
  if (in_flight_ && in_flight_->handler) kept.push_back(std::move(*in_flight_));
  in_flight_.reset();
  encoded_in_flight_.reset();
  for (auto& job : steps_) {
    if (job.handler) kept.push_back(std::move(job));
  }
  steps_ = std::move(kept);
}

void TopologyRunner::close(const std::exception_ptr& error) {
  if (in_flight_ && in_flight_->handler)
    shared_.complete(std::move(*in_flight_->handler), error, StepResult{});
  in_flight_.reset();
  for (auto& job : steps_) {
    if (job.handler) shared_.complete(std::move(*job.handler), error, StepResult{});
  }
  steps_.clear();
}

}  // namespace tomodachi::amqp_impl
