#include "amqp/publisher.hpp"

#include "amqp/log.hpp"
#include "amqp/methods.hpp"

#include <amqp_framing.h>

#include <boost/asio/post.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <optional>

namespace tomodachi::amqp_impl {
namespace {

constexpr int publishes_per_round = 512;

void log_unconfirmed(const std::exception_ptr& error) {
  log().warning("unconfirmed publish [amqp]",
                LogFields{LogField{"error", boost::json::string(describe_exception(error))}});
}

std::string publish_failed(const PendingPublish& publish, const BrokerError& error) {
  return "publish to exchange \"" + publish.message.exchange + "\" with routing key \"" +
         publish.message.routing_key + "\" failed: " + std::to_string(error.code) + " " +
         error.text;
}

}  // namespace

Publisher::Publisher(SharedState& shared, Link& link) : shared_(shared), link_(link) {}

void Publisher::complete(PublishCompletion completion, std::exception_ptr error) {
  if (!completion.handler && !completion.callback) {
    if (error) log_unconfirmed(error);
    return;
  }
  outcomes_.push_back(Outcome{std::move(completion), error});
}

void Publisher::flush() {
  if (outcomes_.empty()) return;
  if (shared_.detached.load()) {
    // Nobody is left to tell: the failures go to the log, never nowhere.
    for (const auto& outcome : outcomes_) {
      if (outcome.error) log_unconfirmed(outcome.error);
    }
    outcomes_.clear();
    return;
  }
  shared_.assert_io_thread();
  boost::asio::post(shared_.loop, [batch = std::move(outcomes_)]() mutable {
    for (auto& outcome : batch) {
      if (outcome.completion.handler) {
        std::move (*outcome.completion.handler)(outcome.error);
      } else {
        outcome.completion.callback(outcome.error);
      }
    }
  });
  outcomes_.clear();
}

void Publisher::add(PendingPublish publish) {
  next_expiry_ = std::min(next_expiry_, publish.deadline);
  pending_.push_back(std::move(publish));
}

void Publisher::refuse(PendingPublish publish, const std::string& reason) {
  complete(std::move(publish.completion), std::make_exception_ptr(AmqpConnectionException(reason)));
}

void Publisher::connected() {
  publish_seq_ = 0;
  blocked_ = false;
}

void Publisher::blocked(const std::string& reason) {
  blocked_ = true;
  log().warning("publishing blocked by the broker [amqp] (" + reason + ")");
}

void Publisher::unblocked() {
  blocked_ = false;
  log().info("publishing unblocked by the broker [amqp]");
}

bool Publisher::can_send() const {
  return !pending_.empty() && link_.channel_ready(publish_channel) && !blocked_;
}

void Publisher::send_pending() {
  if (!link_.is_open() || !link_.channel_ready(publish_channel) || blocked_) return;
  for (int n = 0; n < publishes_per_round && !pending_.empty(); ++n) {
    PendingPublish& next = pending_.front();
    const auto& message = next.message;
    int status;
    const amqp_boolean_t mandatory = message.mandatory ? 1 : 0;
    if (message.properties.empty() && !message.original_headers) {
      status = amqp_basic_publish(link_.get(), publish_channel, bytes_of(message.exchange),
                                  bytes_of(message.routing_key), mandatory, 0, nullptr,
                                  bytes_of(message.body));
    } else {
      EncodedProperties properties(message.properties, message.original_headers);
      status = amqp_basic_publish(link_.get(), publish_channel, bytes_of(message.exchange),
                                  bytes_of(message.routing_key), mandatory, 0,
                                  &properties.properties(), bytes_of(message.body));
    }
    if (status != AMQP_STATUS_OK) {
      link_.lost(describe_status(status));
      return;
    }
    ++shared_.published;
    unconfirmed_.sent(++publish_seq_, std::move(next));
    pending_.pop_front();
  }
}

// The oldest unconfirmed mandatory publish with this exchange and routing key is the one
// returned (returns and confirms come in publish order).
void Publisher::returned(const std::string& exchange, const std::string& routing_key, int code,
                         const std::string& text) {
  bool found = false;
  unconfirmed_.remove_if([&](PendingPublish& publish) {
    if (!found && !publish.returned && publish.message.mandatory &&
        publish.message.exchange == exchange && publish.message.routing_key == routing_key) {
      publish.returned = std::to_string(code) + " " + text;
      found = true;
    }
    return false;
  });
  if (!found)
    log().warning("basic.return [amqp] for a message not waiting for its confirm: exchange \"" +
                  exchange + "\", routing key \"" + routing_key + "\" (" + std::to_string(code) +
                  " " + text + ")");
}

void Publisher::confirmed(std::uint64_t tag, bool multiple, bool acked) {
  const auto settle = [&](PendingPublish& publish) {
    if (acked && publish.returned) {
      const std::string message = "the broker returned the message published to exchange \"" +
                                  publish.message.exchange + "\" with routing key \"" +
                                  publish.message.routing_key + "\": no queue took it (" +
                                  *publish.returned + ")";
      complete(std::move(publish.completion), std::make_exception_ptr(AmqpUnroutable(message)));
      return;
    }
    if (acked) {
      ++shared_.confirmed;
      complete(std::move(publish.completion), std::exception_ptr{});
      return;
    }
    const std::string message = "the broker rejected (nack) the message published to exchange \"" +
                                publish.message.exchange + "\" with routing key \"" +
                                publish.message.routing_key + "\"";
    complete(std::move(publish.completion), std::make_exception_ptr(AmqpException(message)));
  };
  unconfirmed_.confirm(tag, multiple, settle);
}

void Publisher::expire(Clock::time_point now, bool connected) {
  if (now < next_expiry_) return;
  next_expiry_ = Clock::time_point::max();
  const auto fail = [&](PendingPublish& publish, const char* what) {
    const std::string message = std::string(what) + " [amqp] to " + shared_.settings.address() +
                                ": the message to exchange \"" + publish.message.exchange +
                                "\" with routing key \"" + publish.message.routing_key +
                                "\" was not confirmed in time";
    complete(std::move(publish.completion),
             std::make_exception_ptr(AmqpConnectionException(message)));
  };
  const char* state_text = connected ? "no confirm from the broker" : "not connected";
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->deadline <= now) {
      fail(*it, state_text);
      it = pending_.erase(it);
    } else {
      next_expiry_ = std::min(next_expiry_, it->deadline);
      ++it;
    }
  }
  unconfirmed_.remove_if([&](PendingPublish& publish) {
    if (publish.deadline <= now) {
      fail(publish, "no confirm from the broker");
      return true;
    }
    next_expiry_ = std::min(next_expiry_, publish.deadline);
    return false;
  });
}

// The broker discards everything published after the failing message; the failing one is
// the publish to the exchange the error names (404), or unknown (then fail them all).
void Publisher::channel_failed(const BrokerError& error) {
  const auto missing_exchange =
      error.code == AMQP_NOT_FOUND ? quoted_name(error.text) : std::nullopt;
  std::deque<PendingPublish> retry;
  for (auto& publish : unconfirmed_.take_all()) {
    if (missing_exchange && publish.message.exchange != *missing_exchange) {
      retry.push_back(std::move(publish));
      continue;
    }
    complete(std::move(publish.completion),
             std::make_exception_ptr(
                 AmqpChannelClosed(error.code, error.text, publish_failed(publish, error))));
  }
  while (!retry.empty()) {
    pending_.push_front(std::move(retry.back()));
    retry.pop_back();
  }
  if (!missing_exchange) return;
  // Queued publishes to the missing exchange would close the channel again.
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->message.exchange != *missing_exchange) {
      ++it;
      continue;
    }
    const std::string message = "publish to exchange \"" + it->message.exchange +
                                "\" failed: " + std::to_string(error.code) + " " + error.text;
    complete(std::move(it->completion),
             std::make_exception_ptr(AmqpChannelClosed(error.code, error.text, message)));
    it = pending_.erase(it);
  }
}

void Publisher::connection_lost() {
  auto resend = unconfirmed_.take_all();
  for (auto it = resend.rbegin(); it != resend.rend(); ++it) {
    it->returned.reset();  // sent again: the broker routes it anew
    pending_.push_front(std::move(*it));
  }
}

void Publisher::close() {
  const auto closed_error = [&] {
    return std::make_exception_ptr(
        AmqpConnectionException("the AMQP connection to " + shared_.settings.address() +
                                " closed before the message was confirmed"));
  };
  for (auto& publish : unconfirmed_.take_all())
    complete(std::move(publish.completion), closed_error());
  for (auto& publish : pending_) complete(std::move(publish.completion), closed_error());
  pending_.clear();
}

}  // namespace tomodachi::amqp_impl
