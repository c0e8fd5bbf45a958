#include "amqp/deliveries.hpp"

#include <tomodachi/detail/assert.hpp>

#include "amqp/broker_error.hpp"
#include "amqp/log.hpp"
#include "amqp/methods.hpp"

#include <amqp_framing.h>

#include <boost/asio/post.hpp>

#include <string_view>

namespace tomodachi::amqp_impl {

Deliveries::Deliveries(SharedState& shared, Link& link, const Consumers& consumers,
                       std::weak_ptr<Connection::DeliverySink> sink)
    : shared_(shared), link_(link), consumers_(consumers), sink_(std::move(sink)) {}

void Deliveries::start(amqp_channel_t channel, const amqp_method_t& method, std::uint64_t epoch) {
  const auto* deliver = static_cast<const amqp_basic_deliver_t*>(method.decoded);
  Assembling next;
  next.delivery.epoch = epoch;
  next.delivery.delivery_tag = deliver->delivery_tag;
  next.delivery.redelivered = deliver->redelivered != 0;
  next.delivery.exchange = to_string(deliver->exchange);
  next.delivery.routing_key = to_string(deliver->routing_key);
  const std::string_view tag(static_cast<const char*>(deliver->consumer_tag.bytes),
                             deliver->consumer_tag.len);
  next.delivery.consumer_id = consumers_.consumer_of(tag);
  if (channel != consumer_channel) return;
  assembling_ = std::move(next);
}

void Deliveries::content(const amqp_frame_t& frame) {
  if (frame.channel != consumer_channel || !assembling_) return;
  if (frame.frame_type == AMQP_FRAME_HEADER && !assembling_->have_header) {
    const auto* properties =
        static_cast<const amqp_basic_properties_t*>(frame.payload.properties.decoded);
    assembling_->delivery.properties = decode_properties(*properties);
    if (properties->_flags & AMQP_BASIC_HEADERS_FLAG) {
      assembling_->delivery.raw_headers = std::make_shared<ReceivedHeaders>(properties->headers);
    }
    assembling_->body_size = static_cast<std::size_t>(frame.payload.properties.body_size);
    assembling_->have_header = true;
    assembling_->delivery.body.reserve(assembling_->body_size);
    if (assembling_->body_size == 0) finish();
  } else if (frame.frame_type == AMQP_FRAME_BODY && assembling_->have_header) {
    const auto& fragment = frame.payload.body_fragment;
    assembling_->delivery.body.append(static_cast<const char*>(fragment.bytes), fragment.len);
    if (assembling_->delivery.body.size() >= assembling_->body_size) finish();
  }
}

void Deliveries::finish() {
  TOMODACHI_ASSERT(assembling_ && assembling_->have_header,
                   "a delivery finishes after its header frame");
  Delivery delivery = std::move(assembling_->delivery);
  assembling_.reset();
  ++shared_.deliveries;
  if (delivery.consumer_id == 0) {
    // Its consumer was cancelled: hand the message back to the queue at once.
    if (const int status =
            amqp_basic_nack(link_.get(), consumer_channel, delivery.delivery_tag, 0, 1);
        status != AMQP_STATUS_OK) {
      // The message is not lost: the broker requeues it with the connection.
      log().warning("cannot return a message of a cancelled consumer [amqp] (basic.nack: " +
                    describe_status(status) + ")");
      link_.lost(describe_status(status));
    }
    return;
  }
  acks_.delivered(delivery.delivery_tag);
  if (shared_.preprocessor) shared_.preprocessor(delivery);
  batch_.push_back(std::move(delivery));
}

void Deliveries::flush() {
  if (batch_.empty() || shared_.detached.load()) {
    batch_.clear();
    return;
  }
  shared_.assert_io_thread();
  boost::asio::post(shared_.loop, [sink = sink_, deliveries = std::move(batch_)]() mutable {
    if (auto handler = sink.lock(); handler && *handler) (*handler)(deliveries);
  });
  batch_ = {};
}

void Deliveries::settle(const AckCommand& command, std::uint64_t epoch) {
  if (command.epoch != epoch || !link_.is_open()) return;  // requeued with its connection
  if (command.ack) {
    acks_.acked(command.delivery_tag);
    return;
  }
  const int status = amqp_basic_nack(link_.get(), consumer_channel, command.delivery_tag, 0,
                                     command.requeue ? 1 : 0);
  if (status != AMQP_STATUS_OK) {
    log().warning("basic.nack [amqp] failed: " + describe_status(status) +
                  " - the broker requeues the message with the connection");
    link_.lost(describe_status(status));
    return;
  }
  acks_.settled(command.delivery_tag);
}

// The longest run of acked tags from the oldest unsettled delivery goes as one
// basic.ack(multiple), the rest one by one.
void Deliveries::send_acks() {
  if (!link_.is_open()) return;
  const AckTracker::Plan plan = acks_.take();
  if (plan.multiple_through) {
    if (const int status = amqp_basic_ack(link_.get(), consumer_channel, *plan.multiple_through, 1);
        status != AMQP_STATUS_OK) {
      link_.lost(describe_status(status));
      return;
    }
  }
  for (const std::uint64_t tag : plan.singles) {
    if (const int status = amqp_basic_ack(link_.get(), consumer_channel, tag, 0);
        status != AMQP_STATUS_OK) {
      link_.lost(describe_status(status));
      return;
    }
  }
}

void Deliveries::connection_lost() {
  acks_.clear();
  assembling_.reset();
  flush();
}

}  // namespace tomodachi::amqp_impl
