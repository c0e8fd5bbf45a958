#include "amqp/consumers.hpp"

#include "amqp/methods.hpp"

#include <amqp_framing.h>

#include <algorithm>

namespace tomodachi::amqp_impl {

Consumers::Consumers(SharedState& shared, Link& link) : shared_(shared), link_(link) {}

std::uint32_t Consumers::consumer_of(std::string_view tag) const {
  const auto found = consumer_of_tag_.find(tag);
  return found == consumer_of_tag_.end() ? 0 : found->second;
}

bool Consumers::started(std::uint32_t consumer_id, const std::string& tag, std::string_view queue) {
  if (cancelled_.count(consumer_id)) {
    // Cancelled while its basic.consume was on the wire: cancel it at the broker at once
    // (deliveries before the cancel-ok have no consumer and go back to the queue).
    cancel_tag(tag);
    return false;
  }
  consumer_of_tag_[tag] = consumer_id;
  tag_of_consumer_[consumer_id] = tag;
  health_.consuming(consumer_id, queue.empty() ? tag : queue);
  return true;
}

void Consumers::cancel(const std::set<std::uint32_t>& consumer_ids, VoidHandler done) {
  cancelled_.insert(consumer_ids.begin(), consumer_ids.end());
  health_.forget(consumer_ids);
  auto job = std::make_unique<CancelJob>(CancelJob{{}, std::move(done)});
  for (auto id : consumer_ids) {
    const auto tag = tag_of_consumer_.find(id);
    if (tag == tag_of_consumer_.end() || !link_.is_open()) continue;
    amqp_basic_cancel_t cancel{};
    cancel.consumer_tag = bytes_of(tag->second);
    cancel.nowait = 0;
    if (!link_.send(consumer_channel, AMQP_BASIC_CANCEL_METHOD, &cancel,
                    "cannot cancel a consumer")) {
      break;
    }
    job->remaining_tags.insert(tag->second);
    CancelJob* raw = job.get();
    const std::string consumer_tag = tag->second;
    link_.expect(consumer_channel, AMQP_BASIC_CANCEL_OK_METHOD,
                 [this, raw, consumer_tag](const amqp_method_t*, const BrokerError*) {
                   consumer_of_tag_.erase(consumer_tag);
                   raw->remaining_tags.erase(consumer_tag);
                   if (raw->remaining_tags.empty()) finish(raw);
                 });
  }
  for (auto id : consumer_ids) tag_of_consumer_.erase(id);
  if (job->remaining_tags.empty()) {
    shared_.complete(std::move(job->handler), std::exception_ptr{});
    return;
  }
  cancel_jobs_.push_back(std::move(job));
}

void Consumers::cancel_tag(const std::string& tag) {
  amqp_basic_cancel_t cancel{};
  cancel.consumer_tag = bytes_of(tag);
  cancel.nowait = 0;
  if (!link_.send(consumer_channel, AMQP_BASIC_CANCEL_METHOD, &cancel,
                  "cannot cancel a consumer")) {
    return;
  }
  link_.expect(consumer_channel, AMQP_BASIC_CANCEL_OK_METHOD,
               [](const amqp_method_t*, const BrokerError*) {});
}

void Consumers::finish(CancelJob* job) {
  const auto it = std::find_if(cancel_jobs_.begin(), cancel_jobs_.end(),
                               [job](const auto& j) { return j.get() == job; });
  if (it == cancel_jobs_.end()) return;
  shared_.complete(std::move((*it)->handler), std::exception_ptr{});
  cancel_jobs_.erase(it);
}

std::optional<std::uint32_t> Consumers::broker_cancelled(const std::string& tag) {
  const auto found = consumer_of_tag_.find(tag);
  if (found == consumer_of_tag_.end()) return std::nullopt;
  const std::uint32_t consumer_id = found->second;
  consumer_of_tag_.erase(found);
  tag_of_consumer_.erase(consumer_id);
  health_.cancelled_by_broker(consumer_id);
  return consumer_id;
}

void Consumers::connection_lost(std::string_view reason) {
  close();
  health_.connection_lost(reason);
  consumer_of_tag_.clear();
  tag_of_consumer_.clear();
}

void Consumers::close() {
  health_.closed();
  for (auto& job : cancel_jobs_) shared_.complete(std::move(job->handler), std::exception_ptr{});
  cancel_jobs_.clear();
}

}  // namespace tomodachi::amqp_impl
